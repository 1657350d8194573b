//! Directory listings under Hijack::FS: a hidden path is left out of what
//! readdir returns, a fake file appears in its directory's listing (after
//! the real entries, unless one has its name). Without rules, readdir is
//! the real one.

use crate::platform::{glob, lock::SpinLock, sys};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};

struct Rules {
    hidden: Vec<Vec<u8>>,
    /// Fake files: their directory, and their name.
    fakes: Vec<(Vec<u8>, Vec<u8>)>,
}

/// What one open directory stream still has to list.
struct Stream {
    dir: Vec<u8>,
    /// The fakes of this directory not listed yet.
    fakes: Vec<Vec<u8>>,
    /// The entry last returned for a fake (alive until the next readdir).
    entry: Box<[u8]>,
}

static ACTIVE: AtomicBool = AtomicBool::new(false);
static RULES: SpinLock<Option<Rules>> = SpinLock::new(None);
static STREAMS: SpinLock<Option<HashMap<usize, Stream>>> = SpinLock::new(None);

/// The rules of Hijack::FS (absolute globs to hide, absolute fake paths).
pub fn set_rules(hidden: Vec<Vec<u8>>, fake_paths: Vec<Vec<u8>>) {
    let fakes = fake_paths
        .into_iter()
        .filter_map(|p| {
            let cut = p.iter().rposition(|&b| b == b'/')?;
            let dir = if cut == 0 { b"/".to_vec() } else { p[..cut].to_vec() };
            Some((dir, p[cut + 1..].to_vec()))
        })
        .collect::<Vec<_>>();
    ACTIVE.store(!hidden.is_empty() || !fakes.is_empty(), Ordering::Release);
    *RULES.lock() = Some(Rules { hidden, fakes });
}

/// The layout of a directory entry type (struct dirent, dirent64): the
/// offsets of d_name, d_reclen and d_type, and its size.
pub trait Entry {
    const NAME: usize;
    const RECLEN: usize;
    const TYPE: usize;
    const SIZE: usize;
}

macro_rules! entry_layout {
    ($t:ty) => {
        impl Entry for $t {
            const NAME: usize = std::mem::offset_of!($t, d_name);
            const RECLEN: usize = std::mem::offset_of!($t, d_reclen);
            const TYPE: usize = std::mem::offset_of!($t, d_type);
            const SIZE: usize = std::mem::size_of::<$t>();
        }
    };
}
entry_layout!(libc::dirent);
#[cfg(target_os = "linux")]
entry_layout!(libc::dirent64);

type RealReaddir = unsafe extern "C" fn(*mut libc::c_void) -> *mut libc::c_void;

/// The entry points' way in (`via listing` in calls.tab).
pub unsafe fn readdir(real: RealReaddir, dirp: *mut libc::c_void) -> *mut libc::c_void {
    filtered::<libc::dirent>(real, dirp)
}

#[cfg(target_os = "linux")]
pub unsafe fn readdir64(real: RealReaddir, dirp: *mut libc::c_void) -> *mut libc::c_void {
    filtered::<libc::dirent64>(real, dirp)
}

pub unsafe fn closedir(real: unsafe extern "C" fn(*mut libc::c_void) -> libc::c_int, dirp: *mut libc::c_void) -> libc::c_int {
    closed(dirp);
    real(dirp)
}

/// The name in a directory entry.
///
/// # Safety
/// `entry` points to an entry of type `T`.
unsafe fn name_of<'a, T: Entry>(entry: *const u8) -> &'a [u8] {
    std::ffi::CStr::from_ptr(entry.add(T::NAME).cast()).to_bytes()
}

fn joined(dir: &[u8], name: &[u8]) -> Vec<u8> {
    let mut p = dir.to_vec();
    if !p.ends_with(b"/") {
        p.push(b'/');
    }
    p.extend_from_slice(name);
    p
}

/// readdir through the rules: `real` is the C library's readdir (or
/// readdir64, whose entries are `T`), `dirp` the stream.
///
/// # Safety
/// `real` is the real function, `dirp` an open stream, and `T` its entry type.
unsafe fn filtered<T: Entry>(real: RealReaddir, dirp: *mut libc::c_void) -> *mut libc::c_void {
    if !ACTIVE.load(Ordering::Acquire) {
        return real(dirp);
    }
    // (what runs here is hijack's: its own calls are not hooked)
    let _inside = crate::platform::guard::enter();
    let fd = libc::dirfd(dirp.cast());
    let errno = sys::errno();
    loop {
        let entry = real(dirp);
        let mut streams = STREAMS.lock();
        let streams = streams.get_or_insert_with(HashMap::new);
        let stream = streams.entry(dirp as usize).or_insert_with(|| new_stream(fd));
        if entry.is_null() {
            // the real entries are over (or failed): then the fakes
            if sys::errno() != errno || stream.fakes.is_empty() {
                return entry;
            }
            let name = stream.fakes.remove(0);
            stream.entry = fake_entry::<T>(&name);
            return stream.entry.as_mut_ptr().cast();
        }
        let name = name_of::<T>(entry.cast());
        let path = joined(&stream.dir, name);
        let rules = RULES.lock();
        let hidden = rules.as_ref().is_some_and(|r| r.hidden.iter().any(|g| glob::matches(g, &path)));
        if hidden {
            continue;
        }
        stream.fakes.retain(|f| f.as_slice() != name);
        return entry;
    }
}

fn new_stream(fd: i32) -> Stream {
    let dir = sys::fd_path(fd).unwrap_or_default();
    let rules = RULES.lock();
    let fakes = rules
        .as_ref()
        .map(|r| r.fakes.iter().filter(|(d, _)| *d == dir).map(|(_, n)| n.clone()).collect())
        .unwrap_or_default();
    Stream { dir, fakes, entry: Box::new([]) }
}

/// A regular file's entry named `name`, laid out as a `T`.
fn fake_entry<T: Entry>(name: &[u8]) -> Box<[u8]> {
    let size = (T::NAME + name.len() + 1).next_multiple_of(8).max(T::SIZE);
    let mut e = vec![0u8; size].into_boxed_slice();
    // an inode number no real entry here has: 1 is never a file's
    e[0] = 1;
    e[T::RECLEN..T::RECLEN + 2].copy_from_slice(&(size as u16).to_ne_bytes());
    e[T::TYPE] = libc::DT_REG;
    e[T::NAME..T::NAME + name.len()].copy_from_slice(name);
    e
}

/// Around fork: the child must not inherit these locks held by a thread it
/// does not have (taken in the order readdir takes them).
pub fn fork_lock() {
    STREAMS.raw_lock();
    RULES.raw_lock();
}

/// # Safety
/// After [`fork_lock`], on the same thread.
pub unsafe fn fork_unlock() {
    RULES.raw_unlock();
    STREAMS.raw_unlock();
}

/// closedir: the stream's state goes with it.
fn closed(dirp: *mut libc::c_void) {
    if ACTIVE.load(Ordering::Acquire) {
        if let Some(s) = STREAMS.lock().as_mut() {
            s.remove(&(dirp as usize));
        }
    }
}
