//! Tracing, natively: a traced call becomes one line (strace's format, a
//! JSON object, or a Chrome trace event) written with one write(2), without
//! entering Ruby. `Hijack.trace` registers a tracer; its observer runs it
//! once the call is over (src/ruby/hooks.rs). The formats are [`strace`] and
//! [`json`]; counting for `--summary` is features::summary.

pub mod json;
pub mod strace;
mod structs;

pub use json::{chrome, json_str, jsonl};
pub use strace::{quote, strace};

use crate::frame::view::SysArg;
use crate::frame::{arg_argv, arg_str, arg_timespec, Frame, Word};
use crate::table::symbols::{self, AF, CLOCK, MSG};
use crate::table::{names, BufDir, Decode, Errors, Kind, SysResult, SYSCALLS};
use crate::{platform::sockaddr, platform::sys, features::tracefile};
use std::cell::Cell;
use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Strace,
    Jsonl,
    Chrome,
}

#[derive(Debug, PartialEq)]
pub struct Tracer {
    pub path: Vec<u8>,
    pub format: Format,
    /// Each call's duration at the end of the line (strace's -T).
    pub time: bool,
    /// How many bytes of a buffer or argv string are shown.
    pub strsize: usize,
}

const MAX_TRACERS: usize = 64;
static TRACERS: [AtomicPtr<Tracer>; MAX_TRACERS] = [const { AtomicPtr::new(std::ptr::null_mut()) }; MAX_TRACERS];
static REGISTER: crate::platform::lock::SpinLock<()> = crate::platform::lock::SpinLock::new(());

/// The id of a tracer like `t` (every thread's VM runs the same scripts and
/// so asks for the same tracers: they share one). None when there are too many.
pub fn register(t: Tracer) -> Option<usize> {
    let _lock = REGISTER.lock();
    for (i, slot) in TRACERS.iter().enumerate() {
        let p = slot.load(Ordering::Acquire);
        if p.is_null() {
            slot.store(Box::into_raw(Box::new(t)), Ordering::Release);
            return Some(i);
        }
        // SAFETY: tracers are never freed.
        if unsafe { &*p } == &t {
            return Some(i);
        }
    }
    None
}

fn tracer(id: usize) -> Option<&'static Tracer> {
    let p = TRACERS.get(id)?.load(Ordering::Acquire);
    // SAFETY: tracers are never freed.
    (!p.is_null()).then(|| unsafe { &*p })
}

/// Where a traced call is when its line is written.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Phase {
    /// Over: one whole line.
    Done,
    /// An exec about to be made (it returns only if it fails): strace's
    /// `<unfinished ...>` line.
    Entering,
    /// An exec that failed, after its Entering line: `<... resumed>`.
    Resumed,
}

/// Writes the line of the call in `frame` with tracer `id`: `entering` just
/// before the real call of an exec, else once the call is over.
pub fn record(id: usize, frame: &Frame, entering: bool) {
    let Some(t) = tracer(id) else { return };
    // a fork's child: strace shows the call once, in the parent
    if frame.info().forks && frame.proceeded && frame.result == 0 {
        return;
    }
    let phase = match (frame.info().exec, entering) {
        (_, true) => Phase::Entering,
        // an exec the hooks decided without the real call never entered it
        (true, false) if frame.proceeded => Phase::Resumed,
        _ => Phase::Done,
    };
    let mut line = Vec::with_capacity(160);
    // SAFETY: the frame's pointer arguments are the caller's, valid during the call.
    unsafe {
        match t.format {
            Format::Strace => strace(frame, t.strsize, t.time, phase, &mut line),
            Format::Jsonl => jsonl(frame, t.strsize, phase, &mut line),
            Format::Chrome => chrome(frame, t.strsize, phase, &mut line),
        }
    }
    if tracefile::write(&t.path, line).is_err() {
        crate::platform::log::line("hijack: cannot write the trace file");
    }
}

// ---- this process and thread ------------------------------------------------

static FORKS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    // (forks seen, pid, tid): the ids, asked once per thread and process.
    static IDS: Cell<(u64, i64, i64)> = const { Cell::new((u64::MAX, 0, 0)) };
}

/// A fork child: its ids are new.
pub fn forked() {
    FORKS.fetch_add(1, Ordering::Relaxed);
}

pub fn ids() -> (i64, i64) {
    let forks = FORKS.load(Ordering::Relaxed);
    let cached = IDS.try_with(Cell::get).unwrap_or((u64::MAX, 0, 0));
    if cached.0 == forks {
        return (cached.1, cached.2);
    }
    let (pid, tid) = (sys::pid(), sys::tid());
    let _ = IDS.try_with(|c| c.set((forks, pid, tid)));
    (pid, tid)
}

// ---- what a call did ----------------------------------------------------------

fn errno_name(n: i32) -> String {
    crate::platform::errnames::name(n).map(str::to_string).unwrap_or_else(|| format!("E{n}"))
}

fn push(out: &mut Vec<u8>, s: impl std::fmt::Display) {
    use std::io::Write;
    let _ = write!(out, "{s}");
}

