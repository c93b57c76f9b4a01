//! Inspection: size, algorithm, enumeration, membership.

use super::{rl_algorithm, rl_ring};
use crate::args;
use crate::boundary;
use crate::error::rl_status;
use ringlock_core::{Error, ErrorKind};
use std::ffi::c_char;

/// The number of nodes in `ring`; 0 if `ring` is NULL (recorded as a failure
/// for `rl_last_error`). Safe concurrently with other `const rl_ring *` calls.
#[no_mangle]
pub extern "C" fn rl_ring_len(ring: *const rl_ring) -> usize {
    boundary::value("rl_ring_len", 0, || {
        // SAFETY: `ring` is NULL or a live ring not being mutated (header).
        Ok(unsafe { rl_ring::from_ptr(ring) }?.ring.len())
    })
}

/// The algorithm of `ring` (an `RL_ALGORITHM_*` value); 0 if `ring` is NULL
/// (recorded as a failure for `rl_last_error`). Safe concurrently with other
/// `const rl_ring *` calls.
#[no_mangle]
pub extern "C" fn rl_ring_algorithm(ring: *const rl_ring) -> rl_algorithm {
    boundary::value("rl_ring_algorithm", 0, || {
        // SAFETY: `ring` is NULL or a live ring not being mutated (header).
        let r = unsafe { rl_ring::from_ptr(ring) }?;
        Ok(rl_algorithm::from(r.ring.algorithm().code()))
    })
}

/// Enumerates the nodes: node `index` (0 <= `index` < `rl_ring_len(ring)`) in byte
/// order of the names. Stores its name in `*name` and its weight in
/// `*weight`.
///
/// `*name` is borrowed from `ring`: valid until the next mutation of `ring`
/// (`rl_ring_add`, `rl_ring_add_many`, `rl_ring_remove`, `rl_ring_set_weight`)
/// or `rl_ring_free`. Do not free it.
///
/// Returns `RL_OK`, `RL_ERR_NOT_FOUND` (`index` past the end) or
/// `RL_ERR_INVALID_ARGUMENT` (a pointer NULL). Outputs are written only on
/// success. Safe concurrently with other `const rl_ring *` calls.
#[no_mangle]
pub extern "C" fn rl_ring_node(
    ring: *const rl_ring,
    index: usize,
    name: *mut *const c_char,
    weight: *mut u32,
) -> rl_status {
    boundary::status("rl_ring_node", || {
        // SAFETY: `ring` is NULL or a live ring not being mutated (header).
        let r = unsafe { rl_ring::from_ptr(ring) }?;
        // SAFETY: `name` is NULL or writable (header contract).
        let name = unsafe { args::out(name, "name") }?;
        // SAFETY: `weight` is NULL or writable (header contract).
        let weight = unsafe { args::out(weight, "weight") }?;
        let (_, w) = r.ring.node(index).ok_or_else(|| {
            Error::new(
                ErrorKind::NotFound,
                format!(
                    "index {index} is past the last node (the ring has {})",
                    r.ring.len()
                ),
            )
        })?;
        name.write(r.name_ptr(index)?);
        weight.write(w);
        Ok(())
    })
}

/// Stores in `*contains` whether `node` is a node of `ring` (false for "").
///
/// Returns `RL_OK` or `RL_ERR_INVALID_ARGUMENT` (a pointer NULL, `node` not
/// UTF-8). `*contains` is written only on success. Safe concurrently with
/// other `const rl_ring *` calls.
#[no_mangle]
pub extern "C" fn rl_ring_contains(
    ring: *const rl_ring,
    node: *const c_char,
    contains: *mut bool,
) -> rl_status {
    boundary::status("rl_ring_contains", || {
        // SAFETY: `ring` is NULL or a live ring not being mutated (header).
        let r = unsafe { rl_ring::from_ptr(ring) }?;
        // SAFETY: `node` is NULL or a NUL-terminated string (header contract).
        let node = unsafe { args::name(node, "node") }?;
        // SAFETY: `contains` is NULL or writable (header contract).
        let contains = unsafe { args::out(contains, "contains") }?;
        contains.write(r.ring.contains(node));
        Ok(())
    })
}
