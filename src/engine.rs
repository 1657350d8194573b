//! A hooked call: the per-function "is anything hooked" flags (the only cost
//! an unhooked call pays), the frame a hook sees, and the dispatch that runs
//! the hooks and keeps errno and the result straight.

use crate::table::{BufDir, CallInfo, Errors, Kind, CALLS, CALL_COUNT, MAX_ARGS};
use crate::{filter, follow, guard, hooks, sys, vm};
use std::ffi::CString;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};

static HOOKED: [AtomicBool; CALL_COUNT] = [const { AtomicBool::new(false) }; CALL_COUNT];

/// True when some hook may want call `id`: one relaxed load.
#[inline(always)]
pub fn hooked(id: usize) -> bool {
    HOOKED[id].load(Ordering::Relaxed)
}

/// Marks call `id` as hooked in this process.
pub fn watch(id: usize) {
    HOOKED[id].store(true, Ordering::Relaxed);
}

/// Unhooks every call: the process runs as if hijack were not there.
pub fn unwatch_all() {
    for flag in HOOKED.iter() {
        flag.store(false, Ordering::Relaxed);
    }
}

/// What an entry point returns when the real function cannot be found.
#[cold]
pub fn unavailable(id: usize) -> i64 {
    sys::set_errno(libc::ENOSYS);
    CALLS[id].error_result(libc::ENOSYS).unwrap_or(0)
}

/// The real function, called with argument words (see build.rs).
pub type RealFn<'a> = &'a dyn Fn(&[u64]) -> i64;

/// Memory a call's changed arguments point to.
#[derive(Default)]
struct Kept {
    strings: Vec<CString>,
    words: Vec<Vec<usize>>,
    bytes: Vec<Vec<u8>>,
}

/// One hooked call in progress, as the hooks see and change it.
pub struct Frame<'a> {
    pub id: usize,
    pub args: [u64; MAX_ARGS],
    pub nargs: usize,
    real: RealFn<'a>,
    pub result: i64,
    pub errno: i32,
    /// The caller's errno when the call began.
    entry_errno: i32,
    pub proceeded: bool,
    pub failed: bool,
    /// The result is a hook's, not (only) the real function's: failed by a
    /// hook, a result set, or decided without the real call.
    pub injected: bool,
    /// How long the real call took, in stamps (see [`Frame::elapsed_ns`]).
    elapsed: u64,
    /// A hook set the data a read delivers.
    pub data_set: bool,
    /// Where call.proceed goes on in the hook chain (see hooks.rs).
    pub next_hook: usize,
    /// Whether the running hook has proceeded.
    pub level_proceeded: bool,
    /// The caller's byte count, when a hook replaced the bytes to write.
    replaced_count: Option<u64>,
    /// Memory the arguments point to since a hook changed them, alive until
    /// the call ends (made on first use: most calls need none).
    kept: Option<Box<Kept>>,
    /// The hooks' state between the two sides of the real call.
    pub hooks: hooks::Pending,
}

impl<'a> Frame<'a> {
    pub fn new(id: usize, args: &[u64], real: RealFn<'a>, errno: i32) -> Frame<'a> {
        let mut words = [0u64; MAX_ARGS];
        // (A loop: for one to six words, cheaper than a call to memcpy.)
        for (w, a) in words.iter_mut().zip(args) {
            *w = *a;
        }
        Frame {
            id,
            args: words,
            nargs: args.len(),
            real,
            result: 0,
            errno,
            entry_errno: errno,
            proceeded: false,
            failed: false,
            injected: false,
            elapsed: 0,
            data_set: false,
            next_hook: 0,
            level_proceeded: false,
            replaced_count: None,
            kept: None,
            hooks: hooks::Pending::new(),
        }
    }

    pub fn info(&self) -> &'static CallInfo {
        &CALLS[self.id]
    }

    /// Runs the real function with the current arguments (once; a second
    /// call returns the first result).
    pub fn proceed(&mut self) -> i64 {
        if self.proceeded {
            return self.result;
        }
        let result = match self.begin_real() {
            Some(r) => r,
            None => (self.real)(&self.args[..self.nargs]),
        };
        self.end_real(result)
    }

    /// Everything the real call needs just before it is made (the entry
    /// point makes it itself, see [`Dispatch::before`], or `proceed`).
    /// Some(result) when exec-following made the call itself (an exec
    /// without an environment, made as execve/execvpe: it returned).
    fn begin_real(&mut self) -> Option<i64> {
        self.proceeded = true;
        self.failed = false;
        self.injected = false;
        if self.info().exec {
            // SAFETY: the frame's hooks are this thread's, running now.
            unsafe { hooks::entering_exec(self) };
        }
        let instead = if self.info().follow { follow::prepare(self) } else { follow::Instead::Real };
        self.elapsed = sys::stamp::now();
        // The real function sees the caller's errno: one that succeeds
        // without touching errno (most do) leaves it as the caller had it.
        sys::set_errno(self.entry_errno);
        follow::call(&instead, &self.args[..self.nargs])
    }

    /// Records what the real call returned (and left in errno).
    fn end_real(&mut self, result: i64) -> i64 {
        self.errno = sys::errno();
        self.elapsed = sys::stamp::now().saturating_sub(self.elapsed);
        self.result = result;
        if let (Some(count), true) = (self.replaced_count, self.result >= 0) {
            // The caller asked to write `count` bytes: all of them are done
            // when all of the replacement is, and never more.
            let written_all = self.result as u64 == self.args[self.info().arg_of(Kind::Count).unwrap()];
            self.result = if written_all { count as i64 } else { self.result.min(count as i64) };
        }
        self.result
    }

    /// How long the real call took, in nanoseconds.
    pub fn elapsed_ns(&self) -> u64 {
        sys::stamp::stamp_ns(self.elapsed)
    }

    /// Whether the call failed, judged by its result and error convention.
    pub fn failed_by_result(&self) -> bool {
        match self.info().errors {
            Errors::MinusOne => self.result == -1,
            Errors::Null => self.result == 0,
            Errors::Code | Errors::Eai => self.result != 0,
            Errors::None => false,
        }
    }

    /// The error number of a failed call: the result for calls that return
    /// it, errno for the others.
    pub fn error_code(&self) -> i32 {
        match self.info().errors {
            Errors::Code => self.result as i32,
            // (an EAI_* code other than EAI_SYSTEM has no error number)
            Errors::Eai if self.result != libc::EAI_SYSTEM as i64 => 0,
            _ => self.errno,
        }
    }

    /// The bytes about to be written, or the bytes a read delivered (None
    /// before the read has run, and for a call without a buffer).
    ///
    /// # Safety
    /// The buffer argument is the caller's, valid while the call runs.
    pub unsafe fn data<'b>(&self) -> Option<&'b [u8]> {
        let info = self.info();
        let (b, c) = (info.arg_of(Kind::Buf)?, info.arg_of(Kind::Count)?);
        let len = match info.buffer {
            BufDir::In => self.args[c] as usize,
            _ if !(self.proceeded || self.data_set) => return None,
            _ => self.result.clamp(0, self.args[c] as i64) as usize,
        };
        let ptr = self.args[b] as usize as *const u8;
        if len == 0 || ptr.is_null() {
            return Some(&[]);
        }
        Some(std::slice::from_raw_parts(ptr, len))
    }

    /// Makes the call fail with `errno`, as the table's convention says.
    /// False for a function that cannot fail.
    pub fn fail(&mut self, errno: i32) -> bool {
        let Some(result) = self.info().error_result(errno) else { return false };
        self.result = result;
        // (a function returning its error number leaves errno alone)
        if self.info().errors != Errors::Code {
            self.errno = errno;
        }
        self.failed = true;
        self.injected = true;
        true
    }

    /// Puts a string in place of a pointer argument, alive until the call ends.
    pub fn set_string(&mut self, index: usize, s: CString) {
        self.args[index] = s.as_ptr() as usize as u64;
        self.keep_string(s);
    }

    /// Writes `bytes` instead of the caller's buffer (args `buf` and `count`).
    pub fn replace_input(&mut self, buf: usize, count: usize, bytes: Vec<u8>) {
        self.replaced_count.get_or_insert(self.args[count]);
        self.args[buf] = bytes.as_ptr() as usize as u64;
        self.args[count] = bytes.len() as u64;
        self.kept().bytes.push(bytes);
    }

    /// Puts `bytes` in place of a pointer argument, alive until the call ends.
    pub fn set_bytes(&mut self, index: usize, bytes: Vec<u8>) {
        self.args[index] = bytes.as_ptr() as usize as u64;
        self.kept().bytes.push(bytes);
    }

    /// Keeps a string alive until the call ends.
    pub fn keep_string(&mut self, s: CString) {
        self.kept().strings.push(s);
    }

    /// Keeps an array of words (a rebuilt argv or envp) alive until the call ends.
    pub fn keep_words(&mut self, words: Vec<usize>) {
        self.kept().words.push(words);
    }

    fn kept(&mut self) -> &mut Kept {
        self.kept.get_or_insert_with(Box::default)
    }
}

/// The C string an argument word points to (None for NULL).
///
/// # Safety
/// `word` is NULL or a valid C string of the caller's.
pub unsafe fn arg_str<'b>(word: u64) -> Option<&'b [u8]> {
    (word != 0).then(|| std::ffi::CStr::from_ptr(word as usize as *const libc::c_char).to_bytes())
}

/// The strings of a NULL-terminated argv or envp (None for NULL).
///
/// # Safety
/// `word` is NULL or a valid NULL-terminated array of C strings.
pub unsafe fn arg_argv<'b>(word: u64) -> Option<Vec<&'b [u8]>> {
    if word == 0 {
        return None;
    }
    let mut out = Vec::new();
    let mut p = word as usize as *const *const libc::c_char;
    while !(*p).is_null() {
        out.push(std::ffi::CStr::from_ptr(*p).to_bytes());
        p = p.add(1);
    }
    Some(out)
}

/// The (seconds, nanoseconds) of a timespec argument (None for NULL).
///
/// # Safety
/// `word` is NULL or points to a valid timespec.
pub unsafe fn arg_timespec(word: u64) -> Option<(i64, i64)> {
    (word != 0).then(|| {
        let ts = &*(word as usize as *const libc::timespec);
        (ts.tv_sec as i64, ts.tv_nsec as i64)
    })
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
    pub frame: Frame<'a>,
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
    let hooks = hooked(id) && filter::wanted(id, args);
    if !hooks && !CALLS[id].follow {
        return None;
    }
    Some(Start { guard, hooks })
}

impl<'a> Dispatch<'a> {
    /// The dispatch of a started call (inlined: it is large, and made in
    /// place).
    #[inline(always)]
    pub fn new(start: Start, id: usize, args: &[u64], real: RealFn<'a>) -> Dispatch<'a> {
        Dispatch { frame: Frame::new(id, args, real, sys::errno()), start }
    }
}

impl Dispatch<'_> {
    /// Runs the hooks that come before the real call. The arguments to make
    /// it with when the entry point must make it now (then `returned`);
    /// None when the hooks decided the call or already made it.
    #[inline(never)]
    pub fn before(&mut self) -> Option<&[u64]> {
        let frame = &mut self.frame;
        let real_wanted = if self.start.hooks {
            // None: the hooks could not run, and the call goes on.
            catch_unwind(AssertUnwindSafe(|| vm::begin(&self.start.guard, frame))).ok().flatten().unwrap_or(true)
        } else {
            true
        };
        if !real_wanted || frame.proceeded || frame.failed {
            return None;
        }
        if let Some(result) = frame.begin_real() {
            frame.end_real(result);
            return None;
        }
        Some(&frame.args[..frame.nargs])
    }

    /// The real call returned `result` (errno is still what it left).
    #[inline(never)]
    pub fn returned(&mut self, result: i64) {
        self.frame.end_real(result);
    }

    /// Runs the hooks after the real call; sets errno and returns the result.
    #[inline(never)]
    pub fn finish(&mut self) -> i64 {
        if self.start.hooks {
            let frame = &mut self.frame;
            if catch_unwind(AssertUnwindSafe(|| vm::finish(frame))).is_err() {
                let _ = catch_unwind(AssertUnwindSafe(|| vm::abandon(frame)));
            }
        }
        sys::set_errno(self.frame.errno);
        self.frame.result
    }
}

/// Runs the hooks of call `id` around the real function `real` (for entry
/// points written by hand; the generated ones make the steps themselves).
/// errno is what the real call left, or what a hook chose; never what hook
/// code disturbed.
pub fn dispatch(id: usize, args: &[u64], real: RealFn<'_>) -> i64 {
    let Some(started) = start(id, args) else {
        return real(args);
    };
    let mut d = Dispatch::new(started, id, args, real);
    if let Some(words) = d.before() {
        let result = real(words);
        d.returned(result);
    }
    d.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::id;

    #[test]
    fn proceed_runs_the_real_function_once_with_current_arguments() {
        let calls = std::cell::Cell::new(0);
        let real = |w: &[u64]| {
            calls.set(calls.get() + 1);
            (w[0] + w[2]) as i64
        };
        let mut f = Frame::new(id::read, &[3, 0, 4], &real, 0);
        f.args[2] = 10;
        assert_eq!(f.proceed(), 13);
        assert_eq!(f.proceed(), 13);
        assert_eq!(calls.get(), 1);
        assert!(f.proceeded);
    }

    #[test]
    fn fail_follows_the_error_convention() {
        let real = |_: &[u64]| 0;
        let mut f = Frame::new(id::close, &[1], &real, 0);
        assert!(f.fail(libc::EBADF));
        assert_eq!((f.result, f.errno, f.failed), (-1, libc::EBADF, true));
        let mut s = Frame::new(id::sleep, &[1], &real, 0);
        assert!(!s.fail(libc::EINTR), "sleep cannot fail");
    }

    #[test]
    fn a_real_call_that_leaves_errno_alone_leaves_the_callers() {
        let real = |_: &[u64]| 0;
        let mut f = Frame::new(id::malloc, &[16], &real, libc::ENOENT);
        f.proceed();
        assert_eq!(f.errno, libc::ENOENT);
    }

    #[test]
    fn proceed_records_the_real_errno() {
        let real = |_: &[u64]| {
            sys::set_errno(libc::ENOENT);
            -1
        };
        let mut f = Frame::new(id::close, &[1], &real, libc::EINTR);
        assert_eq!(f.errno, libc::EINTR);
        assert_eq!(f.proceed(), -1);
        assert_eq!(f.errno, libc::ENOENT);
    }

    #[test]
    fn set_string_keeps_the_string_alive_for_the_call() {
        let real = |w: &[u64]| {
            let s = unsafe { std::ffi::CStr::from_ptr(w[0] as usize as *const libc::c_char) };
            s.to_bytes().len() as i64
        };
        let mut f = Frame::new(id::open, &[0, 0, 0], &real, 0);
        f.set_string(0, CString::new("/tmp/elsewhere").unwrap());
        assert_eq!(f.proceed(), 14);
    }
}
