//! The one thin unsafe layer over the mruby C API. Everything above it deals
//! in [`Value`]s and Rust types; the boxing of the target stays in value.c.
//!
//! Raising: mruby raises with longjmp, which skips Rust destructors. Native
//! methods therefore call [`raise`] only when no value that owns memory is
//! alive in their frame (messages are copied into mruby first).

use crate::ruby::ffi;
use std::ffi::{c_char, c_void, CStr};

pub use ffi::mrb_state as State;
pub use ffi::mrb_value as Value;
pub use ffi::RClass as Class;

pub type Method = unsafe extern "C" fn(*mut State, Value) -> Value;

pub const ARGS_NONE: ffi::mrb_aspec = 0;
pub const ARGS_REST: ffi::mrb_aspec = 1 << 12;
pub const fn args_req(n: u32) -> ffi::mrb_aspec {
    ((n & 0x1f) << 18) as ffi::mrb_aspec
}

pub unsafe fn nil() -> Value {
    ffi::hijack_nil()
}

pub unsafe fn boolean(b: bool) -> Value {
    ffi::hijack_bool(b)
}

pub unsafe fn int(mrb: *mut State, i: i64) -> Value {
    ffi::hijack_int(mrb, i as ffi::mrb_int)
}

pub unsafe fn str(mrb: *mut State, bytes: &[u8]) -> Value {
    ffi::mrb_str_new(mrb, bytes.as_ptr() as *const c_char, bytes.len() as _)
}

pub unsafe fn intern(mrb: *mut State, name: &str) -> ffi::mrb_sym {
    ffi::mrb_intern(mrb, name.as_ptr() as *const c_char, name.len() as _)
}

pub unsafe fn symbol(mrb: *mut State, name: &str) -> Value {
    ffi::hijack_sym(intern(mrb, name))
}

pub unsafe fn obj(p: *mut c_void) -> Value {
    ffi::hijack_obj(p)
}

pub unsafe fn is_nil(v: Value) -> bool {
    ffi::hijack_nil_p(v)
}

pub unsafe fn as_int(v: Value) -> Option<i64> {
    ffi::hijack_integer_p(v).then(|| ffi::hijack_integer(v) as i64)
}

/// An Integer's or a Float's value as a Float, or None for any other value.
pub unsafe fn as_number(v: Value) -> Option<f64> {
    match as_int(v) {
        Some(i) => Some(i as f64),
        None => (ffi::hijack_type(v) == ffi::mrb_vtype::MRB_TT_FLOAT).then(|| ffi::hijack_float_of(v)),
    }
}

/// The bytes of a String, or None for any other value.
pub unsafe fn as_bytes<'a>(v: Value) -> Option<&'a [u8]> {
    if ffi::hijack_type(v) != ffi::mrb_vtype::MRB_TT_STRING {
        return None;
    }
    let len = ffi::hijack_str_len(v) as usize;
    if len == 0 {
        return Some(&[]);
    }
    Some(std::slice::from_raw_parts(ffi::hijack_str_ptr(v) as *const u8, len))
}

/// The name of a Symbol (or the bytes of a String), or None.
/// The bytes of a Symbol's name or of a String (no UTF-8 check).
pub unsafe fn name_bytes<'a>(mrb: *mut State, v: Value) -> Option<&'a [u8]> {
    if ffi::hijack_type(v) == ffi::mrb_vtype::MRB_TT_SYMBOL {
        let mut len: ffi::mrb_int = 0;
        let p = ffi::mrb_sym_name_len(mrb, ffi::hijack_symbol(v), &mut len);
        Some(std::slice::from_raw_parts(p as *const u8, len as usize))
    } else {
        as_bytes(v)
    }
}

pub unsafe fn as_name<'a>(mrb: *mut State, v: Value) -> Option<&'a str> {
    std::str::from_utf8(name_bytes(mrb, v)?).ok()
}

pub unsafe fn class_get(mrb: *mut State, name: &CStr) -> *mut Class {
    ffi::mrb_class_get(mrb, name.as_ptr())
}

pub unsafe fn define_method(mrb: *mut State, class: *mut Class, name: &CStr, f: Method, aspec: ffi::mrb_aspec) {
    ffi::mrb_define_method(mrb, class, name.as_ptr(), Some(f), aspec);
}

pub unsafe fn define_module_function(mrb: *mut State, module: *mut Class, name: &CStr, f: Method, aspec: ffi::mrb_aspec) {
    ffi::mrb_define_module_function(mrb, module, name.as_ptr(), Some(f), aspec);
}

pub unsafe fn funcall(mrb: *mut State, recv: Value, name: &str, args: &[Value]) -> Value {
    ffi::mrb_funcall_argv(mrb, recv, intern(mrb, name), args.len() as _, args.as_ptr())
}

/// The arguments of the running native method (mrb_get_args "*").
pub unsafe fn args<'a>(mrb: *mut State) -> &'a [Value] {
    rest_args(mrb, c"*")
}

/// The arguments of the running native method where they are on the VM's
/// stack, without the copy [`args`] makes: valid only until Ruby code runs
/// again (which may move the stack).
pub unsafe fn args_in_place<'a>(mrb: *mut State) -> &'a [Value] {
    let mut argc: ffi::mrb_int = 0;
    let argv = ffi::hijack_args_in_place(mrb, &mut argc);
    match argc {
        _ if argv.is_null() => rest_args(mrb, c"*!"),
        0 => &[],
        n => std::slice::from_raw_parts(argv, n as usize),
    }
}

unsafe fn rest_args<'a>(mrb: *mut State, format: &CStr) -> &'a [Value] {
    let mut argv: *const Value = std::ptr::null();
    let mut argc: ffi::mrb_int = 0;
    ffi::mrb_get_args(mrb, format.as_ptr(), &mut argv, &mut argc);
    if argc == 0 {
        &[]
    } else {
        std::slice::from_raw_parts(argv, argc as usize)
    }
}

/// Raises `class` with `msg` (copied). Never returns.
pub unsafe fn raise(mrb: *mut State, class: *mut Class, msg: &str) -> ! {
    let s = str(mrb, msg.as_bytes());
    raise_value(mrb, ffi::mrb_exc_new_str(mrb, class, s))
}

/// Raises an exception object. Never returns.
pub unsafe fn raise_value(mrb: *mut State, exc: Value) -> ! {
    ffi::mrb_exc_raise(mrb, exc);
    unreachable!("mrb_exc_raise returned")
}

unsafe extern "C" fn protected_body<F: FnMut(*mut State) -> Value>(mrb: *mut State, data: *mut c_void) -> Value {
    (*(data as *mut F))(mrb)
}

/// Runs `body`, catching any mruby exception it raises: Err(exception).
pub unsafe fn protect<F: FnMut(*mut State) -> Value>(mrb: *mut State, mut body: F) -> Result<Value, Value> {
    let mut error = false;
    let v = ffi::mrb_protect_error(mrb, Some(protected_body::<F>), &mut body as *mut F as *mut c_void, &mut error);
    if error {
        Err(v)
    } else {
        Ok(v)
    }
}

/// Takes the pending exception of `mrb` (after mrb_load_*), if any.
pub unsafe fn take_exception(mrb: *mut State) -> Option<Value> {
    let e = ffi::hijack_take_exception(mrb);
    (!is_nil(e)).then_some(e)
}

/// Saves the GC arena; values created until the restore are released then.
pub struct Arena {
    mrb: *mut State,
    index: i32,
}

impl Arena {
    pub unsafe fn save(mrb: *mut State) -> Arena {
        Arena { mrb, index: arena_index(mrb) }
    }
}

/// The GC arena's fill (mrb_gc_arena_save, an inline function in C).
#[inline]
pub unsafe fn arena_index(mrb: *mut State) -> i32 {
    (*mrb).gc.arena_idx
}

/// Releases the values the arena took since `index` (mrb_gc_arena_restore).
#[inline]
pub unsafe fn arena_restore(mrb: *mut State, index: i32) {
    (*mrb).gc.arena_idx = index;
}

impl Drop for Arena {
    fn drop(&mut self) {
        // SAFETY: the state outlives the arena guard.
        unsafe { arena_restore(self.mrb, self.index) }
    }
}

/// An mruby data type (the name of a Data object's class and how to free
/// what it points to), as a static.
#[repr(transparent)]
pub struct DataType(pub ffi::mrb_data_type);
// SAFETY: a constant name and a free function (or none): nothing mutable.
unsafe impl Sync for DataType {}
