//! The symbolic names of constants and flag bits, as strace shows them:
//! open flags, address families, socket types, message flags, clock ids,
//! whence, access modes, shutdown, fcntl commands, AT_ and statx bits.

pub type Names = &'static [(&'static str, i64)];

mod process;
mod stat;
pub use process::*;
pub use stat::*;

/// open's flags besides the access mode (O_RDONLY, O_WRONLY, O_RDWR: the
/// low two bits). O_SYNC and O_TMPFILE contain O_DSYNC's and O_DIRECTORY's
/// bits: they come first. In strace's order, which is not the bits'.
pub const OPEN: Names = &[
    ("O_CREAT", libc::O_CREAT as i64),
    ("O_EXCL", libc::O_EXCL as i64),
    ("O_NOCTTY", libc::O_NOCTTY as i64),
    ("O_TRUNC", libc::O_TRUNC as i64),
    ("O_APPEND", libc::O_APPEND as i64),
    ("O_NONBLOCK", libc::O_NONBLOCK as i64),
    ("O_SYNC", libc::O_SYNC as i64),
    ("O_DSYNC", libc::O_DSYNC as i64),
    #[cfg(target_os = "linux")]
    ("O_DIRECT", libc::O_DIRECT as i64),
    #[cfg(target_os = "linux")]
    ("O_LARGEFILE", libc::O_LARGEFILE as i64),
    ("O_NOFOLLOW", libc::O_NOFOLLOW as i64),
    #[cfg(target_os = "linux")]
    ("O_NOATIME", libc::O_NOATIME as i64),
    ("O_CLOEXEC", libc::O_CLOEXEC as i64),
    #[cfg(target_os = "linux")]
    ("O_PATH", libc::O_PATH as i64),
    #[cfg(target_os = "linux")]
    ("O_TMPFILE", libc::O_TMPFILE as i64),
    ("O_DIRECTORY", libc::O_DIRECTORY as i64),
    ("FASYNC", libc::O_ASYNC as i64),
];

/// Whether open's flags make it read its mode argument: O_CREAT, or all of
/// O_TMPFILE's bits (it holds O_DIRECTORY's, which alone takes no mode), as
/// the C library reads them (src/preload.c's HIJACK_NEEDS_MODE).
pub fn open_needs_mode(flags: i64) -> bool {
    #[cfg(target_os = "linux")]
    let tmpfile = libc::O_TMPFILE as i64;
    #[cfg(not(target_os = "linux"))]
    let tmpfile = i64::MAX;
    flags & libc::O_CREAT as i64 != 0 || flags & tmpfile == tmpfile
}

pub const ACCESS: [&str; 3] = ["O_RDONLY", "O_WRONLY", "O_RDWR"];

pub const AF: Names = &[("AF_UNIX", libc::AF_UNIX as i64), ("AF_INET", libc::AF_INET as i64), ("AF_INET6", libc::AF_INET6 as i64)];

pub const SOCK: Names = &[
    ("SOCK_STREAM", libc::SOCK_STREAM as i64),
    ("SOCK_DGRAM", libc::SOCK_DGRAM as i64),
    ("SOCK_RAW", libc::SOCK_RAW as i64),
    ("SOCK_SEQPACKET", libc::SOCK_SEQPACKET as i64),
    #[cfg(target_os = "linux")]
    ("SOCK_NONBLOCK", libc::SOCK_NONBLOCK as i64),
    #[cfg(target_os = "linux")]
    ("SOCK_CLOEXEC", libc::SOCK_CLOEXEC as i64),
];

pub const MSG: Names = &[
    ("MSG_OOB", libc::MSG_OOB as i64),
    ("MSG_PEEK", libc::MSG_PEEK as i64),
    ("MSG_DONTWAIT", libc::MSG_DONTWAIT as i64),
    ("MSG_WAITALL", libc::MSG_WAITALL as i64),
    ("MSG_NOSIGNAL", libc::MSG_NOSIGNAL as i64),
];

pub const CLOCK: Names = &[
    ("CLOCK_REALTIME", libc::CLOCK_REALTIME as i64),
    ("CLOCK_MONOTONIC", libc::CLOCK_MONOTONIC as i64),
    #[cfg(target_os = "linux")]
    ("CLOCK_PROCESS_CPUTIME_ID", libc::CLOCK_PROCESS_CPUTIME_ID as i64),
    #[cfg(target_os = "linux")]
    ("CLOCK_THREAD_CPUTIME_ID", libc::CLOCK_THREAD_CPUTIME_ID as i64),
    #[cfg(target_os = "linux")]
    ("CLOCK_MONOTONIC_RAW", libc::CLOCK_MONOTONIC_RAW as i64),
    #[cfg(target_os = "linux")]
    ("CLOCK_REALTIME_COARSE", libc::CLOCK_REALTIME_COARSE as i64),
    #[cfg(target_os = "linux")]
    ("CLOCK_MONOTONIC_COARSE", libc::CLOCK_MONOTONIC_COARSE as i64),
    #[cfg(target_os = "linux")]
    ("CLOCK_BOOTTIME", libc::CLOCK_BOOTTIME as i64),
];

pub const SIG_HOW: Names = &[
    ("SIG_BLOCK", libc::SIG_BLOCK as i64),
    ("SIG_UNBLOCK", libc::SIG_UNBLOCK as i64),
    ("SIG_SETMASK", libc::SIG_SETMASK as i64),
];

pub const SEEK: Names = &[
    ("SEEK_SET", libc::SEEK_SET as i64),
    ("SEEK_CUR", libc::SEEK_CUR as i64),
    ("SEEK_END", libc::SEEK_END as i64),
    ("SEEK_DATA", libc::SEEK_DATA as i64),
    ("SEEK_HOLE", libc::SEEK_HOLE as i64),
];

/// access's mode bits (F_OK is 0).
pub const AMODE: Names = &[("R_OK", libc::R_OK as i64), ("W_OK", libc::W_OK as i64), ("X_OK", libc::X_OK as i64)];

pub const SHUT: Names = &[("SHUT_RD", 0), ("SHUT_WR", 1), ("SHUT_RDWR", 2)];

/// fcntl's commands, and whether each takes an argument.
pub const FCNTL: &[(&str, i64, FcntlArg)] = &[
    ("F_DUPFD", libc::F_DUPFD as i64, FcntlArg::Number),
    ("F_GETFD", libc::F_GETFD as i64, FcntlArg::None),
    ("F_SETFD", libc::F_SETFD as i64, FcntlArg::Fd),
    ("F_GETFL", libc::F_GETFL as i64, FcntlArg::None),
    ("F_SETFL", libc::F_SETFL as i64, FcntlArg::Open),
    ("F_GETLK", libc::F_GETLK as i64, FcntlArg::Pointer),
    ("F_SETLK", libc::F_SETLK as i64, FcntlArg::Pointer),
    ("F_SETLKW", libc::F_SETLKW as i64, FcntlArg::Pointer),
    ("F_SETOWN", libc::F_SETOWN as i64, FcntlArg::Number),
    ("F_GETOWN", libc::F_GETOWN as i64, FcntlArg::None),
    ("F_DUPFD_CLOEXEC", libc::F_DUPFD_CLOEXEC as i64, FcntlArg::Number),
    #[cfg(target_os = "linux")]
    ("F_SETPIPE_SZ", libc::F_SETPIPE_SZ as i64, FcntlArg::Number),
    #[cfg(target_os = "linux")]
    ("F_GETPIPE_SZ", libc::F_GETPIPE_SZ as i64, FcntlArg::None),
    #[cfg(target_os = "linux")]
    ("F_GET_SEALS", libc::F_GET_SEALS as i64, FcntlArg::None),
];

/// How fcntl's argument reads under a command.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum FcntlArg {
    None,
    Number,
    Fd,
    Open,
    Pointer,
    Hex,
}

/// The command `cmd`'s name and argument (unknown: no name, a hex argument).
pub fn fcntl_command(cmd: i64) -> (Option<&'static str>, FcntlArg) {
    match FCNTL.iter().find(|(_, v, _)| *v == cmd) {
        Some((name, _, arg)) => (Some(name), *arg),
        None => (None, FcntlArg::Hex),
    }
}

pub const FD_FLAGS: Names = &[("FD_CLOEXEC", libc::FD_CLOEXEC as i64)];

pub const AT: Names = &[
    ("AT_SYMLINK_NOFOLLOW", libc::AT_SYMLINK_NOFOLLOW as i64),
    #[cfg(target_os = "linux")]
    ("AT_NO_AUTOMOUNT", libc::AT_NO_AUTOMOUNT as i64),
    #[cfg(target_os = "linux")]
    ("AT_EMPTY_PATH", libc::AT_EMPTY_PATH as i64),
];

pub const AT_REMOVEDIR: Names = &[("AT_REMOVEDIR", libc::AT_REMOVEDIR as i64)];

pub const AT_EACCESS: Names = &[
    ("AT_SYMLINK_NOFOLLOW", libc::AT_SYMLINK_NOFOLLOW as i64),
    ("AT_EACCESS", libc::AT_EACCESS as i64),
    #[cfg(target_os = "linux")]
    ("AT_EMPTY_PATH", libc::AT_EMPTY_PATH as i64),
];

#[cfg(target_os = "linux")]
pub const STATX_MASK: Names = &[
    ("STATX_BASIC_STATS", libc::STATX_BASIC_STATS as i64),
    ("STATX_TYPE", libc::STATX_TYPE as i64),
    ("STATX_MODE", libc::STATX_MODE as i64),
    ("STATX_NLINK", libc::STATX_NLINK as i64),
    ("STATX_UID", libc::STATX_UID as i64),
    ("STATX_GID", libc::STATX_GID as i64),
    ("STATX_ATIME", libc::STATX_ATIME as i64),
    ("STATX_MTIME", libc::STATX_MTIME as i64),
    ("STATX_CTIME", libc::STATX_CTIME as i64),
    ("STATX_INO", libc::STATX_INO as i64),
    ("STATX_SIZE", libc::STATX_SIZE as i64),
    ("STATX_BLOCKS", libc::STATX_BLOCKS as i64),
    ("STATX_BTIME", libc::STATX_BTIME as i64),
    ("STATX_MNT_ID", libc::STATX_MNT_ID as i64),
];
#[cfg(not(target_os = "linux"))]
pub const STATX_MASK: Names = &[];

/// statx's synchronisation type (the bits of AT_STATX_SYNC_TYPE).
#[cfg(target_os = "linux")]
pub const STATX_SYNC: (i64, Names) = (
    libc::AT_STATX_SYNC_TYPE as i64,
    &[
        ("AT_STATX_SYNC_AS_STAT", libc::AT_STATX_SYNC_AS_STAT as i64),
        ("AT_STATX_FORCE_SYNC", libc::AT_STATX_FORCE_SYNC as i64),
        ("AT_STATX_DONT_SYNC", libc::AT_STATX_DONT_SYNC as i64),
    ],
);
#[cfg(not(target_os = "linux"))]
pub const STATX_SYNC: (i64, Names) = (0, &[]);

/// accept4's flags.
pub const SOCK_FLAGS: Names = &[
    #[cfg(target_os = "linux")]
    ("SOCK_CLOEXEC", libc::SOCK_CLOEXEC as i64),
    #[cfg(target_os = "linux")]
    ("SOCK_NONBLOCK", libc::SOCK_NONBLOCK as i64),
];

pub const CLOEXEC: Names = &[("O_CLOEXEC", libc::O_CLOEXEC as i64)];

#[cfg(target_os = "linux")]
pub const RENAME: Names = &[
    ("RENAME_NOREPLACE", libc::RENAME_NOREPLACE as i64),
    ("RENAME_EXCHANGE", libc::RENAME_EXCHANGE as i64),
    ("RENAME_WHITEOUT", libc::RENAME_WHITEOUT as i64),
];
#[cfg(not(target_os = "linux"))]
pub const RENAME: Names = &[];

#[cfg(target_os = "linux")]
pub const TIMER: Names = &[("TIMER_ABSTIME", libc::TIMER_ABSTIME as i64)];
#[cfg(not(target_os = "linux"))]
pub const TIMER: Names = &[];

#[cfg(target_os = "linux")]
pub const CLOSE_RANGE: Names =
    &[("CLOSE_RANGE_UNSHARE", libc::CLOSE_RANGE_UNSHARE as i64), ("CLOSE_RANGE_CLOEXEC", libc::CLOSE_RANGE_CLOEXEC as i64)];
#[cfg(not(target_os = "linux"))]
pub const CLOSE_RANGE: Names = &[];

// Linux's values (the calls that take them are Linux's, or have the same
// numbers on macOS: flock's).

/// epoll_ctl's operations.
pub const EPOLL_CTL: Names = &[("EPOLL_CTL_ADD", 1), ("EPOLL_CTL_DEL", 2), ("EPOLL_CTL_MOD", 3)];

/// posix_fadvise's advice.
pub const FADV: Names = &[
    ("POSIX_FADV_NORMAL", 0),
    ("POSIX_FADV_RANDOM", 1),
    ("POSIX_FADV_SEQUENTIAL", 2),
    ("POSIX_FADV_WILLNEED", 3),
    ("POSIX_FADV_DONTNEED", 4),
    ("POSIX_FADV_NOREUSE", 5),
];

/// getsockopt's and setsockopt's levels.
pub const SOL: Names = &[("SOL_IP", 0), ("SOL_SOCKET", 1), ("SOL_TCP", 6), ("SOL_UDP", 17), ("SOL_IPV6", 41)];

/// fallocate's mode bits.
pub const FALLOC: Names = &[
    ("FALLOC_FL_KEEP_SIZE", 1),
    ("FALLOC_FL_PUNCH_HOLE", 2),
    ("FALLOC_FL_NO_HIDE_STALE", 4),
    ("FALLOC_FL_COLLAPSE_RANGE", 8),
    ("FALLOC_FL_ZERO_RANGE", 0x10),
    ("FALLOC_FL_INSERT_RANGE", 0x20),
    ("FALLOC_FL_UNSHARE_RANGE", 0x40),
];

/// flock's operation bits (LOCK_RW is both of READ and WRITE).
pub const LOCK: Names = &[
    ("LOCK_SH", 1),
    ("LOCK_EX", 2),
    ("LOCK_NB", 4),
    ("LOCK_UN", 8),
    ("LOCK_MAND", 32),
    ("LOCK_RW", 192),
    ("LOCK_READ", 64),
    ("LOCK_WRITE", 128),
];

/// inotify's event bits.
pub const IN_MASK: Names = &[
    ("IN_ACCESS", 1),
    ("IN_MODIFY", 2),
    ("IN_ATTRIB", 4),
    ("IN_CLOSE_WRITE", 8),
    ("IN_CLOSE_NOWRITE", 0x10),
    ("IN_OPEN", 0x20),
    ("IN_MOVED_FROM", 0x40),
    ("IN_MOVED_TO", 0x80),
    ("IN_CREATE", 0x100),
    ("IN_DELETE", 0x200),
    ("IN_DELETE_SELF", 0x400),
    ("IN_MOVE_SELF", 0x800),
    ("IN_UNMOUNT", 0x2000),
    ("IN_Q_OVERFLOW", 0x4000),
    ("IN_IGNORED", 0x8000),
    ("IN_ONLYDIR", 0x100_0000),
    ("IN_DONT_FOLLOW", 0x200_0000),
    ("IN_EXCL_UNLINK", 0x400_0000),
    ("IN_MASK_CREATE", 0x1000_0000),
    ("IN_MASK_ADD", 0x2000_0000),
    ("IN_ISDIR", 0x4000_0000),
    ("IN_ONESHOT", 0x8000_0000),
];

/// mmap's and mprotect's protection bits (0 is PROT_NONE).
pub const PROT: Names = &[
    ("PROT_READ", 1),
    ("PROT_WRITE", 2),
    ("PROT_EXEC", 4),
    ("PROT_SEM", 8),
    ("PROT_GROWSDOWN", 0x100_0000),
    ("PROT_GROWSUP", 0x200_0000),
];

/// mmap's flags besides the mapping's type (the low two bits, MAP_TYPES).
pub const MAP: Names = &[
    ("MAP_FIXED", 0x10),
    ("MAP_ANONYMOUS", 0x20),
    ("MAP_32BIT", 0x40),
    ("MAP_GROWSDOWN", 0x100),
    ("MAP_DENYWRITE", 0x800),
    ("MAP_EXECUTABLE", 0x1000),
    ("MAP_LOCKED", 0x2000),
    ("MAP_NORESERVE", 0x4000),
    ("MAP_POPULATE", 0x8000),
    ("MAP_NONBLOCK", 0x10000),
    ("MAP_STACK", 0x20000),
    ("MAP_HUGETLB", 0x40000),
    ("MAP_SYNC", 0x80000),
    ("MAP_FIXED_NOREPLACE", 0x100000),
];

pub const MAP_TYPES: [&str; 4] = ["0", "MAP_SHARED", "MAP_PRIVATE", "MAP_SHARED_VALIDATE"];

/// mmap's flags: the type, then the other bits.
pub fn mmap_flags(value: i64, out: &mut Vec<u8>) {
    out.extend_from_slice(MAP_TYPES[(value & 3) as usize].as_bytes());
    if value & !3 != 0 {
        out.push(b'|');
        bits(value & !3, MAP, out);
    }
}

/// poll's event bits.
pub const POLL: Names = &[
    ("POLLIN", 1),
    ("POLLPRI", 2),
    ("POLLOUT", 4),
    ("POLLERR", 8),
    ("POLLHUP", 0x10),
    ("POLLNVAL", 0x20),
    ("POLLRDNORM", 0x40),
    ("POLLRDBAND", 0x80),
    ("POLLWRNORM", 0x100),
    ("POLLWRBAND", 0x200),
    ("POLLMSG", 0x400),
    ("POLLRDHUP", 0x2000),
];

/// IP protocols (socket's third argument for AF_INET and AF_INET6).
pub const IPPROTO: Names = &[
    ("IPPROTO_IP", 0),
    ("IPPROTO_ICMP", 1),
    ("IPPROTO_TCP", 6),
    ("IPPROTO_UDP", 17),
    ("IPPROTO_IPV6", 41),
    ("IPPROTO_ICMPV6", 58),
    ("IPPROTO_SCTP", 132),
    ("IPPROTO_RAW", 255),
];

/// Socket options of SOL_SOCKET.
pub const SO: Names = &[
    ("SO_DEBUG", 1),
    ("SO_REUSEADDR", 2),
    ("SO_TYPE", 3),
    ("SO_ERROR", 4),
    ("SO_DONTROUTE", 5),
    ("SO_BROADCAST", 6),
    ("SO_SNDBUF", 7),
    ("SO_RCVBUF", 8),
    ("SO_KEEPALIVE", 9),
    ("SO_OOBINLINE", 10),
    ("SO_NO_CHECK", 11),
    ("SO_PRIORITY", 12),
    ("SO_LINGER", 13),
    ("SO_BSDCOMPAT", 14),
    ("SO_REUSEPORT", 15),
    ("SO_PASSCRED", 16),
    ("SO_PEERCRED", 17),
    ("SO_RCVLOWAT", 18),
    ("SO_SNDLOWAT", 19),
    ("SO_RCVTIMEO_OLD", 20),
    ("SO_SNDTIMEO_OLD", 21),
];

/// Socket options of SOL_TCP.
pub const TCP: Names = &[
    ("TCP_NODELAY", 1),
    ("TCP_MAXSEG", 2),
    ("TCP_CORK", 3),
    ("TCP_KEEPIDLE", 4),
    ("TCP_KEEPINTVL", 5),
    ("TCP_KEEPCNT", 6),
    ("TCP_SYNCNT", 7),
    ("TCP_LINGER2", 8),
    ("TCP_DEFER_ACCEPT", 9),
    ("TCP_WINDOW_CLAMP", 10),
    ("TCP_INFO", 11),
    ("TCP_QUICKACK", 12),
    ("TCP_CONGESTION", 13),
];

/// The names of a socket option at `level` (None: a level hijack does not name).
pub fn sockopts(level: i64) -> Option<(Names, &'static str)> {
    match level {
        1 => Some((SO, "SO_")),
        6 => Some((TCP, "TCP_")),
        _ => None,
    }
}

/// ioctl's requests strace names; others as `_IOC(dir, type, nr, size)`.
pub const IOCTL: Names = &[
    ("TCGETS", 0x5401),
    ("TCSETS", 0x5402),
    ("TCSETSW", 0x5403),
    ("TCSETSF", 0x5404),
    ("TIOCGPGRP", 0x540f),
    ("TIOCSPGRP", 0x5410),
    ("TIOCGWINSZ", 0x5413),
    ("TIOCSWINSZ", 0x5414),
    ("FIONREAD", 0x541b),
    ("FIONBIO", 0x5421),
    ("FIONCLEX", 0x5450),
    ("FIOCLEX", 0x5451),
    ("FIOASYNC", 0x5452),
];

/// An ioctl request as strace shows it.
pub fn ioctl_request(value: i64, out: &mut Vec<u8>) {
    let v = value as u32;
    if let Some(n) = named(v as i64, IOCTL) {
        return out.extend_from_slice(n.as_bytes());
    }
    let dir = ["_IOC_NONE", "_IOC_WRITE", "_IOC_READ", "_IOC_READ|_IOC_WRITE"][(v >> 30) as usize];
    // (as C's %#x: 0 is "0")
    let x = |n: u32| if n == 0 { "0".to_string() } else { format!("{n:#x}") };
    let (size, kind, nr) = ((v >> 16) & 0x3fff, (v >> 8) & 0xff, v & 0xff);
    out.extend_from_slice(format!("_IOC({dir}, {}, {}, {})", x(kind), x(nr), x(size)).as_bytes());
}

/// `NAME` for a known value, else `0x3ea /* SEEK_??? */` as strace shows it.
pub fn constant(value: i64, names: Names, prefix: &str, out: &mut Vec<u8>) {
    match named(value, names) {
        Some(n) => out.extend_from_slice(n.as_bytes()),
        None => out.extend_from_slice(format!("{value:#x} /* {prefix}??? */").as_bytes()),
    }
}

/// socket's type: a known base type with its flag bits (SOCK_STREAM|SOCK_CLOEXEC),
/// else the whole value as unknown.
pub fn socket_type(value: i64, out: &mut Vec<u8>) {
    let base = value & 0xf;
    let flags = value & !0xf;
    let known_flags = SOCK_FLAGS.iter().fold(0, |m, (_, b)| m | b);
    match SOCK.iter().find(|(_, v)| *v == base) {
        Some((name, _)) if flags & !known_flags == 0 => {
            out.extend_from_slice(name.as_bytes());
            if flags != 0 {
                out.push(b'|');
                bits(flags, SOCK_FLAGS, out);
            }
        }
        _ => out.extend_from_slice(format!("{value:#x} /* SOCK_??? */").as_bytes()),
    }
}

/// statx's flags: the synchronisation type's name, then the AT_ bits.
pub fn statx_flags(value: i64, out: &mut Vec<u8>) {
    let (mask, names) = STATX_SYNC;
    match named(value & mask, names) {
        Some(n) => out.extend_from_slice(n.as_bytes()),
        None => out.extend_from_slice(format!("{:#x}", value & mask).as_bytes()),
    }
    if value & !mask != 0 {
        out.push(b'|');
        bits(value & !mask, AT, out);
    }
}

/// The name of `value` in `names`.
pub fn named(value: i64, names: Names) -> Option<&'static str> {
    names.iter().find(|(_, v)| *v == value).map(|(n, _)| *n)
}

/// `A|B|0x40` for the bits of `value` ("0" when none is set).
pub fn bits(value: i64, names: Names, out: &mut Vec<u8>) {
    let start = out.len();
    let mut rest = value;
    for (name, bit) in names {
        if *bit == 0 || rest & bit != *bit {
            continue;
        }
        if out.len() > start {
            out.push(b'|');
        }
        out.extend_from_slice(name.as_bytes());
        rest &= !bit;
    }
    if rest != 0 {
        if out.len() > start {
            out.push(b'|');
        }
        out.extend_from_slice(format!("{rest:#x}").as_bytes());
    }
    if out.len() == start {
        out.push(b'0');
    }
}

/// open's flags: the access mode, then the other bits.
pub fn open_flags(value: i64, out: &mut Vec<u8>) {
    let access = value & 3;
    match ACCESS.get(access as usize) {
        Some(name) => out.extend_from_slice(name.as_bytes()),
        None => out.extend_from_slice(access.to_string().as_bytes()),
    }
    if value & !3 != 0 {
        out.push(b'|');
        bits(value & !3, OPEN, out);
    }
}

/// What a renderer that appends to a buffer writes, as text (for tests).
#[cfg(test)]
pub fn rendered(f: impl FnOnce(&mut Vec<u8>)) -> String {
    let mut v = Vec::new();
    f(&mut v);
    String::from_utf8(v).unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_read_as_strace_shows_them() {
        let v = (libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC) as i64;
        assert_eq!(rendered(|o| open_flags(v, o)), "O_WRONLY|O_CREAT|O_TRUNC");
        assert_eq!(rendered(|o| open_flags(0, o)), "O_RDONLY");
        assert_eq!(rendered(|o| bits(0, MSG, o)), "0");
        assert_eq!(rendered(|o| bits(libc::MSG_PEEK as i64 | 0x4000_0000, MSG, o)), "MSG_PEEK|0x40000000");
        assert_eq!(named(libc::AF_INET as i64, AF), Some("AF_INET"));
        assert_eq!(named(1234, AF), None);
    }

    #[test]
    fn unknown_constants_read_as_strace_shows_them() {
        assert_eq!(rendered(|o| constant(1002, SEEK, "SEEK_", o)), "0x3ea /* SEEK_??? */");
        assert_eq!(rendered(|o| constant(0, SEEK, "SEEK_", o)), "SEEK_SET");
        assert_eq!(rendered(|o| socket_type(1001, o)), "0x3e9 /* SOCK_??? */");
        assert_eq!(rendered(|o| socket_type(libc::SOCK_DGRAM as i64 | libc::SOCK_CLOEXEC as i64, o)), "SOCK_DGRAM|SOCK_CLOEXEC");
        assert_eq!(rendered(|o| bits(1001, AMODE, o)), "X_OK|0x3e8");
        assert_eq!(rendered(|o| statx_flags(0, o)), "AT_STATX_SYNC_AS_STAT");
        assert_eq!(rendered(|o| bits(1003, STATX_MASK, o)), "STATX_TYPE|STATX_MODE|STATX_UID|STATX_ATIME|STATX_MTIME|STATX_CTIME|STATX_INO|STATX_SIZE");
        assert_eq!(rendered(|o| bits(0x7ff, STATX_MASK, o)), "STATX_BASIC_STATS");
        assert_eq!(fcntl_command(libc::F_GETFL as i64), (Some("F_GETFL"), FcntlArg::None));
        assert_eq!(fcntl_command(1001), (None, FcntlArg::Hex));
    }
}
