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
    /// The address the kernel clears when this thread ends (set by
    /// set_tid_address or clone's CLONE_CHILD_CLEARTID): 0 when unknown.
    pub fn tid_address() -> u64 {
        let mut p: usize = 0;
        // SAFETY: PR_GET_TID_ADDRESS writes one pointer to `p`.
        let r = unsafe { libc::syscall(libc::SYS_prctl, libc::PR_GET_TID_ADDRESS, &mut p as *mut usize) };
        if r == 0 { p as u64 } else { 0 }
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
    /// (macOS traces show functions, never Linux's clone)
    pub fn tid_address() -> u64 {
        0
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

pub use imp::{fd_path, secure_execution, tid, tid_address, LIBRARY_NAME, PLATFORM, PRELOAD_VAR};

/// The path the kernel will use for `path`: the symlinks of its longest
/// existing ancestor (itself included) resolved, the rest appended.
pub fn resolve(path: &std::path::Path) -> std::path::PathBuf {
    let mut rest = Vec::new();
    let mut head = path;
    loop {
        if let Ok(real) = std::fs::canonicalize(head) {
            let mut out = real;
            for part in rest.iter().rev() {
                out.push(part);
            }
            return out;
        }
        match (head.parent(), head.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                head = parent;
            }
            _ => return path.to_path_buf(),
        }
    }
}

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

/// h_errno's "see errno" (glibc's and macOS's netdb.h).
pub const NETDB_INTERNAL: i32 = -1;

extern "C" {
    #[cfg(target_os = "linux")]
    fn __h_errno_location() -> *mut libc::c_int;
    #[cfg(target_os = "macos")]
    #[link_name = "h_errno"]
    static mut H_ERRNO: libc::c_int;
}

fn h_errno_location() -> *mut libc::c_int {
    // SAFETY: glibc's is valid for the calling thread.
    #[cfg(target_os = "linux")]
    return unsafe { __h_errno_location() };
    // (macOS's is a global)
    #[cfg(target_os = "macos")]
    return std::ptr::addr_of_mut!(H_ERRNO);
}

/// The resolver's error of this thread's last gethostbyname.
pub fn h_errno() -> i32 {
    // SAFETY: the location is valid for this thread.
    unsafe { *h_errno_location() }
}

pub fn set_h_errno(e: i32) {
    // SAFETY: the location is valid for this thread.
    unsafe { *h_errno_location() = e }
}

pub fn pid() -> i64 {
    // SAFETY: getpid has no preconditions.
    unsafe { libc::getpid() as i64 }
}

/// A thread made without the C library's knowledge (a raw clone sharing
/// the memory, seen by hijack): the process is not single-threaded any more.
static RAW_THREADS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

pub fn raw_thread_made() {
    RAW_THREADS.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// Whether the calling thread is the process's only one: the C library's
/// own answer (`__libc_single_threaded`, glibc 2.32 and later: never true
/// again once a thread was made), and no thread made by a raw clone.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn single_threaded() -> bool {
    extern "C" {
        static __libc_single_threaded: libc::c_char;
    }
    // SAFETY: a byte the C library keeps; volatile: it changes under us.
    let libc_says = unsafe { std::ptr::read_volatile(std::ptr::addr_of!(__libc_single_threaded)) } != 0;
    libc_says && !RAW_THREADS.load(std::sync::atomic::Ordering::Relaxed)
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn single_threaded() -> bool {
    false
}

/// Writes all of `bytes` to `fd` (again after EINTR or a short write).
pub fn write_all(fd: i32, bytes: &[u8]) -> std::io::Result<()> {
    let mut done = 0;
    while done < bytes.len() {
        // SAFETY: writing from a live buffer.
        let n = unsafe { libc::write(fd, bytes[done..].as_ptr() as *const libc::c_void, bytes.len() - done) };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return Err(e);
        }
        done += n as usize;
    }
    Ok(())
}

/// Nanoseconds on clock `id` (the real one: hijack's own calls are not hooked).
pub fn clock_ns(id: libc::clockid_t) -> i64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: ts is a valid out pointer.
    unsafe { libc::clock_gettime(id, &mut ts) };
    ts.tv_sec as i64 * 1_000_000_000 + ts.tv_nsec as i64
}

/// Monotonic nanoseconds.
pub fn now_ns() -> u64 {
    clock_ns(libc::CLOCK_MONOTONIC) as u64
}

/// Time stamps for timing calls, cheap to take: the CPU's invariant
/// time-stamp counter where it has one (x86: a few ns, against ~25 ns for
/// clock_gettime in a virtual machine), else monotonic nanoseconds.
/// [`stamp_ns`] turns a difference of two stamps into nanoseconds.
pub mod stamp {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::OnceLock;

    #[cfg(target_arch = "x86_64")]
    use core::arch::x86_64::{__cpuid, _rdtsc};
    #[cfg(target_arch = "x86")]
    use core::arch::x86::{__cpuid, _rdtsc};

    #[cfg(any(target_arch = "x86_64", target_arch = "x86"))]
    fn invariant_tsc() -> bool {
        static OK: OnceLock<bool> = OnceLock::new();
        #[allow(unused_unsafe)]
        // SAFETY: cpuid exists on every CPU these targets run on.
        *OK.get_or_init(|| unsafe { __cpuid(0x8000_0000).eax >= 0x8000_0007 && __cpuid(0x8000_0007).edx & (1 << 8) != 0 })
    }

    #[cfg(any(target_arch = "x86_64", target_arch = "x86"))]
    fn counter() -> Option<u64> {
        // SAFETY: rdtsc has no preconditions.
        invariant_tsc().then(|| unsafe { _rdtsc() })
    }

    #[cfg(not(any(target_arch = "x86_64", target_arch = "x86")))]
    fn counter() -> Option<u64> {
        None
    }

    /// A stamp now.
    #[inline]
    pub fn now() -> u64 {
        match counter() {
            Some(t) => {
                anchor();
                t
            }
            None => super::now_ns(),
        }
    }

    /// (counter, nanoseconds) when stamps were first taken: the counter's
    /// rate is measured from there.
    fn anchor() -> (u64, u64) {
        static ANCHOR: OnceLock<(u64, u64)> = OnceLock::new();
        *ANCHOR.get_or_init(|| (counter().unwrap_or(0), super::now_ns()))
    }

    /// Counter ticks per ms, in 1/1024ths, once measured over 50 ms or more.
    static RATE: AtomicU64 = AtomicU64::new(0);

    /// Nanoseconds between two stamps (`delta` = later - earlier).
    pub fn stamp_ns(delta: u64) -> u64 {
        if counter().is_none() {
            return delta;
        }
        let mut rate = RATE.load(Ordering::Relaxed);
        if rate == 0 {
            let (t0, n0) = anchor();
            let (t1, n1) = (counter().unwrap_or(0), super::now_ns());
            if t1 <= t0 || n1 <= n0 {
                return delta;
            }
            let fine = ((t1 - t0) as u128 * 1_000_000 * 1024 / (n1 - n0) as u128) as u64;
            if n1 - n0 < 50_000_000 {
                // not long enough to keep: good to a few percent
                return (delta as u128 * 1_000_000 * 1024 / fine.max(1) as u128) as u64;
            }
            RATE.store(fine, Ordering::Relaxed);
            rate = fine;
        }
        (delta as u128 * 1_000_000 * 1024 / rate as u128) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_measure_time() {
        // against the clock over the same interval, not against the sleep asked for: under
        // valgrind or on a busy machine a 20 ms sleep may take a second
        fn agrees(sleep_ms: u64) {
            let (start, clock) = (stamp::now(), now_ns());
            std::thread::sleep(std::time::Duration::from_millis(sleep_ms));
            let ns = stamp::stamp_ns(stamp::now() - start) as i128;
            let took = (now_ns() - clock) as i128;
            assert!((ns - took).abs() <= took / 10 + 2_000_000, "stamp {ns} ns, clock {took} ns");
        }
        agrees(60);
        // measured over 60 ms: the rate is kept, and still right
        agrees(20);
    }

    #[test]
    fn errno_round_trips() {
        set_errno(libc::EACCES);
        assert_eq!(errno(), libc::EACCES);
        set_errno(0);
        assert_eq!(errno(), 0);
    }
}
