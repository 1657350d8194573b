//! `Hijack::Call`: a hooked call as a hook sees it, over its invocation
//! (ruby::hooks::Invocation).

use super::*;

/// The pointer argument `i` of the call, checked.
unsafe fn pointer_arg(mrb: *mut State, f: &Frame, v: Value) -> usize {
    let i = arg_index(mrb, f, v);
    let p = f.args[i] as usize;
    if p == 0 {
        mrb::raise(mrb, argument_error(mrb), "that argument is a null pointer")
    }
    p
}

/// call.__timespec(i) -> nanoseconds in the struct timespec argument i
unsafe extern "C" fn c_get_timespec(mrb: *mut State, this: Value) -> Value {
    let f = frame(mrb, this);
    let ts = &*(pointer_arg(mrb, f, arg(mrb, 0)) as *const libc::timespec);
    mrb::int(mrb, ts.tv_sec as i64 * 1_000_000_000 + ts.tv_nsec as i64)
}

fn split_ns(ns: i64) -> (i64, i64) {
    (ns.div_euclid(1_000_000_000), ns.rem_euclid(1_000_000_000))
}

/// call.__set_timespec(i, ns): writes the struct timespec argument i.
unsafe extern "C" fn c_set_timespec(mrb: *mut State, this: Value) -> Value {
    let f = frame(mrb, this);
    let p = pointer_arg(mrb, f, arg(mrb, 0)) as *mut libc::timespec;
    let Some(ns) = mrb::as_int(arg(mrb, 1)) else { mrb::raise(mrb, argument_error(mrb), "nanoseconds are an Integer") };
    let (sec, nsec) = split_ns(ns);
    (*p).tv_sec = sec as _;
    (*p).tv_nsec = nsec as _;
    mrb::nil()
}

/// call.__set_timeval(i, ns): writes the struct timeval argument i.
unsafe extern "C" fn c_set_timeval(mrb: *mut State, this: Value) -> Value {
    let f = frame(mrb, this);
    let p = pointer_arg(mrb, f, arg(mrb, 0)) as *mut libc::timeval;
    let Some(ns) = mrb::as_int(arg(mrb, 1)) else { mrb::raise(mrb, argument_error(mrb), "nanoseconds are an Integer") };
    let (sec, nsec) = split_ns(ns);
    (*p).tv_sec = sec as _;
    (*p).tv_usec = (nsec / 1000) as _;
    mrb::nil()
}

/// call.__set_time_t(i, seconds): writes the time_t argument i (when not null).
unsafe extern "C" fn c_set_time_t(mrb: *mut State, this: Value) -> Value {
    let f = frame(mrb, this);
    let i = arg_index(mrb, f, arg(mrb, 0));
    let Some(secs) = mrb::as_int(arg(mrb, 1)) else { mrb::raise(mrb, argument_error(mrb), "seconds are an Integer") };
    let p = f.args[i].ptr::<libc::time_t>();
    if !p.is_null() {
        *p = secs as _;
    }
    mrb::nil()
}

/// call.__replace_timespec(i, ns): points argument i at a new struct
/// timespec (the caller's is left alone).
unsafe extern "C" fn c_replace_timespec(mrb: *mut State, this: Value) -> Value {
    let f = frame(mrb, this);
    let i = arg_index(mrb, f, arg(mrb, 0));
    let Some(ns) = mrb::as_int(arg(mrb, 1)) else { mrb::raise(mrb, argument_error(mrb), "nanoseconds are an Integer") };
    let (sec, nsec) = split_ns(ns.max(0));
    let ts = libc::timespec { tv_sec: sec as _, tv_nsec: nsec as _ };
    let bytes = std::slice::from_raw_parts(&ts as *const libc::timespec as *const u8, std::mem::size_of::<libc::timespec>());
    f.set_bytes(i, bytes.to_vec());
    mrb::nil()
}

/// call.__abs_path(i) -> the path argument i, made absolute (or nil).
unsafe extern "C" fn c_abs_path(mrb: *mut State, this: Value) -> Value {
    let f = frame(mrb, this);
    let i = arg_index(mrb, f, arg(mrb, 0));
    match filter::absolute_path(f.id, &f.args[..f.nargs], i) {
        Some(p) => mrb::str(mrb, &p),
        None => mrb::nil(),
    }
}

/// call.__message_bytes: the bytes a sendmsg/recvmsg message holds (the sum
/// of its iovecs).
unsafe extern "C" fn c_message_bytes(mrb: *mut State, this: Value) -> Value {
    let f = frame(mrb, this);
    let Some(i) = f.info().args.iter().position(|a| a.name == "msg") else {
        mrb::raise(mrb, hijack_error(mrb), "this call has no message")
    };
    let msg = f.args[i].ptr::<libc::msghdr>() as *const libc::msghdr;
    if msg.is_null() {
        return mrb::int(mrb, 0);
    }
    let iov = (*msg).msg_iov;
    let total: usize = (0..(*msg).msg_iovlen as usize).map(|k| (*iov.add(k)).iov_len).sum();
    mrb::int(mrb, total as i64)
}

/// The invocation a Call stands for, or Hijack::Error once its call is over.
unsafe fn invocation(mrb: *mut State, this: Value) -> *mut Invocation<'static> {
    let p = mrb::data_get(mrb, this, &CALL_TYPE) as *mut Invocation<'static>;
    if p.is_null() {
        mrb::raise(mrb, hijack_error(mrb), "this call is over: a Hijack::Call is usable only inside its hook")
    }
    p
}

/// The frame of a Call, for an accessor: the reference lives only while the
/// accessor runs, and no accessor runs hook code (only `proceed` does, and
/// it keeps to the raw invocation).
unsafe fn frame<'a>(mrb: *mut State, this: Value) -> &'a mut Frame<'static> {
    &mut (*invocation(mrb, this)).frame
}

/// The position of an argument given by its name (a Symbol, as the table
/// names it) or its index.
unsafe fn arg_index(mrb: *mut State, f: &Frame, v: Value) -> usize {
    if let Some(name) = mrb::as_name(mrb, v) {
        return match f.info().args.iter().position(|a| a.name == name) {
            Some(i) => i,
            None => mrb::raise(mrb, argument_error(mrb), "the call has no argument of that name"),
        };
    }
    match mrb::as_int(v) {
        Some(i) if i >= 0 && (i as usize) < f.nargs => i as usize,
        _ => mrb::raise(mrb, argument_error(mrb), "argument index out of range"),
    }
}

unsafe fn c_string(mrb: *mut State, word: u64) -> Value {
    match frame::arg_str(word) {
        Some(bytes) => mrb::str(mrb, bytes),
        None => mrb::nil(),
    }
}

pub(super) unsafe fn word_value(mrb: *mut State, kind: Kind, word: u64) -> Value {
    match kind {
        Kind::Path | Kind::Str => c_string(mrb, word),
        Kind::Argv => match frame::arg_argv(word) {
            Some(list) => {
                let ary = mrb::ary_new(mrb, list.len());
                for s in list {
                    mrb::ary_push(mrb, ary, mrb::str(mrb, s));
                }
                ary
            }
            None => mrb::nil(),
        },
        Kind::Timespec => match frame::arg_timespec(word) {
            Some((sec, nsec)) => mrb::float(mrb, sec as f64 + nsec as f64 / 1e9),
            None => mrb::nil(),
        },
        Kind::Pointer | Kind::Buf | Kind::Sockaddr => mrb::int(mrb, word as usize as i64),
        _ => mrb::int(mrb, word as i64),
    }
}

/// A socket address as [family, host, port]: [:inet, "127.0.0.1", 80],
/// [:inet6, "::1", 80], [:unix, "/run/x.sock", nil]; nil for others.
unsafe fn sockaddr_value(mrb: *mut State, word: u64) -> Value {
    let Some(a) = sockaddr::decode(word as usize) else { return mrb::nil() };
    let row = [
        mrb::symbol(mrb, a.family),
        mrb::str(mrb, a.host.as_bytes()),
        a.port.map_or_else(|| mrb::nil(), |p| mrb::int(mrb, p as i64)),
    ];
    mrb::ary_of(mrb, &row)
}

unsafe extern "C" fn c_name(mrb: *mut State, this: Value) -> Value {
    let id = frame(mrb, this).id;
    mrb::sym_value(hooks::with_registry(mrb, |r| r.name(mrb, id)))
}

/// call.function: the C function the program called (:open64).
unsafe extern "C" fn c_function(mrb: *mut State, this: Value) -> Value {
    let info = frame(mrb, this).info();
    // (a system call --all-syscalls caught made no function of the table)
    if info.raw {
        return mrb::nil();
    }
    mrb::symbol(mrb, info.name.as_str())
}

/// call.__row: the name of the call's row in the table (open64, SYS_openat).
unsafe extern "C" fn c_row(mrb: *mut State, this: Value) -> Value {
    mrb::symbol(mrb, frame(mrb, this).info().name.as_str())
}

/// call.__sys_arg(i): the system call's argument i, as the function's
/// arguments give it (open's dirfd: AT_FDCWD).
unsafe extern "C" fn c_sys_arg(mrb: *mut State, this: Value) -> Value {
    use crate::frame::view::SysArg;
    let f = frame(mrb, this);
    let i = mrb::as_int(arg(mrb, 0)).unwrap_or(-1);
    if i < 0 || i as usize >= f.sys_nargs() {
        return mrb::nil();
    }
    match f.sys_arg(i as usize) {
        SysArg::Word(w) => word_value(mrb, f.sys_args()[i as usize].kind, w),
        SysArg::Bytes(b) => mrb::str(mrb, b),
        SysArg::Timespec(s, ns) => mrb::float(mrb, s as f64 + ns as f64 / 1e9),
    }
}

/// call.proceed: runs the rest of the hook chain, then the real function,
/// with the current arguments; returns the result. At most once per hook.
unsafe extern "C" fn c_proceed(mrb: *mut State, this: Value) -> Value {
    let inv = invocation(mrb, this);
    match hooks::proceed(mrb, inv, this) {
        Ok(result) => mrb::int(mrb, result),
        Err(()) => mrb::raise(mrb, hijack_error(mrb), "a hook may call proceed only once"),
    }
}

unsafe extern "C" fn c_arg(mrb: *mut State, this: Value) -> Value {
    let f = frame(mrb, this);
    let i = arg_index(mrb, f, arg(mrb, 0));
    word_value(mrb, f.info().args[i].kind, f.args[i])
}

unsafe extern "C" fn c_args(mrb: *mut State, this: Value) -> Value {
    let f = frame(mrb, this);
    let ary = mrb::ary_new(mrb, f.nargs);
    for (i, a) in f.info().args.iter().enumerate().take(f.nargs) {
        mrb::ary_push(mrb, ary, word_value(mrb, a.kind, f.args[i]));
    }
    ary
}

unsafe extern "C" fn c_set_arg(mrb: *mut State, this: Value) -> Value {
    let f = frame(mrb, this);
    let i = arg_index(mrb, f, arg(mrb, 0));
    let v = arg(mrb, 1);
    let kind = f.info().args[i].kind;
    let problem: Option<&'static str> = if let Some(n) = mrb::as_int(v) {
        f.args[i] = n as u64;
        None
    } else if kind == Kind::Sockaddr {
        // [host, port]: a new address; the length argument after it follows.
        let host = mrb::as_bytes(mrb::ary_get(v, 0)).and_then(|b| std::str::from_utf8(b).ok());
        let port = mrb::as_int(mrb::ary_get(v, 1));
        match (mrb::ary_len(v) == Some(2), host, port) {
            (true, Some(h), Some(p)) if (0..=65535).contains(&p) => match sockaddr::encode(h, p as u16) {
                Some(bytes) => {
                    if let Some(len) = f.info().args.get(i + 1).filter(|a| a.name == "addrlen" && a.kind == Kind::Int) {
                        let _ = len;
                        f.args[i + 1] = bytes.len() as u64;
                    }
                    f.set_bytes(i, bytes);
                    None
                }
                None => Some("a socket address takes an IP address literal"),
            },
            _ => Some("a socket address is set as [host, port]"),
        }
    } else if matches!(kind, Kind::Path | Kind::Str | Kind::Argv) && mrb::is_nil(v) {
        f.args[i] = 0;
        None
    } else if kind == Kind::Argv {
        if let Some(n) = mrb::ary_len(v) {
            let mut words: Vec<usize> = Vec::with_capacity(n + 1);
            let mut bad = false;
            for j in 0..n {
                match mrb::as_bytes(mrb::ary_get(v, j)).and_then(|b| CString::new(b).ok()) {
                    Some(c) => {
                        words.push(c.as_ptr() as usize);
                        f.keep_string(c);
                    }
                    None => bad = true,
                }
            }
            words.push(0);
            if bad {
                Some("an argv argument takes Strings without NUL bytes")
            } else {
                f.args[i] = word::of(words.as_ptr());
                f.keep_words(words);
                None
            }
        } else {
            Some("an argv argument takes an Array of Strings")
        }
    } else if matches!(kind, Kind::Path | Kind::Str) {
        match mrb::as_bytes(v).map(CString::new) {
            Some(Ok(s)) => {
                f.set_string(i, s);
                None
            }
            Some(Err(_)) => Some("a path cannot hold a NUL byte"),
            None => Some("a string argument takes a String or nil"),
        }
    } else {
        Some("this argument takes an Integer")
    };
    if let Some(msg) = problem {
        mrb::raise(mrb, argument_error(mrb), msg)
    }
    v
}

/// call.__match(filter_id): whether the call passes a registered filter.
unsafe extern "C" fn c_match(mrb: *mut State, this: Value) -> Value {
    let f = frame(mrb, this);
    let found = mrb::as_int(arg(mrb, 0)).and_then(|fid| filter::get(fid as usize));
    match found {
        Some(filter) => mrb::boolean(filter.matches(f.id, &f.args[..f.nargs])),
        None => mrb::raise(mrb, argument_error(mrb), "unknown filter id"),
    }
}

/// call.__sockaddr(i): the socket address argument i, decoded.
unsafe extern "C" fn c_sockaddr(mrb: *mut State, this: Value) -> Value {
    let f = frame(mrb, this);
    let i = arg_index(mrb, f, arg(mrb, 0));
    sockaddr_value(mrb, f.args[i])
}

/// call.data: the bytes about to be written, or the bytes a read delivered
/// (nil before the read has run).
unsafe extern "C" fn c_data(mrb: *mut State, this: Value) -> Value {
    let f = frame(mrb, this);
    if f.info().arg_of(Kind::Buf).is_none() || f.info().arg_of(Kind::Count).is_none() {
        mrb::raise(mrb, hijack_error(mrb), "this call has no data buffer")
    }
    match f.data() {
        Some(bytes) => mrb::str(mrb, bytes),
        None => mrb::nil(),
    }
}

/// call.data = bytes: replaces the bytes to write (the caller's buffer is
/// left alone), or what a read delivers (copied into the caller's buffer, at
/// most its size; the result follows).
unsafe extern "C" fn c_set_data(mrb: *mut State, this: Value) -> Value {
    let f = frame(mrb, this);
    let info = f.info();
    let v = arg(mrb, 0);
    let (Some(b), Some(c)) = (info.arg_of(Kind::Buf), info.arg_of(Kind::Count)) else {
        mrb::raise(mrb, hijack_error(mrb), "this call has no data buffer")
    };
    let Some(bytes) = mrb::as_bytes(v) else {
        mrb::raise(mrb, argument_error(mrb), "data takes a String")
    };
    match info.buffer {
        BufDir::In => f.replace_input(b, c, bytes.to_vec()),
        _ => {
            let room = f.args[c] as usize;
            let n = bytes.len().min(room);
            if n > 0 {
                std::ptr::copy_nonoverlapping(bytes.as_ptr(), f.args[b].ptr::<u8>(), n);
            }
            f.result = n as i64;
            f.failed = false;
            f.data_set = true;
        }
    }
    v
}

unsafe extern "C" fn c_result(mrb: *mut State, this: Value) -> Value {
    let f = frame(mrb, this);
    mrb::int(mrb, f.result)
}

unsafe extern "C" fn c_set_result(mrb: *mut State, this: Value) -> Value {
    let f = frame(mrb, this);
    let v = arg(mrb, 0);
    match mrb::as_int(v) {
        Some(n) => {
            f.result = n;
            f.failed = false;
            f.injected = true;
        }
        None => mrb::raise(mrb, argument_error(mrb), "a call's result is an Integer"),
    }
    v
}

/// call.errno: the error of a call that failed (by its result), else 0 --
/// never what an earlier call left in errno.
unsafe extern "C" fn c_errno(mrb: *mut State, this: Value) -> Value {
    let f = frame(mrb, this);
    mrb::int(mrb, if f.failed_by_result() { f.error_code() as i64 } else { 0 })
}

unsafe extern "C" fn c_fail(mrb: *mut State, this: Value) -> Value {
    let f = frame(mrb, this);
    let failed = match mrb::as_int(arg(mrb, 0)) {
        Some(e) if e > 0 && e < 4096 => f.fail(e as i32),
        _ => mrb::raise(mrb, argument_error(mrb), "an errno is a positive Integer"),
    };
    if !failed {
        mrb::raise(mrb, argument_error(mrb), "this call cannot fail (it has no error result)")
    }
    mrb::int(mrb, f.result)
}

unsafe extern "C" fn c_proceeded(mrb: *mut State, this: Value) -> Value {
    mrb::boolean(frame(mrb, this).proceeded)
}

unsafe extern "C" fn c_failed(mrb: *mut State, this: Value) -> Value {
    mrb::boolean(frame(mrb, this).failed)
}

unsafe extern "C" fn c_elapsed(mrb: *mut State, this: Value) -> Value {
    let f = frame(mrb, this);
    mrb::int(mrb, f.elapsed_ns() as i64)
}

/// Defines Hijack::Call under `m` (Hijack).
pub(super) unsafe fn define(mrb: *mut State, m: *mut mrb::Class) {
    use mrb::{args_req, define_method as method, ARGS_NONE};
    let call = mrb::define_class(mrb, Some(m), c"Call", None);
    mrb::set_instances_data(call);
    method(mrb, call, c"name", c_name, ARGS_NONE);
    method(mrb, call, c"function", c_function, ARGS_NONE);
    method(mrb, call, c"__row", c_row, ARGS_NONE);
    method(mrb, call, c"__sys_arg", c_sys_arg, args_req(1));
    method(mrb, call, c"args", c_args, ARGS_NONE);
    method(mrb, call, c"__arg", c_arg, args_req(1));
    method(mrb, call, c"__set_arg", c_set_arg, args_req(2));
    method(mrb, call, c"__sockaddr", c_sockaddr, args_req(1));
    method(mrb, call, c"__match", c_match, args_req(1));
    method(mrb, call, c"data", c_data, ARGS_NONE);
    method(mrb, call, c"__message_bytes", c_message_bytes, ARGS_NONE);
    method(mrb, call, c"__timespec", c_get_timespec, args_req(1));
    method(mrb, call, c"__abs_path", c_abs_path, args_req(1));
    method(mrb, call, c"__set_timespec", c_set_timespec, args_req(2));
    method(mrb, call, c"__set_timeval", c_set_timeval, args_req(2));
    method(mrb, call, c"__set_time_t", c_set_time_t, args_req(2));
    method(mrb, call, c"__replace_timespec", c_replace_timespec, args_req(2));
    method(mrb, call, c"data=", c_set_data, args_req(1));
    method(mrb, call, c"proceed", c_proceed, ARGS_NONE);
    method(mrb, call, c"result", c_result, ARGS_NONE);
    method(mrb, call, c"result=", c_set_result, args_req(1));
    method(mrb, call, c"errno", c_errno, ARGS_NONE);
    method(mrb, call, c"__fail", c_fail, args_req(1));
    method(mrb, call, c"proceeded?", c_proceeded, ARGS_NONE);
    method(mrb, call, c"failed?", c_failed, ARGS_NONE);
    method(mrb, call, c"elapsed", c_elapsed, ARGS_NONE);
}
