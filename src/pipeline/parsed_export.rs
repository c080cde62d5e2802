//! The file ERP source without parsing an export that did not change.
//!
//! Parsing and checking a CSV export of 100,000 rows takes a third of a second; a build from
//! the cache after a one-line content edit needs the same records again. The records and
//! warnings of the last export parsed, with the prices of the catalog's price lists and the
//! records' digest, are kept (see [`PARSED_EXPORT`]) under a key: a hash of the export's
//! bytes, of the `[erp]` settings that read them, of the price lists' currencies, settings and
//! bytes, and of the pimfeed binary. The export and the price lists are always read and hashed
//! (a few milliseconds for 10 MB): a file rewritten with the same length, or even the same
//! modification time, is parsed again. Only a parse that
//! succeeded is kept, and only when the export's stamp (length, modification time, inode) is
//! the same after the parse as before it, so the records kept are those of the bytes hashed.
//! An export with bad rows is parsed every time, so its rows are reported at their lines.

use std::borrow::Cow;
use std::io::{self, Write};
use std::path::Path;
use std::sync::Arc;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::cache::{self, Digest32, Stamp};
use crate::config::ErpFileConfig;
use crate::erp::price_list::{CurrencyPrice, PriceListError, ReadLists};
use crate::erp::record_check::{Checked, ErpFileError, RowNoun, RowProblem};
use crate::erp::{ErpRecord, PriceTier};
use crate::pimfeed_folder::PARSED_EXPORT;

/// Bumped whenever what is stored changes meaning.
const FORMAT: &[u8] = b"parsed-export 5";

/// Records are kept in frames of this many, each with its length in bytes, so the frames are
/// decoded on every core (100,000 records decoded one after another took 35 ms of a 0.5 s
/// build from the cache).
const RECORDS_PER_FRAME: usize = 8192;

/// The export's records and warnings, and their digest when it is known.
#[derive(Debug)]
pub(crate) struct Loaded {
    pub(crate) checked: Checked,
    /// [`cache::records_digest`] of the records, prices included, kept with them: a build
    /// from the cache needs it and need not hash 100,000 records again for it. `None` when
    /// the records were parsed and not kept.
    pub(crate) records_digest: Option<Digest32>,
}

/// The export's records and warnings, as [`crate::erp::file::load_with_warnings`] gives
/// them with the price lists' prices added, taken from the last parse when the export's
/// bytes and settings and the price lists are the same. A new parse is kept only when the run
/// `writes` (not for a `check`, which writes nothing).
pub(crate) fn load(
    config: &ErpFileConfig,
    lists: &ReadLists<'_>,
    root: &Path,
    writes: bool,
) -> Result<Loaded, LoadError> {
    let path = root.join(&config.path);
    let before = Stamp::of(&path).ok();
    let parse = || -> Result<Loaded, LoadError> {
        // The price lists are parsed beside the export: neither needs the other.
        let (checked, prices) = rayon::join(
            || crate::erp::file::load_with_warnings(config, root),
            || lists.parse(),
        );
        let mut checked = checked?;
        // No records: the pull fails for that, whatever the price lists hold.
        if !checked.records.is_empty() {
            prices?.apply(&mut checked.records);
        }
        Ok(Loaded {
            checked,
            records_digest: None,
        })
    };
    let Ok(export) = export_digest(&path) else {
        // The parser says why the export cannot be read.
        return parse();
    };
    let key = key(config, lists, &export);
    let kept = root.join(PARSED_EXPORT);
    if let Some(loaded) = read_kept(&kept, &key) {
        return Ok(loaded);
    }
    let mut loaded = parse()?;
    if writes && before.is_some() && Stamp::of(&path).ok() == before {
        // Keeping it is for later builds; failing to is not this one's problem.
        loaded.records_digest = keep(&kept, &key, &loaded.checked).ok();
    }
    Ok(loaded)
}

/// Why an export's records cannot be had: the export, or a price list.
#[derive(Debug, thiserror::Error)]
pub(crate) enum LoadError {
    #[error(transparent)]
    Export(#[from] ErpFileError),
    #[error(transparent)]
    PriceList(#[from] PriceListError),
}

/// What the records depend on: the export's bytes (by their [`export_digest`]), the settings
/// that read them, the price lists (their currencies, settings and bytes), the binary.
fn key(config: &ErpFileConfig, lists: &ReadLists<'_>, export: &Digest32) -> Digest32 {
    let mut fingerprint = cache::Fingerprint::new();
    fingerprint.add(FORMAT);
    fingerprint.add(config.path.to_string_lossy().as_bytes());
    let settings = format!(
        "{:?} {:?} {}",
        config.format, config.delimiter, config.decimal_comma
    );
    fingerprint.add(settings.as_bytes());
    for (field, column) in &config.mapping {
        fingerprint.add(field.as_bytes());
        fingerprint.add(column.as_bytes());
    }
    fingerprint.add(export);
    lists.fingerprint(|part| fingerprint.add(part));
    fingerprint.finish()
}

/// The export is hashed in pieces of this many bytes.
const EXPORT_PIECE_BYTES: usize = 1 << 20;

/// A hash of the export's bytes: of its length and of each piece of [`EXPORT_PIECE_BYTES`]
/// in order ([`cache::digest_of_runs`]), the pieces read and hashed on every core. A build from the cache does this
/// before anything else can start: read whole into one buffer and hashed on one core, the
/// 10 MB export of 100,000 items took about 14 ms at 100k, half of it the kernel zeroing the
/// buffer's fresh pages, while the other core waited.
fn export_digest(path: &Path) -> io::Result<Digest32> {
    use rayon::prelude::*;
    use sha2::{Digest as _, Sha256};
    let file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    let pieces = len.div_ceil(EXPORT_PIECE_BYTES as u64);
    let digests = (0..pieces)
        .into_par_iter()
        .map_init(Vec::new, |buffer: &mut Vec<u8>, piece| {
            let start = piece * EXPORT_PIECE_BYTES as u64;
            let piece_len = (len - start).min(EXPORT_PIECE_BYTES as u64) as usize;
            buffer.resize(piece_len, 0);
            crate::positioned::read_exact_at(&file, buffer, start)?;
            Ok(Digest32::from(Sha256::digest(&buffer[..])))
        })
        .collect::<io::Result<Vec<Digest32>>>()?;
    Ok(cache::digest_of_runs(len, &digests))
}

/// The kept parse, when it was made under `key`; `None` when there is none, it is another
/// export's, or it cannot be decoded.
///
/// A build from the cache pays for every byte of memory it touches for the first time (the
/// kernel zeroes each fresh page), so the records are decoded straight into their one vector,
/// each frame into its own slots on every core, from the file as mapped rather than read into
/// a buffer: before, the file's 15 MB and a vector per frame (as big as the records) were
/// held beside the records at 100,000 of them.
fn read_kept(kept: &Path, key: &Digest32) -> Option<Loaded> {
    let file = std::fs::File::open(kept).ok()?;
    // SAFETY: pimfeed never writes the kept parse in place: [`keep`] renames a new file over
    // it, which leaves a mapping of the old one whole, even if another run does so meanwhile.
    let map = unsafe { memmap2::Mmap::map(&file) }.ok()?;
    let (stored_key, rest): (Digest32, _) = postcard::take_from_bytes(&map).ok()?;
    if stored_key != *key {
        return None;
    }
    let (records_digest, rest): (Digest32, _) = postcard::take_from_bytes(rest).ok()?;
    let (warnings, rest): (Vec<StoredProblem>, _) = postcard::take_from_bytes(rest).ok()?;
    let (count, rest): (u64, _) = postcard::take_from_bytes(rest).ok()?;
    let count = usize::try_from(count).ok()?;
    let frames = frames(rest, count)?;
    let records = decode_records(&frames, count)?;
    let warnings = warnings
        .into_iter()
        .map(|warning| RowProblem {
            row: warning.row,
            line: warning.line,
            sku: warning.sku,
            message: warning.message,
            noun: RowNoun::Row,
        })
        .collect();
    Some(Loaded {
        checked: Checked { records, warnings },
        records_digest: Some(records_digest),
    })
}

/// The frames of `count` records that `bytes` holds, one per [`RECORDS_PER_FRAME`] records;
/// `None` unless they fill `bytes` exactly.
fn frames(mut bytes: &[u8], count: usize) -> Option<Vec<&[u8]>> {
    let mut frames = Vec::with_capacity(count.div_ceil(RECORDS_PER_FRAME));
    for _ in 0..count.div_ceil(RECORDS_PER_FRAME) {
        let (length, rest): (u64, _) = postcard::take_from_bytes(bytes).ok()?;
        let length = usize::try_from(length).ok()?;
        if length > rest.len() {
            return None;
        }
        let (frame, rest) = rest.split_at(length);
        frames.push(frame);
        bytes = rest;
    }
    bytes.is_empty().then_some(frames)
}

/// The `count` records of `frames`, decoded on every core straight into the vector's own
/// memory. The vector is not filled first: the kernel zeroes each fresh page where it is first
/// written (tens of megabytes at 100,000 records), and a fill on one thread did all of that
/// before the decoding started.
fn decode_records(frames: &[&[u8]], count: usize) -> Option<Vec<ErpRecord>> {
    use rayon::prelude::*;
    // Every chunk of slots must meet its frame, or a slot would be left unwritten.
    if frames.len() != count.div_ceil(RECORDS_PER_FRAME) {
        return None;
    }
    let mut records: Vec<ErpRecord> = Vec::with_capacity(count);
    let slots = &mut records.spare_capacity_mut()[..count];
    let decoded: Vec<bool> = slots
        .par_chunks_mut(RECORDS_PER_FRAME)
        .zip(frames)
        .map(|(slots, frame)| decode_frame(frame, slots).is_some())
        .collect();
    if decoded.iter().all(|&whole| whole) {
        // SAFETY: each chunk of the first `count` slots was decoded whole, and
        // `decode_frame` wrote every slot of a chunk it decoded whole.
        unsafe { records.set_len(count) };
        return Some(records);
    }
    // Frames decoded whole hold records to drop; one that failed dropped its own.
    for (slots, whole) in slots.chunks_mut(RECORDS_PER_FRAME).zip(decoded) {
        if whole {
            drop_written(slots);
        }
    }
    None
}

/// Decodes one frame into `slots`, a record each; `None` unless its records fill the frame
/// exactly, and then no slot holds a record.
fn decode_frame(mut frame: &[u8], slots: &mut [std::mem::MaybeUninit<ErpRecord>]) -> Option<()> {
    let mut currencies = Vec::new();
    for index in 0..slots.len() {
        let Ok((record, rest)) = postcard::take_from_bytes::<StoredRecord>(frame) else {
            drop_written(&mut slots[..index]);
            return None;
        };
        slots[index].write(record.into_record(&mut currencies));
        frame = rest;
    }
    if !frame.is_empty() {
        drop_written(slots);
        return None;
    }
    Some(())
}

/// Drops the records in `slots`, every one of which [`decode_frame`] wrote.
fn drop_written(slots: &mut [std::mem::MaybeUninit<ErpRecord>]) {
    // SAFETY: the caller wrote each of these slots, and nothing reads them afterwards.
    slots
        .iter_mut()
        .for_each(|slot| unsafe { slot.assume_init_drop() });
}

/// Replaces the kept parse: its key, the records' digest, the warnings, the number of records
/// and the records in frames of [`RECORDS_PER_FRAME`], each after its length in bytes.
/// Written beside and renamed, so a crash never leaves half a file (and one that cannot be
/// decoded is only parsed again). Written frame by frame, each record borrowed from the
/// parse: a cold build pays for this before its first product, on one core.
///
/// The records' digest is kept with them, and returned.
fn keep(kept: &Path, key: &Digest32, checked: &Checked) -> io::Result<Digest32> {
    let records_digest = cache::records_digest(&checked.records);
    let warnings: Vec<StoredProblem> = checked
        .warnings
        .iter()
        .map(|warning| StoredProblem {
            row: warning.row,
            line: warning.line,
            sku: warning.sku.clone(),
            message: warning.message.clone(),
        })
        .collect();
    crate::pimfeed_folder::replace(kept, |file| {
        write_kept(file, (key, &records_digest), &warnings, &checked.records)
    })?;
    Ok(records_digest)
}

/// Writes the kept parse into `file` (see [`keep`]), a frame at a time.
fn write_kept(
    file: std::fs::File,
    (key, records_digest): (&Digest32, &Digest32),
    warnings: &[StoredProblem],
    records: &[ErpRecord],
) -> io::Result<()> {
    let mut out = io::BufWriter::with_capacity(1 << 20, file);
    let mut bytes = Vec::new();
    append(&mut bytes, key)?;
    append(&mut bytes, records_digest)?;
    append(&mut bytes, warnings)?;
    append(&mut bytes, &(records.len() as u64))?;
    out.write_all(&bytes)?;
    let mut frame = Vec::new();
    for records in records.chunks(RECORDS_PER_FRAME) {
        frame.clear();
        for record in records {
            append(&mut frame, &StoredRecord::from(record))?;
        }
        bytes.clear();
        append(&mut bytes, &(frame.len() as u64))?;
        out.write_all(&bytes)?;
        out.write_all(&frame)?;
    }
    out.into_inner().map_err(io::IntoInnerError::into_error)?;
    Ok(())
}

/// Appends one value to the kept parse's bytes.
fn append<T: Serialize + ?Sized>(bytes: &mut Vec<u8>, value: &T) -> io::Result<()> {
    postcard::to_io(value, bytes).map_err(io::Error::other)?;
    Ok(())
}

/// [`RowProblem`] of an export (its rows are rows, not records).
#[derive(Serialize, Deserialize)]
struct StoredProblem {
    row: usize,
    line: Option<usize>,
    sku: Option<String>,
    message: String,
}

/// [`ErpRecord`] as the parser gives it with the price lists' prices, every field always
/// written: the record's own serde form leaves out empty fields and reads decimals as "any"
/// value, neither of which a format without field names can read back. Its text is borrowed
/// from the record when written and owned when read back (postcard writes both the same).
#[derive(Serialize, Deserialize)]
struct StoredRecord<'r> {
    sku: Cow<'r, str>,
    price: Exact,
    stock: i64,
    currency: Option<Cow<'r, str>>,
    sale_price: Option<Exact>,
    gtin: Option<Cow<'r, str>>,
    mpn: Option<Cow<'r, str>>,
    weight: Option<Exact>,
    length: Option<Exact>,
    width: Option<Exact>,
    height: Option<Exact>,
    unit: Option<Cow<'r, str>>,
    pack_size: Option<u32>,
    active: bool,
    price_tiers: Vec<(u32, Exact)>,
    /// By currency: the price and the sale price of the price lists.
    prices: Vec<(Cow<'r, str>, Exact, Option<Exact>)>,
}

/// A decimal as its 16 bytes: digits and scale, so `1.50` reads back as `1.50`.
#[derive(Clone, Copy, Default, Serialize, Deserialize)]
struct Exact([u8; 16]);

impl From<Decimal> for Exact {
    fn from(decimal: Decimal) -> Self {
        Exact(decimal.serialize())
    }
}

impl From<Exact> for Decimal {
    fn from(exact: Exact) -> Self {
        Decimal::deserialize(exact.0)
    }
}

impl<'r> From<&'r ErpRecord> for StoredRecord<'r> {
    fn from(record: &'r ErpRecord) -> Self {
        let text = |text: &'r Option<String>| text.as_deref().map(Cow::Borrowed);
        StoredRecord {
            sku: Cow::Borrowed(&record.sku),
            price: record.price.into(),
            stock: record.stock,
            currency: text(&record.currency),
            sale_price: record.sale_price.map(Exact::from),
            gtin: text(&record.gtin),
            mpn: text(&record.mpn),
            weight: record.weight.map(Exact::from),
            length: record.length.map(Exact::from),
            width: record.width.map(Exact::from),
            height: record.height.map(Exact::from),
            unit: text(&record.unit),
            pack_size: record.pack_size,
            active: record.active,
            price_tiers: record
                .price_tiers
                .iter()
                .map(|tier| (tier.min_qty, tier.price.into()))
                .collect(),
            prices: record
                .prices
                .iter()
                .map(|(currency, price)| {
                    let sale_price = price.sale_price.map(Exact::from);
                    (Cow::Borrowed(currency), price.price.into(), sale_price)
                })
                .collect(),
        }
    }
}

impl StoredRecord<'_> {
    /// The record, its prices' currency codes shared with the records before it through
    /// `currencies` (a catalog has a handful, and 100,000 records with a price each).
    fn into_record(mut self, currencies: &mut Vec<Arc<str>>) -> ErpRecord {
        let prices = std::mem::take(&mut self.prices);
        let mut record = ErpRecord::from(self);
        for (code, price, sale_price) in prices {
            let currency = match currencies.iter().find(|known| ***known == *code) {
                Some(known) => known.clone(),
                None => {
                    let new: Arc<str> = Arc::from(&*code);
                    currencies.push(new.clone());
                    new
                }
            };
            let price = CurrencyPrice {
                price: price.into(),
                sale_price: sale_price.map(Decimal::from),
            };
            record.prices.insert(currency, price);
        }
        record
    }
}

impl From<StoredRecord<'_>> for ErpRecord {
    fn from(record: StoredRecord<'_>) -> Self {
        ErpRecord {
            sku: record.sku.into_owned(),
            price: record.price.into(),
            stock: record.stock,
            currency: record.currency.map(Cow::into_owned),
            sale_price: record.sale_price.map(Decimal::from),
            gtin: record.gtin.map(Cow::into_owned),
            mpn: record.mpn.map(Cow::into_owned),
            weight: record.weight.map(Decimal::from),
            length: record.length.map(Decimal::from),
            width: record.width.map(Decimal::from),
            height: record.height.map(Decimal::from),
            unit: record.unit.map(Cow::into_owned),
            pack_size: record.pack_size,
            active: record.active,
            price_tiers: record
                .price_tiers
                .into_iter()
                .map(|(min_qty, price)| PriceTier {
                    min_qty,
                    price: price.into(),
                })
                .collect(),
            prices: Default::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    use super::*;

    const EXPORT: &str = "sku,price,stock,sale_price,weight,price_tiers,active\n\
                          A,1.50,3,1.25,0.500,10:1.40|50:1.30,no\n\
                          B,2,-4,,,,\n\
                          C,0.10,0,,12,,yes\n";

    fn catalog(export: &str) -> (tempfile::TempDir, ErpFileConfig) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("erp")).unwrap();
        std::fs::write(dir.path().join("erp/items.csv"), export).unwrap();
        let config = ErpFileConfig {
            path: PathBuf::from("erp/items.csv"),
            format: None,
            delimiter: None,
            decimal_comma: false,
            mapping: BTreeMap::new(),
        };
        (dir, config)
    }

    static NO_LISTS: BTreeMap<String, crate::config::PriceListConfig> = BTreeMap::new();

    /// Without price lists.
    fn load(config: &ErpFileConfig, root: &Path, writes: bool) -> Result<Loaded, LoadError> {
        let lists = crate::erp::price_list::read_lists(&NO_LISTS, root).unwrap();
        super::load(config, &lists, root, writes)
    }

    /// The key of an export's bytes without price lists.
    fn key(config: &ErpFileConfig, bytes: &[u8]) -> Digest32 {
        let lists = crate::erp::price_list::read_lists(&NO_LISTS, Path::new(".")).unwrap();
        super::key(config, &lists, &digest_of(bytes))
    }

    /// The [`export_digest`] of an export holding `bytes`.
    fn digest_of(bytes: &[u8]) -> Digest32 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("items.csv");
        std::fs::write(&path, bytes).unwrap();
        export_digest(&path).unwrap()
    }

    /// Hashed in pieces on every core, the digest is still of every byte, in order, and of
    /// the length: a byte changed in any piece, two pieces swapped, or a byte more at the end
    /// each give another.
    #[test]
    fn the_exports_digest_is_of_every_byte_in_order() {
        let piece = EXPORT_PIECE_BYTES;
        let bytes: Vec<u8> = (0..2 * piece + piece / 2)
            .map(|n| (n % 251) as u8)
            .collect();
        let digest = digest_of(&bytes);
        assert_eq!(digest_of(&bytes), digest);
        for at in [0, piece - 1, piece, 2 * piece + 7, bytes.len() - 1] {
            let mut changed = bytes.clone();
            changed[at] ^= 1;
            assert_ne!(digest_of(&changed), digest, "a byte changed at {at}");
        }
        let mut swapped = bytes[piece..2 * piece].to_vec();
        swapped.extend_from_slice(&bytes[..piece]);
        swapped.extend_from_slice(&bytes[2 * piece..]);
        assert_ne!(digest_of(&swapped), digest);
        let mut longer = bytes.clone();
        longer.push(0);
        assert_ne!(digest_of(&longer), digest);
        assert_ne!(digest_of(b""), digest_of(b"\0"));
    }

    fn parsed(config: &ErpFileConfig, root: &Path) -> Checked {
        crate::erp::file::load_with_warnings(config, root).unwrap()
    }

    fn same(a: &Checked, b: &Checked) {
        assert_eq!(a.records, b.records);
        assert_eq!(a.warnings, b.warnings);
        // Scale survives: `1.50` stays `1.50`, as the feeds print it.
        let prices: Vec<String> = a.records.iter().map(|r| r.price.to_string()).collect();
        let parsed: Vec<String> = b.records.iter().map(|r| r.price.to_string()).collect();
        assert_eq!(prices, parsed);
    }

    #[test]
    fn an_unchanged_export_gives_what_parsing_gives_with_its_warnings() {
        let (dir, config) = catalog(EXPORT);
        let first = load(&config, dir.path(), true).unwrap().checked;
        assert!(dir.path().join(PARSED_EXPORT).exists());
        let again = load(&config, dir.path(), true).unwrap().checked;
        same(&again, &parsed(&config, dir.path()));
        same(&first, &again);
        assert_eq!(again.warnings.len(), 1, "the negative stock of B");
        assert_eq!(again.warnings[0].line, Some(3));
    }

    #[test]
    fn the_records_digest_is_kept_with_the_records_and_is_theirs() {
        let (dir, config) = catalog(EXPORT);
        let first = load(&config, dir.path(), true).unwrap();
        let again = load(&config, dir.path(), true).unwrap();
        let digest = cache::records_digest(&parsed(&config, dir.path()).records);
        assert_eq!(
            first.records_digest,
            Some(digest),
            "kept by the parse that kept them"
        );
        assert_eq!(again.records_digest, Some(digest), "read back with them");
        // A check keeps nothing, and so has no digest to give.
        let (dir, config) = catalog(EXPORT);
        assert_eq!(
            load(&config, dir.path(), false).unwrap().records_digest,
            None
        );
    }

    #[test]
    fn prices_are_kept_with_the_records_under_the_price_lists_bytes() {
        let (dir, config) = catalog(EXPORT);
        let list_path = dir.path().join("erp/prices-gbp.csv");
        std::fs::write(&list_path, "sku,price,sale_price\nA,1.30,1.10\nC,0.09,\n").unwrap();
        let mut lists = BTreeMap::new();
        lists.insert(
            "GBP".to_string(),
            crate::config::PriceListConfig {
                path: "erp/prices-gbp.csv".into(),
                delimiter: None,
                decimal_comma: false,
            },
        );
        let load_priced = || {
            let read = crate::erp::price_list::read_lists(&lists, dir.path()).unwrap();
            super::load(&config, &read, dir.path(), true)
        };
        let gbp = |loaded: &Loaded, sku: &str| {
            let record = loaded
                .checked
                .records
                .iter()
                .find(|r| r.sku == sku)
                .unwrap();
            record
                .prices
                .get("GBP")
                .map(|p| (p.price.to_string(), p.sale_price))
        };
        let first = load_priced().unwrap();
        let kept = load_priced().unwrap();
        assert_eq!(first.checked.records, kept.checked.records);
        assert_eq!(
            gbp(&kept, "A"),
            Some(("1.30".into(), Some(Decimal::new(110, 2))))
        );
        assert_eq!(gbp(&kept, "B"), None);
        let digest = cache::records_digest(&kept.checked.records);
        assert_eq!(
            kept.records_digest,
            Some(digest),
            "the digest is of the priced records"
        );

        // Another price: parsed again, with it.
        std::fs::write(&list_path, "sku,price\nA,1.35\n").unwrap();
        let again = load_priced().unwrap();
        assert_eq!(gbp(&again, "A"), Some(("1.35".into(), None)));
        assert_eq!(gbp(&again, "C"), None);

        // A bad row names its line, and nothing is taken from the parse kept before.
        std::fs::write(&list_path, "sku,price\nA,cheap\n").unwrap();
        let Err(LoadError::PriceList(error)) = load_priced() else {
            panic!("a bad price list fails the pull");
        };
        assert!(error.to_string().contains(":2:"), "{error}");
    }

    #[test]
    fn the_kept_parse_is_used_only_for_the_same_bytes() {
        let (dir, config) = catalog(EXPORT);
        load(&config, dir.path(), true).unwrap();
        // Prove that the kept parse is what a second load returns: plant other records
        // under the export's key.
        let key = key(&config, EXPORT.as_bytes());
        let mut planted = parsed(&config, dir.path());
        planted.records.truncate(1);
        keep(&dir.path().join(PARSED_EXPORT), &key, &planted).unwrap();
        assert_eq!(
            load(&config, dir.path(), true)
                .unwrap()
                .checked
                .records
                .len(),
            1
        );

        // Same length, one digit changed: parsed again, not taken from the kept parse.
        let changed = EXPORT.replace("A,1.50,3", "A,1.50,4");
        assert_eq!(changed.len(), EXPORT.len());
        let path = dir.path().join("erp/items.csv");
        let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
        std::fs::write(&path, &changed).unwrap();
        // Even with the old modification time put back.
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(modified)
            .unwrap();
        let loaded = load(&config, dir.path(), true).unwrap().checked;
        assert_eq!(loaded.records.len(), 3);
        assert_eq!(loaded.records[0].stock, 4);
        same(&loaded, &parsed(&config, dir.path()));
    }

    #[test]
    fn records_over_several_frames_come_back_in_order_and_a_cut_file_is_parsed_again() {
        let rows = 2 * RECORDS_PER_FRAME + 5;
        let mut export = String::from("sku,price,stock,gtin\n");
        for row in 0..rows {
            export.push_str(&format!("S{row},{row}.{:02},{},\n", row % 100, row % 7));
        }
        let (dir, config) = catalog(&export);
        load(&config, dir.path(), true).unwrap();
        let kept = load(&config, dir.path(), true).unwrap().checked;
        same(&kept, &parsed(&config, dir.path()));
        assert_eq!(kept.records.len(), rows);

        // A kept file cut short, or one frame's length made longer than what follows, is
        // not read at all: the export is parsed again.
        let path = dir.path().join(PARSED_EXPORT);
        let whole = std::fs::read(&path).unwrap();
        let key = key(&config, export.as_bytes());
        for cut in [whole.len() - 1, whole.len() / 2, 40] {
            std::fs::write(&path, &whole[..cut]).unwrap();
            assert!(read_kept(&path, &key).is_none(), "cut at {cut}");
        }
        let mut longer = whole.clone();
        longer.push(0);
        std::fs::write(&path, &longer).unwrap();
        assert!(read_kept(&path, &key).is_none(), "a byte too many");
        same(
            &load(&config, dir.path(), true).unwrap().checked,
            &parsed(&config, dir.path()),
        );
    }

    #[test]
    fn other_settings_parse_again() {
        let (dir, mut config) = catalog("sku;price;stock\nA;1,5;3\n");
        config.delimiter = Some(';');
        let comma = load(&config, dir.path(), true).unwrap_err();
        assert!(
            matches!(comma, LoadError::Export(ErpFileError::Rows { .. })),
            "{comma:?}"
        );
        config.decimal_comma = true;
        let records = load(&config, dir.path(), true).unwrap().checked.records;
        assert_eq!(records[0].price.to_string(), "1.5");
        config.decimal_comma = false;
        assert!(
            load(&config, dir.path(), true).is_err(),
            "the kept parse is not used"
        );
    }

    #[test]
    fn bad_rows_are_reported_every_time_and_nothing_is_kept() {
        let (dir, config) = catalog("sku,price,stock\nA,1x,3\nB,2,2\n");
        for _ in 0..2 {
            let Err(LoadError::Export(ErpFileError::Rows { problems, .. })) =
                load(&config, dir.path(), true)
            else {
                panic!("expected bad rows");
            };
            assert_eq!(problems.len(), 1);
            assert_eq!(problems[0].line, Some(2));
        }
        assert!(!dir.path().join(PARSED_EXPORT).exists());
    }

    #[test]
    fn a_run_that_writes_nothing_keeps_no_parse_but_uses_one() {
        let (dir, config) = catalog(EXPORT);
        load(&config, dir.path(), false).unwrap();
        assert!(!dir.path().join(PARSED_EXPORT).exists());
        let key = key(&config, EXPORT.as_bytes());
        let mut planted = parsed(&config, dir.path());
        planted.records.truncate(2);
        keep(&dir.path().join(PARSED_EXPORT), &key, &planted).unwrap();
        assert_eq!(
            load(&config, dir.path(), false)
                .unwrap()
                .checked
                .records
                .len(),
            2
        );
    }

    #[test]
    fn a_damaged_kept_parse_is_parsed_again() {
        let (dir, config) = catalog(EXPORT);
        load(&config, dir.path(), true).unwrap();
        let kept = dir.path().join(PARSED_EXPORT);
        let mut bytes = std::fs::read(&kept).unwrap();
        bytes.truncate(bytes.len() / 2);
        std::fs::write(&kept, bytes).unwrap();
        same(
            &load(&config, dir.path(), true).unwrap().checked,
            &parsed(&config, dir.path()),
        );
    }

    #[test]
    fn a_parse_that_cannot_be_kept_leaves_no_file_behind() {
        let (dir, config) = catalog(EXPORT);
        // A folder where the kept parse goes: the rename over it fails.
        let kept = dir.path().join(PARSED_EXPORT);
        std::fs::create_dir_all(kept.join("in-the-way")).unwrap();
        let key = key(&config, EXPORT.as_bytes());
        assert!(keep(&kept, &key, &parsed(&config, dir.path())).is_err());
        let folder = kept.parent().unwrap();
        let left: Vec<_> = std::fs::read_dir(folder)
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(left, [kept.file_name().unwrap()], "{left:?}");
        // The build goes on with the records it parsed.
        same(
            &load(&config, dir.path(), true).unwrap().checked,
            &parsed(&config, dir.path()),
        );
    }
}
