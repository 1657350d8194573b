//! Files' metadata as strace abbreviates it: the mode, the size (a device's
//! number), statx's mask and attributes.

#[cfg_attr(not(target_os = "linux"), allow(unused_imports))]
use super::{bits, Names};

/// A mode's file type (its S_IFMT bits).
const TYPES: Names = &[
    ("S_IFSOCK", 0o140000),
    ("S_IFLNK", 0o120000),
    ("S_IFREG", 0o100000),
    ("S_IFBLK", 0o060000),
    ("S_IFDIR", 0o040000),
    ("S_IFCHR", 0o020000),
    ("S_IFIFO", 0o010000),
];

/// statx's attributes, in value order.
#[cfg(target_os = "linux")]
pub const STATX_ATTR: Names = &[
    ("STATX_ATTR_COMPRESSED", 0x4),
    ("STATX_ATTR_IMMUTABLE", 0x10),
    ("STATX_ATTR_APPEND", 0x20),
    ("STATX_ATTR_NODUMP", 0x40),
    ("STATX_ATTR_ENCRYPTED", 0x800),
    ("STATX_ATTR_AUTOMOUNT", 0x1000),
    ("STATX_ATTR_MOUNT_ROOT", 0x2000),
    ("STATX_ATTR_VERITY", 0x10_0000),
    ("STATX_ATTR_DAX", 0x20_0000),
];

/// A mode with its type: S_IFREG|0644, S_IFDIR|S_ISVTX|0777 (strace's
/// print_symbolic_mode_t).
pub fn symbolic_mode(mode: u32, out: &mut Vec<u8>) {
    let kind = (mode & 0o170000) as i64;
    match TYPES.iter().find(|(_, v)| *v == kind) {
        Some((name, _)) => {
            out.extend_from_slice(name.as_bytes());
            out.push(b'|');
        }
        None if kind != 0 => out.extend_from_slice(format!("{kind:#o}|").as_bytes()),
        None => {}
    }
    for (bit, name) in [(0o4000, "S_ISUID|"), (0o2000, "S_ISGID|"), (0o1000, "S_ISVTX|")] {
        if mode & bit != 0 {
            out.extend_from_slice(name.as_bytes());
        }
    }
    out.extend_from_slice(format!("{:0>3}", format!("0{:o}", mode & 0o777)).as_bytes());
}

/// Whether a mode is a device's (its size is then its number).
pub fn is_device(mode: u32) -> bool {
    matches!(mode & 0o170000, 0o020000 | 0o060000)
}

/// A device number as Linux encodes it: makedev(0x88, 0).
pub fn device(word: u64, out: &mut Vec<u8>) {
    let (major, minor) = ((word >> 8) & 0xfff | (word >> 32) & !0xfff, word & 0xff | (word >> 12) & !0xff);
    // (as C's %#x: 0 is "0")
    let hex = |n: u64| if n == 0 { "0".to_string() } else { format!("{n:#x}") };
    out.extend_from_slice(format!("makedev({}, {})", hex(major), hex(minor)).as_bytes());
}

/// struct stat, abbreviated: `{st_mode=S_IFREG|0644, st_size=7, ...}`.
pub fn stat(st: &libc::stat, out: &mut Vec<u8>) {
    let mode = st.st_mode as u32;
    out.extend_from_slice(b"{st_mode=");
    symbolic_mode(mode, out);
    if is_device(mode) {
        out.extend_from_slice(b", st_rdev=");
        device(st.st_rdev as u64, out);
    } else {
        out.extend_from_slice(format!(", st_size={}", st.st_size).as_bytes());
    }
    out.extend_from_slice(b", ...}");
}

/// struct statx, abbreviated: `{stx_mask=STATX_BASIC_STATS|STATX_MNT_ID,
/// stx_attributes=0, stx_mode=S_IFREG|0644, stx_size=7, ...}`.
#[cfg(target_os = "linux")]
pub fn statx(stx: &libc::statx, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{stx_mask=");
    bits(stx.stx_mask as i64, super::STATX_MASK, out);
    out.extend_from_slice(b", stx_attributes=");
    bits(stx.stx_attributes as i64, STATX_ATTR, out);
    out.extend_from_slice(b", stx_mode=");
    symbolic_mode(stx.stx_mode as u32, out);
    out.extend_from_slice(format!(", stx_size={}, ...}}", stx.stx_size).as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::symbols::rendered;

    #[test]
    fn modes_read_as_strace_shows_them() {
        assert_eq!(rendered(|o| symbolic_mode(0o100644, o)), "S_IFREG|0644");
        assert_eq!(rendered(|o| symbolic_mode(0o41777, o)), "S_IFDIR|S_ISVTX|0777");
        assert_eq!(rendered(|o| symbolic_mode(0o104755, o)), "S_IFREG|S_ISUID|0755");
        assert_eq!(rendered(|o| symbolic_mode(0o20000, o)), "S_IFCHR|000");
        assert_eq!(rendered(|o| device(0x8800, o)), "makedev(0x88, 0)");
    }
}
