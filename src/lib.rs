//! hijack: the C library's call wrappers handed to Ruby hook code.
//!
//! Layers, from the bottom:
//! - [`ffi`]: bindgen's view of the mruby headers (generated per target);
//! - [`mrb`]: the one thin unsafe layer over it that the rest uses;
//! - [`sys`]: what differs between operating systems (errno, thread ids);
//! - [`table`]: the call table (generated from `src/calls.tab`);
//! - [`real`]: the real functions, looked up once;
//! - [`guard`]: the per-thread re-entrancy guard;
//! - [`fds`]: hijack's own descriptors, kept out of the program's way;
//! - [`memory`]: the allocator's entry points, usable before dlsym;
//! - [`engine`]: a hooked call's frame and its dispatch;
//! - [`hooks`]: the hooks of a VM and the chain that runs them;
//! - [`filter`], [`glob`], [`sockaddr`]: hook filters, checked natively;
//! - [`follow`]: hijack's variables carried through exec;
//! - [`lock`]: a spin lock a fork child can reset;
//! - [`vm`]: the compiled hook program and one mruby VM per thread;
//! - [`shared`]: Hijack::Shared, the store threads and VMs share;
//! - [`native`]: the native methods of the `Hijack` module;
//! - [`regex`]: Regexp for hook code (POSIX extended, from the C library);
//! - [`preload`]: start-up inside a target process (the preload library).

#[allow(non_upper_case_globals, non_camel_case_types, non_snake_case, dead_code, unnecessary_transmutes, clippy::all)]
pub mod ffi {
    include!(concat!(env!("OUT_DIR"), "/mruby.rs"));
}

pub mod blackhole;
pub mod control;
pub mod elf;
pub mod dispatch;
#[cfg(feature = "preload")]
pub mod entry;
pub mod exit;
pub mod errnames;
pub mod fakefile;
pub mod fds;
pub mod filter;
pub mod frame;
pub mod follow;
pub mod glob;
pub mod lock;
pub mod guard;
pub mod hooks;
pub mod log;
#[cfg(all(feature = "preload", target_os = "linux"))]
pub mod math;
pub mod memory;
pub mod mrb;
pub mod native;
pub mod preload;
pub mod real;
pub mod regex;
pub mod script;
pub mod shared;
pub mod sockaddr;
pub mod spawn;
pub mod stash;
pub mod symbols;
pub mod sys;
pub mod table;
#[cfg(feature = "tui")]
pub mod top;
pub mod trace;
pub mod tracefile;
pub mod vm;

/// Property tests: bounded fuzzing of the glob, Regexp and trace decoding.
#[cfg(test)]
mod props;
