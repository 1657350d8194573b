//! The operating system and the C library, below everything else.

pub mod elf;
pub mod errnames;
pub mod fds;
pub mod glob;
pub mod guard;
pub mod heap;
pub mod lock;
pub mod log;
#[cfg(all(feature = "preload", target_os = "linux"))]
pub mod math;
pub mod real;
pub mod regex;
#[cfg(target_os = "linux")]
pub mod relocs;
pub mod sockaddr;
pub mod sud;
pub mod sys;
