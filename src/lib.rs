//! pimfeed: a PIM kept as code.
//!
//! The pipeline, one module per stage: [`config`] → [`content`] → [`erp`] → [`merge`] →
//! [`validate`] (the per-channel gate) → [`render`] → [`output`] (verify, manifest, swap),
//! run in order by [`pipeline`]. Each built-in channel is one module of [`presets`], listed in
//! its registry. Only [`commands`] knows about terminals and exit codes.

pub mod cache;
pub mod channel_resolution;
pub mod channels;
pub mod cli;
pub mod commands;
pub mod config;
pub mod config_check;
pub mod content;
pub mod diagnostics;
pub mod diff;
pub mod erp;
pub mod feed_fragments;
pub mod git;
pub mod gtin;
pub mod guard;
pub mod keep;
pub mod last_build;
pub mod lock;
pub mod merge;
pub mod money;
pub mod one_shot;
pub mod output;
pub mod pimfeed_folder;
pub mod pipeline;
pub mod positioned;
pub mod presets;
pub mod publish;
pub mod push;
pub mod redact;
pub mod render;
pub mod report;
pub mod serve;
pub mod staging;
pub mod suggest;
pub mod swap;
pub mod text;
pub mod ui;
pub mod validate;
pub mod verdict;
pub mod wording;
