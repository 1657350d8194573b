//! Hook scripts: Ruby source compiled once to mruby bytecode (with debug
//! information, so that backtraces name the script's file and line).

use crate::ruby::mrb;
use std::ffi::OsString;

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

/// The scripts the environment names: HIJACK_SCRIPT (colon-separated
/// paths), HIJACK_EVAL_FILE (a file of `-e` code: the runner's stash for
/// code too large for the environment), HIJACK_EVAL (`-e` code).
pub struct Sources {
    pub scripts: Option<OsString>,
    pub eval_file: Option<OsString>,
    pub eval: Option<String>,
}

impl Sources {
    pub fn from_environment() -> Sources {
        let nonempty = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        Sources {
            scripts: nonempty("HIJACK_SCRIPT"),
            eval_file: nonempty("HIJACK_EVAL_FILE"),
            eval: nonempty("HIJACK_EVAL").map(|v| v.to_string_lossy().into_owned()),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.scripts.is_none() && self.eval_file.is_none() && self.eval.is_none()
    }

    /// Reads and compiles them (in `mrb`), in that order.
    pub unsafe fn compile(&self, mrb: *mut mrb::State) -> Result<Vec<Unit>, String> {
        use std::os::unix::ffi::OsStrExt;
        let mut units = Vec::new();
        if let Some(paths) = &self.scripts {
            for path in paths.as_bytes().split(|b| *b == b':').filter(|p| !p.is_empty()) {
                let name = String::from_utf8_lossy(path).into_owned();
                let source = std::fs::read(std::ffi::OsStr::from_bytes(path)).map_err(|e| format!("cannot read script {name}: {e}"))?;
                if is_bytecode(&source) {
                    units.push(Unit { name, irep: source });
                } else {
                    units.push(compile(mrb, &source, &name)?);
                }
            }
        }
        // (named "-e" in messages all the same)
        if let Some(path) = &self.eval_file {
            let code = std::fs::read(path).map_err(|e| format!("cannot read the -e code in {}: {e}", path.to_string_lossy()))?;
            units.push(compile(mrb, &code, "-e")?);
        }
        if let Some(code) = &self.eval {
            units.push(compile(mrb, code.as_bytes(), "-e")?);
        }
        Ok(units)
    }
}
