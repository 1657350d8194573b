//! What differs between operating systems, behind one interface.

#[cfg(target_os = "linux")]
mod imp {
    pub fn errno_location() -> *mut libc::c_int {
        // SAFETY: always valid for the calling thread.
        unsafe { libc::__errno_location() }
    }
    pub fn tid() -> i64 {
        // SAFETY: gettid has no preconditions.
        unsafe { libc::syscall(libc::SYS_gettid) as i64 }
    }
    /// True in a set-uid or otherwise secure-execution process.
    pub fn secure_execution() -> bool {
        // SAFETY: getauxval has no preconditions.
        unsafe { libc::getauxval(libc::AT_SECURE) != 0 }
    }
    /// The path of the file `fd` is open on.
    pub fn fd_path(fd: i32) -> Option<Vec<u8>> {
        if fd < 0 {
            return None;
        }
        std::fs::read_link(format!("/proc/self/fd/{fd}")).ok().map(|p| {
            use std::os::unix::ffi::OsStringExt;
            p.into_os_string().into_vec()
        })
    }
    pub const PRELOAD_VAR: &str = "LD_PRELOAD";
    pub const LIBRARY_NAME: &str = "libhijack.so";
    pub const PLATFORM: &str = "linux";
}

#[cfg(target_os = "macos")]
mod imp {
    pub fn errno_location() -> *mut libc::c_int {
        // SAFETY: always valid for the calling thread.
        unsafe { libc::__error() }
    }
    pub fn tid() -> i64 {
        let mut id: u64 = 0;
        // SAFETY: a null thread means the calling thread.
        unsafe { libc::pthread_threadid_np(0 as libc::pthread_t, &mut id) };
        id as i64
    }
    pub fn secure_execution() -> bool {
        // SAFETY: issetugid has no preconditions.
        unsafe { libc::issetugid() != 0 }
    }
    /// The path of the file `fd` is open on.
    pub fn fd_path(fd: i32) -> Option<Vec<u8>> {
        let mut buf = vec![0u8; libc::PATH_MAX as usize];
        // SAFETY: F_GETPATH writes at most PATH_MAX bytes.
        if fd < 0 || unsafe { libc::fcntl(fd, libc::F_GETPATH, buf.as_mut_ptr()) } < 0 {
            return None;
        }
        let n = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
        buf.truncate(n);
        Some(buf)
    }
    pub const PRELOAD_VAR: &str = "DYLD_INSERT_LIBRARIES";
    pub const LIBRARY_NAME: &str = "libhijack.dylib";
    pub const PLATFORM: &str = "darwin";
}

pub use imp::{fd_path, secure_execution, tid, LIBRARY_NAME, PLATFORM, PRELOAD_VAR};

/// The working directory.
pub fn cwd() -> Option<Vec<u8>> {
    use std::os::unix::ffi::OsStringExt;
    std::env::current_dir().ok().map(|p| p.into_os_string().into_vec())
}

pub fn errno() -> i32 {
    // SAFETY: the location is valid for this thread.
    unsafe { *imp::errno_location() }
}

pub fn set_errno(e: i32) {
    // SAFETY: the location is valid for this thread.
    unsafe { *imp::errno_location() = e }
}

pub fn pid() -> i64 {
    // SAFETY: getpid has no preconditions.
    unsafe { libc::getpid() as i64 }
}

/// Monotonic nanoseconds.
pub fn now_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: ts is a valid out pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_round_trips() {
        set_errno(libc::EACCES);
        assert_eq!(errno(), libc::EACCES);
        set_errno(0);
        assert_eq!(errno(), 0);
    }
}
