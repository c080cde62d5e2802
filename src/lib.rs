//! pimfeed: a PIM kept as code.
//!
//! The pipeline, one module per stage: [`config`] → [`content`] → [`erp`] → [`merge`] →
//! [`validate`] (the per-channel gate) → [`render`] → [`output`] (verify, manifest, swap).
//! Only [`commands`] and `main.rs` know about terminals and exit codes.

pub mod config;
pub mod content;
pub mod diagnostics;
pub mod erp;
pub mod suggest;
