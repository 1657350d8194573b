//! The ways into hijack, at the top of the stack: the interposed entry
//! points (the preload library only), generated from src/table/calls.tab by
//! build.rs (`$OUT_DIR/entries.rs`), each ending in a jump to the real
//! function when nothing is hooked, to the dispatch when something is, or to
//! the lookup of the real function the first time; the allocator's, usable
//! before that lookup ([`memory`]); the ends of a process ([`exit`]); the
//! preload library's start-up ([`preload`]).

pub mod exit;
pub mod memory;
pub mod preload;

/// The generated entry points.
#[cfg(feature = "preload")]
#[allow(clippy::missing_safety_doc, unused_variables, non_snake_case)]
mod generated {
    use crate::entry::exit;
    use crate::features::follow;
    use crate::platform::fds::calls as fds;
    use crate::platform::real;
    use crate::table::id;
    use crate::{dispatch, frame};

    include!(concat!(env!("OUT_DIR"), "/entries.rs"));
}
