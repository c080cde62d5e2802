//! `serve` runs one build after another in a single process. mimalloc (pimfeed's allocator)
//! gives memory that was freed back to the system only after a delay, and only when the thread
//! that freed it allocates again: the pages the last build's worker threads freed stayed
//! resident while the next build ran, adding 30–50 MiB to the peak of every rebuild at 100,000
//! products. `serve` has them given back at once.

/// `mi_option_purge_delay` in mimalloc 2 and 3 (the Rust bindings name no constant for it).
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
/// Its default, in milliseconds: the option is left alone if it is not what we expect (a
/// `MIMALLOC_PURGE_DELAY` the user set, or another mimalloc).
const DEFAULT_PURGE_DELAY: std::ffi::c_long = 10;

/// Frees pages back to the system as soon as they are free. Without effect when mimalloc is
/// not the allocator (the library's own tests).
pub fn give_back_freed_memory_at_once() {
    // SAFETY: reading and setting a mimalloc option is thread-safe and valid at any time.
    unsafe {
        if libmimalloc_sys::mi_option_get(PURGE_DELAY) == DEFAULT_PURGE_DELAY {
            libmimalloc_sys::mi_option_set(PURGE_DELAY, 0);
        }
    }
}
