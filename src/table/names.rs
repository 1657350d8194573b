//! What a name means: the calls of the table a hook, trace or fault named
//! NAME runs on. A system call's name (openat), or a name the manual gives its
//! family (open), means every function making that call (open, open64,
//! __open_2, fopen...); a function's name means it and its variants too;
//! `NAME()` means exactly the function NAME.

use super::{class, find, find_sys, CALLS, SYSCALLS};

/// The name a call goes by: the system call it is named by (openat for
/// open64), or the function's own name when it makes no one call.
pub fn call_name(id: usize) -> &'static str {
    match CALLS[id].family {
        Some(s) => SYSCALLS[s].name,
        None => CALLS[id].name,
    }
}

/// The calls NAME runs on, in table order; why not, when none.
pub fn resolve(name: &str) -> Result<Vec<usize>, String> {
    if let Some(f) = name.strip_suffix("()") {
        return find(f).map(|i| vec![i]).ok_or_else(|| format!("no function {f}() in hijack's table (`hijack list --functions` shows them)"));
    }
    let named = |s: Option<usize>| s.is_some_and(|s| SYSCALLS[s].name == name || SYSCALLS[s].manual.contains(&name));
    let ids: Vec<usize> = (0..CALLS.len())
        .filter(|&i| {
            let c = &CALLS[i];
            c.name == name || c.like == name || named(c.sys) || named(c.family)
        })
        .collect();
    if !ids.is_empty() {
        return Ok(ids);
    }
    Err(match find_sys(name) {
        Some(_) => format!(
            "{name} is a system call that no C library function of hijack's table makes on this platform \
             (`hijack list` shows the calls hijack sees)"
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
    Ok((0..CALLS.len()).filter(|&i| CALLS[i].family.or(CALLS[i].sys).is_some_and(|s| SYSCALLS[s].classes & bit != 0)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::id;

    fn names(v: Vec<usize>) -> Vec<&'static str> {
        v.into_iter().map(|i| CALLS[i].name).collect()
    }

    #[test]
    fn a_system_call_means_every_function_making_it() {
        let openat = names(resolve("openat").unwrap());
        for f in ["open", "openat", "fopen"] {
            assert!(openat.contains(&f), "{openat:?}");
        }
        // the manual's name means the same family
        assert_eq!(resolve("open").unwrap(), resolve("openat").unwrap());
        assert!(names(resolve("newfstatat").unwrap()).contains(&"stat"));
        assert!(names(resolve("stat").unwrap()).contains(&"fstatat"));
        assert_eq!(names(resolve("sendto").unwrap()), ["send", "sendto"]);
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
        assert!(resolve("io_uring_enter").unwrap_err().contains("no C library function"));
    }

    #[test]
    fn classes_are_stracess() {
        let net = names(of_class("network").unwrap());
        assert!(net.contains(&"connect") && net.contains(&"send") && !net.contains(&"read"), "{net:?}");
        assert!(names(of_class("file").unwrap()).contains(&"open"));
        assert!(of_class("nosuch").unwrap_err().contains("%network"));
    }
}
