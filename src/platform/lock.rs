//! A spin lock that a fork child can reset: hijack's few process-wide
//! structures (Hijack::Shared, the filter registry) are guarded by these, and
//! pthread_atfork makes sure a child never inherits one held by a thread that
//! does not exist in it.

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

/// Spins a little, then yields the processor: a holder that was preempted
/// gets to run.
fn backoff(spins: &mut u32) {
    *spins += 1;
    if *spins > 64 {
        std::thread::yield_now();
    } else {
        std::hint::spin_loop();
    }
}

pub struct SpinLock<T> {
    held: AtomicBool,
    value: UnsafeCell<T>,
}

// SAFETY: access to the value goes through the lock.
unsafe impl<T: Send> Sync for SpinLock<T> {}

pub struct SpinGuard<'a, T> {
    lock: &'a SpinLock<T>,
    _allow: Allow,
}

/// While one of hijack's locks is held, the thread's system calls are
/// hijack's own (--all-syscalls: the selector at ALLOW), so that none goes
/// to a hook that would want the lock again.
struct Allow(Option<u8>);

impl Allow {
    #[inline]
    fn new() -> Allow {
        Allow(super::sud::on().then(|| super::sud::swap(super::sud::ALLOW)))
    }
}

impl Drop for Allow {
    #[inline]
    fn drop(&mut self) {
        if let Some(v) = self.0 {
            super::sud::swap(v);
        }
    }
}

impl<T> SpinLock<T> {
    pub const fn new(value: T) -> Self {
        SpinLock { held: AtomicBool::new(false), value: UnsafeCell::new(value) }
    }

    pub fn lock(&self) -> SpinGuard<'_, T> {
        let allow = Allow::new();
        let mut spins = 0u32;
        while self.held.compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed).is_err() {
            backoff(&mut spins);
        }
        SpinGuard { lock: self, _allow: allow }
    }

    /// Takes the lock without a guard (pthread_atfork's prepare handler).
    pub fn raw_lock(&self) {
        std::mem::forget(self.lock());
    }

    /// Releases a lock taken with raw_lock (the atfork parent and child
    /// handlers), or, in a fork child, one whose holder is gone.
    pub unsafe fn raw_unlock(&self) {
        self.held.store(false, Ordering::Release);
    }
}

impl<T> std::ops::Deref for SpinGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the lock.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T> std::ops::DerefMut for SpinGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the lock.
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T> Drop for SpinGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.held.store(false, Ordering::Release);
    }
}

/// A readers-writer spin lock that a fork child can reset: readers do not
/// hold each other up (a reader preempted with it held stops no other
/// reader), and a waiting writer keeps new readers out.
pub struct RwSpinLock<T> {
    state: AtomicU32,
    value: UnsafeCell<T>,
}

const WRITER: u32 = 1 << 31;
const WAITING: u32 = 1 << 30;

// SAFETY: access to the value goes through the lock.
unsafe impl<T: Send + Sync> Sync for RwSpinLock<T> {}

pub struct ReadGuard<'a, T> {
    lock: &'a RwSpinLock<T>,
    _allow: Allow,
}

pub struct WriteGuard<'a, T> {
    lock: &'a RwSpinLock<T>,
    _allow: Allow,
}


impl<T> RwSpinLock<T> {
    pub const fn new(value: T) -> Self {
        RwSpinLock { state: AtomicU32::new(0), value: UnsafeCell::new(value) }
    }

    pub fn read(&self) -> ReadGuard<'_, T> {
        let allow = Allow::new();
        let mut spins = 0;
        loop {
            let s = self.state.load(Ordering::Relaxed);
            if s & (WRITER | WAITING) == 0
                && self.state.compare_exchange_weak(s, s + 1, Ordering::Acquire, Ordering::Relaxed).is_ok()
            {
                return ReadGuard { lock: self, _allow: allow };
            }
            backoff(&mut spins);
        }
    }

    pub fn write(&self) -> WriteGuard<'_, T> {
        let allow = Allow::new();
        let mut spins = 0;
        loop {
            let s = self.state.load(Ordering::Relaxed);
            if s & !WAITING == 0 {
                if self.state.compare_exchange_weak(s, WRITER, Ordering::Acquire, Ordering::Relaxed).is_ok() {
                    return WriteGuard { lock: self, _allow: allow };
                }
            } else if s & WAITING == 0 {
                self.state.fetch_or(WAITING, Ordering::Relaxed);
            }
            backoff(&mut spins);
        }
    }

    /// Takes the lock for writing without a guard (pthread_atfork's prepare).
    pub fn raw_lock(&self) {
        std::mem::forget(self.write());
    }

    /// Releases a lock taken with raw_lock, or, in a fork child, one whose
    /// holders are gone.
    pub unsafe fn raw_unlock(&self) {
        self.state.store(0, Ordering::Release);
    }
}

impl<T> std::ops::Deref for ReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the lock for reading.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T> Drop for ReadGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.state.fetch_sub(1, Ordering::Release);
    }
}

impl<T> std::ops::Deref for WriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the lock.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T> std::ops::DerefMut for WriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the lock.
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T> Drop for WriteGuard<'_, T> {
    fn drop(&mut self) {
        // keeps a waiting writer's mark
        self.lock.state.fetch_and(WAITING, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_add_up() {
        static COUNT: SpinLock<u64> = SpinLock::new(0);
        let threads: Vec<_> = (0..4)
            .map(|_| {
                std::thread::spawn(|| {
                    for _ in 0..10_000 {
                        *COUNT.lock() += 1;
                    }
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        assert_eq!(*COUNT.lock(), 40_000);
    }

    #[test]
    fn readers_share_and_writers_exclude() {
        static RW: RwSpinLock<u64> = RwSpinLock::new(0);
        let threads: Vec<_> = (0..4)
            .map(|i| {
                std::thread::spawn(move || {
                    for _ in 0..5_000 {
                        if i % 2 == 0 {
                            let mut w = RW.write();
                            let v: &mut u64 = &mut w;
                            // (volatile: the odd value is really stored)
                            unsafe { std::ptr::write_volatile(v, *v + 1) };
                            for _ in 0..20 {
                                std::hint::spin_loop();
                            }
                            unsafe { std::ptr::write_volatile(v, *v + 1) };
                        } else {
                            // a reader never sees a write half done: the
                            // writer makes the value odd, then even again
                            let r = RW.read();
                            let seen = unsafe { std::ptr::read_volatile(&*r) };
                            assert!(seen % 2 == 0, "a reader saw a writer inside the lock: {seen}");
                        }
                    }
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        assert_eq!(*RW.read(), 20_000);
    }
}

/// Whether a fork's handlers take hijack's locks: only where another thread
/// could hold one. A process whose only thread is the forking one has no
/// such thread, and then neither the parent nor the child writes a lock
/// after the fork (each such write copies a page, in the child and again in
/// the parent, for every fork of a shell or a make).
pub struct ForkLocking(AtomicBool);

impl ForkLocking {
    pub const fn new() -> Self {
        ForkLocking(AtomicBool::new(true))
    }

    /// At a fork's prepare: whether to take the locks (kept for [`taken`]).
    ///
    /// [`taken`]: ForkLocking::taken
    pub fn decide(&self) -> bool {
        let others = !super::sys::single_threaded();
        // (written only when it changes: the page stays unwritten)
        if self.0.load(Ordering::Relaxed) != others {
            self.0.store(others, Ordering::Relaxed);
        }
        others
    }

    /// After the fork, in the parent or the child: whether prepare took them.
    pub fn taken(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}
