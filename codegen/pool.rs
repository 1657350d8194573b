//! build.rs's pools for the generated table: every string of the rows in one
//! string, every row's list (arguments, groups, views) in one array of its
//! kind. A row holds places in them (`Text::at`, `Span::at`), never a
//! pointer, so the table needs no relocation when the library is loaded:
//! a process that never reads the table never touches its pages (about 50
//! of them, copied by the loader in every process when they held pointers).

use std::collections::HashMap;
use std::fmt::Write as _;

/// The kinds of list a row holds, each an array of src/table/mod.rs's
/// `Pooled` type of that name.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum List {
    /// `ARG_POOL: [ArgInfo; _]`
    Args,
    /// `TEXT_POOL: [Text; _]` (groups, manual names)
    Texts,
    /// `SRC_POOL: [Src; _]` (views)
    Srcs,
}

const LISTS: [(List, &str, &str); 3] = [(List::Args, "ARG_POOL", "ArgInfo"), (List::Texts, "TEXT_POOL", "Text"), (List::Srcs, "SRC_POOL", "Src")];

#[derive(Default)]
pub struct Pool {
    strings: String,
    placed: HashMap<String, usize>,
    lists: HashMap<List, Vec<String>>,
}

impl Pool {
    /// A string's place, as the Rust expression of a `Text`.
    pub fn text(&mut self, s: &str) -> String {
        let at = match self.placed.get(s) {
            Some(&at) => at,
            None => {
                let at = self.strings.len();
                self.strings.push_str(s);
                self.placed.insert(s.to_string(), at);
                at
            }
        };
        assert!(s.len() <= u16::MAX as usize, "a table string of {} bytes: Text holds up to 65535", s.len());
        format!("Text::at({at}, {})", s.len())
    }

    /// A list's place in the array of its kind (an equal run already there
    /// is shared), as the Rust expression of a `Span`: `items` are the
    /// elements' Rust expressions.
    pub fn span(&mut self, list: List, items: Vec<String>) -> String {
        let pool = self.lists.entry(list).or_default();
        let at = match items.is_empty() {
            true => 0,
            false => match pool.windows(items.len()).position(|w| w == items.as_slice()) {
                Some(at) => at,
                None => {
                    pool.extend(items.iter().cloned());
                    pool.len() - items.len()
                }
            },
        };
        assert!(at <= u16::MAX as usize && items.len() <= u8::MAX as usize, "{list:?}: a list at {at} of {}", items.len());
        format!("Span::at({at}, {})", items.len())
    }

    /// The pools themselves, for `$OUT_DIR/calls.rs`.
    pub fn emit(&self) -> String {
        let mut s = String::new();
        writeln!(s, "/// Every string of the table's rows (each row's `Text` is a place in it).").unwrap();
        writeln!(s, "pub(crate) const STRINGS: &str = {:?};", self.strings).unwrap();
        for (list, name, ty) in LISTS {
            let items = self.lists.get(&list).map_or(&[][..], |v| v.as_slice());
            writeln!(s, "pub(crate) static {name}: [{ty}; {}] = [{}];", items.len(), items.join(", ")).unwrap();
        }
        s
    }
}
