//! The program's signal handlers under `--all-syscalls`. Its rt_sigaction
//! calls reach src/entry/raw.rs: SIGSYS stays hijack's (the program's
//! action is kept, and honoured by the SIGSYS handler for the SIGSYS its own
//! seccomp filter raises), no handler's mask blocks SIGSYS, and a handler is
//! installed behind src/sud_common.h's `hijack_sud_on_signal`, which runs it as the
//! program's code wherever the signal lands: in the real call of a hooked
//! function (a shell's SIGCHLD handler during its wait4) or of a function
//! nothing hooks (made with the selector at ALLOW), its system calls are
//! caught as the program's, its rt_sigreturn too, which puts back the state
//! hijack had there. Landing in hijack's own code (a hook running), it runs
//! as before: its calls made, unhooked. The program reads its own handlers
//! back. (i686: a handler without SA_SIGINFO keeps its sigframe, known by
//! its sigcontext; the C library returns from it by the vDSO's sigreturn,
//! which the kernel never dispatches: the wrapper puts the state back.)

use crate::platform::guard::{self, SignalFrame};
use crate::platform::sud;

const NSIG: usize = 65;
const SIGSYS_BIT: u64 = 1 << (libc::SIGSYS - 1);
const NR_RT_SIGACTION: i64 = libc::SYS_rt_sigaction as i64;

/// A signal's action as rt_sigaction has it.
#[repr(C)]
#[derive(Clone, Copy)]
struct Action {
    handler: usize,
    flags: usize,
    restorer: usize,
    mask: u64,
}

const NO_ACTION: Action = Action { handler: 0, flags: 0, restorer: 0, mask: 0 };

extern "C" {
    fn hijack_sud_on_signal(sig: i32, si: *mut libc::siginfo_t, uc: *mut libc::c_void);
}

/// hijack_sud_on_signal's address, as an action holds it.
fn wrapper() -> usize {
    hijack_sud_on_signal as *const () as usize
}

/// The action that runs the program's `action` behind the wrapper (on
/// x86_64 every frame is an rt frame: the wrapper takes its context; on
/// i686 the frame stays the one the program's flags ask for).
fn wrapped(mut action: Action) -> Action {
    action.handler = wrapper();
    #[cfg(target_arch = "x86_64")]
    {
        action.flags |= libc::SA_SIGINFO as usize;
    }
    action
}

/// The program's actions: SIGSYS's kept instead of set, the others' behind
/// hijack_sud_on_signal.
static mut ACTIONS: [Action; NSIG] = [NO_ACTION; NSIG];

fn actions() -> *mut [Action; NSIG] {
    std::ptr::addr_of_mut!(ACTIONS)
}

/// The program's own action for `sig` (handler and flags first, as words),
/// for the SIGSYS handler (SIGSYS's for its seccomp's, the others' for
/// hijack_sud_on_signal).
#[no_mangle]
pub extern "C" fn hijack_sud_program_action(sig: i32) -> *const usize {
    let i = (sig as usize).min(NSIG - 1);
    // SAFETY: a row of the table, read by the signal's handler.
    unsafe { std::ptr::addr_of!((*actions())[i]) as *const usize }
}

/// rt_sigaction(`a`) made by the program: the raw result.
///
/// # Safety
/// The program's arguments: `a[1]` and `a[2]` null or 4-word actions.
pub unsafe fn rt_sigaction(a: &[u64; 6]) -> i64 {
    let sig = a[0] as usize;
    let (new, old) = (a[1] as usize as *const Action, a[2] as usize as *mut Action);
    if sig == libc::SIGSYS as usize {
        let kept = &mut (*actions())[sig];
        let wanted = (!new.is_null()).then(|| *new);
        if !old.is_null() {
            *old = *kept;
        }
        if let Some(w) = wanted {
            *kept = w;
        }
        return 0;
    }
    if sig == 0 || sig >= NSIG {
        return sud::syscall(NR_RT_SIGACTION, a);
    }
    let before = (*actions())[sig];
    let mut action = if new.is_null() { NO_ACTION } else { *new };
    let mut set: *const Action = std::ptr::null();
    if !new.is_null() {
        // (a handler blocking every signal, as Go's do, would otherwise be
        // killed by its first system call, its own rt_sigreturn among them)
        action.mask &= !SIGSYS_BIT;
        if action.handler > libc::SIG_IGN {
            (*actions())[sig] = action;
            action = wrapped(action);
        }
        set = &action;
    }
    let r = sud::syscall(NR_RT_SIGACTION, &[a[0], set as usize as u64, a[2], a[3], a[4], a[5]]);
    if r != 0 {
        (*actions())[sig] = before;
    } else if !old.is_null() && (*old).handler == wrapper() {
        // (the program's own, as it set it)
        *old = Action { mask: (*old).mask, ..before };
    }
    r
}

/// hijack_sud_on_signal, before the program's handler runs on the frame
/// whose context is `uc`: where the signal landed in hijack's
/// code at a real call, or with the selector at ALLOW outside hijack's code
/// (a function nothing hooks, made straight), the handler is made to run as
/// the program's code (the guard suspended, the selector at BLOCK) and the
/// frame remembered for its return.
#[no_mangle]
pub extern "C" fn hijack_sud_signal_enter(uc: *mut libc::c_void) {
    if !sud::on() {
        return;
    }
    if guard::in_real_call() {
        let selector = sud::swap(sud::BLOCK);
        guard::suspend();
        sud::swap(sud::BLOCK);
        guard::push_frame(SignalFrame { context: uc as usize, selector, suspended: true });
    } else if !guard::active() {
        let selector = sud::swap(sud::BLOCK);
        if selector != sud::BLOCK {
            guard::push_frame(SignalFrame { context: uc as usize, selector, suspended: false });
        }
    }
}

/// The program's rt_sigreturn of the frame whose context is `uc` (its
/// handler returned, src/sud.c makes the call; on i686 the wrapper after
/// the handler, the vDSO's sigreturn being one the kernel never
/// dispatches): what hijack_sud_signal_enter changed is put back; the
/// selector to return with (`otherwise` where it changed nothing).
#[no_mangle]
pub extern "C" fn hijack_sud_signal_leave(uc: *mut libc::c_void, otherwise: u8) -> u8 {
    match guard::pop_frame(uc as usize) {
        Some(f) => {
            if f.suspended {
                guard::resume();
            }
            f.selector
        }
        None => otherwise,
    }
}
