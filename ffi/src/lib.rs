//! The C ABI of ringlock: `libringlock.so` / `libringlock.a`, described by the
//! generated `include/ringlock.h`.
//!
//! Thin by design: argument checking, conversion and error mapping; all logic
//! lives in the core crate. Every `extern "C"` function goes through
//! [`boundary`] (panics become `RL_ERR_INTERNAL`, errors are recorded for
//! `rl_last_error`), and the `///` docs of those functions are the C docs.

#![allow(non_camel_case_types)] // C type names: rl_ring, rl_lock, rl_status, ...
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]
// The entry points take raw pointers from C, which has no `unsafe`: their
// contract (NULL or valid) is stated in the header, checked where it can be,
// and every dereference sits in an `unsafe` block saying why it holds. The
// crate builds only a cdylib and a staticlib, so no Rust code calls them.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

mod args;
mod boundary;

// Declaration order is the header's reading order (blank lines keep rustfmt
// from sorting): the version, statuses and errors, rings, jump hash, then
// locks, as in DESIGN.md, and membership rings in etcd.
pub mod version;

pub mod error;

pub mod ring;
pub mod shared_ring;

pub mod jump;

pub mod lock;

pub mod membership;
