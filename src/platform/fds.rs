//! hijack's own descriptors inside a hooked process, kept out of the
//! program's way.
//!
//! Every descriptor hijack keeps open in a hooked process (its log, trace
//! files, the fault and audit logs, the control socket, the blackhole
//! listener, a saved copy of standard error) lives in a slot of this module:
//! opened only when first needed, close-on-exec, at a number near the top of
//! the soft RLIMIT_NOFILE (of 1024 when the limit is higher: a larger number
//! grows the kernel's descriptor table of every process of the tree).
//!
//! The calls by which a program acts on a descriptor number it does not hold
//! (close, close_range, closefrom, dup2/dup3 onto it, fcntl on it or
//! F_DUPFD landing on it, a lower RLIMIT_NOFILE, and the same through
//! syscall(2)) pass through this module first (the `fds` annotation of
//! calls.tab): hijack moves its descriptor elsewhere, then the program's call
//! runs and behaves as it would bare (`close` of that number fails with
//! EBADF; `dup2(x, N)` makes N the program's). Moves and writes exclude each
//! other (a readers-writer lock), so hijack never writes to a number it does
//! not own at that moment.
//!
//! Standard error is the program's: hijack writes its log there directly,
//! and saves a copy of it (a slot) only when the program is about to close
//! or replace descriptor 2.
//!
//! Cost for the program: one or two compares per such call; the rest is cold.

use crate::platform::lock::RwSpinLock;
use std::sync::atomic::{AtomicI32, Ordering};

/// How many descriptors hijack may keep (log, three logs' files, trace
/// files, control, blackhole).
const SLOTS: usize = 24;
/// How far below the top of the descriptor range hijack's numbers start.
const SPAN: i32 = 16;
/// The highest top hijack uses, whatever the limit (see the module's text).
const TOP: i32 = 1024;
const EMPTY: i32 = -1;

/// The slots' descriptors; the lock is held for reading while hijack uses
/// one and for writing while one moves.
static TABLE: RwSpinLock<[AtomicI32; SLOTS]> = RwSpinLock::new([const { AtomicI32::new(EMPTY) }; SLOTS]);
/// The lowest descriptor in a slot (i32::MAX: none): the fast check.
static FLOOR: AtomicI32 = AtomicI32::new(i32::MAX);
/// 2 while hijack may write to standard error and has no copy of it; else
/// a number no call names (not -1: close(-1) is common).
const UNWATCHED: i32 = i32::MIN;
static WATCHED: AtomicI32 = AtomicI32::new(UNWATCHED);
/// The slot holding hijack's copy of standard error (usize::MAX: none).
static STDERR_SLOT: AtomicI32 = AtomicI32::new(EMPTY);
/// The process whose descriptor table the slots describe (a vfork child
/// shares the slots' memory, not the table: it never moves them).
static OWNER: AtomicI32 = AtomicI32::new(0);

/// A slot of hijack's: a descriptor hijack owns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Owned(u8);

/// True when a call that closes or replaces `fd` may act on one of hijack's
/// numbers (or on standard error while hijack has no copy of it).
#[inline(always)]
fn touches(fd: i32) -> bool {
    fd >= FLOOR.load(Ordering::Relaxed) || fd == WATCHED.load(Ordering::Relaxed)
}

/// True when a call that only reads `fd` may name one of hijack's numbers.
#[inline(always)]
fn names(fd: i32) -> bool {
    fd >= FLOOR.load(Ordering::Relaxed)
}

mod raw {
    //! The real functions, never hijack's entry points (which would guard
    //! hijack's own calls against itself).
    use crate::platform::real;

    pub fn close(fd: i32) -> i32 {
        // SAFETY: closing a descriptor number.
        real::close.get().map_or(-1, |f| unsafe { f(fd) })
    }

    /// fcntl(fd, F_DUPFD_CLOEXEC, base): the lowest free number >= base.
    pub fn dup_at_least(fd: i32, base: i32) -> i32 {
        // SAFETY: duplicating a descriptor.
        real::fcntl.get().map_or(-1, |f| unsafe { f(fd, libc::F_DUPFD_CLOEXEC, base as libc::c_long) })
    }

    /// dup2 with the close-on-exec flag of `cloexec`.
    pub fn dup_onto(fd: i32, to: i32, cloexec: bool) -> i32 {
        // SAFETY: duplicating a descriptor onto a number.
        let r = real::dup2.get().map_or(-1, |f| unsafe { f(fd, to) });
        if r >= 0 && cloexec {
            // SAFETY: setting a flag of a descriptor.
            real::fcntl.get().map(|f| unsafe { f(to, libc::F_SETFD, libc::FD_CLOEXEC as libc::c_long) });
        }
        r
    }

    pub fn cloexec(fd: i32) -> bool {
        // SAFETY: reading a descriptor's flags.
        real::fcntl.get().is_some_and(|f| unsafe { f(fd, libc::F_GETFD, 0 as libc::c_long) } & libc::FD_CLOEXEC != 0)
    }

    pub fn soft_limit() -> i32 {
        let mut rl = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: rl is a valid out buffer.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl) } != 0 || rl.rlim_cur == libc::RLIM_INFINITY {
            return super::TOP;
        }
        rl.rlim_cur.min(i32::MAX as libc::rlim_t) as i32
    }
}

/// The first number hijack tries under a soft limit of `limit`.
fn base(limit: i32) -> i32 {
    let top = limit.min(TOP);
    (top - SPAN.min(top / 4)).max(3)
}

/// Moves `fd` (hijack's, not in a slot) to a number below `limit` out of the
/// program's way, closing the original; the descriptor, moved or not.
fn place(fd: i32, limit: i32) -> i32 {
    let moved = raw::dup_at_least(fd, base(limit));
    if moved < 0 {
        return fd;
    }
    raw::close(fd);
    moved
}

fn refloor(slots: &[AtomicI32; SLOTS]) {
    let floor = slots.iter().map(|s| s.load(Ordering::Relaxed)).filter(|fd| *fd >= 0).min().unwrap_or(i32::MAX);
    FLOOR.store(floor, Ordering::Relaxed);
}

fn pid() -> i32 {
    // SAFETY: getpid has no preconditions.
    unsafe { libc::getpid() }
}

extern "C" fn fork_prepare() {
    TABLE.raw_lock();
}

extern "C" fn fork_parent() {
    // SAFETY: taken by fork_prepare on this thread.
    unsafe { TABLE.raw_unlock() };
}

extern "C" fn fork_child() {
    OWNER.store(pid(), Ordering::Relaxed);
    fork_parent();
}

/// Notes the owning process (once): a fork child takes the slots over.
fn own() {
    if OWNER.load(Ordering::Relaxed) == 0 && OWNER.compare_exchange(0, pid(), Ordering::Relaxed, Ordering::Relaxed).is_ok() {
        // SAFETY: registering plain functions.
        unsafe { libc::pthread_atfork(Some(fork_prepare), Some(fork_parent), Some(fork_child)) };
    }
}

/// Takes `fd` (just opened by hijack) into a slot, at a number out of the
/// program's way. None when every slot is taken (the descriptor is closed).
pub fn adopt(fd: i32) -> Option<Owned> {
    if fd < 0 {
        return None;
    }
    own();
    let table = TABLE.write();
    let Some(i) = table.iter().position(|s| s.load(Ordering::Relaxed) == EMPTY) else {
        raw::close(fd);
        return None;
    };
    table[i].store(place(fd, raw::soft_limit()), Ordering::Relaxed);
    refloor(&table);
    Some(Owned(i as u8))
}

impl Owned {
    /// Runs `f` with the slot's descriptor, which does not move meanwhile.
    pub fn with<R>(self, f: impl FnOnce(i32) -> R) -> R {
        let table = TABLE.read();
        f(table[self.0 as usize].load(Ordering::Relaxed))
    }

    /// The slot's descriptor now (it may move right after: only for a call
    /// that must not hold up a move, such as a wait for a connection).
    pub fn current(self) -> i32 {
        TABLE.read()[self.0 as usize].load(Ordering::Relaxed)
    }
}

/// From now on, hijack may write to standard error: it saves a copy of it
/// before the program closes or replaces descriptor 2.
pub fn watch_stderr() {
    own();
    if STDERR_SLOT.load(Ordering::Relaxed) == EMPTY {
        WATCHED.store(2, Ordering::Relaxed);
    }
}

/// Runs `f` with hijack's standard error: descriptor 2 itself until the
/// program acted on it, then hijack's copy.
pub fn with_stderr<R>(f: impl FnOnce(i32) -> R) -> R {
    let table = TABLE.read();
    let slot = STDERR_SLOT.load(Ordering::Relaxed);
    let fd = if slot == EMPTY { 2 } else { table[slot as usize].load(Ordering::Relaxed) };
    f(fd)
}

/// Makes `fd` free of hijack before the program's call acts on that number
/// (as a target: `replaces` when it closes or replaces the number, and
/// standard error is saved first). False in a process that shares the
/// slots' memory but not their table (a vfork child): nothing moved.
#[cold]
#[inline(never)]
fn clear(fd: i32, replaces: bool) -> bool {
    let mut table = TABLE.write();
    if OWNER.load(Ordering::Relaxed) != pid() {
        return false;
    }
    if replaces && fd == 2 && WATCHED.load(Ordering::Relaxed) == 2 {
        if let Some(i) = table.iter().position(|s| s.load(Ordering::Relaxed) == EMPTY) {
            let copy = raw::dup_at_least(2, base(raw::soft_limit()));
            if copy >= 0 {
                table[i].store(copy, Ordering::Relaxed);
                STDERR_SLOT.store(i as i32, Ordering::Relaxed);
                WATCHED.store(UNWATCHED, Ordering::Relaxed);
            }
        }
    }
    move_off(&mut table, fd);
    refloor(&table);
    true
}

/// Moves the slot holding `fd`, if any, to another number.
fn move_off(table: &mut [AtomicI32; SLOTS], fd: i32) {
    let Some(slot) = table.iter().find(|s| s.load(Ordering::Relaxed) == fd) else { return };
    let moved = raw::dup_at_least(fd, base(raw::soft_limit()));
    let moved = if moved < 0 { raw::dup_at_least(fd, 3) } else { moved };
    if moved >= 0 {
        slot.store(moved, Ordering::Relaxed);
        raw::close(fd);
    }
}

/// The slots' descriptors in [first, last].
fn owned_in(table: &[AtomicI32; SLOTS], first: u32, last: u32) -> Vec<u32> {
    let mut v: Vec<u32> = table
        .iter()
        .map(|s| s.load(Ordering::Relaxed))
        .filter(|fd| *fd >= 0 && (first..=last).contains(&(*fd as u32)))
        .map(|fd| fd as u32)
        .collect();
    v.sort_unstable();
    v
}

// The calls of calls.tab marked `fds`. Each takes the real function and the
// program's arguments.

// What each kind of argument needs before the call (the fast check inline,
// the rest cold).

/// Before a call that closes `fd`: true when it must fail with EBADF instead
/// (a vfork child closing hijack's number: bare, it would not be open).
#[inline(always)]
fn closing(fd: i32) -> bool {
    if touches(fd) && !clear(fd, true) && is_owned(fd) {
        crate::platform::sys::set_errno(libc::EBADF);
        return true;
    }
    false
}

/// Before a call that names `fd` as its source (dup, fcntl).
#[inline(always)]
fn reading(fd: i32) {
    if names(fd) {
        clear(fd, false);
    }
}

/// Before a call that makes `fd` the program's (dup2/dup3's target).
#[inline(always)]
fn replacing(fd: i32) {
    if touches(fd) {
        clear(fd, true);
    }
}

/// After fcntl(cmd, arg) gave `r`: an F_DUPFD that landed past one of
/// hijack's numbers gets the number bare would have given.
#[inline(always)]
fn duplicated(cmd: i32, arg: i64, r: i64) -> i64 {
    if (cmd == libc::F_DUPFD || cmd == libc::F_DUPFD_CLOEXEC) && r > arg && r > FLOOR.load(Ordering::Relaxed) as i64 {
        return landed(r as i32, arg as i32) as i64;
    }
    r
}

#[inline(always)]
pub unsafe fn close(real: unsafe extern "C" fn(libc::c_int) -> libc::c_int, fd: libc::c_int) -> libc::c_int {
    if closing(fd) {
        return -1;
    }
    real(fd)
}

fn is_owned(fd: i32) -> bool {
    TABLE.read().iter().any(|s| s.load(Ordering::Relaxed) == fd)
}

#[inline(always)]
pub unsafe fn dup(real: unsafe extern "C" fn(libc::c_int) -> libc::c_int, fd: libc::c_int) -> libc::c_int {
    reading(fd);
    real(fd)
}

#[inline(always)]
pub unsafe fn dup2(real: unsafe extern "C" fn(libc::c_int, libc::c_int) -> libc::c_int, fd: libc::c_int, to: libc::c_int) -> libc::c_int {
    reading(fd);
    replacing(to);
    real(fd, to)
}

#[inline(always)]
pub unsafe fn dup3(
    real: unsafe extern "C" fn(libc::c_int, libc::c_int, libc::c_int) -> libc::c_int,
    fd: libc::c_int,
    to: libc::c_int,
    flags: libc::c_int,
) -> libc::c_int {
    reading(fd);
    replacing(to);
    real(fd, to, flags)
}

#[inline(always)]
pub unsafe fn fcntl(
    real: unsafe extern "C" fn(libc::c_int, libc::c_int, ...) -> libc::c_int,
    fd: libc::c_int,
    cmd: libc::c_int,
    arg: libc::c_long,
) -> libc::c_int {
    reading(fd);
    duplicated(cmd, arg as i64, real(fd, cmd, arg) as i64) as libc::c_int
}

/// F_DUPFD gave `r`, the lowest free number >= `min` with hijack's numbers
/// taken: bare, the program would have had the lowest of hijack's in
/// [min, r) (all the others there are the program's). Hands it over.
#[cold]
#[inline(never)]
fn landed(r: i32, min: i32) -> i32 {
    let mut table = TABLE.write();
    if OWNER.load(Ordering::Relaxed) != pid() {
        return r;
    }
    let Some(&bare) = owned_in(&table, min.max(0) as u32, (r - 1) as u32).first() else { return r };
    let bare = bare as i32;
    move_off(&mut table, bare);
    refloor(&table);
    if raw::dup_onto(r, bare, raw::cloexec(r)) < 0 {
        return r;
    }
    raw::close(r);
    bare
}

pub use self::fcntl as fcntl64;

/// The descriptor under a stdio stream that is about to be closed or
/// reopened (fclose, freopen: the C library closes it internally).
unsafe fn stream_closing(stream: *mut libc::c_void) {
    if stream.is_null() {
        return;
    }
    let fd = libc::fileno(stream as *mut libc::FILE);
    if fd >= 0 && touches(fd) {
        clear(fd, true);
    }
}

#[inline(always)]
pub unsafe fn fclose(real: unsafe extern "C" fn(*mut libc::c_void) -> libc::c_int, stream: *mut libc::c_void) -> libc::c_int {
    stream_closing(stream);
    real(stream)
}

#[inline(always)]
pub unsafe fn freopen(
    real: unsafe extern "C" fn(*mut libc::c_void, *mut libc::c_void, *mut libc::c_void) -> *mut libc::c_void,
    path: *mut libc::c_void,
    mode: *mut libc::c_void,
    stream: *mut libc::c_void,
) -> *mut libc::c_void {
    stream_closing(stream);
    real(path, mode, stream)
}

pub use self::freopen as freopen64;

/// daemon(3) points 0, 1 and 2 at /dev/null unless `noclose`.
#[inline(always)]
pub unsafe fn daemon(real: unsafe extern "C" fn(libc::c_int, libc::c_int) -> libc::c_int, nochdir: libc::c_int, noclose: libc::c_int) -> libc::c_int {
    if noclose == 0 && touches(2) {
        clear(2, true);
    }
    real(nochdir, noclose)
}

#[inline(always)]
pub unsafe fn close_range(
    real: unsafe extern "C" fn(libc::c_uint, libc::c_uint, libc::c_int) -> libc::c_int,
    first: libc::c_uint,
    last: libc::c_uint,
    flags: libc::c_int,
) -> libc::c_int {
    if first > last || !ranges_touch(first, last) {
        return real(first, last, flags);
    }
    around_owned(first, last, |a, b| real(a, b, flags))
}

/// Whether [first, last] holds one of hijack's numbers (or descriptor 2
/// while watched).
#[inline(always)]
fn ranges_touch(first: u32, last: u32) -> bool {
    let floor = FLOOR.load(Ordering::Relaxed);
    (floor != i32::MAX && last >= floor as u32) || (WATCHED.load(Ordering::Relaxed) == 2 && first <= 2 && last >= 2)
}

/// Runs `close(a, b)` on the parts of [first, last] that hold none of
/// hijack's numbers (those stay: there is no room to move them outside a
/// range that ends at the top). The first failure, or 0.
#[cold]
#[inline(never)]
fn around_owned(first: u32, last: u32, close: impl Fn(u32, u32) -> i32) -> i32 {
    if first <= 2 && last >= 2 {
        clear(2, true);
    }
    let owned = owned_in(&TABLE.read(), first, last);
    let mut result = 0;
    let mut from = first;
    for fd in owned {
        if fd > from {
            let r = close(from, fd - 1);
            if result == 0 {
                result = r;
            }
        }
        from = fd + 1;
    }
    if from <= last && from != 0 {
        let r = close(from, last);
        if result == 0 {
            result = r;
        }
    }
    result
}

#[inline(always)]
pub unsafe fn closefrom(real: unsafe extern "C" fn(libc::c_int), low: libc::c_int) {
    let first = low.max(0) as u32;
    if !ranges_touch(first, u32::MAX) {
        return real(low);
    }
    around_owned(first, u32::MAX, |a, b| {
        if b == u32::MAX {
            real(a as libc::c_int);
            0
        } else {
            close_numbers(a, b)
        }
    });
}

/// Closes [a, b] with close_range, or one by one where it is missing.
fn close_numbers(a: u32, b: u32) -> i32 {
    #[cfg(target_os = "linux")]
    if let Some(f) = crate::platform::real::close_range.get() {
        // SAFETY: closing numbers the program asked to close.
        if unsafe { f(a, b, 0) } == 0 {
            return 0;
        }
    }
    for fd in a..=b {
        raw::close(fd as i32);
    }
    0
}

/// Before the soft RLIMIT_NOFILE drops to `soft` (None: no new limit):
/// hijack's numbers at or above it move below it, where there is room.
fn limit_lowered(resource: libc::c_int, soft: Option<u64>) {
    let Some(soft) = soft else { return };
    if resource as i64 != libc::RLIMIT_NOFILE as i64 || soft > i32::MAX as u64 {
        return;
    }
    let soft = soft as i32;
    if FLOOR.load(Ordering::Relaxed) < soft {
        return;
    }
    lower(soft);
}

#[cold]
#[inline(never)]
fn lower(soft: i32) {
    let table = TABLE.write();
    if OWNER.load(Ordering::Relaxed) != pid() {
        return;
    }
    for slot in table.iter() {
        let fd = slot.load(Ordering::Relaxed);
        if fd >= soft {
            let moved = raw::dup_at_least(fd, base(soft));
            if moved >= 0 && moved < soft {
                slot.store(moved, Ordering::Relaxed);
                raw::close(fd);
            } else if moved >= 0 {
                raw::close(moved);
            }
        }
    }
    refloor(&table);
}

/// The soft limit a struct rlimit (or rlimit64) asks for.
unsafe fn soft_of(rlim: *const libc::c_void) -> Option<u64> {
    // rlim_cur is the first field, of rlim_t's size (64 bits in rlimit64).
    if rlim.is_null() {
        return None;
    }
    Some(*(rlim as *const libc::rlim_t) as u64)
}

unsafe fn soft_of64(rlim: *const libc::c_void) -> Option<u64> {
    if rlim.is_null() {
        return None;
    }
    Some(*(rlim as *const u64))
}

#[inline(always)]
pub unsafe fn setrlimit(
    real: unsafe extern "C" fn(libc::c_int, *mut libc::c_void) -> libc::c_int,
    resource: libc::c_int,
    rlim: *mut libc::c_void,
) -> libc::c_int {
    limit_lowered(resource, soft_of(rlim));
    real(resource, rlim)
}

#[inline(always)]
pub unsafe fn setrlimit64(
    real: unsafe extern "C" fn(libc::c_int, *mut libc::c_void) -> libc::c_int,
    resource: libc::c_int,
    rlim: *mut libc::c_void,
) -> libc::c_int {
    limit_lowered(resource, soft_of64(rlim));
    real(resource, rlim)
}

fn own_process(pid: libc::pid_t) -> bool {
    pid == 0 || pid == self::pid()
}

#[inline(always)]
pub unsafe fn prlimit(
    real: unsafe extern "C" fn(libc::pid_t, libc::c_int, *mut libc::c_void, *mut libc::c_void) -> libc::c_int,
    pid: libc::pid_t,
    resource: libc::c_int,
    new: *mut libc::c_void,
    old: *mut libc::c_void,
) -> libc::c_int {
    if !new.is_null() && own_process(pid) {
        limit_lowered(resource, soft_of(new));
    }
    real(pid, resource, new, old)
}

#[inline(always)]
pub unsafe fn prlimit64(
    real: unsafe extern "C" fn(libc::pid_t, libc::c_int, *mut libc::c_void, *mut libc::c_void) -> libc::c_int,
    pid: libc::pid_t,
    resource: libc::c_int,
    new: *mut libc::c_void,
    old: *mut libc::c_void,
) -> libc::c_int {
    if !new.is_null() && own_process(pid) {
        limit_lowered(resource, soft_of64(new));
    }
    real(pid, resource, new, old)
}

/// syscall(2) with the numbers of the calls above.
#[cfg(target_os = "linux")]
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub unsafe fn syscall(
    real: unsafe extern "C" fn(libc::c_long, ...) -> libc::c_long,
    n: libc::c_long,
    a1: libc::c_long,
    a2: libc::c_long,
    a3: libc::c_long,
    a4: libc::c_long,
    a5: libc::c_long,
    a6: libc::c_long,
) -> libc::c_long {
    let plain = || real(n, a1, a2, a3, a4, a5, a6);
    match n {
        libc::SYS_close => {
            if closing(a1 as i32) {
                return -1;
            }
            plain()
        }
        libc::SYS_close_range => {
            let (first, last) = (a1 as u32, a2 as u32);
            if first > last || !ranges_touch(first, last) {
                return plain();
            }
            around_owned(first, last, |a, b| real(n, a as libc::c_long, b as libc::c_long, a3) as i32) as libc::c_long
        }
        libc::SYS_dup => {
            reading(a1 as i32);
            plain()
        }
        #[cfg(any(target_arch = "x86_64", target_arch = "x86"))]
        libc::SYS_dup2 => {
            reading(a1 as i32);
            replacing(a2 as i32);
            plain()
        }
        libc::SYS_dup3 => {
            reading(a1 as i32);
            replacing(a2 as i32);
            plain()
        }
        #[cfg(target_arch = "x86")]
        libc::SYS_fcntl64 => {
            reading(a1 as i32);
            duplicated(a2 as i32, a3 as i64, plain() as i64) as libc::c_long
        }
        libc::SYS_fcntl => {
            reading(a1 as i32);
            duplicated(a2 as i32, a3 as i64, plain() as i64) as libc::c_long
        }
        #[cfg(any(target_arch = "x86_64", target_arch = "x86"))]
        libc::SYS_setrlimit => {
            limit_lowered(a1 as i32, soft_of(a2 as usize as *const libc::c_void));
            plain()
        }
        libc::SYS_prlimit64 => {
            if a3 != 0 && own_process(a1 as i32) {
                limit_lowered(a2 as i32, soft_of64(a3 as usize as *const libc::c_void));
            }
            plain()
        }
        _ => plain(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_descriptor_number_is_watched_or_owned_until_hijack_has_one() {
        // close(-1) and friends must stay on the fast path (other tests of
        // this process may own a high number: only the low ones here)
        for fd in [-1, 0, 1, i32::MIN + 1] {
            assert!(!touches(fd), "{fd}");
            assert!(!names(fd), "{fd}");
        }
    }

    #[test]
    fn hijacks_numbers_start_below_the_top_of_the_limit() {
        assert_eq!(base(1024), 1008);
        assert_eq!(base(1 << 20), 1008, "capped: a huge limit would grow every process's table");
        assert_eq!(base(64), 48);
        assert_eq!(base(16), 12);
        assert_eq!(base(4), 3);
    }
}
