//! The hook program (every script, compiled once per process) and one mruby
//! VM per thread, created from it on the thread's first hooked call and
//! closed when the thread exits. A hook blocked in a real call on one thread
//! never holds up hooks on another.

use crate::engine::Frame;
use crate::script::Unit;
use crate::table::{CALLS, CALL_COUNT};
use crate::{engine, ffi, log, mrb};
use std::cell::RefCell;
use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

static PROGRAM: OnceLock<Vec<Unit>> = OnceLock::new();
static LOAD_ERROR_REPORTED: AtomicBool = AtomicBool::new(false);
static DISPATCH_ERROR_REPORTED: AtomicBool = AtomicBool::new(false);

enum Slot {
    Empty,
    Ready(Vm),
    Failed,
}

thread_local! {
    static SLOT: RefCell<Slot> = const { RefCell::new(Slot::Empty) };
}

#[repr(transparent)]
pub struct DataType(pub ffi::mrb_data_type);
// SAFETY: a constant name and no free function.
unsafe impl Sync for DataType {}

/// The data type of Hijack::Call objects: a pointer to the Frame on the
/// stack of the interposed call, cleared when the call returns.
pub static CALL_TYPE: DataType = DataType(ffi::mrb_data_type { struct_name: c"Hijack::Call".as_ptr(), dfree: None });

pub struct Vm {
    mrb: *mut mrb::State,
    hijack: mrb::Value,
    classes: [*mut mrb::Class; CALL_COUNT],
}

impl Vm {
    /// A fresh VM with the Hijack library loaded, no script yet.
    pub unsafe fn open() -> Option<Vm> {
        let mrb = ffi::mrb_open();
        if mrb.is_null() {
            return None;
        }
        let hijack = mrb::obj(ffi::mrb_module_get(mrb, c"Hijack".as_ptr()) as *mut c_void);
        Some(Vm { mrb, hijack, classes: [std::ptr::null_mut(); CALL_COUNT] })
    }

    pub fn state(&self) -> *mut mrb::State {
        self.mrb
    }

    /// Runs the program's scripts in this VM (which registers their hooks).
    pub unsafe fn load(&mut self, units: &[Unit]) -> Result<(), String> {
        for unit in units {
            let _arena = mrb::Arena::save(self.mrb);
            ffi::mrb_load_irep_buf(self.mrb, unit.irep.as_ptr() as *const c_void, unit.irep.len());
            if let Some(exc) = mrb::take_exception(self.mrb) {
                return Err(self.describe(exc));
            }
        }
        Ok(())
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

    unsafe fn call_class(&mut self, id: usize) -> Option<*mut mrb::Class> {
        if self.classes[id].is_null() {
            let hijack = self.hijack;
            let name = mrb::symbol(self.mrb, CALLS[id].name);
            let class = mrb::protect(self.mrb, |m| mrb::funcall(m, hijack, "__call_class", &[name])).ok()?;
            // Class objects live as constants: not collected.
            self.classes[id] = ffi::hijack_class_ptr(class);
        }
        Some(self.classes[id])
    }

    /// Hands `frame` to the Ruby dispatcher. False when the hooks could not run.
    pub unsafe fn dispatch(&mut self, frame: &mut Frame) -> bool {
        let _arena = mrb::Arena::save(self.mrb);
        let Some(class) = self.call_class(frame.id) else { return false };
        if let Err(exc) = run_hooks(self.mrb, self.hijack, class, frame) {
            if !DISPATCH_ERROR_REPORTED.swap(true, Ordering::Relaxed) {
                log::line(&format!("hijack: internal error while running hooks: {}", self.describe(exc)));
            }
        }
        true
    }
}

impl Drop for Vm {
    fn drop(&mut self) {
        // SAFETY: the state is ours and no call is running on it.
        unsafe { ffi::mrb_close(self.mrb) }
    }
}

/// Runs the hooks registered in `mrb` on `frame`, as an object of `class`
/// (a subclass of Hijack::Call), through Hijack.__dispatch. The object is
/// emptied afterwards: the frame dies with the call.
pub unsafe fn run_hooks(mrb: *mut mrb::State, hijack: mrb::Value, class: *mut mrb::Class, frame: &mut Frame) -> Result<mrb::Value, mrb::Value> {
    let data = ffi::mrb_data_object_alloc(mrb, class, frame as *mut Frame as *mut c_void, &CALL_TYPE.0);
    let call = mrb::obj(data as *mut c_void);
    let outcome = mrb::protect(mrb, |m| mrb::funcall(m, hijack, "__dispatch", &[call]));
    ffi::hijack_data_set_ptr(call, std::ptr::null_mut());
    outcome
}

/// Sets the process's hook program (once).
pub fn install(units: Vec<Unit>) {
    let _ = PROGRAM.set(units);
}

/// Reports a program that failed to load, once per process, and unhooks
/// everything: the process runs as if hijack were not there.
pub fn give_up(msg: &str) {
    engine::unwatch_all();
    if !LOAD_ERROR_REPORTED.swap(true, Ordering::Relaxed) {
        log::line(&format!("hijack: {msg}; the program runs unhooked"));
    }
}

/// Puts a VM ready for the program on this thread. The first thread to do so
/// is the one that learns which calls the scripts hook.
pub unsafe fn start_thread_vm() -> bool {
    SLOT.try_with(|slot| {
        let Ok(mut slot) = slot.try_borrow_mut() else { return false };
        if let Slot::Empty = *slot {
            *slot = match PROGRAM.get().and_then(|units| new_vm(units)) {
                Some(vm) => Slot::Ready(vm),
                None => Slot::Failed,
            };
        }
        matches!(*slot, Slot::Ready(_))
    })
    .unwrap_or(false)
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

/// Runs the hooks for `frame` in this thread's VM.
pub fn dispatch(frame: &mut Frame) -> bool {
    // SAFETY: the VM belongs to this thread; the guard keeps it from nesting.
    unsafe {
        if !start_thread_vm() {
            return false;
        }
        SLOT.try_with(|slot| match slot.try_borrow_mut() {
            Ok(mut s) => match &mut *s {
                Slot::Ready(vm) => vm.dispatch(frame),
                _ => false,
            },
            Err(_) => false,
        })
        .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::script;
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
            let real = |_: &[u64]| 0;
            let mut denied = Frame::new(id::close, &[5], &real, 0);
            assert!(vm.dispatch(&mut denied));
            assert_eq!((denied.result, denied.errno, denied.proceeded), (-1, libc::EBADF, false));
            let mut allowed = Frame::new(id::close, &[4], &real, 0);
            assert!(vm.dispatch(&mut allowed));
            assert!(allowed.proceeded);
            assert_eq!(allowed.result, 0);
        }
    }

    #[test]
    fn a_call_object_is_dead_once_its_call_returns() {
        unsafe {
            let mut vm = vm_with("$kept = nil\nHijack.on(:close) { |c| $kept = c; c.proceed }").unwrap();
            let real = |_: &[u64]| 0;
            let mut f = Frame::new(id::close, &[1], &real, 0);
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
