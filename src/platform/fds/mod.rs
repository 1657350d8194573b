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
//! syscall(2)) pass through [`calls`] first (`via fds` in calls.tab): hijack
//! moves its descriptor elsewhere, then the program's call
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

// Around fork (pthread_atfork), and around a clone() that copies the
// process (src/entry/forks.rs: glibc's clone runs no atfork handler).
// (taken only where another thread could hold it: see ForkLocking)
static LOCKING: crate::platform::lock::ForkLocking = crate::platform::lock::ForkLocking::new();

pub extern "C" fn fork_prepare() {
    if LOCKING.decide() {
        TABLE.raw_lock();
    }
}

pub extern "C" fn fork_parent() {
    if LOCKING.taken() {
        // SAFETY: taken by fork_prepare on this thread.
        unsafe { TABLE.raw_unlock() };
    }
}

pub extern "C" fn fork_child() {
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

fn is_owned(fd: i32) -> bool {
    TABLE.read().iter().any(|s| s.load(Ordering::Relaxed) == fd)
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

pub mod calls;

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
