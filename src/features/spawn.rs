//! The runner's way to run a command and wait for it (when it must act
//! after the command, as for a summary): fork + execvp, signals forwarded,
//! the child's fate reported.

use std::ffi::CString;
use std::sync::atomic::{AtomicI32, Ordering};

static CHILD: AtomicI32 = AtomicI32::new(0);
const FORWARDED: [libc::c_int; 7] =
    [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT, libc::SIGUSR1, libc::SIGUSR2, libc::SIGWINCH];

extern "C" fn forward(sig: libc::c_int) {
    let pid = CHILD.load(Ordering::Relaxed);
    if pid > 0 {
        // SAFETY: kill is async-signal-safe.
        unsafe { libc::kill(pid, sig) };
    }
}

/// Starts argv as a child (fork + execvp); its pid. The child reports exec
/// failures as exit status 127 or 126, like a shell.
pub fn start(argv: &[CString]) -> Result<i32, i32> {
    let mut ptrs: Vec<*const libc::c_char> = argv.iter().map(|c| c.as_ptr()).collect();
    ptrs.push(std::ptr::null());
    // SAFETY: the child only calls async-signal-safe functions before exec.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EAGAIN));
    }
    if pid == 0 {
        unsafe {
            libc::execvp(ptrs[0], ptrs.as_ptr());
            let e = crate::platform::sys::errno();
            libc::_exit(if e == libc::ENOENT { 127 } else { 126 });
        }
    }
    Ok(pid)
}

/// Runs argv; Ok((exit status, 0)) or Ok((0, signal)) when it was killed;
/// Err(errno) when it could not start.
pub fn run(argv: &[CString]) -> Result<(i32, i32), i32> {
    let pid = start(argv)?;
    CHILD.store(pid, Ordering::Relaxed);
    for sig in FORWARDED {
        // SAFETY: installing a handler that only calls kill.
        unsafe { libc::signal(sig, forward as extern "C" fn(libc::c_int) as libc::sighandler_t) };
    }
    let mut status = 0;
    loop {
        // SAFETY: waiting for our own child.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r == pid {
            break;
        }
        if r < 0 && std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            return Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::ECHILD));
        }
    }
    if libc::WIFSIGNALED(status) {
        Ok((0, libc::WTERMSIG(status)))
    } else {
        Ok((libc::WEXITSTATUS(status), 0))
    }
}
