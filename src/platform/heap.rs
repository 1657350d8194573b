//! hijack's own heap (the preload library on Linux): what hijack's Rust code
//! and its mruby VMs allocate comes from memory mapped for hijack, never
//! from the program's allocator. So hook code can run where the program's
//! allocator holds its lock (a system call malloc makes inside, caught by
//! --all-syscalls; a signal handler of the program's that interrupts
//! malloc), and hijack's blocks never change the program's heap.
//!
//! dlmalloc (the crate) over segments mapped with the real mmap, behind one
//! lock that a fork holds (src/entry/forks.rs). The segments are recorded,
//! so that [`contains`] can tell hijack's blocks from the program's: the
//! C library's own allocations, made while hijack's code runs inside the
//! program's allocator (src/entry/memory.rs), come from here too and may
//! reach `free` later from anywhere.

use super::lock::SpinLock;
use super::real;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// The segments' places, for [`contains`]: (start, end), 0 when free.
const SLOTS: usize = 256;
static SEGMENTS: [(AtomicUsize, AtomicUsize); SLOTS] = [const { (AtomicUsize::new(0), AtomicUsize::new(0)) }; SLOTS];
/// Set once a block went to the C library (see [`lent`]): until then no
/// `free` of the program's needs to look at the segments.
static LENT: AtomicBool = AtomicBool::new(false);

struct Segments;

const PAGE: usize = 4096;

fn record(start: usize, size: usize) -> bool {
    for (s, e) in &SEGMENTS {
        if s.compare_exchange(0, start, Ordering::AcqRel, Ordering::Relaxed).is_ok() {
            e.store(start + size, Ordering::Release);
            return true;
        }
    }
    false
}

fn shrink(start: usize, size: usize) {
    for (s, e) in &SEGMENTS {
        if s.load(Ordering::Acquire) == start {
            e.store(start + size, Ordering::Release);
            return;
        }
    }
}

fn forget(start: usize) {
    for (s, e) in &SEGMENTS {
        if s.load(Ordering::Acquire) == start {
            e.store(0, Ordering::Release);
            s.store(0, Ordering::Release);
            return;
        }
    }
}

// SAFETY: the segments are fresh anonymous mappings of the size given.
unsafe impl dlmalloc::Allocator for Segments {
    fn alloc(&self, size: usize) -> (*mut u8, usize, u32) {
        let none = (std::ptr::null_mut(), 0, 0);
        // (looked up before the lock was taken: see `lock`)
        let Some(mmap) = real::mmap.cached() else { return none };
        // SAFETY: an anonymous private mapping.
        let p = unsafe {
            mmap(std::ptr::null_mut(), size, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_PRIVATE | libc::MAP_ANONYMOUS, -1, 0)
        };
        if p == libc::MAP_FAILED {
            return none;
        }
        // (one the table has no room for is hijack's own only: see `lend`)
        record(p as usize, size);
        (p as *mut u8, size, 0)
    }
    fn remap(&self, _ptr: *mut u8, _old: usize, _new: usize, _can_move: bool) -> *mut u8 {
        std::ptr::null_mut()
    }
    fn free_part(&self, ptr: *mut u8, old: usize, new: usize) -> bool {
        let Some(munmap) = real::munmap.cached() else { return false };
        // SAFETY: the segment's tail, which dlmalloc no longer uses.
        if unsafe { munmap(ptr.add(new) as *mut libc::c_void, old - new) } != 0 {
            return false;
        }
        shrink(ptr as usize, new);
        true
    }
    fn free(&self, ptr: *mut u8, size: usize) -> bool {
        let Some(munmap) = real::munmap.cached() else { return false };
        forget(ptr as usize);
        // SAFETY: a segment of ours, which dlmalloc no longer uses.
        unsafe { munmap(ptr as *mut libc::c_void, size) == 0 }
    }
    fn can_release_part(&self, _flags: u32) -> bool {
        true
    }
    fn allocates_zeros(&self) -> bool {
        true
    }
    fn page_size(&self) -> usize {
        PAGE
    }
}

type Heap = dlmalloc::Dlmalloc<Segments>;

/// Segments grow, and their free tails go back ([`trim`]), by 64 KiB.
const GRANULARITY: usize = 64 << 10;

static HEAP: SpinLock<Heap> = SpinLock::new({
    let mut h = dlmalloc::Dlmalloc::new_with_allocator(Segments);
    let _ = h.set_granularity(GRANULARITY);
    h
});

/// The heap, locked; the real mmap and munmap looked up first (the lookup
/// allocates).
fn lock() -> super::lock::SpinGuard<'static, Heap> {
    if real::mmap.cached().is_none() || real::munmap.cached().is_none() {
        let _ = (real::mmap.get(), real::munmap.get());
    }
    HEAP.lock()
}

/// `size` bytes aligned to `align` (a power of two); null when out of memory.
pub fn alloc(size: usize, align: usize) -> *mut u8 {
    // SAFETY: the heap is locked.
    unsafe { lock().c_memalign(align, size) }
}

/// `size` zeroed bytes aligned to `align`.
pub fn alloc_zeroed(size: usize, align: usize) -> *mut u8 {
    // SAFETY: the heap is locked.
    unsafe { lock().calloc(size, align) }
}

/// Frees a block of this heap (null: nothing).
///
/// # Safety
/// `p`: null or a live block of this heap.
pub unsafe fn free(p: *mut u8) {
    if !p.is_null() {
        lock().c_free(p)
    }
}

/// Resizes a block of this heap (null: a new one); keeps the alignment
/// it was made with.
///
/// # Safety
/// `p`: null or a live block of this heap of `old` bytes, made with `align`.
pub unsafe fn realloc(p: *mut u8, old: usize, align: usize, new: usize) -> *mut u8 {
    if p.is_null() {
        return alloc(new, align);
    }
    lock().realloc(p, old, align, new)
}

/// Resizes a block of this heap as C's realloc does (natural alignment).
///
/// # Safety
/// `p`: null or a live block of this heap.
pub unsafe fn c_realloc(p: *mut u8, new: usize) -> *mut u8 {
    lock().c_realloc(p, new)
}

/// Gives the free memory at the top of the heap back (after a burst of
/// short-lived allocations: the compiler's, loading the scripts).
pub fn trim() {
    // SAFETY: the heap is locked.
    unsafe { lock().trim(0) };
}

/// A block made for the C library (see the module's doc), `size` bytes
/// aligned to `align`, zeroed if asked: from then on `free` and `realloc`
/// of the program's ask whether a block is one of these. Null when out of
/// memory, or when its segment is not in the table (it could not be known
/// again).
pub fn lend(size: usize, align: usize, zeroed: bool) -> *mut u8 {
    let p = if zeroed { alloc_zeroed(size, align) } else { alloc(size, align) };
    if p.is_null() || !contains(p as usize) {
        // SAFETY: null or the block just made.
        unsafe { free(p) };
        return std::ptr::null_mut();
    }
    if !LENT.load(Ordering::Relaxed) {
        LENT.store(true, Ordering::Relaxed);
    }
    p
}

/// Whether `p` may be a block the C library got from this heap (false
/// until one was lent: then a look at the segments).
#[inline(always)]
pub fn lent_block(p: *mut libc::c_void) -> bool {
    LENT.load(Ordering::Relaxed) && contains(p as usize)
}

#[cold]
fn contains(p: usize) -> bool {
    SEGMENTS.iter().any(|(s, e)| {
        let start = s.load(Ordering::Acquire);
        start != 0 && p >= start && p < e.load(Ordering::Acquire)
    })
}

/// Around fork: no child inherits the heap locked by a thread it lacks.
pub fn fork_lock() {
    HEAP.raw_lock();
}

/// # Safety
/// After [`fork_lock`], on the same thread (or in its fork child).
pub unsafe fn fork_unlock() {
    HEAP.raw_unlock();
}

/// Rust's allocator in the preload library: this heap.
pub struct Own;

// SAFETY: blocks of the layout asked for, from a locked heap.
unsafe impl std::alloc::GlobalAlloc for Own {
    unsafe fn alloc(&self, l: std::alloc::Layout) -> *mut u8 {
        alloc(l.size(), l.align())
    }
    unsafe fn alloc_zeroed(&self, l: std::alloc::Layout) -> *mut u8 {
        alloc_zeroed(l.size(), l.align())
    }
    unsafe fn dealloc(&self, p: *mut u8, _l: std::alloc::Layout) {
        free(p)
    }
    unsafe fn realloc(&self, p: *mut u8, l: std::alloc::Layout, new: usize) -> *mut u8 {
        realloc(p, l.size(), l.align(), new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_aligned_kept_apart_and_known() {
        let a = alloc(24, 16);
        let b = alloc(100, 256);
        assert!(!a.is_null() && !b.is_null());
        assert_eq!((a as usize % 16, b as usize % 256), (0, 0));
        unsafe {
            std::ptr::write_bytes(a, 1, 24);
            std::ptr::write_bytes(b, 2, 100);
            assert_eq!((*a.add(23), *b), (1, 2));
        }
        assert!(contains(a as usize) && contains(b as usize));
        let mine = Box::new(5u64);
        assert!(!contains(&*mine as *const u64 as usize), "the test's own heap is not hijack's");
        let c = unsafe { c_realloc(a, 5000) };
        assert_eq!(unsafe { *c.add(23) }, 1, "realloc keeps the bytes");
        let z = alloc_zeroed(4096, 16);
        assert!(unsafe { std::slice::from_raw_parts(z, 4096) }.iter().all(|&x| x == 0));
        unsafe { (free(b), free(c), free(z)) };
    }

    #[test]
    fn a_large_block_is_known_end_to_end_and_lent_blocks_too() {
        let big = alloc(8 << 20, 16);
        assert!(contains(big as usize) && contains(big as usize + (8 << 20) - 1));
        unsafe { free(big) };
        let lent = lend(100, 16, true);
        assert!(!lent.is_null() && lent_block(lent as *mut libc::c_void));
        assert!(unsafe { std::slice::from_raw_parts(lent, 100) }.iter().all(|&x| x == 0));
        unsafe { free(lent) };
    }
}
