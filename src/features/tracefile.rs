//! Trace files: one descriptor per file per process (O_APPEND, one of
//! hijack's own descriptors: see src/platform/fds/), and one write(2) per line.

use crate::platform::fds::Owned;
use crate::platform::lock::SpinLock;

static FILES: SpinLock<Vec<(Vec<u8>, Owned)>> = SpinLock::new(Vec::new());

/// Appends `line` (a newline added) to the trace file `path`; "-" is
/// hijack's log.
pub fn write(path: &[u8], mut line: Vec<u8>) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    if path == b"-" {
        crate::platform::log::line(&String::from_utf8_lossy(&line));
        return Ok(());
    }
    let owned = {
        let mut files = FILES.lock();
        match files.iter().find(|(p, _)| p == path) {
            Some((_, owned)) => *owned,
            None => {
                let owned = crate::platform::log::open_file(std::ffi::OsStr::from_bytes(path)).ok_or_else(std::io::Error::last_os_error)?;
                files.push((path.to_vec(), owned));
                owned
            }
        }
    };
    line.push(b'\n');
    owned.with(|fd| crate::platform::sys::write_all(fd, &line))
}
