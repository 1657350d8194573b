//! Hook filters (`path:`, `fd:`, `host:`, `port:`), checked natively: a call
//! that no hook's filter matches never enters the VM.
//!
//! Filters are registered by every thread's VM as it runs the scripts; equal
//! filters are stored once, for the life of the process. For each call the
//! prefilter knows whether some hook takes it unfiltered, and the filters of
//! the others; it is read without locks (a pointer to an immutable list that
//! registration replaces).

use crate::frame::Word;
use crate::platform::lock::SpinLock;
use crate::table::{Kind, CALLS, CALL_COUNT};
use crate::platform::regex::Regex;
use crate::{platform::glob, platform::sockaddr, platform::sys};
use std::sync::atomic::{AtomicPtr, Ordering};

#[derive(Clone, Default)]
pub struct Filter {
    /// Globs; the call matches when one of its paths matches one of them
    /// (or one of the path Regexps).
    pub paths: Vec<Vec<u8>>,
    pub path_regexes: Vec<&'static Regex>,
    /// Inclusive range of the call's descriptor.
    pub fd: Option<(i64, i64)>,
    /// Globs over the peer address's host.
    pub hosts: Vec<Vec<u8>>,
    /// Inclusive range of the peer address's port.
    pub port: Option<(i64, i64)>,
}

impl PartialEq for Filter {
    fn eq(&self, other: &Filter) -> bool {
        self.paths == other.paths
            && self.fd == other.fd
            && self.hosts == other.hosts
            && self.port == other.port
            && self.path_regexes.len() == other.path_regexes.len()
            && self.path_regexes.iter().zip(&other.path_regexes).all(|(a, b)| std::ptr::eq(*a, *b))
    }
}

impl std::fmt::Debug for Filter {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        let regexes: Vec<String> = self.path_regexes.iter().map(|r| String::from_utf8_lossy(&r.source).into_owned()).collect();
        f.debug_struct("Filter")
            .field("paths", &self.paths)
            .field("path_regexes", &regexes)
            .field("fd", &self.fd)
            .field("hosts", &self.hosts)
            .field("port", &self.port)
            .finish()
    }
}

#[derive(Default)]
struct CallFilters {
    always: bool,
    filters: Vec<&'static Filter>,
}

static REGISTRY: SpinLock<Vec<&'static Filter>> = SpinLock::new(Vec::new());
static PER_CALL: [AtomicPtr<CallFilters>; CALL_COUNT] = [const { AtomicPtr::new(std::ptr::null_mut()) }; CALL_COUNT];

/// Why a filter cannot apply to a call.
pub fn check(id: usize, f: &Filter) -> Result<(), String> {
    let info = &CALLS[id];
    let has = |k: Kind| info.arg_of(k).is_some();
    if (!f.paths.is_empty() || !f.path_regexes.is_empty()) && !has(Kind::Path) && !has(Kind::Fd) && info.stream_arg.is_none() {
        return Err(format!("{} has no path or descriptor to filter with path:", info.name));
    }
    if f.fd.is_some() && !has(Kind::Fd) && info.stream_arg.is_none() {
        return Err(format!("{} has no descriptor to filter with fd:", info.name));
    }
    if (!f.hosts.is_empty() || f.port.is_some()) && !has(Kind::Sockaddr) {
        return Err(format!("{} has no socket address to filter with host: or port:", info.name));
    }
    Ok(())
}

/// Registers a hook on call `id` with `filter` (None: every call). Returns
/// the filter's id, for [`get`].
pub fn register(id: usize, filter: Option<Filter>) -> Option<usize> {
    let mut registry = REGISTRY.lock();
    let fid = filter.map(|f| match registry.iter().position(|g| **g == f) {
        Some(i) => i,
        None => {
            registry.push(Box::leak(Box::new(f)));
            registry.len() - 1
        }
    });
    let old = PER_CALL[id].load(Ordering::Acquire);
    // SAFETY: published lists are leaked, never freed.
    let current = unsafe { old.as_ref() };
    // Every thread's VM runs the scripts, registering the same hooks again:
    // a list that would not change is not made anew (a leak per thread).
    let unchanged = current.is_some_and(|o| match fid {
        None => o.always,
        Some(i) => o.filters.iter().any(|g| std::ptr::eq(*g, registry[i])),
    });
    if unchanged {
        return fid;
    }
    let mut new = current.map_or_else(CallFilters::default, |o| CallFilters {
        always: o.always,
        filters: o.filters.clone(),
    });
    match fid {
        None => new.always = true,
        Some(i) => {
            let f: &'static Filter = registry[i];
            if !new.filters.iter().any(|g| std::ptr::eq(*g, f)) {
                new.filters.push(f);
            }
        }
    }
    PER_CALL[id].store(Box::leak(Box::new(new)), Ordering::Release);
    fid
}

/// The filter registered as `fid`.
pub fn get(fid: usize) -> Option<&'static Filter> {
    REGISTRY.lock().get(fid).copied()
}

/// Whether some hook on call `id` may want a call with these arguments.
pub fn wanted(id: usize, args: &[u64]) -> bool {
    let p = PER_CALL[id].load(Ordering::Acquire);
    // SAFETY: published lists are leaked, never freed.
    match unsafe { p.as_ref() } {
        None => true,
        Some(cf) => cf.always || cf.filters.iter().any(|f| f.matches(id, args)),
    }
}

/// The registry's lock, for pthread_atfork.
pub fn lock_for_fork() -> &'static SpinLock<Vec<&'static Filter>> {
    &REGISTRY
}

impl Filter {
    pub fn matches(&self, id: usize, args: &[u64]) -> bool {
        let info = &CALLS[id];
        if let Some((lo, hi)) = self.fd {
            match descriptor(id, args) {
                Some(fd) if (lo..=hi).contains(&(fd as i64)) => {}
                _ => return false,
            }
        }
        if !self.hosts.is_empty() || self.port.is_some() {
            let Some(i) = info.arg_of(Kind::Sockaddr) else { return false };
            // SAFETY: the caller's socket address argument.
            let Some(addr) = (unsafe { sockaddr::decode(args[i] as usize) }) else { return false };
            if !self.hosts.is_empty() && !self.hosts.iter().any(|g| glob::matches(g, addr.host.as_bytes())) {
                return false;
            }
            if let Some((lo, hi)) = self.port {
                if !addr.port.is_some_and(|p| (lo..=hi).contains(&(p as i64))) {
                    return false;
                }
            }
        }
        if !self.paths.is_empty() || !self.path_regexes.is_empty() {
            let hit = |p: &[u8]| self.paths.iter().any(|g| glob::matches(g, p)) || self.path_regexes.iter().any(|r| r.is_match(p));
            if !any_path(id, args, hit) {
                return false;
            }
        }
        true
    }
}

/// The descriptor a call acts on: its descriptor argument, or its stream's
/// (fclose's: the one of the close it makes).
fn descriptor(id: usize, args: &[u64]) -> Option<i32> {
    let info = &CALLS[id];
    match (info.arg_of(Kind::Fd), info.stream_arg) {
        (Some(i), _) => Some(args[i] as i32),
        // SAFETY: the caller's stream, before the call.
        (None, Some(j)) => Some(unsafe { crate::frame::view::fileno(args[j as usize]) } as i32),
        (None, None) => None,
    }
}

/// Whether `hit` holds for one of the absolute paths a call names: its path
/// arguments (relative ones resolved against their directory descriptor or
/// the working directory), or else the file its descriptor is open on. An
/// absolute path argument is looked at where it is, without a copy.
pub fn any_path(id: usize, args: &[u64], mut hit: impl FnMut(&[u8]) -> bool) -> bool {
    let info = &CALLS[id];
    let mut named = false;
    for (i, arg) in info.args.iter().enumerate() {
        if arg.kind != Kind::Path || args[i] == 0 {
            continue;
        }
        // SAFETY: the caller's C string argument.
        let p = unsafe { std::ffi::CStr::from_ptr(args[i].ptr::<libc::c_char>()) }.to_bytes();
        if p.starts_with(b"/") {
            named = true;
            if hit(p) {
                return true;
            }
        } else if let Some(abs) = absolute_path(id, args, i) {
            named = true;
            if hit(&abs) {
                return true;
            }
        }
    }
    if !named {
        // A negative descriptor names no file (and costs no lookup).
        let fd = descriptor(id, args).filter(|fd| *fd >= 0);
        if let Some(p) = fd.and_then(sys::fd_path) {
            return hit(&p);
        }
    }
    false
}

/// The path argument `index` of a call, made absolute: a relative one is
/// resolved against the directory descriptor before it, or the working
/// directory. (`..` and symbolic links are left as they are.)
pub fn absolute_path(id: usize, args: &[u64], index: usize) -> Option<Vec<u8>> {
    let info = &CALLS[id];
    if info.args.get(index)?.kind != Kind::Path || args[index] == 0 {
        return None;
    }
    // SAFETY: the caller's C string argument.
    let p = unsafe { std::ffi::CStr::from_ptr(args[index].ptr::<libc::c_char>()) }.to_bytes();
    if p.is_empty() {
        // (names no file: with AT_EMPTY_PATH the call is on its descriptor,
        // as stdio's newfstatat(1, "", ..., AT_EMPTY_PATH) is fstat(1))
        return None;
    }
    if p.starts_with(b"/") {
        return Some(p.to_vec());
    }
    let dirfd = (0..index).rev().find(|i| info.args[*i].kind == Kind::Dirfd).map(|i| args[i] as i32);
    let base = match dirfd {
        Some(fd) if fd != libc::AT_FDCWD => sys::fd_path(fd),
        _ => sys::cwd(),
    };
    let mut b = base?;
    if !b.ends_with(b"/") {
        b.push(b'/');
    }
    b.extend_from_slice(p.strip_prefix(b"./").unwrap_or(p));
    Some(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::id;

    fn cstr(s: &str) -> std::ffi::CString {
        std::ffi::CString::new(s).unwrap()
    }

    #[test]
    fn registering_the_same_hook_again_publishes_nothing_new() {
        // (as every new thread's VM does when it runs the scripts)
        let f = || Some(Filter { fd: Some((-7, -7)), ..Filter::default() });
        let first = register(id::fsync, f());
        let published = PER_CALL[id::fsync].load(Ordering::Acquire);
        for _ in 0..100 {
            assert_eq!(register(id::fsync, f()), first);
        }
        assert_eq!(PER_CALL[id::fsync].load(Ordering::Acquire), published, "the same list, not a new one");
        register(id::fsync, None);
        let always = PER_CALL[id::fsync].load(Ordering::Acquire);
        assert_ne!(always, published, "a change is published");
        register(id::fsync, None);
        assert_eq!(PER_CALL[id::fsync].load(Ordering::Acquire), always);
    }

    #[test]
    fn an_empty_path_names_no_file() {
        let empty = cstr("");
        assert_eq!(absolute_path(id::fstatat, &[1, empty.as_ptr() as u64, 0, libc::AT_EMPTY_PATH as u64], 1), None);
    }

    #[test]
    fn path_filters_see_absolute_and_relative_paths() {
        let f = Filter { paths: vec![b"/etc/**".to_vec()], ..Filter::default() };
        let abs = cstr("/etc/hosts");
        assert!(f.matches(id::open, &[abs.as_ptr() as u64, 0, 0]));
        let other = cstr("/tmp/x");
        assert!(!f.matches(id::open, &[other.as_ptr() as u64, 0, 0]));
        let cwd = sys::cwd().unwrap();
        let g = Filter { paths: vec![[cwd.as_slice(), b"/rel*"].concat()], ..Filter::default() };
        let rel = cstr("./relative");
        assert!(g.matches(id::openat, &[libc::AT_FDCWD as i64 as u64, rel.as_ptr() as u64, 0, 0]));
    }

    #[test]
    fn path_filters_on_descriptor_calls_use_the_open_file() {
        let file = std::fs::File::open("/proc/self/status").unwrap();
        use std::os::fd::AsRawFd;
        let fd = file.as_raw_fd() as u64;
        let yes = Filter { paths: vec![b"/proc/**".to_vec()], ..Filter::default() };
        let no = Filter { paths: vec![b"/data/**".to_vec()], ..Filter::default() };
        assert!(yes.matches(id::read, &[fd, 0, 0]));
        assert!(!no.matches(id::read, &[fd, 0, 0]));
    }

    #[test]
    fn path_filters_take_regexps_too() {
        let f = Filter { path_regexes: vec![crate::platform::regex::compile(br"\.log\z", false).unwrap()], ..Filter::default() };
        let yes = cstr("/var/log/app.log");
        let no = cstr("/var/log/app.log.1");
        assert!(f.matches(id::open, &[yes.as_ptr() as u64, 0, 0]));
        assert!(!f.matches(id::open, &[no.as_ptr() as u64, 0, 0]));
    }

    #[test]
    fn fd_ranges_are_inclusive() {
        let f = Filter { fd: Some((3, i64::MAX)), ..Filter::default() };
        assert!(f.matches(id::read, &[3, 0, 0]));
        assert!(!f.matches(id::read, &[2, 0, 0]));
        assert!(!f.matches(id::read, &[-1i64 as u64, 0, 0]), "fd -1 is not 4294967295");
    }

    #[test]
    fn filters_that_cannot_apply_are_refused() {
        let path = Filter { paths: vec![b"/x".to_vec()], ..Filter::default() };
        assert!(check(id::socket, &path).unwrap_err().contains("socket has no path"));
        assert!(check(id::read, &path).is_ok());
        let host = Filter { hosts: vec![b"127.0.0.1".to_vec()], ..Filter::default() };
        assert!(check(id::open, &host).is_err());
        assert!(check(id::connect, &host).is_ok());
    }

    #[test]
    fn the_prefilter_lets_through_what_some_hook_wants() {
        // `rmdir` is used by no other test.
        assert!(wanted(id::rmdir, &[0]), "nothing registered: no opinion");
        let fid = register(id::rmdir, Some(Filter { paths: vec![b"/only/**".to_vec()], ..Filter::default() }));
        let inside = cstr("/only/x");
        let outside = cstr("/elsewhere");
        assert!(wanted(id::rmdir, &[inside.as_ptr() as u64]));
        assert!(!wanted(id::rmdir, &[outside.as_ptr() as u64]));
        assert_eq!(register(id::rmdir, Some(Filter { paths: vec![b"/only/**".to_vec()], ..Filter::default() })), fid);
        register(id::rmdir, None);
        assert!(wanted(id::rmdir, &[outside.as_ptr() as u64]), "an unfiltered hook wants everything");
    }
}
