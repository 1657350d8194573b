//! Tracing, natively: a traced call becomes one line (strace's format, a
//! JSON object, or a Chrome trace event) written with one write(2), without
//! entering Ruby. `Hijack.trace` registers a tracer; its hooks run it after
//! the real call (src/ruby/hooks.rs). Counting for `hijack run --summary` is here
//! too: per-call atomic totals, read at exit.

use crate::frame::{arg_argv, arg_str, arg_timespec, Frame};
use crate::table::symbols::{self, AF, CLOCK, MSG};
use crate::table::{BufDir, Decode, Errors, Kind, CALLS, CALL_COUNT};
use crate::{platform::sockaddr, platform::sys, features::tracefile};
use std::cell::Cell;
use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Strace,
    Jsonl,
    Chrome,
}

#[derive(Debug, PartialEq)]
pub struct Tracer {
    pub path: Vec<u8>,
    pub format: Format,
    /// Each call's duration at the end of the line (strace's -T).
    pub time: bool,
    /// How many bytes of a buffer or argv string are shown.
    pub strsize: usize,
}

const MAX_TRACERS: usize = 64;
static TRACERS: [AtomicPtr<Tracer>; MAX_TRACERS] = [const { AtomicPtr::new(std::ptr::null_mut()) }; MAX_TRACERS];
static REGISTER: crate::platform::lock::SpinLock<()> = crate::platform::lock::SpinLock::new(());

/// The id of a tracer like `t` (every thread's VM runs the same scripts and
/// so asks for the same tracers: they share one). None when there are too many.
pub fn register(t: Tracer) -> Option<usize> {
    let _lock = REGISTER.lock();
    for (i, slot) in TRACERS.iter().enumerate() {
        let p = slot.load(Ordering::Acquire);
        if p.is_null() {
            slot.store(Box::into_raw(Box::new(t)), Ordering::Release);
            return Some(i);
        }
        // SAFETY: tracers are never freed.
        if unsafe { &*p } == &t {
            return Some(i);
        }
    }
    None
}

fn tracer(id: usize) -> Option<&'static Tracer> {
    let p = TRACERS.get(id)?.load(Ordering::Acquire);
    // SAFETY: tracers are never freed.
    (!p.is_null()).then(|| unsafe { &*p })
}

/// Where a traced call is when its line is written.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Phase {
    /// Over: one whole line.
    Done,
    /// An exec about to be made (it returns only if it fails): strace's
    /// `<unfinished ...>` line.
    Entering,
    /// An exec that failed, after its Entering line: `<... resumed>`.
    Resumed,
}

/// Writes the line of the call in `frame` with tracer `id`: `entering` just
/// before the real call of an exec, else once the call is over.
pub fn record(id: usize, frame: &Frame, entering: bool) {
    let Some(t) = tracer(id) else { return };
    let phase = match (frame.info().exec, entering) {
        (_, true) => Phase::Entering,
        // an exec the hooks decided without the real call never entered it
        (true, false) if frame.proceeded => Phase::Resumed,
        _ => Phase::Done,
    };
    let mut line = Vec::with_capacity(160);
    // SAFETY: the frame's pointer arguments are the caller's, valid during the call.
    unsafe {
        match t.format {
            Format::Strace => strace(frame, t.strsize, t.time, phase, &mut line),
            Format::Jsonl => jsonl(frame, t.strsize, phase, &mut line),
            Format::Chrome => chrome(frame, t.strsize, phase, &mut line),
        }
    }
    if tracefile::write(&t.path, line).is_err() {
        crate::platform::log::line("hijack: cannot write the trace file");
    }
}

// ---- this process and thread ------------------------------------------------

static FORKS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    // (forks seen, pid, tid): the ids, asked once per thread and process.
    static IDS: Cell<(u64, i64, i64)> = const { Cell::new((u64::MAX, 0, 0)) };
}

/// A fork child: its ids are new.
pub fn forked() {
    FORKS.fetch_add(1, Ordering::Relaxed);
    reset_counts();
}

fn ids() -> (i64, i64) {
    let forks = FORKS.load(Ordering::Relaxed);
    let cached = IDS.try_with(Cell::get).unwrap_or((u64::MAX, 0, 0));
    if cached.0 == forks {
        return (cached.1, cached.2);
    }
    let (pid, tid) = (sys::pid(), sys::tid());
    let _ = IDS.try_with(|c| c.set((forks, pid, tid)));
    (pid, tid)
}

// ---- what a call did ----------------------------------------------------------

fn errno_name(n: i32) -> String {
    crate::platform::errnames::name(n).map(str::to_string).unwrap_or_else(|| format!("E{n}"))
}

fn push(out: &mut Vec<u8>, s: impl std::fmt::Display) {
    use std::io::Write;
    let _ = write!(out, "{s}");
}

// ---- strace ---------------------------------------------------------------------

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

fn quote_or_null(bytes: Option<&[u8]>, limit: Option<usize>, out: &mut Vec<u8>) {
    match bytes {
        Some(b) => quote(b, limit, out),
        None => out.extend_from_slice(b"NULL"),
    }
}

fn hex(word: u64, out: &mut Vec<u8>) {
    push(out, format_args!("{:#x}", word as usize));
}

unsafe fn strace_arg(f: &Frame, i: usize, strsize: usize, out: &mut Vec<u8>) {
    let info = f.info();
    let (arg, word) = (&info.args[i], f.args[i]);
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
        Decode::Socklen if word == 0 => return out.extend_from_slice(b"NULL"),
        Decode::Socklen => return push(out, format_args!("[{}]", *(word as usize as *const libc::socklen_t))),
        // an address the call fills: only a successful call has one
        Decode::SockaddrOut if word == 0 => return out.extend_from_slice(b"NULL"),
        Decode::SockaddrOut if !f.proceeded || f.failed_by_result() => return hex(word, out),
        Decode::SockaddrOut => {}
    }
    match arg.kind {
        Kind::Dirfd if value as i32 == libc::AT_FDCWD => out.extend_from_slice(b"AT_FDCWD"),
        Kind::Path | Kind::Str => quote_or_null(arg_str(word), None, out),
        Kind::Mode => push(out, format_args!("0{value:o}")),
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

/// How fcntl's argument reads under the call's command.
fn fcntl_arg(f: &Frame) -> symbols::FcntlArg {
    let info = f.info();
    match info.args.iter().position(|a| a.decode == Decode::Fcntl) {
        Some(c) => symbols::fcntl_command(f.args[c] as i64).1,
        None => symbols::FcntlArg::Hex,
    }
}

fn strace_result(f: &Frame, out: &mut Vec<u8>) {
    let info = f.info();
    if f.failed_by_result() && info.errors == Errors::Eai && f.error_code() == 0 {
        // getaddrinfo's own codes: `= -2 (Name or service not known)`
        // SAFETY: gai_strerror returns a valid string.
        let text = unsafe { std::ffi::CStr::from_ptr(libc::gai_strerror(f.result as i32)) }.to_string_lossy();
        push(out, format_args!("{} ({text})", f.result));
    } else if f.failed_by_result() {
        let err = f.error_code();
        // SAFETY: strerror returns a valid string.
        let text = unsafe { std::ffi::CStr::from_ptr(libc::strerror(err)) }.to_string_lossy();
        if info.returns_pointer {
            out.extend_from_slice(b"NULL");
        } else if info.errors == Errors::Eai {
            push(out, f.result);
        } else {
            // (a function returning its error number reads as the system
            // call strace shows: -1 and the errno)
            out.extend_from_slice(b"-1");
        }
        push(out, format_args!(" {} ({text})", errno_name(err)));
    } else if info.returns_pointer {
        if f.result == 0 {
            out.extend_from_slice(b"NULL");
        } else {
            hex(f.result as u64, out);
        }
    } else {
        push(out, f.result);
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
    if phase == Phase::Resumed {
        push(out, format_args!("<... {} resumed>) ", info.name));
        out.extend_from_slice(b"= ");
        strace_result(f, out);
        return;
    }
    out.extend_from_slice(info.name.as_bytes());
    out.push(b'(');
    let mut shown = f.nargs;
    // open's mode is there only when the flags ask for one (as strace shows it)
    if info.variadic && info.args.last().is_some_and(|a| a.kind == Kind::Mode) {
        let flags = info.arg_of(Kind::Flags).map_or(0, |i| f.args[i] as i64);
        if flags & symbols::OPEN_WITH_MODE == 0 {
            shown -= 1;
        }
    }
    // fcntl's argument is there only when its command takes one
    if info.args.last().is_some_and(|a| a.decode == Decode::FcntlArg) && fcntl_arg(f) == symbols::FcntlArg::None {
        shown -= 1;
    }
    for i in 0..shown {
        if i > 0 {
            out.extend_from_slice(b", ");
        }
        strace_arg(f, i, strsize, out);
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

// ---- JSON ---------------------------------------------------------------------------

/// A JSON string: UTF-8 as it is, other bytes as \u00XX.
pub fn json_str(bytes: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '"' => out.extend_from_slice(b"\\\""),
                '\\' => out.extend_from_slice(b"\\\\"),
                '\n' => out.extend_from_slice(b"\\n"),
                '\t' => out.extend_from_slice(b"\\t"),
                c if (c as u32) < 0x20 => push(out, format_args!("\\u{:04x}", c as u32)),
                c => {
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
            }
        }
        for b in chunk.invalid() {
            push(out, format_args!("\\u{:04x}", b));
        }
    }
    out.push(b'"');
}

fn json_or_null(bytes: Option<&[u8]>, out: &mut Vec<u8>) {
    match bytes {
        Some(b) => json_str(b, out),
        None => out.extend_from_slice(b"null"),
    }
}

/// {"path":"/etc/passwd","flags":0,...}: each argument decoded.
unsafe fn json_args(f: &Frame, strsize: usize, out: &mut Vec<u8>) {
    let info = f.info();
    out.push(b'{');
    for i in 0..f.nargs {
        let (arg, word) = (&info.args[i], f.args[i]);
        if i > 0 {
            out.push(b',');
        }
        json_str(arg.name.as_bytes(), out);
        out.push(b':');
        match arg.kind {
            Kind::Buf if f.failed_by_result() => out.extend_from_slice(b"null"),
            Kind::Buf => json_or_null(f.data().map(|d| &d[..d.len().min(strsize)]), out),
            Kind::Path | Kind::Str => json_or_null(arg_str(word), out),
            Kind::Sockaddr => match sockaddr::decode(word as usize) {
                Some(a) => {
                    push(out, format_args!("{{\"family\":\"{}\",\"host\":", a.family));
                    json_str(a.host.as_bytes(), out);
                    match a.port {
                        Some(p) => push(out, format_args!(",\"port\":{p}}}")),
                        None => out.extend_from_slice(b",\"port\":null}"),
                    }
                }
                None => out.extend_from_slice(b"null"),
            },
            Kind::Argv => match arg_argv(word) {
                Some(vars) if arg.name == "envp" => push(out, vars.len()),
                Some(list) => {
                    out.push(b'[');
                    for (n, a) in list.iter().enumerate() {
                        if n > 0 {
                            out.push(b',');
                        }
                        json_str(a, out);
                    }
                    out.push(b']');
                }
                None => out.extend_from_slice(b"null"),
            },
            Kind::Timespec => match arg_timespec(word) {
                Some((s, ns)) => push(out, format_args!("{s}.{ns:09}")),
                None => out.extend_from_slice(b"null"),
            },
            Kind::Pointer => push(out, word as usize),
            _ => push(out, word as i64),
        }
    }
    out.push(b'}');
}

fn json_errno(f: &Frame, out: &mut Vec<u8>) {
    if f.failed_by_result() {
        push(out, format_args!("\"{}\"", errno_name(f.error_code())));
    } else {
        out.extend_from_slice(b"null");
    }
}

/// {"ts":ns,"pid":..,"tid":..,"call":"read","args":{..},"result":n,"errno":null,"ns":elapsed}
/// An exec's Entering line has `"result":null,"unfinished":true`, its
/// Resumed line `"resumed":true` and no args; an injected result
/// `"injected":true`.
pub unsafe fn jsonl(f: &Frame, strsize: usize, phase: Phase, out: &mut Vec<u8>) {
    let (pid, tid) = ids();
    let ts = sys::clock_ns(libc::CLOCK_REALTIME);
    push(out, format_args!("{{\"ts\":{ts},\"pid\":{pid},\"tid\":{tid},\"call\":\"{}\",", f.info().name));
    if phase == Phase::Resumed {
        out.extend_from_slice(b"\"resumed\":true,");
    } else {
        out.extend_from_slice(b"\"args\":");
        json_args(f, strsize, out);
        out.push(b',');
    }
    if phase == Phase::Entering {
        out.extend_from_slice(b"\"result\":null,\"errno\":null,\"unfinished\":true}");
        return;
    }
    push(out, format_args!("\"result\":{},\"errno\":", f.result));
    json_errno(f, out);
    if f.injected {
        out.extend_from_slice(b",\"injected\":true");
    }
    push(out, format_args!(",\"ns\":{}}}", f.elapsed_ns()));
}

/// A complete event ("ph":"X") in microseconds, with a comma after it (the
/// file is a JSON array that is never closed, which the viewers accept).
/// An exec is an instant event ("ph":"i") when it is entered, and a
/// complete one only when it failed.
pub unsafe fn chrome(f: &Frame, strsize: usize, phase: Phase, out: &mut Vec<u8>) {
    let (pid, tid) = ids();
    let info = f.info();
    let end_us = sys::clock_ns(libc::CLOCK_MONOTONIC) / 1000;
    let dur = if phase == Phase::Entering { 0 } else { (f.elapsed_ns() / 1000) as i64 };
    let group = info.groups.first().copied().unwrap_or("other");
    let ph = if phase == Phase::Entering { "\"ph\":\"i\",\"s\":\"t\"" } else { "\"ph\":\"X\"" };
    push(out, format_args!("{{\"name\":\"{}\",\"cat\":\"{group}\",{ph},\"ts\":{},\"dur\":{dur},\"pid\":{pid},\"tid\":{tid},\"args\":", info.name, end_us - dur));
    json_args(f, strsize, out);
    if phase == Phase::Entering {
        out.extend_from_slice(b"},");
        return;
    }
    out.pop();
    push(out, format_args!("{}\"result\":{},\"errno\":", if f.nargs > 0 { "," } else { "" }, f.result));
    json_errno(f, out);
    if f.injected {
        out.extend_from_slice(b",\"injected\":true");
    }
    out.extend_from_slice(b"}},");
}

// ---- counting (hijack run --summary) -------------------------------------------------

/// count, errors, ns, bytes read, bytes written.
static COUNTS: [[AtomicU64; 5]; CALL_COUNT] = [const { [const { AtomicU64::new(0) }; 5] }; CALL_COUNT];

/// Where this process's totals go (`hijack run --summary`'s file).
static SUMMARY: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();

/// The totals go to the trace file `path`, as `summary ...` lines.
pub fn count_to(path: &[u8]) {
    let _ = SUMMARY.set(path.to_vec());
}

/// Writes this process's totals (`summary pid=P call=NAME count=..
/// errors=.. ns=.. read=.. written=..`, one line per call) and starts them
/// again from zero: at exit, and before an exec replaces the process (its
/// totals would go with it).
pub fn flush_counts() {
    let Some(path) = SUMMARY.get() else { return };
    let (pid, _) = ids();
    for (name, c) in counts() {
        let line = format!("summary pid={pid} call={name} count={} errors={} ns={} read={} written={}", c[0], c[1], c[2], c[3], c[4]);
        if tracefile::write(path, line.into_bytes()).is_err() {
            crate::platform::log::line("hijack: cannot write the summary file");
        }
    }
    reset_counts();
}

/// Adds the call in `frame` to its totals: once it is over, or for an exec
/// when it is entered (then the totals are written: a failed exec adds its
/// error when it is over).
pub fn count(frame: &Frame, entering: bool) {
    let c = &COUNTS[frame.id];
    let resumed = frame.info().exec && frame.proceeded && !entering;
    if !resumed {
        c[0].fetch_add(1, Ordering::Relaxed);
    }
    if entering {
        flush_counts();
        return;
    }
    let failed = frame.failed_by_result();
    if failed {
        c[1].fetch_add(1, Ordering::Relaxed);
    }
    c[2].fetch_add(frame.elapsed_ns(), Ordering::Relaxed);
    if !failed && frame.result > 0 {
        match frame.info().buffer {
            BufDir::Out => c[3].fetch_add(frame.result as u64, Ordering::Relaxed),
            BufDir::In => c[4].fetch_add(frame.result as u64, Ordering::Relaxed),
            BufDir::NoBuf => 0,
        };
    }
}

/// The calls counted in this process: (name, [count, errors, ns, read, written]).
pub fn counts() -> Vec<(&'static str, [u64; 5])> {
    COUNTS
        .iter()
        .enumerate()
        .filter(|(_, c)| c[0].load(Ordering::Relaxed) > 0)
        .map(|(id, c)| (CALLS[id].name, std::array::from_fn(|k| c[k].load(Ordering::Relaxed))))
        .collect()
}

fn reset_counts() {
    for c in COUNTS.iter().flatten() {
        c.store(0, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::symbols::rendered;
    use crate::table::id;

    #[test]
    fn strings_are_quoted_as_strace_quotes_them() {
        assert_eq!(rendered(|o| quote(b"a\"b\\c\n\t", None, o)), r#""a\"b\\c\n\t""#);
        assert_eq!(rendered(|o| quote(b"\x01x\x017", None, o)), r#""\1x\0017""#);
        assert_eq!(rendered(|o| quote(b"abcdef", Some(3), o)), r#""abc"..."#);
        assert_eq!(rendered(|o| quote(b"abc", Some(3), o)), r#""abc""#);
    }

    #[test]
    fn json_strings_stay_valid_for_any_bytes() {
        assert_eq!(rendered(|o| json_str("é\"\x01\n".as_bytes(), o)), "\"é\\\"\\u0001\\n\"");
        assert_eq!(rendered(|o| json_str(b"a\xffb", o)), "\"a\\u00ffb\"");
    }

    #[test]
    fn a_write_and_a_failed_open_read_like_strace() {
        let buf = b"hello\n";
        let real = |_: &[u64]| 6;
        let mut f = Frame::new(id::write, &[1, buf.as_ptr() as u64, 6], &real, 0);
        f.proceed();
        let line = rendered(|o| unsafe { strace(&f, 32, false, Phase::Done, o) });
        let (pid, _) = ids();
        assert!(line.starts_with(&format!("[pid {pid}")), "{line}");
        let call = line.split("] ").nth(1).unwrap();
        assert_eq!(call, format!("{:<39} = 6", "write(1, \"hello\\n\", 6)"));

        let path = c"/nonexistent";
        let fail = |_: &[u64]| {
            sys::set_errno(libc::ENOENT);
            -1
        };
        let mut f = Frame::new(id::openat, &[libc::AT_FDCWD as i64 as u64, path.as_ptr() as u64, libc::O_RDONLY as u64, 0], &fail, 0);
        f.proceed();
        let line = rendered(|o| unsafe { strace(&f, 32, false, Phase::Done, o) });
        assert!(line.ends_with("openat(AT_FDCWD, \"/nonexistent\", O_RDONLY) = -1 ENOENT (No such file or directory)"), "{line}");
    }

    #[test]
    fn jsonl_lines_decode_the_arguments() {
        let buf = b"0123456789";
        let real = |_: &[u64]| 10;
        let mut f = Frame::new(id::read, &[3, buf.as_ptr() as u64, 64], &real, 0);
        f.proceed();
        let line = rendered(|o| unsafe { jsonl(&f, 4, Phase::Done, o) });
        assert!(line.contains("\"call\":\"read\",\"args\":{\"fd\":3,\"buf\":\"0123\",\"count\":64},\"result\":10,\"errno\":null"), "{line}");
    }

    #[test]
    fn counts_add_up_per_call() {
        let real = |_: &[u64]| 5;
        let mut f = Frame::new(id::pread, &[3, 0, 5, 0], &real, 0);
        f.proceed();
        count(&f, false);
        count(&f, false);
        let (_, c) = counts().into_iter().find(|(n, _)| *n == "pread").unwrap();
        assert_eq!((c[0], c[1], c[3], c[4]), (2, 0, 10, 0));
    }
}
