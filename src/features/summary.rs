//! Counting for `hijack run --summary`: per-call atomic totals (calls,
//! errors, time, bytes), written at exit and before an exec.

use crate::features::trace::ids;
use crate::features::tracefile;
use crate::frame::Frame;
use crate::table::{BufDir, CALLS, CALL_COUNT, SYSCALLS, SYSCALL_COUNT};
use std::sync::atomic::{AtomicU64, Ordering};

/// count, errors, ns, bytes read, bytes written: per system call made (all
/// the functions making openat count as openat; syscall() as the call it
/// numbers), then per function that makes no one call (getaddrinfo).
static COUNTS: [[AtomicU64; 5]; SLOTS] = [const { [const { AtomicU64::new(0) }; 5] }; SLOTS];
const SLOTS: usize = SYSCALL_COUNT + CALL_COUNT;

fn slot(frame: &Frame) -> usize {
    frame.made().unwrap_or(SYSCALL_COUNT + frame.id)
}

fn slot_name(slot: usize) -> &'static str {
    match slot.checked_sub(SYSCALL_COUNT) {
        None => SYSCALLS[slot].name.as_str(),
        Some(id) => CALLS[id].name.as_str(),
    }
}

/// Where this process's totals go (`hijack run --summary`'s file).
static SUMMARY: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();

/// The totals go to the trace file `path`, as `summary ...` lines.
pub fn count_to(path: &[u8]) {
    let _ = SUMMARY.set(path.to_vec());
}

/// Writes this process's totals (`summary pid=P call=NAME count=..
/// errors=.. ns=.. read=.. written=..`, one line per call) and starts them
/// again from zero: at exit, and before an exec replaces the process (its
/// totals would go with it).
pub fn flush_counts() {
    let Some(path) = SUMMARY.get() else { return };
    let (pid, _) = ids();
    for (name, c) in counts() {
        let line = format!("summary pid={pid} call={name} count={} errors={} ns={} read={} written={}", c[0], c[1], c[2], c[3], c[4]);
        if tracefile::write(path, line.into_bytes()).is_err() {
            crate::platform::log::line("hijack: cannot write the summary file");
        }
    }
    reset_counts();
}

/// Adds the call in `frame` to its totals: once it is over, or for an exec
/// when it is entered (then the totals are written: a failed exec adds its
/// error when it is over).
pub fn count(frame: &Frame, entering: bool) {
    let c = &COUNTS[slot(frame)];
    let resumed = frame.info().exec && frame.proceeded && !entering;
    if !resumed {
        c[0].fetch_add(1, Ordering::Relaxed);
    }
    if entering {
        flush_counts();
        return;
    }
    let failed = frame.failed_by_result();
    if failed {
        c[1].fetch_add(1, Ordering::Relaxed);
    }
    c[2].fetch_add(frame.elapsed_ns(), Ordering::Relaxed);
    if !failed && frame.result > 0 {
        match frame.info().buffer {
            BufDir::Out => c[3].fetch_add(frame.result as u64, Ordering::Relaxed),
            BufDir::In => c[4].fetch_add(frame.result as u64, Ordering::Relaxed),
            BufDir::NoBuf => 0,
        };
    }
}

/// The calls counted in this process: (name, [count, errors, ns, read, written]).
pub fn counts() -> Vec<(&'static str, [u64; 5])> {
    COUNTS
        .iter()
        .enumerate()
        .filter(|(_, c)| c[0].load(Ordering::Relaxed) > 0)
        .map(|(slot, c)| (slot_name(slot), std::array::from_fn(|k| c[k].load(Ordering::Relaxed))))
        .collect()
}

/// A fork child: its totals start from zero (the parent counts its own).
pub fn forked() {
    // (counts nobody keeps stay untouched: a write would copy their pages)
    if SUMMARY.get().is_some() {
        reset_counts();
    }
}

fn reset_counts() {
    for c in COUNTS.iter().flatten() {
        c.store(0, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::id;

    #[test]
    fn counts_add_up_per_call() {
        let real = |_: &crate::frame::Words| 5;
        let mut f = Frame::new(id::pread, &[3, 0, 5, 0], crate::frame::RealFn::new(&real), 0);
        f.proceed();
        count(&f, false);
        count(&f, false);
        let (_, c) = counts().into_iter().find(|(n, _)| *n == "pread64").unwrap();
        assert_eq!((c[0], c[1], c[3], c[4]), (2, 0, 10, 0));
        // syscall() counts as the call it numbers
        let mut f = Frame::new(id::syscall, &[libc::SYS_getppid as u64, 0, 0, 0, 0, 0, 0], crate::frame::RealFn::new(&real), 0);
        f.proceed();
        count(&f, false);
        assert!(counts().iter().any(|(n, c)| *n == "getppid" && c[0] >= 1));
    }
}
