//! One integration-test binary (one link step), a module per command or concern. Tests drive
//! the real `pimfeed` binary over copies of the catalogs in `tests/fixtures/`.

mod build;
mod cache;
mod cap;
mod check;
mod common;
mod conformance;
mod diff;
mod escaping;
mod github;
mod google;
mod http;
mod init;
mod lock;
mod marketplaces;
mod refresh;
mod schema;
mod watch;
