//! The symbolic names of constants and flag bits, as strace shows them:
//! open flags, address families, socket types, message flags, clock ids.

pub type Names = &'static [(&'static str, i64)];

/// open's flags besides the access mode (O_RDONLY, O_WRONLY, O_RDWR: the
/// low two bits). O_SYNC and O_TMPFILE contain O_DSYNC's and O_DIRECTORY's
/// bits: they come first.
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
    ("O_TMPFILE", libc::O_TMPFILE as i64),
    ("O_DIRECTORY", libc::O_DIRECTORY as i64),
    ("O_NOFOLLOW", libc::O_NOFOLLOW as i64),
    ("O_CLOEXEC", libc::O_CLOEXEC as i64),
    #[cfg(target_os = "linux")]
    ("O_LARGEFILE", libc::O_LARGEFILE as i64),
    #[cfg(target_os = "linux")]
    ("O_NOATIME", libc::O_NOATIME as i64),
    #[cfg(target_os = "linux")]
    ("O_PATH", libc::O_PATH as i64),
    #[cfg(target_os = "linux")]
    ("O_DIRECT", libc::O_DIRECT as i64),
];

/// The open flags that make open read its mode argument.
#[cfg(target_os = "linux")]
pub const OPEN_WITH_MODE: i64 = (libc::O_CREAT | libc::O_TMPFILE) as i64;
#[cfg(not(target_os = "linux"))]
pub const OPEN_WITH_MODE: i64 = libc::O_CREAT as i64;

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
}
