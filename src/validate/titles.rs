//! Every title seen so far, for the duplicate-title check across files: by locale, the hash
//! of the normalised title and the product that has it first.
//!
//! Every product of a build passes through it on one core, in catalog order, so it is made
//! cheap to fill: a handful of locales each with a map of their own (no locale string per
//! title), the title hashes used as they are (they are SipHash values already), and the
//! product's SKU shared with the SKU registry rather than copied.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

/// The product a title belongs to: the first with it, in catalog order.
pub struct TitleOwner {
    pub sku: Arc<str>,
    pub file: Arc<str>,
}

type TitleMap = HashMap<u64, TitleOwner, BuildHasherDefault<KeyIsHash>>;

#[derive(Default)]
pub struct TitleRegistry {
    by_locale: Vec<(String, TitleMap)>,
    /// Room each new locale's map starts with (see [`TitleRegistry::reserve`]).
    expected: usize,
}

impl TitleRegistry {
    /// Room for `additional` more titles in each locale, now and for locales seen later.
    pub fn reserve(&mut self, additional: usize) {
        self.expected = self.expected.max(additional);
        for (_, titles) in &mut self.by_locale {
            titles.reserve(additional);
        }
    }

    /// The titles of `locale`, an empty map the first time it is asked for.
    fn locale_mut(&mut self, locale: &str) -> &mut TitleMap {
        let index = match self.by_locale.iter().position(|(known, _)| known == locale) {
            Some(index) => index,
            None => {
                let titles = TitleMap::with_capacity_and_hasher(self.expected, Default::default());
                self.by_locale.push((locale.to_string(), titles));
                self.by_locale.len() - 1
            }
        };
        &mut self.by_locale[index].1
    }

    /// The title `key` of `locale`: the owner it has, or room to make one.
    pub fn entry(&mut self, locale: &str, key: u64) -> Entry<'_, u64, TitleOwner> {
        self.locale_mut(locale).entry(key)
    }

    /// Gives `file`'s product `sku` the title `key` of `locale` unless a product of another
    /// file has it already, in one lookup: whether the title is still the file's own.
    pub fn claim(&mut self, locale: &str, key: u64, sku: &Arc<str>, file: &Arc<str>) -> bool {
        match self.entry(locale, key) {
            Entry::Vacant(vacant) => {
                vacant.insert(TitleOwner {
                    sku: sku.clone(),
                    file: file.clone(),
                });
                true
            }
            Entry::Occupied(owned) => *owned.get().file == **file,
        }
    }

    /// Forgets those of `keys` that belong to `file`. A file is checked once per build, so
    /// every title it owns was claimed by this check of it.
    pub fn release_file<'k>(&mut self, file: &str, keys: impl Iterator<Item = (&'k str, u64)>) {
        for (locale, key) in keys {
            if let Entry::Occupied(owned) = self.entry(locale, key)
                && &*owned.get().file == file
            {
                owned.remove();
            }
        }
    }
}

/// Hashes a title key as itself: it is a hash of the normalised title already, uniform in
/// every bit the map uses.
#[derive(Default)]
pub struct KeyIsHash(u64);

impl Hasher for KeyIsHash {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write_u64(&mut self, key: u64) {
        self.0 = key;
    }

    /// Not reached for `u64` keys; folds the bytes in so that the hasher stays correct.
    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*byte);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arc(text: &str) -> Arc<str> {
        text.into()
    }

    #[test]
    fn a_title_belongs_to_its_first_file_and_a_released_file_gives_back_only_its_own() {
        let mut titles = TitleRegistry::default();
        let (a, b) = (arc("a.toml"), arc("b.toml"));
        assert!(titles.claim("nl-NL", 1, &arc("A-1"), &a));
        assert!(
            titles.claim("nl-NL", 1, &arc("A-2"), &a),
            "a file's own title"
        );
        assert!(titles.claim("en-GB", 2, &arc("B-1"), &b), "another locale");
        assert!(titles.claim("nl-NL", 3, &arc("B-1"), &b));
        assert!(
            !titles.claim("nl-NL", 1, &arc("B-2"), &b),
            "taken by a.toml"
        );

        titles.release_file(
            "b.toml",
            [("en-GB", 2), ("nl-NL", 3), ("nl-NL", 1)].into_iter(),
        );
        assert!(matches!(titles.entry("en-GB", 2), Entry::Vacant(_)));
        assert!(matches!(titles.entry("nl-NL", 3), Entry::Vacant(_)));
        match titles.entry("nl-NL", 1) {
            Entry::Occupied(owner) => {
                assert_eq!(&*owner.get().sku, "A-1");
                assert_eq!(&*owner.get().file, "a.toml");
            }
            Entry::Vacant(_) => panic!("a.toml's title was released with b.toml's"),
        }
    }
}
