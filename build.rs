//! Build script: three generators.
//!
//! 1. The call table (`src/table/calls.tab`) becomes Rust (`$OUT_DIR/calls.rs`,
//!    the metadata; `reals.rs`, the real-function caches; `entries.rs`, the
//!    interposed entry points) and, in
//!    `HIJACK_GEN_DIR` (default `$OUT_DIR`), the C shims' prototypes
//!    (`calls.h`), the preload library's version script (`exports.map`) and
//!    its exported names (`exports.txt`).
//! 2. The table also becomes `exercise.c` in `HIJACK_GEN_DIR`: a test program
//!    making every call (test/programs/exercise.rs).
//! 3. bindgen turns the mruby headers into `$OUT_DIR/mruby.rs`, with exactly
//!    the defines and include paths of the libmruby being built, which
//!    mrbgem.rake writes to the file named by `HIJACK_MRUBY_CFLAGS_FILE`.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

#[path = "test/programs/exercise.rs"]
mod exercise;
#[path = "codegen/pool.rs"]
mod pool;
#[path = "codegen/syscalls.rs"]
mod syscalls;

use pool::{List, Pool};

#[derive(Clone, Copy, PartialEq, Debug)]
enum Class {
    Signed,
    Unsigned,
    Pointer,
}

#[derive(Clone, Debug)]
struct Decl {
    ctype: String,
    name: String,
    class: Class,
    rust: &'static str,
}

/// How a variadic function's tail is read by its C shim.
#[derive(Debug, PartialEq)]
enum Tail {
    /// Not variadic.
    None,
    /// `... mode_t mode`: read only when the flags ask for a mode.
    Mode,
    /// `... long a1, ...`: always read.
    Always,
    /// `list`: the argv is a NULL-terminated list of arguments (execl).
    List,
}

#[derive(Debug)]
struct Call {
    name: String,
    errors: &'static str,
    groups: Vec<String>,
    prototype: String,
    ret: Decl,
    /// Every argument the call has for hooks, the variadic ones included.
    args: Vec<Decl>,
    /// How many of them are named in the C prototype (before `...`).
    fixed: usize,
    tail: Tail,
    real: String,
    /// `follow HOW`: how the new program's environment is fixed (a
    /// table::Follow variant), or None.
    follow: Option<&'static str>,
    linux_only: bool,
    inode64: bool,
    manual: bool,
    /// The real call passes through `MODULE::NAME` (`via MODULE`, a module
    /// src/entry/mod.rs names).
    via: Option<String>,
    /// It replaces the process image: it returns only when it fails.
    exec: bool,
    /// `decode ARG=NAME`: the strace format's decoder of an argument.
    decode: Vec<(String, &'static str)>,
    /// `access KIND`: what the call does to the path or peer it names.
    access: &'static str,
    /// `sys NAME(ARG,...)`: the system call it makes, as the function's
    /// arguments give it (x86_64's, and macOS's vocabulary); `sys32` i386's
    /// where it differs.
    sys: Option<String>,
    sys32: Option<String>,
    /// `like NAME`: a variant of function NAME (open64 of open): hooked
    /// under its name too.
    like: Option<String>,
    /// `forks`: it returns twice (fork).
    forks: bool,
    /// `inner`: its real function makes system calls of its own.
    inner: bool,
}

/// The `access` annotation's kinds, as table::Access variants.
const ACCESS: &[(&str, &str)] = &[
    ("opens", "Opens"),
    ("stdio", "StdioOpens"),
    ("reads", "Reads"),
    ("writes", "Writes"),
    ("executes", "Executes"),
    ("shell", "Shell"),
    ("connects", "Connects"),
];

/// What the table is generated for.
struct Target {
    macos: bool,
    x86_64: bool,
}

impl Target {
    fn from_env() -> Target {
        Target {
            macos: env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("macos"),
            x86_64: env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("x86_64"),
        }
    }

    /// The symbol of an entry point: the function's own name where the
    /// preload library replaces it by name (Linux), hijack_i_NAME where
    /// dyld's interposing maps it (macOS).
    fn entry_symbol(&self, name: &str) -> String {
        if self.macos {
            format!("hijack_i_{name}")
        } else {
            name.to_string()
        }
    }
}

/// C scalar types the table may use, their Rust spelling and signedness.
const TYPES: &[(&str, &str, Class)] = &[
    ("int", "libc::c_int", Class::Signed),
    ("long", "libc::c_long", Class::Signed),
    ("unsigned int", "libc::c_uint", Class::Unsigned),
    ("unsigned long", "libc::c_ulong", Class::Unsigned),
    ("size_t", "libc::size_t", Class::Unsigned),
    ("ssize_t", "libc::ssize_t", Class::Signed),
    ("mode_t", "libc::mode_t", Class::Unsigned),
    ("off_t", "libc::off_t", Class::Signed),
    ("off64_t", "i64", Class::Signed),
    ("pid_t", "libc::pid_t", Class::Signed),
    ("socklen_t", "libc::socklen_t", Class::Unsigned),
    ("clockid_t", "libc::clockid_t", Class::Signed),
    ("time_t", "libc::time_t", Class::Signed),
    ("uid_t", "libc::uid_t", Class::Unsigned),
    ("gid_t", "libc::gid_t", Class::Unsigned),
    ("dev_t", "libc::dev_t", Class::Unsigned),
    ("useconds_t", "libc::c_uint", Class::Unsigned),
    ("void", "()", Class::Unsigned),
];

/// Argument kinds by argument name: how the Ruby side reads and writes them.
/// A pointer not listed is a `Str` when it is `const char *`, else a
/// `Pointer`; a number not listed is an `Int`.
const KINDS: &[(&str, &str)] = &[
    ("fd", "Fd"),
    ("oldfd", "Fd"),
    ("fd_in", "Fd"),
    ("fd_out", "Fd"),
    ("in_fd", "Fd"),
    ("out_fd", "Fd"),
    ("newfd", "Fd"),
    ("dirfd", "Dirfd"),
    ("olddirfd", "Dirfd"),
    ("newdirfd", "Dirfd"),
    ("path", "Path"),
    ("oldpath", "Path"),
    ("newpath", "Path"),
    ("flags", "Flags"),
    ("mode", "Mode"),
    ("buf", "Buf"),
    ("count", "Count"),
    ("offset", "Offset"),
    ("addr", "Sockaddr"),
    ("argv", "Argv"),
    ("envp", "Argv"),
    ("req", "Timespec"),
];

/// Decoders of the strace format by argument name, where no `decode ARG=NAME`
/// annotation says otherwise (see table::Decode).
const DECODERS: &[(&str, &str)] = &[
    ("whence", "Whence"),
    ("amode", "Amode"),
    ("how", "Shut"),
    ("domain", "Family"),
    ("clockid", "Clock"),
];

/// The names a `decode ARG=NAME` annotation may use.
const DECODER_NAMES: &[(&str, &str)] = &[
    ("open", "Open"),
    ("msg", "Msg"),
    ("at", "At"),
    ("at_removedir", "AtRemovedir"),
    ("at_eaccess", "AtEaccess"),
    ("statx_flags", "StatxFlags"),
    ("statx_mask", "StatxMask"),
    ("socket_type", "SockType"),
    ("socket_flags", "SockFlags"),
    ("cloexec", "Cloexec"),
    ("rename", "Rename"),
    ("timer", "Timer"),
    ("close_range", "CloseRange"),
    ("fcntl", "Fcntl"),
    ("fcntl_arg", "FcntlArg"),
    ("epoll_ctl", "EpollCtl"),
    ("fadvise", "Fadvise"),
    ("sock_level", "SockLevel"),
    ("fallocate", "Fallocate"),
    ("flock", "Flock"),
    ("inotify", "Inotify"),
    ("ioctl", "Ioctl"),
    ("hex", "Hex"),
    ("dev", "Dev"),
    ("bytes", "Bytes"),
    ("protocol", "Protocol"),
    ("sockopt", "Sockopt"),
    ("sockopt_out", "SockoptOut"),
    ("pollfds", "PollFds"),
    ("fd_pair", "FdPair"),
    ("prot", "Prot"),
    ("mmap_flags", "MmapFlags"),
    ("clone_flags", "CloneFlags"),
    ("signal", "Signal"),
    ("sig_how", "SigHow"),
    ("stat", "Stat"),
    ("statx", "Statx"),
    ("iovec", "Iovec"),
    ("iovec_out", "IovecOut"),
    ("wstatus", "Wstatus"),
    ("wait_options", "WaitOptions"),
    ("hex_buf", "HexBuf"),
    ("getrandom", "Getrandom"),
];

/// The decoder of an argument: the row's annotation, else by name, else by
/// C type (a `socklen_t *`; an address the call fills).
fn decoder_of(decode: &[(String, &'static str)], d: &Decl) -> &'static str {
    if let Some((_, dec)) = decode.iter().find(|(arg, _)| *arg == d.name) {
        return dec;
    }
    if let Some((_, dec)) = DECODERS.iter().find(|(n, _)| *n == d.name) {
        return dec;
    }
    match (kind(d), d.ctype.as_str()) {
        (_, "socklen_t *") => "Socklen",
        ("Sockaddr", t) if !t.starts_with("const") => "SockaddrOut",
        _ => "Plain",
    }
}

/// `decode ARG=NAME` of a call with `args`.
fn parse_decode(pair: &str, args: &[Decl]) -> Result<(String, &'static str), String> {
    let (arg, name) = pair.split_once('=').ok_or("`decode` needs ARG=NAME")?;
    if !args.iter().any(|a| a.name == arg) {
        return Err(format!("`decode {pair}`: the call has no argument `{arg}`"));
    }
    let (_, variant) = DECODER_NAMES.iter().find(|(n, _)| *n == name).ok_or_else(|| {
        let known: Vec<&str> = DECODER_NAMES.iter().map(|(n, _)| *n).collect();
        format!("unknown decoder `{name}` (known: {})", known.join(", "))
    })?;
    Ok((arg.to_string(), *variant))
}

/// `access KIND`, as a table::Access variant.
fn access_kind(kind: &str) -> Result<&'static str, String> {
    ACCESS.iter().find(|(n, _)| *n == kind).map(|(_, v)| *v).ok_or_else(|| {
        let known: Vec<&str> = ACCESS.iter().map(|(n, _)| *n).collect();
        format!("unknown access `{kind}` (known: {})", known.join(", "))
    })
}

fn fail(line: usize, msg: &str) -> ! {
    panic!("src/table/calls.tab:{line}: {msg}");
}

fn parse_decl(text: &str) -> Result<Decl, String> {
    let text = text.trim();
    let needs = || format!("`{text}` needs a type and a name");
    let split = text.rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).ok_or_else(needs)?;
    let name = text[split + 1..].to_string();
    let ctype = text[..=split].trim().to_string();
    if name.is_empty() || ctype.is_empty() {
        return Err(needs());
    }
    if ctype.contains('*') {
        return Ok(Decl { ctype, name, class: Class::Pointer, rust: "*mut libc::c_void" });
    }
    let bare = ctype.trim_start_matches("const ").trim();
    let (_, rust, class) = TYPES
        .iter()
        .find(|(c, _, _)| *c == bare)
        .ok_or_else(|| format!("unknown C type `{ctype}` (add it to TYPES in build.rs)"))?;
    Ok(Decl { ctype, name, class: *class, rust })
}

/// A prototype `RET NAME(ARG, ...)` of both tables: what it returns, its
/// arguments (a variadic tail's included) and where `...` starts.
fn parse_prototype(prototype: &str, name: &str) -> Result<(Decl, Vec<Decl>, Option<usize>), String> {
    let (head, params) = prototype.split_once('(').ok_or("the prototype has no argument list")?;
    let params = params.strip_suffix(')').ok_or("the prototype must end with `)`")?;
    let ret = parse_decl(head)?;
    if ret.name != name {
        return Err(format!("the prototype declares `{}`, not `{name}`", ret.name));
    }
    let mut args = Vec::new();
    let mut fixed = None;
    for p in params.split(',').map(str::trim).filter(|p| !p.is_empty() && *p != "void") {
        // Everything from `...` on is the variadic tail.
        let p = match p.strip_prefix("...") {
            Some(rest) if fixed.replace(args.len()).is_some() => return Err(format!("only one `...` (at `{rest}`)")),
            Some(rest) => rest,
            None => p,
        };
        args.push(parse_decl(p)?);
    }
    Ok((ret, args, fixed))
}

fn parse_table(text: &str) -> Vec<Call> {
    let mut calls: Vec<Call> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let raw = raw.trim();
        if raw.is_empty() || raw.starts_with('#') {
            continue;
        }
        let mut rest = raw;
        let mut column = |what: &str| -> &str {
            let r = rest.trim_start();
            let end = r.find(char::is_whitespace).unwrap_or(r.len());
            if end == 0 {
                fail(line, &format!("missing {what} (columns: name errors groups prototype)"));
            }
            rest = &r[end..];
            &r[..end]
        };
        let name = column("name").to_string();
        let errors = match column("error convention") {
            "-1" => "MinusOne",
            "NULL" => "Null",
            "code" => "Code",
            "eai" => "Eai",
            "herr" => "Herr",
            "none" => "None",
            other => fail(line, &format!("unknown error convention `{other}` (-1, NULL, code, eai, herr or none)")),
        };
        let groups = column("groups").split(',').map(str::to_string).collect();
        let (prototype, notes) = match rest.split_once(';') {
            Some((p, n)) => (p.trim().to_string(), n.trim()),
            None => (rest.trim().to_string(), ""),
        };
        let (ret, args, fixed) = parse_prototype(&prototype, &name).unwrap_or_else(|e| fail(line, &e));
        let mut tail = match fixed {
            None => Tail::None,
            Some(f) if args.len() == f + 1 && args[f].name == "mode" => Tail::Mode,
            Some(f) if args[f..].iter().all(|a| a.ctype == "long") => Tail::Always,
            Some(_) => fail(line, "a variadic tail is `... mode_t mode` or `... long a1, ...`"),
        };
        let mut real = name.clone();
        let mut follow = None;
        let mut linux_only = false;
        let mut inode64 = false;
        let mut manual = false;
        let mut via = None;
        let mut exec = false;
        let mut decode = Vec::new();
        let mut access = "None";
        let (mut sys, mut sys32, mut like, mut forks, mut inner) = (None, None, None, false, false);
        let mut words = notes.split_whitespace();
        while let Some(w) = words.next() {
            match w {
                "list" => tail = Tail::List,
                "follow" => {
                    let how = words.next().unwrap_or_else(|| fail(line, "`follow` needs how: envp, environ, search or shell"));
                    let (variant, needs) = match how {
                        "envp" => ("Envp", Some("envp")),
                        "shell" => ("Shell", Some("command")),
                        "environ" => ("Environ", None),
                        "search" => ("Search", None),
                        _ => fail(line, &format!("unknown `follow {how}` (envp, environ, search, shell)")),
                    };
                    if let Some(arg) = needs {
                        if !args.iter().any(|a: &Decl| a.name == arg) {
                            fail(line, &format!("`follow {how}` needs an argument `{arg}`"));
                        }
                    }
                    follow = Some(variant);
                }
                "linux" => linux_only = true,
                "inode64" => inode64 = true,
                "manual" => manual = true,
                "via" => via = Some(words.next().unwrap_or_else(|| fail(line, "`via` needs a module of src/")).to_string()),
                "exec" => exec = true,
                "access" => {
                    let kind = words.next().unwrap_or_else(|| fail(line, "`access` needs a kind"));
                    access = access_kind(kind).unwrap_or_else(|e| fail(line, &e));
                }
                "decode" => {
                    let pair = words.next().unwrap_or_else(|| fail(line, "`decode` needs ARG=NAME"));
                    decode.push(parse_decode(pair, &args).unwrap_or_else(|e| fail(line, &e)));
                }
                "sys" => sys = Some(words.next().unwrap_or_else(|| fail(line, "`sys` needs NAME(ARG,...)")).to_string()),
                "sys32" => sys32 = Some(words.next().unwrap_or_else(|| fail(line, "`sys32` needs NAME(ARG,...)")).to_string()),
                "like" => like = Some(words.next().unwrap_or_else(|| fail(line, "`like` needs a name")).to_string()),
                "forks" => forks = true,
                "inner" => inner = true,
                "real" => real = words.next().unwrap_or_else(|| fail(line, "`real` needs a name")).to_string(),
                other => fail(line, &format!("unknown annotation `{other}`")),
            }
        }
        if tail == Tail::List && !(args.len() >= 2 && args[1].name == "argv") {
            fail(line, "a `list` call has (path, argv[, envp])");
        }
        if calls.iter().any(|c| c.name == name) {
            fail(line, &format!("`{name}` is described twice"));
        }
        let fixed = fixed.unwrap_or(args.len());
        calls.push(Call {
            name,
            errors,
            groups,
            prototype,
            ret: Decl { name: String::new(), ..ret },
            args,
            fixed,
            tail,
            real,
            follow,
            linux_only,
            inode64,
            manual,
            via,
            exec,
            decode,
            access,
            sys,
            sys32,
            like,
            forks,
            inner,
        });
    }
    calls
}

/// The calls of the table that exist on `target`, with their real symbols.
fn for_target(mut calls: Vec<Call>, target: &Target) -> Vec<Call> {
    if target.macos {
        calls.retain(|c| !c.linux_only);
        for c in calls.iter_mut().filter(|c| c.inode64 && target.x86_64) {
            c.real = format!("{}$INODE64", c.real);
        }
    }
    calls
}

fn kind(d: &Decl) -> &'static str {
    let by_name = KINDS.iter().find(|(n, _)| *n == d.name).map(|(_, k)| *k);
    match (by_name, d.class) {
        // Numbers named like pointers (and the reverse) keep their C nature.
        (Some("Path" | "Buf" | "Sockaddr" | "Argv" | "Timespec"), Class::Pointer) => by_name.unwrap(),
        (Some("Path" | "Buf" | "Sockaddr" | "Argv" | "Timespec"), _) => "Int",
        (Some(_), Class::Pointer) | (None, Class::Pointer) => {
            if d.ctype == "const char *" {
                "Str"
            } else {
                "Pointer"
            }
        }
        (Some(k), _) => k,
        (None, _) => "Int",
    }
}

/// A buffer argument is filled by the call unless it is const.
fn buf_direction(args: &[Decl]) -> &'static str {
    match args.iter().find(|a| kind(a) == "Buf") {
        Some(b) if b.ctype.starts_with("const") => "In",
        Some(_) => "Out",
        None => "NoBuf",
    }
}

/// The argument that is a `socklen_t *` both ways, as CallInfo.socklen_arg.
fn socklen_arg(args: &[Decl]) -> String {
    args.iter().position(|a| a.ctype == "socklen_t *").map_or("None".to_string(), |i| format!("Some({i})"))
}

fn to_word(expr: &str, d: &Decl) -> String {
    match d.class {
        Class::Signed => format!("{expr} as i64 as u64"),
        Class::Unsigned => format!("{expr} as u64"),
        Class::Pointer => format!("{expr} as usize as u64"),
    }
}

fn from_word(expr: &str, d: &Decl) -> String {
    match d.class {
        Class::Pointer => format!("{expr} as usize as *mut libc::c_void"),
        _ => format!("{expr} as {}", d.rust),
    }
}

/// How a variadic argument is passed (C default argument promotions).
fn promoted(d: &Decl) -> &'static str {
    match d.ctype.as_str() {
        "mode_t" => "libc::c_uint",
        _ => d.rust,
    }
}

fn result_from_i64(expr: &str, d: &Decl) -> String {
    if d.ctype == "void" {
        return format!("{{ {expr}; }}");
    }
    match d.class {
        Class::Pointer => format!("{expr} as usize as *mut libc::c_void"),
        _ => format!("{expr} as {}", d.rust),
    }
}

fn result_to_i64(expr: &str, d: &Decl) -> String {
    if d.ctype == "void" {
        return format!("{{ {expr}; 0 }}");
    }
    match d.class {
        Class::Pointer => format!("{expr} as usize as i64"),
        _ => format!("{expr} as i64"),
    }
}

/// The prototype as C declares it (list-form calls take `arg, ...`).
fn c_prototype(c: &Call) -> String {
    if c.tail != Tail::List {
        return c.prototype.clone();
    }
    let env = if c.args.len() > 2 { ", char *const envp[] */" } else { " */" };
    format!("{} {}(const char *path, const char *arg, ... /* (char *) NULL{env})", c.ret.ctype, c.name)
}

/// `$OUT_DIR/calls.rs`, included by src/table/mod.rs: the table's metadata.
fn generate_table(calls: &[Call], sys: &[syscalls::Syscall], target: &Target) -> String {
    let mut s = String::new();
    let mut pool = Pool::default();
    let i386 = !target.macos && !target.x86_64;
    // After the functions, the raw rows: every system call of this ABI, as
    // --all-syscalls catches it when no function of the table made it
    // (SYS_NAME; none on macOS).
    let raws: Vec<(usize, &syscalls::Syscall)> = match target.macos {
        true => Vec::new(),
        false => sys.iter().enumerate().filter(|(_, sc)| if i386 { sc.nr32.is_some() } else { sc.nr64.is_some() }).collect(),
    };
    let n = calls.len() + raws.len();
    writeln!(s, "// @generated by build.rs from src/table/calls.tab and syscalls.tab: do not edit.").unwrap();
    writeln!(s, "pub const CALL_COUNT: usize = {n};").unwrap();
    // What tells this table from another build's (src/frame's manifest): a
    // hash (FNV-1a) of the rows' names, each ended by a 0.
    let names = calls.iter().map(|c| c.name.clone()).chain(raws.iter().map(|(_, sc)| format!("SYS_{}", sc.name)));
    let print = names.flat_map(|n| n.into_bytes().into_iter().chain([0u8])).fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3));
    writeln!(s, "pub const TABLE_PRINT: u64 = {print:#x};").unwrap();
    writeln!(s, "/// The functions' rows come first: CALLS[..FUNCTION_COUNT].").unwrap();
    writeln!(s, "pub const FUNCTION_COUNT: usize = {};", calls.len()).unwrap();
    writeln!(s, "pub static CALLS: [CallInfo; {n}] = [").unwrap();
    for c in calls {
        // the system call it makes on this target, and the one it is named by
        let family = syscalls::view(c, c.sys.as_deref(), sys);
        // (macOS has the names only: its functions make its own calls, and
        // its traces show the functions)
        let made = match (target.macos, i386 && c.sys32.is_some()) {
            (true, _) => None,
            (false, true) => syscalls::view(c, c.sys32.as_deref(), sys),
            (false, false) => syscalls::view(c, c.sys.as_deref(), sys),
        };
        let (made_id, view, result) = match &made {
            Some((i, v, r)) => (format!("Some(sysid::{})", sys[*i].name), v.clone(), *r),
            None => ("None".to_string(), Vec::new(), "Same"),
        };
        let stream = match view.iter().find_map(|v| v.strip_prefix("Src::Fileno(")) {
            Some(i) => format!("Some({}", i),
            None => "None".to_string(),
        };
        let view = pool.span(List::Srcs, view);
        let groups = c.groups.iter().map(|g| pool.text(g)).collect();
        let groups = pool.span(List::Texts, groups);
        let family_id = family.map_or("None".to_string(), |(i, _, _)| format!("Some(sysid::{})", sys[i].name));
        writeln!(
            s,
            "    CallInfo {{ name: {}, prototype: {}, errors: Errors::{}, groups: {groups}, returns: {}, \
             returns_pointer: {}, args: {}, variadic: {}, buffer: BufDir::{}, follow: Follow::{}, exec: {}, ends: {}, real: {}, \
             access: Access::{}, sys: {made_id}, family: {family_id}, view: {view}, sys_result: SysResult::{result}, like: {}, \
             stream_arg: {stream}, socklen_arg: {socklen}, forks: {}, by_number: {}, raw: false, inner: {inner} }},",
            pool.text(&c.name),
            pool.text(&c_prototype(c)),
            c.errors,
            pool.text(&c.ret.ctype),
            c.ret.class == Class::Pointer,
            syscalls::arg_list(c, &mut pool),
            c.tail != Tail::None,
            buf_direction(&c.args),
            c.follow.unwrap_or("No"),
            c.exec,
            c.via.as_deref() == Some("exit"),
            pool.text(&c.real),
            c.access,
            pool.text(c.like.as_deref().unwrap_or("")),
            c.forks,
            c.sys.as_deref() == Some("number"),
            inner = c.inner,
            socklen = socklen_arg(&c.args),
        )
        .unwrap();
    }
    for (i, sc) in &raws {
        // what the function of the same name knows of it (execve's following)
        let twin = calls.iter().find(|c| c.name == sc.name);
        let buffer = buf_direction(&sc.args);
        let socklen = socklen_arg(&sc.args);
        let ends = matches!(sc.name.as_str(), "exit" | "exit_group");
        let exec = matches!(sc.name.as_str(), "execve" | "execveat");
        writeln!(
            s,
            "    CallInfo {{ name: {name}, prototype: {proto}, errors: Errors::MinusOne, groups: {group}, returns: {ret}, \
             returns_pointer: {ptr}, args: {args}, variadic: false, buffer: BufDir::{buffer}, follow: Follow::{follow}, exec: {exec}, ends: {ends}, real: {none}, \
             access: Access::{access}, sys: Some({i}), family: Some({i}), view: Span::at(0, 0), sys_result: SysResult::Same, like: {none}, \
             stream_arg: None, socklen_arg: {socklen}, forks: {forks}, by_number: false, raw: true, inner: false }},",
            name = pool.text(&format!("SYS_{}", sc.name)),
            proto = pool.text(&sc.prototype),
            group = {
                let g = vec![pool.text(syscalls::group_of(sc))];
                pool.span(List::Texts, g)
            },
            ret = pool.text(&sc.ret.ctype),
            none = pool.text(""),
            ptr = sc.ret.class == Class::Pointer,
            args = syscalls::sys_arg_list(sc, &mut pool),
            follow = twin.and_then(|c| c.follow).unwrap_or("No"),
            access = sc.access,
            forks = matches!(sc.name.as_str(), "fork" | "vfork" | "clone"),
        )
        .unwrap();
    }
    writeln!(s, "];\n").unwrap();
    // the raw row of each system call number (u16::MAX: none)
    let mut by_nr = vec![u16::MAX; 512];
    for (k, (_, sc)) in raws.iter().enumerate() {
        let nr = if i386 { sc.nr32 } else { sc.nr64 }.unwrap() as usize;
        by_nr[nr] = (calls.len() + k) as u16;
    }
    writeln!(s, "/// The raw row (SYS_NAME) of each system call number; u16::MAX for none.").unwrap();
    writeln!(s, "pub static RAW_BY_NR: [u16; 512] = {by_nr:?};\n").unwrap();

    writeln!(s, "/// Index of each call in CALLS.\n#[allow(non_upper_case_globals, dead_code)]\npub mod id {{").unwrap();
    for (i, c) in calls.iter().enumerate() {
        writeln!(s, "    pub const {}: usize = {i};", c.name).unwrap();
    }
    writeln!(s, "}}\n").unwrap();
    s.push_str(&syscalls::generate(sys, &mut pool));
    s.push_str(&pool.emit());
    s
}

/// `$OUT_DIR/reals.rs`, included by src/platform/real.rs: each call's real function,
/// looked up once with dlsym(RTLD_NEXT).
fn generate_reals(calls: &[Call]) -> String {
    let mut s = String::from("// @generated by build.rs from src/table/calls.tab: do not edit.\n");
    for c in calls {
        writeln!(s, "#[allow(non_upper_case_globals)]\npub static {}: Real<{}> = Real::new(c\"{}\");", c.name, real_fn_type(c), c.real).unwrap();
    }
    s
}

/// `$OUT_DIR/entries.rs`, included by src/entry/mod.rs: the interposed entry
/// points (the preload library only).
fn generate_entries(calls: &[Call], target: &Target) -> String {
    let mut s = String::from("// @generated by build.rs from src/table/calls.tab: do not edit.\n");
    for c in calls.iter().filter(|c| !c.manual) {
        let params: Vec<String> = c.args.iter().enumerate().map(|(i, a)| format!("a{i}: {}", a.rust)).collect();
        let words: Vec<String> = c.args.iter().enumerate().map(|(i, a)| to_word(&format!("a{i}"), a)).collect();
        let variadic_arg = |i: usize| c.tail == Tail::Mode && i >= c.fixed || c.tail == Tail::Always && i >= c.fixed;
        let direct: Vec<String> = c
            .args
            .iter()
            .enumerate()
            .map(|(i, a)| if variadic_arg(i) { format!("a{i} as {}", promoted(a)) } else { format!("a{i}") })
            .collect();
        let from_words: Vec<String> = c
            .args
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let v = from_word(&format!("w[{i}]"), a);
                if variadic_arg(i) {
                    format!("({v}) as {}", promoted(a))
                } else {
                    v
                }
            })
            .collect();
        // Variadic functions are entered through a C shim (preload.c, calls.h),
        // which reads the tail and calls hijack_v_NAME.
        let symbol = if c.tail != Tail::None { format!("hijack_v_{}", c.name) } else { target.entry_symbol(&c.name) };
        let id = format!("id::{}", c.name);
        let skip = if c.follow.is_some() {
            format!("!frame::hooked({id}) && !follow::active()")
        } else if c.sys.as_deref() == Some("number") {
            // (a hook on the system call it numbers takes it: src/entry/numbered.rs)
            format!("!frame::hooked({id}) || numbered::hooked(a0 as i64)")
        } else {
            format!("!frame::hooked({id})")
        };
        // The real function called with `args`, through MODULE::NAME
        // for the calls marked `via MODULE`.
        let call_real = |args: &[String]| match &c.via {
            Some(module) => format!("{module}::{}(real, {})", c.name, args.join(", ")),
            None => format!("real({})", args.join(", ")),
        };
        // One line per call; the template is `entry!` in src/entry/mod.rs.
        let real_call = result_to_i64(&call_real(&from_words), &c.ret);
        writeln!(
            s,
            "entry!({name} = \"{symbol}\", real: {real_ty}, ({params}) -> {ret},\n    skip: {skip},\n    direct: {direct},\n    \
             words: [{words}],\n    proceed: |w| {real_call},\n    result: |r| {result});",
            name = c.name,
            real_ty = real_fn_type(c),
            params = params.join(", "),
            ret = c.ret.rust,
            direct = call_real(&direct),
            words = words.join(", "),
            result = if c.ret.ctype == "void" { "{ let _ = r; }".to_string() } else { result_from_i64("r", &c.ret) },
        )
        .unwrap();
    }
    s
}

/// The Rust type of a call's real function (variadic where C's is).
fn real_fn_type(c: &Call) -> String {
    let mut params: Vec<&str> = Vec::new();
    match c.tail {
        Tail::Mode | Tail::Always => {
            params.extend(c.args[..c.fixed].iter().map(|a| a.rust));
            params.push("...");
        }
        Tail::None | Tail::List => params.extend(c.args.iter().map(|a| a.rust)),
    }
    format!("unsafe extern \"C\" fn({}) -> {}", params.join(", "), c.ret.rust)
}

fn generate_c_header(calls: &[Call], target: &Target) -> String {
    let mut s = String::from("/* @generated by build.rs from src/table/calls.tab: do not edit. */\n");
    if target.macos {
        for c in calls {
            let replaced = if c.real.ends_with("$INODE64") { format!("{}$INODE64", c.name) } else { c.name.clone() };
            writeln!(s, "HIJACK_INTERPOSE({}, \"_{replaced}\")", c.name).unwrap();
        }
    }
    for c in calls.iter().filter(|c| c.tail != Tail::None) {
        let decl = |a: &Decl| format!("{} {}", a.ctype, a.name);
        let all: Vec<String> = c.args.iter().map(decl).collect();
        let fixed: Vec<String> = c.args[..c.fixed].iter().map(decl).collect();
        let names: Vec<&str> = c.args[..c.fixed].iter().map(|a| a.name.as_str()).collect();
        writeln!(s, "{} hijack_v_{}({});", c.ret.ctype, c.name, all.join(", ")).unwrap();
        match c.tail {
            Tail::Mode => writeln!(
                s,
                "HIJACK_VARIADIC_MODE({}, {}, ({}, ...), ({}), {})",
                c.ret.ctype,
                c.name,
                fixed.join(", "),
                names.join(", "),
                names.last().unwrap()
            ),
            Tail::Always => {
                let n = c.args.len() - c.fixed;
                let read: Vec<String> = (0..n).map(|i| format!("a[{i}]")).collect();
                writeln!(
                    s,
                    "HIJACK_VARIADIC_LONGS({}, {}, ({}, ...), ({}), {}, {n}, ({}))",
                    c.ret.ctype,
                    c.name,
                    fixed.join(", "),
                    names.join(", "),
                    names.last().unwrap(),
                    read.join(", ")
                )
            }
            Tail::List if c.args.len() > 2 => writeln!(s, "HIJACK_VARIADIC_LIST_ENV({}, {})", c.ret.ctype, c.name),
            Tail::List => writeln!(s, "HIJACK_VARIADIC_LIST({}, {})", c.ret.ctype, c.name),
            Tail::None => unreachable!(),
        }
        .unwrap();
    }
    s
}

/// The linker's view of what the preload library exports: a version script
/// (Linux) or an exported-symbols list (macOS), and the table's names.
fn generate_exports(calls: &[Call], target: &Target) -> (String, String) {
    let names: Vec<&str> = calls.iter().map(|c| c.name.as_str()).collect();
    if target.macos {
        let list: Vec<String> = names.iter().map(|n| format!("_{}", target.entry_symbol(n))).collect();
        return (list.join("\n") + "\n", names.join("\n") + "\n");
    }
    let map = format!(
        "/* @generated by build.rs from src/table/calls.tab: the preload library exports the interposed functions only. */\n\
         {{\n  global:\n    {};\n  local:\n    *;\n}};\n",
        names.join(";\n    ")
    );
    (map, names.join("\n") + "\n")
}

fn write_if_changed(path: &Path, content: &str) {
    if fs::read_to_string(path).ok().as_deref() != Some(content) {
        fs::write(path, content).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    }
}

fn bindings(out: &Path) {
    println!("cargo:rerun-if-env-changed=HIJACK_MRUBY_CFLAGS_FILE");
    println!("cargo:rerun-if-env-changed=HIJACK_LINK_LIBMRUBY");
    println!("cargo:rerun-if-changed=src/bindings.h");
    let flags_file = env::var("HIJACK_MRUBY_CFLAGS_FILE").unwrap_or_else(|_| {
        panic!(
            "HIJACK_MRUBY_CFLAGS_FILE is not set: the mruby bindings need the defines of the libmruby being \
             built. Build with `rake compile` (mrbgem.rake runs cargo), or point it at \
             build/host/mrbgems/mruby-hijack/mruby-cflags.txt after a first `rake compile`."
        )
    });
    println!("cargo:rerun-if-changed={flags_file}");
    let text = fs::read_to_string(&flags_file).unwrap_or_else(|e| panic!("cannot read {flags_file}: {e}"));
    let mut clang_args: Vec<String> = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if let Some(lib) = line.strip_prefix("#libmruby ") {
            // `cargo test` binaries link libmruby themselves (HIJACK_LINK_LIBMRUBY=1);
            // the staticlib never bundles it: mrbgem.rake links it beside.
            if env::var_os("HIJACK_LINK_LIBMRUBY").is_some() {
                let lib = Path::new(lib);
                println!("cargo:rustc-link-search=native={}", lib.parent().unwrap().display());
                println!("cargo:rustc-link-lib=static=mruby");
                println!("cargo:rustc-link-lib=m");
            }
        } else {
            clang_args.push(line.to_string());
        }
    }
    let generated = bindgen::Builder::default()
        .header("src/bindings.h")
        .clang_args(&clang_args)
        .allowlist_function("mrb_.*|mrbc_.*|hijack_.*")
        .allowlist_type("mrb_.*|mrbc_.*|RClass|RProc|RData|RObject|RString|mrb_parser_state")
        .allowlist_var("MRB_.*|MRUBY_.*")
        .blocklist_function("mrb_get_args_a") // variadic-pointer helper we never call
        .constified_enum_module("mrb_vtype")
        .layout_tests(false)
        .generate_comments(false)
        .derive_default(true)
        .generate()
        .expect("bindgen could not read the mruby headers");
    generated.write_to_file(out.join("mruby.rs")).expect("cannot write mruby.rs");
}

fn main() {
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    println!("cargo:rerun-if-changed=src/table/calls.tab");
    println!("cargo:rerun-if-changed=src/table/syscalls.tab");
    println!("cargo:rerun-if-changed=codegen/syscalls.rs");
    println!("cargo:rerun-if-changed=codegen/pool.rs");
    println!("cargo:rerun-if-changed=test/programs/exercise.rs");
    println!("cargo:rerun-if-env-changed=HIJACK_GEN_DIR");
    let table = fs::read_to_string("src/table/calls.tab").expect("cannot read src/table/calls.tab");
    let target = Target::from_env();
    let calls = for_target(parse_table(&table), &target);
    let sys_text = fs::read_to_string("src/table/syscalls.tab").expect("cannot read src/table/syscalls.tab");
    let sys = syscalls::parse(&sys_text);
    write_if_changed(&out.join("calls.rs"), &generate_table(&calls, &sys, &target));
    write_if_changed(&out.join("reals.rs"), &generate_reals(&calls));
    write_if_changed(&out.join("entries.rs"), &generate_entries(&calls, &target));

    let gen_dir = env::var_os("HIJACK_GEN_DIR").map(PathBuf::from).unwrap_or_else(|| out.clone());
    fs::create_dir_all(&gen_dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", gen_dir.display()));
    write_if_changed(&gen_dir.join("calls.h"), &generate_c_header(&calls, &target));
    let (map, names) = generate_exports(&calls, &target);
    write_if_changed(&gen_dir.join("exports.map"), &map);
    write_if_changed(&gen_dir.join("exports.txt"), &names);
    write_if_changed(&gen_dir.join("exercise.c"), &exercise::generate(&calls, &target));

    bindings(&out);
}
