//! The system calls Syscall User Dispatch brings (`--all-syscalls`): src/sud.c's
//! SIGSYS handler calls [`hijack_sud_call`] with the call's number and
//! arguments; its raw row (SYS_NAME) goes through the same dispatch, hooks,
//! filters, faults and traces as a function of the table, and the real call
//! is made from the allowed range. Some calls are the handler's own
//! business: clone3 is answered ENOSYS (glibc then makes clone, which hijack
//! can make as the program would), a clone with a new stack is made with
//! the program's registers, a copied child turns dispatch on again, signal
//! actions go through src/entry/signals.rs; what
//! rt_sigreturn puts back (the mask, the signal stack) is changed in the
//! saved context. A call no hook wants is made by the program itself once
//! the handler has returned ([`PASS`]).

use crate::platform::{guard, sud, sys};
use crate::table::{CALLS, SYSCALLS};
use crate::{dispatch, features::follow, frame};

const NR_RT_SIGRETURN: i64 = libc::SYS_rt_sigreturn as i64;
/// The signal return of a handler without SA_SIGINFO (i686's; none on x86_64).
#[cfg(target_arch = "x86")]
const NR_SIGRETURN: i64 = libc::SYS_sigreturn as i64;
#[cfg(not(target_arch = "x86"))]
const NR_SIGRETURN: i64 = -1;
const NR_SIGALTSTACK: i64 = libc::SYS_sigaltstack as i64;
const NR_PRCTL: i64 = libc::SYS_prctl as i64;
const PR_SET_SYSCALL_USER_DISPATCH: u64 = 59;
const NR_CLONE: i64 = libc::SYS_clone as i64;
const NR_FORK: i64 = libc::SYS_fork as i64;
const NR_VFORK: i64 = libc::SYS_vfork as i64;
const NR_CLONE3: i64 = libc::SYS_clone3 as i64;
const NR_RT_SIGACTION: i64 = libc::SYS_rt_sigaction as i64;
const NR_RT_SIGPROCMASK: i64 = libc::SYS_rt_sigprocmask as i64;
const NR_EXIT: i64 = libc::SYS_exit as i64;
const NR_EXIT_GROUP: i64 = libc::SYS_exit_group as i64;
const CLONE_VM: u64 = 0x100;
const CLONE_VFORK: u64 = 0x4000;
const SIGSYS_BIT: u64 = 1 << (libc::SIGSYS - 1);

/// The kernel's form of a result in the C library's (-1 and errno): -errno.
fn raw_result(r: i64) -> i64 {
    match (r, sys::errno()) {
        (-1, e) if e != 0 => -(e as i64),
        _ => r,
    }
}

/// Whether the handler makes call `nr` itself, as hijack must (a new
/// process or thread, SIGSYS kept hijack's), rather than the program after
/// the handler.
fn made_here(nr: i64, a: &[u64; 6]) -> bool {
    matches!(nr, NR_RT_SIGRETURN | NR_SIGRETURN | NR_CLONE | NR_FORK | NR_VFORK | NR_CLONE3 | NR_RT_SIGACTION | NR_RT_SIGPROCMASK | NR_SIGALTSTACK)
        || nr == NR_PRCTL && a[0] == PR_SET_SYSCALL_USER_DISPATCH
}

/// Whether call `nr` can be caught at a rewritten site (src/sud_rewrite.c),
/// where there is no signal frame: not the calls whose making reads or
/// changes the saved context (the mask, the signal stack, a signal's
/// return, the registers a new process or thread starts with), nor a
/// thread's end (hijack's stack for the thread goes with it).
#[no_mangle]
pub extern "C" fn hijack_sud_fast_ok(nr: i64) -> i32 {
    let framed = matches!(
        nr,
        NR_RT_SIGRETURN | NR_SIGRETURN | NR_RT_SIGPROCMASK | NR_SIGALTSTACK | NR_CLONE | NR_FORK | NR_VFORK | NR_CLONE3 | NR_EXIT | NR_EXIT_GROUP
    );
    i32::from(!framed)
}

/// The call, made for real from the allowed range (those of [`made_here`]
/// as hijack makes them): the raw result (-errno on failure).
unsafe fn made(nr: i64, uc: *mut libc::ucontext_t, a: &[u64; 6]) -> i64 {
    match nr {
        NR_CLONE if a[1] != 0 && a[0] & CLONE_VM != 0 => {
            // (a thread, perhaps made without the C library's knowledge:
            // hijack's locks are taken around forks from now on; not for a
            // vfork-like child, whose parent waits)
            if a[0] & CLONE_VFORK == 0 {
                crate::platform::sys::raw_thread_made();
            }
            sud::clone_as_made((*uc).uc_mcontext.gregs.as_ptr(), a[1])
        }
        NR_CLONE | NR_FORK | NR_VFORK => copied_child(nr, a),
        // (src/sud.c's handler makes it once the hooks have seen it)
        NR_RT_SIGRETURN | NR_SIGRETURN => 0,
        // (glibc then makes clone, which hijack can make as the program would)
        NR_CLONE3 => -(libc::ENOSYS as i64),
        NR_RT_SIGACTION => super::signals::rt_sigaction(a),
        NR_RT_SIGPROCMASK => sigprocmask(a, uc),
        NR_SIGALTSTACK => sigaltstack(a, uc),
        NR_PRCTL if a[0] == PR_SET_SYSCALL_USER_DISPATCH => own_dispatch_refused(),
        _ => sud::syscall(nr, a),
    }
}

/// [`made`] with the arguments a hook chain gives; the result as a C
/// function gives it (-1 and errno).
unsafe fn real(nr: i64, uc: *mut libc::ucontext_t, w: &[u64]) -> i64 {
    let mut a = [0u64; 6];
    a[..w.len().min(6)].copy_from_slice(&w[..w.len().min(6)]);
    let r = if made_here(nr, &a) {
        made(nr, uc, &a)
    } else {
        // (a signal handler of the program's that runs while the call
        // waits, a shell's SIGCHLD handler during its wait4, is the
        // program's code: its calls go to the hooks, as those made inside
        // the functions --all-syscalls looks into do)
        // (the dispatch makes it outside hijack's code already when no
        // hook's filter wants the call)
        let inside = guard::active();
        if inside {
            guard::suspend();
            // (the selector saved when the handler entered hijack's code
            // was the handler's ALLOW: the program's is BLOCK)
            sud::enter_program();
        }
        let r = sud::syscall(nr, &a);
        if inside {
            guard::resume();
        }
        r
    };
    if (-4095..0).contains(&r) {
        sys::set_errno(-r as i32);
        -1
    } else {
        r
    }
}

/// A call that copies the process (fork, vfork made as fork, clone without
/// CLONE_VM): hijack's fork work around it, dispatch on again in the child.
unsafe fn copied_child(nr: i64, a: &[u64; 6]) -> i64 {
    super::forks::prepare_copy();
    let r = match nr {
        // (the parent's stack is the child's: a vfork child would return
        // through this handler's frame under the parent's feet)
        NR_VFORK => sud::syscall(NR_FORK, a),
        _ => sud::syscall(nr, a),
    };
    if r == 0 {
        sud::enable_thread();
        super::forks::child_of_copy();
    } else {
        super::forks::parent_of_copy();
    }
    r
}

/// The SIGSYS handler's call: system call `nr` with `args` (the saved
/// registers' values), `uc` the saved context (null for a call from a
/// rewritten site, one [`hijack_sud_fast_ok`] allows). Returns the raw
/// result.
///
/// # Safety
/// Called by src/sud.c's handler and src/sud_rewrite.c's fast path only,
/// with the thread's selector at ALLOW.
#[no_mangle]
pub unsafe extern "C" fn hijack_sud_call(nr: i64, args: *mut i64, uc: *mut libc::ucontext_t) -> i64 {
    let saved_errno = sys::errno();
    let a: [u64; 6] = std::array::from_fn(|i| *args.add(i) as u64);
    let result = call(nr, &a, uc);
    sys::set_errno(saved_errno);
    result
}

/// What [`hijack_sud_call`] returns for a call that goes through untouched:
/// src/sud.c's handler has the program make it itself once the handler has
/// returned, from the allowed range (so that a signal it brings, a
/// program's raise(), finds the program's code running, not hijack's).
/// Not a result any system call gives (results are -4095..-1 or >= 0 as
/// unsigned addresses below the kernel's).
pub const PASS: i64 = i64::MIN;

/// A call no hook takes: made by the program after the handler (PASS), or
/// here, inside hijack's own code (which dispatch does not leave).
fn pass(nr: i64, a: &[u64; 6]) -> i64 {
    if guard::active() {
        // SAFETY: the program's own arguments.
        unsafe { sud::syscall(nr, a) }
    } else {
        PASS
    }
}

unsafe fn call(nr: i64, a: &[u64; 6], uc: *mut libc::ucontext_t) -> i64 {
    if nr == NR_EXIT_GROUP && !guard::active() {
        // (no exit handler of the C library's may have run: hijack's exit
        // work, once per process)
        super::exit::at_exit();
    }
    // (hijack's own code, or a call no hook wants: straight through)
    let Some(id) = wanted_row(nr) else {
        return if made_here(nr, a) { made(nr, uc, a) } else { pass(nr, a) };
    };
    let args = SYSCALLS[CALLS[id].sys.unwrap()].args;
    let mut words = *a;
    for (w, arg) in words.iter_mut().zip(args) {
        *w = arg.from_register(*w);
    }
    let proceed = |w: &crate::frame::Words| real(nr, uc, w);
    raw_result(dispatch::dispatch(id, &words[..args.len()], crate::frame::RealFn::new(&proceed)))
}

/// The raw row of call `nr` when the hooks (or following) want it now:
/// not hijack's own code. (A memory call made inside the program's
/// allocator is wanted too: hijack's code allocates from its own heap,
/// src/entry/memory.rs.) Integer work only (see [`hijack_sud_wanted`]).
fn wanted_row(nr: i64) -> Option<usize> {
    let id = crate::table::raw_row(nr)?;
    let info = &CALLS[id];
    let following = info.follow.any() && follow::active();
    (!guard::active() && (frame::hooked(id) || following)).then_some(id)
}

/// Whether the call `nr` with `args` needs hijack at all (the hooks, or
/// hijack making it, or the exit work), asked by src/sud_rewrite.c's fast
/// path before it saves the vector state: 0 for one the program just makes.
/// Runs with the program's vector registers live: integer work only.
///
/// # Safety
/// `args`: the call's six arguments.
#[no_mangle]
pub unsafe extern "C" fn hijack_sud_wanted(nr: i64, args: *const i64) -> i32 {
    let a: [u64; 6] = std::array::from_fn(|i| *args.add(i) as u64);
    i32::from(nr == NR_EXIT_GROUP || made_here(nr, &a) || wanted_row(nr).is_some())
}

/// The program's own Syscall User Dispatch: a thread has one, which
/// hijack's is; refused as a kernel without it would (EINVAL), said once.
fn own_dispatch_refused() -> i64 {
    static SAID: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if !SAID.swap(true, std::sync::atomic::Ordering::Relaxed) {
        crate::platform::log::line("hijack: --all-syscalls: the program's own Syscall User Dispatch (prctl PR_SET_SYSCALL_USER_DISPATCH) is refused with EINVAL: hijack's is the thread's one");
    }
    -(libc::EINVAL as i64)
}

/// sigaltstack, as the program's code would have it: on the signal stack
/// or not by the program's stack pointer (the handler runs on hijack's
/// own), and kept past the handler's return (rt_sigreturn puts back the
/// signal stack saved with the frame: the saved one is made the new one).
unsafe fn sigaltstack(a: &[u64; 6], uc: *mut libc::ucontext_t) -> i64 {
    let (new, old) = (a[0] as *const libc::stack_t, a[1] as *mut libc::stack_t);
    let query = |out: &mut libc::stack_t| sud::syscall(NR_SIGALTSTACK, &[0, out as *mut libc::stack_t as u64, 0, 0, 0, 0]);
    let mut now: libc::stack_t = std::mem::zeroed();
    let r = query(&mut now);
    if r != 0 {
        return r;
    }
    let sp = stack_pointer(uc);
    let base = now.ss_sp as usize;
    let on = now.ss_flags & libc::SS_DISABLE == 0 && sp > base && sp <= base + now.ss_size;
    // (read before the old one is written: they may be the same memory)
    let wanted = (!new.is_null()).then(|| *new);
    if !old.is_null() {
        *old = now;
        (*old).ss_flags = if on { libc::SS_ONSTACK } else { now.ss_flags & !libc::SS_ONSTACK };
    }
    if let Some(mut wanted) = wanted {
        if on {
            return -(libc::EPERM as i64);
        }
        let r = sud::syscall(NR_SIGALTSTACK, &[&mut wanted as *mut libc::stack_t as u64, 0, 0, 0, 0, 0]);
        if r != 0 {
            return r;
        }
        let mut set: libc::stack_t = std::mem::zeroed();
        query(&mut set);
        set.ss_flags &= !libc::SS_ONSTACK;
        (*uc).uc_stack = set;
    }
    0
}

/// The program's stack pointer in the saved context.
unsafe fn stack_pointer(uc: *const libc::ucontext_t) -> usize {
    #[cfg(target_arch = "x86_64")]
    let sp = (*uc).uc_mcontext.gregs[libc::REG_RSP as usize];
    #[cfg(target_arch = "x86")]
    let sp = (*uc).uc_mcontext.gregs[libc::REG_ESP as usize];
    sp as usize
}

/// rt_sigprocmask, made on the mask the handler's return puts back (the
/// saved context's: a real call would be undone by rt_sigreturn); SIGSYS
/// stays unblocked (a blocked SIGSYS that dispatch forces kills the thread).
unsafe fn sigprocmask(a: &[u64; 6], uc: *mut libc::ucontext_t) -> i64 {
    let (how, set, old) = (a[0] as i32, a[1] as *const u64, a[2] as *mut u64);
    let mask = std::ptr::addr_of_mut!((*uc).uc_sigmask) as *mut u64;
    let now = *mask;
    if !set.is_null() {
        let new = match how {
            libc::SIG_BLOCK => now | *set,
            libc::SIG_UNBLOCK => now & !*set,
            libc::SIG_SETMASK => *set,
            _ => return -(libc::EINVAL as i64),
        };
        let unblockable = SIGSYS_BIT | 1 << (libc::SIGKILL - 1) | 1 << (libc::SIGSTOP - 1);
        *mask = new & !unblockable;
    }
    if !old.is_null() {
        *old = now;
    }
    0
}
