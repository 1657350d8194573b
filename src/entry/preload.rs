//! Start-up inside a target process: the preload library's constructor
//! (preload.c) calls [`hijack_preload_init`], which compiles the scripts
//! named by the environment once and runs them in this thread's VM, which
//! registers their hooks.
//!
//! Environment: HIJACK_SCRIPT (colon-separated paths), HIJACK_EVAL (code,
//! as with `-e`), HIJACK_EVAL_FILE (a file of such code), HIJACK_LOG (hijack's log file; default standard error).

#![cfg_attr(not(feature = "preload"), allow(dead_code))]

use crate::{features::follow, platform::guard, platform::log, platform::sys, ruby::mrb, ruby::script, ruby::vm};
use std::ffi::OsString;

/// Reads and compiles the scripts named by the environment.
unsafe fn compile_program(
    mrb: *mut mrb::State,
    scripts: Option<OsString>,
    eval_file: Option<OsString>,
    eval: Option<String>,
) -> Result<Vec<script::Unit>, String> {
    use std::os::unix::ffi::OsStrExt;
    let mut units = Vec::new();
    if let Some(paths) = scripts {
        for path in paths.as_bytes().split(|b| *b == b':').filter(|p| !p.is_empty()) {
            let name = String::from_utf8_lossy(path).into_owned();
            let source = std::fs::read(std::ffi::OsStr::from_bytes(path))
                .map_err(|e| format!("cannot read script {name}: {e}"))?;
            if script::is_bytecode(&source) {
                units.push(script::Unit { name, irep: source });
            } else {
                units.push(script::compile(mrb, &source, &name)?);
            }
        }
    }
    // -e code too large for the environment comes in a file (the runner's
    // stash), named "-e" in messages all the same.
    if let Some(path) = eval_file {
        let code = std::fs::read(&path).map_err(|e| format!("cannot read the -e code in {}: {e}", path.to_string_lossy()))?;
        units.push(script::compile(mrb, &code, "-e")?);
    }
    if let Some(code) = eval {
        units.push(script::compile(mrb, code.as_bytes(), "-e")?);
    }
    Ok(units)
}

extern "C" fn at_exit() {
    crate::entry::exit::at_exit();
}

/// The path this library was loaded from.
fn library_path() -> Option<String> {
    // SAFETY: dladdr fills `info` for an address inside a loaded object.
    unsafe {
        let mut info: libc::Dl_info = std::mem::zeroed();
        let here = library_path as fn() -> Option<String> as *const libc::c_void;
        if libc::dladdr(here, &mut info) == 0 || info.dli_fname.is_null() {
            return None;
        }
        Some(std::ffi::CStr::from_ptr(info.dli_fname).to_string_lossy().into_owned())
    }
}

fn env_nonempty(name: &str) -> Option<OsString> {
    std::env::var_os(name).filter(|v| !v.is_empty())
}

unsafe fn init() {
    let Some(guard) = guard::enter() else { return };
    if sys::secure_execution() {
        return;
    }
    let scripts = env_nonempty("HIJACK_SCRIPT");
    let eval_file = env_nonempty("HIJACK_EVAL_FILE");
    let eval = env_nonempty("HIJACK_EVAL").map(|v| v.to_string_lossy().into_owned());
    let control = env_nonempty("HIJACK_CONTROL").is_some_and(|v| v == "1");
    // With --control and no script, hooks come later through the socket.
    if scripts.is_none() && eval_file.is_none() && eval.is_none() && !control {
        return;
    }
    log::open();
    let Some(first) = vm::Vm::open() else {
        vm::give_up("mruby could not open a VM");
        return;
    };
    // The scripts are compiled in the VM that then runs them for this thread.
    let program = compile_program(first.state(), scripts, eval_file, eval);
    match program {
        Ok(units) => {
            vm::install(units);
            let adopted = vm::adopt(&guard, first);
            if adopted && control {
                crate::features::control::start(crate::ruby::vm::control_loader);
            }
            if adopted && crate::platform::sud::requested() {
                start_dispatch(&guard);
            }
            // After the scripts ran: what they put in the environment (the
            // clock's anchor) follows too, and HIJACK_ALL_SYSCALLS as
            // dispatch left it (0 where it was refused).
            if let Some(library) = library_path() {
                follow::start(&library);
            }
            if adopted {
                libc::atexit(at_exit);
                crate::entry::forks::register();
            }
        }
        Err(msg) => vm::give_up(&msg),
    }
}

/// --all-syscalls: Syscall User Dispatch on, for this thread (the program's
/// code runs with the selector at BLOCK once the constructor's guard drops);
/// where it cannot be, said once on the log and off for the children.
fn start_dispatch(guard: &guard::Guard) {
    match crate::platform::sud::start() {
        Ok(()) => guard.thread().set_program_selector(crate::platform::sud::BLOCK),
        Err(msg) => {
            log::line(&format!("hijack: --all-syscalls: {msg}; hijack sees the C library's functions only"));
            std::env::set_var(crate::platform::sud::VAR, "0");
        }
    }
}

/// Called once by the preload library's constructor.
#[cfg(feature = "preload")]
#[no_mangle]
pub extern "C" fn hijack_preload_init() {
    // SAFETY: runs once, before main, on the loading thread.
    let _ = std::panic::catch_unwind(|| unsafe { init() });
}
