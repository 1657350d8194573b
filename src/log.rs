//! hijack's own log: HIJACK_LOG (a file, appended to) or standard error.
//! Every line is written with one write(2), so lines from threads and
//! processes sharing the file never interleave.

use std::sync::atomic::{AtomicI32, Ordering};

const UNOPENED: i32 = -1;
static FD: AtomicI32 = AtomicI32::new(UNOPENED);
static FAULT_FD: AtomicI32 = AtomicI32::new(UNOPENED);
static AUDIT_FD: AtomicI32 = AtomicI32::new(UNOPENED);

/// The descriptor of the log named by the variable `var` (opened once), or
/// `fallback` when the variable is not set.
fn fd_of(slot: &AtomicI32, var: &str, fallback: fn() -> i32) -> i32 {
    let fd = slot.load(Ordering::Relaxed);
    if fd != UNOPENED {
        return fd;
    }
    let opened = match std::env::var_os(var).filter(|p| !p.is_empty()) {
        None => fallback(),
        Some(path) => {
            use std::os::unix::ffi::OsStrExt;
            let Ok(c) = std::ffi::CString::new(path.as_bytes()) else { return fallback() };
            // SAFETY: a valid path; the descriptor is ours for the process's life.
            let fd = unsafe {
                libc::open(c.as_ptr(), libc::O_WRONLY | libc::O_APPEND | libc::O_CREAT | libc::O_CLOEXEC, 0o644)
            };
            if fd < 0 {
                fallback()
            } else {
                high(fd)
            }
        }
    };
    match slot.compare_exchange(UNOPENED, opened, Ordering::Relaxed, Ordering::Relaxed) {
        Ok(_) => opened,
        Err(winner) => {
            if opened != fallback() {
                // SAFETY: we opened it and nobody else has it.
                unsafe { libc::close(opened) };
            }
            winner
        }
    }
}

/// Moves a descriptor of hijack's out of the low numbers programs expect to
/// get themselves (a program's first open is fd 3, as without hijack).
fn high(fd: i32) -> i32 {
    // SAFETY: duplicating and closing our own descriptor.
    unsafe {
        let moved = libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 10);
        if moved < 0 {
            return fd;
        }
        libc::close(fd);
        moved
    }
}

/// Standard error, duplicated once: programs close fd 2 before exiting
/// (coreutils' close_stdout does), and hijack still has things to say then.
fn stderr() -> i32 {
    static DUP: AtomicI32 = AtomicI32::new(UNOPENED);
    let fd = DUP.load(Ordering::Relaxed);
    if fd != UNOPENED {
        return fd;
    }
    // SAFETY: duplicating a descriptor; a failure leaves fd 2 itself.
    let dup = unsafe { libc::fcntl(2, libc::F_DUPFD_CLOEXEC, 10) };
    let dup = if dup < 0 { 2 } else { dup };
    match DUP.compare_exchange(UNOPENED, dup, Ordering::Relaxed, Ordering::Relaxed) {
        Ok(_) => dup,
        Err(winner) => {
            if dup != 2 {
                // SAFETY: ours, unused.
                unsafe { libc::close(dup) };
            }
            winner
        }
    }
}

fn fd() -> i32 {
    fd_of(&FD, "HIJACK_LOG", stderr)
}

/// Opens the logs now (at start-up, before the program can close its
/// standard error).
pub fn open() {
    fd();
}

/// Writes one line to the fault log (HIJACK_FAULT_LOG, default hijack's log).
pub fn fault_line(text: &str) {
    write_line(fd_of(&FAULT_FD, "HIJACK_FAULT_LOG", fd), text);
}

/// Writes one line to the policy's audit log (HIJACK_AUDIT, default hijack's log).
pub fn audit_line(text: &str) {
    write_line(fd_of(&AUDIT_FD, "HIJACK_AUDIT", fd), text);
}

/// Writes `text` and a newline as one line of the log.
pub fn line(text: &str) {
    write_line(fd(), text);
}

fn write_line(fd: i32, text: &str) {
    let mut buf = Vec::with_capacity(text.len() + 1);
    buf.extend_from_slice(text.as_bytes());
    if !text.ends_with('\n') {
        buf.push(b'\n');
    }
    let _ = crate::sys::write_all(fd, &buf);
}
