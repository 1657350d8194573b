//! The interposed entry points (the preload library only), generated from
//! src/calls.tab by build.rs (`$OUT_DIR/entries.rs`): each ends in a jump to
//! the real function when nothing is hooked, to the dispatch when something
//! is, or to the lookup of the real function the first time. The
//! allocator's entry points, usable before the lookup, are src/memory.rs.

#![allow(clippy::missing_safety_doc, unused_variables, non_snake_case)]

use crate::table::id;
use crate::{dispatch, exit, fds, follow, frame, real};

include!(concat!(env!("OUT_DIR"), "/entries.rs"));
