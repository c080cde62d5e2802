//! Text every stage shares, and which depends on no stage: cleaning what a customer reads,
//! Markdown to HTML or plain text, and escaping per output format. Content, the merge, the
//! gate and every preset import these; they import nothing of pimfeed's.

pub mod clean;
pub mod escape;
pub mod json;
pub mod markdown;
