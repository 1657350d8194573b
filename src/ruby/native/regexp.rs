//! `Regexp` for hook code: POSIX extended regexps from the C library
//! (platform::regex), with Ruby's class escapes.

use super::*;

pub static REGEXP_TYPE: mrb::DataType =
    mrb::DataType::named(c"Regexp");

/// The compiled pattern of a Regexp object.
pub(super) unsafe fn regexp_of(mrb: *mut State, v: Value) -> Option<&'static crate::platform::regex::Regex> {
    let p = mrb::data_get(mrb, v, &REGEXP_TYPE) as *const crate::platform::regex::Regex;
    p.as_ref()
}

/// Regexp.compile(source, options = nil, encoding = nil): options is "i",
/// Regexp::IGNORECASE, or true for a case-insensitive pattern.
unsafe extern "C" fn r_compile(mrb: *mut State, klass: Value) -> Value {
    let args = mrb::args(mrb);
    let Some(&src) = args.first() else {
        mrb::raise(mrb, argument_error(mrb), "Regexp.new(source, options = nil)")
    };
    if regexp_of(mrb, src).is_some() {
        return src;
    }
    let Some(source) = mrb::as_bytes(src) else {
        mrb::raise(mrb, mrb::class_get(mrb, c"TypeError"), "Regexp.new takes a String")
    };
    let icase = match args.get(1).copied() {
        None => false,
        Some(o) if mrb::is_nil(o) => false,
        Some(o) => match (mrb::as_int(o), mrb::as_bytes(o)) {
            (Some(n), _) => n & 1 != 0,
            (_, Some(s)) => s.contains(&b'i'),
            _ => mrb::is_true(o),
        },
    };
    let compiled = crate::platform::regex::compile(source, icase);
    let out = match compiled {
        Ok(r) => Ok(r),
        Err(msg) => Err(mrb::str(mrb, msg.as_bytes())),
    };
    let out = out.map(|r| mrb::data_new(mrb, mrb::class_of_value(klass), r as *const _ as *mut std::ffi::c_void, &REGEXP_TYPE));
    mrb::or_raise(mrb, mrb::class_get(mrb, c"RegexpError"), out)
}

unsafe fn this_regexp(mrb: *mut State, this: Value) -> &'static crate::platform::regex::Regex {
    match regexp_of(mrb, this) {
        Some(r) => r,
        None => mrb::raise(mrb, mrb::class_get(mrb, c"TypeError"), "not an initialized Regexp"),
    }
}

unsafe extern "C" fn r_source(mrb: *mut State, this: Value) -> Value {
    mrb::str(mrb, &this_regexp(mrb, this).source)
}

unsafe extern "C" fn r_casefold(mrb: *mut State, this: Value) -> Value {
    mrb::boolean(this_regexp(mrb, this).icase)
}

/// regexp.__offsets(string, pos) -> nil, or [[start, end] or nil, ...] for
/// the match and each group (byte offsets).
unsafe extern "C" fn r_offsets(mrb: *mut State, this: Value) -> Value {
    let r = this_regexp(mrb, this);
    let (Some(text), Some(pos)) = (mrb::as_bytes(arg(mrb, 0)), mrb::as_int(arg(mrb, 1))) else {
        mrb::raise(mrb, mrb::class_get(mrb, c"TypeError"), "Regexp matches Strings")
    };
    let Some(groups) = r.find(text, pos.max(0) as usize) else { return mrb::nil() };
    let ary = mrb::ary_new(mrb, groups.len());
    for g in groups {
        let v = match g {
            Some((s, e)) => {
                let pair = [mrb::int(mrb, s as i64), mrb::int(mrb, e as i64)];
                mrb::ary_of(mrb, &pair)
            }
            None => mrb::nil(),
        };
        mrb::ary_push(mrb, ary, v);
    }
    ary
}

/// Defines Regexp and RegexpError.
pub(super) unsafe fn define(mrb: *mut State) {
    use mrb::{args_req, define_method as method, ARGS_NONE, ARGS_REST};
    let standard_error = mrb::class_get(mrb, c"StandardError");
    mrb::define_class(mrb, None, c"RegexpError", Some(standard_error));
    let regexp = mrb::define_class(mrb, None, c"Regexp", None);
    mrb::set_instances_data(regexp);
    mrb::define_class_method(mrb, regexp, c"compile", r_compile, ARGS_REST);
    method(mrb, regexp, c"source", r_source, ARGS_NONE);
    method(mrb, regexp, c"casefold?", r_casefold, ARGS_NONE);
    method(mrb, regexp, c"__offsets", r_offsets, args_req(2));
}
