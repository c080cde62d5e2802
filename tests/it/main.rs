//! One integration-test binary (one link step), a module per command or concern. Tests drive
//! the real `pimfeed` binary over copies of the catalogs in `tests/fixtures/`.

mod build;
mod cache;
mod cap;
mod check;
mod common;
mod conformance;
mod diff;
mod docs;
mod escaping;
mod fixed_costs;
mod github;
mod google;
mod google_native;
mod guard;
mod http;
mod init;
mod keep;
mod lock;
mod loopback;
mod marketplaces;
mod module_graph;
mod presets;
mod publish;
mod push;
mod refresh;
mod schema;
mod serve;
mod splice;
mod swap;
mod untrusted_input;
mod verdicts;
mod view_needs;
mod watch;
mod workflows;
