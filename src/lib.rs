//! hijack: the C library's call wrappers handed to Ruby hook code.
//!
//! A one-way stack: each layer uses only the layers below it (the `layers`
//! test checks every `crate::` path of `src/`, and that no module of a layer
//! reaches back to one that reaches it).
//! - [`platform`]: the operating system and the C library: errno, thread ids,
//!   locks, the re-entrancy guard, the real functions, hijack's own
//!   descriptors and log, globs, POSIX regexps, socket addresses;
//! - [`table`]: the call table (`src/table/calls.tab`, generated), the
//!   symbols its decoders read numbers as;
//! - [`frame`]: one call in progress as data: its words and how to read them;
//! - [`features`]: what reads or changes a frame natively: filters, exec
//!   following, tracing and counting, live control, the shared store, fake
//!   files, the blackhole, spawning, `hijack top`;
//! - [`ruby`]: mruby (the only place raw mruby FFI is used): the VMs, the hook
//!   chain, the `Hijack` module's native methods;
//! - [`dispatch`]: the one place that runs a hooked call;
//! - [`entry`]: the interposed entry points (generated), the allocator's, the
//!   ends of a process, the preload library's start-up.

pub mod platform;
pub mod table;
pub mod frame;
pub mod features;
pub mod ruby;
pub mod dispatch;
pub mod entry;

/// Rust's allocations in the preload library come from hijack's own heap,
/// never the program's (src/platform/heap.rs).
#[cfg(all(feature = "preload", target_os = "linux"))]
#[global_allocator]
static OWN_HEAP: platform::heap::Own = platform::heap::Own;

/// Property tests: bounded fuzzing of the glob, Regexp and trace decoding.
#[cfg(test)]
mod props;

/// The layer rule, checked on the source tree.
#[cfg(test)]
mod layers;
