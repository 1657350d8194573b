//! Regexp for hook code: mruby has no regular expressions, so hijack brings
//! the C library's POSIX extended ones, with Ruby's common shorthands
//! translated (\d \w \s and their negations, \A \z, escaped punctuation).
//! Compiled patterns are cached for the life of the process: a regexp
//! literal in a hook costs a lookup, not a compile, after the first time.

use crate::platform::lock::SpinLock;
use std::ffi::CString;

pub struct Regex {
    compiled: libc::regex_t,
    /// Groups in the pattern (counted: regex_t's count is private in libc).
    groups: usize,
    pub source: Vec<u8>,
    pub icase: bool,
}

// SAFETY: regexec on a compiled pattern is thread-safe (POSIX).
unsafe impl Sync for Regex {}
unsafe impl Send for Regex {}

impl std::fmt::Debug for Regex {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "/{}/{}", String::from_utf8_lossy(&self.source), if self.icase { "i" } else { "" })
    }
}

static CACHE: SpinLock<Vec<&'static Regex>> = SpinLock::new(Vec::new());

/// Ruby's shorthands in POSIX extended syntax.
pub fn translate(src: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(src.len() + 8);
    let mut in_class = false;
    let mut i = 0;
    while i < src.len() {
        let c = src[i];
        if c == b'\\' && i + 1 < src.len() {
            let e = src[i + 1];
            i += 2;
            let (outside, inside): (&[u8], &[u8]) = match e {
                b'd' => (b"[0-9]", b"0-9"),
                b'w' => (b"[[:alnum:]_]", b"[:alnum:]_"),
                b's' => (b"[[:space:]]", b"[:space:]"),
                b'D' => (b"[^0-9]", b""),
                b'W' => (b"[^[:alnum:]_]", b""),
                b'S' => (b"[^[:space:]]", b""),
                b'A' => (b"^", b""),
                b'z' | b'Z' => (b"$", b""),
                b'n' => (b"\n", b"\n"),
                b't' => (b"\t", b"\t"),
                b'b' | b'B' | b'G' | b'h' | b'k' | b'p' | b'1'..=b'9' => {
                    return Err(format!("\\{} is not supported (hijack's Regexp is POSIX extended)", e as char))
                }
                _ if e.is_ascii_alphanumeric() => {
                    return Err(format!("\\{} is not supported (hijack's Regexp is POSIX extended)", e as char))
                }
                _ => {
                    // Escaped punctuation: literal. (POSIX gives a backslash
                    // before other characters no meaning, and GNU's makes
                    // anchors of \` \' \< \>: only the special ones keep it.)
                    if !in_class && b".[]()*+?{}|^$\\".contains(&e) {
                        out.push(b'\\');
                    }
                    out.push(e);
                    continue;
                }
            };
            if in_class {
                if inside.is_empty() {
                    return Err(format!("\\{} inside [...] is not supported", e as char));
                }
                out.extend_from_slice(inside);
            } else {
                out.extend_from_slice(outside);
            }
            continue;
        }
        match c {
            b'[' if !in_class => {
                in_class = true;
                out.push(c);
                // A leading ^ or ] belongs to the class.
                if src.get(i + 1) == Some(&b'^') {
                    out.push(b'^');
                    i += 1;
                }
                if src.get(i + 1) == Some(&b']') {
                    out.push(b']');
                    i += 1;
                }
            }
            b'[' if src.get(i + 1) == Some(&b':') => {
                // [:alpha:] inside a class
                let end = src[i..].windows(2).position(|w| w == b":]").map(|p| i + p + 2).unwrap_or(src.len());
                out.extend_from_slice(&src[i..end]);
                i = end;
                continue;
            }
            b']' if in_class => {
                in_class = false;
                out.push(c);
            }
            b'?' | b'+' | b'*' | b'}' if !in_class && src.get(i + 1) == Some(&b'?') => {
                return Err("lazy quantifiers (*? +? ??) are not supported (hijack's Regexp is POSIX extended)".into())
            }
            b'(' if !in_class && src.get(i + 1) == Some(&b'?') => {
                return Err("(?...) groups are not supported (hijack's Regexp is POSIX extended)".into())
            }
            _ => out.push(c),
        }
        i += 1;
    }
    Ok(out)
}

/// The capture groups of a POSIX extended pattern: its unescaped `(`
/// outside bracket expressions.
fn count_groups(posix: &[u8]) -> usize {
    let (mut n, mut i, mut in_class) = (0, 0, false);
    while i < posix.len() {
        match posix[i] {
            b'\\' if !in_class => i += 1,
            b'[' if !in_class => {
                in_class = true;
                if posix.get(i + 1) == Some(&b'^') {
                    i += 1;
                }
                if posix.get(i + 1) == Some(&b']') {
                    i += 1;
                }
            }
            b'[' if posix.get(i + 1) == Some(&b':') => {
                i = posix[i..].windows(2).position(|w| w == b":]").map_or(posix.len(), |p| i + p + 1);
            }
            b']' if in_class => in_class = false,
            b'(' if !in_class => n += 1,
            _ => {}
        }
        i += 1;
    }
    n
}

/// The compiled pattern for `src` (cached).
pub fn compile(src: &[u8], icase: bool) -> Result<&'static Regex, String> {
    let mut cache = CACHE.lock();
    if let Some(r) = cache.iter().find(|r| r.source == src && r.icase == icase) {
        return Ok(r);
    }
    let posix = translate(src)?;
    let c = CString::new(posix).map_err(|_| "a Regexp cannot hold a NUL byte".to_string())?;
    let mut compiled: libc::regex_t = unsafe { std::mem::zeroed() };
    let flags = libc::REG_EXTENDED | if icase { libc::REG_ICASE } else { 0 };
    // SAFETY: compiled is a valid out pointer, c a C string.
    let rc = unsafe { libc::regcomp(&mut compiled, c.as_ptr(), flags) };
    if rc != 0 {
        let mut buf = [0u8; 256];
        // SAFETY: writes at most buf.len() bytes.
        let n = unsafe { libc::regerror(rc, &compiled, buf.as_mut_ptr() as *mut libc::c_char, buf.len()) };
        let msg = String::from_utf8_lossy(&buf[..n.saturating_sub(1).min(buf.len())]).into_owned();
        return Err(format!("invalid Regexp /{}/: {msg}", String::from_utf8_lossy(src)));
    }
    let groups = count_groups(c.as_bytes());
    let r: &'static Regex = Box::leak(Box::new(Regex { compiled, groups, source: src.to_vec(), icase }));
    cache.push(r);
    Ok(r)
}

impl Regex {
    /// The offsets of the match and its groups in `text` (from `start`), or None.
    pub fn find(&self, text: &[u8], start: usize) -> Option<Vec<Option<(usize, usize)>>> {
        if start > text.len() {
            return None;
        }
        let tail = &text[start..];
        let tail = &tail[..tail.iter().position(|b| *b == 0).unwrap_or(tail.len())];
        let c = CString::new(tail).ok()?;
        let n = self.groups + 1;
        let mut m = vec![libc::regmatch_t { rm_so: -1, rm_eo: -1 }; n];
        let flags = if start > 0 { libc::REG_NOTBOL } else { 0 };
        // SAFETY: m has room for every group.
        let rc = unsafe { libc::regexec(&self.compiled, c.as_ptr(), n, m.as_mut_ptr(), flags) };
        if rc != 0 {
            return None;
        }
        Some(
            m.iter()
                .map(|g| (g.rm_so >= 0).then(|| (start + g.rm_so as usize, start + g.rm_eo as usize)))
                .collect(),
        )
    }

    pub fn is_match(&self, text: &[u8]) -> bool {
        self.find(text, 0).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaped_punctuation_is_literal_even_where_gnu_has_anchors() {
        for (src, text) in [(&b"a\\`b"[..], &b"a`b"[..]), (b"\\'", b"'"), (b"\\<x\\>", b"<x>"), (b"\\.\\*", b".*")] {
            let r = compile(src, false).unwrap();
            assert!(r.is_match(text), "{:?}", String::from_utf8_lossy(src));
        }
        assert!(!compile(b"\\.", false).unwrap().is_match(b"x"));
    }

    #[test]
    fn ruby_shorthands_work() {
        let r = compile(br"\A/tmp/\w+\.log\z", false).unwrap();
        assert!(r.is_match(b"/tmp/app_1.log"));
        assert!(!r.is_match(b"/tmp/app-1.log"));
        assert!(!r.is_match(b"/var/tmp/a.log"));
        let d = compile(br"(\d+)-(\d+)", false).unwrap();
        assert_eq!(d.find(b"port 80-90", 0).unwrap(), vec![Some((5, 10)), Some((5, 7)), Some((8, 10))]);
    }

    #[test]
    fn classes_and_case() {
        assert!(compile(br"[\d.]+", false).unwrap().is_match(b"1.2"));
        assert!(compile(b"SECRET", true).unwrap().is_match(b"/etc/secret"));
        assert!(!compile(b"SECRET", false).unwrap().is_match(b"/etc/secret"));
    }

    #[test]
    fn what_posix_cannot_do_is_refused_with_a_reason() {
        assert!(compile(b"a+?", false).unwrap_err().contains("lazy"));
        assert!(compile(b"(?i)a", false).unwrap_err().contains("(?"));
        assert!(compile(br"\bword", false).unwrap_err().contains("not supported"));
        assert!(compile(b"(", false).unwrap_err().contains("invalid Regexp"));
    }

    #[test]
    fn groups_are_counted_outside_classes_and_escapes() {
        assert_eq!(count_groups(b"(a)(b(c))"), 3);
        assert_eq!(count_groups(br"\(a[(]"), 0);
        assert_eq!(count_groups(b"[[:alpha:](]+(x)"), 1);
    }

    #[test]
    fn compiled_patterns_are_cached() {
        let a = compile(b"cache-me", false).unwrap();
        let b = compile(b"cache-me", false).unwrap();
        assert!(std::ptr::eq(a, b));
    }
}
