//! Path globs for hook filters: `*` matches within one path segment, `**`
//! matches anything (slashes included), `?` one character other than `/`.
//! Everything else matches itself. "/data/**" matches every path under
//! /data; "*.log" matches a name without slashes.

pub fn matches(pattern: &[u8], text: &[u8]) -> bool {
    // The literal head of the pattern decides most paths at once.
    let head = pattern.iter().position(|c| *c == b'*' || *c == b'?').unwrap_or(pattern.len());
    if head == pattern.len() {
        return pattern == text;
    }
    if !text.starts_with(&pattern[..head]) {
        return false;
    }
    let (pattern, text) = (&pattern[head..], &text[head..]);
    // No allocation for the usual path lengths.
    const STACK: usize = 512;
    if text.len() < STACK {
        match_rest(pattern, text, &mut [false; STACK], &mut [false; STACK])
    } else {
        match_rest(pattern, text, &mut vec![false; text.len() + 1], &mut vec![false; text.len() + 1])
    }
}

/// ok[j], after the pattern's first i bytes: whether they match text[..j].
/// O(pattern × text), which for paths is small; stops when nothing matches.
fn match_rest<'a>(pattern: &[u8], text: &[u8], mut ok: &'a mut [bool], mut next: &'a mut [bool]) -> bool {
    let n = text.len();
    ok[..=n].fill(false);
    ok[0] = true;
    let mut i = 0;
    while i < pattern.len() {
        let mut any = false;
        match pattern[i] {
            b'*' => {
                let double = pattern.get(i + 1) == Some(&b'*');
                for j in 0..=n {
                    // a star may take text[j-1] when it reached j-1
                    next[j] = ok[j] || (j > 0 && next[j - 1] && (double || text[j - 1] != b'/'));
                    any |= next[j];
                }
                i += if double { 2 } else { 1 };
            }
            c => {
                next[0] = false;
                for j in 1..=n {
                    next[j] = ok[j - 1] && (if c == b'?' { text[j - 1] != b'/' } else { text[j - 1] == c });
                    any |= next[j];
                }
                i += 1;
            }
        }
        if !any {
            return false;
        }
        std::mem::swap(&mut ok, &mut next);
    }
    ok[n]
}

#[cfg(test)]
mod tests {
    use super::matches;

    fn m(p: &str, t: &str) -> bool {
        matches(p.as_bytes(), t.as_bytes())
    }

    #[test]
    fn literal_patterns_match_only_themselves() {
        assert!(m("/etc/passwd", "/etc/passwd"));
        assert!(!m("/etc/passwd", "/etc/passwd2"));
        assert!(!m("/etc/passwd", "/etc/pass"));
    }

    #[test]
    fn single_star_stays_in_one_segment() {
        assert!(m("/tmp/*.log", "/tmp/a.log"));
        assert!(m("/tmp/*.log", "/tmp/.log"));
        assert!(!m("/tmp/*.log", "/tmp/x/a.log"));
        assert!(m("/home/*/.ssh/*", "/home/ann/.ssh/id_rsa"));
        assert!(!m("/home/*/.ssh/*", "/home/ann/x/.ssh/id_rsa"));
    }

    #[test]
    fn double_star_crosses_segments() {
        assert!(m("/data/**", "/data/a"));
        assert!(m("/data/**", "/data/a/b/c"));
        assert!(m("/data/**", "/data/"));
        assert!(!m("/data/**", "/database"));
        assert!(m("/**/*.rb", "/x/y/z.rb"));
        assert!(m("**", "anything/at/all"));
    }

    #[test]
    fn question_mark_is_one_character_but_not_a_slash() {
        assert!(m("/dev/tty?", "/dev/tty1"));
        assert!(!m("/dev/tty?", "/dev/tty"));
        assert!(!m("/a?b", "/a/b"));
    }

    #[test]
    fn a_double_star_can_give_back_what_a_later_star_cannot_take() {
        assert!(m("**/a/*", "x/a/y/a/z"));
        assert!(!m("*/a/*", "x/a/y/a/z"));
    }

    #[test]
    fn long_paths_match_too() {
        let long = format!("/data/{}/end", "x".repeat(3000));
        assert!(m("/data/**/end", &long));
        assert!(!m("/data/*/nope", &long));
    }

    #[test]
    fn backtracking_finds_later_matches() {
        assert!(m("*a*b", "xaxxab"));
        assert!(m("/x/**/end", "/x/a/end/b/end"));
        assert!(!m("*a*b", "xaxxa"));
    }
}
