//! The strace format: a call as strace writes it (`name(args) = result`,
//! flags and constants by name, `-1 ENOENT (...)`, `(INJECTED)`).

use super::*;
use super::structs;

/// A C string as strace quotes it, cut at `limit` bytes ("..." after).
pub fn quote(bytes: &[u8], limit: Option<usize>, out: &mut Vec<u8>) {
    let cut = limit.is_some_and(|l| bytes.len() > l);
    let shown = if cut { &bytes[..limit.unwrap()] } else { bytes };
    out.push(b'"');
    for (i, &b) in shown.iter().enumerate() {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\r' => out.extend_from_slice(b"\\r"),
            0x0c => out.extend_from_slice(b"\\f"),
            0x0b => out.extend_from_slice(b"\\v"),
            32..=126 => out.push(b),
            _ => {
                // an octal digit next would be read as part of the escape
                if shown.get(i + 1).is_some_and(|n| (b'0'..=b'7').contains(n)) {
                    push(out, format_args!("\\{b:03o}"));
                } else {
                    push(out, format_args!("\\{b:o}"));
                }
            }
        }
    }
    out.push(b'"');
    if cut {
        out.extend_from_slice(b"...");
    }
}

/// Bytes as strace shows those it always quotes in hex (getrandom's).
fn quote_hex(bytes: &[u8], limit: Option<usize>, out: &mut Vec<u8>) {
    let cut = limit.is_some_and(|l| bytes.len() > l);
    let shown = if cut { &bytes[..limit.unwrap()] } else { bytes };
    out.push(b'"');
    for b in shown {
        push(out, format_args!("\\x{b:02x}"));
    }
    out.push(b'"');
    if cut {
        out.extend_from_slice(b"...");
    }
}

fn quote_or_null(bytes: Option<&[u8]>, limit: Option<usize>, out: &mut Vec<u8>) {
    match bytes {
        Some(b) => quote(b, limit, out),
        None => out.extend_from_slice(b"NULL"),
    }
}

fn hex(word: u64, out: &mut Vec<u8>) {
    push(out, format_args!("{:#x}", word as usize));
}

/// The word of the system call's argument `i` (a string or timespec that is
/// none of the function's arguments is written here, and None returned).
unsafe fn sys_word(f: &Frame, i: usize, out: &mut Vec<u8>) -> Option<u64> {
    match f.sys_arg(i) {
        SysArg::Word(w) => Some(w),
        SysArg::Bytes(b) => {
            quote(b, None, out);
            None
        }
        SysArg::Timespec(s, ns) => {
            push(out, format_args!("{{tv_sec={s}, tv_nsec={ns}}}"));
            None
        }
    }
}

/// The word of the system call's argument `i`, when it is one.
unsafe fn word_of(f: &Frame, i: usize) -> u64 {
    match f.sys_arg(i) {
        SysArg::Word(w) => w,
        _ => 0,
    }
}

unsafe fn strace_arg(f: &Frame, i: usize, strsize: usize, out: &mut Vec<u8>) {
    let info = f.info();
    let arg = &f.sys_args()[i];
    let Some(word) = sys_word(f, i, out) else { return };
    let value = word as i64;
    use symbols::{bits, constant};
    match arg.decode {
        Decode::Plain => {}
        Decode::Open => return symbols::open_flags(value, out),
        Decode::Msg => return bits(value, MSG, out),
        Decode::At => return bits(value, symbols::AT, out),
        Decode::AtRemovedir => return bits(value, symbols::AT_REMOVEDIR, out),
        Decode::AtEaccess => return bits(value, symbols::AT_EACCESS, out),
        Decode::StatxFlags => return symbols::statx_flags(value, out),
        Decode::StatxMask => return bits(value, symbols::STATX_MASK, out),
        Decode::SockType => return symbols::socket_type(value, out),
        Decode::SockFlags => return bits(value, symbols::SOCK_FLAGS, out),
        Decode::Cloexec => return bits(value, symbols::CLOEXEC, out),
        Decode::Rename => return bits(value, symbols::RENAME, out),
        Decode::Timer => return bits(value, symbols::TIMER, out),
        Decode::CloseRange => return bits(value, symbols::CLOSE_RANGE, out),
        Decode::Family => return constant(value, AF, "AF_", out),
        Decode::Clock => return constant(value, CLOCK, "CLOCK_", out),
        Decode::Whence => return constant(value, symbols::SEEK, "SEEK_", out),
        Decode::SigHow => return constant(value, symbols::SIG_HOW, "SIG_", out),
        Decode::Shut => return constant(value, symbols::SHUT, "SHUT_", out),
        Decode::Amode if value == 0 => return out.extend_from_slice(b"F_OK"),
        Decode::Amode => return bits(value, symbols::AMODE, out),
        Decode::Fcntl => {
            return match symbols::fcntl_command(value) {
                (Some(name), _) => out.extend_from_slice(name.as_bytes()),
                (None, _) => push(out, format_args!("{value:#x} /* F_??? */")),
            }
        }
        Decode::FcntlArg => {
            use symbols::FcntlArg;
            return match fcntl_arg(f) {
                FcntlArg::None => {}
                FcntlArg::Number => push(out, value),
                FcntlArg::Fd => bits(value, symbols::FD_FLAGS, out),
                FcntlArg::Open => symbols::open_flags(value, out),
                FcntlArg::Pointer if word == 0 => out.extend_from_slice(b"NULL"),
                FcntlArg::Pointer | FcntlArg::Hex => hex(word, out),
            };
        }
        Decode::EpollCtl => return constant(value, symbols::EPOLL_CTL, "EPOLL_CTL_", out),
        Decode::Fadvise => return constant(value, symbols::FADV, "POSIX_FADV_", out),
        // (strace marks an unknown level with two question marks)
        Decode::SockLevel => match symbols::named(value, symbols::SOL) {
            Some(n) => return out.extend_from_slice(n.as_bytes()),
            None => return push(out, format_args!("{value:#x} /* SOL_?? */")),
        },
        Decode::Fallocate => return bits(value, symbols::FALLOC, out),
        Decode::Flock => return bits(value, symbols::LOCK, out),
        Decode::Inotify => return bits(value as u32 as i64, symbols::IN_MASK, out),
        Decode::Ioctl => return symbols::ioctl_request(value, out),
        // (as C's %#lx: 0 is "0")
        Decode::Hex if word == 0 => return out.push(b'0'),
        Decode::Hex => return hex(word, out),
        Decode::Bytes if word == 0 => return out.extend_from_slice(b"NULL"),
        Decode::Bytes if word_of(f, i + 1) == 4 && sockopt_known(f) => return push(out, format_args!("[{}]", *word.ptr::<i32>())),
        Decode::Bytes => {
            let len = word_of(f, i + 1) as usize;
            // SAFETY: the caller gives that many bytes at the pointer.
            let bytes = std::slice::from_raw_parts(word.ptr::<u8>(), len);
            return quote(bytes, Some(strsize), out);
        }
        // (Linux's encoding of a device number)
        Decode::Dev => return symbols::device(word, out),
        // a structure the call filled: only a successful call has one, and
        // only the function's own is read as that structure
        Decode::Stat | Decode::Statx if word == 0 => return out.extend_from_slice(b"NULL"),
        Decode::Stat | Decode::Statx if !f.proceeded || f.failed_by_result() => return hex(word, out),
        Decode::Stat if stat_buffer(f, i, &["struct stat *", "struct stat64 *"]) => return symbols::stat(&*word.ptr::<libc::stat>(), out),
        #[cfg(target_os = "linux")]
        Decode::Statx if stat_buffer(f, i, &["struct statx *"]) => return symbols::statx(&*word.ptr::<libc::statx>(), out),
        Decode::Stat | Decode::Statx => return hex(word, out),
        Decode::Iovec | Decode::IovecOut if word == 0 => return out.extend_from_slice(b"NULL"),
        Decode::Iovec => return structs::iovec(word, word_of(f, i + 1) as usize, None, strsize, out),
        Decode::IovecOut if !f.proceeded || f.failed_by_result() => return hex(word, out),
        Decode::IovecOut => return structs::iovec(word, word_of(f, i + 1) as usize, Some(f.result as u64), strsize, out),
        Decode::Wstatus if word == 0 => return out.extend_from_slice(b"NULL"),
        // (a status is there once a child was reaped: a result above 0)
        Decode::Wstatus if !f.proceeded || f.result <= 0 => return hex(word, out),
        Decode::Wstatus => return structs::wait_status(*word.ptr::<libc::c_int>(), out),
        Decode::WaitOptions => return bits(value, symbols::WAIT, out),
        Decode::Protocol => {
            let domain = word_of(f, 0) as i64;
            if domain == libc::AF_INET as i64 || domain == libc::AF_INET6 as i64 {
                return constant(value, symbols::IPPROTO, "IPPROTO_", out);
            }
        }
        Decode::Sockopt => match symbols::sockopts(word_of(f, i - 1) as i64) {
            Some((names, prefix)) => return constant(value, names, prefix, out),
            None => {}
        },
        Decode::SockoptOut if word == 0 => return out.extend_from_slice(b"NULL"),
        Decode::SockoptOut if !f.proceeded || f.failed_by_result() => return hex(word, out),
        Decode::SockoptOut => {
            let len = word_of(f, i + 1);
            if len != 0 && *len.ptr::<libc::socklen_t>() == 4 {
                return push(out, format_args!("[{}]", *word.ptr::<i32>()));
            }
            return hex(word, out);
        }
        Decode::Prot if value == 0 => return out.extend_from_slice(b"PROT_NONE"),
        Decode::Prot => return bits(value, symbols::PROT, out),
        Decode::MmapFlags => return symbols::mmap_flags(value, out),
        Decode::CloneFlags => return symbols::clone_flags(value, out),
        Decode::Signal => return symbols::signal(value, out),
        Decode::FdPair if word == 0 => return out.extend_from_slice(b"NULL"),
        Decode::FdPair if !f.proceeded || f.failed_by_result() => return hex(word, out),
        Decode::FdPair => {
            let fds = word.ptr::<[libc::c_int; 2]>();
            return push(out, format_args!("[{}, {}]", (*fds)[0], (*fds)[1]));
        }
        Decode::PollFds if word == 0 => return out.extend_from_slice(b"NULL"),
        Decode::PollFds => return poll_fds(word, word_of(f, i + 1) as usize, false, out),
        Decode::Socklen if word == 0 => return out.extend_from_slice(b"NULL"),
        Decode::Socklen => {
            let now = *word.ptr::<libc::socklen_t>();
            return match f.info().socklen_arg {
                Some(_) if f.proceeded && !f.failed_by_result() && now != f.socklen_in => {
                    push(out, format_args!("[{} => {now}]", f.socklen_in))
                }
                _ => push(out, format_args!("[{now}]")),
            };
        }
        Decode::HexBuf if f.failed_by_result() => return hex(word, out),
        Decode::HexBuf => return quote_hex(f.data().unwrap_or(&[]), Some(strsize), out),
        Decode::Getrandom => return bits(value, symbols::GRND, out),
        // an address the call fills: only a successful call has one
        Decode::SockaddrOut if word == 0 => return out.extend_from_slice(b"NULL"),
        Decode::SockaddrOut if !f.proceeded || f.failed_by_result() => return hex(word, out),
        Decode::SockaddrOut => {}
    }
    match arg.kind {
        Kind::Dirfd if value as i32 == libc::AT_FDCWD => out.extend_from_slice(b"AT_FDCWD"),
        // a path the call fills holds nothing when it failed (getcwd's)
        Kind::Path if f.failed_by_result() && !arg.ctype.starts_with("const") => hex(word, out),
        Kind::Path | Kind::Str => quote_or_null(arg_str(word), None, out),
        // (as strace's %#03o: 000, 007, 0640)
        Kind::Mode => push(out, format_args!("{:0>3}", format!("0{value:o}"))),
        // a buffer the call fills holds nothing when it failed
        Kind::Buf if f.failed_by_result() && info.buffer == BufDir::Out => hex(word, out),
        Kind::Buf => quote_or_null(f.data(), Some(strsize), out),
        Kind::Argv if arg.name == "envp" => match arg_argv(word) {
            Some(vars) => {
                let plural = if vars.len() == 1 { "" } else { "s" };
                push(out, format_args!("{:#x} /* {} var{plural} */", word as usize, vars.len()))
            }
            None => out.extend_from_slice(b"NULL"),
        },
        Kind::Argv => match arg_argv(word) {
            Some(list) => {
                out.push(b'[');
                for (n, a) in list.iter().enumerate() {
                    if n > 0 {
                        out.extend_from_slice(b", ");
                    }
                    quote(a, Some(strsize), out);
                }
                out.push(b']');
            }
            None => out.extend_from_slice(b"NULL"),
        },
        Kind::Sockaddr if word == 0 => out.extend_from_slice(b"NULL"),
        Kind::Sockaddr => match sockaddr::decode(word as usize) {
            Some(a) if a.family == "inet" => {
                push(out, format_args!("{{sa_family=AF_INET, sin_port=htons({}), sin_addr=inet_addr(", a.port.unwrap_or(0)));
                quote(a.host.as_bytes(), None, out);
                out.extend_from_slice(b")}");
            }
            Some(a) if a.family == "inet6" => {
                push(out, format_args!("{{sa_family=AF_INET6, sin6_port=htons({}), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, ", a.port.unwrap_or(0)));
                quote(a.host.as_bytes(), None, out);
                out.extend_from_slice(b", &sin6_addr), sin6_scope_id=0}");
            }
            Some(a) => {
                out.extend_from_slice(b"{sa_family=AF_UNIX, sun_path=");
                quote(a.host.as_bytes(), None, out);
                out.push(b'}');
            }
            None => hex(word, out),
        },
        Kind::Timespec => match arg_timespec(word) {
            Some((s, ns)) => push(out, format_args!("{{tv_sec={s}, tv_nsec={ns}}}")),
            None => out.extend_from_slice(b"NULL"),
        },
        Kind::Pointer if word == 0 => out.extend_from_slice(b"NULL"),
        Kind::Pointer => hex(word, out),
        _ => push(out, value),
    }
}

/// Whether the system call's argument `i` is the function's own buffer of
/// one of `types` (on 64-bit Linux a struct stat64 is the kernel's stat).
fn stat_buffer(f: &Frame, i: usize, types: &[&str]) -> bool {
    cfg!(all(target_os = "linux", target_pointer_width = "64")) && f.sys_arg_ctype(i).is_some_and(|t| types.contains(&t))
}

/// Whether a socket option's level and name are ones strace decodes (as an
/// int when 4 bytes long).
fn sockopt_known(f: &Frame) -> bool {
    let args = f.sys_args();
    let Some(n) = args.iter().position(|a| a.decode == Decode::Sockopt) else { return false };
    // SAFETY: numbers.
    let (level, name) = unsafe { (word_of(f, n - 1) as i64, word_of(f, n) as i64) };
    symbols::sockopts(level).is_some_and(|(names, _)| symbols::named(name, names).is_some())
}

/// poll's array: `[{fd=3, events=POLLIN}, {fd=-1}]`; `revents` for the
/// entries that have some (its result's decoration).
///
/// # Safety
/// `word` points to `n` pollfds.
unsafe fn poll_fds(word: u64, n: usize, returned: bool, out: &mut Vec<u8>) {
    let fds = std::slice::from_raw_parts(word.ptr::<libc::pollfd>(), n.min(1024));
    out.push(b'[');
    let mut first = true;
    for p in fds {
        if returned && p.revents == 0 {
            continue;
        }
        if !first {
            out.extend_from_slice(b", ");
        }
        first = false;
        push(out, format_args!("{{fd={}", p.fd));
        let (label, bits) = if returned { ("revents", p.revents) } else { ("events", p.events) };
        if bits != 0 {
            push(out, format_args!(", {label}="));
            symbols::bits(bits as u16 as i64, symbols::POLL, out);
        }
        out.push(b'}');
    }
    out.push(b']');
}

/// What strace adds after some results: fcntl's flags (`0x2 (flags
/// O_RDWR)`), poll's returned events.
unsafe fn result_decoration(f: &Frame, result: i64, out: &mut Vec<u8>) -> bool {
    let args = f.sys_args();
    if let Some(c) = args.iter().position(|a| a.decode == Decode::Fcntl) {
        match word_of(f, c) as i32 {
            libc::F_GETFL => {
                push(out, format_args!("{} (flags ", if result == 0 { "0".to_string() } else { format!("{result:#x}") }));
                symbols::open_flags(result, out);
                out.push(b')');
                return true;
            }
            libc::F_GETFD if result != 0 => {
                push(out, format_args!("{result:#x} (flags "));
                symbols::bits(result, symbols::FD_FLAGS, out);
                out.push(b')');
                return true;
            }
            _ => {}
        }
    }
    if let Some(p) = args.iter().position(|a| a.decode == Decode::PollFds) {
        if result > 0 {
            push(out, format_args!("{result} ("));
            poll_fds(word_of(f, p), word_of(f, p + 1) as usize, true, out);
            out.push(b')');
            return true;
        }
    }
    false
}

/// clone's arguments as strace names them, those its flags use:
/// `child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD,
/// child_tidptr=0x7f...`; the parent's tid as written once it returned.
unsafe fn clone_args(f: &Frame, out: &mut Vec<u8>) {
    let args = f.sys_args();
    let word = |name: &str| args.iter().position(|a| a.name == name).map_or(0, |i| word_of(f, i));
    let address = |w: u64, out: &mut Vec<u8>| if w == 0 { out.extend_from_slice(b"NULL") } else { hex(w, out) };
    let flags = word("flags") as i64;
    out.extend_from_slice(b"child_stack=");
    address(word("stack"), out);
    out.extend_from_slice(b", flags=");
    symbols::clone_flags(flags, out);
    let written = f.proceeded && !f.failed_by_result();
    if flags & (0x10_0000 | 0x1000) /* CLONE_PARENT_SETTID|CLONE_PIDFD */ != 0 {
        out.extend_from_slice(b", parent_tid=");
        match word("parent_tid") {
            p if p != 0 && written => push(out, format_args!("[{}]", *p.ptr::<libc::c_int>())),
            p => address(p, out),
        }
    }
    if flags & 0x8_0000 /* CLONE_SETTLS */ != 0 {
        out.extend_from_slice(b", tls=");
        address(word("tls"), out);
    }
    if flags & (0x100_0000 | 0x20_0000) /* CLONE_CHILD_SETTID|CLONE_CHILD_CLEARTID */ != 0 {
        out.extend_from_slice(b", child_tidptr=");
        address(word("child_tid"), out);
    }
}

/// How fcntl's argument reads under the call's command.
fn fcntl_arg(f: &Frame) -> symbols::FcntlArg {
    match f.sys_args().iter().position(|a| a.decode == Decode::Fcntl) {
        // SAFETY: a command is a number.
        Some(c) => symbols::fcntl_command(unsafe { word_of(f, c) } as i64).1,
        None => symbols::FcntlArg::Hex,
    }
}

fn strace_result(f: &Frame, out: &mut Vec<u8>) {
    let info = f.info();
    if f.failed_by_result() && info.errors == Errors::Eai && f.error_code() == 0 {
        // getaddrinfo's own codes: `= -2 (Name or service not known)`
        let text = crate::platform::errnames::eai_message(f.result as i32);
        push(out, format_args!("{} ({text})", f.result));
    } else if f.failed_by_result() && info.errors == Errors::Herr && f.error_code() == 0 {
        // the resolver's codes: `= NULL HOST_NOT_FOUND (Unknown host)`
        let code = crate::platform::sys::h_errno();
        let text = crate::platform::errnames::herr_message(code);
        let name = match code {
            1 => "HOST_NOT_FOUND".to_string(),
            2 => "TRY_AGAIN".to_string(),
            3 => "NO_RECOVERY".to_string(),
            4 => "NO_DATA".to_string(),
            n => format!("h_errno={n}"),
        };
        push(out, format_args!("NULL {name} ({text})"));
    } else if f.failed_by_result() {
        let err = f.error_code();
        // (not strerror's: see platform::errnames)
        let text = crate::platform::errnames::message(err);
        if info.returns_pointer && info.sys_result == SysResult::Same {
            out.extend_from_slice(b"NULL");
        } else if info.errors == Errors::Eai {
            push(out, f.result);
        } else {
            // (a function returning its error number reads as the system
            // call strace shows: -1 and the errno)
            out.extend_from_slice(b"-1");
        }
        push(out, format_args!(" {} ({text})", errno_name(err)));
    } else if info.returns_pointer && (info.sys_result == SysResult::Same || f.made().is_none()) {
        if f.result == 0 {
            out.extend_from_slice(b"NULL");
        } else {
            hex(f.result as u64, out);
        }
    } else {
        // SAFETY: a stream the call returned is open.
        let result = unsafe { f.sys_result() };
        // SAFETY: the call's arguments, after it.
        if !unsafe { result_decoration(f, result, out) } {
            push(out, result);
        }
        if result == 0 && f.made().is_some_and(|s| SYSCALLS[s].timeout) {
            out.extend_from_slice(b" (Timeout)");
        }
    }
    if f.injected {
        // (as strace marks the results its --inject made)
        out.extend_from_slice(b" (INJECTED)");
    }
}

/// `[pid P] name(args...)              = result` (the `=` of short lines at
/// column 40 after the pid, as strace aligns it).
pub unsafe fn strace(f: &Frame, strsize: usize, timed: bool, phase: Phase, out: &mut Vec<u8>) {
    let info = f.info();
    let (pid, tid) = ids();
    if pid == tid {
        push(out, format_args!("[pid {pid}] "));
    } else {
        push(out, format_args!("[pid {pid} tid {tid}] "));
    }
    let start = out.len();
    let name = f.made_name();
    if phase == Phase::Resumed {
        push(out, format_args!("<... {name} resumed>) "));
        out.extend_from_slice(b"= ");
        strace_result(f, out);
        return;
    }
    out.extend_from_slice(name.as_bytes());
    out.push(b'(');
    let args = f.sys_args();
    let mut shown = f.sys_nargs();
    // open's mode is there only when the flags ask for one (as strace shows it)
    let mode_tail = match f.made() {
        Some(s) => SYSCALLS[s].mode_tail,
        None => info.variadic && args.last().is_some_and(|a| a.kind == Kind::Mode),
    };
    if mode_tail {
        let flags = args.iter().position(|a| a.kind == Kind::Flags).map_or(0, |i| word_of(f, i) as i64);
        if !symbols::open_needs_mode(flags) {
            shown -= 1;
        }
    }
    // mknod's device is there only for a device file
    if args.last().is_some_and(|a| a.decode == Decode::Dev) {
        let mode = args.iter().position(|a| a.kind == Kind::Mode).map_or(0, |i| word_of(f, i) as u32);
        if !matches!(mode & 0o170000, 0o020000 | 0o060000) {
            shown -= 1;
        }
    }
    // fcntl's argument is there only when its command takes one
    if args.last().is_some_and(|a| a.decode == Decode::FcntlArg) && fcntl_arg(f) == symbols::FcntlArg::None {
        shown -= 1;
    }
    if args.iter().any(|a| a.decode == Decode::CloneFlags) {
        clone_args(f, out);
    } else {
        for i in 0..shown {
            if i > 0 {
                out.extend_from_slice(b", ");
            }
            strace_arg(f, i, strsize, out);
        }
    }
    if phase == Phase::Entering && info.ends {
        // (the process ends in it: strace's `exit_group(0) = ?`)
        out.push(b')');
        while out.len() - start < 39 {
            out.push(b' ');
        }
        return out.extend_from_slice(b" = ?");
    }
    if phase == Phase::Entering {
        out.extend_from_slice(b" <unfinished ...>");
        return;
    }
    out.push(b')');
    while out.len() - start < 39 {
        out.push(b' ');
    }
    out.extend_from_slice(b" = ");
    strace_result(f, out);
    if timed {
        let ns = f.elapsed_ns();
        push(out, format_args!(" <{}.{:06}>", ns / 1_000_000_000, ns % 1_000_000_000 / 1000));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::id;
    use crate::table::symbols::rendered;

    #[test]
    fn strings_are_quoted_as_strace_quotes_them() {
        assert_eq!(rendered(|o| quote(b"a\"b\\c\n\t", None, o)), r#""a\"b\\c\n\t""#);
        assert_eq!(rendered(|o| quote(b"\x01x\x017", None, o)), r#""\1x\0017""#);
        assert_eq!(rendered(|o| quote(b"abcdef", Some(3), o)), r#""abc"..."#);
        assert_eq!(rendered(|o| quote(b"abc", Some(3), o)), r#""abc""#);
    }

    #[test]
    fn a_write_and_a_failed_open_read_like_strace() {
        let buf = b"hello\n";
        let real = |_: &crate::frame::Words| 6;
        let mut f = Frame::new(id::write, &[1, buf.as_ptr() as u64, 6], crate::frame::RealFn::new(&real), 0);
        f.proceed();
        let line = rendered(|o| unsafe { strace(&f, 32, false, Phase::Done, o) });
        let (pid, _) = ids();
        assert!(line.starts_with(&format!("[pid {pid}")), "{line}");
        let call = line.split("] ").nth(1).unwrap();
        assert_eq!(call, format!("{:<39} = 6", "write(1, \"hello\\n\", 6)"));

        let path = c"/nonexistent";
        let fail = |_: &crate::frame::Words| {
            sys::set_errno(libc::ENOENT);
            -1
        };
        let mut f = Frame::new(id::openat, &[libc::AT_FDCWD as i64 as u64, path.as_ptr() as u64, libc::O_RDONLY as u64, 0], crate::frame::RealFn::new(&fail), 0);
        f.proceed();
        let line = rendered(|o| unsafe { strace(&f, 32, false, Phase::Done, o) });
        assert!(line.ends_with("openat(AT_FDCWD, \"/nonexistent\", O_RDONLY) = -1 ENOENT (No such file or directory)"), "{line}");
    }
}
