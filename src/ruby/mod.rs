//! The mruby layer: raw mruby FFI lives here only ([`ffi`], made thin by
//! [`mrb`]); the compiled scripts, one VM per thread, the hook chain, and the
//! native methods of the `Hijack` module.

#[allow(non_upper_case_globals, non_camel_case_types, non_snake_case, dead_code, unnecessary_transmutes, clippy::all)]
pub mod ffi {
    include!(concat!(env!("OUT_DIR"), "/mruby.rs"));
}

pub mod hooks;
pub mod mrb;
pub mod native;
pub mod script;
pub mod vm;
