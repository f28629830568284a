//! Giving the memory the allocator holds freed back to the system.
//!
//! `serve` allocates through mimalloc (`main.rs`), which keeps freed pages
//! mapped for reuse and returns them only as later allocations pass by.
//! After a self-validation at 50,000 CAs that is about 140 MB held with
//! nothing to reuse it until the next run; [`release_freed`] returns it
//! once per run instead of at every free (`MIMALLOC_PURGE_DELAY=0` did
//! the latter and made a full validation 43 % slower: 34.8 s against
//! 24.4 s).
//!
//! The one FFI call of this crate, hence the one place `unsafe` is
//! allowed.
#![allow(unsafe_code)]

// The allocator whose function is declared below: linked here too, so
// the library's own test binaries (which keep the system allocator, and
// where the call finds nothing to collect) resolve it.
use mimalloc as _;

unsafe extern "C" {
    /// mimalloc's `void mi_collect(bool force)` (mimalloc.h): frees the
    /// calling thread's unused pages and those of threads that ended, and
    /// with `force` returns what the arenas hold free to the system now.
    fn mi_collect(force: bool);
}

/// Returns to the system the memory freed since the last call: the
/// calling thread's, that of threads that ended (the validator's
/// workers), and whatever the allocator's arenas hold free.
pub fn release_freed() {
    // SAFETY: `mi_collect` takes no pointers and may be called from any
    // thread at any time (mimalloc.h documents it for exactly this).
    unsafe { mi_collect(true) }
}
