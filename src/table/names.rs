//! What a name means: the calls of the table a hook, trace or fault named
//! NAME runs on. A system call's name (openat), or a name the manual gives its
//! family (open), means every function making that call (open, open64,
//! __open_2, fopen...); a function's name means it and its variants too;
//! `NAME()` means exactly the function NAME.

use super::{class, find, find_sys, CALLS, FUNCTION_COUNT, SYSCALLS};

/// The name a call goes by: the system call it is named by (openat for
/// open64), or the function's own name when it makes no one call.
pub fn call_name(id: usize) -> &'static str {
    match CALLS[id].family {
        Some(s) => SYSCALLS[s].name.as_str(),
        None => CALLS[id].name.as_str(),
    }
}

/// The calls NAME runs on, in table order; why not, when none.
pub fn resolve(name: &str) -> Result<Vec<usize>, String> {
    if let Some(f) = name.strip_suffix("()") {
        return find(f).map(|i| vec![i]).ok_or_else(|| format!("no function {f}() in hijack's table (`hijack list --functions` shows them)"));
    }
    let named = |s: Option<usize>| s.is_some_and(|s| SYSCALLS[s].name == name || SYSCALLS[s].manual.iter().any(|m| *m == name));
    // (under --all-syscalls the system calls a function makes inside are
    // caught themselves: it answers to its own name only)
    let all = crate::platform::sud::requested();
    // (a name means the raw row too: syscall(NUMBER) is made through it, and
    // --all-syscalls catches the call made any other way)
    let ids: Vec<usize> = (0..CALLS.len())
        .filter(|&i| {
            let c = &CALLS[i];
            c.name == name || c.like == name || !(all && c.inner) && (named(c.sys) || named(c.family))
        })
        .collect();
    if !ids.is_empty() {
        return Ok(ids);
    }
    Err(match find_sys(name) {
        Some(_) => format!(
            "{name} is not a system call of this platform, nor made by a C library function of \
             hijack's table here (`hijack list` shows the calls hijack sees)"
        ),
        None => format!("unknown call {name} (`hijack list` shows the calls hijack can hook)"),
    })
}

/// The calls of strace's class NAME (file, desc, network...): those whose
/// system call is of it.
pub fn of_class(name: &str) -> Result<Vec<usize>, String> {
    let bit = class::NAMES.iter().find(|(n, _)| *n == name).map(|(_, b)| *b).ok_or_else(|| {
        let known: Vec<String> = class::NAMES.iter().map(|(n, _)| format!("%{n}")).collect();
        format!("unknown class %{name} (strace's: {})", known.join(" "))
    })?;
    let all = crate::platform::sud::requested();
    Ok((0..rows())
        .filter(|&i| !(all && CALLS[i].inner))
        .filter(|&i| CALLS[i].family.or(CALLS[i].sys).is_some_and(|s| SYSCALLS[s].classes & bit != 0))
        .collect())
}

/// The rows names mean: the functions', and under --all-syscalls the
/// system calls' raw rows (SYS_NAME) too.
pub fn rows() -> usize {
    if crate::platform::sud::requested() {
        CALLS.len()
    } else {
        FUNCTION_COUNT
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::id;

    fn names(v: Vec<usize>) -> Vec<&'static str> {
        v.into_iter().map(|i| CALLS[i].name.as_str()).collect()
    }

    #[test]
    fn a_system_call_means_every_function_making_it() {
        let openat = names(resolve("openat").unwrap());
        for f in ["open", "openat", "fopen"] {
            assert!(openat.contains(&f), "{openat:?}");
        }
        // the manual's name means the same family (and open(2) itself)
        let open = resolve("open").unwrap();
        assert!(resolve("openat").unwrap().iter().all(|i| open.contains(i)));
        assert!(names(resolve("newfstatat").unwrap()).contains(&"stat"));
        assert!(names(resolve("stat").unwrap()).contains(&"fstatat"));
        #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
        assert_eq!(names(resolve("sendto").unwrap()), ["send", "sendto", "SYS_sendto"]);
        assert_eq!(call_name(id::open), "openat");
        assert_eq!(call_name(id::getaddrinfo), "getaddrinfo");
    }

    #[test]
    fn a_function_means_it_and_its_variants_and_parentheses_mean_it_alone() {
        assert_eq!(names(resolve("fopen").unwrap()), ["fopen", "fopen64"]);
        assert_eq!(names(resolve("fopen()").unwrap()), ["fopen"]);
        assert_eq!(names(resolve("getaddrinfo").unwrap()), ["getaddrinfo"]);
        assert!(resolve("nosuch()").unwrap_err().contains("no function nosuch()"));
    }

    #[test]
    fn unknown_names_and_calls_nothing_makes_say_so() {
        assert!(resolve("nosuchcall").unwrap_err().starts_with("unknown call nosuchcall"));
        // a call no function makes: its raw row (syscall(NR), --all-syscalls)
        #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
        {
            assert_eq!(names(resolve("io_uring_enter").unwrap()), ["SYS_io_uring_enter"]);
            assert_eq!(crate::table::raw_row(257).map(|i| CALLS[i].name.as_str()), Some("SYS_openat"));
            assert!(resolve("_llseek").unwrap_err().contains("not a system call of this platform"));
        }
    }

    #[test]
    fn classes_are_stracess() {
        let net = names(of_class("network").unwrap());
        assert!(net.contains(&"connect") && net.contains(&"send") && !net.contains(&"read"), "{net:?}");
        assert!(names(of_class("file").unwrap()).contains(&"open"));
        assert!(of_class("nosuch").unwrap_err().contains("%network"));
    }
}
