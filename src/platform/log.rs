//! hijack's own log: HIJACK_LOG (a file, appended to) or standard error.
//! Every line is written with one write(2), so lines from threads and
//! processes sharing the file never interleave.
//!
//! Nothing is opened before the first line: a process whose hooks never
//! log has no descriptor of hijack's. A log file is a slot of src/platform/fds/
//! (high, close-on-exec, moved out of the program's way); standard error is
//! written to as descriptor 2, and fds.rs saves a copy of it before the
//! program closes or replaces it.

use crate::platform::fds::{self, Owned};
use crate::platform::lock::SpinLock;

/// Where one of the logs goes, once known.
#[derive(Clone, Copy)]
enum Sink {
    Stderr,
    File(Owned),
}

/// One log: the variable naming its file, and where it goes once known.
struct Log {
    var: &'static str,
    sink: SpinLock<Option<Sink>>,
    /// The log used when the variable is not set (None: standard error).
    fallback: Option<&'static Log>,
}

static MAIN: Log = Log { var: "HIJACK_LOG", sink: SpinLock::new(None), fallback: None };
static FAULTS: Log = Log { var: "HIJACK_FAULT_LOG", sink: SpinLock::new(None), fallback: Some(&MAIN) };
static AUDIT: Log = Log { var: "HIJACK_AUDIT", sink: SpinLock::new(None), fallback: Some(&MAIN) };

impl Log {
    /// Where the log goes (its file is opened on first use).
    fn sink(&'static self) -> Sink {
        let mut sink = self.sink.lock();
        if let Some(s) = *sink {
            return s;
        }
        let opened = match std::env::var_os(self.var).filter(|p| !p.is_empty()) {
            Some(path) => open_file(&path),
            None => None,
        };
        let s = match (opened, self.fallback) {
            (Some(owned), _) => Sink::File(owned),
            (None, Some(other)) => {
                drop(sink);
                let s = other.sink();
                *self.sink.lock() = Some(s);
                return s;
            }
            (None, None) => Sink::Stderr,
        };
        *sink = Some(s);
        s
    }

    fn line(&'static self, text: &str) {
        let mut buf = Vec::with_capacity(text.len() + 1);
        buf.extend_from_slice(text.as_bytes());
        if !text.ends_with('\n') {
            buf.push(b'\n');
        }
        let _ = match self.sink() {
            Sink::Stderr => fds::with_stderr(|fd| crate::platform::sys::write_all(fd, &buf)),
            Sink::File(owned) => owned.with(|fd| crate::platform::sys::write_all(fd, &buf)),
        };
    }
}

/// Opens `path` for appending, as one of hijack's descriptors.
pub fn open_file(path: &std::ffi::OsStr) -> Option<Owned> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_bytes()).ok()?;
    // SAFETY: a valid path; the descriptor goes straight into a slot.
    let fd = unsafe { libc::open(c.as_ptr(), libc::O_WRONLY | libc::O_APPEND | libc::O_CREAT | libc::O_CLOEXEC, 0o644) };
    fds::adopt(fd)
}

/// Gets ready to log (at start-up, before the program can close its
/// standard error): opens nothing, but has standard error saved before the
/// program closes or replaces it, when a log may go there.
pub fn open() {
    let to_stderr = |var: &str| std::env::var_os(var).is_none_or(|p| p.is_empty());
    if to_stderr(MAIN.var) {
        fds::watch_stderr();
    }
}

/// Writes one line to the fault log (HIJACK_FAULT_LOG, default hijack's log).
pub fn fault_line(text: &str) {
    FAULTS.line(text);
}

/// Writes one line to the policy's audit log (HIJACK_AUDIT, default hijack's log).
pub fn audit_line(text: &str) {
    AUDIT.line(text);
}

/// Writes `text` and a newline as one line of the log.
pub fn line(text: &str) {
    MAIN.line(text);
}
