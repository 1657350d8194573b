//! What reads or changes a call natively, on its frame, without Ruby.

pub mod blackhole;
pub mod control;
pub mod fakefile;
pub mod listing;
pub mod filter;
pub mod follow;
pub mod shared;
pub mod spawn;
pub mod stash;
pub mod summary;
#[cfg(feature = "tui")]
pub mod top;
pub mod trace;
pub mod tracefile;
