//! Start-up inside a target process: the preload library's constructor
//! (preload.c) calls [`hijack_preload_init`], which compiles the scripts
//! named by the environment once and runs them in this thread's VM, which
//! registers their hooks; or, in a process whose environment says what the
//! scripts hook (HIJACK_HOOKED, put there by the exec that started it),
//! marks those calls and leaves the scripts for the first of them: a
//! process that makes none never opens a VM.
//!
//! Environment: HIJACK_SCRIPT (colon-separated paths), HIJACK_EVAL (code,
//! as with `-e`), HIJACK_EVAL_FILE (a file of such code), HIJACK_LOG (hijack's log file; default standard error).

#![cfg_attr(not(feature = "preload"), allow(dead_code))]

use crate::{features::follow, platform::guard, platform::log, platform::sys, ruby::script, ruby::vm};
use std::ffi::OsString;

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

/// What the scripts hook, as the process that exec'd this one knew it
/// (src/features/follow.rs): with it, the scripts wait for this process's
/// first hooked call (src/ruby/vm.rs). Not with --control (hooks come
/// through the socket too), the one-VM-per-call mode, nor HIJACK_LAZY=0.
fn manifest(control: bool) -> Option<OsString> {
    let eager = std::env::var_os("HIJACK_LAZY").is_some_and(|v| v == "0");
    env_nonempty(follow::MANIFEST).filter(|_| !control && !vm::vm_per_call() && !eager)
}

/// What starts with the scripts, run or deferred: dispatch (--all-syscalls),
/// following exec, the exit and fork work.
fn started(guard: &guard::Guard) {
    // What the hooked calls' path initialises once, initialised now, while
    // the program has one thread: a fork child must never inherit it half
    // made by another thread (it would wait for it forever).
    sys::stamp::now();
    crate::ruby::vm::warm();
    if crate::platform::sud::requested() {
        start_dispatch(guard);
    }
    // After the scripts ran: what they put in the environment (the
    // clock's anchor) follows too, and HIJACK_ALL_SYSCALLS as
    // dispatch left it (0 where it was refused).
    if let Some(library) = library_path() {
        follow::start(&library);
    }
    // SAFETY: registering plain functions.
    unsafe { libc::atexit(at_exit) };
    crate::entry::forks::register();
}

unsafe fn init() {
    let Some(guard) = guard::enter() else { return };
    if sys::secure_execution() {
        return;
    }
    let sources = script::Sources::from_environment();
    let control = env_nonempty("HIJACK_CONTROL").is_some_and(|v| v == "1");
    // With --control and no script, hooks come later through the socket.
    if sources.is_empty() && !control {
        return;
    }
    log::open();
    if let Some(m) = manifest(control) {
        if crate::frame::watch_manifest(&m.to_string_lossy()) {
            vm::defer(sources);
            started(&guard);
            return;
        }
    }
    let Some(first) = vm::Vm::open() else {
        vm::give_up("mruby could not open a VM");
        return;
    };
    // The scripts are compiled in the VM that then runs them for this thread.
    match sources.compile(first.state()) {
        Ok(units) => {
            vm::install(units);
            let adopted = vm::adopt(&guard, first);
            if adopted && control {
                crate::features::control::start(crate::ruby::vm::control_loader);
            }
            if adopted {
                started(&guard);
            } else if let Some(library) = library_path() {
                follow::start(&library);
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
