//! The program's signal handlers under `--all-syscalls`. Its rt_sigaction
//! calls reach src/entry/raw.rs: SIGSYS stays hijack's (the program's
//! action is kept, and honoured by src/sud.c for the SIGSYS its own seccomp
//! filter raises), no handler's mask blocks SIGSYS, and a handler is
//! installed behind src/sud.c's `hijack_sud_on_signal`, which runs it as the
//! program's code wherever the signal lands: in the real call of a hooked
//! function (a shell's SIGCHLD handler during its wait4) or of a function
//! nothing hooks (made with the selector at ALLOW), its system calls are
//! caught as the program's, its rt_sigreturn too, which puts back the state
//! hijack had there. Landing in hijack's own code (a hook running), it runs
//! as before: its calls made, unhooked. The program reads its own handlers
//! back.

use crate::platform::guard::{self, SignalFrame};
use crate::platform::sud;

const NSIG: usize = 65;
const SIGSYS_BIT: u64 = 1 << (libc::SIGSYS - 1);
const NR_RT_SIGACTION: i64 = libc::SYS_rt_sigaction;

extern "C" {
    fn hijack_sud_on_signal(sig: i32, si: *mut libc::siginfo_t, uc: *mut libc::c_void);
}

/// hijack_sud_on_signal's address, as an action holds it.
fn wrapper() -> u64 {
    hijack_sud_on_signal as *const () as u64
}

/// The program's actions (kernel layout: handler, flags, restorer, mask):
/// SIGSYS's kept instead of set, the others' behind hijack_sud_on_signal.
static mut ACTIONS: [[u64; 4]; NSIG] = [[0; 4]; NSIG];

fn actions() -> *mut [[u64; 4]; NSIG] {
    std::ptr::addr_of_mut!(ACTIONS)
}

/// The program's own action for `sig`, for src/sud.c (SIGSYS's for its
/// seccomp's, the others' for hijack_sud_on_signal).
#[no_mangle]
pub extern "C" fn hijack_sud_program_action(sig: i32) -> *const u64 {
    let i = (sig as usize).min(NSIG - 1);
    // SAFETY: a row of the table, read by the signal's handler.
    unsafe { (*actions())[i].as_ptr() }
}

/// rt_sigaction(`a`) made by the program: the raw result.
///
/// # Safety
/// The program's arguments: `a[1]` and `a[2]` null or 4-word actions.
pub unsafe fn rt_sigaction(a: &[u64; 6]) -> i64 {
    let sig = a[0] as usize;
    let (new, old) = (a[1] as *const [u64; 4], a[2] as *mut [u64; 4]);
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
    let mut action = if new.is_null() { [0u64; 4] } else { *new };
    let mut set = std::ptr::null();
    if !new.is_null() {
        // (a handler blocking every signal, as Go's do, would otherwise be
        // killed by its first system call, its own rt_sigreturn among them)
        action[3] &= !SIGSYS_BIT;
        if action[0] > libc::SIG_IGN as u64 {
            (*actions())[sig] = action;
            action[0] = wrapper();
            action[1] |= libc::SA_SIGINFO as u64;
        }
        set = action.as_ptr();
    }
    let r = sud::syscall(NR_RT_SIGACTION, &[a[0], set as u64, a[2], a[3], a[4], a[5]]);
    if r != 0 {
        (*actions())[sig] = before;
    } else if !old.is_null() && (*old)[0] == wrapper() {
        // (the program's own, as it set it)
        *old = [before[0], before[1], (*old)[2], (*old)[3]];
    }
    r
}

/// src/sud.c's hijack_sud_on_signal, before the program's handler runs on
/// the frame whose context is `uc`: where the signal landed in hijack's
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
/// handler returned, src/sud.c makes the call): what hijack_sud_signal_enter
/// changed is put back; the selector to return with.
#[no_mangle]
pub extern "C" fn hijack_sud_signal_leave(uc: *mut libc::c_void) -> u8 {
    match guard::pop_frame(uc as usize) {
        Some(f) => {
            if f.suspended {
                guard::resume();
            }
            f.selector
        }
        None => sud::BLOCK,
    }
}
