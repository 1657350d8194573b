//! A call in progress as data: its argument words and how to read them, its
//! result and errno, the memory its changed arguments point to; and the
//! per-function "is anything hooked" flags (the only cost an unhooked call
//! pays). No hooks and no VM here: the hook chain (src/ruby/hooks.rs) and the
//! dispatch (src/dispatch/mod.rs) work on a frame from above.

use crate::table::{BufDir, CallInfo, Errors, Kind, CALLS, CALL_COUNT, MAX_ARGS};
use crate::platform::sys;
use std::ffi::CString;
use std::sync::atomic::{AtomicBool, Ordering};

pub mod view;
pub mod word;

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

/// Set once a script asked for exit work (Hijack.at_exit): a process that
/// loads its scripts lazily loads them at its exit too.
static EXIT_WORK: AtomicBool = AtomicBool::new(false);

pub fn watch_exit() {
    EXIT_WORK.store(true, Ordering::Relaxed);
}

pub fn exit_work() -> bool {
    EXIT_WORK.load(Ordering::Relaxed)
}

/// What this process's scripts hook, as a new program's environment
/// carries it (HIJACK_HOOKED, src/features/follow.rs): the table's print
/// (build.rs: what tells one build's table from another's), the hooked
/// calls as a bitmap in hex, and `x` for exit work.
pub fn manifest() -> String {
    let mut buf = [0; MANIFEST_MAX];
    manifest_in(&mut buf).to_string()
}

/// The longest [`manifest`].
pub const MANIFEST_MAX: usize = 16 + 1 + CALL_COUNT.div_ceil(4) + 2;

/// The [`manifest`], written in `buf` (no allocation: an exec made by a
/// fork child, where each allocation copies a page of the heap, needs it).
pub fn manifest_in(buf: &mut [u8; MANIFEST_MAX]) -> &str {
    let hex = |n: u32| b"0123456789abcdef"[n as usize & 15];
    let print = crate::table::TABLE_PRINT;
    for (i, b) in buf[..16].iter_mut().enumerate() {
        *b = hex((print >> (60 - 4 * i)) as u32);
    }
    buf[16] = b':';
    let mut len = 17;
    for chunk in HOOKED.chunks(4) {
        let nibble = chunk.iter().enumerate().fold(0u32, |n, (i, f)| n | (f.load(Ordering::Relaxed) as u32) << i);
        buf[len] = hex(nibble);
        len += 1;
    }
    if exit_work() {
        buf[len..len + 2].copy_from_slice(b":x");
        len += 2;
    }
    std::str::from_utf8(&buf[..len]).unwrap_or_default()
}

/// Marks the calls of a [`manifest`] as hooked (the scripts are loaded at
/// the first of them): false, and nothing marked, when it is not one of
/// this build's table.
pub fn watch_manifest(manifest: &str) -> bool {
    let mut parts = manifest.split(':');
    let (Some(print), Some(bits)) = (parts.next(), parts.next()) else { return false };
    let exit = match parts.next() {
        None => false,
        Some("x") => true,
        Some(_) => return false,
    };
    if u64::from_str_radix(print, 16) != Ok(crate::table::TABLE_PRINT) || bits.len() != CALL_COUNT.div_ceil(4) {
        return false;
    }
    let Some(nibbles) = bits.chars().map(|c| c.to_digit(16)).collect::<Option<Vec<u32>>>() else { return false };
    for (i, n) in nibbles.iter().enumerate() {
        for bit in 0..4 {
            if n & (1 << bit) != 0 && i * 4 + bit < CALL_COUNT {
                watch(i * 4 + bit);
            }
        }
    }
    if exit {
        watch_exit();
    }
    true
}

/// Unhooks every call: the process runs as if hijack were not there.
pub fn unwatch_all() {
    for flag in HOOKED.iter() {
        flag.store(false, Ordering::Relaxed);
    }
}

/// A call's argument words, as the real function takes them.
pub type Words = [u64; MAX_ARGS];

/// The real function, called with argument words (see build.rs): the entry
/// point's closure, reached through a plain function pointer made in code
/// (no vtable for the loader to relocate, one per entry point), and the
/// words a whole array (no bounds checks, no panic locations).
#[derive(Clone, Copy)]
pub struct RealFn<'a> {
    call: unsafe fn(*const (), &Words) -> i64,
    closure: *const (),
    _borrow: std::marker::PhantomData<&'a ()>,
}

impl<'a> RealFn<'a> {
    pub fn new<F: Fn(&Words) -> i64>(f: &'a F) -> RealFn<'a> {
        unsafe fn call<F: Fn(&Words) -> i64>(closure: *const (), w: &Words) -> i64 {
            // SAFETY: `closure` is the &F `new` was given, alive for 'a.
            unsafe { (*(closure as *const F))(w) }
        }
        RealFn { call: call::<F>, closure: f as *const F as *const (), _borrow: std::marker::PhantomData }
    }

    #[inline]
    pub fn call(&self, w: &Words) -> i64 {
        // SAFETY: made by `new` from a closure alive for 'a.
        unsafe { (self.call)(self.closure, w) }
    }
}

/// A function to call instead of the real one, with the argument words.
pub type Instead = Box<dyn Fn(&[u64]) -> i64>;

/// What runs just before the real call of some calls (chosen from the
/// table's `exec` and `follow` columns by the dispatch above): it may change
/// the arguments, and may give a function to call instead of the real one.
pub type BeforeReal = unsafe fn(&mut Frame) -> Option<Instead>;

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
    /// The caller's byte count, when a hook replaced the bytes to write.
    replaced_count: Option<u64>,
    /// Memory the arguments point to since a hook changed them, alive until
    /// the call ends (made on first use: most calls need none).
    kept: Option<Box<Kept>>,
    /// The step just before the real call, if this call has one.
    pub before_real: Option<BeforeReal>,
    /// The descriptor of the stream argument, read before the real call
    /// (fclose frees it): its system call's view (close(fd)) needs it after.
    pub stream_fd: i64,
    /// The length a `socklen_t *` argument gave, read before the real call
    /// (it fills in another): strace's `[128 => 16]`.
    pub socklen_in: u32,
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
            replaced_count: None,
            kept: None,
            before_real: None,
            stream_fd: match CALLS[id].stream_arg {
                // SAFETY: the caller's stream, before the call frees it.
                Some(j) => unsafe { view::fileno(words[j as usize]) },
                None => -1,
            },
            socklen_in: match CALLS[id].socklen_arg.map(|j| words[j as usize]) {
                None | Some(0) => 0,
                // SAFETY: the caller's length, valid during the call.
                Some(p) => unsafe { *p.ptr::<libc::socklen_t>() },
            },
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
            None => self.real.call(&self.args),
        };
        self.end_real(result)
    }

    /// Everything the real call needs just before it is made (the entry
    /// point makes it itself, see `dispatch::Dispatch::before`, or
    /// `proceed`). Some(result) when the step before it gave a function to
    /// call instead, which made the call (an exec made as execve/execvpe,
    /// with the environment fixed: it returned).
    pub fn begin_real(&mut self) -> Option<i64> {
        self.proceeded = true;
        self.failed = false;
        self.injected = false;
        // SAFETY: the step is the dispatch's, for this call, on this thread.
        let instead = self.before_real.and_then(|step| unsafe { step(self) });
        self.elapsed = sys::stamp::now();
        // (--all-syscalls: the system calls a function makes inside are the
        // program's, caught as they are made)
        if crate::platform::sud::on() {
            if self.info().inner {
                crate::platform::guard::suspend();
            } else {
                // (a signal handler of the program's that runs now is the
                // program's code: src/entry/signals.rs)
                crate::platform::guard::at_real(true);
            }
        }
        // The real function sees the caller's errno: one that succeeds
        // without touching errno (most do) leaves it as the caller had it.
        sys::set_errno(self.entry_errno);
        instead.map(|f| f(&self.args[..self.nargs]))
    }

    /// Records what the real call returned (and left in errno).
    pub fn end_real(&mut self, result: i64) -> i64 {
        self.errno = sys::errno();
        if crate::platform::sud::on() {
            if self.info().inner {
                crate::platform::guard::resume();
            } else {
                crate::platform::guard::at_real(false);
            }
        }
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
            Errors::Null | Errors::Herr => self.result == 0,
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
            // (nor an h_errno other than NETDB_INTERNAL: read as the call
            // left it, on this thread)
            Errors::Herr if sys::h_errno() != sys::NETDB_INTERNAL => 0,
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
        let ptr: *const u8 = self.args[b].ptr();
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
        // (gethostbyname's callers read h_errno: NETDB_INTERNAL says "see errno")
        if self.info().errors == Errors::Herr {
            sys::set_h_errno(sys::NETDB_INTERNAL);
        }
        self.failed = true;
        self.injected = true;
        true
    }

    /// Puts a string in place of a pointer argument, alive until the call ends.
    pub fn set_string(&mut self, index: usize, s: CString) {
        self.args[index] = word::of(s.as_ptr());
        self.keep_string(s);
    }

    /// Writes `bytes` instead of the caller's buffer (args `buf` and `count`).
    pub fn replace_input(&mut self, buf: usize, count: usize, bytes: Vec<u8>) {
        self.replaced_count.get_or_insert(self.args[count]);
        self.args[buf] = word::of(bytes.as_ptr());
        self.args[count] = bytes.len() as u64;
        self.kept().bytes.push(bytes);
    }

    /// Puts `bytes` in place of a pointer argument, alive until the call ends.
    pub fn set_bytes(&mut self, index: usize, bytes: Vec<u8>) {
        self.args[index] = word::of(bytes.as_ptr());
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

pub use word::{arg_argv, arg_str, arg_timespec, Word};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_print_is_the_hash_of_its_names() {
        let print = CALLS.iter().flat_map(|c| c.name.bytes().chain([0])).fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3));
        assert_eq!(print, crate::table::TABLE_PRINT);
    }

    #[test]
    fn a_manifest_carries_the_hooked_calls_to_the_same_table_only() {
        watch(crate::table::id::unlinkat);
        watch_exit();
        let m = manifest();
        assert!(m.ends_with(":x"), "{m}");
        let bits = m.split(':').nth(1).unwrap();
        let (nibble, bit) = (crate::table::id::unlinkat / 4, crate::table::id::unlinkat % 4);
        assert_ne!(bits.chars().nth(nibble).unwrap().to_digit(16).unwrap() & (1 << bit), 0, "{m}");
        assert!(watch_manifest(&m));
        assert!(!watch_manifest(&m.replacen(&m[..16], "0123456789abcdef", 1)), "another table's print");
        assert!(!watch_manifest(&format!("{}0", &m[..m.len() - 2])), "a bitmap of another length");
        assert!(!watch_manifest("junk"));
    }
    use crate::table::id;

    #[test]
    fn proceed_runs_the_real_function_once_with_current_arguments() {
        let calls = std::cell::Cell::new(0);
        let real = |w: &crate::frame::Words| {
            calls.set(calls.get() + 1);
            (w[0] + w[2]) as i64
        };
        let mut f = Frame::new(id::read, &[3, 0, 4], crate::frame::RealFn::new(&real), 0);
        f.args[2] = 10;
        assert_eq!(f.proceed(), 13);
        assert_eq!(f.proceed(), 13);
        assert_eq!(calls.get(), 1);
        assert!(f.proceeded);
    }

    #[test]
    fn fail_follows_the_error_convention() {
        let real = |_: &crate::frame::Words| 0;
        let mut f = Frame::new(id::close, &[1], crate::frame::RealFn::new(&real), 0);
        assert!(f.fail(libc::EBADF));
        assert_eq!((f.result, f.errno, f.failed), (-1, libc::EBADF, true));
        let mut s = Frame::new(id::sleep, &[1], crate::frame::RealFn::new(&real), 0);
        assert!(!s.fail(libc::EINTR), "sleep cannot fail");
    }

    #[test]
    fn a_real_call_that_leaves_errno_alone_leaves_the_callers() {
        let real = |_: &crate::frame::Words| 0;
        let mut f = Frame::new(id::malloc, &[16], crate::frame::RealFn::new(&real), libc::ENOENT);
        f.proceed();
        assert_eq!(f.errno, libc::ENOENT);
    }

    #[test]
    fn proceed_records_the_real_errno() {
        let real = |_: &crate::frame::Words| {
            sys::set_errno(libc::ENOENT);
            -1
        };
        let mut f = Frame::new(id::close, &[1], crate::frame::RealFn::new(&real), libc::EINTR);
        assert_eq!(f.errno, libc::EINTR);
        assert_eq!(f.proceed(), -1);
        assert_eq!(f.errno, libc::ENOENT);
    }

    #[test]
    fn set_string_keeps_the_string_alive_for_the_call() {
        let real = |w: &crate::frame::Words| {
            unsafe { w[0].c_str() }.map_or(0, |s| s.len() as i64)
        };
        let mut f = Frame::new(id::open, &[0, 0, 0], crate::frame::RealFn::new(&real), 0);
        f.set_string(0, CString::new("/tmp/elsewhere").unwrap());
        assert_eq!(f.proceed(), 14);
    }
}
