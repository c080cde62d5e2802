//! The one place that knows whether a person is watching: progress bars on a terminal,
//! silence in CI and when output is meant for machines.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// A progress bar on stderr when it is a terminal and not in CI; hidden otherwise.
    pub fn new(enabled: bool) -> Self {
        Self::counting(enabled, "files")
    }

    /// Like [`Progress::new`], counting `unit` (`calls`, …) instead of product files.
    pub fn counting(enabled: bool, unit: &str) -> Self {
        let visible =
            enabled && std::io::stderr().is_terminal() && std::env::var_os("CI").is_none();
        let bar = if visible {
            ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
        } else {
            ProgressBar::hidden()
        };
        bar.set_style(
            ProgressStyle::with_template(
                &format!(
                    "{{spinner}} {{msg:<22}} {{wide_bar}} {{human_pos}}/{{human_len}} {unit} {{per_sec}} {{eta}}"
                ),
            )
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        Self { bar }
    }

    pub fn hidden() -> Self {
        Self::new(false)
    }

    pub fn stage(&self, message: &str) {
        self.bar.set_message(message.to_string());
        self.bar.tick();
    }

    /// How many product files the run will go through.
    pub fn set_length(&self, files: usize) {
        self.bar.set_length(files as u64);
    }

    pub fn advance(&self, files: usize) {
        self.bar.inc(files as u64);
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
