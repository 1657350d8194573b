//! The hook program (every script, compiled once per process) and one mruby
//! VM per thread, created from it on the thread's first hooked call. When
//! the thread exits its VM waits, idle, for the next new thread's first
//! hooked call (a few at most; the others are closed): short-lived threads
//! open no VM each. A hook blocked in a real call on one thread never holds
//! up hooks on another.

use crate::frame::{self, Frame};
use crate::ruby::hooks::Invocation;
use crate::ruby::script::{Sources, Unit};
use crate::platform::guard::{self, Guard};
use crate::{features::control, platform::log, ruby::hooks, ruby::mrb};
use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

static PROGRAM: OnceLock<Vec<Unit>> = OnceLock::new();
/// The scripts of a process that loads them at its first hooked call
/// ([`defer`]), and whether that load was made (or is being made: a thread
/// that finds the lock held waits for it; a fork too, src/entry/forks.rs).
static DEFERRED: OnceLock<Sources> = OnceLock::new();
static LOADED: crate::platform::lock::SpinLock<bool> = crate::platform::lock::SpinLock::new(false);
static LOAD_ERROR_REPORTED: AtomicBool = AtomicBool::new(false);

// A thread's VM is kept in its guard::Thread, without a Rust destructor: it
// is freed by a pthread key destructor when the thread exits, and the main
// thread's survives until exit() has run the Hijack.at_exit blocks.
static KEY: OnceLock<libc::pthread_key_t> = OnceLock::new();

unsafe extern "C" fn free_thread_vm(vm: *mut c_void) {
    let _guard = guard::enter();
    guard::forget_vm();
    let vm = Box::from_raw(vm as *mut Vm);
    if vm.idle() {
        let mut idle = IDLE.lock();
        if idle.len() < IDLE_MAX {
            idle.push(IdleVm(vm));
            return;
        }
    }
    drop(vm);
}

/// The VMs of threads that exited, for new threads' first hooked calls.
static IDLE: crate::platform::lock::SpinLock<Vec<IdleVm>> = crate::platform::lock::SpinLock::new(Vec::new());
const IDLE_MAX: usize = 4;

struct IdleVm(Box<Vm>);
// SAFETY: an idle VM is used by no thread; the one that takes it is its
// only user from then on.
unsafe impl Send for IdleVm {}

/// A VM a thread that exited left, ready for this thread (what is a
/// thread's own in it started over: `Hijack.__thread_start`).
unsafe fn reuse_idle() -> Option<Vm> {
    let IdleVm(vm) = IDLE.lock().pop()?;
    let vm = *vm;
    let hijack = vm.hijack;
    let _arena = mrb::Arena::save(vm.mrb);
    let _ = mrb::protect(vm.mrb, |m| mrb::funcall(m, hijack, "__thread_start", &[]));
    Some(vm)
}

fn thread_key() -> libc::pthread_key_t {
    *KEY.get_or_init(|| {
        let mut key: libc::pthread_key_t = 0;
        // SAFETY: key is a valid out pointer; the destructor takes a Box<Vm>.
        unsafe { libc::pthread_key_create(&mut key, Some(free_thread_vm)) };
        key
    })
}

pub struct Vm {
    mrb: *mut mrb::State,
    hijack: mrb::Value,
    /// The live-control units loaded here, and the generation they match.
    units: Vec<u64>,
    generation: u64,
}

impl Vm {
    /// A fresh VM with the Hijack library loaded, no script yet.
    pub unsafe fn open() -> Option<Vm> {
        let mrb = mrb::open();
        if mrb.is_null() {
            return None;
        }
        let hijack = mrb::class_value(mrb::module_get(mrb, c"Hijack"));
        Some(Vm { mrb, hijack, units: Vec::new(), generation: 0 })
    }

    pub fn state(&self) -> *mut mrb::State {
        self.mrb
    }

    /// Runs the program's scripts in this VM (which registers their hooks).
    pub unsafe fn load(&mut self, units: &[Unit]) -> Result<(), String> {
        for unit in units {
            let _arena = mrb::Arena::save(self.mrb);
            let _ = mrb::load_bytecode(self.mrb, &unit.irep);
            if let Some(exc) = mrb::take_exception(self.mrb) {
                return Err(self.describe(exc));
            }
        }
        Ok(())
    }

    /// Whether no call is running in this VM (one a thread left inside a
    /// hook, cancelled or exited from there, is not taken again).
    unsafe fn idle(&self) -> bool {
        hooks::idle(self.mrb)
    }

    /// `FILE:LINE: Class: message` for an exception, from the Ruby side.
    pub unsafe fn describe(&self, exc: mrb::Value) -> String {
        let hijack = self.hijack;
        match mrb::protect(self.mrb, |m| mrb::funcall(m, hijack, "__describe", &[exc])) {
            Ok(s) => mrb::as_bytes(s).map(|b| String::from_utf8_lossy(b).into_owned()),
            Err(_) => None,
        }
        .unwrap_or_else(|| "an exception that could not be described".into())
    }

    /// Runs a live-control unit here, its hooks tagged with its id.
    pub unsafe fn load_unit(&self, id: u64, irep: &[u8]) -> Result<(), String> {
        let _arena = mrb::Arena::save(self.mrb);
        let hijack = self.hijack;
        let idv = mrb::int(self.mrb, id as i64);
        let _ = mrb::protect(self.mrb, |m| mrb::funcall(m, hijack, "__unit=", &[idv]));
        let _ = mrb::load_bytecode(self.mrb, &irep);
        let outcome = match mrb::take_exception(self.mrb) {
            Some(exc) => Err(self.describe(exc)),
            None => Ok(()),
        };
        let _ = mrb::protect(self.mrb, |m| mrb::funcall(m, hijack, "__unit=", &[mrb::nil()]));
        outcome
    }

    /// Brings this VM up to date with the live-control units of
    /// `generation` (loads new ones, removes the hooks of removed ones).
    pub unsafe fn sync_units(&mut self, generation: u64) {
        let todo: Vec<(u64, Option<Vec<u8>>)> = control::UNITS
            .lock()
            .iter()
            .filter_map(|u| {
                if u.removed {
                    Some((u.id, None))
                } else if !self.units.contains(&u.id) {
                    Some((u.id, Some(u.irep.clone())))
                } else {
                    None
                }
            })
            .collect();
        for (id, irep) in todo {
            match irep {
                Some(irep) => match self.load_unit(id, &irep) {
                    Ok(()) => self.units.push(id),
                    Err(e) => log::line(&format!("hijack: control unit {id}: {e}")),
                },
                None => self.remove_unit(id),
            }
        }
        self.generation = generation;
    }

    /// Removes the hooks a live-control unit registered here.
    pub unsafe fn remove_unit(&mut self, id: u64) {
        if !self.units.contains(&id) {
            return;
        }
        self.units.retain(|u| *u != id);
        let hijack = self.hijack;
        let idv = mrb::int(self.mrb, id as i64);
        let _ = mrb::protect(self.mrb, |m| mrb::funcall(m, hijack, "__off_unit", &[idv]));
    }

    /// The live-control generation this VM matches.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Runs this VM's hooks on `inv`, the real call included.
    pub unsafe fn dispatch(&mut self, inv: &mut Invocation) {
        hooks::run(self.mrb, inv)
    }
}

/// The control thread's loader of live-control code (control::start runs
/// it on that thread): its own VM compiles a unit and runs it first, so
/// that the calls it hooks become hooked; the unit's bytecode is then what
/// every thread's VM loads.
pub fn control_loader() -> control::Loader {
    // SAFETY: the VM is made on, and used only by, the control thread.
    let vm = unsafe { Vm::open() };
    Box::new(move |id, name, source| {
        let vm = vm.as_ref().ok_or_else(|| "the control thread has no VM".to_string())?;
        // SAFETY: as above.
        unsafe {
            let unit = crate::ruby::script::compile(vm.state(), source.as_bytes(), name)?;
            vm.load_unit(id, &unit.irep)?;
            Ok(unit.irep)
        }
    })
}

impl Drop for Vm {
    fn drop(&mut self) {
        // SAFETY: the state is ours and no call is running on it.
        unsafe { mrb::close(self.mrb) }
    }
}

/// Sets the process's hook program (once).
pub fn install(units: Vec<Unit>) {
    let _ = PROGRAM.set(units);
}

/// Keeps the scripts for the process's first hooked call (a process started
/// by exec whose environment says what the scripts hook: HIJACK_HOOKED),
/// which opens the first VM and runs them; until then no VM is opened.
pub fn defer(sources: Sources) {
    let _ = DEFERRED.set(sources);
}

/// Whether this process has run its scripts, or will at its first hooked
/// call (the exit work included: see [`run_at_exit`]).
fn deferred_unloaded() -> bool {
    PROGRAM.get().is_none() && DEFERRED.get().is_some()
}

/// The deferred scripts, compiled and run in a new VM that becomes this
/// thread's: None when another thread did it (or it failed).
#[cold]
unsafe fn load_deferred(guard: &Guard) -> Option<*mut Vm> {
    let sources = DEFERRED.get()?;
    let mut loaded = LOADED.lock();
    if *loaded {
        return None;
    }
    *loaded = true;
    let Some(vm) = Vm::open() else {
        give_up("mruby could not open a VM");
        return None;
    };
    let before: Vec<bool> = (0..crate::table::CALL_COUNT).map(frame::hooked).collect();
    match sources.compile(vm.state()) {
        Ok(units) => {
            install(units);
            let adopted = adopt(guard, vm);
            if adopted {
                report_unannounced(&before);
            }
            adopted.then(|| guard.thread().vm.get() as *mut Vm).filter(|v| !v.is_null())
        }
        Err(msg) => {
            give_up(&msg);
            None
        }
    }
}

/// Says so when the scripts, run late, hook calls the process's parent did
/// not (a hook only some processes register): those this process made
/// before its first hooked call were not seen.
fn report_unannounced(before: &[bool]) {
    let new: Vec<usize> = (0..before.len()).filter(|&id| frame::hooked(id) && !before[id]).collect();
    // (by the functions' names; a raw row's, SYS_NAME, when only those)
    let calls = &crate::table::CALLS;
    let named: Vec<&str> = new.iter().filter(|&&id| !calls[id].raw).map(|&id| calls[id].name.as_str()).collect();
    let names = if named.is_empty() { new.iter().map(|&id| calls[id].name.as_str()).collect() } else { named };
    if !names.is_empty() {
        log::line(&format!(
            "hijack: the scripts hook {} in this process but not in the one that started it: calls of those made before this process's first hooked call were not seen (HIJACK_LAZY=0 runs the scripts at every process's start)",
            names.join(", ")
        ));
    }
}

/// Around fork: no child inherits the deferred load half made, or the idle
/// VMs' list held.
pub fn fork_lock() {
    LOADED.raw_lock();
    IDLE.raw_lock();
}

/// # Safety
/// After [`fork_lock`], on the same thread (or in its fork child).
pub unsafe fn fork_unlock() {
    IDLE.raw_unlock();
    LOADED.raw_unlock();
}

/// Reports a program that failed to load, once per process, and unhooks
/// everything: the process runs as if hijack were not there.
pub fn give_up(msg: &str) {
    frame::unwatch_all();
    if !LOAD_ERROR_REPORTED.swap(true, Ordering::Relaxed) {
        log::line(&format!("hijack: {msg}; the program runs unhooked"));
    }
}

/// This thread's VM, created (from the program) if needed; None when there
/// is no program or it failed to load (or in the one-VM-per-call mode,
/// where a thread keeps none: see [`without_thread_vm`]). A raw pointer: the
/// VM is this thread's, and a reference to it must not outlive one step.
#[inline(always)]
pub fn thread_vm(guard: &Guard) -> Option<*mut Vm> {
    let existing = guard.thread().vm.get() as *mut Vm;
    if !existing.is_null() {
        return Some(existing);
    }
    // SAFETY: as new_thread_vm says.
    unsafe { new_thread_vm(guard) }
}

/// Makes this thread's VM (its first hooked call).
#[cold]
unsafe fn new_thread_vm(guard: &Guard) -> Option<*mut Vm> {
    let thread = guard.thread();
    if thread.vm_failed.get() || vm_per_call() {
        return None;
    }
    if deferred_unloaded() {
        if let Some(vm) = load_deferred(guard) {
            return Some(vm);
        }
    }
    let vm = reuse_idle().or_else(|| PROGRAM.get().and_then(|units| new_vm(units)));
    let Some(vm) = vm else {
        thread.vm_failed.set(true);
        return None;
    };
    Some(set_thread_vm(guard, vm))
}

/// Makes `vm` (in which the program was just compiled) this thread's VM,
/// running the program in it: start-up opens one VM, not two.
pub unsafe fn adopt(guard: &Guard, mut vm: Vm) -> bool {
    let Some(units) = PROGRAM.get() else { return false };
    if let Err(msg) = vm.load(units) {
        give_up(&msg);
        guard.thread().vm_failed.set(true);
        return false;
    }
    // (what compiling and loading them used and freed goes back)
    #[cfg(all(feature = "preload", target_os = "linux"))]
    crate::platform::heap::trim();
    // (in the one-VM-per-call mode no thread keeps one)
    if !vm_per_call() {
        set_thread_vm(guard, vm);
    }
    true
}

/// Makes `vm` this thread's, freed when the thread exits.
unsafe fn set_thread_vm(guard: &Guard, vm: Vm) -> *mut Vm {
    let ptr = Box::into_raw(Box::new(vm));
    guard.thread().vm.set(ptr as *mut c_void);
    libc::pthread_setspecific(thread_key(), ptr as *const c_void);
    ptr
}

unsafe fn new_vm(units: &[Unit]) -> Option<Vm> {
    let Some(mut vm) = Vm::open() else {
        give_up("mruby could not open a VM");
        return None;
    };
    match vm.load(units) {
        Ok(()) => Some(vm),
        Err(msg) => {
            give_up(&msg);
            None
        }
    }
}

/// Initialises what the first VMs of threads read once (see
/// entry::preload's `started`).
pub fn warm() {
    vm_per_call();
    thread_key();
}

/// HIJACK_VM=per-call: a fresh VM for every hooked call, as the naive design
/// the project started from did. Kept only for the benchmark's comparison,
/// and looked at only when a thread has no VM: never on the hot path.
pub fn vm_per_call() -> bool {
    static MODE: OnceLock<bool> = OnceLock::new();
    *MODE.get_or_init(|| std::env::var_os("HIJACK_VM").is_some_and(|v| v == "per-call"))
}

/// A hooked call on a thread without a VM: in the one-VM-per-call mode, the
/// whole chain (real call included) in a fresh VM, Some(false); else None
/// (the hooks cannot run).
#[cold]
pub fn without_thread_vm(inv: &mut Invocation) -> Option<bool> {
    if !vm_per_call() {
        return None;
    }
    // SAFETY: a VM of this call alone.
    unsafe {
        let mut vm = PROGRAM.get().and_then(|units| new_vm(units))?;
        vm.dispatch(inv);
    }
    Some(false)
}

/// Runs the hooks of `vm` (this thread's) on `inv` up to its real call (see
/// [`hooks::begin`]): whether the caller must make the real call now.
#[inline(always)]
pub fn begin(vm: *mut Vm, inv: &mut Invocation) -> bool {
    // SAFETY: the VM belongs to this thread; the guard keeps it from nesting.
    unsafe { hooks::begin((*vm).mrb, inv) }
}

/// Ends the call for Ruby without its remaining hooks (hook machinery
/// panicked).
pub fn abandon(inv: &mut Invocation) {
    // SAFETY: as in finish.
    unsafe { hooks::end(inv) }
}

/// Runs the hooks `begin` left for after the real call.
#[inline(always)]
pub fn finish(inv: &mut Invocation) {
    // SAFETY: the state `begin` ran in, on this thread.
    unsafe { hooks::finish(inv) }
}

/// Just before the real call of an exec (which returns only when it fails):
/// the observers of this thread's VM write what they can now.
pub unsafe fn observe_exec(frame: &Frame) {
    let vm = guard::current_vm() as *mut Vm;
    if !vm.is_null() {
        hooks::observe((*vm).mrb, frame, true);
    }
}

/// Runs the Hijack.at_exit blocks (from the preload library's atexit
/// handler), in this thread's VM.
pub fn run_at_exit() {
    // (scripts never loaded: loaded now only for their exit work)
    if deferred_unloaded() && !frame::exit_work() {
        return;
    }
    let Some(guard) = guard::enter() else { return };
    // SAFETY: as in begin.
    unsafe {
        if let Some(vm) = thread_vm(&guard) {
            let (mrb, hijack) = ((*vm).mrb, (*vm).hijack);
            if let Err(exc) = mrb::protect(mrb, |m| mrb::funcall(m, hijack, "__run_at_exit", &[])) {
                log::line(&format!("hijack: {} (in Hijack.at_exit)", (*vm).describe(exc)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ruby::script;
    use crate::table::id;

    unsafe fn vm_with(source: &str) -> Result<Vm, String> {
        let mut vm = Vm::open().expect("mruby opens");
        let unit = script::compile(vm.state(), source.as_bytes(), "hooks.rb")?;
        vm.load(&[unit])?;
        Ok(vm)
    }

    #[test]
    fn a_loaded_script_decides_a_call() {
        unsafe {
            let mut vm = vm_with("Hijack.on(:close) { |c| c.fd == 5 ? c.fail(:EBADF) : c.proceed }").unwrap();
            let real = |_: &crate::frame::Words| 0;
            let mut denied = Invocation::new(Frame::new(id::close, &[5], crate::frame::RealFn::new(&real), 0));
            vm.dispatch(&mut denied);
            let denied = &denied.frame;
            assert_eq!((denied.result, denied.errno, denied.proceeded), (-1, libc::EBADF, false));
            let mut allowed = Invocation::new(Frame::new(id::close, &[4], crate::frame::RealFn::new(&real), 0));
            vm.dispatch(&mut allowed);
            assert!(allowed.frame.proceeded);
            assert_eq!(allowed.frame.result, 0);
        }
    }

    #[test]
    fn a_call_object_is_dead_once_its_call_returns() {
        unsafe {
            let mut vm = vm_with("$kept = nil\nHijack.on(:close) { |c| $kept = c; c.proceed }").unwrap();
            let real = |_: &crate::frame::Words| 0;
            let mut f = Invocation::new(Frame::new(id::close, &[1], crate::frame::RealFn::new(&real), 0));
            vm.dispatch(&mut f);
            let unit = script::compile(vm.state(), b"$kept.fd", "later.rb").unwrap();
            let err = vm.load(&[unit]).unwrap_err();
            assert!(err.contains("Hijack::Error") && err.contains("this call is over"), "{err}");
        }
    }

    #[test]
    fn load_errors_name_the_file_and_line() {
        unsafe {
            let err = vm_with("x = 1\nraise ArgumentError, 'bad setup'\n").err().unwrap();
            assert!(err.starts_with("hooks.rb:2"), "{err}");
            assert!(err.contains("ArgumentError: bad setup"), "{err}");
        }
    }

    #[test]
    fn syntax_errors_name_the_file_and_line() {
        unsafe {
            let vm = Vm::open().unwrap();
            let err = script::compile(vm.state(), b"def x\n  (\nend\n", "bad.rb").err().unwrap();
            assert!(err.starts_with("bad.rb:3: syntax error"), "{err}");
        }
    }
}
