//! `Hijack::Shared`: the process-wide store (features::shared) for hooks
//! on different threads.

use super::*;

/// A Shared key: a Symbol's name or a String's bytes (borrowed from mruby).
unsafe fn shared_key<'a>(mrb: *mut State, v: Value) -> &'a [u8] {
    match mrb::name_bytes(mrb, v) {
        Some(k) => k,
        None => mrb::raise(mrb, argument_error(mrb), "Hijack::Shared keys are Symbols or Strings"),
    }
}

unsafe fn shared_value(mrb: *mut State, v: Option<shared::Value>) -> Value {
    match v {
        None => mrb::nil(),
        Some(shared::Value::Int(i)) => mrb::int(mrb, i),
        Some(shared::Value::Float(f)) => mrb::float(mrb, f),
        Some(shared::Value::Str(b)) => mrb::str(mrb, &b),
    }
}

/// A Ruby value for the store: Ok(None) for nil, Err for other types.
unsafe fn to_shared(v: Value) -> Result<Option<shared::Value>, ()> {
    if mrb::is_nil(v) {
        Ok(None)
    } else if let Some(i) = mrb::as_int(v) {
        Ok(Some(shared::Value::Int(i)))
    } else if let Some(f) = mrb::as_float(v) {
        Ok(Some(shared::Value::Float(f)))
    } else if let Some(b) = mrb::as_bytes(v) {
        Ok(Some(shared::Value::Str(b.to_vec())))
    } else {
        Err(())
    }
}

unsafe extern "C" fn s_get(mrb: *mut State, _self: Value) -> Value {
    let key = shared_key(mrb, arg(mrb, 0));
    let v = shared::get(key);
    shared_value(mrb, v)
}

unsafe extern "C" fn s_set(mrb: *mut State, _self: Value) -> Value {
    let v = arg(mrb, 1);
    let Ok(value) = to_shared(v) else {
        mrb::raise(mrb, argument_error(mrb), "Hijack::Shared holds Integers, Floats, Strings and nil")
    };
    let key = shared_key(mrb, arg(mrb, 0));
    shared::set(key, value);
    v
}

unsafe extern "C" fn s_incr(mrb: *mut State, _self: Value) -> Value {
    // counters are hot: no copy of the arguments (no Ruby runs here)
    let args = mrb::args_in_place(mrb);
    let by = match args.get(1).copied().map(|v| to_shared(v)) {
        None => shared::Value::Int(1),
        Some(Ok(Some(n @ (shared::Value::Int(_) | shared::Value::Float(_))))) => n,
        Some(_) => mrb::raise(mrb, argument_error(mrb), "Hijack::Shared.incr adds an Integer or a Float"),
    };
    let Some(&key) = args.first() else {
        mrb::raise(mrb, argument_error(mrb), "Hijack::Shared.incr(key, by = 1)")
    };
    if let shared::Value::Int(n) = by {
        let symbol = mrb::as_sym(key);
        // (shared_key may raise, never run Ruby)
        if let Some(sum) = hooks::with_registry(mrb, |r| r.counters.incr(symbol, || shared_key(mrb, key), n)) {
            return mrb::int(mrb, sum);
        }
    }
    let key = shared_key(mrb, key);
    let sum = shared::incr(key, by);
    match sum {
        Ok(v) => shared_value(mrb, Some(v)),
        Err(msg) => mrb::raise(mrb, argument_error(mrb), msg),
    }
}

/// `Hijack::Shared.__take_turn(key, now, seconds)`: see [`shared::take_turn`].
unsafe extern "C" fn s_take_turn(mrb: *mut State, _self: Value) -> Value {
    let (now, by) = (arg(mrb, 1), arg(mrb, 2));
    let (Some(now), Some(by)) = (mrb::as_number(now), mrb::as_number(by)) else {
        mrb::raise(mrb, argument_error(mrb), "Hijack::Shared.__take_turn(key, now, seconds) takes numbers")
    };
    let key = shared_key(mrb, arg(mrb, 0));
    let end = shared::take_turn(key, now, by);
    match end {
        Ok(end) => mrb::float(mrb, end),
        Err(msg) => mrb::raise(mrb, argument_error(mrb), msg),
    }
}

unsafe extern "C" fn s_to_h(mrb: *mut State, _self: Value) -> Value {
    let entries = shared::snapshot();
    let hash = mrb::hash_new(mrb);
    for (k, v) in entries {
        mrb::hash_set(mrb, hash, mrb::str(mrb, &k), shared_value(mrb, Some(v)));
    }
    hash
}

/// Defines Hijack::Shared under `m` (Hijack).
pub(super) unsafe fn define(mrb: *mut State, m: *mut mrb::Class) {
    use mrb::{args_req, define_module_function as function, ARGS_NONE, ARGS_REST};
    let shared = mrb::define_module_under(mrb, m, c"Shared");
    function(mrb, shared, c"[]", s_get, args_req(1));
    function(mrb, shared, c"[]=", s_set, args_req(2));
    function(mrb, shared, c"incr", s_incr, ARGS_REST);
    function(mrb, shared, c"to_h", s_to_h, ARGS_NONE);
    function(mrb, shared, c"__take_turn", s_take_turn, args_req(3));
}
