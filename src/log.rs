//! hijack's own log: HIJACK_LOG (a file, appended to) or standard error.
//! Every line is written with one write(2), so lines from threads and
//! processes sharing the file never interleave.

use std::sync::atomic::{AtomicI32, Ordering};

const UNOPENED: i32 = -1;
static FD: AtomicI32 = AtomicI32::new(UNOPENED);

fn fd() -> i32 {
    let fd = FD.load(Ordering::Relaxed);
    if fd != UNOPENED {
        return fd;
    }
    let opened = match std::env::var_os("HIJACK_LOG").filter(|p| !p.is_empty()) {
        None => 2,
        Some(path) => {
            use std::os::unix::ffi::OsStrExt;
            let Ok(c) = std::ffi::CString::new(path.as_bytes()) else { return 2 };
            // SAFETY: a valid path; the descriptor is ours for the process's life.
            let fd = unsafe {
                libc::open(c.as_ptr(), libc::O_WRONLY | libc::O_APPEND | libc::O_CREAT | libc::O_CLOEXEC, 0o644)
            };
            if fd < 0 {
                2
            } else {
                fd
            }
        }
    };
    match FD.compare_exchange(UNOPENED, opened, Ordering::Relaxed, Ordering::Relaxed) {
        Ok(_) => opened,
        Err(winner) => {
            if opened != 2 {
                // SAFETY: we opened it and nobody else has it.
                unsafe { libc::close(opened) };
            }
            winner
        }
    }
}

/// Writes `text` and a newline as one line of the log.
pub fn line(text: &str) {
    let mut buf = Vec::with_capacity(text.len() + 1);
    buf.extend_from_slice(text.as_bytes());
    if !text.ends_with('\n') {
        buf.push(b'\n');
    }
    let fd = fd();
    let mut done = 0;
    while done < buf.len() {
        // SAFETY: writing from a live buffer.
        let n = unsafe { libc::write(fd, buf[done..].as_ptr() as *const libc::c_void, buf.len() - done) };
        if n < 0 {
            if std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return;
        }
        done += n as usize;
    }
}
