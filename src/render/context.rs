//! The template context of a product: `product` (its view) and `erp`, with only the parts of
//! the view the channels' templates and expressions read. Converting a whole view into
//! template values is most of what a Tera channel costs per product.

use serde::ser::{Serialize, SerializeStruct, Serializer};
use tera::Context;

use crate::merge::{ErpView, ProductView};

/// What templates read of the context; see `reads.rs` for how a template is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextNeeds {
    /// The view's fields that `product.FIELD` names; `None`: the whole view.
    pub product: Option<Vec<String>>,
    /// Whether `erp` is read.
    pub erp: bool,
    /// The ERP numbers that `erp.FIELD` names; `None`: all of them. A filter such as
    /// `erp.stock > 0` is decided on every product, and converting every ERP number into
    /// template values for it cost far more than deciding it.
    pub erp_fields: Option<Vec<String>>,
}

impl ContextNeeds {
    /// A channel that renders nothing through Tera.
    pub fn none() -> ContextNeeds {
        ContextNeeds {
            product: Some(Vec::new()),
            erp: false,
            erp_fields: Some(Vec::new()),
        }
    }

    pub fn all() -> ContextNeeds {
        ContextNeeds {
            product: None,
            erp: true,
            erp_fields: None,
        }
    }

    pub fn union(&self, other: &ContextNeeds) -> ContextNeeds {
        ContextNeeds {
            product: union_of_fields(&self.product, &other.product),
            erp: self.erp || other.erp,
            erp_fields: union_of_fields(&self.erp_fields, &other.erp_fields),
        }
    }

    /// The context of `view` with what these needs read.
    pub(super) fn context(&self, view: &ProductView) -> Context {
        let mut context = Context::new();
        match &self.product {
            None => context.insert("product", view),
            Some(fields) => context.insert("product", &Fields { view, fields }),
        }
        if self.erp {
            match &self.erp_fields {
                None => context.insert("erp", &view.erp),
                Some(fields) => context.insert(
                    "erp",
                    &ErpFields {
                        erp: &view.erp,
                        fields,
                    },
                ),
            }
        }
        context
    }
}

/// Fields named on either side; `None` (every field) when either side reads every one.
fn union_of_fields(
    mine: &Option<Vec<String>>,
    theirs: &Option<Vec<String>>,
) -> Option<Vec<String>> {
    let (mine, theirs) = (mine.as_ref()?, theirs.as_ref()?);
    let mut fields = mine.clone();
    fields.extend(theirs.iter().filter(|f| !mine.contains(f)).cloned());
    Some(fields)
}

/// Some fields of a view, serialised as the view serialises them.
struct Fields<'a> {
    view: &'a ProductView,
    fields: &'a [String],
}

impl Serialize for Fields<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let view = self.view;
        let mut out = serializer.serialize_struct("ProductView", self.fields.len())?;
        for field in self.fields {
            // Every field of `ProductView` (a unit test checks that none is missing); a name
            // that is not one is undefined, as it is in the whole view.
            match field.as_str() {
                "id" => out.serialize_field("id", &view.id)?,
                "sku" => out.serialize_field("sku", &view.sku)?,
                "model" => out.serialize_field("model", &view.model)?,
                "item_group_id" => out.serialize_field("item_group_id", &view.item_group_id)?,
                "family" => out.serialize_field("family", &view.family)?,
                "brand" => out.serialize_field("brand", &view.brand)?,
                "title" => out.serialize_field("title", &view.title)?,
                "description" => out.serialize_field("description", &view.description)?,
                "description_html" => {
                    out.serialize_field("description_html", &view.description_html)?
                }
                "description_text" => {
                    out.serialize_field("description_text", &view.description_text)?
                }
                "bullets" => out.serialize_field("bullets", &view.bullets)?,
                "link" => out.serialize_field("link", &view.link)?,
                "image_link" => out.serialize_field("image_link", &view.image_link)?,
                "additional_image_links" => {
                    out.serialize_field("additional_image_links", &view.additional_image_links)?
                }
                "images" => out.serialize_field("images", &view.images)?,
                "category" => out.serialize_field("category", &view.category)?,
                "availability" => out.serialize_field("availability", &view.availability)?,
                "identifier_exists" => {
                    out.serialize_field("identifier_exists", &view.identifier_exists)?
                }
                "attributes" => out.serialize_field("attributes", &view.attributes)?,
                "erp" => out.serialize_field("erp", &view.erp)?,
                _ => {}
            }
        }
        out.end()
    }
}

/// Some of the ERP numbers, serialised as the whole [`ErpView`] serialises them.
struct ErpFields<'a> {
    erp: &'a ErpView,
    fields: &'a [String],
}

impl Serialize for ErpFields<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let erp = self.erp;
        let mut out = serializer.serialize_struct("ErpView", self.fields.len())?;
        for field in self.fields {
            // Every field of `ErpView` (a unit test checks that none is missing); a name that
            // is not one is undefined, as it is in the whole numbers.
            match field.as_str() {
                "price" => out.serialize_field("price", &erp.price)?,
                "sale_price" => out.serialize_field("sale_price", &erp.sale_price)?,
                "currency" => out.serialize_field("currency", &erp.currency)?,
                "stock" => out.serialize_field("stock", &erp.stock)?,
                "gtin" => out.serialize_field("gtin", &erp.gtin)?,
                "mpn" => out.serialize_field("mpn", &erp.mpn)?,
                "weight" => out.serialize_field("weight", &erp.weight)?,
                "length" => out.serialize_field("length", &erp.length)?,
                "width" => out.serialize_field("width", &erp.width)?,
                "height" => out.serialize_field("height", &erp.height)?,
                "unit" => out.serialize_field("unit", &erp.unit)?,
                "pack_size" => out.serialize_field("pack_size", &erp.pack_size)?,
                "active" => out.serialize_field("active", &erp.active)?,
                "price_tiers" => out.serialize_field("price_tiers", &erp.price_tiers)?,
                _ => {}
            }
        }
        out.end()
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::merge::{CategoryView, ErpView, ImageView};

    /// A view with every field set, for the renderer's tests too.
    pub(in crate::render) fn view() -> ProductView {
        let mut attributes = tera::Map::new();
        attributes.insert("color".into(), "Blauw".into());
        ProductView {
            id: "A-1".into(),
            sku: "A-1".into(),
            model: Some("A".into()),
            item_group_id: Some("A".into()),
            family: "tools".into(),
            brand: Some("Makita".into()),
            title: Some("Boor".into()),
            description: Some("**Boor**".into()),
            description_html: Some("<p><strong>Boor</strong></p>".into()),
            description_text: Some("Boor".into()),
            bullets: vec!["Sterk".into()],
            link: "https://shop.example/a-1".into(),
            image_link: Some("https://cdn.example/1.jpg".into()),
            additional_image_links: vec!["https://cdn.example/2.jpg".into()],
            images: vec![ImageView {
                url: "https://cdn.example/1.jpg".into(),
                alt: Some("Boor".into()),
            }],
            category: Some(CategoryView {
                path: "tools".into(),
                name: "Gereedschap".into(),
                google: Some(1167),
            }),
            availability: "in_stock",
            identifier_exists: true,
            attributes,
            erp: ErpView {
                mpn: Some("M-1".into()),
                ..ErpView::example("15.00", 3)
            },
        }
    }

    fn render(context: &Context, template: &str) -> String {
        let mut tera = tera::Tera::new();
        tera.add_raw_template("t", template).unwrap();
        tera.render("t", context).unwrap()
    }

    #[test]
    fn every_field_of_the_view_reads_the_same_alone_as_in_the_whole_view() {
        let view = view();
        let whole = serde_json::to_value(&view).unwrap();
        let names: Vec<String> = whole.as_object().unwrap().keys().cloned().collect();
        assert_eq!(names.len(), 20, "{names:?}");
        let all = ContextNeeds::all().context(&view);
        let field = |context: &Context, name: &str| {
            let product = context.get("product").expect("a product").as_map().unwrap();
            product.get(&tera::value::Key::Str(name)).cloned()
        };
        for name in names {
            let needs = ContextNeeds {
                product: Some(vec![name.clone()]),
                erp: true,
                erp_fields: None,
            };
            let alone = needs.context(&view);
            assert!(field(&alone, &name).is_some(), "{name} is missing");
            assert_eq!(field(&alone, &name), field(&all, &name), "{name}");
            assert_eq!(alone.get("erp"), all.get("erp"));
        }
    }

    #[test]
    fn every_erp_number_reads_the_same_alone_as_in_all_of_them() {
        let mut view = view();
        view.erp.sale_price = Some("12.50".into());
        view.erp.gtin = Some("4006381333931".into());
        view.erp.weight = Some("1.25".into());
        view.erp.pack_size = Some(6);
        view.erp.price_tiers = vec![crate::merge::PriceTierView {
            min_qty: 10,
            price: "14.00".into(),
        }];
        let whole = serde_json::to_value(&view.erp).unwrap();
        let names: Vec<String> = whole.as_object().unwrap().keys().cloned().collect();
        assert_eq!(names.len(), 14, "{names:?}");
        let all = ContextNeeds::all().context(&view);
        let erp = |context: &Context| context.get("erp").expect("erp").as_map().unwrap().clone();
        for name in names {
            let needs = ContextNeeds {
                erp_fields: Some(vec![name.clone()]),
                ..ContextNeeds::none()
            };
            let needs = ContextNeeds { erp: true, ..needs };
            let alone = erp(&needs.context(&view));
            let key = tera::value::Key::Str(&name);
            assert_eq!(alone.len(), 1, "{name}");
            assert_eq!(alone.get(&key), erp(&all).get(&key), "{name}");
        }
        let stock_only = ContextNeeds {
            erp: true,
            erp_fields: Some(vec!["stock".into()]),
            ..ContextNeeds::none()
        };
        assert_eq!(
            render(
                &stock_only.context(&view),
                "{{ erp.stock > 0 }} {{ erp.price is defined }}"
            ),
            "true false"
        );
    }

    #[test]
    fn what_is_not_read_is_not_there() {
        let needs = ContextNeeds {
            product: Some(vec!["sku".into()]),
            erp: false,
            erp_fields: None,
        };
        let context = needs.context(&view());
        assert_eq!(
            render(
                &context,
                "{{ product.sku }} {{ product.title is defined }} {{ erp is defined }}"
            ),
            "A-1 false false"
        );
    }
}
