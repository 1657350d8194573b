//! The calls by which a program acts on a descriptor number (`via fds` in
//! calls.tab): each makes room first, when the number is one of hijack's,
//! then makes the program's call (`real`) as it would go bare.

use super::*;

#[inline(always)]
pub unsafe fn close(real: unsafe extern "C" fn(libc::c_int) -> libc::c_int, fd: libc::c_int) -> libc::c_int {
    if closing(fd) {
        return -1;
    }
    real(fd)
}

#[inline(always)]
pub unsafe fn dup(real: unsafe extern "C" fn(libc::c_int) -> libc::c_int, fd: libc::c_int) -> libc::c_int {
    reading(fd);
    real(fd)
}

#[inline(always)]
pub unsafe fn dup2(real: unsafe extern "C" fn(libc::c_int, libc::c_int) -> libc::c_int, fd: libc::c_int, to: libc::c_int) -> libc::c_int {
    reading(fd);
    replacing(to);
    real(fd, to)
}

#[inline(always)]
pub unsafe fn dup3(
    real: unsafe extern "C" fn(libc::c_int, libc::c_int, libc::c_int) -> libc::c_int,
    fd: libc::c_int,
    to: libc::c_int,
    flags: libc::c_int,
) -> libc::c_int {
    reading(fd);
    replacing(to);
    real(fd, to, flags)
}

#[inline(always)]
pub unsafe fn fcntl(
    real: unsafe extern "C" fn(libc::c_int, libc::c_int, ...) -> libc::c_int,
    fd: libc::c_int,
    cmd: libc::c_int,
    arg: libc::c_long,
) -> libc::c_int {
    reading(fd);
    duplicated(cmd, arg as i64, real(fd, cmd, arg) as i64) as libc::c_int
}

pub use self::fcntl as fcntl64;

/// The descriptor under a stdio stream that is about to be closed or
/// reopened (fclose, freopen: the C library closes it internally).
unsafe fn stream_closing(stream: *mut libc::c_void) {
    if stream.is_null() {
        return;
    }
    let fd = libc::fileno(stream as *mut libc::FILE);
    if fd >= 0 && touches(fd) {
        clear(fd, true);
    }
}

#[inline(always)]
pub unsafe fn fclose(real: unsafe extern "C" fn(*mut libc::c_void) -> libc::c_int, stream: *mut libc::c_void) -> libc::c_int {
    stream_closing(stream);
    real(stream)
}

#[inline(always)]
pub unsafe fn freopen(
    real: unsafe extern "C" fn(*mut libc::c_void, *mut libc::c_void, *mut libc::c_void) -> *mut libc::c_void,
    path: *mut libc::c_void,
    mode: *mut libc::c_void,
    stream: *mut libc::c_void,
) -> *mut libc::c_void {
    stream_closing(stream);
    real(path, mode, stream)
}

pub use self::freopen as freopen64;

/// daemon(3) points 0, 1 and 2 at /dev/null unless `noclose`.
#[inline(always)]
pub unsafe fn daemon(real: unsafe extern "C" fn(libc::c_int, libc::c_int) -> libc::c_int, nochdir: libc::c_int, noclose: libc::c_int) -> libc::c_int {
    if noclose == 0 && touches(2) {
        clear(2, true);
    }
    real(nochdir, noclose)
}

#[inline(always)]
pub unsafe fn close_range(
    real: unsafe extern "C" fn(libc::c_uint, libc::c_uint, libc::c_int) -> libc::c_int,
    first: libc::c_uint,
    last: libc::c_uint,
    flags: libc::c_int,
) -> libc::c_int {
    if first > last || !ranges_touch(first, last) {
        return real(first, last, flags);
    }
    around_owned(first, last, |a, b| real(a, b, flags))
}

/// Whether [first, last] holds one of hijack's numbers (or descriptor 2
/// while watched).
#[inline(always)]
fn ranges_touch(first: u32, last: u32) -> bool {
    let floor = FLOOR.load(Ordering::Relaxed);
    (floor != i32::MAX && last >= floor as u32) || (WATCHED.load(Ordering::Relaxed) == 2 && first <= 2 && last >= 2)
}

/// Runs `close(a, b)` on the parts of [first, last] that hold none of
/// hijack's numbers (those stay: there is no room to move them outside a
/// range that ends at the top). The first failure, or 0.
#[cold]
#[inline(never)]
fn around_owned(first: u32, last: u32, close: impl Fn(u32, u32) -> i32) -> i32 {
    if first <= 2 && last >= 2 {
        clear(2, true);
    }
    let owned = owned_in(&TABLE.read(), first, last);
    let mut result = 0;
    let mut from = first;
    for fd in owned {
        if fd > from {
            let r = close(from, fd - 1);
            if result == 0 {
                result = r;
            }
        }
        from = fd + 1;
    }
    if from <= last && from != 0 {
        let r = close(from, last);
        if result == 0 {
            result = r;
        }
    }
    result
}

#[inline(always)]
pub unsafe fn closefrom(real: unsafe extern "C" fn(libc::c_int), low: libc::c_int) {
    let first = low.max(0) as u32;
    if !ranges_touch(first, u32::MAX) {
        return real(low);
    }
    around_owned(first, u32::MAX, |a, b| {
        if b == u32::MAX {
            real(a as libc::c_int);
            0
        } else {
            close_numbers(a, b)
        }
    });
}

/// Closes [a, b] with close_range, or one by one where it is missing.
fn close_numbers(a: u32, b: u32) -> i32 {
    #[cfg(target_os = "linux")]
    if let Some(f) = crate::platform::real::close_range.get() {
        // SAFETY: closing numbers the program asked to close.
        if unsafe { f(a, b, 0) } == 0 {
            return 0;
        }
    }
    for fd in a..=b {
        raw::close(fd as i32);
    }
    0
}

/// Before the soft RLIMIT_NOFILE drops to `soft` (None: no new limit):
/// hijack's numbers at or above it move below it, where there is room.
fn limit_lowered(resource: libc::c_int, soft: Option<u64>) {
    let Some(soft) = soft else { return };
    if resource as i64 != libc::RLIMIT_NOFILE as i64 || soft > i32::MAX as u64 {
        return;
    }
    let soft = soft as i32;
    if FLOOR.load(Ordering::Relaxed) < soft {
        return;
    }
    lower(soft);
}

#[cold]
#[inline(never)]
fn lower(soft: i32) {
    let table = TABLE.write();
    if OWNER.load(Ordering::Relaxed) != pid() {
        return;
    }
    for slot in table.iter() {
        let fd = slot.load(Ordering::Relaxed);
        if fd >= soft {
            let moved = raw::dup_at_least(fd, base(soft));
            if moved >= 0 && moved < soft {
                slot.store(moved, Ordering::Relaxed);
                raw::close(fd);
            } else if moved >= 0 {
                raw::close(moved);
            }
        }
    }
    refloor(&table);
}

/// The soft limit a struct rlimit asks for (`WIDE`: a struct rlimit64,
/// whose fields are 64 bits on every target). rlim_cur is the first field.
unsafe fn soft_of<const WIDE: bool>(rlim: *const libc::c_void) -> Option<u64> {
    if rlim.is_null() {
        None
    } else if WIDE {
        Some(*(rlim as *const u64))
    } else {
        Some(*(rlim as *const libc::rlim_t) as u64)
    }
}

type SetLimit = unsafe extern "C" fn(libc::c_int, *mut libc::c_void) -> libc::c_int;
type PrLimit = unsafe extern "C" fn(libc::pid_t, libc::c_int, *mut libc::c_void, *mut libc::c_void) -> libc::c_int;

/// setrlimit and setrlimit64: a lowered RLIMIT_NOFILE moves hijack's
/// descriptors below it first.
#[inline(always)]
unsafe fn set_limit<const WIDE: bool>(real: SetLimit, resource: libc::c_int, rlim: *mut libc::c_void) -> libc::c_int {
    limit_lowered(resource, soft_of::<WIDE>(rlim));
    real(resource, rlim)
}

/// prlimit and prlimit64: the same, when the call sets this process's limit.
#[inline(always)]
unsafe fn pr_limit<const WIDE: bool>(
    real: PrLimit,
    pid: libc::pid_t,
    resource: libc::c_int,
    new: *mut libc::c_void,
    old: *mut libc::c_void,
) -> libc::c_int {
    if !new.is_null() && own_process(pid) {
        limit_lowered(resource, soft_of::<WIDE>(new));
    }
    real(pid, resource, new, old)
}

#[inline(always)]
pub unsafe fn setrlimit(real: SetLimit, resource: libc::c_int, rlim: *mut libc::c_void) -> libc::c_int {
    set_limit::<false>(real, resource, rlim)
}

#[inline(always)]
pub unsafe fn setrlimit64(real: SetLimit, resource: libc::c_int, rlim: *mut libc::c_void) -> libc::c_int {
    set_limit::<true>(real, resource, rlim)
}

fn own_process(pid: libc::pid_t) -> bool {
    pid == 0 || pid == self::pid()
}

#[inline(always)]
pub unsafe fn prlimit(real: PrLimit, pid: libc::pid_t, resource: libc::c_int, new: *mut libc::c_void, old: *mut libc::c_void) -> libc::c_int {
    pr_limit::<false>(real, pid, resource, new, old)
}

#[inline(always)]
pub unsafe fn prlimit64(real: PrLimit, pid: libc::pid_t, resource: libc::c_int, new: *mut libc::c_void, old: *mut libc::c_void) -> libc::c_int {
    pr_limit::<true>(real, pid, resource, new, old)
}

/// syscall(2) with the numbers of the calls above.
#[cfg(target_os = "linux")]
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub unsafe fn syscall(
    real: unsafe extern "C" fn(libc::c_long, ...) -> libc::c_long,
    n: libc::c_long,
    a1: libc::c_long,
    a2: libc::c_long,
    a3: libc::c_long,
    a4: libc::c_long,
    a5: libc::c_long,
    a6: libc::c_long,
) -> libc::c_long {
    let plain = || real(n, a1, a2, a3, a4, a5, a6);
    match n {
        libc::SYS_close => {
            if closing(a1 as i32) {
                return -1;
            }
            plain()
        }
        libc::SYS_close_range => {
            let (first, last) = (a1 as u32, a2 as u32);
            if first > last || !ranges_touch(first, last) {
                return plain();
            }
            around_owned(first, last, |a, b| real(n, a as libc::c_long, b as libc::c_long, a3) as i32) as libc::c_long
        }
        libc::SYS_dup => {
            reading(a1 as i32);
            plain()
        }
        #[cfg(any(target_arch = "x86_64", target_arch = "x86"))]
        libc::SYS_dup2 => {
            reading(a1 as i32);
            replacing(a2 as i32);
            plain()
        }
        libc::SYS_dup3 => {
            reading(a1 as i32);
            replacing(a2 as i32);
            plain()
        }
        #[cfg(target_arch = "x86")]
        libc::SYS_fcntl64 => {
            reading(a1 as i32);
            duplicated(a2 as i32, a3 as i64, plain() as i64) as libc::c_long
        }
        libc::SYS_fcntl => {
            reading(a1 as i32);
            duplicated(a2 as i32, a3 as i64, plain() as i64) as libc::c_long
        }
        #[cfg(any(target_arch = "x86_64", target_arch = "x86"))]
        libc::SYS_setrlimit => {
            limit_lowered(a1 as i32, soft_of::<false>(a2 as usize as *const libc::c_void));
            plain()
        }
        libc::SYS_prlimit64 => {
            if a3 != 0 && own_process(a1 as i32) {
                limit_lowered(a2 as i32, soft_of::<true>(a3 as usize as *const libc::c_void));
            }
            plain()
        }
        _ => plain(),
    }
}
