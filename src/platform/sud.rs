//! Syscall User Dispatch (`hijack run --all-syscalls`, Linux x86_64 and i686): the
//! system calls a program makes outside the C library's functions of the
//! table (stdio's, raw `syscall` instructions) reach hijack through SIGSYS.
//! The machine part is src/sud.c (src/sud_i386.c for i686, src/sud_rewrite.c
//! the fast path); this is its typed face: whether dispatch is on, the
//! selector flipped around hijack's own code, the real call made from the
//! allowed range.

use std::sync::atomic::{AtomicBool, Ordering};

/// The environment variable that asks for it (set by `hijack run
/// --all-syscalls`, carried to children like the others): `1`, or `sigsys`
/// for every call through SIGSYS (no site of the program's rewritten).
pub const VAR: &str = "HIJACK_ALL_SYSCALLS";

static ON: AtomicBool = AtomicBool::new(false);

/// Whether this process was asked to catch every system call (read each
/// time: the runner sets it while it parses its options).
pub fn requested() -> bool {
    std::env::var_os(VAR).is_some_and(|v| v == "1" || v == "sigsys")
}

/// Whether sites the program makes many calls from may be rewritten to call
/// hijack without a SIGSYS (src/sud_rewrite.c).
fn rewrites_wanted() -> bool {
    std::env::var_os(VAR).is_some_and(|v| v == "1")
}

/// Whether this platform has Syscall User Dispatch as hijack uses it (Linux
/// x86_64, and i686 without the fast path).
pub const SUPPORTED: bool = cfg!(all(target_os = "linux", any(target_arch = "x86_64", target_arch = "x86")));

/// Whether dispatch is on in this process (a predictable branch).
#[inline(always)]
pub fn on() -> bool {
    ON.load(Ordering::Relaxed)
}

#[cfg(all(target_os = "linux", any(target_arch = "x86_64", target_arch = "x86"), feature = "preload"))]
mod imp {
    extern "C" {
        fn hijack_sud_install() -> c_long;
        fn hijack_sud_enable() -> c_long;
        fn hijack_sud_swap(v: libc::c_char) -> libc::c_char;
        pub fn hijack_sud_syscall(nr: c_long, a1: c_long, a2: c_long, a3: c_long, a4: c_long, a5: c_long, a6: c_long) -> c_long;
        pub fn hijack_sud_clone(regs: *const libc::greg_t, stack: c_long) -> c_long;
    }
    // (the fast path, src/sud_rewrite.c: x86_64 only)
    #[cfg(target_arch = "x86_64")]
    extern "C" {
        fn hijack_sud_rewrite_start();
        fn hijack_sud_rewrites_hold();
        fn hijack_sud_rewrites_release();
    }
    use libc::c_long;
    pub fn install() -> i64 {
        // SAFETY: installs hijack's SIGSYS handler.
        unsafe { hijack_sud_install() as i64 }
    }
    pub fn enable() -> i64 {
        // SAFETY: turns dispatch on for the calling thread.
        unsafe { hijack_sud_enable() as i64 }
    }
    pub fn swap(v: u8) -> u8 {
        // SAFETY: this thread's selector.
        unsafe { hijack_sud_swap(v as libc::c_char) as u8 }
    }
    pub fn rewrite_start() {
        // SAFETY: the fast path's start, once dispatch is on.
        #[cfg(target_arch = "x86_64")]
        unsafe {
            hijack_sud_rewrite_start()
        }
    }
    pub fn hold() {
        // SAFETY: waits for a rewrite in progress; released by release().
        #[cfg(target_arch = "x86_64")]
        unsafe {
            hijack_sud_rewrites_hold()
        }
    }
    pub fn release() {
        // SAFETY: after hold(), in the parent or the child.
        #[cfg(target_arch = "x86_64")]
        unsafe {
            hijack_sud_rewrites_release()
        }
    }
    pub const AVAILABLE: bool = true;
}

#[cfg(not(all(target_os = "linux", any(target_arch = "x86_64", target_arch = "x86"), feature = "preload")))]
mod imp {
    pub fn install() -> i64 {
        -(libc::ENOSYS as i64)
    }
    pub fn enable() -> i64 {
        -(libc::ENOSYS as i64)
    }
    pub fn swap(_v: u8) -> u8 {
        0
    }
    pub fn rewrite_start() {}
    pub fn hold() {}
    pub fn release() {}
    pub const AVAILABLE: bool = false;
}

pub const ALLOW: u8 = 0;
pub const BLOCK: u8 = 1;

/// Why the kernel would refuse Syscall User Dispatch to this process, or
/// None when it would not (asked of the runner, before the command starts:
/// turning it off where it is off is a harmless question).
pub fn refused() -> Option<String> {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: PR_SET_SYSCALL_USER_DISPATCH with PR_SYS_DISPATCH_OFF
        // changes nothing for a thread that has it off.
        if unsafe { libc::prctl(59, 0, 0, 0, 0) } == 0 {
            return None;
        }
        Some(kernel_refusal(std::io::Error::last_os_error()))
    }
    #[cfg(not(target_os = "linux"))]
    Some("not Linux".into())
}

fn kernel_refusal(e: std::io::Error) -> String {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!("the kernel refused Syscall User Dispatch ({e}; Linux {}: it needs 5.11 or later, built with it)", release.trim())
}

/// Turns dispatch on for the process (its handler) and this thread; why not.
pub fn start() -> Result<(), String> {
    if !imp::AVAILABLE {
        return Err("--all-syscalls needs Linux on x86_64 or i686 (Syscall User Dispatch); this build has only the C library's functions".into());
    }
    let r = imp::install();
    if r != 0 {
        return Err(format!("cannot install the SIGSYS handler: {}", std::io::Error::from_raw_os_error(-r as i32)));
    }
    let r = imp::enable();
    if r != 0 {
        return Err(kernel_refusal(std::io::Error::from_raw_os_error(-r as i32)));
    }
    ON.store(true, Ordering::Relaxed);
    if rewrites_wanted() {
        imp::rewrite_start();
    }
    Ok(())
}

/// Before a fork: a site being rewritten is finished first (a child must
/// not inherit it half changed), and none starts until [`after_fork`].
pub fn before_fork() {
    if on() {
        imp::hold();
    }
}

/// After a fork, in the parent and in the child.
pub fn after_fork() {
    if on() {
        imp::release();
    }
}

/// Turns dispatch on for the calling thread (a fork child's: the kernel
/// turned it off), when it is on in the process.
pub fn enable_thread() {
    if on() {
        // (the selector as it is: this may be inside hijack's own code)
        let current = imp::swap(ALLOW);
        imp::enable();
        imp::swap(current);
    }
}

/// The program's code runs from here on this thread: its system calls go
/// to the hooks (the selector at BLOCK), when dispatch is on.
pub fn enter_program() {
    if on() {
        imp::swap(BLOCK);
    }
}

/// Sets this thread's selector to `v`; the value it had.
#[inline]
pub fn swap(v: u8) -> u8 {
    imp::swap(v)
}

/// The real system call `nr` with `args`, from the allowed range: the
/// kernel's result (-errno on failure).
///
/// # Safety
/// The arguments are what the program gave the call.
#[cfg(all(target_os = "linux", any(target_arch = "x86_64", target_arch = "x86"), feature = "preload"))]
pub unsafe fn syscall(nr: i64, a: &[u64; 6]) -> i64 {
    // (i686: the words' low halves are the registers)
    let w = a.map(|v| v as libc::c_long);
    imp::hijack_sud_syscall(nr as libc::c_long, w[0], w[1], w[2], w[3], w[4], w[5]) as i64
}

/// clone with a new stack, made with the program's registers (`regs`, the
/// saved gregs) so that the child starts where the program's call was.
///
/// # Safety
/// `regs` are the SIGSYS handler's saved registers of a clone call.
#[cfg(all(target_os = "linux", any(target_arch = "x86_64", target_arch = "x86"), feature = "preload"))]
pub unsafe fn clone_as_made(regs: *const libc::greg_t, stack: u64) -> i64 {
    imp::hijack_sud_clone(regs, stack as libc::c_long) as i64
}
