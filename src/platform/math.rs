//! The C math functions libmruby calls (pow and llround; frexp is in the C
//! library itself), for the Linux preload library: with them here it does
//! not load libm, ~300 KB resident in every process that would not load it
//! otherwise. They stay local to the library (its version script exports
//! only the interposed calls), so the program's own pow is not replaced.

#[no_mangle]
pub extern "C" fn pow(x: f64, y: f64) -> f64 {
    libm::pow(x, y)
}

/// Rounds half away from zero; out of range saturates.
#[no_mangle]
pub extern "C" fn llround(x: f64) -> libc::c_longlong {
    libm::round(x) as libc::c_longlong
}
