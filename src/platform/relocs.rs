//! The preload library's deferred relocations: the pointers in mruby's data
//! (its precompiled Ruby, symbol names, parser tables), which only a process
//! that opens a Ruby VM reads. The build (tasks/lazy_relocations.rb) takes
//! them out of what the loader relocates in every process and writes them
//! here, packed as the loader's own are (DT_RELR); `apply` relocates them,
//! once per process, before its first VM opens. A process that never opens
//! one never writes those pages: the loader's copy of some thirty pages per
//! process is gone.
//!
//! The table: [packed words, RELRO start, RELRO end, packed words...],
//! addresses relative to the library's load address. Zeros (nothing
//! deferred) in the runner, in mrbtest and wherever the build did not fill
//! it in.

use std::sync::atomic::{AtomicBool, Ordering};

use super::lock::SpinLock;

const WORDS: usize = 2048;

/// Filled in by the build after the link (found by its symbol name).
#[no_mangle]
#[used]
#[link_section = ".rodata.hijack_lazy_relr"]
static HIJACK_LAZY_RELR: [usize; WORDS] = [0; WORDS];

extern "C" {
    /// The library's first byte: its load address (the linker's symbol).
    static __ehdr_start: u8;
}

static DONE: AtomicBool = AtomicBool::new(false);
static LOCK: SpinLock<()> = SpinLock::new(());

/// Relocates the deferred pointers unless this process (or the one it was
/// forked from) did already. False when it could not (the pages would not
/// become writable): no VM can open then.
pub fn apply() -> bool {
    if DONE.load(Ordering::Acquire) {
        return true;
    }
    let _held = LOCK.lock();
    if DONE.load(Ordering::Relaxed) {
        return true;
    }
    // SAFETY: the table is the build's, for this very library; its pages
    // are read only by mruby, which has not run in this process yet.
    let done = unsafe { relocate() };
    DONE.store(done, Ordering::Release);
    done
}

fn word(i: usize) -> usize {
    // SAFETY: in bounds; volatile: the build changes the table after the
    // compiler saw it all zeros.
    unsafe { std::ptr::read_volatile(HIJACK_LAZY_RELR.as_ptr().add(i)) }
}

unsafe fn relocate() -> bool {
    let count = word(0);
    if count == 0 || count > WORDS - 3 {
        return true;
    }
    let base = std::ptr::addr_of!(__ehdr_start) as usize;
    let page = libc::sysconf(libc::_SC_PAGESIZE) as usize;
    let lo = (base + word(1)) & !(page - 1);
    let hi = (base + word(2) + page - 1) & !(page - 1);
    // The loader made RELRO read-only after relocating: writable meanwhile
    // (the deferred words outside it are in the writable segment).
    if libc::mprotect(lo as *mut libc::c_void, hi - lo, libc::PROT_READ | libc::PROT_WRITE) != 0 {
        return false;
    }
    each(count, |offset| {
        let at = (base + offset) as *mut usize;
        *at = (*at).wrapping_add(base);
    });
    libc::mprotect(lo as *mut libc::c_void, hi - lo, libc::PROT_READ);
    true
}

/// Calls `f` with every address the packed words relocate (DT_RELR: an even
/// word is an address; an odd one a bitmap of the words after the last).
fn each(count: usize, mut f: impl FnMut(usize)) {
    const W: usize = std::mem::size_of::<usize>();
    let bits = W * 8 - 1;
    let mut next = 0;
    for i in 0..count {
        let e = word(3 + i);
        if e & 1 == 0 {
            f(e);
            next = e + W;
        } else {
            let mut b = e >> 1;
            let mut j = 0;
            while b != 0 {
                if b & 1 == 1 {
                    f(next + j * W);
                }
                b >>= 1;
                j += 1;
            }
            next += bits * W;
        }
    }
}

/// Around fork: no child inherits the relocation half done.
pub fn fork_lock() {
    LOCK.raw_lock();
}

/// # Safety
/// After `fork_lock` on this thread.
pub unsafe fn fork_unlock() {
    LOCK.raw_unlock();
}
