//! Whether a preload library can reach a program at all: the runner's look
//! at the command it is about to exec (its ELF header and PT_INTERP, or the
//! interpreter a `#!` line names). A statically linked program, or one for
//! another loader or architecture, never loads hijack's library: its hooks
//! would silently never run, so the runner says so.

use std::path::{Path, PathBuf};

/// The class and machine of the programs this build can hook.
#[cfg(target_arch = "x86_64")]
const OURS: (u8, u16, &str) = (2, 62, "x86_64");
#[cfg(target_arch = "x86")]
const OURS: (u8, u16, &str) = (1, 3, "i386");
#[cfg(target_arch = "aarch64")]
const OURS: (u8, u16, &str) = (2, 183, "aarch64");

/// The program `command` names: itself when it has a slash, else the first
/// executable of that name on PATH.
pub fn resolve(command: &str) -> Option<PathBuf> {
    if command.contains('/') {
        return Some(PathBuf::from(command));
    }
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
    std::env::split_paths(&path).map(|d| d.join(command)).find(|p| executable(p))
}

fn executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Why hijack cannot hook `program` (None: it can, or hijack cannot tell,
/// e.g. a file it may not read; exec itself then reports what is wrong).
pub fn cannot_hook(program: &Path) -> Option<String> {
    let head = read_head(program)?;
    if let Some(interpreter) = shebang(&head) {
        let inner = read_head(Path::new(&interpreter))?;
        return judge(&inner).map(|why| format!("its interpreter {interpreter} {why}"));
    }
    judge(&head)
}

fn read_head(p: &Path) -> Option<Vec<u8>> {
    use std::io::Read;
    let mut f = std::fs::File::open(p).ok()?;
    let mut head = Vec::new();
    f.by_ref().take(64 * 1024).read_to_end(&mut head).ok()?;
    Some(head)
}

/// The interpreter of a `#!` line.
fn shebang(head: &[u8]) -> Option<String> {
    let line = head.strip_prefix(b"#!")?;
    let line = &line[..line.iter().position(|b| *b == b'\n').unwrap_or(line.len())];
    let text = String::from_utf8_lossy(line);
    text.split_whitespace().next().map(str::to_string)
}

/// What is wrong with an ELF file for this build's library (None: fine, or
/// not ELF: exec decides).
pub fn judge(elf: &[u8]) -> Option<String> {
    if elf.len() < 52 || &elf[..4] != b"\x7fELF" {
        return None;
    }
    let class = elf[4];
    let little = elf[5] == 1;
    let u16_at = |o: usize| elf.get(o..o + 2).map(|b| if little { u16::from_le_bytes([b[0], b[1]]) } else { u16::from_be_bytes([b[0], b[1]]) });
    let u32_at = |o: usize| elf.get(o..o + 4).map(|b| {
        let a = [b[0], b[1], b[2], b[3]];
        if little { u32::from_le_bytes(a) } else { u32::from_be_bytes(a) }
    });
    let u64_at = |o: usize| elf.get(o..o + 8).map(|b| {
        let a: [u8; 8] = b.try_into().unwrap();
        if little { u64::from_le_bytes(a) } else { u64::from_be_bytes(a) }
    });
    let machine = u16_at(18)?;
    if (class, machine) != (OURS.0, OURS.1) {
        let what = match (class, machine) {
            (1, 3) => "an i386 program".to_string(),
            (2, 62) => "an x86_64 program".to_string(),
            (2, 183) => "an aarch64 program".to_string(),
            (c, m) => format!("a program for machine {m} ({}-bit)", if c == 1 { 32 } else { 64 }),
        };
        return Some(format!("is {what}: this build of hijack hooks {} programs (use the build for its target)", OURS.2));
    }
    // Program headers: (offset, entry size, count).
    let (phoff, phentsize, phnum) = if class == 2 {
        (u64_at(32)? as usize, u16_at(54)? as usize, u16_at(56)? as usize)
    } else {
        (u32_at(28)? as usize, u16_at(42)? as usize, u16_at(44)? as usize)
    };
    for i in 0..phnum {
        let at = phoff + i * phentsize;
        if u32_at(at)? != 3 {
            continue; // not PT_INTERP
        }
        let (off, size) = if class == 2 {
            (u64_at(at + 8)? as usize, u64_at(at + 32)? as usize)
        } else {
            (u32_at(at + 4)? as usize, u32_at(at + 16)? as usize)
        };
        let interp = elf.get(off..off + size)?;
        let interp = String::from_utf8_lossy(interp.split(|b| *b == 0).next().unwrap_or(interp)).into_owned();
        let name = interp.rsplit('/').next().unwrap_or(&interp);
        if name.starts_with("ld-linux") {
            return None;
        }
        if name.starts_with("ld-musl") {
            return Some(format!("uses musl's loader ({interp}): this build of hijack is for glibc programs"));
        }
        return Some(format!("uses the loader {interp}, which this build of hijack does not support"));
    }
    Some("is statically linked: no preload library reaches it, so no hook runs in it".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_test_binary_itself_is_hookable() {
        let me = std::env::current_exe().unwrap();
        assert_eq!(cannot_hook(&me), None);
    }

    #[test]
    fn a_script_is_judged_by_its_interpreter() {
        assert_eq!(shebang(b"#!/bin/sh -e\necho"), Some("/bin/sh".into()));
        assert_eq!(shebang(b"\x7fELF"), None);
    }

    #[test]
    fn an_elf_without_an_interpreter_is_static() {
        let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let mut head = me[..64].to_vec();
        // no program headers at all
        if head[4] == 2 {
            head[56] = 0;
            head[57] = 0;
        } else {
            head[44] = 0;
            head[45] = 0;
        }
        assert!(judge(&head).unwrap().contains("statically linked"));
    }

    #[test]
    fn not_elf_is_left_to_exec() {
        assert_eq!(judge(b"hello world, this is not a program at all, just words...."), None);
    }
}
