//! The native methods of the `Hijack` module and of `Hijack::Call`. The Ruby
//! side (mrblib/) builds the hook DSL, the call accessors and the CLI on them.

use crate::frame::{self, Frame};
use crate::ruby::hooks::{Invocation, CALL_TYPE};
use crate::table::{BufDir, Errors, Kind, CALLS};
use crate::{ruby::ffi, features::filter, ruby::hooks, platform::log, ruby::mrb, ruby::script, features::shared, platform::sockaddr, platform::sys, table, features::trace};
use mrb::{State, Value};
use std::ffi::CString;

unsafe fn hijack_module(mrb: *mut State) -> *mut mrb::Class {
    ffi::mrb_module_get(mrb, c"Hijack".as_ptr())
}

unsafe fn hijack_error(mrb: *mut State) -> *mut mrb::Class {
    ffi::mrb_class_get_under(mrb, hijack_module(mrb), c"Error".as_ptr())
}

unsafe fn argument_error(mrb: *mut State) -> *mut mrb::Class {
    mrb::class_get(mrb, c"ArgumentError")
}

/// The native method's arguments, exactly `n` of them (mruby checks arity).
unsafe fn arg(mrb: *mut State, i: usize) -> Value {
    mrb::args(mrb).get(i).copied().unwrap_or_else(|| mrb::nil())
}

/// The table index of a call name (Symbol or String), or ArgumentError.
unsafe fn call_id(mrb: *mut State, name: Value) -> usize {
    if let Some(id) = mrb::as_name(mrb, name).and_then(table::find) {
        return id;
    }
    let shown = ffi::mrb_inspect(mrb, name);
    let msg = ffi::mrb_str_cat_cstr(mrb, mrb::str(mrb, b"unknown call "), c"".as_ptr());
    ffi::mrb_str_concat(mrb, msg, shown);
    ffi::mrb_str_cat_cstr(mrb, msg, c" (`hijack list` shows the calls hijack can hook)".as_ptr());
    mrb::raise_value(mrb, ffi::mrb_exc_new_str(mrb, argument_error(mrb), msg))
}

// ---- Hijack ---------------------------------------------------------------

unsafe extern "C" fn m_check_name(mrb: *mut State, _self: Value) -> Value {
    let id = call_id(mrb, arg(mrb, 0));
    mrb::symbol(mrb, CALLS[id].name)
}

/// Strings of an Array (nil: none); None when it is something else.
unsafe fn string_list(v: Value) -> Option<Vec<Vec<u8>>> {
    if mrb::is_nil(v) {
        return Some(Vec::new());
    }
    let n = ffi::hijack_ary_len(v);
    if n < 0 {
        return None;
    }
    (0..n).map(|i| mrb::as_bytes(ffi::mrb_ary_entry(v, i)).map(<[u8]>::to_vec)).collect()
}

/// An inclusive range from two Integers or nils (nil: unbounded); None when
/// both are nil.
unsafe fn range(lo: Value, hi: Value) -> Option<(i64, i64)> {
    if mrb::is_nil(lo) && mrb::is_nil(hi) {
        return None;
    }
    Some((mrb::as_int(lo).unwrap_or(i64::MIN), mrb::as_int(hi).unwrap_or(i64::MAX)))
}

/// The compiled patterns of an Array of Regexps (nil: none).
unsafe fn regex_list(mrb: *mut State, v: Value) -> Option<Vec<&'static crate::platform::regex::Regex>> {
    if mrb::is_nil(v) {
        return Some(Vec::new());
    }
    let n = ffi::hijack_ary_len(v);
    if n < 0 {
        return None;
    }
    (0..n).map(|i| regexp_of(mrb, ffi::mrb_ary_entry(v, i))).collect()
}

/// Hijack.__watch(name, spec) -> filter id or nil. Marks the call hooked and
/// registers the hook's filter: spec is nil or
/// [paths, fd_lo, fd_hi, hosts, port_lo, port_hi, path_regexps]
/// (see Hijack.__filter_spec).
unsafe extern "C" fn m_watch(mrb: *mut State, _self: Value) -> Value {
    let id = call_id(mrb, arg(mrb, 0));
    let spec = arg(mrb, 1);
    let result: Result<Option<usize>, String> = if mrb::is_nil(spec) {
        Ok(filter::register(id, None))
    } else {
        let at = |i: i64| ffi::mrb_ary_entry(spec, i as _);
        match (string_list(at(0)), string_list(at(3)), regex_list(mrb, at(6))) {
            (Some(paths), Some(hosts), Some(path_regexes)) if ffi::hijack_ary_len(spec) == 7 => {
                let f = filter::Filter { paths, path_regexes, fd: range(at(1), at(2)), hosts, port: range(at(4), at(5)) };
                filter::check(id, &f).map(|()| filter::register(id, Some(f)))
            }
            _ => Err("a filter spec is [paths, fd_lo, fd_hi, hosts, port_lo, port_hi, path_regexps]".to_string()),
        }
    };
    let out = match result {
        Ok(fid) => {
            frame::watch(id);
            fid.map_or_else(|| mrb::nil(), |f| mrb::int(mrb, f as i64))
        }
        Err(msg) => mrb::str(mrb, msg.as_bytes()),
    };
    if ffi::hijack_type(out) == ffi::mrb_vtype::MRB_TT_STRING {
        mrb::raise_value(mrb, ffi::mrb_exc_new_str(mrb, argument_error(mrb), out))
    }
    out
}

/// Hijack.__table: every call's row (see `table_row`).
unsafe extern "C" fn m_table(mrb: *mut State, _self: Value) -> Value {
    let all = ffi::mrb_ary_new_capa(mrb, CALLS.len() as _);
    for c in CALLS.iter() {
        ffi::mrb_ary_push(mrb, all, table_row(mrb, c));
    }
    all
}

/// Hijack.__row(name): one call's row (unknown names raise ArgumentError),
/// without building the whole table.
unsafe extern "C" fn m_row(mrb: *mut State, _self: Value) -> Value {
    table_row(mrb, &CALLS[call_id(mrb, arg(mrb, 0))])
}

/// [name, [[arg, kind, ctype], ...], errors, groups, prototype, buffer].
unsafe fn table_row(mrb: *mut State, c: &table::CallInfo) -> Value {
    let args = ffi::mrb_ary_new_capa(mrb, c.args.len() as _);
    for a in c.args {
        let triple = [mrb::symbol(mrb, a.name), mrb::symbol(mrb, a.kind.name()), mrb::str(mrb, a.ctype.as_bytes())];
        ffi::mrb_ary_push(mrb, args, ffi::mrb_ary_new_from_values(mrb, 3, triple.as_ptr()));
    }
    let groups = ffi::mrb_ary_new_capa(mrb, c.groups.len() as _);
    for g in c.groups {
        ffi::mrb_ary_push(mrb, groups, mrb::symbol(mrb, g));
    }
    let errors = match c.errors {
        Errors::MinusOne => "minus_one",
        Errors::Null => "null",
        Errors::Code => "code",
        Errors::Eai => "eai",
        Errors::None => "none",
    };
    let buffer = match c.buffer {
        BufDir::In => mrb::symbol(mrb, "in"),
        BufDir::Out => mrb::symbol(mrb, "out"),
        BufDir::NoBuf => mrb::nil(),
    };
    let row = [
        mrb::symbol(mrb, c.name),
        args,
        mrb::symbol(mrb, errors),
        groups,
        mrb::str(mrb, c.prototype.as_bytes()),
        buffer,
    ];
    ffi::mrb_ary_new_from_values(mrb, row.len() as _, row.as_ptr())
}

/// Writes the native method's argument, as a String, with `write`.
unsafe fn log_argument(mrb: *mut State, write: fn(&str)) -> Value {
    let s = ffi::mrb_obj_as_string(mrb, arg(mrb, 0));
    if let Some(bytes) = mrb::as_bytes(s) {
        write(&String::from_utf8_lossy(bytes));
    }
    mrb::nil()
}

unsafe extern "C" fn m_log(mrb: *mut State, _self: Value) -> Value {
    log_argument(mrb, log::line)
}

unsafe extern "C" fn m_version(mrb: *mut State, _self: Value) -> Value {
    mrb::str(mrb, env!("CARGO_PKG_VERSION").as_bytes())
}

unsafe extern "C" fn m_pid(mrb: *mut State, _self: Value) -> Value {
    mrb::int(mrb, sys::pid())
}

unsafe extern "C" fn m_tid(mrb: *mut State, _self: Value) -> Value {
    mrb::int(mrb, sys::tid())
}

unsafe extern "C" fn m_platform(mrb: *mut State, _self: Value) -> Value {
    mrb::str(mrb, sys::PLATFORM.as_bytes())
}

unsafe extern "C" fn m_preload_variable(mrb: *mut State, _self: Value) -> Value {
    mrb::str(mrb, sys::PRELOAD_VAR.as_bytes())
}

unsafe extern "C" fn m_library_name(mrb: *mut State, _self: Value) -> Value {
    mrb::str(mrb, sys::LIBRARY_NAME.as_bytes())
}

/// Hijack.__compile(source, filename) -> bytecode String; SyntaxError with
/// "FILE:LINE: message" when it does not compile.
unsafe extern "C" fn m_compile(mrb: *mut State, _self: Value) -> Value {
    let (src, name) = (arg(mrb, 0), arg(mrb, 1));
    let (Some(src), Some(name)) = (mrb::as_bytes(src), mrb::as_bytes(name)) else {
        mrb::raise(mrb, argument_error(mrb), "__compile(source, filename) takes two Strings")
    };
    let name = String::from_utf8_lossy(name).into_owned();
    let out = match script::compile(mrb, src, &name) {
        Ok(unit) => Ok(mrb::str(mrb, &unit.irep)),
        Err(msg) => Err(mrb::str(mrb, msg.as_bytes())),
    };
    match out {
        Ok(v) => v,
        Err(msg) => mrb::raise_value(mrb, ffi::mrb_exc_new_str(mrb, mrb::class_get(mrb, c"SyntaxError"), msg)),
    }
}

/// Hijack.__check_file(path) -> nil when the script at PATH compiles (or is
/// bytecode), else "FILE:LINE: message" (read and compiled here: a script
/// of any size, never a Ruby String).
unsafe extern "C" fn m_check_file(mrb: *mut State, _self: Value) -> Value {
    use std::os::unix::ffi::OsStrExt;
    let Some(path) = mrb::as_bytes(arg(mrb, 0)) else {
        mrb::raise(mrb, argument_error(mrb), "__check_file takes a path")
    };
    let name = String::from_utf8_lossy(path).into_owned();
    let problem = match std::fs::read(std::ffi::OsStr::from_bytes(path)) {
        Err(e) => Some(format!("cannot read script {name}: {e}")),
        Ok(source) if script::is_bytecode(&source) => None,
        Ok(source) => script::compile(mrb, &source, &name).err(),
    };
    match problem {
        Some(p) => mrb::str(mrb, p.as_bytes()),
        None => mrb::nil(),
    }
}

/// Hijack.__load_bytecode(bytes) -> the value of running it here.
unsafe extern "C" fn m_load_bytecode(mrb: *mut State, _self: Value) -> Value {
    let Some(bytes) = mrb::as_bytes(arg(mrb, 0)) else {
        mrb::raise(mrb, argument_error(mrb), "__load_bytecode takes a String")
    };
    if !script::is_bytecode(bytes) {
        mrb::raise(mrb, argument_error(mrb), "not mruby bytecode (no RITE header)")
    }
    let v = ffi::mrb_load_irep_buf(mrb, bytes.as_ptr() as *const std::ffi::c_void, bytes.len());
    if let Some(exc) = mrb::take_exception(mrb) {
        mrb::raise_value(mrb, exc)
    }
    v
}

/// Hijack.__exec(file, *args): replaces the process (execvp). Returns the
/// errno when it could not.
unsafe extern "C" fn m_exec(mrb: *mut State, _self: Value) -> Value {
    let errno = {
        let mut argv: Vec<CString> = Vec::new();
        let mut ok = true;
        for v in mrb::args(mrb) {
            match mrb::as_bytes(*v).and_then(|b| CString::new(b).ok()) {
                Some(c) => argv.push(c),
                None => ok = false,
            }
        }
        if !ok || argv.is_empty() {
            libc::EINVAL
        } else {
            let mut ptrs: Vec<*const libc::c_char> = argv.iter().map(|c| c.as_ptr()).collect();
            ptrs.push(std::ptr::null());
            libc::execvp(ptrs[0], ptrs.as_ptr());
            sys::errno()
        }
    };
    mrb::int(mrb, errno as i64)
}

unsafe extern "C" fn m_getenv(mrb: *mut State, _self: Value) -> Value {
    use std::os::unix::ffi::OsStrExt;
    let value = mrb::as_bytes(arg(mrb, 0))
        .and_then(|n| std::str::from_utf8(n).ok())
        .and_then(std::env::var_os);
    match value {
        Some(v) => mrb::str(mrb, v.as_bytes()),
        None => mrb::nil(),
    }
}

/// Hijack.__setenv(name, value_or_nil): nil unsets.
unsafe extern "C" fn m_setenv(mrb: *mut State, _self: Value) -> Value {
    let (name, value) = (arg(mrb, 0), arg(mrb, 1));
    let ok = match mrb::as_bytes(name).and_then(|n| CString::new(n).ok()) {
        None => false,
        Some(n) if mrb::is_nil(value) => libc::unsetenv(n.as_ptr()) == 0,
        Some(n) => match mrb::as_bytes(value).and_then(|v| CString::new(v).ok()) {
            Some(v) => libc::setenv(n.as_ptr(), v.as_ptr(), 1) == 0,
            None => false,
        },
    };
    if !ok {
        mrb::raise(mrb, argument_error(mrb), "__setenv(name, value): name and value must be Strings without NUL")
    }
    mrb::nil()
}

/// Hijack.__cannot_hook(command) -> why hijack's library cannot reach the
/// program `command` names (statically linked, another loader or
/// architecture), or nil.
unsafe extern "C" fn m_cannot_hook(mrb: *mut State, _self: Value) -> Value {
    let Some(command) = mrb::as_bytes(arg(mrb, 0)) else {
        mrb::raise(mrb, argument_error(mrb), "__cannot_hook takes a String")
    };
    let command = String::from_utf8_lossy(command).into_owned();
    let why = crate::platform::elf::resolve(&command).and_then(|p| crate::platform::elf::cannot_hook(&p).map(|why| format!("{} {why}", p.display())));
    match why {
        Some(w) => mrb::str(mrb, w.as_bytes()),
        None => mrb::nil(),
    }
}

/// Hijack.__stash(code) -> the path of a file of the user's holding CODE
/// (for hook code too large to travel in the environment).
unsafe extern "C" fn m_stash(mrb: *mut State, _self: Value) -> Value {
    use std::os::unix::ffi::OsStrExt;
    let Some(code) = mrb::as_bytes(arg(mrb, 0)) else {
        mrb::raise(mrb, argument_error(mrb), "__stash takes a String")
    };
    let stashed = crate::features::stash::stash(code);
    match stashed {
        Ok(p) => mrb::str(mrb, p.as_os_str().as_bytes()),
        Err(e) => mrb::raise(mrb, hijack_error(mrb), &e),
    }
}

unsafe extern "C" fn m_exe_path(mrb: *mut State, _self: Value) -> Value {
    use std::os::unix::ffi::OsStrExt;
    match std::env::current_exe() {
        Ok(p) => mrb::str(mrb, p.as_os_str().as_bytes()),
        Err(_) => mrb::nil(),
    }
}

/// Hijack.__simulate(name, [arg, ...], real_result, real_errno)
///   -> [result, errno, proceeded, [arg, ...]]
/// Runs this VM's hooks on a synthetic call whose "real function" only
/// returns real_result with real_errno (Hijack.simulate wraps it).
unsafe extern "C" fn m_simulate(mrb: *mut State, _this: Value) -> Value {
    let id = call_id(mrb, arg(mrb, 0));
    let (values, ret, err) = (arg(mrb, 1), arg(mrb, 2), arg(mrb, 3));
    let info = &CALLS[id];
    let given = ffi::hijack_ary_len(values).max(0) as usize;
    let (Some(ret), Some(err)) = (mrb::as_int(ret), mrb::as_int(err)) else {
        mrb::raise(mrb, argument_error(mrb), "the simulated result and errno are Integers")
    };
    if given != info.args.len() {
        mrb::raise(mrb, argument_error(mrb), "__simulate needs one value per argument")
    }
    let outcome = {
        let real = move |_: &[u64]| {
            sys::set_errno(err as i32);
            ret
        };
        let mut inv = Invocation::new(Frame::new(id, &vec![0u64; given], &real, 0));
        let frame = &mut inv.frame;
        let mut problem = None;
        for i in 0..given {
            let v = ffi::mrb_ary_entry(values, i as _);
            if let Some(n) = mrb::as_int(v) {
                frame.args[i] = n as u64;
            } else if mrb::is_nil(v) {
                frame.args[i] = 0;
            } else if let Some(s) = mrb::as_bytes(v).and_then(|b| CString::new(b).ok()) {
                frame.set_string(i, s);
            } else {
                problem = Some("simulated arguments are Integers, Strings or nil");
            }
        }
        match problem {
            Some(msg) => Err(mrb::str(mrb, msg.as_bytes())),
            None => {
                hooks::run(mrb, &mut inv);
                let frame = &inv.frame;
                let args = ffi::mrb_ary_new_capa(mrb, given as _);
                for (i, a) in info.args.iter().enumerate() {
                    ffi::mrb_ary_push(mrb, args, word_value(mrb, a.kind, frame.args[i]));
                }
                let row = [
                    mrb::int(mrb, frame.result),
                    mrb::int(mrb, frame.errno as i64),
                    mrb::boolean(frame.proceeded),
                    args,
                ];
                Ok(ffi::mrb_ary_new_from_values(mrb, row.len() as _, row.as_ptr()))
            }
        }
    };
    match outcome {
        Ok(v) => v,
        Err(e) if ffi::hijack_type(e) == ffi::mrb_vtype::MRB_TT_STRING => {
            mrb::raise_value(mrb, ffi::mrb_exc_new_str(mrb, argument_error(mrb), e))
        }
        Err(exc) => mrb::raise_value(mrb, exc),
    }
}

/// Hijack.monotonic: seconds on the monotonic clock, as a Float.
unsafe extern "C" fn m_monotonic(mrb: *mut State, _self: Value) -> Value {
    ffi::hijack_float(mrb, sys::now_ns() as f64 / 1e9)
}

/// Hijack.__fault_log(line): one line to the fault log.
unsafe extern "C" fn m_fault_log(mrb: *mut State, _self: Value) -> Value {
    log_argument(mrb, log::fault_line)
}

/// Hijack.__tracer(path, format, time, strsize) -> id: a native tracer
/// (src/features/trace.rs) for hooks of kind :trace.
unsafe extern "C" fn m_tracer(mrb: *mut State, _self: Value) -> Value {
    use crate::features::trace::{Format, Tracer};
    let a = mrb::args(mrb);
    let format = match a.get(1).and_then(|v| mrb::as_name(mrb, *v)) {
        Some("strace") => Format::Strace,
        Some("jsonl") => Format::Jsonl,
        Some("chrome") => Format::Chrome,
        _ => mrb::raise(mrb, argument_error(mrb), "a trace format is :strace, :jsonl or :chrome"),
    };
    let (Some(path), Some(strsize)) = (a.first().and_then(|v| mrb::as_bytes(*v)), a.get(3).and_then(|v| mrb::as_int(*v))) else {
        mrb::raise(mrb, argument_error(mrb), "__tracer(path, format, time, strsize)")
    };
    let time = a.get(2).is_some_and(|v| ffi::hijack_type(*v) == ffi::mrb_vtype::MRB_TT_TRUE);
    let tracer = Tracer { path: path.to_vec(), format, time, strsize: strsize.max(0) as usize };
    match crate::features::trace::register(tracer) {
        Some(id) => mrb::int(mrb, id as i64),
        None => mrb::raise(mrb, hijack_error(mrb), "too many different traces in one process"),
    }
}

/// Hijack.__resolve(path) -> the path the kernel will use for PATH (an
/// absolute path): symlinks of its longest existing part resolved, the rest
/// appended as it is.
unsafe extern "C" fn m_resolve(mrb: *mut State, _self: Value) -> Value {
    use std::os::unix::ffi::OsStrExt;
    let Some(path) = mrb::as_bytes(arg(mrb, 0)) else {
        mrb::raise(mrb, argument_error(mrb), "__resolve takes a path")
    };
    let resolved = crate::platform::sys::resolve(std::path::Path::new(std::ffi::OsStr::from_bytes(path)));
    mrb::str(mrb, resolved.as_os_str().as_bytes())
}

/// Hijack.__socket_type(fd) -> :stream, :dgram, :raw, :seqpacket, or nil
/// (not a socket).
unsafe extern "C" fn m_socket_type(mrb: *mut State, _self: Value) -> Value {
    let Some(fd) = mrb::as_int(arg(mrb, 0)) else { return mrb::nil() };
    let mut ty: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    if libc::getsockopt(fd as i32, libc::SOL_SOCKET, libc::SO_TYPE, &mut ty as *mut _ as *mut libc::c_void, &mut len) != 0 {
        return mrb::nil();
    }
    let name = match ty {
        libc::SOCK_STREAM => "stream",
        libc::SOCK_DGRAM => "dgram",
        libc::SOCK_RAW => "raw",
        libc::SOCK_SEQPACKET => "seqpacket",
        _ => return mrb::nil(),
    };
    mrb::symbol(mrb, name)
}

/// Hijack.__count_to(path): this process's call totals go to the trace
/// file PATH (`summary ...` lines, by Hijack.__flush_counts and before an
/// exec).
unsafe extern "C" fn m_count_to(mrb: *mut State, _self: Value) -> Value {
    let Some(path) = mrb::as_bytes(arg(mrb, 0)) else {
        mrb::raise(mrb, argument_error(mrb), "__count_to takes a path")
    };
    crate::features::trace::count_to(path);
    mrb::nil()
}

/// Hijack.__flush_counts: writes this process's totals and starts again.
unsafe extern "C" fn m_flush_counts(_mrb: *mut State, _self: Value) -> Value {
    crate::features::trace::flush_counts();
    mrb::nil()
}

/// Hijack.__trace_write(path, line): appends one line to the trace file
/// `path` (opened once per process, O_APPEND; one write(2) per line, so
/// lines from threads and processes never tear or interleave, and nothing
/// waits in a buffer when the process dies). "-" is hijack's log.
unsafe extern "C" fn m_trace_write(mrb: *mut State, _self: Value) -> Value {
    let (Some(path), Some(line)) = (mrb::as_bytes(arg(mrb, 0)), mrb::as_bytes(arg(mrb, 1))) else {
        mrb::raise(mrb, argument_error(mrb), "__trace_write(path, line) takes Strings")
    };
    if crate::features::tracefile::write(path, line.to_vec()).is_err() {
        log::line("hijack: cannot write the trace file");
    }
    mrb::nil()
}

/// Hijack.__spawn_wait(file, *args) -> [exit status, signal or 0, errno]:
/// runs the command as a child (execvp), forwards INT, TERM, HUP, QUIT,
/// USR1, USR2 and WINCH to it, and waits for it.
unsafe extern "C" fn m_spawn_wait(mrb: *mut State, _self: Value) -> Value {
    let outcome = {
        let argv: Option<Vec<CString>> = mrb::args(mrb).iter().map(|v| mrb::as_bytes(*v).and_then(|b| CString::new(b).ok())).collect();
        match argv {
            Some(argv) if !argv.is_empty() => crate::features::spawn::run(&argv),
            _ => Err(libc::EINVAL),
        }
    };
    let row = match outcome {
        Ok((status, signal)) => [mrb::int(mrb, status as i64), mrb::int(mrb, signal as i64), mrb::int(mrb, 0)],
        Err(e) => [mrb::int(mrb, 0), mrb::int(mrb, 0), mrb::int(mrb, e as i64)],
    };
    ffi::mrb_ary_new_from_values(mrb, 3, row.as_ptr())
}

/// Hijack.__control_request(pid, text) -> the process's reply; Hijack::Error
/// when it cannot be reached.
unsafe extern "C" fn m_control_request(mrb: *mut State, _self: Value) -> Value {
    let (Some(pid), Some(text)) = (mrb::as_int(arg(mrb, 0)), mrb::as_bytes(arg(mrb, 1))) else {
        mrb::raise(mrb, argument_error(mrb), "__control_request(pid, text)")
    };
    let reply = crate::features::control::request(pid as u32, &String::from_utf8_lossy(text));
    let v = match reply {
        Ok(r) => Ok(mrb::str(mrb, r.as_bytes())),
        Err(e) => Err(mrb::str(mrb, e.as_bytes())),
    };
    match v {
        Ok(v) => v,
        Err(msg) => mrb::raise_value(mrb, ffi::mrb_exc_new_str(mrb, hijack_error(mrb), msg)),
    }
}

/// Hijack.__control_processes -> [[pid, command line], ...]
unsafe extern "C" fn m_control_processes(mrb: *mut State, _self: Value) -> Value {
    let found = crate::features::control::processes();
    let v = match found {
        Ok(list) => {
            let ary = ffi::mrb_ary_new(mrb);
            for (pid, cmd) in list {
                let row = [mrb::int(mrb, pid as i64), mrb::str(mrb, cmd.as_bytes())];
                ffi::mrb_ary_push(mrb, ary, ffi::mrb_ary_new_from_values(mrb, 2, row.as_ptr()));
            }
            Ok(ary)
        }
        Err(e) => Err(mrb::str(mrb, e.as_bytes())),
    };
    match v {
        Ok(v) => v,
        Err(msg) => mrb::raise_value(mrb, ffi::mrb_exc_new_str(mrb, hijack_error(mrb), msg)),
    }
}

/// Hijack.__top(trace_path, pid, title) -> the command's exit status, or
/// nil when the user quit first (hijack top).
#[cfg(feature = "tui")]
unsafe extern "C" fn m_top(mrb: *mut State, _self: Value) -> Value {
    let (Some(path), Some(pid), Some(title)) = (mrb::as_bytes(arg(mrb, 0)), mrb::as_int(arg(mrb, 1)), mrb::as_bytes(arg(mrb, 2)))
    else {
        mrb::raise(mrb, argument_error(mrb), "__top(trace_path, pid, title)")
    };
    let outcome = crate::features::top::run(&String::from_utf8_lossy(path), pid as i32, &String::from_utf8_lossy(title));
    let v = match outcome {
        Ok(Some(status)) => Ok(mrb::int(mrb, status as i64)),
        Ok(None) => Ok(mrb::nil()),
        Err(e) => Err(mrb::str(mrb, e.to_string().as_bytes())),
    };
    match v {
        Ok(v) => v,
        Err(msg) => mrb::raise_value(mrb, ffi::mrb_exc_new_str(mrb, hijack_error(mrb), msg)),
    }
}

/// Hijack.__spawn(file, *args) -> pid, or raises SystemCallError-like Hijack::Error.
unsafe extern "C" fn m_spawn(mrb: *mut State, _self: Value) -> Value {
    let started = {
        let argv: Option<Vec<CString>> = mrb::args(mrb).iter().map(|v| mrb::as_bytes(*v).and_then(|b| CString::new(b).ok())).collect();
        match argv {
            Some(argv) if !argv.is_empty() => crate::features::spawn::start(&argv),
            _ => Err(libc::EINVAL),
        }
    };
    match started {
        Ok(pid) => mrb::int(mrb, pid as i64),
        Err(_) => mrb::raise(mrb, hijack_error(mrb), "cannot start the command"),
    }
}

/// Hijack.__audit_log(line): one line to the audit log.
unsafe extern "C" fn m_audit_log(mrb: *mut State, _self: Value) -> Value {
    log_argument(mrb, log::audit_line)
}

/// Hijack.__blackhole -> port of a listener on 127.0.0.1 whose backlog is
/// full: a connect to it hangs (its SYNs are dropped) until the caller's own
/// timeout, like one to a host behind a network partition.
unsafe extern "C" fn m_blackhole(mrb: *mut State, _self: Value) -> Value {
    match crate::features::blackhole::port() {
        Some(p) => mrb::int(mrb, p as i64),
        None => mrb::raise(mrb, hijack_error(mrb), "could not set up a blackhole listener on 127.0.0.1"),
    }
}

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
    let p = f.args[i] as usize as *mut libc::time_t;
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

/// Hijack.__clocks -> {realtime: 0, monotonic: 1, ...} and TIMER_ABSTIME.
unsafe extern "C" fn m_clocks(mrb: *mut State, _self: Value) -> Value {
    let hash = ffi::mrb_hash_new(mrb);
    // realtime, monotonic, ... from CLOCK_REALTIME, CLOCK_MONOTONIC, ...
    #[allow(unused_mut)]
    let mut clocks: Vec<(String, i64)> =
        crate::table::symbols::CLOCK.iter().map(|(name, v)| (name.trim_start_matches("CLOCK_").to_lowercase(), *v)).collect();
    #[cfg(target_os = "linux")]
    clocks.push(("timer_abstime".into(), libc::TIMER_ABSTIME as i64));
    for (k, v) in clocks {
        ffi::mrb_hash_set(mrb, hash, mrb::symbol(mrb, &k), mrb::int(mrb, v));
    }
    hash
}

/// Hijack.__real_clock(id) -> nanoseconds on the real clock `id`.
unsafe extern "C" fn m_real_clock(mrb: *mut State, _self: Value) -> Value {
    let Some(id) = mrb::as_int(arg(mrb, 0)) else { mrb::raise(mrb, argument_error(mrb), "a clock id is an Integer") };
    mrb::int(mrb, sys::clock_ns(id as libc::clockid_t))
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

/// Hijack.glob?(pattern, path): hijack's glob matching (`*` within a
/// segment, `**` across them).
unsafe extern "C" fn m_glob(mrb: *mut State, _self: Value) -> Value {
    match (mrb::as_bytes(arg(mrb, 0)), mrb::as_bytes(arg(mrb, 1))) {
        (Some(p), Some(t)) => mrb::boolean(crate::platform::glob::matches(p, t)),
        _ => mrb::raise(mrb, argument_error(mrb), "Hijack.glob?(pattern, path) takes two Strings"),
    }
}

/// Hijack.__fake_path(name, content) -> the path of a private file named
/// like `name` holding `content` (removed when the process that made it
/// exits).
unsafe extern "C" fn m_fake_path(mrb: *mut State, _self: Value) -> Value {
    let (Some(name), Some(content)) = (mrb::as_bytes(arg(mrb, 0)), mrb::as_bytes(arg(mrb, 1))) else {
        mrb::raise(mrb, argument_error(mrb), "__fake_path(name, content) takes Strings")
    };
    let made = crate::features::fakefile::make(&String::from_utf8_lossy(name), crate::features::fakefile::Content::Bytes(content));
    match made {
        Ok(path) => mrb::str(mrb, path.as_bytes()),
        Err(_) => mrb::raise(mrb, hijack_error(mrb), "could not make a fake file"),
    }
}

/// Hijack.__fake_copy(name, source) -> the path of a private file named
/// NAME holding a copy of the file SOURCE (a fake of any size: its bytes
/// never pass through Ruby).
unsafe extern "C" fn m_fake_copy(mrb: *mut State, _self: Value) -> Value {
    use std::os::unix::ffi::OsStrExt;
    let (Some(name), Some(source)) = (mrb::as_bytes(arg(mrb, 0)), mrb::as_bytes(arg(mrb, 1))) else {
        mrb::raise(mrb, argument_error(mrb), "__fake_copy(name, source) takes Strings")
    };
    let source = std::path::Path::new(std::ffi::OsStr::from_bytes(source));
    let made = crate::features::fakefile::make(&String::from_utf8_lossy(name), crate::features::fakefile::Content::CopyOf(source));
    match made {
        Ok(path) => mrb::str(mrb, path.as_bytes()),
        Err(e) => mrb::raise(mrb, hijack_error(mrb), &format!("could not make a fake file from {}: {e}", source.display())),
    }
}

/// Hijack.__open_flags -> the O_* flags that make an open write.
unsafe extern "C" fn m_open_flags(mrb: *mut State, _self: Value) -> Value {
    let hash = ffi::mrb_hash_new(mrb);
    for (k, v) in [
        ("wronly", libc::O_WRONLY),
        ("rdwr", libc::O_RDWR),
        ("creat", libc::O_CREAT),
        ("trunc", libc::O_TRUNC),
        ("append", libc::O_APPEND),
    ] {
        ffi::mrb_hash_set(mrb, hash, mrb::symbol(mrb, k), mrb::int(mrb, v as i64));
    }
    hash
}

/// Hijack.__argv0 -> the program's name (argv[0]).
unsafe extern "C" fn m_argv0(mrb: *mut State, _self: Value) -> Value {
    let name = std::env::args_os().next().map(|a| a.to_string_lossy().into_owned()).unwrap_or_default();
    mrb::str(mrb, name.as_bytes())
}

/// call.__message_bytes: the bytes a sendmsg/recvmsg message holds (the sum
/// of its iovecs).
unsafe extern "C" fn c_message_bytes(mrb: *mut State, this: Value) -> Value {
    let f = frame(mrb, this);
    let Some(i) = f.info().args.iter().position(|a| a.name == "msg") else {
        mrb::raise(mrb, hijack_error(mrb), "this call has no message")
    };
    let msg = f.args[i] as usize as *const libc::msghdr;
    if msg.is_null() {
        return mrb::int(mrb, 0);
    }
    let iov = (*msg).msg_iov;
    let total: usize = (0..(*msg).msg_iovlen as usize).map(|k| (*iov.add(k)).iov_len).sum();
    mrb::int(mrb, total as i64)
}

unsafe extern "C" fn m_abort(_mrb: *mut State, _self: Value) -> Value {
    libc::abort()
}

// ---- Regexp ----------------------------------------------------------------

pub static REGEXP_TYPE: mrb::DataType =
    mrb::DataType(ffi::mrb_data_type { struct_name: c"Regexp".as_ptr(), dfree: None });

/// The compiled pattern of a Regexp object.
unsafe fn regexp_of(mrb: *mut State, v: Value) -> Option<&'static crate::platform::regex::Regex> {
    let p = ffi::mrb_data_check_get_ptr(mrb, v, &REGEXP_TYPE.0) as *const crate::platform::regex::Regex;
    p.as_ref()
}

/// Regexp.compile(source, options = nil, encoding = nil): options is "i",
/// Regexp::IGNORECASE, or true for a case-insensitive pattern.
unsafe extern "C" fn r_compile(mrb: *mut State, klass: Value) -> Value {
    let args = mrb::args(mrb);
    let Some(&src) = args.first() else {
        mrb::raise(mrb, argument_error(mrb), "Regexp.new(source, options = nil)")
    };
    if regexp_of(mrb, src).is_some() {
        return src;
    }
    let Some(source) = mrb::as_bytes(src) else {
        mrb::raise(mrb, mrb::class_get(mrb, c"TypeError"), "Regexp.new takes a String")
    };
    let icase = match args.get(1).copied() {
        None => false,
        Some(o) if mrb::is_nil(o) => false,
        Some(o) => match (mrb::as_int(o), mrb::as_bytes(o)) {
            (Some(n), _) => n & 1 != 0,
            (_, Some(s)) => s.contains(&b'i'),
            _ => ffi::hijack_type(o) == ffi::mrb_vtype::MRB_TT_TRUE,
        },
    };
    let compiled = crate::platform::regex::compile(source, icase);
    let out = match compiled {
        Ok(r) => Ok(r),
        Err(msg) => Err(mrb::str(mrb, msg.as_bytes())),
    };
    match out {
        Ok(r) => {
            let data = ffi::mrb_data_object_alloc(mrb, ffi::hijack_class_ptr(klass), r as *const _ as *mut std::ffi::c_void, &REGEXP_TYPE.0);
            mrb::obj(data as *mut std::ffi::c_void)
        }
        Err(msg) => mrb::raise_value(mrb, ffi::mrb_exc_new_str(mrb, mrb::class_get(mrb, c"RegexpError"), msg)),
    }
}

unsafe fn this_regexp(mrb: *mut State, this: Value) -> &'static crate::platform::regex::Regex {
    match regexp_of(mrb, this) {
        Some(r) => r,
        None => mrb::raise(mrb, mrb::class_get(mrb, c"TypeError"), "not an initialized Regexp"),
    }
}

unsafe extern "C" fn r_source(mrb: *mut State, this: Value) -> Value {
    mrb::str(mrb, &this_regexp(mrb, this).source)
}

unsafe extern "C" fn r_casefold(mrb: *mut State, this: Value) -> Value {
    mrb::boolean(this_regexp(mrb, this).icase)
}

/// regexp.__offsets(string, pos) -> nil, or [[start, end] or nil, ...] for
/// the match and each group (byte offsets).
unsafe extern "C" fn r_offsets(mrb: *mut State, this: Value) -> Value {
    let r = this_regexp(mrb, this);
    let (Some(text), Some(pos)) = (mrb::as_bytes(arg(mrb, 0)), mrb::as_int(arg(mrb, 1))) else {
        mrb::raise(mrb, mrb::class_get(mrb, c"TypeError"), "Regexp matches Strings")
    };
    let Some(groups) = r.find(text, pos.max(0) as usize) else { return mrb::nil() };
    let ary = ffi::mrb_ary_new_capa(mrb, groups.len() as _);
    for g in groups {
        let v = match g {
            Some((s, e)) => {
                let pair = [mrb::int(mrb, s as i64), mrb::int(mrb, e as i64)];
                ffi::mrb_ary_new_from_values(mrb, 2, pair.as_ptr())
            }
            None => mrb::nil(),
        };
        ffi::mrb_ary_push(mrb, ary, v);
    }
    ary
}

// ---- Hijack::Shared -------------------------------------------------------

/// A Shared key: a Symbol's name or a String's bytes (borrowed from mruby).
unsafe fn shared_key<'a>(mrb: *mut State, v: Value) -> &'a [u8] {
    match mrb::name_bytes(mrb, v) {
        Some(k) => k,
        None => mrb::raise(mrb, argument_error(mrb), "Hijack::Shared keys are Symbols or Strings"),
    }
}

unsafe fn shared_value(mrb: *mut State, v: Option<shared::Value>) -> Value {
    match v {
        None => mrb::nil(),
        Some(shared::Value::Int(i)) => mrb::int(mrb, i),
        Some(shared::Value::Float(f)) => ffi::hijack_float(mrb, f),
        Some(shared::Value::Str(b)) => mrb::str(mrb, &b),
    }
}

/// A Ruby value for the store: Ok(None) for nil, Err for other types.
unsafe fn to_shared(v: Value) -> Result<Option<shared::Value>, ()> {
    if mrb::is_nil(v) {
        Ok(None)
    } else if let Some(i) = mrb::as_int(v) {
        Ok(Some(shared::Value::Int(i)))
    } else if ffi::hijack_type(v) == ffi::mrb_vtype::MRB_TT_FLOAT {
        Ok(Some(shared::Value::Float(ffi::hijack_float_of(v))))
    } else if let Some(b) = mrb::as_bytes(v) {
        Ok(Some(shared::Value::Str(b.to_vec())))
    } else {
        Err(())
    }
}

unsafe extern "C" fn s_get(mrb: *mut State, _self: Value) -> Value {
    let key = shared_key(mrb, arg(mrb, 0));
    let v = shared::get(key);
    shared_value(mrb, v)
}

unsafe extern "C" fn s_set(mrb: *mut State, _self: Value) -> Value {
    let v = arg(mrb, 1);
    let Ok(value) = to_shared(v) else {
        mrb::raise(mrb, argument_error(mrb), "Hijack::Shared holds Integers, Floats, Strings and nil")
    };
    let key = shared_key(mrb, arg(mrb, 0));
    shared::set(key, value);
    v
}

unsafe extern "C" fn s_incr(mrb: *mut State, _self: Value) -> Value {
    // counters are hot: no copy of the arguments (no Ruby runs here)
    let args = mrb::args_in_place(mrb);
    let by = match args.get(1).copied().map(|v| to_shared(v)) {
        None => shared::Value::Int(1),
        Some(Ok(Some(n @ (shared::Value::Int(_) | shared::Value::Float(_))))) => n,
        Some(_) => mrb::raise(mrb, argument_error(mrb), "Hijack::Shared.incr adds an Integer or a Float"),
    };
    let Some(&key) = args.first() else {
        mrb::raise(mrb, argument_error(mrb), "Hijack::Shared.incr(key, by = 1)")
    };
    if let shared::Value::Int(n) = by {
        let symbol = (ffi::hijack_type(key) == ffi::mrb_vtype::MRB_TT_SYMBOL).then(|| ffi::hijack_symbol(key));
        // (shared_key may raise, never run Ruby)
        if let Some(sum) = hooks::with_registry(mrb, |r| r.counters.incr(symbol, || shared_key(mrb, key), n)) {
            return mrb::int(mrb, sum);
        }
    }
    let key = shared_key(mrb, key);
    let sum = shared::incr(key, by);
    match sum {
        Ok(v) => shared_value(mrb, Some(v)),
        Err(msg) => mrb::raise(mrb, argument_error(mrb), msg),
    }
}

/// `Hijack::Shared.__take_turn(key, now, seconds)`: see [`shared::take_turn`].
unsafe extern "C" fn s_take_turn(mrb: *mut State, _self: Value) -> Value {
    let (now, by) = (arg(mrb, 1), arg(mrb, 2));
    let (Some(now), Some(by)) = (mrb::as_number(now), mrb::as_number(by)) else {
        mrb::raise(mrb, argument_error(mrb), "Hijack::Shared.__take_turn(key, now, seconds) takes numbers")
    };
    let key = shared_key(mrb, arg(mrb, 0));
    let end = shared::take_turn(key, now, by);
    match end {
        Ok(end) => ffi::hijack_float(mrb, end),
        Err(msg) => mrb::raise(mrb, argument_error(mrb), msg),
    }
}

unsafe extern "C" fn s_to_h(mrb: *mut State, _self: Value) -> Value {
    let entries = shared::snapshot();
    let hash = ffi::mrb_hash_new(mrb);
    for (k, v) in entries {
        ffi::mrb_hash_set(mrb, hash, mrb::str(mrb, &k), shared_value(mrb, Some(v)));
    }
    hash
}

// ---- Hijack::Call ---------------------------------------------------------

/// The invocation a Call stands for, or Hijack::Error once its call is over.
unsafe fn invocation(mrb: *mut State, this: Value) -> *mut Invocation<'static> {
    let p = ffi::mrb_data_check_get_ptr(mrb, this, &CALL_TYPE.0) as *mut Invocation<'static>;
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

unsafe fn arg_index(mrb: *mut State, f: &Frame, v: Value) -> usize {
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

unsafe fn word_value(mrb: *mut State, kind: Kind, word: u64) -> Value {
    match kind {
        Kind::Path | Kind::Str => c_string(mrb, word),
        Kind::Argv => match frame::arg_argv(word) {
            Some(list) => {
                let ary = ffi::mrb_ary_new_capa(mrb, list.len() as _);
                for s in list {
                    ffi::mrb_ary_push(mrb, ary, mrb::str(mrb, s));
                }
                ary
            }
            None => mrb::nil(),
        },
        Kind::Timespec => match frame::arg_timespec(word) {
            Some((sec, nsec)) => ffi::hijack_float(mrb, sec as f64 + nsec as f64 / 1e9),
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
    ffi::mrb_ary_new_from_values(mrb, 3, row.as_ptr())
}

unsafe extern "C" fn c_name(mrb: *mut State, this: Value) -> Value {
    let id = frame(mrb, this).id;
    ffi::hijack_sym(hooks::with_registry(mrb, |r| r.name(mrb, id)))
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

/// The --summary observer: counts the call (see trace::count).
unsafe fn count_observer(_arg: usize, frame: &Frame, entering: bool) {
    trace::count(frame, entering)
}

/// Hijack.__add_hook(hook, kind, call_name, filter_id, block) -> index; kind
/// :trace takes a tracer id instead of the block, :count nothing.
unsafe extern "C" fn m_add_hook(mrb: *mut State, _self: Value) -> Value {
    let a = mrb::args(mrb);
    if a.len() != 5 {
        mrb::raise(mrb, argument_error(mrb), "__add_hook(hook, kind, call, filter_id, block)")
    }
    use hooks::{Action, HookKind, Observer};
    let (kind, action) = match mrb::as_name(mrb, a[1]) {
        Some("around") => (HookKind::Around, Action::Block(a[4])),
        Some("before") => (HookKind::Before, Action::Block(a[4])),
        Some("after") => (HookKind::After, Action::Block(a[4])),
        Some("trace") => match mrb::as_int(a[4]) {
            Some(tracer) => (HookKind::Observe, Action::Observe(Observer { run: trace::record, arg: tracer as usize })),
            None => mrb::raise(mrb, argument_error(mrb), "a trace hook takes a tracer id"),
        },
        Some("count") => (HookKind::Observe, Action::Observe(Observer { run: count_observer, arg: 0 })),
        _ => mrb::raise(mrb, argument_error(mrb), "a hook is :around, :before, :after, :trace or :count"),
    };
    let id = call_id(mrb, a[2]);
    // The filter is found once here, not under the registry's lock on every call.
    let filter = match mrb::as_int(a[3]) {
        None => None,
        Some(fid) => match filter::get(fid as usize) {
            Some(f) => Some(f),
            None => mrb::raise(mrb, argument_error(mrb), "unknown filter id"),
        },
    };
    let index = hooks::with_registry(mrb, |r| r.add(id, kind, action, a[0], filter));
    mrb::int(mrb, index as i64)
}

/// Hijack.__enable_hook(index, enabled)
unsafe extern "C" fn m_enable_hook(mrb: *mut State, _self: Value) -> Value {
    let (index, on) = (arg(mrb, 0), arg(mrb, 1));
    let on = ffi::hijack_type(on) == ffi::mrb_vtype::MRB_TT_TRUE;
    let ok = mrb::as_int(index).is_some_and(|i| hooks::with_registry(mrb, |r| r.set_enabled(i as usize, on)));
    mrb::boolean(ok)
}

/// Hijack.__remove_hook(index)
unsafe extern "C" fn m_remove_hook(mrb: *mut State, _self: Value) -> Value {
    if let Some(i) = mrb::as_int(arg(mrb, 0)) {
        hooks::with_registry(mrb, |r| r.remove(i as usize));
    }
    mrb::nil()
}

unsafe extern "C" fn c_arg(mrb: *mut State, this: Value) -> Value {
    let f = frame(mrb, this);
    let i = arg_index(mrb, f, arg(mrb, 0));
    word_value(mrb, f.info().args[i].kind, f.args[i])
}

unsafe extern "C" fn c_args(mrb: *mut State, this: Value) -> Value {
    let f = frame(mrb, this);
    let ary = ffi::mrb_ary_new_capa(mrb, f.nargs as _);
    for (i, a) in f.info().args.iter().enumerate().take(f.nargs) {
        ffi::mrb_ary_push(mrb, ary, word_value(mrb, a.kind, f.args[i]));
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
        let host = mrb::as_bytes(ffi::mrb_ary_entry(v, 0)).and_then(|b| std::str::from_utf8(b).ok());
        let port = mrb::as_int(ffi::mrb_ary_entry(v, 1));
        match (ffi::hijack_ary_len(v) == 2, host, port) {
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
        let n = ffi::hijack_ary_len(v);
        if n < 0 {
            Some("an argv argument takes an Array of Strings")
        } else {
            let mut words: Vec<usize> = Vec::with_capacity(n as usize + 1);
            let mut bad = false;
            for j in 0..n {
                match mrb::as_bytes(ffi::mrb_ary_entry(v, j)).and_then(|b| CString::new(b).ok()) {
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
                f.args[i] = words.as_ptr() as usize as u64;
                f.keep_words(words);
                None
            }
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
                std::ptr::copy_nonoverlapping(bytes.as_ptr(), f.args[b] as usize as *mut u8, n);
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

/// Defines the Hijack module (called by the gem's init in every VM).
#[no_mangle]
pub unsafe extern "C" fn hijack_define_module(mrb: *mut State) {
    use mrb::{args_req, define_method as method, define_module_function as function, ARGS_NONE, ARGS_REST};
    hooks::attach(mrb);
    let m = ffi::mrb_define_module(mrb, c"Hijack".as_ptr());
    ffi::mrb_define_class_under(mrb, m, c"Error".as_ptr(), mrb::class_get(mrb, c"StandardError"));
    function(mrb, m, c"__check_name", m_check_name, args_req(1));
    function(mrb, m, c"__watch", m_watch, args_req(2));
    function(mrb, m, c"__table", m_table, ARGS_NONE);
    function(mrb, m, c"__row", m_row, args_req(1));
    function(mrb, m, c"log", m_log, args_req(1));
    function(mrb, m, c"version", m_version, ARGS_NONE);
    function(mrb, m, c"pid", m_pid, ARGS_NONE);
    function(mrb, m, c"tid", m_tid, ARGS_NONE);
    function(mrb, m, c"platform", m_platform, ARGS_NONE);
    function(mrb, m, c"preload_variable", m_preload_variable, ARGS_NONE);
    function(mrb, m, c"library_name", m_library_name, ARGS_NONE);
    function(mrb, m, c"__exec", m_exec, ARGS_REST);
    function(mrb, m, c"__getenv", m_getenv, args_req(1));
    function(mrb, m, c"__setenv", m_setenv, args_req(2));
    function(mrb, m, c"__exe_path", m_exe_path, ARGS_NONE);
    function(mrb, m, c"__cannot_hook", m_cannot_hook, args_req(1));
    function(mrb, m, c"__stash", m_stash, args_req(1));
    function(mrb, m, c"__count_to", m_count_to, args_req(1));
    function(mrb, m, c"__socket_type", m_socket_type, args_req(1));
    function(mrb, m, c"__resolve", m_resolve, args_req(1));
    function(mrb, m, c"__flush_counts", m_flush_counts, ARGS_NONE);
    function(mrb, m, c"__check_file", m_check_file, args_req(1));
    function(mrb, m, c"__simulate", m_simulate, args_req(4));
    function(mrb, m, c"__abort", m_abort, ARGS_NONE);
    function(mrb, m, c"monotonic", m_monotonic, ARGS_NONE);
    function(mrb, m, c"__fault_log", m_fault_log, args_req(1));
    function(mrb, m, c"__audit_log", m_audit_log, args_req(1));
    function(mrb, m, c"__tracer", m_tracer, args_req(4));
    function(mrb, m, c"__trace_write", m_trace_write, args_req(2));
    function(mrb, m, c"__spawn_wait", m_spawn_wait, ARGS_REST);
    function(mrb, m, c"__spawn", m_spawn, ARGS_REST);
    #[cfg(feature = "tui")]
    function(mrb, m, c"__top", m_top, args_req(3));
    function(mrb, m, c"__control_request", m_control_request, args_req(2));
    function(mrb, m, c"__control_processes", m_control_processes, ARGS_NONE);
    function(mrb, m, c"__blackhole", m_blackhole, ARGS_NONE);
    function(mrb, m, c"__clocks", m_clocks, ARGS_NONE);
    function(mrb, m, c"glob?", m_glob, args_req(2));
    function(mrb, m, c"__fake_path", m_fake_path, args_req(2));
    function(mrb, m, c"__fake_copy", m_fake_copy, args_req(2));
    function(mrb, m, c"__open_flags", m_open_flags, ARGS_NONE);
    function(mrb, m, c"__argv0", m_argv0, ARGS_NONE);
    function(mrb, m, c"__real_clock", m_real_clock, args_req(1));
    function(mrb, m, c"__add_hook", m_add_hook, ARGS_REST);
    function(mrb, m, c"__enable_hook", m_enable_hook, args_req(2));
    function(mrb, m, c"__remove_hook", m_remove_hook, args_req(1));
    function(mrb, m, c"__compile", m_compile, args_req(2));
    function(mrb, m, c"__load_bytecode", m_load_bytecode, args_req(1));

    let shared = ffi::mrb_define_module_under(mrb, m, c"Shared".as_ptr());
    function(mrb, shared, c"[]", s_get, args_req(1));
    function(mrb, shared, c"[]=", s_set, args_req(2));
    function(mrb, shared, c"incr", s_incr, ARGS_REST);
    function(mrb, shared, c"to_h", s_to_h, ARGS_NONE);
    function(mrb, shared, c"__take_turn", s_take_turn, args_req(3));

    let standard_error = mrb::class_get(mrb, c"StandardError");
    ffi::mrb_define_class(mrb, c"RegexpError".as_ptr(), standard_error);
    let regexp = ffi::mrb_define_class(mrb, c"Regexp".as_ptr(), (*mrb).object_class);
    ffi::hijack_set_instance_tt_data(regexp);
    ffi::mrb_define_class_method(mrb, regexp, c"compile".as_ptr(), Some(r_compile), ARGS_REST);
    method(mrb, regexp, c"source", r_source, ARGS_NONE);
    method(mrb, regexp, c"casefold?", r_casefold, ARGS_NONE);
    method(mrb, regexp, c"__offsets", r_offsets, args_req(2));

    let call = ffi::mrb_define_class_under(mrb, m, c"Call".as_ptr(), (*mrb).object_class);
    ffi::hijack_set_instance_tt_data(call);
    method(mrb, call, c"name", c_name, ARGS_NONE);
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
