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

mod call;
mod hijack;
mod regexp;
mod runner;
mod store;

pub use regexp::REGEXP_TYPE;

/// Defines the Hijack module (called by the gem's init in every VM).
#[no_mangle]
pub unsafe extern "C" fn hijack_define_module(mrb: *mut State) {
    hooks::attach(mrb);
    let m = ffi::mrb_define_module(mrb, c"Hijack".as_ptr());
    ffi::mrb_define_class_under(mrb, m, c"Error".as_ptr(), mrb::class_get(mrb, c"StandardError"));
    hijack::define(mrb, m);
    runner::define(mrb, m);
    store::define(mrb, m);
    regexp::define(mrb);
    call::define(mrb, m);
}
