//! The table's strings and lists as places in build.rs's pools (`STRINGS`,
//! `ARG_POOL`, `TEXT_POOL`, `SRC_POOL` in `$OUT_DIR/calls.rs`): a row holds
//! offsets, never a pointer, so the table needs no relocation when the
//! library loads. (With pointers the loader wrote ~50 of its pages in every
//! process, the ones that never read the table too.)

use super::{ArgInfo, Src, ARG_POOL, SRC_POOL, STRINGS, TEXT_POOL};

/// A string of the table: its place in the one string every row's strings
/// are in (build.rs's pool). A row holds no pointer, so the table needs no
/// relocation when the library loads: the pages of a process that never
/// reads it stay the file's.
#[derive(Clone, Copy)]
pub struct Text {
    at: u32,
    len: u16,
}

impl Text {
    pub const fn at(at: u32, len: u16) -> Text {
        Text { at, len }
    }

    pub fn as_str(self) -> &'static str {
        &STRINGS[self.at as usize..self.at as usize + self.len as usize]
    }
}

impl std::ops::Deref for Text {
    type Target = str;
    fn deref(&self) -> &'static str {
        self.as_str()
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Text) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Text {}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<Text> for &str {
    fn eq(&self, other: &Text) -> bool {
        *self == other.as_str()
    }
}

impl std::fmt::Debug for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl std::fmt::Display for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The kinds of element a row's lists hold, each in one array of its own
/// (build.rs's pool).
pub trait Pooled: Sized + 'static {
    fn pool() -> &'static [Self];
}

impl Pooled for ArgInfo {
    fn pool() -> &'static [ArgInfo] {
        &ARG_POOL
    }
}

impl Pooled for Text {
    fn pool() -> &'static [Text] {
        &TEXT_POOL
    }
}

impl Pooled for Src {
    fn pool() -> &'static [Src] {
        &SRC_POOL
    }
}

/// A list of the table (a row's arguments, groups, view): its place in the
/// array of its kind, read as a slice.
pub struct Span<T: Pooled> {
    at: u16,
    len: u8,
    of: std::marker::PhantomData<fn() -> T>,
}

impl<T: Pooled> Span<T> {
    pub const fn at(at: u16, len: u8) -> Span<T> {
        Span { at, len, of: std::marker::PhantomData }
    }

    pub fn as_slice(&self) -> &'static [T] {
        &T::pool()[self.at as usize..self.at as usize + self.len as usize]
    }
}

impl<T: Pooled> Clone for Span<T> {
    fn clone(&self) -> Span<T> {
        *self
    }
}

impl<T: Pooled> Copy for Span<T> {}

impl<T: Pooled> std::ops::Deref for Span<T> {
    type Target = [T];
    fn deref(&self) -> &'static [T] {
        self.as_slice()
    }
}

impl<T: Pooled> IntoIterator for Span<T> {
    type Item = &'static T;
    type IntoIter = std::slice::Iter<'static, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.as_slice().iter()
    }
}

impl<T: Pooled + std::fmt::Debug> std::fmt::Debug for Span<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.as_slice().fmt(f)
    }
}

impl<T: Pooled + PartialEq, const N: usize> PartialEq<[T; N]> for Span<T> {
    fn eq(&self, other: &[T; N]) -> bool {
        self.as_slice() == other
    }
}
