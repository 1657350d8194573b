//! The call table as Ruby sees it: Hijack.table's rows, and what a name
//! means (Hijack.__calls_named: src/table/names.rs).

use super::*;
use super::hijack::struct_class;

unsafe extern "C" fn m_check_name(mrb: *mut State, _self: Value) -> Value {
    let id = call_id(mrb, arg(mrb, 0));
    mrb::symbol(mrb, CALLS[id].name.as_str())
}

/// Hijack.__table: every call's row (see `table_row`).
unsafe extern "C" fn m_table(mrb: *mut State, _self: Value) -> Value {
    let all = mrb::ary_new(mrb, CALLS.len());
    for c in CALLS[..names::rows()].iter() {
        mrb::ary_push(mrb, all, table_row(mrb, c));
    }
    all
}

/// Hijack.__row(name): one call's row (unknown names raise ArgumentError),
/// without building the whole table.
unsafe extern "C" fn m_row(mrb: *mut State, _self: Value) -> Value {
    table_row(mrb, &CALLS[call_id(mrb, arg(mrb, 0))])
}

/// A Hijack::Row (mrblib/call.rb): name, args (Hijack::Arg: name, kind,
/// ctype), errors, groups, prototype, buffer, access.
unsafe fn table_row(mrb: *mut State, c: &table::CallInfo) -> Value {
    let (row_class, arg_class) = (struct_class(mrb, c"Row"), struct_class(mrb, c"Arg"));
    let args = mrb::ary_new(mrb, c.args.len());
    for a in c.args {
        let triple = [mrb::symbol(mrb, a.name.as_str()), mrb::symbol(mrb, a.kind.name()), mrb::str(mrb, a.ctype.as_bytes())];
        mrb::ary_push(mrb, args, mrb::funcall(mrb, arg_class, "new", &triple));
    }
    let groups = mrb::ary_new(mrb, c.groups.len());
    for g in c.groups {
        mrb::ary_push(mrb, groups, mrb::symbol(mrb, g));
    }
    let errors = match c.errors {
        Errors::MinusOne => "minus_one",
        Errors::Null => "null",
        Errors::Code => "code",
        Errors::Eai => "eai",
        Errors::Herr => "herr",
        Errors::None => "none",
    };
    let buffer = match c.buffer {
        BufDir::In => mrb::symbol(mrb, "in"),
        BufDir::Out => mrb::symbol(mrb, "out"),
        BufDir::NoBuf => mrb::nil(),
    };
    let access = c.access.name().map_or_else(|| mrb::nil(), |a| mrb::symbol(mrb, a));
    let id = table::find(c.name.as_str()).unwrap_or(0);
    let sys_class = struct_class(mrb, c"SysArg");
    let sys_args = match c.sys {
        Some(s) => {
            let list = mrb::ary_new(mrb, c.view.len());
            for (i, a) in table::SYSCALLS[s].args.iter().enumerate() {
                let from = crate::frame::view::sys_arg_index(id, i).map_or_else(|| mrb::nil(), |j| mrb::int(mrb, j as i64));
                let triple = [mrb::symbol(mrb, a.name.as_str()), mrb::symbol(mrb, a.kind.name()), from];
                mrb::ary_push(mrb, list, mrb::funcall(mrb, sys_class, "new", &triple));
            }
            list
        }
        None => mrb::ary_new(mrb, 0),
    };
    let row = [
        mrb::symbol(mrb, c.name.as_str()),
        args,
        mrb::symbol(mrb, errors),
        groups,
        mrb::str(mrb, c.prototype.as_bytes()),
        buffer,
        access,
        mrb::symbol(mrb, names::call_name(id)),
        c.sys.map_or_else(|| mrb::nil(), |s| mrb::symbol(mrb, table::SYSCALLS[s].name.as_str())),
        sys_args,
        if c.like.is_empty() { mrb::nil() } else { mrb::symbol(mrb, c.like.as_str()) },
        mrb::boolean(c.raw),
        mrb::boolean(c.inner),
    ];
    mrb::funcall(mrb, row_class, "new", &row)
}

/// Hijack.__calls_named(name): the calls a hook, trace or fault named `name`
/// runs on (table::names), as Symbols; ArgumentError saying why for none.
unsafe extern "C" fn m_calls_named(mrb: *mut State, _self: Value) -> Value {
    let v = arg(mrb, 0);
    let result = match mrb::as_name(mrb, v) {
        Some(name) => names::resolve(name),
        None => Err("a call is named by a Symbol or a String".to_string()),
    };
    symbols_or_raise(mrb, result)
}

/// Hijack.__of_class(name): the calls of strace's class `name` (file, network...).
unsafe extern "C" fn m_of_class(mrb: *mut State, _self: Value) -> Value {
    let result = match mrb::as_name(mrb, arg(mrb, 0)) {
        Some(name) => names::of_class(name),
        None => Err("a class is named by a Symbol or a String".to_string()),
    };
    symbols_or_raise(mrb, result)
}

unsafe fn symbols_or_raise(mrb: *mut State, result: Result<Vec<usize>, String>) -> Value {
    // (the Rust values are gone before mruby raises: its longjmp skips drops)
    let outcome = match result {
        Ok(ids) => {
            let list = mrb::ary_new(mrb, ids.len());
            for id in ids {
                mrb::ary_push(mrb, list, mrb::symbol(mrb, CALLS[id].name.as_str()));
            }
            Ok(list)
        }
        Err(msg) => Err(mrb::str(mrb, msg.as_bytes())),
    };
    mrb::or_raise(mrb, argument_error(mrb), outcome)
}

/// Hijack.__sud_unsupported: why --all-syscalls cannot be had here, or nil.
unsafe extern "C" fn m_sud_unsupported(mrb: *mut State, _self: Value) -> Value {
    if crate::platform::sud::SUPPORTED {
        return mrb::nil();
    }
    let why = if cfg!(target_os = "macos") {
        "macOS has no Syscall User Dispatch: hijack sees libSystem's functions there"
    } else {
        "this build is not for x86_64 or i686: Syscall User Dispatch is used on Linux x86_64 and i686 only"
    };
    mrb::str(mrb, why.as_bytes())
}

/// Hijack.__sud_refused: why this machine's kernel refuses --all-syscalls,
/// or nil.
unsafe extern "C" fn m_sud_refused(mrb: *mut State, _self: Value) -> Value {
    match crate::platform::sud::refused() {
        None => mrb::nil(),
        Some(why) => mrb::str(mrb, why.as_bytes()),
    }
}

pub(super) unsafe fn define(mrb: *mut State, m: *mut mrb::Class) {
    use mrb::{args_req, define_module_function as function, ARGS_NONE};
    function(mrb, m, c"__check_name", m_check_name, args_req(1));
    function(mrb, m, c"__calls_named", m_calls_named, args_req(1));
    function(mrb, m, c"__of_class", m_of_class, args_req(1));
    function(mrb, m, c"__table", m_table, ARGS_NONE);
    function(mrb, m, c"__row", m_row, args_req(1));
    function(mrb, m, c"__sud_unsupported", m_sud_unsupported, ARGS_NONE);
    function(mrb, m, c"__sud_refused", m_sud_refused, ARGS_NONE);
}
