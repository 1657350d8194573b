//! Argument words. A call's arguments are kept as words (u64: the C ABI
//! passes integers and pointers in registers of that size); these tiny
//! helpers are the one place where a word becomes a pointer, a descriptor
//! or a C string, and a pointer becomes a word again.

use std::ffi::CStr;

/// What an argument word can be read as.
pub trait Word: Copy {
    /// The word as a pointer to `T` (null stays null; nothing is read).
    fn ptr<T>(self) -> *mut T;

    /// A descriptor argument (a C int).
    fn fd(self) -> i32;

    /// The C string the word points to (None for NULL).
    ///
    /// # Safety
    /// The word is NULL or points to a NUL-terminated string alive for `'a`.
    unsafe fn c_str<'a>(self) -> Option<&'a [u8]>;
}

impl Word for u64 {
    #[inline(always)]
    fn ptr<T>(self) -> *mut T {
        self as usize as *mut T
    }

    #[inline(always)]
    fn fd(self) -> i32 {
        self as i32
    }

    unsafe fn c_str<'a>(self) -> Option<&'a [u8]> {
        (self != 0).then(|| CStr::from_ptr(self.ptr::<libc::c_char>()).to_bytes())
    }
}

/// The word of a pointer.
#[inline(always)]
pub fn of<T>(p: *const T) -> u64 {
    p as usize as u64
}

/// The C string an argument word points to (None for NULL).
///
/// # Safety
/// As [`Word::c_str`].
pub unsafe fn arg_str<'b>(word: u64) -> Option<&'b [u8]> {
    word.c_str()
}

/// The strings of a NULL-terminated argv or envp (None for NULL).
///
/// # Safety
/// `word` is NULL or a valid NULL-terminated array of C strings.
pub unsafe fn arg_argv<'b>(word: u64) -> Option<Vec<&'b [u8]>> {
    if word == 0 {
        return None;
    }
    let mut out = Vec::new();
    let mut p: *const *const libc::c_char = word.ptr();
    while !(*p).is_null() {
        out.push(CStr::from_ptr(*p).to_bytes());
        p = p.add(1);
    }
    Some(out)
}

/// The (seconds, nanoseconds) of a timespec argument (None for NULL).
///
/// # Safety
/// `word` is NULL or points to a valid timespec.
pub unsafe fn arg_timespec(word: u64) -> Option<(i64, i64)> {
    (word != 0).then(|| {
        let ts = &*word.ptr::<libc::timespec>();
        (ts.tv_sec as i64, ts.tv_nsec as i64)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_read_back_as_what_they_were_made_of() {
        let s = c"hijack";
        let w = of(s.as_ptr());
        assert_eq!(unsafe { w.c_str() }, Some(&b"hijack"[..]));
        assert_eq!(unsafe { 0u64.c_str() }, None);
        assert_eq!(w.ptr::<libc::c_char>() as *const libc::c_char, s.as_ptr());
        assert_eq!((-1i64 as u64).fd(), -1);
        let ts = libc::timespec { tv_sec: 3, tv_nsec: 5 };
        assert_eq!(unsafe { arg_timespec(of(&ts)) }, Some((3, 5)));
    }
}
