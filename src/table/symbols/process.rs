//! Processes' constants: clone's flags, the signals.

use super::{bits, named, Names};

/// clone's flags above the exit signal (the low byte), in value order as
/// strace lists them.
pub const CLONE: Names = &[
    ("CLONE_VM", 0x100),
    ("CLONE_FS", 0x200),
    ("CLONE_FILES", 0x400),
    ("CLONE_SIGHAND", 0x800),
    ("CLONE_PIDFD", 0x1000),
    ("CLONE_PTRACE", 0x2000),
    ("CLONE_VFORK", 0x4000),
    ("CLONE_PARENT", 0x8000),
    ("CLONE_THREAD", 0x1_0000),
    ("CLONE_NEWNS", 0x2_0000),
    ("CLONE_SYSVSEM", 0x4_0000),
    ("CLONE_SETTLS", 0x8_0000),
    ("CLONE_PARENT_SETTID", 0x10_0000),
    ("CLONE_CHILD_CLEARTID", 0x20_0000),
    ("CLONE_DETACHED", 0x40_0000),
    ("CLONE_UNTRACED", 0x80_0000),
    ("CLONE_CHILD_SETTID", 0x100_0000),
    ("CLONE_NEWCGROUP", 0x200_0000),
    ("CLONE_NEWUTS", 0x400_0000),
    ("CLONE_NEWIPC", 0x800_0000),
    ("CLONE_NEWUSER", 0x1000_0000),
    ("CLONE_NEWPID", 0x2000_0000),
    ("CLONE_NEWNET", 0x4000_0000),
    ("CLONE_IO", 0x8000_0000),
];

/// getrandom's flags.
pub const GRND: Names = &[("GRND_NONBLOCK", 1), ("GRND_RANDOM", 2), ("GRND_INSECURE", 4)];

/// wait4's and waitid's options.
pub const WAIT: Names = &[
    ("WNOHANG", 1),
    ("WSTOPPED", 2),
    ("WEXITED", 4),
    ("WCONTINUED", 8),
    ("WNOWAIT", 0x100_0000),
    ("__WNOTHREAD", 0x2000_0000),
    ("__WALL", 0x4000_0000),
    ("__WCLONE", 0x8000_0000),
];

/// The signals, by number on this platform.
pub const SIGNALS: Names = &[
    ("SIGHUP", libc::SIGHUP as i64),
    ("SIGINT", libc::SIGINT as i64),
    ("SIGQUIT", libc::SIGQUIT as i64),
    ("SIGILL", libc::SIGILL as i64),
    ("SIGTRAP", libc::SIGTRAP as i64),
    ("SIGABRT", libc::SIGABRT as i64),
    ("SIGBUS", libc::SIGBUS as i64),
    ("SIGFPE", libc::SIGFPE as i64),
    ("SIGKILL", libc::SIGKILL as i64),
    ("SIGUSR1", libc::SIGUSR1 as i64),
    ("SIGSEGV", libc::SIGSEGV as i64),
    ("SIGUSR2", libc::SIGUSR2 as i64),
    ("SIGPIPE", libc::SIGPIPE as i64),
    ("SIGALRM", libc::SIGALRM as i64),
    ("SIGTERM", libc::SIGTERM as i64),
    ("SIGCHLD", libc::SIGCHLD as i64),
    ("SIGCONT", libc::SIGCONT as i64),
    ("SIGSTOP", libc::SIGSTOP as i64),
    ("SIGTSTP", libc::SIGTSTP as i64),
    ("SIGTTIN", libc::SIGTTIN as i64),
    ("SIGTTOU", libc::SIGTTOU as i64),
    ("SIGURG", libc::SIGURG as i64),
    ("SIGXCPU", libc::SIGXCPU as i64),
    ("SIGXFSZ", libc::SIGXFSZ as i64),
    ("SIGVTALRM", libc::SIGVTALRM as i64),
    ("SIGPROF", libc::SIGPROF as i64),
    ("SIGWINCH", libc::SIGWINCH as i64),
    ("SIGIO", libc::SIGIO as i64),
    ("SIGSYS", libc::SIGSYS as i64),
];

/// A signal number as strace shows it: SIGTERM, 0, SIGRTMIN, SIGRT_3, 99
/// (the real-time ones counted from the kernel's first, 32, not glibc's).
pub fn signal(value: i64, out: &mut Vec<u8>) {
    match named(value, SIGNALS) {
        Some(n) => out.extend_from_slice(n.as_bytes()),
        None if cfg!(target_os = "linux") && value == 32 => out.extend_from_slice(b"SIGRTMIN"),
        None if cfg!(target_os = "linux") && (33..=64).contains(&value) => {
            out.extend_from_slice(format!("SIGRT_{}", value - 32).as_bytes())
        }
        None => out.extend_from_slice(value.to_string().as_bytes()),
    }
}

/// clone's flags: CLONE_VM|CLONE_VFORK|SIGCHLD (the exit signal by name).
pub fn clone_flags(value: i64, out: &mut Vec<u8>) {
    let flags = value & !0xff;
    let start = out.len();
    if flags != 0 {
        bits(flags, CLONE, out);
    }
    if value & 0xff != 0 {
        if out.len() > start {
            out.push(b'|');
        }
        signal(value & 0xff, out);
    }
    if out.len() == start {
        out.push(b'0');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::symbols::rendered;

    #[test]
    fn clone_flags_and_signals_read_as_strace_shows_them() {
        assert_eq!(rendered(|o| clone_flags(0x0120_0011, o)), "CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD");
        assert_eq!(rendered(|o| clone_flags(0x4111, o)), "CLONE_VM|CLONE_VFORK|SIGCHLD");
        assert_eq!(rendered(|o| clone_flags(0, o)), "0");
        assert_eq!(rendered(|o| signal(libc::SIGTERM as i64, o)), "SIGTERM");
        assert_eq!(rendered(|o| signal(0, o)), "0");
        #[cfg(target_os = "linux")]
        assert_eq!(rendered(|o| signal(35, o)), "SIGRT_3");
    }
}
