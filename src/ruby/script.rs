//! Hook scripts: Ruby source compiled once to mruby bytecode (with debug
//! information, so that backtraces name the script's file and line).

use crate::{ruby::ffi, ruby::mrb};
use std::ffi::{CStr, CString};

/// One compiled script.
pub struct Unit {
    pub name: String,
    pub irep: Vec<u8>,
}

/// Whether `bytes` is compiled mruby bytecode (a `.mrb` file).
pub fn is_bytecode(bytes: &[u8]) -> bool {
    bytes.starts_with(b"RITE")
}

/// Compiles `source` as the file `filename`. A syntax error comes back as
/// `FILE:LINE: message`.
pub unsafe fn compile(mrb: *mut mrb::State, source: &[u8], filename: &str) -> Result<Unit, String> {
    let cname = CString::new(filename).map_err(|_| format!("{filename:?}: a script name cannot hold a NUL byte"))?;
    let _arena = mrb::Arena::save(mrb);
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
            let _ = mrb::take_exception(mrb);
            Err(format!("{filename}: mruby could not generate bytecode"))
        } else {
            dump(mrb, proc_, filename)
        }
    };
    if !parser.is_null() {
        ffi::mrb_parser_free(parser);
    }
    ffi::mrbc_context_free(mrb, ctx);
    result.map(|irep| Unit { name: filename.to_string(), irep })
}

unsafe fn dump(mrb: *mut mrb::State, proc_: *const ffi::RProc, filename: &str) -> Result<Vec<u8>, String> {
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
