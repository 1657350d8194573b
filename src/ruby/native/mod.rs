//! The native methods of the `Hijack` module and of `Hijack::Call`. The Ruby
//! side (mrblib/) builds the hook DSL, the call accessors and the CLI on them.

use crate::frame::word::{self, Word};
use crate::frame::{self, Frame};
use crate::ruby::hooks::{Invocation, CALL_TYPE};
use crate::table::{names, BufDir, Errors, Kind, CALLS};
use crate::{features::filter, features::shared, features::trace, platform::log, platform::sockaddr, platform::sys, ruby::hooks, ruby::mrb, ruby::script, table};
use mrb::{State, Value};
use std::ffi::CString;

unsafe fn hijack_module(mrb: *mut State) -> *mut mrb::Class {
    mrb::module_get(mrb, c"Hijack")
}

unsafe fn hijack_error(mrb: *mut State) -> *mut mrb::Class {
    mrb::class_get_under(mrb, hijack_module(mrb), c"Error")
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
    let shown = mrb::inspect(mrb, name);
    let msg = mrb::concat(mrb, &[
        mrb::str(mrb, b"unknown call "),
        shown,
        mrb::str(mrb, b" (`hijack list` shows the calls hijack can hook)"),
    ]);
    mrb::raise_value(mrb, mrb::exception(mrb, argument_error(mrb), msg))
}

mod call;
mod hijack;
mod regexp;
mod runner;
mod store;
mod rows;

pub use regexp::REGEXP_TYPE;

/// Defines the Hijack module (called by the gem's init in every VM).
#[no_mangle]
pub unsafe extern "C" fn hijack_define_module(mrb: *mut State) {
    hooks::attach(mrb);
    let m = mrb::define_module(mrb, c"Hijack");
    mrb::define_class(mrb, Some(m), c"Error", Some(mrb::class_get(mrb, c"StandardError")));
    hijack::define(mrb, m);
    runner::define(mrb, m);
    store::define(mrb, m);
    regexp::define(mrb);
    call::define(mrb, m);
}
