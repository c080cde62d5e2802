//! What a typo in `pim.toml` or a hostile ERP could otherwise publish or lose: templates from
//! outside `templates/`, a gzip copy over another channel's feed, control characters in CSV
//! cells, a hidden stub file for a SKU of `.`.

use std::fs;

use crate::common::Catalog;

/// A template that would publish `LEAKED` if pimfeed read it.
const LEAKING_TEMPLATE: &str = "{% block header %}{\"leak\": \"LEAKED\", \"items\": [{% endblock header %}{% block item %}{}{% endblock item %}{% block footer %}]}{% endblock footer %}";

fn with_partner_template(catalog: &Catalog, template: &str) {
    let config = catalog.read("pim.toml").replace(
        "template = \"partner.json\"",
        &format!("template = {}", toml_string(template)),
    );
    catalog.write("pim.toml", &config);
}

fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

#[test]
fn templates_outside_templates_are_refused() {
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("secret.json");
    fs::write(&secret, LEAKING_TEMPLATE).unwrap();
    let outside_name = outside.path().file_name().unwrap().to_str().unwrap();

    let cases = [
        secret.to_str().unwrap().to_string(),
        format!("../../{outside_name}/secret.json"),
        "../pim.toml".to_string(),
        "/proc/self/environ".to_string(),
        "leak.json".to_string(), // a symbolic link out of templates/
    ];
    for template in cases {
        let catalog = Catalog::fixture("basic");
        std::os::unix::fs::symlink(&secret, catalog.path().join("templates/leak.json")).unwrap();
        with_partner_template(&catalog, &template);
        let run = catalog.run(&["build"]).expect(2);
        let stderr = run.stderr();
        assert!(
            stderr.contains("channel `partner`")
                && stderr.contains("must name a file inside templates/"),
            "{template}:\n{stderr}"
        );
        assert!(!stderr.contains("LEAKED"), "{template}");
        assert!(!catalog.path().join("feeds").exists(), "{template}");
    }

    // A template in a folder under templates/ is fine.
    let catalog = Catalog::fixture("basic");
    fs::create_dir_all(catalog.path().join("templates/partners")).unwrap();
    fs::copy(
        catalog.path().join("templates/partner.json"),
        catalog.path().join("templates/partners/feed.json"),
    )
    .unwrap();
    with_partner_template(&catalog, "partners/feed.json");
    catalog.run(&["build"]).expect(0);
}

#[test]
fn a_gzip_copy_named_like_another_channels_output_is_refused_when_reading_pim_toml() {
    let catalog = Catalog::fixture("basic");
    let config = catalog
        .read("pim.toml")
        .replace("output = \"prices.csv\"", "output = \"partner.json.gz\"")
        .replace("[catalog]", "[build]\ngzip = true\n\n[catalog]");
    catalog.write("pim.toml", &config);
    let stderr = catalog.run(&["check"]).expect(2).stderr();
    assert!(
        stderr.contains(
            "channel `prices`: writes `partner.json.gz`, which is also the gzip copy of channel `partner`'s `partner.json`"
        ),
        "{stderr}"
    );
    catalog.run(&["build"]).expect(2);
    assert!(!catalog.path().join("feeds").exists());
}

/// The bytes below 0x20 a CSV cell may hold: tab and line feed (and the line ends).
fn forbidden_controls(bytes: &[u8]) -> Vec<u8> {
    bytes
        .iter()
        .copied()
        .filter(|b| *b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r'))
        .collect()
}

#[test]
fn control_characters_from_the_erp_never_reach_csv_feeds() {
    let catalog = Catalog::fixture("basic");
    let erp = catalog.read("erp/items.csv").replace(
        "DR-1,149.95,12,EUR,129.95,4006381333931,DHP485Z,1.7,20,8,25,piece,",
        "DR-1,149.95,12,EUR,129.95,4006381333931,DHP\u{0}485Z,1.7,20,8,25,pi\u{1b}e\u{7}ce,",
    );
    catalog.write("erp/items.csv", &erp);
    let config = catalog.read("pim.toml").replace(
        "\"Price\" = \"erp.price\"",
        "\"Price\" = \"erp.price\"\n\"Unit\" = \"erp.unit\"\n\"MPN\" = \"erp.mpn\"",
    );
    catalog.write("pim.toml", &config);
    catalog.run(&["build"]).expect(0);
    for feed in ["feeds/orders.csv", "feeds/prices.csv"] {
        let bytes = fs::read(catalog.path().join(feed)).unwrap();
        assert_eq!(forbidden_controls(&bytes), Vec::<u8>::new(), "{feed}");
    }
    let (headers, rows) = catalog.csv("feeds/prices.csv");
    let dr1 = rows.iter().find(|row| &row[0] == "DR-1").unwrap();
    let column = |name: &str| headers.iter().position(|h| h == name).unwrap();
    assert_eq!(&dr1[column("Unit")], "piece");
    assert_eq!(&dr1[column("MPN")], "DHP485Z");
}

#[test]
fn a_sku_of_dots_gets_a_visible_stub_that_check_reads() {
    let catalog = Catalog::fixture("basic");
    let erp = catalog.read("erp/items.csv") + ".,5,1,EUR,,,,,,,,piece,1,true,\n";
    catalog.write("erp/items.csv", &erp);
    catalog.run(&["new", ".", "--family", "tools"]).expect(0);
    let folder = catalog.path().join("content/products/tools");
    let hidden: Vec<_> = fs::read_dir(&folder)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with('.'))
        .collect();
    assert_eq!(hidden, Vec::<String>::new());
    let stub = catalog.read("content/products/tools/_.toml");
    assert!(stub.contains("sku = \".\""), "{stub}");
    // The stub is read: `.` is no longer an ERP item without content.
    let json = catalog.run(&["check", "--format", "json"]).json();
    assert_eq!(
        json["report"]["erp_without_content"],
        serde_json::json!(["X-1"]),
        "{json}"
    );
}
