//! The `Hijack` module's native functions: the call table, hooks and
//! filters, scripts and bytecode, logs, traces and counts, clocks, fake
//! files, simulated calls.

use super::*;
use super::call::word_value;
use super::regexp::regexp_of;

/// Strings of an Array (nil: none); None when it is something else.
unsafe fn string_list(v: Value) -> Option<Vec<Vec<u8>>> {
    if mrb::is_nil(v) {
        return Some(Vec::new());
    }
    let n = mrb::ary_len(v)?;
    (0..n).map(|i| mrb::as_bytes(mrb::ary_get(v, i)).map(<[u8]>::to_vec)).collect()
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
    let n = mrb::ary_len(v)?;
    (0..n).map(|i| regexp_of(mrb, mrb::ary_get(v, i))).collect()
}

/// Hijack.__watch(name, spec) -> filter id or nil. Marks the call hooked and
/// registers the hook's filter: spec is nil or a Hijack::FilterSpec (see
/// Hijack.__filter_spec).
unsafe extern "C" fn m_watch(mrb: *mut State, _self: Value) -> Value {
    let id = call_id(mrb, arg(mrb, 0));
    let spec = arg(mrb, 1);
    let spec_class = mrb::class_get_under(mrb, hijack_module(mrb), c"FilterSpec");
    if !mrb::is_nil(spec) && !mrb::is_kind_of(mrb, spec, spec_class) {
        mrb::raise(mrb, argument_error(mrb), "a hook's filters are a Hijack::FilterSpec")
    }
    // (the members are read before any Rust value is made: a reader may raise)
    let [paths, path_regexps, fd_min, fd_max, hosts, port_min, port_max] =
        ["paths", "path_regexps", "fd_min", "fd_max", "hosts", "port_min", "port_max"].map(|m| {
            if mrb::is_nil(spec) {
                mrb::nil()
            } else {
                member(mrb, spec, m)
            }
        });
    let result: Result<Option<usize>, String> = if mrb::is_nil(spec) {
        Ok(filter::register(id, None))
    } else {
        match (string_list(paths), string_list(hosts), regex_list(mrb, path_regexps)) {
            (Some(paths), Some(hosts), Some(path_regexes)) => {
                let f = filter::Filter { paths, path_regexes, fd: range(fd_min, fd_max), hosts, port: range(port_min, port_max) };
                filter::check(id, &f).map(|()| filter::register(id, Some(f)))
            }
            _ => Err("a FilterSpec holds Arrays of Strings (paths, hosts) and of Regexps (path_regexps)".to_string()),
        }
    };
    let out = match result {
        Ok(fid) => {
            frame::watch(id);
            Ok(fid.map_or_else(|| mrb::nil(), |f| mrb::int(mrb, f as i64)))
        }
        Err(msg) => Err(mrb::str(mrb, msg.as_bytes())),
    };
    mrb::or_raise(mrb, argument_error(mrb), out)
}

/// A Struct class of the Hijack module (mrblib/call.rb), as a Value.
pub(super) unsafe fn struct_class(mrb: *mut State, name: &std::ffi::CStr) -> Value {
    mrb::class_value(mrb::class_get_under(mrb, hijack_module(mrb), name))
}

/// Member `name` of a Struct (its reader).
unsafe fn member(mrb: *mut State, object: Value, name: &str) -> Value {
    mrb::funcall(mrb, object, name, &[])
}

/// Writes the native method's argument, as a String, with `write`.
unsafe fn log_argument(mrb: *mut State, write: fn(&str)) -> Value {
    let s = mrb::to_s(mrb, arg(mrb, 0));
    if let Some(bytes) = mrb::as_bytes(s) {
        write(&String::from_utf8_lossy(bytes));
    }
    mrb::nil()
}

unsafe extern "C" fn m_log(mrb: *mut State, _self: Value) -> Value {
    log_argument(mrb, log::line)
}

/// Hijack.at_exit was called: a process that loads the scripts lazily
/// loads them at its exit too (src/ruby/vm.rs).
unsafe extern "C" fn m_exit_work(_mrb: *mut State, _self: Value) -> Value {
    frame::watch_exit();
    mrb::nil()
}

/// Whether this is the runner's VM (or mrbtest's): the command line's Ruby
/// (mrblib/cli*.rb, fault_flags.rb) is defined there only, not in the VMs of
/// the processes hijack runs.
unsafe extern "C" fn m_runner(_mrb: *mut State, _self: Value) -> Value {
    mrb::boolean(cfg!(not(feature = "preload")))
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
    mrb::or_raise(mrb, mrb::class_get(mrb, c"SyntaxError"), out)
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
    mrb::str_or_nil(mrb, problem.as_deref().map(str::as_bytes))
}

/// Hijack.__load_bytecode(bytes) -> the value of running it here.
unsafe extern "C" fn m_load_bytecode(mrb: *mut State, _self: Value) -> Value {
    let Some(bytes) = mrb::as_bytes(arg(mrb, 0)) else {
        mrb::raise(mrb, argument_error(mrb), "__load_bytecode takes a String")
    };
    if !script::is_bytecode(bytes) {
        mrb::raise(mrb, argument_error(mrb), "not mruby bytecode (no RITE header)")
    }
    let v = mrb::load_bytecode(mrb, bytes);
    if let Some(exc) = mrb::take_exception(mrb) {
        mrb::raise_value(mrb, exc)
    }
    v
}

/// Hijack.__simulate(name, [arg, ...], real_result, real_errno)
///   -> [result, errno, proceeded, [arg, ...]]
/// Runs this VM's hooks on a synthetic call whose "real function" only
/// returns real_result with real_errno (Hijack.simulate wraps it).
unsafe extern "C" fn m_simulate(mrb: *mut State, _this: Value) -> Value {
    let id = call_id(mrb, arg(mrb, 0));
    let (values, ret, err) = (arg(mrb, 1), arg(mrb, 2), arg(mrb, 3));
    let info = &CALLS[id];
    let given = mrb::ary_len(values).unwrap_or(0);
    let (Some(ret), Some(err)) = (mrb::as_int(ret), mrb::as_int(err)) else {
        mrb::raise(mrb, argument_error(mrb), "the simulated result and errno are Integers")
    };
    if given != info.args.len() {
        mrb::raise(mrb, argument_error(mrb), "__simulate needs one value per argument")
    }
    let outcome = {
        let real = move |_: &crate::frame::Words| {
            sys::set_errno(err as i32);
            ret
        };
        let mut inv = Invocation::new(Frame::new(id, &vec![0u64; given], crate::frame::RealFn::new(&real), 0));
        let frame = &mut inv.frame;
        let mut problem = None;
        for i in 0..given {
            let v = mrb::ary_get(values, i);
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
                let args = mrb::ary_new(mrb, given);
                for (i, a) in info.args.iter().enumerate() {
                    mrb::ary_push(mrb, args, word_value(mrb, a.kind, frame.args[i]));
                }
                let row = [
                    mrb::int(mrb, frame.result),
                    mrb::int(mrb, frame.errno as i64),
                    mrb::boolean(frame.proceeded),
                    args,
                ];
                Ok(mrb::ary_of(mrb, &row))
            }
        }
    };
    mrb::or_raise(mrb, argument_error(mrb), outcome)
}

/// Hijack.monotonic: seconds on the monotonic clock, as a Float.
unsafe extern "C" fn m_monotonic(mrb: *mut State, _self: Value) -> Value {
    mrb::float(mrb, sys::now_ns() as f64 / 1e9)
}

/// Hijack.__fault_log(line): one line to the fault log.
unsafe extern "C" fn m_fault_log(mrb: *mut State, _self: Value) -> Value {
    log_argument(mrb, log::fault_line)
}

/// Hijack.__tracer(path, format, time, strsize) -> id: a native tracer
/// (src/features/trace/) for hooks of kind :trace.
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
    let time = a.get(2).is_some_and(|v| mrb::is_true(*v));
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
    crate::features::summary::count_to(path);
    mrb::nil()
}

/// Hijack.__flush_counts: writes this process's totals and starts again.
unsafe extern "C" fn m_flush_counts(_mrb: *mut State, _self: Value) -> Value {
    crate::features::summary::flush_counts();
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

/// Hijack.__clocks -> {realtime: 0, monotonic: 1, ...} and TIMER_ABSTIME.
unsafe extern "C" fn m_clocks(mrb: *mut State, _self: Value) -> Value {
    let hash = mrb::hash_new(mrb);
    // realtime, monotonic, ... from CLOCK_REALTIME, CLOCK_MONOTONIC, ...
    #[allow(unused_mut)]
    let mut clocks: Vec<(String, i64)> =
        crate::table::symbols::CLOCK.iter().map(|(name, v)| (name.trim_start_matches("CLOCK_").to_lowercase(), *v)).collect();
    #[cfg(target_os = "linux")]
    clocks.push(("timer_abstime".into(), libc::TIMER_ABSTIME as i64));
    for (k, v) in clocks {
        mrb::hash_set(mrb, hash, mrb::symbol(mrb, &k), mrb::int(mrb, v));
    }
    hash
}

/// Hijack.__real_clock(id) -> nanoseconds on the real clock `id`.
unsafe extern "C" fn m_real_clock(mrb: *mut State, _self: Value) -> Value {
    let Some(id) = mrb::as_int(arg(mrb, 0)) else { mrb::raise(mrb, argument_error(mrb), "a clock id is an Integer") };
    mrb::int(mrb, sys::clock_ns(id as libc::clockid_t))
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

/// Hijack.__listing(hidden, fakes): what directory listings leave out (absolute
/// globs) and show (absolute paths of fake files); src/features/listing.rs.
unsafe extern "C" fn m_listing(mrb: *mut State, _self: Value) -> Value {
    let (Some(hidden), Some(fakes)) = (string_list(arg(mrb, 0)), string_list(arg(mrb, 1))) else {
        mrb::raise(mrb, argument_error(mrb), "__listing(hidden, fakes) takes Arrays of Strings")
    };
    crate::features::listing::set_rules(hidden, fakes);
    mrb::nil()
}

/// Hijack.__open_flags -> the O_* flags that make an open write.
unsafe extern "C" fn m_open_flags(mrb: *mut State, _self: Value) -> Value {
    let hash = mrb::hash_new(mrb);
    for (k, v) in [
        ("wronly", libc::O_WRONLY),
        ("rdwr", libc::O_RDWR),
        ("creat", libc::O_CREAT),
        ("trunc", libc::O_TRUNC),
        ("append", libc::O_APPEND),
    ] {
        mrb::hash_set(mrb, hash, mrb::symbol(mrb, k), mrb::int(mrb, v as i64));
    }
    hash
}

unsafe extern "C" fn m_abort(_mrb: *mut State, _self: Value) -> Value {
    libc::abort()
}

/// The --summary observer: counts the call (see trace::count).
unsafe fn count_observer(_arg: usize, frame: &Frame, entering: bool) {
    crate::features::summary::count(frame, entering)
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
    let on = mrb::is_true(on);
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

/// Defines the Hijack module's functions on `m`.
pub(super) unsafe fn define(mrb: *mut State, m: *mut mrb::Class) {
    use mrb::{args_req, define_module_function as function, ARGS_NONE, ARGS_REST};
    super::rows::define(mrb, m);
    function(mrb, m, c"__watch", m_watch, args_req(2));
    function(mrb, m, c"log", m_log, args_req(1));
    function(mrb, m, c"version", m_version, ARGS_NONE);
    function(mrb, m, c"__exit_work", m_exit_work, ARGS_NONE);
    function(mrb, m, c"__runner?", m_runner, ARGS_NONE);
    function(mrb, m, c"pid", m_pid, ARGS_NONE);
    function(mrb, m, c"tid", m_tid, ARGS_NONE);
    function(mrb, m, c"platform", m_platform, ARGS_NONE);
    function(mrb, m, c"preload_variable", m_preload_variable, ARGS_NONE);
    function(mrb, m, c"library_name", m_library_name, ARGS_NONE);
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
    function(mrb, m, c"__blackhole", m_blackhole, ARGS_NONE);
    function(mrb, m, c"__clocks", m_clocks, ARGS_NONE);
    function(mrb, m, c"glob?", m_glob, args_req(2));
    function(mrb, m, c"__fake_path", m_fake_path, args_req(2));
    function(mrb, m, c"__fake_copy", m_fake_copy, args_req(2));
    function(mrb, m, c"__listing", m_listing, args_req(2));
    function(mrb, m, c"__open_flags", m_open_flags, ARGS_NONE);
    function(mrb, m, c"__real_clock", m_real_clock, args_req(1));
    function(mrb, m, c"__add_hook", m_add_hook, ARGS_REST);
    function(mrb, m, c"__enable_hook", m_enable_hook, args_req(2));
    function(mrb, m, c"__remove_hook", m_remove_hook, args_req(1));
    function(mrb, m, c"__compile", m_compile, args_req(2));
    function(mrb, m, c"__load_bytecode", m_load_bytecode, args_req(1));
}
