//! The ends of a process that skip the C library's exit handlers: `_exit`
//! and `_Exit` (what shells, fork children and Python's subprocess use).
//! hijack's own end-of-process work (Hijack.at_exit blocks, --summary's
//! totals, the policy's summary) runs first, as it does at exit().

/// Runs hijack's exit work once per process, wherever the process ends
/// (from a hook chain too: `_exit` never returns to it).
pub fn at_exit() {
    crate::platform::guard::suspend();
    let _ = std::panic::catch_unwind(crate::ruby::vm::run_at_exit);
}

#[inline(always)]
pub unsafe fn _exit(real: unsafe extern "C" fn(libc::c_int), status: libc::c_int) {
    at_exit();
    // (its exit_group was seen here: --all-syscalls does not catch it again)
    crate::platform::sud::swap(crate::platform::sud::ALLOW);
    real(status)
}

#[inline(always)]
#[allow(non_snake_case)]
pub unsafe fn _Exit(real: unsafe extern "C" fn(libc::c_int), status: libc::c_int) {
    at_exit();
    crate::platform::sud::swap(crate::platform::sud::ALLOW);
    real(status)
}
