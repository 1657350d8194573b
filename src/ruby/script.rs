//! Hook scripts: Ruby source compiled once to mruby bytecode (with debug
//! information, so that backtraces name the script's file and line).

use crate::ruby::mrb;

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
    mrb::compile(mrb, source, filename).map(|irep| Unit { name: filename.to_string(), irep })
}
