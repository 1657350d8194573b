//! What hijack keeps per thread, in one thread-local (one lookup per hooked
//! call): the re-entrancy guard, and the thread's VM (vm.rs).
//!
//! While a thread runs hijack's own code (hook code, mruby, Rust), every
//! interposed call it makes goes straight to the real function. It is also
//! what makes a call from a signal handler that interrupts a hook go
//! straight through.

use super::sud;
use std::cell::Cell;
use std::ffi::c_void;

/// One thread's state.
pub struct Thread {
    active: Cell<bool>,
    /// The system-call selector as the program had it (--all-syscalls:
    /// ALLOW while hijack's own code runs).
    selector: Cell<u8>,
    /// The thread's VM (a `Box<vm::Vm>`; null: none yet).
    pub vm: Cell<*mut c_void>,
    /// Making the thread's VM failed: it is not tried again.
    pub vm_failed: Cell<bool>,
    /// In the real call of a hooked function (--all-syscalls: a signal
    /// handler of the program's that runs now is the program's code).
    at_real: Cell<bool>,
    /// --all-syscalls: in the program's allocator (its lock may be held):
    /// what hijack's code allocates meanwhile must not come from it.
    in_allocator: Cell<bool>,
    /// --all-syscalls: the signal frames whose handler runs as the
    /// program's code, and what their return puts back (src/entry/signals.rs).
    frames: [Cell<SignalFrame>; FRAMES],
}

/// A signal frame (its context's address) whose handler hijack ran as the
/// program's code: the selector and guard to put back at its return.
#[derive(Clone, Copy)]
pub struct SignalFrame {
    pub context: usize,
    pub selector: u8,
    pub suspended: bool,
}

const FRAMES: usize = 8;
const NO_FRAME: SignalFrame = SignalFrame { context: 0, selector: 0, suspended: false };

thread_local! {
    // const-initialised and without destructor: no allocation, usable until
    // the thread's very end.
    static THREAD: Thread = const {
        Thread {
            active: Cell::new(false),
            selector: Cell::new(0),
            vm: Cell::new(std::ptr::null_mut()),
            vm_failed: Cell::new(false),
            at_real: Cell::new(false),
            in_allocator: Cell::new(false),
            frames: [const { Cell::new(NO_FRAME) }; FRAMES],
        }
    };
}

/// Held while hijack's own code runs on this thread; gives the thread's
/// state without another thread-local lookup. Not Send: it stays on its
/// thread.
pub struct Guard(*const Thread);

/// Enters hijack's own code, or None when this thread is already inside it.
#[inline]
pub fn enter() -> Option<Guard> {
    THREAD
        .try_with(|t| {
            if t.active.get() {
                None
            } else {
                t.active.set(true);
                if sud::on() {
                    t.selector.set(sud::swap(sud::ALLOW));
                }
                Some(Guard(t as *const Thread))
            }
        })
        .ok()
        .flatten()
}

/// Forgets this thread's VM (being freed as the thread exits).
pub fn forget_vm() {
    let _ = THREAD.try_with(|t| t.vm.set(std::ptr::null_mut()));
}

/// This thread's VM (null: none), read inside hijack's own code.
pub fn current_vm() -> *mut c_void {
    THREAD.try_with(|t| t.vm.get()).unwrap_or(std::ptr::null_mut())
}

/// Steps out of hijack's code: for the real call of a function whose own
/// system calls --all-syscalls catches (they are the program's), the
/// selector as the program had it, calls hooked again, [`resume`] after;
/// or for good, on a thread that never returns into the hook chain it is in
/// (the process ends there, `_exit` made from a hook chain, and its exit
/// work must run; the copied child of a clone(), whose code from now on is
/// the program's function).
pub fn suspend() {
    let _ = THREAD.try_with(|t| {
        if t.active.get() {
            t.active.set(false);
            sud::swap(t.selector.get());
        }
    });
}

/// Back into hijack's code after [`suspend`].
pub fn resume() {
    let _ = THREAD.try_with(|t| {
        if !t.active.get() {
            t.active.set(true);
            sud::swap(sud::ALLOW);
        }
    });
}

pub fn active() -> bool {
    THREAD.try_with(|t| t.active.get()).unwrap_or(true)
}

/// Marks the real call of a hooked function as in progress (or over).
pub fn at_real(v: bool) {
    let _ = THREAD.try_with(|t| t.at_real.set(v));
}

/// Whether hijack's code on this thread is at the real call of a hooked
/// function (inside the guard, the call's function running).
pub fn in_real_call() -> bool {
    THREAD.try_with(|t| t.active.get() && t.at_real.get()).unwrap_or(false)
}

/// Marks the thread as in the program's allocator (or out of it): the old
/// mark.
#[inline]
pub fn set_in_allocator(v: bool) -> bool {
    THREAD.try_with(|t| t.in_allocator.replace(v)).unwrap_or(false)
}

/// Whether hijack's code runs inside the program's allocator on this
/// thread (a hook on a system call malloc makes, a signal handler that
/// interrupted it): what it allocates must come from hijack's heap.
pub fn inside_allocator() -> bool {
    THREAD.try_with(|t| t.active.get() && t.in_allocator.get()).unwrap_or(false)
}

/// Remembers a signal frame whose handler runs as the program's code (the
/// oldest forgotten when there are too many: handlers that jumped out).
pub fn push_frame(f: SignalFrame) {
    let _ = THREAD.try_with(|t| {
        let i = match t.frames.iter().position(|c| c.get().context == 0) {
            Some(i) => i,
            None => {
                for i in 1..FRAMES {
                    t.frames[i - 1].set(t.frames[i].get());
                }
                FRAMES - 1
            }
        };
        t.frames[i].set(f);
    });
}

/// The frame at `context`, forgotten, with those pushed after it (their
/// handlers jumped out); None when it is not one of them.
pub fn pop_frame(context: usize) -> Option<SignalFrame> {
    THREAD
        .try_with(|t| {
            let i = t.frames.iter().rposition(|c| c.get().context == context)?;
            let f = t.frames[i].get();
            t.frames[i..].iter().for_each(|c| c.set(NO_FRAME));
            Some(f)
        })
        .ok()
        .flatten()
}

impl Thread {
    /// The selector the program's code runs with once hijack's code ends
    /// (--all-syscalls just turned on: BLOCK).
    pub fn set_program_selector(&self, v: u8) {
        self.selector.set(v);
    }
}

impl Guard {
    /// This thread's state.
    pub fn thread(&self) -> &Thread {
        // SAFETY: the thread-local has no destructor: it lives as long as
        // the thread, and the guard never leaves it.
        unsafe { &*self.0 }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let t = self.thread();
        t.active.set(false);
        if sud::on() {
            sud::swap(t.selector.get());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_entry_is_refused_until_the_outer_guard_drops() {
        assert!(!active());
        let outer = enter().expect("first entry");
        assert!(active());
        assert!(enter().is_none(), "a nested call must go straight through");
        drop(outer);
        assert!(!active());
        assert!(enter().is_some());
    }

    #[test]
    fn each_thread_has_its_own_guard() {
        let _outer = enter().expect("first entry");
        let other = std::thread::spawn(|| enter().is_some()).join().unwrap();
        assert!(other, "another thread is not inside hijack's code");
    }
}
