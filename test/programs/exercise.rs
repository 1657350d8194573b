//! The third generator of build.rs: `exercise.c`, a C program that makes
//! every call of the table for the target (in `HIJACK_GEN_DIR`, built and run
//! by bintest/exercise_test.rb; compiled for macOS by script/check-macho).
//!
//! Each call is made once, through its exported symbol and with the table's
//! own prototype, with arguments chosen from their kinds: numbers that no
//! program holds (descriptors 900 and up, 1000 and up), paths under
//! /nonexistent-hijack-exercise, static buffers. `exercise --expect` prints,
//! per call, the arguments as a hook must see them (`Hijack::Call#describe_args`
//! plus the decoded address, timespec and outgoing data); `exercise [NAME...]`
//! makes the calls (all of them but the ends of a process, or those named),
//! then prints per call the result and errno it got against what a forced
//! EIO must give under the call's error convention (`--fence` puts an
//! unlink of "/nonexistent-hijack-exercise/--call NAME" before each, and of
//! ".../--end" after the last, to find them in a trace). Calls that cannot fail
//! (`none`) are made last, with arguments that make them harmless, and the
//! ends of a process (`via exit`) only when named.

use super::{decoder_of, kind, Call, Tail, Target};
use std::fmt::Write as _;

const PATH_ROOT: &str = "/nonexistent-hijack-exercise";

/// `s` in double quotes, with `"`, backslash and newline escaped: a C string
/// literal, and Ruby's `inspect` of it (the same for the ASCII used here).
fn quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

const BUF_TEXT: &str = "hijack-exercise\n";
const ARGV: [&str; 2] = ["hijack-exercise", "argv"];
const ENVP: [&str; 1] = ["HIJACK_EXERCISE=1"];

fn ruby_list(items: &[&str]) -> String {
    format!("[{}]", items.iter().map(|s| quoted(s)).collect::<Vec<_>>().join(", "))
}

/// One argument: the C expression passed, and how a hook shows it (None:
/// `describe_args` leaves it out).
struct Arg {
    expr: String,
    shown: Option<String>,
}

fn argument(c: &Call, i: usize, cannot_fail: bool) -> Arg {
    let a = &c.args[i];
    let k = kind(a);
    let number = |v: i64| Arg { expr: format!("({}){v}", a.ctype), shown: Some(v.to_string()) };
    match k {
        "Fd" => number(900 + i as i64),
        "Dirfd" => number(-100),
        "Flags" if c.tail == Tail::Mode => number(0o101),
        "Flags" => number(0),
        "Mode" => number(0o640),
        "Count" => number(BUF_TEXT.len() as i64),
        "Offset" => number(4096),
        "Path" => {
            let p = format!("{PATH_ROOT}/{}.{}", c.name, a.name);
            Arg { expr: quoted(&p), shown: Some(quoted(&p)) }
        }
        "Str" => {
            let s = format!("hijack-exercise-{}-{}", c.name, a.name);
            Arg { expr: quoted(&s), shown: Some(quoted(&s)) }
        }
        "Argv" if a.name == "envp" => Arg { expr: "ex_envp".into(), shown: Some(ruby_list(&ENVP)) },
        "Argv" => Arg { expr: "ex_argv".into(), shown: Some(ruby_list(&ARGV)) },
        "Buf" => Arg { expr: "(void *)ex_buf".into(), shown: None },
        "Sockaddr" => Arg { expr: "(void *)&ex_sin".into(), shown: None },
        "Timespec" => Arg { expr: "&ex_ts".into(), shown: None },
        // A call that runs for real gets no memory of ours (free(NULL)).
        "Pointer" if cannot_fail => Arg { expr: "NULL".into(), shown: None },
        "Pointer" if a.ctype.starts_with("socklen_t") => Arg { expr: "&ex_socklen".into(), shown: None },
        // poll's descriptors: none (-1 is skipped), so that it only times out
        "Pointer" if a.ctype == "struct pollfd *" => Arg { expr: "(void *)ex_pollfd".into(), shown: None },
        "Pointer" => Arg { expr: "(void *)ex_mem".into(), shown: None },
        // Numbers: ones no call accepts (resource 1000, whence 1001...), so
        // that a call made for real (under strace) changes nothing; 0 for the
        // calls that run for real anyway (sleep(0), _exit(0), closefrom(0)).
        _ if cannot_fail => number(0),
        _ if a.name == "addrlen" => Arg { expr: "(socklen_t)sizeof ex_sin".into(), shown: Some("16".into()) },
        // waits that end at once, on at most two descriptors
        _ if a.name == "timeout" => number(0),
        _ if a.name == "nfds" => number(2),
        _ => number(1000 + i as i64),
    }
}

/// The C parameter list of the function as the program calls it.
fn c_params(c: &Call) -> String {
    if c.tail == Tail::List {
        return "const char *, const char *, ...".into();
    }
    let mut p: Vec<String> = c.args[..c.fixed].iter().map(|a| a.ctype.clone()).collect();
    if c.fixed < c.args.len() {
        p.push("...".into());
    }
    if p.is_empty() {
        "void".into()
    } else {
        p.join(", ")
    }
}

pub fn generate(calls: &[Call], target: &Target) -> String {
    let mut s = String::new();
    s.push_str(
        r#"/* Generated by build.rs (test/programs/exercise.rs) from src/table/calls.tab: do not edit. */
#define _GNU_SOURCE
#define _LARGEFILE64_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <time.h>
#include <spawn.h>
#include <netdb.h>
#include <sys/types.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/time.h>
#include <sys/resource.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <sys/utsname.h>
#ifdef __linux__
#include <sys/statfs.h>
#else
#include <sys/mount.h>
#endif

#define EX_STR(x) #x
#define EX_XSTR(x) EX_STR(x)
/* The exported symbol itself, whatever the headers declare under its name. */
#define EX_SYM(name) EX_XSTR(__USER_LABEL_PREFIX__) name

static char ex_buf[64] = "hijack-exercise\n";
/* Structures behind pointers: room for as many as the numbers ask (1000+ iovecs). */
static char ex_mem[65536] __attribute__((aligned(64)));
static struct sockaddr_in ex_sin;
static struct { int fd; short events, revents; } ex_pollfd[2] = {{-1, 0, 0}, {-1, 0, 0}};
static socklen_t ex_socklen = sizeof ex_sin;
static struct timespec ex_ts = {0, 1500000};
static char *const ex_argv[] = {"hijack-exercise", "argv", NULL};
static char *const ex_envp[] = {"HIJACK_EXERCISE=1", NULL};

enum ex_convention { EX_MINUS_ONE, EX_NULL, EX_CODE, EX_EAI, EX_HERR, EX_NONE };
static const char *const ex_names[] = {"-1", "NULL", "code", "eai", "herr", "none"};

struct ex_call {
    const char *name;
    const char *expect;
    enum ex_convention convention;
    int ends;
    int harmless;
    const char *pointers;
    void (*run)(long *ret, int *err);
};

"#,
    );
    let mut rows = Vec::new();
    for c in calls.iter() {
        let cannot_fail = c.errors == "None";
        let args: Vec<Arg> = (0..c.args.len()).map(|i| argument(c, i, cannot_fail)).collect();
        let mut exprs: Vec<String> = args.iter().map(|a| a.expr.clone()).collect();
        if c.tail == Tail::List {
            // execl(path, arg0, arg1, (char *)NULL[, envp])
            let mut list = vec![exprs[0].clone()];
            list.extend(ARGV.iter().map(|a| quoted(a)));
            list.push("(char *)NULL".into());
            list.extend(exprs.drain(2..));
            exprs = list;
        }
        let symbol = if target.macos && c.inode64 && target.x86_64 { format!("{}$INODE64", c.name) } else { c.name.clone() };
        let ret_c = &c.ret.ctype;
        let call = format!("f({})", exprs.join(", "));
        let _ = writeln!(s, "extern void ex_sym_{n}(void) __asm__(EX_SYM({sym}));", n = c.name, sym = quoted(&symbol));
        let _ = writeln!(s, "typedef {ret_c} (*ex_fn_{n})({p});", n = c.name, p = c_params(c));
        let _ = writeln!(s, "static void ex_{}(long *ret, int *err) {{", c.name);
        let _ = writeln!(s, "    ex_fn_{n} f = (ex_fn_{n})(uintptr_t)ex_sym_{n};", n = c.name);
        let _ = writeln!(s, "    errno = 0;");
        if ret_c == "void" {
            let _ = writeln!(s, "    {call};\n    *ret = 0;");
        } else if ret_c.contains('*') {
            let _ = writeln!(s, "    *ret = (long)(intptr_t){call};");
        } else {
            let _ = writeln!(s, "    *ret = (long){call};");
        }
        let _ = writeln!(s, "    *err = errno;\n}}");

        // What a hook sees: describe_args, then the decoded address, the
        // timespec and the bytes a write carries.
        let mut shown: Vec<String> = c
            .args
            .iter()
            .zip(&args)
            .filter_map(|(d, a)| a.shown.as_ref().map(|v| format!("{}={v}", d.name)))
            .collect();
        for extra in ["Sockaddr", "Timespec", "Buf"] {
            for d in c.args.iter().filter(|d| kind(d) == extra) {
                match extra {
                    "Sockaddr" => shown.push(format!("{}=[:inet, \"127.0.0.1\", 9]", d.name)),
                    "Timespec" => shown.push(format!("{}=0.0015", d.name)),
                    _ if d.ctype.starts_with("const") => shown.push(format!("data={}", quoted(BUF_TEXT))),
                    _ => {}
                }
            }
        }
        let convention = match c.errors {
            "MinusOne" => "EX_MINUS_ONE",
            "Null" => "EX_NULL",
            "Code" => "EX_CODE",
            "Eai" => "EX_EAI",
            "Herr" => "EX_HERR",
            _ => "EX_NONE",
        };
        let ends = c.via.as_deref() == Some("exit");
        // Made for real (bare, or not failed), the call changes nothing with
        // these arguments, except a process call that starts or changes one,
        // and a call given an object the C library made (a stream, a heap
        // block), for which the exercise has only a made-up pointer.
        let library_object = |d: &super::Decl| d.ctype == "FILE *" || d.ctype == "DIR *" || (d.ctype == "void *" && d.name == "ptr");
        // (nor a call that maps, unmaps or protects the memory it is given:
        // the exercise's own buffers)
        let maps = c.groups.iter().any(|g| g == "memory") && c.args.iter().any(|a| a.name == "start");
        let harmless = !cannot_fail
            && !maps
            && !c.args.iter().any(library_object)
            && (c.exec || !c.groups.iter().any(|g| g == "process"));
        // Where the strace format shows a structure's address (iovec, stat...).
        let pointers: Vec<String> = (c.args.iter().enumerate())
            .filter(|(_, d)| kind(d) == "Pointer" && decoder_of(&c.decode, d) == "Plain")
            .map(|(i, _)| i.to_string())
            .collect();
        rows.push(format!(
            "    {{{}, {}, {convention}, {}, {}, {}, ex_{}}},",
            quoted(&c.name),
            quoted(&shown.join(", ")),
            ends as u8,
            harmless as u8,
            quoted(&pointers.join(",")),
            c.name
        ));
    }
    let _ = writeln!(s, "\nstatic const struct ex_call ex_calls[] = {{\n{}\n}};", rows.join("\n"));
    s.push_str(MAIN);
    s
}

const MAIN: &str = r#"
#define EX_COUNT (sizeof ex_calls / sizeof ex_calls[0])

static int ex_selected(const struct ex_call *c, int argc, char **argv) {
    if (argc < 2)
        return !c->ends;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], c->name) == 0)
            return 1;
    return 0;
}

/* The result a forced EIO gives under each convention, or NULL when it did. */
static const char *ex_wrong(const struct ex_call *c, long ret, int err) {
    switch (c->convention) {
    case EX_MINUS_ONE: return ret == -1 && err == EIO ? NULL : "-1 and errno EIO";
    case EX_NULL: return ret == 0 && err == EIO ? NULL : "NULL and errno EIO";
    case EX_CODE: return ret == EIO && err == 0 ? NULL : "EIO returned, errno untouched";
    case EX_EAI: return ret == EAI_SYSTEM && err == EIO ? NULL : "EAI_SYSTEM and errno EIO";
    case EX_HERR: return ret == 0 && err == EIO && h_errno == NETDB_INTERNAL ? NULL : "NULL, h_errno NETDB_INTERNAL and errno EIO";
    default: return NULL;
    }
}

int main(int argc, char **argv) {
    ex_sin.sin_family = AF_INET;
    ex_sin.sin_port = htons(9);
    ex_sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (argc == 2 && strcmp(argv[1], "--expect") == 0) {
        for (size_t i = 0; i < EX_COUNT; i++)
            printf("%s\t%s\t%s\t%s\t%s\t%s\n", ex_calls[i].name, ex_names[ex_calls[i].convention],
                   ex_calls[i].ends ? "ends" : "returns", ex_calls[i].harmless ? "harmless" : "forced-only",
                   ex_calls[i].pointers, ex_calls[i].expect);
        return 0;
    }
    /* --fence: each call comes after unlink("/nonexistent-hijack-exercise/--call NAME"),
       the last before unlink(".../--end"): marks in a trace */
    int fence = argc > 1 && strcmp(argv[1], "--fence") == 0;
    if (fence) {
        argv++;
        argc--;
    }
    for (int i = 1; i < argc; i++) {
        size_t j = 0;
        while (j < EX_COUNT && strcmp(argv[i], ex_calls[j].name) != 0)
            j++;
        if (j == EX_COUNT) {
            fprintf(stderr, "exercise: %s is not a call of the table\n", argv[i]);
            return 2;
        }
    }
    static long ret[EX_COUNT];
    static int err[EX_COUNT];
    /* First every call that can fail, then the results, then the rest. */
    for (size_t i = 0; i < EX_COUNT; i++)
        if (ex_calls[i].convention != EX_NONE && ex_selected(&ex_calls[i], argc, argv)) {
            if (fence) {
                char mark[256];
                snprintf(mark, sizeof mark, "/nonexistent-hijack-exercise/--call %s", ex_calls[i].name);
                unlink(mark);
            }
            ex_calls[i].run(&ret[i], &err[i]);
        }
    if (fence)
        unlink("/nonexistent-hijack-exercise/--end");
    int wrong = 0;
    for (size_t i = 0; i < EX_COUNT; i++) {
        const struct ex_call *c = &ex_calls[i];
        if (c->convention == EX_NONE || !ex_selected(c, argc, argv))
            continue;
        const char *want = ex_wrong(c, ret[i], err[i]);
        if (want) {
            printf("%s: wrong: returned %ld, errno %d (%s); a forced EIO gives %s\n", c->name, ret[i], err[i],
                   strerror(err[i]), want);
            wrong++;
        } else {
            printf("%s: failed as forced\n", c->name);
        }
    }
    for (size_t i = 0; i < EX_COUNT; i++)
        if (ex_calls[i].convention == EX_NONE && !ex_calls[i].ends && ex_selected(&ex_calls[i], argc, argv))
            printf("%s: made\n", ex_calls[i].name);
    fflush(stdout);
    for (size_t i = 0; i < EX_COUNT; i++)
        if (ex_calls[i].convention == EX_NONE && !ex_calls[i].ends && ex_selected(&ex_calls[i], argc, argv))
            ex_calls[i].run(&ret[i], &err[i]);
    for (size_t i = 0; i < EX_COUNT; i++)
        if (ex_calls[i].ends && ex_selected(&ex_calls[i], argc, argv))
            ex_calls[i].run(&ret[i], &err[i]);
    return wrong ? 1 : 0;
}
"#;
