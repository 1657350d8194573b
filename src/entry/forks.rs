//! New processes: hijack's work around fork (registered with
//! pthread_atfork once the scripts ran), and around glibc's `clone()`, which
//! runs no atfork handler: a clone that copies the process (no CLONE_VM) gets
//! the same work as a fork, its child before the function it was given runs.
//! A clone sharing the memory (a thread, posix_spawn's vfork-like child)
//! shares hijack's state too, and passes through unchanged. A copied child
//! ends when its function returns, which glibc follows by the exit system
//! call: hijack's exit work (Hijack.at_exit, --summary) runs first.

use crate::features::{blackhole, filter, listing, shared, summary, trace};
use crate::platform::lock::ForkLocking;
use crate::platform::{fds, sud, sys};

/// No lock of hijack's may be inherited held by a thread the child does not
/// have: prepare takes them where another thread exists.
static LOCKING: ForkLocking = ForkLocking::new();

extern "C" fn prepare() {
    // (from here to the fork's end hijack holds its locks: a signal handler
    // of the program's that runs meanwhile is not let into the hooks, as
    // it is elsewhere in a real call: src/entry/signals.rs)
    crate::platform::guard::at_real(false);
    if !LOCKING.decide() {
        sud::before_fork();
        return;
    }
    // (first: the thread loading the scripts takes the others)
    crate::ruby::vm::fork_lock();
    #[cfg(target_os = "linux")]
    crate::platform::relocs::fork_lock();
    filter::lock_for_fork().raw_lock();
    blackhole::fork_lock();
    shared::fork_lock();
    listing::fork_lock();
    sud::before_fork();
    // (last: a thread holding one of the locks above may be allocating)
    crate::platform::heap::fork_lock();
}

extern "C" fn parent() {
    if !LOCKING.taken() {
        sud::after_fork();
        return;
    }
    // SAFETY: taken by prepare on this thread.
    unsafe {
        crate::platform::heap::fork_unlock()
    };
    sud::after_fork();
    // SAFETY: taken by prepare on this thread.
    unsafe {
        listing::fork_unlock();
        shared::fork_unlock();
        blackhole::fork_unlock();
        filter::lock_for_fork().raw_unlock();
        #[cfg(target_os = "linux")]
        crate::platform::relocs::fork_unlock();
        crate::ruby::vm::fork_unlock();
    }
}

extern "C" fn child() {
    // (one thread forking alone was making nothing meanwhile)
    let others = LOCKING.taken();
    parent();
    if others {
        blackhole::forked();
    }
    // (the kernel turned system-call dispatch off in the child)
    sud::enable_thread();
    trace::forked();
    summary::forked();
}

/// Around a system call that copies the process without the C library's
/// fork (a raw fork or clone caught by --all-syscalls): fork's work.
pub fn prepare_copy() {
    fds::fork_prepare();
    prepare();
}

pub fn parent_of_copy() {
    parent();
    fds::fork_parent();
}

pub fn child_of_copy() {
    fds::fork_child();
    child();
}

/// Registers the work around fork (once, from the constructor).
pub fn register() {
    // SAFETY: registering plain functions.
    unsafe { libc::pthread_atfork(Some(prepare), Some(parent), Some(child)) };
}

const CLONE_VM: libc::c_int = 0x100;
const CLONE_VFORK: libc::c_int = 0x4000;

type CloneFn = unsafe extern "C" fn(*mut libc::c_void) -> libc::c_int;

/// The function and argument a copying clone was given, for its child.
struct Start {
    func: CloneFn,
    arg: *mut libc::c_void,
}

/// The child's first code: hijack's fork work, then the program's function.
unsafe extern "C" fn start(start: *mut libc::c_void) -> libc::c_int {
    // (the child's copy of the parent's frame, which holds it)
    let Start { func, arg } = std::ptr::read(start as *const Start);
    // (made from the dispatch: the parent's thread was inside hijack's code)
    crate::platform::guard::suspend();
    // (and the clone may have been made with the selector at ALLOW, the
    // C library's call being hijack's business: the function is the
    // program's code)
    crate::platform::sud::enter_program();
    child_of_copy();
    let status = func(arg);
    // (the child ends when its function returns: glibc makes the exit
    // system call, which no exit handler sees)
    crate::entry::exit::at_exit();
    status
}

#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub unsafe fn clone(
    real: unsafe extern "C" fn(*mut libc::c_void, *mut libc::c_void, libc::c_int, *mut libc::c_void, ...) -> libc::c_int,
    func: *mut libc::c_void,
    stack: *mut libc::c_void,
    flags: libc::c_int,
    arg: *mut libc::c_void,
    parent_tid: libc::c_long,
    tls: libc::c_long,
    child_tid: libc::c_long,
) -> libc::c_int {
    if flags & CLONE_VM != 0 || func.is_null() {
        // (a thread the C library does not count; a vfork-like child
        // shares the memory while its parent waits: not one)
        if flags & CLONE_VM != 0 && flags & CLONE_VFORK == 0 {
            sys::raw_thread_made();
        }
        return real(func, stack, flags, arg, parent_tid, tls, child_tid);
    }
    // SAFETY: a function pointer the program passed.
    let func: CloneFn = std::mem::transmute(func);
    let mut data = Start { func, arg };
    prepare_copy();
    let r = real(start as *mut libc::c_void, stack, flags, &mut data as *mut Start as *mut libc::c_void, parent_tid, tls, child_tid);
    let err = crate::platform::sys::errno();
    parent_of_copy();
    crate::platform::sys::set_errno(err);
    r
}
