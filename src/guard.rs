//! The per-thread re-entrancy guard: while a thread runs hijack's own code
//! (hook code, mruby, Rust), every interposed call it makes goes straight to
//! the real function. It is also what makes a call from a signal handler that
//! interrupts a hook go straight through.

use std::cell::Cell;

thread_local! {
    // const-initialised and without destructor: no allocation, usable until
    // the thread's very end.
    static ACTIVE: Cell<bool> = const { Cell::new(false) };
}

/// Held while hijack's own code runs on this thread.
pub struct Guard(());

/// Enters hijack's own code, or None when this thread is already inside it.
#[inline]
pub fn enter() -> Option<Guard> {
    ACTIVE
        .try_with(|a| {
            if a.get() {
                None
            } else {
                a.set(true);
                Some(Guard(()))
            }
        })
        .ok()
        .flatten()
}

pub fn active() -> bool {
    ACTIVE.try_with(Cell::get).unwrap_or(true)
}

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = ACTIVE.try_with(|a| a.set(false));
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
