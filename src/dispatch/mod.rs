//! The one place that runs a hooked call: the re-entrancy guard, the filter
//! check, the control socket's news, the hooks before the real call, the
//! real call (made by the entry point, one frame below the caller's), the
//! hooks after it, errno. The step just before the real call of the exec
//! family (its observers) and of the calls that follow a process tree
//! through exec (the environment put back) is chosen here, from the table.

use crate::frame::{Frame, Instead, RealFn, Words};
use crate::ruby::hooks::Invocation;
use crate::table::{CALLS, MAX_ARGS};
use crate::{features::control, features::filter, features::follow, frame, platform::guard, platform::sys, ruby::vm};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// What an entry point returns when the real function cannot be found.
#[cold]
pub fn unavailable(id: usize) -> i64 {
    sys::set_errno(libc::ENOSYS);
    CALLS[id].error_result(libc::ENOSYS).unwrap_or(0)
}

/// The step just before the real call of an exec or a call that follows the
/// tree (see [`crate::frame::BeforeReal`]).
unsafe fn before_real(frame: &mut Frame) -> Option<Instead> {
    if frame.info().exec || frame.info().ends {
        // Its success never returns: the observers write what they can now.
        vm::observe_exec(frame);
    }
    if !frame.info().follow.any() {
        return None;
    }
    match follow::prepare(frame) {
        follow::Instead::Real => None,
        instead => Some(Box::new(move |args: &[u64]| follow::call(&instead, args).unwrap_or(-1))),
    }
}

/// A call in progress that some hook wants (or that exec-following must
/// see), between its three steps: [`before`](Dispatch::before) runs the
/// hooks up to the real call, the entry point makes the real call itself
/// and reports it with [`returned`](Dispatch::returned), and
/// [`finish`](Dispatch::finish) runs the hooks after it. The real call is
/// made one frame below the caller's (in the generated hooked_NAME, which
/// the entry point jumps to): after a system call the CPU mispredicts every
/// return to a frame made before it (the kernel refills the return stack),
/// so the fewer frames in between, the cheaper the call.
pub struct Dispatch<'a> {
    /// The call and its hook chain's state.
    pub inv: Invocation<'a>,
    start: Start,
}

/// A call that goes to the hooks: this thread is now inside hijack's code.
pub struct Start {
    guard: guard::Guard,
    hooks: bool,
}

/// Whether call `id` goes to the hooks (or exec-following), or None when the
/// entry point just calls the real function: a re-entrant call (from hook
/// code, mruby or Rust on this thread), or one no hook's filter wants.
#[inline(never)]
pub fn start(id: usize, args: &[u64]) -> Option<Start> {
    let guard = guard::enter()?;
    let hooks = frame::hooked(id) && filter::wanted(id, args);
    if !hooks && !CALLS[id].follow.any() {
        return None;
    }
    Some(Start { guard, hooks })
}

impl<'a> Dispatch<'a> {
    /// The dispatch of a started call (inlined: it is large, and made in
    /// place).
    #[inline(always)]
    pub fn new(start: Start, id: usize, args: &[u64], real: RealFn<'a>) -> Dispatch<'a> {
        let mut frame = Frame::new(id, args, real, sys::errno());
        let info = &CALLS[id];
        if info.exec || info.ends || info.follow.any() {
            frame.before_real = Some(before_real);
        }
        Dispatch { inv: Invocation::new(frame), start }
    }
}

impl Dispatch<'_> {
    /// Runs the hooks that come before the real call. The arguments to make
    /// it with when the entry point must make it now (then `returned`);
    /// None when the hooks decided the call or already made it.
    #[inline(never)]
    pub fn before(&mut self) -> Option<&Words> {
        let inv = &mut self.inv;
        let real_wanted = if self.start.hooks {
            let guard = &self.start.guard;
            // None: the hooks could not run, and the call goes on.
            catch_unwind(AssertUnwindSafe(|| {
                let Some(vm) = vm::thread_vm(guard) else { return vm::without_thread_vm(inv) };
                // SAFETY: this thread's VM, not in use by any other call.
                unsafe {
                    if let Some(generation) = control::changed((*vm).generation()) {
                        (*vm).sync_units(generation);
                    }
                }
                Some(vm::begin(vm, inv))
            }))
            .ok()
            .flatten()
            .unwrap_or(true)
        } else {
            true
        };
        let frame = &mut inv.frame;
        if !real_wanted || frame.proceeded || frame.failed {
            return None;
        }
        if let Some(result) = frame.begin_real() {
            frame.end_real(result);
            return None;
        }
        Some(&frame.args)
    }

    /// The real call returned `result` (errno is still what it left).
    #[inline(never)]
    pub fn returned(&mut self, result: i64) {
        self.inv.frame.end_real(result);
    }

    /// Runs the hooks after the real call; sets errno and returns the result.
    #[inline(never)]
    pub fn finish(&mut self) -> i64 {
        if self.start.hooks {
            let inv = &mut self.inv;
            if catch_unwind(AssertUnwindSafe(|| vm::finish(inv))).is_err() {
                let _ = catch_unwind(AssertUnwindSafe(|| vm::abandon(inv)));
            }
        }
        sys::set_errno(self.inv.frame.errno);
        self.inv.frame.result
    }
}

/// Runs the hooks of call `id` around the real function `real` (for entry
/// points written by hand; the generated ones make the steps themselves).
/// errno is what the real call left, or what a hook chose; never what hook
/// code disturbed.
pub fn dispatch(id: usize, args: &[u64], real: RealFn<'_>) -> i64 {
    let Some(started) = start(id, args) else {
        let mut words = [0; MAX_ARGS];
        words[..args.len()].copy_from_slice(args);
        return real.call(&words);
    };
    let mut d = Dispatch::new(started, id, args, real);
    if let Some(words) = d.before() {
        let result = real.call(words);
        d.returned(result);
    }
    d.finish()
}

