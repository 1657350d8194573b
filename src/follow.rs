//! Following a process tree through exec: hijack's variables (the preload
//! variable with this library in it, HIJACK_SCRIPT, HIJACK_EVAL, HIJACK_LOG,
//! HIJACK_ON_ERROR) are put back into the environment a new program gets,
//! even when the caller built one without them (`env -i`, Ruby's
//! `unsetenv_others`). A variable the caller set to a value of its own is
//! left alone; the preload variable keeps the caller's entries after ours.
//! Off with HIJACK_NO_FOLLOW=1 (`hijack run --no-follow`).

use crate::engine::Frame;
use crate::sys;
use crate::table::Kind;
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
];

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
    if name != sys::PRELOAD_VAR {
        return if theirs.is_some() { None } else { Some(ours.to_string()) };
    }
    match theirs {
        Some(v) if v.split([':', ' ']).any(|entry| entry == ours) => None,
        Some(v) if !v.is_empty() => Some(format!("{ours}:{v}")),
        _ => Some(ours.to_string()),
    }
}

/// The environment `entries` ("NAME=VALUE") with hijack's variables put back.
pub fn fixed_environment(entries: &[&[u8]], vars: &[(String, String)]) -> Option<Vec<Vec<u8>>> {
    let mut out: Vec<Vec<u8>> = entries.iter().map(|e| e.to_vec()).collect();
    let mut changed = false;
    for (name, ours) in vars {
        let prefix = format!("{name}=");
        let pos = out.iter().position(|e| e.starts_with(prefix.as_bytes()));
        let theirs = pos.map(|p| String::from_utf8_lossy(&out[p][prefix.len()..]).into_owned());
        if let Some(value) = wanted(name, ours, theirs.as_deref()) {
            let entry = format!("{prefix}{value}").into_bytes();
            match pos {
                Some(p) => out[p] = entry,
                None => out.push(entry),
            }
            changed = true;
        }
    }
    changed.then_some(out)
}

/// Fixes the environment of the exec-like call in `frame` before it runs:
/// its envp argument when it has one, else the process's own environment.
pub fn prepare(frame: &mut Frame) {
    if !active() {
        return;
    }
    let Some(vars) = SNAPSHOT.get() else { return };
    let envp_index = frame.info().args.iter().position(|a| a.kind == Kind::Argv && a.name == "envp");
    match envp_index {
        Some(i) => {
            let envp = frame.args[i] as usize as *const *const libc::c_char;
            let mut entries: Vec<&[u8]> = Vec::new();
            if !envp.is_null() {
                // SAFETY: envp is the caller's NULL-terminated array.
                unsafe {
                    let mut p = envp;
                    while !(*p).is_null() {
                        entries.push(CStr::from_ptr(*p).to_bytes());
                        p = p.add(1);
                    }
                }
            }
            let Some(fixed) = fixed_environment(&entries, vars) else { return };
            let mut words: Vec<usize> = Vec::with_capacity(fixed.len() + 1);
            for entry in fixed {
                let Ok(c) = CString::new(entry) else { continue };
                words.push(c.as_ptr() as usize);
                frame.keep_string(c);
            }
            words.push(0);
            frame.args[i] = words.as_ptr() as usize as u64;
            frame.keep_words(words);
        }
        None => {
            for (name, ours) in vars {
                let theirs = std::env::var(name).ok();
                if let Some(value) = wanted(name, ours, theirs.as_deref()) {
                    std::env::set_var(name, value);
                }
            }
        }
    }
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
    fn a_complete_environment_is_left_alone() {
        let preload = format!("{}=/opt/hijack/lib/libhijack.so:/usr/lib/other.so", sys::PRELOAD_VAR);
        let env: Vec<&[u8]> = vec![b"PATH=/bin", preload.as_bytes(), b"HIJACK_SCRIPT=/elsewhere.rb"];
        assert_eq!(fixed_environment(&env, &vars()), None);
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
