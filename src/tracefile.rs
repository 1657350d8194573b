//! Trace files: one descriptor per file per process (O_APPEND, kept out of
//! the low numbers the program uses), and one write(2) per line.

use crate::lock::SpinLock;

static FILES: SpinLock<Vec<(Vec<u8>, i32)>> = SpinLock::new(Vec::new());

fn open(path: &[u8]) -> std::io::Result<i32> {
    let c = std::ffi::CString::new(path).map_err(|_| std::io::Error::other("NUL in a trace path"))?;
    // SAFETY: a valid path; the descriptor is ours.
    let fd = unsafe { libc::open(c.as_ptr(), libc::O_WRONLY | libc::O_APPEND | libc::O_CREAT | libc::O_CLOEXEC, 0o644) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: moving our own descriptor up.
    let high = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 10) };
    if high >= 0 {
        unsafe { libc::close(fd) };
        return Ok(high);
    }
    Ok(fd)
}

/// Appends `line` (a newline added) to the trace file `path`; "-" is
/// hijack's log.
pub fn write(path: &[u8], mut line: Vec<u8>) -> std::io::Result<()> {
    if path == b"-" {
        crate::log::line(&String::from_utf8_lossy(&line));
        return Ok(());
    }
    let fd = {
        let mut files = FILES.lock();
        match files.iter().find(|(p, _)| p == path) {
            Some((_, fd)) => *fd,
            None => {
                let fd = open(path)?;
                files.push((path.to_vec(), fd));
                fd
            }
        }
    };
    line.push(b'\n');
    crate::sys::write_all(fd, &line)
}
