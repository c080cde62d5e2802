//! The end of a process whose command has done its work.
//!
//! `check`, `build` and `refresh` end the process as soon as they return. Freeing what they
//! built piece by piece (the ERP records, the report's verdicts: millions of small blocks at
//! 100,000 products) and then having mimalloc's exit handler give every freed page back to
//! the system with `madvise` is work the exit does anyway, all at once. In a profile of a
//! build after a one-line edit (100k products, one Google channel) that was 46 of 1,417
//! samples, 20–25 ms at the very end of a 0.4–0.5 s build, with nothing else left to run
//! beside it. Such a command leaves its largest values to the exit ([`release`]); `watch` and
//! `serve`, which build again in the same process, drop them as usual, and so does the library
//! everywhere else (its tests run many builds in one process).

use std::sync::atomic::{AtomicBool, Ordering};

/// `mi_option_purge_delay` in mimalloc 2 and 3 (the Rust bindings name no constant for it).
pub(crate) const MIMALLOC_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

static PROCESS_ENDS_WITH_COMMAND: AtomicBool = AtomicBool::new(false);

/// Says that the process ends when the command running now returns.
pub fn process_ends_with_command() {
    PROCESS_ENDS_WITH_COMMAND.store(true, Ordering::Relaxed);
}

/// Drops `value`, unless the process ends with the command running now: then the exit
/// reclaims its memory with the rest.
pub fn release<T>(value: T) {
    if PROCESS_ENDS_WITH_COMMAND.load(Ordering::Relaxed) {
        std::mem::forget(value);
    } else {
        drop(value);
    }
}

/// Called by `main` as it returns: mimalloc's exit handler then frees its arenas without
/// first giving their pages back to the system one range at a time.
pub fn before_exit() {
    // SAFETY: setting a mimalloc option is thread-safe and valid at any time; a negative delay
    // means "never purge". Without mimalloc as the allocator it changes nothing.
    unsafe { libmimalloc_sys::mi_option_set(MIMALLOC_PURGE_DELAY, -1) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_drops_the_value_unless_the_process_ends_with_the_command() {
        struct Counted<'a>(&'a std::cell::Cell<u32>);
        impl Drop for Counted<'_> {
            fn drop(&mut self) {
                self.0.set(self.0.get() + 1);
            }
        }
        let drops = std::cell::Cell::new(0);
        release(Counted(&drops));
        assert_eq!(drops.get(), 1, "a library caller's value is dropped");
    }
}
