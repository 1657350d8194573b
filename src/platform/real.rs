//! The real functions behind the interposed ones: found with
//! `dlsym(RTLD_NEXT, name)` on first use and cached without locks (a racing
//! second lookup finds the same address).

use std::ffi::{c_void, CStr};
use std::marker::PhantomData;
use std::cell::Cell;
use std::sync::atomic::{AtomicPtr, Ordering};

pub struct Real<F> {
    name: &'static CStr,
    ptr: AtomicPtr<c_void>,
    _fn: PhantomData<F>,
}

thread_local! {
    // Set while this thread runs dlsym: a call dlsym itself makes (an
    // allocation) finds no real function rather than recursing. Per thread:
    // another thread resolving the same name at the same time must wait
    // for nothing and find it.
    static RESOLVING: Cell<bool> = const { Cell::new(false) };
}

// SAFETY: only an address is shared, and it is written atomically.
unsafe impl<F> Sync for Real<F> {}

impl<F: Copy> Real<F> {
    pub const fn new(name: &'static CStr) -> Self {
        Real { name, ptr: AtomicPtr::new(std::ptr::null_mut()), _fn: PhantomData }
    }

    pub fn name(&self) -> &'static CStr {
        self.name
    }

    /// The real function if it was looked up already (no lookup).
    #[inline(always)]
    pub fn cached(&self) -> Option<F> {
        let p = self.ptr.load(Ordering::Relaxed);
        // SAFETY: F is the function pointer type the table gives for this name.
        (!p.is_null()).then(|| unsafe { std::mem::transmute_copy::<*mut c_void, F>(&p) })
    }

    /// The real function, or None when no later object defines it.
    #[inline(always)]
    pub fn get(&self) -> Option<F> {
        let mut p = self.ptr.load(Ordering::Relaxed);
        if p.is_null() {
            p = self.lookup()?;
        }
        // SAFETY: F is the function pointer type the table gives for this name.
        Some(unsafe { std::mem::transmute_copy::<*mut c_void, F>(&p) })
    }

    #[cold]
    fn lookup(&self) -> Option<*mut c_void> {
        if RESOLVING.try_with(|r| r.replace(true)).unwrap_or(true) {
            return None;
        }
        // SAFETY: dlsym with a valid C string.
        let p = unsafe { libc::dlsym(libc::RTLD_NEXT, self.name.as_ptr()) };
        let _ = RESOLVING.try_with(|r| r.set(false));
        if p.is_null() {
            return None;
        }
        self.ptr.store(p, Ordering::Relaxed);
        Some(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static GETPID: Real<unsafe extern "C" fn() -> libc::pid_t> = Real::new(c"getpid");

    #[test]
    fn threads_resolving_at_once_all_find_the_function() {
        let found: Vec<bool> = (0..8)
            .map(|_| std::thread::spawn(|| GETPID.get().is_some()))
            .collect::<Vec<_>>()
            .into_iter()
            .map(|t| t.join().unwrap())
            .collect();
        assert_eq!(found, vec![true; 8]);
    }
}

// Each call's real function: `real::NAME` (generated from src/table/calls.tab).
include!(concat!(env!("OUT_DIR"), "/reals.rs"));
