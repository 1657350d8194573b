//! The memory family (malloc, calloc, realloc, posix_memalign,
//! aligned_alloc, free), written by hand: the allocator is called before
//! anything else, by dlsym itself among others, so until the real functions
//! are known, allocations come from a small static arena (and freeing arena
//! memory is a no-op). Allocations made by hijack's own code go straight to
//! the real allocator (the re-entrancy guard), and with no hook the cost is
//! one branch, as for every call.

use crate::table::id;
use crate::frame::word::{self, Word};
use crate::{dispatch, frame, platform::real};
use libc::{c_int, c_void, size_t};
use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicUsize, Ordering};

const ARENA_SIZE: usize = 256 * 1024;
const HEADER: usize = 16;

#[repr(C, align(16))]
struct Arena(UnsafeCell<[u8; ARENA_SIZE]>);
// SAFETY: blocks are handed out once each, by an atomic bump.
unsafe impl Sync for Arena {}

static ARENA: Arena = Arena(UnsafeCell::new([0; ARENA_SIZE]));
static USED: AtomicUsize = AtomicUsize::new(0);

fn arena_start() -> usize {
    ARENA.0.get() as usize
}

/// Whether `p` was handed out by the early arena.
pub fn in_arena(p: *mut c_void) -> bool {
    let p = p as usize;
    p >= arena_start() && p < arena_start() + ARENA_SIZE
}

/// A block of the early arena (zeroed, never reused), its size stored just
/// before it; null when the arena is spent.
fn early(size: usize, align: usize) -> *mut c_void {
    let align = align.max(HEADER);
    let mut used = USED.load(Ordering::Relaxed);
    loop {
        let start = (arena_start() + used + HEADER).next_multiple_of(align);
        let end = start + size;
        if end > arena_start() + ARENA_SIZE {
            return std::ptr::null_mut();
        }
        match USED.compare_exchange_weak(used, end - arena_start(), Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => {
                // SAFETY: the header lies inside the block just claimed.
                unsafe { *((start - HEADER) as *mut usize) = size };
                return start as *mut c_void;
            }
            Err(now) => used = now,
        }
    }
}

fn early_size(p: *mut c_void) -> usize {
    // SAFETY: arena blocks carry their size in the header.
    unsafe { *((p as usize - HEADER) as *const usize) }
}

#[inline(always)]
fn hooked(id: usize) -> bool {
    frame::hooked(id)
}

/// # Safety
/// The C allocator's contract.
#[cfg_attr(all(feature = "preload", not(target_os = "macos")), export_name = "malloc")]
#[cfg_attr(all(feature = "preload", target_os = "macos"), export_name = "hijack_i_malloc")]
pub unsafe extern "C" fn hijack_malloc(size: size_t) -> *mut c_void {
    let Some(f) = real::malloc.get() else { return early(size, HEADER) };
    if !hooked(id::malloc) {
        return f(size);
    }
    dispatch::dispatch(id::malloc, &[size as u64], &|w| f(w[0] as size_t) as usize as i64) as usize as *mut c_void
}

/// # Safety
/// The C allocator's contract.
#[cfg_attr(all(feature = "preload", not(target_os = "macos")), export_name = "calloc")]
#[cfg_attr(all(feature = "preload", target_os = "macos"), export_name = "hijack_i_calloc")]
pub unsafe extern "C" fn hijack_calloc(nmemb: size_t, size: size_t) -> *mut c_void {
    let Some(f) = real::calloc.get() else {
        return match nmemb.checked_mul(size) {
            Some(total) => early(total, HEADER),
            None => std::ptr::null_mut(),
        };
    };
    if !hooked(id::calloc) {
        return f(nmemb, size);
    }
    dispatch::dispatch(id::calloc, &[nmemb as u64, size as u64], &|w| f(w[0] as size_t, w[1] as size_t) as usize as i64)
        as usize as *mut c_void
}

/// # Safety
/// The C allocator's contract.
#[cfg_attr(all(feature = "preload", not(target_os = "macos")), export_name = "realloc")]
#[cfg_attr(all(feature = "preload", target_os = "macos"), export_name = "hijack_i_realloc")]
pub unsafe extern "C" fn hijack_realloc(ptr: *mut c_void, size: size_t) -> *mut c_void {
    if in_arena(ptr) {
        // Arena memory moves to the real heap (or a new arena block).
        let new = hijack_malloc(size);
        if !new.is_null() {
            std::ptr::copy_nonoverlapping(ptr as *const u8, new as *mut u8, early_size(ptr).min(size));
        }
        return new;
    }
    let Some(f) = real::realloc.get() else {
        return if ptr.is_null() { early(size, HEADER) } else { std::ptr::null_mut() };
    };
    if !hooked(id::realloc) {
        return f(ptr, size);
    }
    dispatch::dispatch(id::realloc, &[word::of(ptr), size as u64], &|w| {
        f(w[0].ptr::<c_void>(), w[1] as size_t) as usize as i64
    }) as usize as *mut c_void
}

/// # Safety
/// The C allocator's contract.
#[cfg_attr(all(feature = "preload", not(target_os = "macos")), export_name = "posix_memalign")]
#[cfg_attr(all(feature = "preload", target_os = "macos"), export_name = "hijack_i_posix_memalign")]
pub unsafe extern "C" fn hijack_posix_memalign(memptr: *mut *mut c_void, alignment: size_t, size: size_t) -> c_int {
    let Some(f) = real::posix_memalign.get() else {
        let p = early(size, alignment);
        if p.is_null() {
            return libc::ENOMEM;
        }
        *memptr = p;
        return 0;
    };
    if !hooked(id::posix_memalign) {
        return f(memptr as *mut c_void, alignment, size);
    }
    dispatch::dispatch(id::posix_memalign, &[word::of(memptr), alignment as u64, size as u64], &|w| {
        f(w[0].ptr::<c_void>(), w[1] as size_t, w[2] as size_t) as i64
    }) as c_int
}

/// # Safety
/// The C allocator's contract.
#[cfg_attr(all(feature = "preload", not(target_os = "macos")), export_name = "aligned_alloc")]
#[cfg_attr(all(feature = "preload", target_os = "macos"), export_name = "hijack_i_aligned_alloc")]
pub unsafe extern "C" fn hijack_aligned_alloc(alignment: size_t, size: size_t) -> *mut c_void {
    let Some(f) = real::aligned_alloc.get() else { return early(size, alignment) };
    if !hooked(id::aligned_alloc) {
        return f(alignment, size);
    }
    dispatch::dispatch(id::aligned_alloc, &[alignment as u64, size as u64], &|w| {
        f(w[0] as size_t, w[1] as size_t) as usize as i64
    }) as usize as *mut c_void
}

/// # Safety
/// The C allocator's contract.
#[cfg_attr(all(feature = "preload", not(target_os = "macos")), export_name = "free")]
#[cfg_attr(all(feature = "preload", target_os = "macos"), export_name = "hijack_i_free")]
pub unsafe extern "C" fn hijack_free(ptr: *mut c_void) {
    // (free(NULL) is a call the program made: hooks see it too)
    unsafe fn release(ptr: *mut c_void) {
        if ptr.is_null() || in_arena(ptr) {
            return;
        }
        if let Some(f) = real::free.get() {
            f(ptr)
        }
    }
    if !hooked(id::free) {
        return release(ptr);
    }
    dispatch::dispatch(id::free, &[word::of(ptr)], &|w| {
        release(w[0].ptr::<c_void>());
        0
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_early_arena_hands_out_aligned_zeroed_blocks_that_remember_their_size() {
        let a = early(10, 16);
        let b = early(100, 64);
        assert!(in_arena(a) && in_arena(b));
        assert_eq!((a as usize % 16, b as usize % 64), (0, 0));
        assert_eq!((early_size(a), early_size(b)), (10, 100));
        assert!(b as usize >= a as usize + 10, "blocks do not overlap");
        assert!(!in_arena(std::ptr::null_mut()));
        assert!(early(ARENA_SIZE * 2, 16).is_null(), "a spent arena says so");
    }
}
