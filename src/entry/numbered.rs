//! syscall(NUMBER, ...): a hook on the system call it numbers (`getppid`,
//! `openat`) runs on it, through that call's raw row (SYS_NAME), with the
//! call's own arguments; the descriptor bookkeeping of platform::fds
//! stays underneath. A hook on `syscall` itself sees the numbers no such
//! hook takes.

use crate::platform::fds::calls as fds;
use crate::table::{raw_row, CALLS, SYSCALLS};
use crate::{dispatch, frame};

/// Whether a hook wants system call `nr` made through syscall().
#[inline]
pub fn hooked(nr: i64) -> bool {
    raw_row(nr).is_some_and(frame::hooked)
}

#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub unsafe fn syscall(
    real: unsafe extern "C" fn(libc::c_long, ...) -> libc::c_long,
    n: libc::c_long,
    a1: libc::c_long,
    a2: libc::c_long,
    a3: libc::c_long,
    a4: libc::c_long,
    a5: libc::c_long,
    a6: libc::c_long,
) -> libc::c_long {
    let id = match raw_row(n as i64) {
        Some(id) if frame::hooked(id) => id,
        _ => return fds::syscall(real, n, a1, a2, a3, a4, a5, a6),
    };
    let args = [a1, a2, a3, a4, a5, a6].map(|a| a as u64);
    let count = CALLS[id].sys.map_or(6, |s| SYSCALLS[s].args.len()).min(6);
    let proceed = |w: &frame::Words| {
        let [b1, b2, b3, b4, b5, b6] = [w[0], w[1], w[2], w[3], w[4], w[5]].map(|v| v as libc::c_long);
        fds::syscall(real, n, b1, b2, b3, b4, b5, b6) as i64
    };
    dispatch::dispatch(id, &args[..count], frame::RealFn::new(&proceed)) as libc::c_long
}
