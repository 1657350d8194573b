//! The files behind Hijack::FS.fake: one private directory per process
//! (mode 0700 under the temporary directory), a file per fake path, all
//! removed at exit by the process that made them (not by its fork
//! children).

use crate::platform::lock::SpinLock;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::PathBuf;

struct Dir {
    owner: u32,
    path: PathBuf,
}

static DIR: SpinLock<Option<Dir>> = SpinLock::new(None);

extern "C" fn remove_at_exit() {
    let dir = DIR.lock();
    if let Some(d) = dir.as_ref().filter(|d| d.owner == std::process::id()) {
        let _ = std::fs::remove_dir_all(&d.path);
    }
}

/// Removes the directories of processes that are gone without cleaning up
/// (a process that ends with _exit, as shells do, runs no atexit handler).
fn sweep(base: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(base) else { return };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.strip_prefix("hijack-fake-").and_then(|r| r.split('-').next()).and_then(|p| p.parse::<i32>().ok())
        else {
            continue;
        };
        // SAFETY: kill with signal 0 only checks that the process exists.
        let gone = unsafe { libc::kill(pid, 0) } != 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
        if gone {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// What a fake file holds.
pub enum Content<'a> {
    Bytes(&'a [u8]),
    /// A copy of this file's bytes (taken when the fake is first used).
    CopyOf(&'a std::path::Path),
}

/// A private file named `name` (its last path component) holding `content`.
pub fn make(name: &str, content: Content) -> std::io::Result<String> {
    let mut dir = DIR.lock();
    if dir.as_ref().is_none_or(|d| d.owner != std::process::id()) {
        let base = std::env::temp_dir();
        sweep(&base);
        let path = base.join(format!("hijack-fake-{}-{}", std::process::id(), crate::platform::sys::now_ns() % 1_000_000));
        std::fs::DirBuilder::new().mode(0o700).create(&path)?;
        if dir.is_none() {
            // SAFETY: registering a plain function.
            unsafe { libc::atexit(remove_at_exit) };
        }
        *dir = Some(Dir { owner: std::process::id(), path });
    }
    let d = dir.as_ref().unwrap();
    let safe: String = name.chars().map(|c| if c == '/' || c == '\0' { '_' } else { c }).collect();
    let mut n = 0;
    let file = loop {
        let candidate = d.path.join(if n == 0 { safe.clone() } else { format!("{n}-{safe}") });
        match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o644).open(&candidate) {
            Ok(mut f) => {
                match content {
                    Content::Bytes(b) => f.write_all(b)?,
                    Content::CopyOf(source) => {
                        std::io::copy(&mut std::fs::File::open(source)?, &mut f)?;
                    }
                }
                break candidate;
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => n += 1,
            Err(e) => return Err(e),
        }
    };
    Ok(file.to_string_lossy().into_owned())
}
