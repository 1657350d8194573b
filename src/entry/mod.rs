//! The ways into hijack, at the top of the stack: the interposed entry
//! points (the preload library only), generated from src/table/calls.tab by
//! build.rs (`$OUT_DIR/entries.rs`), each ending in a jump to the real
//! function when nothing is hooked, to the dispatch when something is, or to
//! the lookup of the real function the first time; the allocator's, usable
//! before that lookup ([`memory`]); the ends of a process ([`exit`]); new
//! ones ([`forks`]); the
//! preload library's start-up ([`preload`]).

/// One interposed entry point: a module named after the call, with
/// - `entry`, exported as the C function (`symbol`): a jump to the real
///   function when `skip` holds (nothing hooked), to `hooked` otherwise, or
///   to `resolve` the first time (the real function not looked up yet);
/// - `resolve`: looks the real function up, or fails the call (ENOSYS);
/// - `hooked`: the dispatch, the real call made here, on the shallowest
///   stack (see dispatch::Dispatch), with the arguments as words (`words`)
///   and back (`proceed`), the result as the C type (`result`).
///
/// build.rs writes one `entry!` line per call of the table (the allocator's
/// six are written by hand, with the `early` arm); the names its
/// expressions use (the real function, `w`, `r`, the arguments) are the
/// line's own, bound by the template (macro hygiene keeps its other names
/// apart).
/// The real function called straight (nothing hooked): under
/// --all-syscalls with the thread's selector at ALLOW meanwhile, so that the
/// system call it makes does not come back through SIGSYS (but for a
/// function whose own system calls are caught: `inner`).
#[cfg(feature = "preload")]
macro_rules! direct {
    ($name:ident, $direct:expr) => {
        if !crate::platform::sud::on() || crate::table::CALLS[id::$name].inner {
            $direct
        } else {
            let old = crate::platform::sud::swap(crate::platform::sud::ALLOW);
            let r = $direct;
            crate::platform::sud::swap(old);
            r
        }
    };
}

#[cfg(feature = "preload")]
macro_rules! entry {
    ($name:ident = $symbol:literal, $real:ident: $real_ty:ty, ($($a:ident: $t:ty),*) -> $ret:ty,
     skip: $skip:expr,
     direct: $direct:expr,
     words: [$($word:expr),*],
     proceed: |$w:ident| $proceed:expr,
     result: |$r:ident| $result:expr) => {
        pub mod $name {
            use super::*;

            #[export_name = $symbol]
            pub unsafe extern "C" fn entry($($a: $t),*) -> $ret {
                let Some($real) = real::$name.cached() else {
                    return resolve($($a),*);
                };
                if $skip {
                    return direct!($name, $direct);
                }
                hooked($real, $($a),*)
            }

            #[cold]
            #[inline(never)]
            unsafe extern "C" fn resolve($($a: $t),*) -> $ret {
                if real::$name.get().is_none() {
                    let $r = dispatch::unavailable(id::$name);
                    return $result;
                }
                entry($($a),*)
            }

            entry!(@hooked $name, $real: $real_ty, ($($a: $t),*) -> $ret, $direct, [$($word),*], |$w| $proceed, |$r| $result);
        }
    };
    // The allocator's (src/entry/memory.rs): what runs `first`, and, until
    // the real function is known (dlsym itself allocates), `early`.
    (early $name:ident, $real:ident: $real_ty:ty, ($($a:ident: $t:ty),*) -> $ret:ty,
     first: $first:block,
     early: $early:expr,
     skip: $skip:expr,
     direct: $direct:expr,
     words: [$($word:expr),*],
     proceed: |$w:ident| $proceed:expr,
     result: |$r:ident| $result:expr) => {
        pub mod $name {
            use super::*;

            #[cfg_attr(not(target_os = "macos"), export_name = stringify!($name))]
            #[cfg_attr(target_os = "macos", export_name = concat!("hijack_i_", stringify!($name)))]
            pub unsafe extern "C" fn entry($($a: $t),*) -> $ret {
                $first
                let Some($real) = real::$name.get() else {
                    return $early;
                };
                if $skip {
                    return direct!($name, $direct);
                }
                hooked($real, $($a),*)
            }

            entry!(@hooked $name, $real: $real_ty, ($($a: $t),*) -> $ret, $direct, [$($word),*], |$w| $proceed, |$r| $result);
        }
    };
    (@hooked $name:ident, $real:ident: $real_ty:ty, ($($a:ident: $t:ty),*) -> $ret:ty, $direct:expr,
     [$($word:expr),*], |$w:ident| $proceed:expr, |$r:ident| $result:expr) => {
        #[inline(never)]
        unsafe extern "C" fn hooked($real: $real_ty, $($a: $t),*) -> $ret {
            let args = [$($word),*];
            let Some(started) = dispatch::start(id::$name, &args) else {
                return direct!($name, $direct);
            };
            let proceed = |$w: &frame::Words| $proceed;
            let mut d = dispatch::Dispatch::new(started, id::$name, &args, frame::RealFn::new(&proceed));
            if let Some(w) = d.before() {
                let r = proceed(w);
                d.returned(r);
            }
            let $r = d.finish();
            $result
        }
    };
}

pub mod exit;
pub mod forks;
pub mod memory;
#[cfg(all(feature = "preload", target_os = "linux"))]
pub mod numbered;
pub mod preload;
#[cfg(all(feature = "preload", target_os = "linux", any(target_arch = "x86_64", target_arch = "x86")))]
pub mod raw;
#[cfg(all(feature = "preload", target_os = "linux", any(target_arch = "x86_64", target_arch = "x86")))]
pub mod signals;

/// The generated entry points.
#[cfg(feature = "preload")]
#[allow(clippy::missing_safety_doc, unused_variables, unused_imports, non_snake_case)]
mod generated {
    use crate::entry::{exit, forks};
    #[cfg(target_os = "linux")]
    use crate::entry::numbered;
    use crate::features::{follow, listing};
    use crate::platform::fds::calls as fds;
    use crate::platform::real;
    use crate::table::id;
    use crate::{dispatch, frame};

    include!(concat!(env!("OUT_DIR"), "/entries.rs"));
}
