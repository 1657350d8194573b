//! The JSON formats: one object per call (`--format jsonl`), and Chrome
//! trace events (`--format chrome`).

use super::*;

/// A JSON string: UTF-8 as it is, other bytes as \u00XX.
pub fn json_str(bytes: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '"' => out.extend_from_slice(b"\\\""),
                '\\' => out.extend_from_slice(b"\\\\"),
                '\n' => out.extend_from_slice(b"\\n"),
                '\t' => out.extend_from_slice(b"\\t"),
                c if (c as u32) < 0x20 => push(out, format_args!("\\u{:04x}", c as u32)),
                c => {
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
            }
        }
        for b in chunk.invalid() {
            push(out, format_args!("\\u{:04x}", b));
        }
    }
    out.push(b'"');
}

fn json_or_null(bytes: Option<&[u8]>, out: &mut Vec<u8>) {
    match bytes {
        Some(b) => json_str(b, out),
        None => out.extend_from_slice(b"null"),
    }
}

/// {"path":"/etc/passwd","flags":0,...}: each argument decoded.
/// (`names`: the function's and the system call's names first, as Chrome
/// events carry them.)
unsafe fn json_args(f: &Frame, strsize: usize, names: bool, out: &mut Vec<u8>) {
    let info = f.info();
    out.push(b'{');
    if names {
        json_names(f, out);
        if f.nargs > 0 {
            out.push(b',');
        }
    }
    for i in 0..f.nargs {
        let (arg, word) = (&info.args[i], f.args[i]);
        if i > 0 {
            out.push(b',');
        }
        json_str(arg.name.as_bytes(), out);
        out.push(b':');
        match arg.kind {
            Kind::Buf if f.failed_by_result() => out.extend_from_slice(b"null"),
            Kind::Buf => json_or_null(f.data().map(|d| &d[..d.len().min(strsize)]), out),
            Kind::Path | Kind::Str => json_or_null(arg_str(word), out),
            Kind::Sockaddr => match sockaddr::decode(word as usize) {
                Some(a) => {
                    push(out, format_args!("{{\"family\":\"{}\",\"host\":", a.family));
                    json_str(a.host.as_bytes(), out);
                    match a.port {
                        Some(p) => push(out, format_args!(",\"port\":{p}}}")),
                        None => out.extend_from_slice(b",\"port\":null}"),
                    }
                }
                None => out.extend_from_slice(b"null"),
            },
            Kind::Argv => match arg_argv(word) {
                Some(vars) if arg.name == "envp" => push(out, vars.len()),
                Some(list) => {
                    out.push(b'[');
                    for (n, a) in list.iter().enumerate() {
                        if n > 0 {
                            out.push(b',');
                        }
                        json_str(a, out);
                    }
                    out.push(b']');
                }
                None => out.extend_from_slice(b"null"),
            },
            Kind::Timespec => match arg_timespec(word) {
                Some((s, ns)) => push(out, format_args!("{s}.{ns:09}")),
                None => out.extend_from_slice(b"null"),
            },
            Kind::Pointer => push(out, word as usize),
            _ => push(out, word as i64),
        }
    }
    out.push(b'}');
}

/// "function":"open64","syscall":"openat" (null: it makes no one call).
fn json_names(f: &Frame, out: &mut Vec<u8>) {
    push(out, format_args!("\"function\":\"{}\",\"syscall\":", f.info().name));
    match f.made() {
        Some(s) => push(out, format_args!("\"{}\"", crate::table::SYSCALLS[s].name)),
        None => out.extend_from_slice(b"null"),
    }
}

fn json_errno(f: &Frame, out: &mut Vec<u8>) {
    if f.failed_by_result() {
        push(out, format_args!("\"{}\"", errno_name(f.error_code())));
    } else {
        out.extend_from_slice(b"null");
    }
}

/// {"ts":ns,"pid":..,"tid":..,"call":"openat","function":"open","syscall":"openat","args":{..},"result":n,"errno":null,"ns":elapsed}
/// (`call` is the name hooks see, call.name; `args` are the function's)
/// An exec's Entering line has `"result":null,"unfinished":true`, its
/// Resumed line `"resumed":true` and no args; an injected result
/// `"injected":true`.
pub unsafe fn jsonl(f: &Frame, strsize: usize, phase: Phase, out: &mut Vec<u8>) {
    let (pid, tid) = ids();
    let ts = sys::clock_ns(libc::CLOCK_REALTIME);
    push(out, format_args!("{{\"ts\":{ts},\"pid\":{pid},\"tid\":{tid},\"call\":\"{}\",", names::call_name(f.id)));
    json_names(f, out);
    out.push(b',');
    if phase == Phase::Resumed {
        out.extend_from_slice(b"\"resumed\":true,");
    } else {
        out.extend_from_slice(b"\"args\":");
        json_args(f, strsize, false, out);
        out.push(b',');
    }
    if phase == Phase::Entering {
        out.extend_from_slice(b"\"result\":null,\"errno\":null,\"unfinished\":true}");
        return;
    }
    push(out, format_args!("\"result\":{},\"errno\":", f.result));
    json_errno(f, out);
    if f.injected {
        out.extend_from_slice(b",\"injected\":true");
    }
    push(out, format_args!(",\"ns\":{}}}", f.elapsed_ns()));
}

/// A complete event ("ph":"X") in microseconds, with a comma after it (the
/// file is a JSON array that is never closed, which the viewers accept).
/// An exec is an instant event ("ph":"i") when it is entered, and a
/// complete one only when it failed.
pub unsafe fn chrome(f: &Frame, strsize: usize, phase: Phase, out: &mut Vec<u8>) {
    let (pid, tid) = ids();
    let info = f.info();
    let end_us = sys::clock_ns(libc::CLOCK_MONOTONIC) / 1000;
    let dur = if phase == Phase::Entering { 0 } else { (f.elapsed_ns() / 1000) as i64 };
    let group = info.groups.first().map_or("other", |g| g.as_str());
    let ph = if phase == Phase::Entering { "\"ph\":\"i\",\"s\":\"t\"" } else { "\"ph\":\"X\"" };
    push(out, format_args!("{{\"name\":\"{}\",\"cat\":\"{group}\",{ph},\"ts\":{},\"dur\":{dur},\"pid\":{pid},\"tid\":{tid},\"args\":", names::call_name(f.id), end_us - dur));
    json_args(f, strsize, true, out);
    if phase == Phase::Entering {
        out.extend_from_slice(b"},");
        return;
    }
    out.pop();
    push(out, format_args!("{}\"result\":{},\"errno\":", if f.nargs > 0 { "," } else { "" }, f.result));
    json_errno(f, out);
    if f.injected {
        out.extend_from_slice(b",\"injected\":true");
    }
    out.extend_from_slice(b"}},");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::id;
    use crate::table::symbols::rendered;

    #[test]
    fn json_strings_stay_valid_for_any_bytes() {
        assert_eq!(rendered(|o| json_str("é\"\x01\n".as_bytes(), o)), "\"é\\\"\\u0001\\n\"");
        assert_eq!(rendered(|o| json_str(b"a\xffb", o)), "\"a\\u00ffb\"");
    }

    #[test]
    fn jsonl_lines_decode_the_arguments() {
        let buf = b"0123456789";
        let real = |_: &crate::frame::Words| 10;
        let mut f = Frame::new(id::read, &[3, buf.as_ptr() as u64, 64], crate::frame::RealFn::new(&real), 0);
        f.proceed();
        let line = rendered(|o| unsafe { jsonl(&f, 4, Phase::Done, o) });
        assert!(line.contains("\"call\":\"read\",\"function\":\"read\",\"syscall\":\"read\",\"args\":{\"fd\":3,\"buf\":\"0123\",\"count\":64},\"result\":10,\"errno\":null"), "{line}");
    }
}
