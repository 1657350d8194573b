//! The real functions behind the interposed ones: found with
//! `dlsym(RTLD_NEXT, name)` on first use and cached without locks (a racing
//! second lookup finds the same address).

use std::ffi::{c_void, CStr};
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, AtomicPtr, Ordering};

pub struct Real<F> {
    name: &'static CStr,
    ptr: AtomicPtr<c_void>,
    /// Set while dlsym runs: a call that dlsym itself makes (an allocation)
    /// finds no real function rather than recursing.
    resolving: AtomicBool,
    _fn: PhantomData<F>,
}

// SAFETY: only an address is shared, and it is written atomically.
unsafe impl<F> Sync for Real<F> {}

impl<F: Copy> Real<F> {
    pub const fn new(name: &'static CStr) -> Self {
        Real { name, ptr: AtomicPtr::new(std::ptr::null_mut()), resolving: AtomicBool::new(false), _fn: PhantomData }
    }

    pub fn name(&self) -> &'static CStr {
        self.name
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
        if self.resolving.swap(true, Ordering::Acquire) {
            return None;
        }
        // SAFETY: dlsym with a valid C string.
        let p = unsafe { libc::dlsym(libc::RTLD_NEXT, self.name.as_ptr()) };
        self.resolving.store(false, Ordering::Release);
        if p.is_null() {
            return None;
        }
        self.ptr.store(p, Ordering::Relaxed);
        Some(p)
    }
}
