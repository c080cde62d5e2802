//! Every written feed parsed back before it goes live.

use std::collections::HashMap;

use rayon::prelude::*;

use super::Failure;
use super::manifest::{ManifestChannel, ManifestPart};
use crate::channels::Channel;
use crate::feed_fragments::{self, FeedStamp};
use crate::output::{FileStats, VerifyError};
use crate::render::FeedPart;

/// Parses every rendered file back, all at once (each is one sequential read), or verifies
/// it by its pieces when it was built by splicing; the manifest's channels, and how many files
/// were verified by their pieces and how many linked to the last build's.
pub(crate) fn verify_feeds(
    channels: &[Channel],
    counts: &[(usize, usize)],
    parts: Vec<Vec<FeedPart>>,
    published: &HashMap<String, FileStats>,
) -> Result<(Vec<ManifestChannel>, FilesVerified), Failure> {
    let files: Vec<(&Channel, FeedPart)> = channels
        .iter()
        .zip(parts)
        .flat_map(|(channel, parts)| parts.into_iter().map(move |part| (channel, part)))
        .collect();
    let by_pieces = std::sync::atomic::AtomicUsize::new(0);
    let linked = std::sync::atomic::AtomicUsize::new(0);
    let verified: Vec<(&Channel, ManifestPart)> = files
        .into_par_iter()
        .map(|(channel, part)| {
            let (stats, how) =
                verify_part(&part, channel, published).map_err(|message| Failure::Verify {
                    channel: channel.name.clone(),
                    message: format!("{}: {message}", part.file),
                })?;
            match how {
                VerifiedAs::Whole => {}
                VerifiedAs::ByPieces => {
                    by_pieces.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                VerifiedAs::Linked => {
                    linked.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }
            Ok((
                channel,
                ManifestPart {
                    file: part.file,
                    items: part.items,
                    stats,
                    gzip: part.gzip,
                },
            ))
        })
        .collect::<Result<_, Failure>>()?;
    Ok((
        manifest_channels(channels, counts, verified),
        FilesVerified {
            by_pieces: by_pieces.into_inner(),
            linked: linked.into_inner(),
        },
    ))
}

/// How many files were verified other than by parsing them whole.
pub(crate) struct FilesVerified {
    pub(crate) by_pieces: usize,
    pub(crate) linked: usize,
}

/// How a file was verified.
enum VerifiedAs {
    Whole,
    ByPieces,
    /// Linked to the last build's file, which that build verified.
    Linked,
}

/// A file built by splicing is verified by its pieces while the files it was spliced from
/// are still the ones the last build verified; a file linked to the last build's, while that
/// file is still the one it verified, takes its size and hash from the last build's manifest
/// (`published`). A file written from scratch was parsed back behind its writer, and takes
/// that verdict when it passed. Any other file, or one whose pieces do not pass, is parsed
/// whole (which names what is wrong, if anything is). Its size and hash, and how it was
/// verified.
fn verify_part(
    part: &FeedPart,
    channel: &Channel,
    published: &HashMap<String, FileStats>,
) -> Result<(FileStats, VerifiedAs), VerifyError> {
    if let Some(linked) = &part.linked
        && let Some(stats) = published.get(&part.file)
        && FeedStamp::of(&part.path).is_ok_and(|now| now == *linked && now.size() == stats.bytes)
    {
        return Ok((stats.clone(), VerifiedAs::Linked));
    }
    // The runs copied behind the writer are in the file once this returns.
    let digest = part.copying.wait()?;
    if let Some(plan) = &part.spliced
        && plan.sources_unchanged()
        && let Ok(stats) =
            feed_fragments::verify_spliced(&part.path, channel.format(), plan, digest.as_ref())
        && plan.sources_unchanged()
    {
        return Ok((stats, VerifiedAs::ByPieces));
    }
    if let Some(stats) = part.parsed_behind.wait()
        && std::fs::metadata(&part.path)?.len() == stats.bytes
    {
        return Ok((stats, VerifiedAs::Whole));
    }
    feed_fragments::verify_in_chunks(&part.path, channel.format(), part.cuts.as_ref())
        .map(|stats| (stats, VerifiedAs::Whole))
}

/// Each channel's entry in the manifest, from its files and its (items, excluded) counts.
fn manifest_channels(
    channels: &[Channel],
    counts: &[(usize, usize)],
    verified: Vec<(&Channel, ManifestPart)>,
) -> Vec<ManifestChannel> {
    let mut manifest = Vec::with_capacity(channels.len());
    for (channel, &(items, excluded)) in channels.iter().zip(counts) {
        let mut parts: Vec<ManifestPart> = verified
            .iter()
            .filter(|(c, _)| c.name == channel.name)
            .map(|(_, part)| ManifestPart {
                file: part.file.clone(),
                items: part.items,
                stats: part.stats.clone(),
                gzip: part.gzip.clone(),
            })
            .collect();
        let (stats, gzip) = match parts.first() {
            Some(first) => (Some(first.stats.clone()), first.gzip.clone()),
            None => (None, None),
        };
        let note = match stats {
            None => crate::presets::empty_document_note(channel, items),
            Some(_) => None,
        };
        if parts.len() == 1 {
            parts.clear();
        }
        manifest.push(ManifestChannel {
            name: channel.name.clone(),
            file: channel.output.clone(),
            format: channel.format(),
            items,
            excluded,
            stats,
            gzip,
            parts,
            note,
        });
    }
    manifest
}
