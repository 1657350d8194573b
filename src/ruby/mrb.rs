//! The one thin unsafe layer over the mruby C API: the only module that
//! names `ffi` (the `layers` test checks it). Everything above it deals in
//! [`Value`]s and Rust types; the boxing of the target stays in value.c.
//!
//! Raising: mruby raises with longjmp, which skips Rust destructors. Native
//! methods therefore call [`raise`] only when no value that owns memory is
//! alive in their frame (messages are copied into mruby first); the one
//! pattern for a fallible step is [`or_raise`]: make the `Result` (every
//! Rust value of the step dropped), then raise its error.

use crate::ruby::ffi;
use std::ffi::{c_char, c_void, CStr, CString};

pub use ffi::mrb_state as State;
pub use ffi::mrb_value as Value;
pub use ffi::RClass as Class;
/// An interned name.
pub use ffi::mrb_sym as Sym;

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
        None => as_float(v),
    }
}

/// A String of `bytes`, or nil for None.
pub unsafe fn str_or_nil(mrb: *mut State, bytes: Option<&[u8]>) -> Value {
    match bytes {
        Some(b) => str(mrb, b),
        None => nil(),
    }
}

/// The bytes of a String, or None for any other value.
pub unsafe fn as_bytes<'a>(v: Value) -> Option<&'a [u8]> {
    if !is_string(v) {
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
    raise_value(mrb, exception(mrb, class, s))
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

/// Whether `mrb` runs no Ruby now: its root fiber, at its base frame.
pub unsafe fn at_base(mrb: *mut State) -> bool {
    let c = (*mrb).c;
    c == (*mrb).root_c && (*c).ci == (*c).cibase
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

impl DataType {
    /// A data type named `name` whose objects own nothing to free.
    pub const fn named(name: &'static CStr) -> DataType {
        DataType(ffi::mrb_data_type { struct_name: name.as_ptr(), dfree: None })
    }
}

// ---- states and bytecode ---------------------------------------------------

/// A new mruby state, its gems initialised (null when out of memory), with
/// no garbage collection while they were (value.c's hijack_open); in the
/// Linux preload library its memory is hijack's own heap's.
pub unsafe fn open() -> *mut State {
    #[cfg(target_os = "linux")]
    if !crate::platform::relocs::apply() {
        return std::ptr::null_mut();
    }
    #[cfg(all(feature = "preload", target_os = "linux"))]
    return ffi::hijack_open(Some(own_heap), std::ptr::null_mut());
    #[cfg(not(all(feature = "preload", target_os = "linux")))]
    return ffi::hijack_open(None, std::ptr::null_mut());
}

/// mruby's allocation function over hijack's heap: size 0 frees.
#[cfg(all(feature = "preload", target_os = "linux"))]
unsafe extern "C" fn own_heap(_mrb: *mut State, p: *mut c_void, size: usize, _ud: *mut c_void) -> *mut c_void {
    use crate::platform::heap;
    if size == 0 {
        heap::free(p as *mut u8);
        return std::ptr::null_mut();
    }
    heap::c_realloc(p as *mut u8, size) as *mut c_void
}

pub unsafe fn close(mrb: *mut State) {
    ffi::mrb_close(mrb)
}

/// Runs compiled bytecode: its value; an exception is left pending
/// ([`take_exception`]).
pub unsafe fn load_bytecode(mrb: *mut State, irep: &[u8]) -> Value {
    ffi::mrb_load_irep_buf(mrb, irep.as_ptr() as *const c_void, irep.len())
}

/// Compiles `source` as the file `filename` to bytecode with debug
/// information (backtraces name the file and line). A syntax error comes
/// back as `FILE:LINE: message`.
pub unsafe fn compile(mrb: *mut State, source: &[u8], filename: &str) -> Result<Vec<u8>, String> {
    let cname = CString::new(filename).map_err(|_| format!("{filename:?}: a script name cannot hold a NUL byte"))?;
    let _arena = Arena::save(mrb);
    let ctx = ffi::mrbc_context_new(mrb);
    if ctx.is_null() {
        return Err(format!("{filename}: out of memory"));
    }
    ffi::mrbc_filename(mrb, ctx, cname.as_ptr());
    (*ctx).set_capture_errors(true);
    let parser = ffi::mrb_parse_nstring(mrb, source.as_ptr() as *const _, source.len(), ctx);
    let result = if parser.is_null() {
        Err(format!("{filename}: out of memory"))
    } else if (*parser).nerr > 0 {
        let e = &(*parser).error_buffer[0];
        let msg = if e.message.is_null() {
            "syntax error".into()
        } else {
            CStr::from_ptr(e.message).to_string_lossy()
        };
        Err(format!("{filename}:{}: {msg}", e.lineno))
    } else {
        let proc_ = ffi::mrb_generate_code(mrb, parser);
        if proc_.is_null() {
            let _ = take_exception(mrb);
            Err(format!("{filename}: mruby could not generate bytecode"))
        } else {
            dump(mrb, proc_, filename)
        }
    };
    if !parser.is_null() {
        ffi::mrb_parser_free(parser);
    }
    ffi::mrbc_context_free(mrb, ctx);
    result
}

unsafe fn dump(mrb: *mut State, proc_: *const ffi::RProc, filename: &str) -> Result<Vec<u8>, String> {
    let mut bin: *mut u8 = std::ptr::null_mut();
    let mut size: usize = 0;
    let irep = ffi::hijack_proc_irep(proc_);
    let rc = ffi::mrb_dump_irep(mrb, irep, ffi::MRB_DUMP_DEBUG_INFO as u8, &mut bin, &mut size);
    if rc != ffi::MRB_DUMP_OK as i32 || bin.is_null() {
        return Err(format!("{filename}: mruby could not dump bytecode ({rc})"));
    }
    let bytes = std::slice::from_raw_parts(bin, size).to_vec();
    ffi::mrb_free(mrb, bin as *mut _);
    Ok(bytes)
}

// ---- values ----------------------------------------------------------------

pub unsafe fn float(mrb: *mut State, f: f64) -> Value {
    ffi::hijack_float(mrb, f)
}

/// A Float's value (None for any other value, an Integer included).
pub unsafe fn as_float(v: Value) -> Option<f64> {
    (ffi::hijack_type(v) == ffi::mrb_vtype::MRB_TT_FLOAT).then(|| ffi::hijack_float_of(v))
}

pub unsafe fn is_true(v: Value) -> bool {
    ffi::hijack_type(v) == ffi::mrb_vtype::MRB_TT_TRUE
}

pub unsafe fn is_string(v: Value) -> bool {
    ffi::hijack_type(v) == ffi::mrb_vtype::MRB_TT_STRING
}

/// The Symbol of an interned name.
pub unsafe fn sym_value(sym: Sym) -> Value {
    ffi::hijack_sym(sym)
}

/// The interned name of a Symbol (None for any other value).
pub unsafe fn as_sym(v: Value) -> Option<Sym> {
    (ffi::hijack_type(v) == ffi::mrb_vtype::MRB_TT_SYMBOL).then(|| ffi::hijack_symbol(v))
}

/// `v.to_s`.
pub unsafe fn to_s(mrb: *mut State, v: Value) -> Value {
    ffi::mrb_obj_as_string(mrb, v)
}

/// `v.inspect`.
pub unsafe fn inspect(mrb: *mut State, v: Value) -> Value {
    ffi::mrb_inspect(mrb, v)
}

/// A new String of `parts` (Strings) in order.
pub unsafe fn concat(mrb: *mut State, parts: &[Value]) -> Value {
    let out = str(mrb, b"");
    for p in parts {
        ffi::mrb_str_concat(mrb, out, *p);
    }
    out
}

/// An empty Array with room for `capacity` values.
pub unsafe fn ary_new(mrb: *mut State, capacity: usize) -> Value {
    ffi::mrb_ary_new_capa(mrb, capacity as _)
}

/// An Array of `values`.
pub unsafe fn ary_of(mrb: *mut State, values: &[Value]) -> Value {
    ffi::mrb_ary_new_from_values(mrb, values.len() as _, values.as_ptr())
}

pub unsafe fn ary_push(mrb: *mut State, ary: Value, v: Value) {
    ffi::mrb_ary_push(mrb, ary, v)
}

/// The length of an Array, or None for any other value.
pub unsafe fn ary_len(v: Value) -> Option<usize> {
    let n = ffi::hijack_ary_len(v);
    (n >= 0).then_some(n as usize)
}

/// Element `i` of an Array (nil past its end).
pub unsafe fn ary_get(ary: Value, i: usize) -> Value {
    ffi::mrb_ary_entry(ary, i as _)
}

pub unsafe fn hash_new(mrb: *mut State) -> Value {
    ffi::mrb_hash_new(mrb)
}

pub unsafe fn hash_set(mrb: *mut State, hash: Value, key: Value, v: Value) {
    ffi::mrb_hash_set(mrb, hash, key, v)
}

// ---- classes, Data objects, blocks -----------------------------------------

pub unsafe fn module_get(mrb: *mut State, name: &CStr) -> *mut Class {
    ffi::mrb_module_get(mrb, name.as_ptr())
}

/// The module (or class) as a Value.
pub unsafe fn class_value(class: *mut Class) -> Value {
    obj(class as *mut c_void)
}

/// The class a Value is (a Class or Module object).
pub unsafe fn class_of_value(v: Value) -> *mut Class {
    ffi::hijack_class_ptr(v)
}

pub unsafe fn class_get_under(mrb: *mut State, outer: *mut Class, name: &CStr) -> *mut Class {
    ffi::mrb_class_get_under(mrb, outer, name.as_ptr())
}

pub unsafe fn define_module(mrb: *mut State, name: &CStr) -> *mut Class {
    ffi::mrb_define_module(mrb, name.as_ptr())
}

pub unsafe fn define_module_under(mrb: *mut State, outer: *mut Class, name: &CStr) -> *mut Class {
    ffi::mrb_define_module_under(mrb, outer, name.as_ptr())
}

/// Defines class `name` (under `outer`, or at the top) with superclass
/// `superclass` (None: Object).
pub unsafe fn define_class(mrb: *mut State, outer: Option<*mut Class>, name: &CStr, superclass: Option<*mut Class>) -> *mut Class {
    let superclass = superclass.unwrap_or((*mrb).object_class);
    match outer {
        Some(o) => ffi::mrb_define_class_under(mrb, o, name.as_ptr(), superclass),
        None => ffi::mrb_define_class(mrb, name.as_ptr(), superclass),
    }
}

/// Makes `class`'s instances Data objects (made by [`data_new`]).
pub unsafe fn set_instances_data(class: *mut Class) {
    ffi::hijack_set_instance_tt_data(class)
}

pub unsafe fn define_class_method(mrb: *mut State, class: *mut Class, name: &CStr, f: Method, aspec: ffi::mrb_aspec) {
    ffi::mrb_define_class_method(mrb, class, name.as_ptr(), Some(f), aspec);
}

pub unsafe fn is_kind_of(mrb: *mut State, v: Value, class: *mut Class) -> bool {
    ffi::mrb_obj_is_kind_of(mrb, v, class)
}

/// A Data object of `class` pointing to `ptr`.
pub unsafe fn data_new(mrb: *mut State, class: *mut Class, ptr: *mut c_void, ty: &'static DataType) -> Value {
    obj(ffi::mrb_data_object_alloc(mrb, class, ptr, &ty.0) as *mut c_void)
}

/// What a Data object of type `ty` points to (null when cleared); raises
/// TypeError for another value.
pub unsafe fn data_get(mrb: *mut State, v: Value, ty: &'static DataType) -> *mut c_void {
    ffi::mrb_data_check_get_ptr(mrb, v, &ty.0)
}

/// Points a Data object at nothing.
pub unsafe fn data_clear(v: Value) {
    ffi::hijack_data_set_ptr(v, std::ptr::null_mut())
}

/// Yields `arg` to `block`.
pub unsafe fn yield_to(mrb: *mut State, block: Value, arg: Value) -> Value {
    ffi::mrb_yield(mrb, block, arg)
}

// ---- raising -----------------------------------------------------------------

/// An exception of `class` with the message `msg` (a String).
pub unsafe fn exception(mrb: *mut State, class: *mut Class, msg: Value) -> Value {
    ffi::mrb_exc_new_str(mrb, class, msg)
}

/// The value of a fallible step, or raises its error: a String is the
/// message of a `class` exception, anything else is raised as it is.
pub unsafe fn or_raise(mrb: *mut State, class: *mut Class, outcome: Result<Value, Value>) -> Value {
    match outcome {
        Ok(v) => v,
        Err(msg) if is_string(msg) => raise_value(mrb, exception(mrb, class, msg)),
        Err(exc) => raise_value(mrb, exc),
    }
}
