//! Wall time per stage, for `--timings` and the benchmark.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Wall time per stage, in the order the stages first ran.
#[derive(Default)]
pub(crate) struct Stopwatch {
    pub(crate) stages: Vec<(String, Duration)>,
    last: Option<Instant>,
}

impl Stopwatch {
    pub(crate) fn start() -> Self {
        Self {
            stages: Vec::new(),
            last: Some(Instant::now()),
        }
    }

    /// A part of the stages so far, measured apart; it does not end the current stage.
    pub(crate) fn detail(&mut self, name: &str, duration: Duration) {
        self.stages.push((format!("  {name}"), duration));
    }

    /// Ends the current stage under `name` and starts the next. A stage that runs once per
    /// batch adds up under one name.
    pub(crate) fn lap(&mut self, name: &str) {
        let now = Instant::now();
        let Some(last) = self.last.replace(now) else {
            return;
        };
        match self.stages.iter_mut().find(|(stage, _)| stage == name) {
            Some((_, total)) => *total += now - last,
            None => self.stages.push((name.to_string(), now - last)),
        }
    }
}

/// What `work` gives, and how long it took.
pub(crate) fn timed<T>(work: impl FnOnce() -> T) -> (T, Duration) {
    let started = Instant::now();
    let done = work();
    (done, started.elapsed())
}

/// A scoped thread's result; its panic goes on as this thread's.
pub(crate) fn joined<T>(handle: std::thread::ScopedJoinHandle<'_, T>) -> T {
    handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// Time summed over threads (so on two cores up to twice the wall time).
#[derive(Default)]
pub(crate) struct BusyTime(AtomicU64);

impl BusyTime {
    pub(crate) fn add(&self, elapsed: Duration) {
        self.0.fetch_add(
            u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    pub(crate) fn total(&self) -> Duration {
        Duration::from_nanos(self.0.load(Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stage_run_per_batch_adds_up_under_one_name() {
        let mut stopwatch = Stopwatch::start();
        stopwatch.lap("read");
        stopwatch.lap("render");
        stopwatch.lap("read");
        stopwatch.detail("of which parsing", Duration::from_millis(5));
        let names: Vec<&str> = stopwatch.stages.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["read", "render", "  of which parsing"]);
    }

    #[test]
    fn busy_time_sums_over_threads() {
        let busy = BusyTime::default();
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| busy.add(Duration::from_millis(10)));
            }
        });
        assert_eq!(busy.total(), Duration::from_millis(40));
    }
}
