//! What must not travel in the environment: hook code too large for an
//! environment variable (exec refuses a string over 128 KiB, and every
//! process of the tree would copy it) goes to a file in the user's control
//! directory (0700, see control.rs), named by its content so that the same
//! code is written once, and the runner passes its path.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

/// Files not used for this long are removed by the next stash.
const KEEP: std::time::Duration = std::time::Duration::from_secs(30 * 24 * 3600);

/// FNV-1a, 64 bits: a name for the content (not a security boundary: the
/// directory is the user's own, mode 0700).
fn name_of(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h = (h ^ *b as u64).wrapping_mul(0x0100_0000_01b3);
    }
    format!("eval-{h:016x}-{}.rb", bytes.len())
}

/// The path of a file holding `code` (written now unless it exists with
/// that content).
pub fn stash(code: &[u8]) -> Result<PathBuf, String> {
    let dir = crate::features::control::directory()?;
    sweep(&dir);
    let path = dir.join(name_of(code));
    if std::fs::read(&path).is_ok_and(|old| old == code) {
        // Used again: keep it from the sweep.
        let _ = std::fs::File::options().append(true).open(&path).and_then(|f| f.set_modified(std::time::SystemTime::now()));
        return Ok(path);
    }
    let tmp = dir.join(format!(".{}.{}", name_of(code), std::process::id()));
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .and_then(|mut f| f.write_all(code))
        .and_then(|()| std::fs::rename(&tmp, &path));
    written.map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path)
}

fn sweep(dir: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let stale = e.metadata().and_then(|m| m.modified()).is_ok_and(|t| t.elapsed().is_ok_and(|age| age > KEEP));
        if stale && e.file_name().to_string_lossy().starts_with("eval-") {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_content() {
        assert_eq!(name_of(b"Hijack.log 1"), name_of(b"Hijack.log 1"));
        assert_ne!(name_of(b"Hijack.log 1"), name_of(b"Hijack.log 2"));
        assert!(name_of(b"x").ends_with("-1.rb"));
    }
}
