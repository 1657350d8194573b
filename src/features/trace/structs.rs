//! Structures strace shows decoded that a call's arguments point to: the
//! buffers of an iovec array, a child's wait status.

use super::strace::quote;
use crate::frame::Word;
use crate::table::symbols;

/// `[{iov_base="hello", iov_len=5}, ...]`: `n` iovecs at `word`, each
/// buffer's first `len` bytes (up to `budget` bytes in all: what a read
/// delivered; None: every byte, being written), strings cut at `strsize`,
/// arrays after `strsize` elements, as strace cuts them.
///
/// # Safety
/// `word` points to `n` iovecs whose buffers hold what the call says.
pub unsafe fn iovec(word: u64, n: usize, mut budget: Option<u64>, strsize: usize, out: &mut Vec<u8>) {
    let iov = std::slice::from_raw_parts(word.ptr::<libc::iovec>(), n.min(1024));
    out.push(b'[');
    for (k, v) in iov.iter().enumerate() {
        if k > 0 {
            out.extend_from_slice(b", ");
        }
        if k == strsize {
            out.extend_from_slice(b"...");
            break;
        }
        let len = v.iov_len as u64;
        let shown = budget.map_or(len, |b| b.min(len));
        if let Some(b) = budget.as_mut() {
            *b -= shown;
        }
        out.extend_from_slice(b"{iov_base=");
        if v.iov_base.is_null() {
            out.extend_from_slice(b"NULL");
        } else {
            quote(std::slice::from_raw_parts(v.iov_base as *const u8, shown as usize), Some(strsize), out);
        }
        out.extend_from_slice(format!(", iov_len={len}}}").as_bytes());
    }
    out.push(b']');
}

/// A child's status as wait4 wrote it: `[{WIFEXITED(s) && WEXITSTATUS(s) == 0}]`.
pub fn wait_status(s: i32, out: &mut Vec<u8>) {
    out.extend_from_slice(b"[{");
    if libc::WIFEXITED(s) {
        out.extend_from_slice(format!("WIFEXITED(s) && WEXITSTATUS(s) == {}", libc::WEXITSTATUS(s)).as_bytes());
    } else if libc::WIFSIGNALED(s) {
        out.extend_from_slice(b"WIFSIGNALED(s) && WTERMSIG(s) == ");
        symbols::signal(libc::WTERMSIG(s) as i64, out);
        if libc::WCOREDUMP(s) {
            out.extend_from_slice(b" && WCOREDUMP(s)");
        }
    } else if libc::WIFSTOPPED(s) {
        out.extend_from_slice(b"WIFSTOPPED(s) && WSTOPSIG(s) == ");
        symbols::signal(libc::WSTOPSIG(s) as i64, out);
    } else if libc::WIFCONTINUED(s) {
        out.extend_from_slice(b"WIFCONTINUED(s)");
    } else {
        out.extend_from_slice(format!("{s:#x}").as_bytes());
    }
    out.extend_from_slice(b"}]");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::symbols::rendered;

    #[test]
    fn iovecs_show_what_was_written_or_read() {
        let (a, b) = (*b"hello", *b" world\n");
        let iov = [
            libc::iovec { iov_base: a.as_ptr() as *mut _, iov_len: 5 },
            libc::iovec { iov_base: b.as_ptr() as *mut _, iov_len: 7 },
        ];
        let word = iov.as_ptr() as u64;
        // SAFETY: two iovecs over live buffers.
        unsafe {
            assert_eq!(
                rendered(|o| iovec(word, 2, None, 32, o)),
                r#"[{iov_base="hello", iov_len=5}, {iov_base=" world\n", iov_len=7}]"#
            );
            assert_eq!(rendered(|o| iovec(word, 2, Some(7), 32, o)), r#"[{iov_base="hello", iov_len=5}, {iov_base=" w", iov_len=7}]"#);
        }
    }

    #[test]
    fn wait_statuses_read_as_strace_shows_them() {
        assert_eq!(rendered(|o| wait_status(3 << 8, o)), "[{WIFEXITED(s) && WEXITSTATUS(s) == 3}]");
        assert_eq!(rendered(|o| wait_status(libc::SIGKILL, o)), "[{WIFSIGNALED(s) && WTERMSIG(s) == SIGKILL}]");
        assert_eq!(rendered(|o| wait_status(libc::SIGSEGV | 0x80, o)), "[{WIFSIGNALED(s) && WTERMSIG(s) == SIGSEGV && WCOREDUMP(s)}]");
    }
}
