//! A call as the system call it makes: its arguments from the function's
//! (table::Src: open's dirfd is AT_FDCWD, fopen's flags come from its mode),
//! and its result (fopen's FILE * is a descriptor). Traces show it; hooks
//! read it under the system call's argument names.

use super::word::Word;
use super::Frame;
use crate::table::{ArgInfo, Src, SysResult, CALLS, SYSCALLS};

/// One argument of the system call, as the function's arguments give it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SysArg<'a> {
    /// A word, read as the system call's argument says.
    Word(u64),
    /// A string that is not one of the function's arguments (fstat's "").
    Bytes(&'a [u8]),
    /// A timespec made from a number (sleep's seconds).
    Timespec(i64, i64),
}

/// The open flags of a stdio mode ("r", "w+", "ae"...), as fopen opens with.
pub fn stdio_flags(mode: &[u8]) -> i64 {
    let plus = mode.contains(&b'+');
    let mut flags = match (mode.first(), plus) {
        (Some(b'r'), false) => libc::O_RDONLY,
        (Some(b'r'), true) => libc::O_RDWR,
        (Some(b'w'), false) => libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC,
        (Some(b'w'), true) => libc::O_RDWR | libc::O_CREAT | libc::O_TRUNC,
        (Some(b'a'), false) => libc::O_WRONLY | libc::O_CREAT | libc::O_APPEND,
        (Some(b'a'), true) => libc::O_RDWR | libc::O_CREAT | libc::O_APPEND,
        _ => 0,
    };
    if mode.contains(&b'e') {
        flags |= libc::O_CLOEXEC;
    }
    if mode.contains(&b'x') {
        flags |= libc::O_EXCL;
    }
    flags as i64
}

/// The descriptor of a FILE * (-1 for NULL).
///
/// # Safety
/// `stream` is NULL or an open stream.
pub unsafe fn fileno(stream: u64) -> i64 {
    if stream == 0 {
        return -1;
    }
    libc::fileno(stream.ptr::<libc::FILE>()) as i64
}

impl Frame<'_> {
    /// The system call's arguments, their kinds and decoders (the function's
    /// own where it makes no one call).
    pub fn sys_args(&self) -> &'static [ArgInfo] {
        match self.made() {
            Some(s) => SYSCALLS[s].args.as_slice(),
            None => self.info().args.as_slice(),
        }
    }

    /// The system call it makes: the table's, or for syscall() the one its
    /// first argument numbers.
    pub fn made(&self) -> Option<usize> {
        let info = self.info();
        if info.by_number {
            return crate::table::by_number(self.args[0] as i64);
        }
        info.sys
    }

    /// The name its trace shows: the system call's, or the function's.
    pub fn made_name(&self) -> &'static str {
        self.made().map_or(self.info().name, |s| SYSCALLS[s].name).as_str()
    }

    /// How many arguments the system call has.
    pub fn sys_nargs(&self) -> usize {
        match self.made() {
            Some(s) if self.info().by_number || self.info().raw => SYSCALLS[s].args.len(),
            Some(_) => self.info().view.len(),
            None => self.nargs,
        }
    }

    /// The C type of the function's argument that is the system call's
    /// argument `i` (None: a value of the view's own, such as fstat's "").
    pub fn sys_arg_ctype(&self, i: usize) -> Option<&'static str> {
        let info = self.info();
        if info.by_number && self.made().is_some() {
            return None;
        }
        if info.sys.is_none() || info.raw {
            return info.args.get(i).map(|a| a.ctype.as_str());
        }
        match info.view.get(i)? {
            Src::Arg(j) => info.args.get(*j as usize).map(|a| a.ctype.as_str()),
            _ => None,
        }
    }

    /// The system call's argument `i`.
    ///
    /// # Safety
    /// The frame's pointer arguments are the caller's, valid during the call
    /// (a FILE * argument read by fileno is open).
    pub unsafe fn sys_arg(&self, i: usize) -> SysArg<'static> {
        let info = self.info();
        if info.by_number && self.made().is_some() {
            return SysArg::Word(self.args[i + 1]);
        }
        if info.sys.is_none() || info.raw {
            return SysArg::Word(self.args[i]);
        }
        match info.view[i] {
            Src::Arg(j) => SysArg::Word(self.args[j as usize]),
            Src::Const(c) => SysArg::Word(c as u64),
            Src::Or(j, bits) => SysArg::Word(self.args[j as usize] | bits as u64),
            Src::Empty => SysArg::Bytes(b""),
            // (read before the real call: fclose frees the stream)
            Src::Fileno(_) => SysArg::Word(self.stream_fd as u64),
            Src::Stdio(j) => SysArg::Word(stdio_flags(self.args[j as usize].c_str().unwrap_or(b"")) as u64),
            Src::Environ => SysArg::Word(super::word::of(environ())),
            Src::Secs(j) => SysArg::Timespec(self.args[j as usize] as i64, 0),
            Src::Pages(j) => SysArg::Word(self.args[j as usize] / 4096),
            Src::TidAddress => SysArg::Word(crate::platform::sys::tid_address()),
            Src::Allocated(j) => SysArg::Word(match self.args[j as usize] {
                0 => self.result as u64,
                p => p,
            }),
            Src::AllocSize(j) => SysArg::Word(match self.args[j as usize] {
                0 => 4096,
                n => n,
            }),
            Src::CloneStack(j) => SysArg::Word(match self.args[j as usize] {
                0 => 0,
                sp if cfg!(target_pointer_width = "64") => (sp & !15) - 16,
                sp => (sp & !15) - 28,
            }),
            Src::Timeval(j) => match self.args[j as usize] {
                0 => SysArg::Word(0),
                p => {
                    let tv = *p.ptr::<libc::timeval>();
                    SysArg::Timespec(tv.tv_sec as i64, tv.tv_usec as i64 * 1000)
                }
            },
            Src::Usecs(j) => {
                let us = self.args[j as usize] as i64;
                SysArg::Timespec(us / 1_000_000, us % 1_000_000 * 1000)
            }
        }
    }

    /// The system call's result: the function's, or the descriptor of the
    /// stream it returned.
    ///
    /// # Safety
    /// A stream result is NULL or open.
    pub unsafe fn sys_result(&self) -> i64 {
        match self.info().sys_result {
            SysResult::Same => self.result,
            SysResult::Fileno => fileno(self.result as u64),
            SysResult::PathLen => match (self.result as u64).c_str() {
                Some(p) => p.len() as i64 + 1,
                None => -1,
            },
            SysResult::Dirfd => match self.result {
                0 => -1,
                dir => libc::dirfd((dir as u64).ptr::<libc::DIR>()) as i64,
            },
        }
    }

    /// The function's argument behind system-call argument `i`, when it is
    /// one as it is (not a constant or a conversion).
    pub fn sys_arg_index(&self, i: usize) -> Option<usize> {
        sys_arg_index(self.id, i)
    }
}

/// The function argument of call `id` behind its system call's argument `i`.
pub fn sys_arg_index(id: usize, i: usize) -> Option<usize> {
    let info = &CALLS[id];
    match info.sys {
        None => (i < info.args.len()).then_some(i),
        Some(_) if info.raw => (i < info.args.len()).then_some(i),
        Some(_) => match info.view.get(i) {
            Some(Src::Arg(j)) => Some(*j as usize),
            _ => None,
        },
    }
}

fn environ() -> *const *const libc::c_char {
    extern "C" {
        static environ: *const *const libc::c_char;
    }
    // SAFETY: reading the C library's variable.
    unsafe { environ }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::id;

    #[test]
    fn stdio_modes_read_as_open_flags() {
        assert_eq!(stdio_flags(b"r"), libc::O_RDONLY as i64);
        assert_eq!(stdio_flags(b"w"), (libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC) as i64);
        assert_eq!(stdio_flags(b"a+e"), (libc::O_RDWR | libc::O_CREAT | libc::O_APPEND | libc::O_CLOEXEC) as i64);
        assert_eq!(stdio_flags(b"wx"), (libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC | libc::O_EXCL) as i64);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn open_reads_as_openat_and_sleep_as_clock_nanosleep() {
        let path = c"/x";
        let real = |_: &crate::frame::Words| 3;
        let f = Frame::new(id::open, &[super::super::word::of(path.as_ptr()), libc::O_RDONLY as u64, 0], crate::frame::RealFn::new(&real), 0);
        unsafe {
            assert_eq!(f.sys_nargs(), 4);
            assert_eq!(f.sys_arg(0), SysArg::Word(libc::AT_FDCWD as i64 as u64));
            assert_eq!(f.sys_arg(1), SysArg::Word(super::super::word::of(path.as_ptr())));
            assert_eq!(f.sys_arg_index(0), None);
            assert_eq!(f.sys_arg_index(1), Some(0));
        }
        let f = Frame::new(id::usleep, &[1_500_000], crate::frame::RealFn::new(&real), 0);
        unsafe { assert_eq!(f.sys_arg(2), SysArg::Timespec(1, 500_000_000)) };
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn syscall_reads_as_the_call_its_number_names() {
        let real = |_: &crate::frame::Words| 0;
        let f = Frame::new(id::syscall, &[libc::SYS_close as u64, 7, 0, 0, 0, 0, 0], crate::frame::RealFn::new(&real), 0);
        assert_eq!(f.made_name(), "close");
        assert_eq!((f.sys_nargs(), unsafe { f.sys_arg(0) }), (1, SysArg::Word(7)));
        let f = Frame::new(id::syscall, &[100_000, 0, 0, 0, 0, 0, 0], crate::frame::RealFn::new(&real), 0);
        assert_eq!(f.made_name(), "syscall", "a number the table does not know");
    }
}
