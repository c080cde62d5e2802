//! `serve` runs one build after another in a single process. mimalloc (pimfeed's allocator)
//! gives memory that was freed back to the system only after a delay (a second), and only when
//! the thread that freed it allocates again: the pages the last build's worker threads freed
//! stayed resident while the next build ran, adding 30–50 MiB to the peak of every rebuild at
//! 100,000 products. While `serve` builds, freed memory is given back at once; while it
//! indexes the build for the pages (a fraction of a second, which a page waits for), mimalloc
//! keeps its default, which spares re-faulting the pages the build just freed.

use std::ffi::c_long;

use crate::one_shot::MIMALLOC_PURGE_DELAY as PURGE_DELAY;

/// Its defaults in mimalloc 2 and 3, in milliseconds: the option is left alone if it is not
/// one of them (a `MIMALLOC_PURGE_DELAY` the user set, or a mimalloc we do not know).
const DEFAULT_PURGE_DELAYS: [c_long; 2] = [10, 1000];

/// Freed memory goes back to the system at once until this is dropped.
pub struct GiveBackAtOnce {
    default: Option<c_long>,
}

impl GiveBackAtOnce {
    pub fn start() -> GiveBackAtOnce {
        // SAFETY: reading and setting a mimalloc option is thread-safe and valid at any time;
        // without mimalloc as the allocator (the library's own tests) it changes nothing.
        let default = unsafe { libmimalloc_sys::mi_option_get(PURGE_DELAY) };
        let default = DEFAULT_PURGE_DELAYS.contains(&default).then(|| {
            unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, 0) };
            default
        });
        GiveBackAtOnce { default }
    }
}

impl Drop for GiveBackAtOnce {
    fn drop(&mut self) {
        if let Some(default) = self.default {
            // SAFETY: as above.
            unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, default) };
        }
    }
}
