//! The runner's helpers (`hijack run`, `top`, `ctl`, `ps`): exec and spawn,
//! the environment, the control sockets of other processes.

use super::*;

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
    mrb::str_or_nil(mrb, value.as_deref().map(|v| v.as_bytes()))
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
    mrb::str_or_nil(mrb, why.as_deref().map(str::as_bytes))
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
    mrb::ary_of(mrb, &row)
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
    mrb::or_raise(mrb, hijack_error(mrb), v)
}

/// Hijack.__control_processes -> [[pid, command line], ...]
unsafe extern "C" fn m_control_processes(mrb: *mut State, _self: Value) -> Value {
    let found = crate::features::control::processes();
    let v = match found {
        Ok(list) => {
            let ary = mrb::ary_new(mrb, 0);
            for (pid, cmd) in list {
                let row = [mrb::int(mrb, pid as i64), mrb::str(mrb, cmd.as_bytes())];
                mrb::ary_push(mrb, ary, mrb::ary_of(mrb, &row));
            }
            Ok(ary)
        }
        Err(e) => Err(mrb::str(mrb, e.as_bytes())),
    };
    mrb::or_raise(mrb, hijack_error(mrb), v)
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
    mrb::or_raise(mrb, hijack_error(mrb), v)
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

/// Hijack.__argv0 -> the program's name (argv[0]).
unsafe extern "C" fn m_argv0(mrb: *mut State, _self: Value) -> Value {
    let name = std::env::args_os().next().map(|a| a.to_string_lossy().into_owned()).unwrap_or_default();
    mrb::str(mrb, name.as_bytes())
}

/// Defines the runner's helpers on `m` (Hijack).
pub(super) unsafe fn define(mrb: *mut State, m: *mut mrb::Class) {
    use mrb::{args_req, define_module_function as function, ARGS_NONE, ARGS_REST};
    function(mrb, m, c"__exec", m_exec, ARGS_REST);
    function(mrb, m, c"__getenv", m_getenv, args_req(1));
    function(mrb, m, c"__setenv", m_setenv, args_req(2));
    function(mrb, m, c"__exe_path", m_exe_path, ARGS_NONE);
    function(mrb, m, c"__cannot_hook", m_cannot_hook, args_req(1));
    function(mrb, m, c"__stash", m_stash, args_req(1));
    function(mrb, m, c"__spawn_wait", m_spawn_wait, ARGS_REST);
    function(mrb, m, c"__spawn", m_spawn, ARGS_REST);
    #[cfg(feature = "tui")]
    function(mrb, m, c"__top", m_top, args_req(3));
    function(mrb, m, c"__control_request", m_control_request, args_req(2));
    function(mrb, m, c"__control_processes", m_control_processes, ARGS_NONE);
    function(mrb, m, c"__argv0", m_argv0, ARGS_NONE);
}
