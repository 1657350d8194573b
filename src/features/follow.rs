//! Following a process tree through exec: hijack's variables (the preload
//! variable with this library in it, HIJACK_SCRIPT, HIJACK_EVAL, HIJACK_LOG,
//! HIJACK_ON_ERROR, HIJACK_ALL_SYSCALLS...) are put back into the environment a new program gets,
//! even when the caller built one without them (`env -i`, Ruby's
//! `unsetenv_others`). A variable the caller set to a value of its own is
//! left alone; the preload variable keeps the caller's entries after ours.
//! Off with HIJACK_NO_FOLLOW=1 (`hijack run --no-follow`).

use crate::frame::word::{self, Word};
use crate::frame::Frame;
use crate::platform::sys;
use crate::table::Follow;
use std::ffi::{CStr, CString};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

pub const VARIABLES: &[&str] = &[
    "HIJACK_SCRIPT",
    "HIJACK_EVAL",
    "HIJACK_EVAL_FILE",
    "HIJACK_LOG",
    "HIJACK_ON_ERROR",
    "HIJACK_SEED",
    "HIJACK_FAULT_LOG",
    "HIJACK_FAULTS_SUMMARY",
    "HIJACK_CLOCK",
    "HIJACK_AUDIT",
    "HIJACK_CONTROL",
    "HIJACK_ALL_SYSCALLS",
    "HIJACK_LAZY",
];

/// What the scripts hook, for a new program (src/frame: the manifest): not
/// a snapshot but made at each exec, from what this process hooks then.
pub const MANIFEST: &str = "HIJACK_HOOKED";

static ACTIVE: AtomicBool = AtomicBool::new(false);
static SNAPSHOT: OnceLock<Vec<(String, String)>> = OnceLock::new();

/// True when exec-like calls must fix the new program's environment.
#[inline(always)]
pub fn active() -> bool {
    ACTIVE.load(Ordering::Relaxed)
}

/// Takes the snapshot of hijack's variables (at start-up, before the program
/// can change them) and turns following on unless HIJACK_NO_FOLLOW is set.
pub fn start(library: &str) {
    if std::env::var_os("HIJACK_NO_FOLLOW").is_some_and(|v| !v.is_empty() && v != "0") {
        return;
    }
    let mut vars = vec![(sys::PRELOAD_VAR.to_string(), library.to_string())];
    for name in VARIABLES {
        if let Some(v) = std::env::var_os(name).filter(|v| !v.is_empty()) {
            vars.push((name.to_string(), v.to_string_lossy().into_owned()));
        }
    }
    if SNAPSHOT.set(vars).is_ok() {
        ACTIVE.store(true, Ordering::Relaxed);
    }
}

/// The value `name` must have given the caller's value for it (None: keep it).
fn wanted(name: &str, ours: &str, theirs: Option<&str>) -> Option<String> {
    // (hijack's own, whatever the caller's environment holds)
    if name == MANIFEST {
        return (theirs != Some(ours)).then(|| ours.to_string());
    }
    if name != sys::PRELOAD_VAR {
        return if theirs.is_some() { None } else { Some(ours.to_string()) };
    }
    match theirs {
        Some(v) if v.split([':', ' ']).any(|entry| entry == ours) => None,
        Some(v) if !v.is_empty() => Some(format!("{ours}:{v}")),
        _ => Some(ours.to_string()),
    }
}

/// The environment `entries` ("NAME=VALUE") with hijack's variables put
/// back (None: they are all there). What must change is found first, with
/// no copy: most execs pass hijack's variables on intact, and in a fork
/// child every allocation copies a page of the heap.
pub fn fixed_environment<N: AsRef<str>, V: AsRef<str>>(entries: &[&[u8]], vars: &[(N, V)]) -> Option<Vec<Vec<u8>>> {
    let mut changes: Vec<(Option<usize>, Vec<u8>)> = Vec::new();
    for (name, ours) in vars {
        let (name, ours) = (name.as_ref(), ours.as_ref());
        let found = entries.iter().enumerate().find_map(|(i, e)| value_of(e, name).map(|v| (i, v)));
        let pos = found.map(|(i, _)| i);
        let theirs = found.map(|(_, v)| String::from_utf8_lossy(v));
        if let Some(value) = wanted(name, ours, theirs.as_deref()) {
            changes.push((pos, format!("{name}={value}").into_bytes()));
        }
    }
    if changes.is_empty() {
        return None;
    }
    let mut out: Vec<Vec<u8>> = entries.iter().map(|e| e.to_vec()).collect();
    for (pos, entry) in changes {
        match pos {
            Some(p) => out[p] = entry,
            None => out.push(entry),
        }
    }
    Some(out)
}

/// How the call goes on once its environment is fixed.
pub enum Instead {
    /// The frame's own real function, with its (changed) arguments.
    Real,
    /// execve(path, argv, envp): for execv/execl, which take no environment.
    Execve(u64),
    /// execvpe(file, argv, envp): for execvp/execlp.
    Execvpe(u64),
}

/// Fixes the environment of the exec-like call in `frame` before it runs:
/// its envp argument when it has one; for the exec calls without one, an
/// execve/execvpe with the process's environment fixed; for system and
/// popen, a command that sets the variables and execs the shell. The
/// process's own environment is never changed (another thread may be
/// reading it).
pub fn prepare(frame: &mut Frame) -> Instead {
    if !active() {
        return Instead::Real;
    }
    let Some(snapshot) = SNAPSHOT.get() else { return Instead::Real };
    let mut buf = [0; crate::frame::MANIFEST_MAX];
    let manifest = crate::frame::manifest_in(&mut buf);
    let arg = |name: &str| frame.info().args.iter().position(|a| a.name == name);
    // (the common case, an environment passed on whole, decided with no
    // allocation: see fixed_environment)
    let given = match frame.info().follow {
        Follow::Envp => Some(frame.args[arg("envp").expect("build.rs checks `follow envp`")].ptr::<*const libc::c_char>() as *const *const libc::c_char),
        // SAFETY: environ is the process's NULL-terminated environment.
        Follow::Environ | Follow::Search => Some(unsafe { environ() }),
        _ => None,
    };
    // SAFETY: the caller's NULL-terminated array (or environ).
    if given.is_some_and(|envp| unsafe { complete(envp, snapshot, manifest) }) {
        return Instead::Real;
    }
    let vars: Vec<(&str, &str)> = snapshot.iter().map(|(n, v)| (n.as_str(), v.as_str())).chain([(MANIFEST, manifest)]).collect();
    let vars = &vars[..];
    match frame.info().follow {
        Follow::No => Instead::Real,
        Follow::Envp => {
            let i = arg("envp").expect("build.rs checks `follow envp`");
            if let Some(words) = fixed_words(frame, frame.args[i].ptr::<*const libc::c_char>(), vars) {
                frame.args[i] = words;
            }
            Instead::Real
        }
        Follow::Shell => {
            let i = arg("command").expect("build.rs checks `follow shell`");
            // SAFETY: the caller's command string (or NULL).
            if let Some(command) = unsafe { frame.args[i].c_str() }.map(<[u8]>::to_vec) {
                if let Some(c) = shell_command(&command, &process_environment(), vars).and_then(|c| CString::new(c).ok()) {
                    frame.set_string(i, c);
                }
            }
            Instead::Real
        }
        // execv, execvp (and execl, execlp, which the shims turn into them).
        Follow::Environ | Follow::Search => {
            // SAFETY: environ is the process's NULL-terminated environment.
            let Some(words) = fixed_words(frame, unsafe { environ() }, vars) else { return Instead::Real };
            if frame.info().follow == Follow::Search {
                Instead::Execvpe(words)
            } else {
                Instead::Execve(words)
            }
        }
    }
}

/// Makes the call `instead` says, with the frame's path and argv (None:
/// the frame's own real function makes it).
pub fn call(instead: &Instead, args: &[u64]) -> Option<i64> {
    if let Instead::Real = instead {
        return None;
    }
    let (path, argv) = (args[0].ptr::<libc::c_void>(), args[1].ptr::<libc::c_void>());
    // SAFETY: the caller's path and argv, and an environment the frame keeps alive.
    unsafe {
        match instead {
            Instead::Real => None,
            Instead::Execve(envp) => {
                let f = crate::platform::real::execve.get()?;
                Some(f(path, argv, envp.ptr::<libc::c_void>()) as i64)
            }
            #[cfg(target_os = "linux")]
            Instead::Execvpe(envp) => {
                let f = crate::platform::real::execvpe.get()?;
                Some(f(path, argv, envp.ptr::<libc::c_void>()) as i64)
            }
            #[cfg(not(target_os = "linux"))]
            Instead::Execvpe(envp) => Some(execvpe(path, argv, envp.ptr::<libc::c_void>())),
        }
    }
}

/// execvp's search with an environment of our own (libSystem has no
/// execvpe): each PATH entry in turn, as execvp does.
#[cfg(not(target_os = "linux"))]
unsafe fn execvpe(file: *mut libc::c_void, argv: *mut libc::c_void, envp: *mut libc::c_void) -> i64 {
    use std::os::unix::ffi::OsStrExt;
    let Some(f) = crate::platform::real::execve.get() else { return -1 };
    let name = CStr::from_ptr(file as *const libc::c_char).to_bytes();
    if name.contains(&b'/') {
        return f(file, argv, envp) as i64;
    }
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into());
    let mut last = libc::ENOENT;
    for dir in std::env::split_paths(&path) {
        let mut full = dir.as_os_str().as_bytes().to_vec();
        full.push(b'/');
        full.extend_from_slice(name);
        let Ok(c) = CString::new(full) else { continue };
        f(c.as_ptr() as *mut libc::c_void, argv, envp);
        let e = sys::errno();
        if e != libc::ENOENT && e != libc::ENOTDIR {
            last = e;
        }
    }
    sys::set_errno(last);
    -1
}

#[cfg(target_os = "linux")]
unsafe fn environ() -> *const *const libc::c_char {
    extern "C" {
        static environ: *const *const libc::c_char;
    }
    environ
}

#[cfg(target_os = "macos")]
unsafe fn environ() -> *const *const libc::c_char {
    // (a library cannot take environ's address on macOS)
    extern "C" {
        fn _NSGetEnviron() -> *mut *const *const libc::c_char;
    }
    *_NSGetEnviron()
}

/// Whether `envp` holds every variable of hijack's as it must be (nothing
/// for [`fixed_environment`] to change), found with no allocation.
///
/// # Safety
/// As [`each_entry`].
unsafe fn complete(envp: *const *const libc::c_char, snapshot: &[(String, String)], manifest: &str) -> bool {
    let fine = |name: &str, ours: &str| {
        let theirs = each_entry(envp).find_map(|e| value_of(e, name));
        // (a value not in UTF-8: the copying path decides)
        let theirs = match theirs.map(std::str::from_utf8) {
            Some(Err(_)) => return false,
            Some(Ok(v)) => Some(v),
            None => None,
        };
        wanted(name, ours, theirs).is_none()
    };
    snapshot.iter().all(|(n, v)| fine(n, v)) && fine(MANIFEST, manifest)
}

/// The value of `entry` ("NAME=VALUE") when it is variable `name`'s.
fn value_of<'a>(entry: &'a [u8], name: &str) -> Option<&'a [u8]> {
    let rest = entry.strip_prefix(name.as_bytes())?;
    rest.strip_prefix(b"=")
}

/// The entries of a NULL-terminated environment, one by one.
///
/// # Safety
/// `envp` is NULL or a valid NULL-terminated array of C strings, alive
/// while the entries are.
unsafe fn each_entry<'a>(envp: *const *const libc::c_char) -> impl Iterator<Item = &'a [u8]> {
    let mut p = envp;
    std::iter::from_fn(move || {
        if p.is_null() || (*p).is_null() {
            return None;
        }
        let e = CStr::from_ptr(*p).to_bytes();
        p = p.add(1);
        Some(e)
    })
}

/// The entries of a NULL-terminated environment.
///
/// # Safety
/// As [`each_entry`].
unsafe fn entries<'a>(envp: *const *const libc::c_char) -> Vec<&'a [u8]> {
    each_entry(envp).collect()
}

fn process_environment() -> Vec<Vec<u8>> {
    // SAFETY: environ is the process's environment.
    unsafe { entries(environ()) }.into_iter().map(<[u8]>::to_vec).collect()
}

/// `envp` with hijack's variables put back, as an array the frame keeps
/// alive (None: nothing to fix).
fn fixed_words(frame: &mut Frame, envp: *const *const libc::c_char, vars: &[(&str, &str)]) -> Option<u64> {
    // SAFETY: envp is the caller's NULL-terminated array (or environ).
    let entries = unsafe { entries(envp) };
    let fixed = fixed_environment(&entries, vars)?;
    let mut words: Vec<usize> = Vec::with_capacity(fixed.len() + 1);
    for entry in fixed {
        let Ok(c) = CString::new(entry) else { continue };
        words.push(c.as_ptr() as usize);
        frame.keep_string(c);
    }
    words.push(0);
    let at = word::of(words.as_ptr());
    frame.keep_words(words);
    Some(at)
}

/// A shell command that sets what `environment` lacks of hijack's
/// variables and then runs `command` in a shell of its own, which thus
/// starts hooked: `NAME='value'... exec /bin/sh -c 'COMMAND' sh` (None:
/// nothing to fix).
pub fn shell_command<N: AsRef<str>, V: AsRef<str>>(command: &[u8], environment: &[Vec<u8>], vars: &[(N, V)]) -> Option<Vec<u8>> {
    let entries: Vec<&[u8]> = environment.iter().map(Vec::as_slice).collect();
    let fixed = fixed_environment(&entries, vars)?;
    let mut out = Vec::new();
    for entry in fixed.iter().filter(|e| !entries.contains(&e.as_slice())) {
        let Some(eq) = entry.iter().position(|b| *b == b'=') else { continue };
        out.extend_from_slice(&entry[..eq]);
        out.push(b'=');
        out.extend(quoted(&entry[eq + 1..]));
        out.push(b' ');
    }
    out.extend_from_slice(b"exec /bin/sh -c ");
    out.extend(quoted(command));
    out.extend_from_slice(b" sh");
    Some(out)
}

/// `bytes` in single quotes for the shell.
fn quoted(bytes: &[u8]) -> Vec<u8> {
    let mut out = vec![b'\''];
    for b in bytes {
        if *b == b'\'' {
            out.extend_from_slice(b"'\\''");
        } else {
            out.push(*b);
        }
    }
    out.push(b'\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> Vec<(String, String)> {
        vec![
            (sys::PRELOAD_VAR.to_string(), "/opt/hijack/lib/libhijack.so".to_string()),
            ("HIJACK_SCRIPT".to_string(), "/tmp/hooks.rb".to_string()),
        ]
    }

    fn strings(v: Option<Vec<Vec<u8>>>) -> Option<Vec<String>> {
        v.map(|v| v.into_iter().map(|e| String::from_utf8(e).unwrap()).collect())
    }

    #[test]
    fn an_empty_environment_gets_every_variable() {
        let fixed = strings(fixed_environment(&[], &vars())).unwrap();
        assert_eq!(fixed, [format!("{}=/opt/hijack/lib/libhijack.so", sys::PRELOAD_VAR), "HIJACK_SCRIPT=/tmp/hooks.rb".into()]);
    }

    #[test]
    fn a_shell_command_sets_what_is_missing_and_execs_the_shell() {
        let env = vec![b"PATH=/bin".to_vec(), b"HIJACK_SCRIPT=/tmp/hooks.rb".to_vec()];
        let cmd = shell_command(b"echo it's", &env, &vars()).unwrap();
        let want = format!("{}='/opt/hijack/lib/libhijack.so' exec /bin/sh -c 'echo it'\\''s' sh", sys::PRELOAD_VAR);
        assert_eq!(String::from_utf8(cmd).unwrap(), want);
        let full = vec![format!("{}=/opt/hijack/lib/libhijack.so", sys::PRELOAD_VAR).into_bytes(), env[1].clone()];
        assert_eq!(shell_command(b"true", &full, &vars()), None);
    }

    #[test]
    fn a_complete_environment_is_left_alone() {
        let preload = format!("{}=/opt/hijack/lib/libhijack.so:/usr/lib/other.so", sys::PRELOAD_VAR);
        let env: Vec<&[u8]> = vec![b"PATH=/bin", preload.as_bytes(), b"HIJACK_SCRIPT=/elsewhere.rb"];
        assert_eq!(fixed_environment(&env, &vars()), None);
    }

    #[test]
    fn a_longer_name_is_not_the_variable() {
        let preload = format!("{}=/opt/hijack/lib/libhijack.so", sys::PRELOAD_VAR);
        let env: Vec<&[u8]> = vec![preload.as_bytes(), b"HIJACK_SCRIPTS=/x.rb"];
        let fixed = strings(fixed_environment(&env, &vars())).unwrap();
        assert_eq!(fixed[1..], ["HIJACK_SCRIPTS=/x.rb".to_string(), "HIJACK_SCRIPT=/tmp/hooks.rb".into()]);
    }

    #[test]
    fn the_callers_preload_entries_stay_after_ours() {
        let preload = format!("{}=/usr/lib/other.so", sys::PRELOAD_VAR);
        let env: Vec<&[u8]> = vec![preload.as_bytes(), b"HOME=/root"];
        let fixed = strings(fixed_environment(&env, &vars())).unwrap();
        assert_eq!(fixed[0], format!("{}=/opt/hijack/lib/libhijack.so:/usr/lib/other.so", sys::PRELOAD_VAR));
        assert_eq!(fixed[1], "HOME=/root");
        assert_eq!(fixed[2], "HIJACK_SCRIPT=/tmp/hooks.rb");
    }
}
