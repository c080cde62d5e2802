//! Every written feed parsed back before it goes live.

use rayon::prelude::*;

use super::Failure;
use super::manifest::{ManifestChannel, ManifestPart};
use crate::channels::Channel;
use crate::output;
use crate::render::FeedPart;
use crate::report::ChannelReport;

/// Parses every rendered file back, all at once (each is one sequential read).
pub(crate) fn verify_feeds(
    channels: &[Channel],
    reports: &[ChannelReport],
    parts: Vec<Vec<FeedPart>>,
) -> Result<Vec<ManifestChannel>, Failure> {
    let files: Vec<(&Channel, FeedPart)> = channels
        .iter()
        .zip(parts)
        .flat_map(|(channel, parts)| parts.into_iter().map(move |part| (channel, part)))
        .collect();
    let verified: Vec<(&Channel, ManifestPart)> = files
        .into_par_iter()
        .map(|(channel, part)| {
            let stats = output::verify(&part.path, channel.format()).map_err(|message| {
                Failure::Verify {
                    channel: channel.name.clone(),
                    message: format!("{}: {message}", part.file),
                }
            })?;
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
    let mut manifest = Vec::with_capacity(channels.len());
    for (channel, report) in channels.iter().zip(reports) {
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
            None => crate::presets::empty_document_note(channel, report.items),
            Some(_) => None,
        };
        if parts.len() == 1 {
            parts.clear();
        }
        manifest.push(ManifestChannel {
            name: channel.name.clone(),
            file: channel.output.clone(),
            format: channel.format(),
            items: report.items,
            excluded: report.excluded,
            stats,
            gzip,
            parts,
            note,
        });
    }
    Ok(manifest)
}
