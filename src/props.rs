//! Property tests (proptest, a bounded number of cases per `cargo test`):
//! the path glob against a plain backtracking matcher, the Regexp
//! translation on arbitrary input, the strace and JSON quoting decoded back,
//! flag names read back into their values.

use crate::{platform::glob, platform::regex, table::symbols, features::trace};
use proptest::prelude::*;

/// The glob's meaning, written the slow obvious way.
fn glob_reference(p: &[u8], t: &[u8]) -> bool {
    match p.first() {
        None => t.is_empty(),
        Some(b'*') if p.get(1) == Some(&b'*') => (0..=t.len()).any(|k| glob_reference(&p[2..], &t[k..])),
        Some(b'*') => (0..=t.len()).take_while(|&k| k == 0 || t[k - 1] != b'/').any(|k| glob_reference(&p[1..], &t[k..])),
        Some(b'?') => t.first().is_some_and(|&c| c != b'/') && glob_reference(&p[1..], &t[1..]),
        Some(&c) => t.first() == Some(&c) && glob_reference(&p[1..], &t[1..]),
    }
}

/// strace's C-string quoting, read back.
fn unquote(s: &[u8]) -> Vec<u8> {
    assert!(s.first() == Some(&b'"') && s.last() == Some(&b'"'), "quoted: {:?}", String::from_utf8_lossy(s));
    let s = &s[1..s.len() - 1];
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        if s[i] != b'\\' {
            out.push(s[i]);
            i += 1;
            continue;
        }
        i += 1;
        let simple = match s[i] {
            b'"' => Some(b'"'),
            b'\\' => Some(b'\\'),
            b'n' => Some(b'\n'),
            b't' => Some(b'\t'),
            b'r' => Some(b'\r'),
            b'f' => Some(0x0c),
            b'v' => Some(0x0b),
            _ => None,
        };
        if let Some(b) = simple {
            out.push(b);
            i += 1;
            continue;
        }
        // up to three octal digits
        let mut v = 0u32;
        let mut n = 0;
        while n < 3 && i < s.len() && (b'0'..=b'7').contains(&s[i]) {
            v = v * 8 + (s[i] - b'0') as u32;
            i += 1;
            n += 1;
        }
        assert!(n > 0 && v < 256, "a valid escape");
        out.push(v as u8);
    }
    out
}

/// A JSON string read back (the escapes json_str writes, and \uXXXX).
fn unjson(s: &str) -> String {
    assert!(s.starts_with('"') && s.ends_with('"') && s.len() >= 2);
    let inner: Vec<char> = s[1..s.len() - 1].chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < inner.len() {
        let c = inner[i];
        assert!(c >= ' ', "no raw control character in JSON");
        if c == '"' {
            panic!("an unescaped quote inside a JSON string");
        }
        if c != '\\' {
            out.push(c);
            i += 1;
            continue;
        }
        let e = inner[i + 1];
        i += 2;
        match e {
            '"' => out.push('"'),
            '\\' => out.push('\\'),
            '/' => out.push('/'),
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'u' => {
                let hex: String = inner[i..i + 4].iter().collect();
                out.push(char::from_u32(u32::from_str_radix(&hex, 16).unwrap()).unwrap());
                i += 4;
            }
            other => panic!("unknown JSON escape \\{other}"),
        }
    }
    out
}

/// `A|B|0x40` read back with the names it was written with.
fn unbits(s: &str, names: symbols::Names) -> i64 {
    s.split('|')
        .map(|part| match part.strip_prefix("0x") {
            Some(h) => i64::from_str_radix(h, 16).unwrap(),
            None if part == "0" => 0,
            None => names.iter().find(|(n, _)| *n == part).unwrap_or_else(|| panic!("unknown name {part}")).1,
        })
        .fold(0, |a, b| a | b)
}

fn glob_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop::sample::select(b"ab/*?".to_vec()), 0..12)
}

fn path_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop::sample::select(b"ab/".to_vec()), 0..14)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn the_glob_agrees_with_the_reference_matcher(p in glob_bytes(), t in path_bytes()) {
        prop_assert_eq!(glob::matches(&p, &t), glob_reference(&p, &t));
    }

    #[test]
    fn the_glob_takes_any_bytes_and_long_paths(p in prop::collection::vec(any::<u8>(), 0..40),
                                              t in prop::collection::vec(any::<u8>(), 0..700)) {
        let _ = glob::matches(&p, &t);
        // a pattern without wildcards is the path itself
        let literal: Vec<u8> = t.iter().copied().filter(|c| *c != b'*' && *c != b'?').collect();
        prop_assert!(glob::matches(&literal, &literal));
        let mut longer = literal.clone();
        longer.push(b'x');
        prop_assert!(!glob::matches(&literal, &longer));
        // `**` takes anything
        prop_assert!(glob::matches(b"**", &t));
    }

    #[test]
    fn a_regexp_of_any_bytes_compiles_or_says_why(src in prop::collection::vec(any::<u8>(), 0..24),
                                                  text in prop::collection::vec(any::<u8>(), 0..64)) {
        match regex::compile(&src, false) {
            Ok(r) => { let _ = r.find(&text, 0); let _ = r.find(&text, text.len()); }
            Err(msg) => prop_assert!(!msg.is_empty()),
        }
    }

    #[test]
    fn an_escaped_string_is_a_regexp_matching_exactly_itself(s in "[ -~]{1,20}") {
        let mut src = b"\\A".to_vec();
        for b in s.bytes() {
            if b.is_ascii_alphanumeric() || b == b' ' {
                src.push(b);
            } else {
                src.push(b'\\');
                src.push(b);
            }
        }
        src.extend_from_slice(b"\\z");
        let r = regex::compile(&src, false).unwrap();
        prop_assert_eq!(r.find(s.as_bytes(), 0).map(|m| m[0]), Some(Some((0, s.len()))));
        let other = format!("{s}!");
        prop_assert!(!r.is_match(other.as_bytes()));
    }

    #[test]
    fn strace_quoting_reads_back_to_the_same_bytes(bytes in prop::collection::vec(any::<u8>(), 0..64), limit in 0usize..80) {
        let mut out = Vec::new();
        trace::quote(&bytes, None, &mut out);
        prop_assert!(out.iter().all(|b| (32..=126).contains(b)), "printable ASCII only");
        prop_assert_eq!(unquote(&out), bytes.clone());
        let mut cut = Vec::new();
        trace::quote(&bytes, Some(limit), &mut cut);
        if bytes.len() > limit {
            prop_assert!(cut.ends_with(b"\"..."));
            prop_assert_eq!(unquote(&cut[..cut.len() - 3]), bytes[..limit].to_vec());
        } else {
            prop_assert_eq!(cut, out);
        }
    }

    #[test]
    fn json_strings_read_back(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let mut out = Vec::new();
        trace::json_str(&bytes, &mut out);
        let text = String::from_utf8(out).expect("JSON output is UTF-8");
        let back = unjson(&text);
        // valid UTF-8 comes back as it was; other bytes as U+00XX
        let want: String = bytes.utf8_chunks().flat_map(|c| {
            c.valid().chars().chain(c.invalid().iter().map(|b| char::from(*b))).collect::<Vec<_>>()
        }).collect();
        prop_assert_eq!(back, want);
    }

    #[test]
    fn flag_names_read_back_to_their_value(v in any::<u32>()) {
        let v = v as i64;
        for names in [symbols::MSG, symbols::AT, symbols::STATX_MASK, symbols::AMODE, symbols::SOCK_FLAGS, symbols::OPEN] {
            let text = symbols::rendered(|o| symbols::bits(v, names, o));
            prop_assert_eq!(unbits(&text, names), v, "{}", text);
        }
        let _ = symbols::rendered(|o| symbols::socket_type(v, o));
        let _ = symbols::rendered(|o| symbols::statx_flags(v, o));
        let _ = symbols::rendered(|o| symbols::open_flags(v, o));
    }
}
