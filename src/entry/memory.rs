//! The memory family (malloc, calloc, realloc, posix_memalign,
//! aligned_alloc, free), written by hand: the allocator is called before
//! anything else, by dlsym itself among others, so until the real functions
//! are known, allocations come from a small static arena (and freeing arena
//! memory is a no-op). Allocations made by hijack's own code go straight to
//! the real allocator (the re-entrancy guard), and with no hook the cost is
//! one branch, as for every call.
//!
//! Under --all-syscalls the system calls the allocator makes inside (brk,
//! mmap, munmap) are the program's and reach the hooks, which then run
//! where the allocator may hold its lock: hijack's Rust and mruby memory is
//! its own heap's (src/platform/heap.rs), and what the C library allocates
//! for hijack's code meanwhile is lent from that heap too (`nested`), known
//! again when it is freed or resized.

#![cfg_attr(not(feature = "preload"), allow(dead_code, unused_imports))]

use crate::frame::word::{self, Word};
use crate::table::id;
use crate::platform::{guard, heap};
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

/// Whether this allocation is the C library's, for hijack's code running
/// inside the program's allocator (--all-syscalls): it comes from hijack's
/// heap.
#[inline(always)]
fn nested() -> bool {
    crate::platform::sud::on() && guard::inside_allocator()
}

/// The program's allocator, called (--all-syscalls: the thread marked as
/// inside it meanwhile).
#[inline(always)]
fn in_allocator<R>(f: impl FnOnce() -> R) -> R {
    if !crate::platform::sud::on() {
        return f();
    }
    let old = guard::set_in_allocator(true);
    let r = f();
    guard::set_in_allocator(old);
    r
}

/// A block lent by hijack's heap (see [`nested`]); ENOMEM when none.
fn lent(size: usize, align: usize, zeroed: bool) -> *mut c_void {
    let p = heap::lend(size, align.max(HEADER), zeroed) as *mut c_void;
    if p.is_null() {
        crate::platform::sys::set_errno(libc::ENOMEM);
    }
    p
}

/// realloc of a block the C library got from the program's allocator,
/// inside that allocator: a lent block with its bytes; the old one is kept
/// (freeing it would want the lock the allocator may hold).
unsafe fn moved_out(ptr: *mut c_void, size: usize) -> *mut c_void {
    let new = lent(size, HEADER, false);
    if !new.is_null() {
        #[cfg(target_os = "linux")]
        let old = libc::malloc_usable_size(ptr);
        #[cfg(not(target_os = "linux"))]
        let old = size;
        std::ptr::copy_nonoverlapping(ptr as *const u8, new as *mut u8, old.min(size));
    }
    new
}

/// Runs the real function only while hijack's own code runs or nothing
/// is hooked; a freed arena block (or NULL) goes nowhere. (free(NULL) is a
/// call the program made: hooks see it too.)
unsafe fn release(ptr: *mut c_void) {
    if ptr.is_null() || in_arena(ptr) {
        return;
    }
    if heap::lent_block(ptr) {
        return heap::free(ptr as *mut u8);
    }
    if let Some(f) = real::free.get() {
        in_allocator(|| f(ptr))
    }
}

#[cfg(feature = "preload")]
entry!(early malloc, real: unsafe extern "C" fn(size_t) -> *mut c_void, (size: size_t) -> *mut c_void,
    first: {
        if nested() {
            return lent(size, HEADER, false);
        }
    },
    early: early(size, HEADER),
    skip: !frame::hooked(id::malloc),
    direct: in_allocator(|| real(size)),
    words: [size as u64],
    proceed: |w| in_allocator(|| real(w[0] as size_t)) as usize as i64,
    result: |r| r as usize as *mut c_void);

#[cfg(feature = "preload")]
entry!(early calloc, real: unsafe extern "C" fn(size_t, size_t) -> *mut c_void, (nmemb: size_t, size: size_t) -> *mut c_void,
    first: {
        if nested() {
            let Some(total) = nmemb.checked_mul(size) else {
                crate::platform::sys::set_errno(libc::ENOMEM);
                return std::ptr::null_mut();
            };
            return lent(total, HEADER, true);
        }
    },
    early: match nmemb.checked_mul(size) {
        Some(total) => early(total, HEADER),
        None => std::ptr::null_mut(),
    },
    skip: !frame::hooked(id::calloc),
    direct: in_allocator(|| real(nmemb, size)),
    words: [nmemb as u64, size as u64],
    proceed: |w| in_allocator(|| real(w[0] as size_t, w[1] as size_t)) as usize as i64,
    result: |r| r as usize as *mut c_void);

#[cfg(feature = "preload")]
entry!(early realloc, real: unsafe extern "C" fn(*mut c_void, size_t) -> *mut c_void, (ptr: *mut c_void, size: size_t) -> *mut c_void,
    first: {
        if in_arena(ptr) {
            // Arena memory moves to the real heap (or a new arena block).
            let new = super::malloc::entry(size);
            if !new.is_null() {
                std::ptr::copy_nonoverlapping(ptr as *const u8, new as *mut u8, early_size(ptr).min(size));
            }
            return new;
        }
        if heap::lent_block(ptr) {
            return heap::c_realloc(ptr as *mut u8, size) as *mut c_void;
        }
        if nested() {
            return if ptr.is_null() { lent(size, HEADER, false) } else { moved_out(ptr, size) };
        }
    },
    early: if ptr.is_null() { early(size, HEADER) } else { std::ptr::null_mut() },
    skip: !frame::hooked(id::realloc),
    direct: in_allocator(|| real(ptr, size)),
    words: [word::of(ptr), size as u64],
    proceed: |w| in_allocator(|| real(w[0].ptr::<c_void>(), w[1] as size_t)) as usize as i64,
    result: |r| r as usize as *mut c_void);

#[cfg(feature = "preload")]
entry!(early posix_memalign, real: unsafe extern "C" fn(*mut c_void, size_t, size_t) -> c_int,
    (memptr: *mut *mut c_void, alignment: size_t, size: size_t) -> c_int,
    first: {
        if nested() {
            if !alignment.is_power_of_two() || alignment % std::mem::size_of::<usize>() != 0 {
                return libc::EINVAL;
            }
            let p = lent(size, alignment, false);
            if p.is_null() {
                return libc::ENOMEM;
            }
            *memptr = p;
            return 0;
        }
    },
    early: {
        let p = early(size, alignment);
        if p.is_null() {
            return libc::ENOMEM;
        }
        *memptr = p;
        0
    },
    skip: !frame::hooked(id::posix_memalign),
    direct: in_allocator(|| real(memptr as *mut c_void, alignment, size)),
    words: [word::of(memptr), alignment as u64, size as u64],
    proceed: |w| in_allocator(|| real(w[0].ptr::<c_void>(), w[1] as size_t, w[2] as size_t)) as i64,
    result: |r| r as c_int);

#[cfg(feature = "preload")]
entry!(early aligned_alloc, real: unsafe extern "C" fn(size_t, size_t) -> *mut c_void, (alignment: size_t, size: size_t) -> *mut c_void,
    first: {
        if nested() {
            if !alignment.is_power_of_two() {
                crate::platform::sys::set_errno(libc::EINVAL);
                return std::ptr::null_mut();
            }
            return lent(size, alignment, false);
        }
    },
    early: early(size, alignment),
    skip: !frame::hooked(id::aligned_alloc),
    direct: in_allocator(|| real(alignment, size)),
    words: [alignment as u64, size as u64],
    proceed: |w| in_allocator(|| real(w[0] as size_t, w[1] as size_t)) as usize as i64,
    result: |r| r as usize as *mut c_void);

#[cfg(feature = "preload")]
entry!(early free, real: unsafe extern "C" fn(*mut c_void), (ptr: *mut c_void) -> (),
    first: {},
    early: release(ptr),
    skip: !frame::hooked(id::free),
    direct: { let _ = real; release(ptr) },
    words: [word::of(ptr)],
    proceed: |w| {
        release(w[0].ptr::<c_void>());
        0
    },
    result: |r| { let _ = r; });

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
