//! build.rs's part for src/table/syscalls.tab: the system calls, and the view
//! each calls.tab row gives of the one it makes (`sys NAME(ARG,...)`).

use super::*;
use super::pool::{List, Pool};

pub struct Syscall {
    pub name: String,
    pub nr64: Option<u32>,
    pub nr32: Option<u32>,
    pub classes: Vec<String>,
    pub ret: Decl,
    pub args: Vec<Decl>,
    /// `... mode_t mode`: shown only when the flags ask for a mode.
    pub mode_tail: bool,
    pub decode: Vec<(String, &'static str)>,
    pub access: &'static str,
    pub manual: Vec<String>,
    pub timeout: bool,
    pub prototype: String,
}

/// strace's classes, as table::class bits.
pub const CLASSES: &[&str] = &["file", "desc", "network", "process", "memory", "signal", "ipc", "clock", "creds"];

fn fail(line: usize, msg: &str) -> ! {
    panic!("src/table/syscalls.tab:{line}: {msg}");
}

/// The first `N` whitespace-separated columns of `text`, and the rest.
fn columns<const N: usize>(text: &str) -> ([&str; N], Option<&str>) {
    let mut cols = [""; N];
    let mut rest = text;
    for c in cols.iter_mut() {
        let r = rest.trim_start();
        let end = r.find(char::is_whitespace).unwrap_or(r.len());
        *c = &r[..end];
        rest = &r[end..];
    }
    let rest = rest.trim();
    (cols, (!rest.is_empty() && cols.iter().all(|c| !c.is_empty())).then_some(rest))
}

pub fn parse(text: &str) -> Vec<Syscall> {
    let mut out: Vec<Syscall> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let raw = raw.trim();
        if raw.is_empty() || raw.starts_with('#') {
            continue;
        }
        let (head, notes) = raw.split_once(';').map_or((raw, ""), |(h, n)| (h, n.trim()));
        let (cols, proto) = columns::<4>(head);
        let [name, x86_64, i386, classes] = cols.map(str::to_string);
        let number = |s: &str| match s {
            "-" => None,
            n => Some(n.parse::<u32>().unwrap_or_else(|_| fail(line, &format!("`{n}` is not a number")))),
        };
        let (nr64, nr32) = (number(&x86_64), number(&i386));
        let classes: Vec<String> = match classes.as_str() {
            "-" => Vec::new(),
            c => c.split(',').map(str::to_string).collect(),
        };
        for c in &classes {
            if !CLASSES.contains(&c.as_str()) {
                fail(line, &format!("unknown class `{c}` (known: {})", CLASSES.join(" ")));
            }
        }
        let proto = proto.unwrap_or_else(|| fail(line, "missing a column (name x86_64 i386 classes prototype)"));
        let (ret, args, tail) = parse_prototype(proto, &name).unwrap_or_else(|e| fail(line, &e));
        let mode_tail = tail.is_some();
        if tail.is_some_and(|t| t + 1 != args.len()) {
            fail(line, "a tail is `... mode_t mode`");
        }
        if mode_tail && args.last().map(|a| a.name.as_str()) != Some("mode") {
            fail(line, "a tail is `... mode_t mode`");
        }
        let (mut decode, mut access, mut manual, mut timeout) = (Vec::new(), "None", Vec::new(), false);
        let mut words = notes.split_whitespace().peekable();
        while let Some(w) = words.next() {
            match w {
                "decode" => {
                    let pair = words.next().unwrap_or_else(|| fail(line, "`decode` needs ARG=NAME"));
                    decode.push(parse_decode(pair, &args).unwrap_or_else(|e| fail(line, &e)));
                }
                "access" => {
                    let kind = words.next().unwrap_or_else(|| fail(line, "`access` needs a kind"));
                    access = access_kind(kind).unwrap_or_else(|e| fail(line, &e));
                }
                "timeout" => timeout = true,
                "manual" => {
                    while let Some(n) = words.next_if(|n| !["decode", "access", "manual", "timeout"].contains(n)) {
                        manual.push(n.to_string());
                    }
                }
                other => fail(line, &format!("unknown annotation `{other}`")),
            }
        }
        if out.iter().any(|s| s.name == name) {
            fail(line, &format!("`{name}` is described twice"));
        }
        out.push(Syscall { name, nr64, nr32, classes, ret, args, mode_tail, decode, access, manual, timeout, prototype: proto.to_string() });
    }
    out
}

/// One argument of a row's view of its system call (table::Src).
fn source(expr: &str, row: &Call, line: &str) -> String {
    let arg = |name: &str| row.args.iter().position(|a| a.name == name);
    let inner = |f: &str| expr.strip_prefix(f).and_then(|r| r.strip_prefix('(')).and_then(|r| r.strip_suffix(')'));
    for (f, variant) in [("fileno", "Fileno"), ("stdio", "Stdio"), ("secs", "Secs"), ("usecs", "Usecs"), ("timeval", "Timeval"), ("pages", "Pages"), ("clonestack", "CloneStack"), ("allocated", "Allocated"), ("allocsize", "AllocSize")] {
        if let Some(a) = inner(f) {
            let i = arg(a).unwrap_or_else(|| panic!("{line}: {}: `{f}({a})`: no argument `{a}`", row.name));
            return format!("Src::{variant}({i})");
        }
    }
    if let Some(i) = arg(expr) {
        return format!("Src::Arg({i})");
    }
    // ARG|CONST...: the argument with bits added (open64's flags on i386)
    if let Some((first, rest)) = expr.split_once('|') {
        if let Some(i) = arg(first) {
            let bits = source(rest, row, line);
            let bits = bits.strip_prefix("Src::Const(").and_then(|b| b.strip_suffix(')')).unwrap_or_else(|| panic!("{line}: {}: `{expr}`: only constants after the argument", row.name));
            return format!("Src::Or({i}, {bits})");
        }
    }
    match expr {
        "\"\"" => return "Src::Empty".to_string(),
        "environ" => return "Src::Environ".to_string(),
        "tidaddress()" => return "Src::TidAddress".to_string(),
        "NULL" => return "Src::Const(0)".to_string(),
        _ => {}
    }
    let parts: Vec<String> = expr
        .split('|')
        .map(|p| match p.parse::<i64>() {
            Ok(n) => format!("{n}i64"),
            Err(_) if p.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_') => {
                format!("libc::{p} as i64")
            }
            Err(_) => panic!("{line}: {}: `{p}` is neither an argument, a number nor a libc constant", row.name),
        })
        .collect();
    match parts.len() {
        1 => format!("Src::Const({})", parts[0]),
        _ => format!("Src::Const({})", parts.iter().map(|p| format!("({p})")).collect::<Vec<_>>().join(" | ")),
    }
}

/// A row's `sys NAME(ARG,...)` (or the bare `sys NAME`: the same arguments),
/// as the index of the system call and the view's sources; None for a row
/// that makes no one system call.
pub fn view(row: &Call, spec: Option<&str>, syscalls: &[Syscall]) -> Option<(usize, Vec<String>, &'static str)> {
    let where_ = format!("src/table/calls.tab: {}", row.name);
    let spec = match spec {
        // `sys -`: it makes no one call (readdir: getdents64, now and then);
        // `sys number`: the one its first argument numbers (frame::view)
        Some("-" | "number") => return None,
        Some(s) => s.to_string(),
        // a row named after a system call makes it, with its arguments
        None if syscalls.iter().any(|s| s.name == row.name) => row.name.clone(),
        None => return None,
    };
    let (spec, result) = match spec.split_once(")=") {
        Some((s, r)) => (format!("{s})"), r.to_string()),
        None => (spec, String::new()),
    };
    let result = match result.as_str() {
        "" => "Same",
        "fileno" => "Fileno",
        "dirfd" => "Dirfd",
        "pathlen" => "PathLen",
        r => panic!("{where_}: unknown result view `{r}` (fileno)"),
    };
    let (name, list) = match spec.split_once('(') {
        Some((n, l)) => (n.to_string(), Some(l.strip_suffix(')').unwrap_or_else(|| panic!("{where_}: `sys {spec}` needs `)`")))),
        None => (spec.clone(), None),
    };
    let index = syscalls
        .iter()
        .position(|s| s.name == name)
        .unwrap_or_else(|| panic!("{where_}: `sys {name}`: no such system call in src/table/syscalls.tab"));
    let sc = &syscalls[index];
    let sources: Vec<String> = match list {
        Some(l) => l.split(',').map(str::trim).filter(|e| !e.is_empty()).map(|e| source(e, row, &where_)).collect(),
        None => {
            if row.args.len() != sc.args.len() {
                panic!("{where_}: it has {} arguments, {name} {}: say which goes where (`sys {name}(...)`)", row.args.len(), sc.args.len());
            }
            (0..row.args.len()).map(|i| format!("Src::Arg({i})")).collect()
        }
    };
    if sources.len() != sc.args.len() {
        panic!("{where_}: `sys {name}` takes {} arguments, the view gives {}", sc.args.len(), sources.len());
    }
    Some((index, sources, result))
}

/// A row's arguments, as the place of their list in the pool.
fn arg_infos(args: &[Decl], decode: &[(String, &'static str)], pool: &mut Pool) -> String {
    let list: Vec<String> = args
        .iter()
        .map(|a| {
            let (name, ctype) = (pool.text(&a.name), pool.text(&a.ctype));
            format!("ArgInfo {{ name: {name}, kind: Kind::{}, ctype: {ctype}, decode: Decode::{} }}", kind(a), decoder_of(decode, a))
        })
        .collect();
    pool.span(List::Args, list)
}

/// The arguments of a system call's row.
pub fn sys_arg_list(sc: &Syscall, pool: &mut Pool) -> String {
    arg_infos(&sc.args, &sc.decode, pool)
}

/// hijack's group of a system call's raw row, from its strace classes.
pub fn group_of(sc: &Syscall) -> &'static str {
    let has = |c: &str| sc.classes.iter().any(|k| k == c);
    if has("memory") {
        "memory"
    } else if has("network") {
        "net"
    } else if has("clock") {
        "time"
    } else if has("file") || has("desc") {
        "file"
    } else {
        "process"
    }
}

pub fn arg_list(c: &Call, pool: &mut Pool) -> String {
    arg_infos(&c.args, &c.decode, pool)
}

/// table::SYSCALLS and its index module `sysid`.
pub fn generate(syscalls: &[Syscall], pool: &mut Pool) -> String {
    let mut s = String::new();
    let n = syscalls.len();
    writeln!(s, "pub const SYSCALL_COUNT: usize = {n};").unwrap();
    writeln!(s, "pub static SYSCALLS: [SysInfo; SYSCALL_COUNT] = [").unwrap();
    for sc in syscalls {
        let nr = |n: Option<u32>| n.map_or(-1, |v| v as i32);
        let classes: Vec<String> = sc
            .classes
            .iter()
            .map(|c| format!("class::{}", c.to_uppercase()))
            .collect();
        writeln!(
            s,
            "    SysInfo {{ name: {}, nr64: {}, nr32: {}, classes: {}, args: {}, mode_tail: {}, returns_pointer: {}, access: Access::{}, manual: {}, timeout: {} }},",
            pool.text(&sc.name),
            nr(sc.nr64),
            nr(sc.nr32),
            if classes.is_empty() { "0".to_string() } else { classes.join(" | ") },
            arg_infos(&sc.args, &sc.decode, pool),
            sc.mode_tail,
            sc.ret.class == Class::Pointer,
            sc.access,
            {
                let names = sc.manual.iter().map(|m| pool.text(m)).collect();
                pool.span(List::Texts, names)
            },
            sc.timeout,
        )
        .unwrap();
    }
    writeln!(s, "];\n").unwrap();
    writeln!(s, "/// Index of each system call in SYSCALLS.\n#[allow(non_upper_case_globals, dead_code)]\npub mod sysid {{").unwrap();
    for (i, sc) in syscalls.iter().enumerate() {
        // (`break`, an i386 call, is a Rust keyword)
        let raw = if sc.name == "break" { "r#" } else { "" };
        writeln!(s, "    pub const {raw}{}: usize = {i};", sc.name).unwrap();
    }
    writeln!(s, "}}\n").unwrap();
    s
}
