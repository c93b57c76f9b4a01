//! Mutations: add, add_many, remove, set_weight. Each is all or nothing and
//! rebuilds the lookup table once.

use super::rl_ring;
use crate::args;
use crate::boundary::{self, Result};
use crate::error::rl_status;
use ringlock_core::Ring;
use std::ffi::c_char;

/// Applies `change` to the ring behind `ring`, then refreshes its names. The
/// core leaves the ring unchanged when `change` fails.
fn mutate(
    function: &'static str,
    ring: *mut rl_ring,
    change: impl FnOnce(&mut Ring) -> Result<()>,
) -> rl_status {
    boundary::status(function, || {
        // SAFETY: `ring` is NULL or a live ring used by nobody else during
        // the call (header contract: mutation needs exclusive access).
        let r = unsafe { rl_ring::from_mut_ptr(ring) }?;
        change(&mut r.ring)?;
        r.refresh_names()
    })
}

/// Adds node `node` (a non-empty UTF-8 string) with weight `weight` (>= 1).
///
/// Invalidates every name previously borrowed from `ring`. Needs exclusive
/// access to `ring`.
///
/// Returns `RL_OK`, `RL_ERR_ALREADY_EXISTS` (`node` is in the ring),
/// `RL_ERR_INVALID_ARGUMENT` (a pointer NULL, `node` empty or not UTF-8,
/// `weight` 0, the ring would pass its limits: see `rl_ring_limits`) or
/// `RL_ERR_IO` (out of memory for the new table). On failure the ring is
/// unchanged.
#[no_mangle]
pub extern "C" fn rl_ring_add(ring: *mut rl_ring, node: *const c_char, weight: u32) -> rl_status {
    mutate("rl_ring_add", ring, |r| {
        // SAFETY: `node` is NULL or a NUL-terminated string (header contract).
        let node = unsafe { args::name(node, "node") }?;
        r.add(node, weight)
    })
}

/// Adds `count` nodes at once, all or nothing, with one rebuild: `nodes[i]`
/// with weight `weights[i]`, or weight 1 for every node when `weights` is
/// NULL. `nodes` (and `weights`) may be NULL only when `count` is 0.
///
/// Invalidates every name previously borrowed from `ring`. Needs exclusive
/// access to `ring`.
///
/// Returns `RL_OK`, `RL_ERR_ALREADY_EXISTS` (a node is in the ring or given
/// twice), `RL_ERR_INVALID_ARGUMENT` (as `rl_ring_add`, or an array NULL
/// with `count` > 0) or `RL_ERR_IO` (out of memory). On failure the ring is
/// unchanged.
#[no_mangle]
pub extern "C" fn rl_ring_add_many(
    ring: *mut rl_ring,
    nodes: *const *const c_char,
    weights: *const u32,
    count: usize,
) -> rl_status {
    mutate("rl_ring_add_many", ring, |r| {
        // SAFETY: `nodes` is NULL or an array of `count` pointers (header).
        let nodes = unsafe { args::slice(nodes, count, "nodes") }?;
        let weights = if weights.is_null() {
            None
        } else {
            // SAFETY: `weights` is an array of `count` integers (header).
            Some(unsafe { args::slice(weights, count, "weights") }?)
        };
        let mut batch = Vec::with_capacity(count);
        for (i, &p) in nodes.iter().enumerate() {
            // SAFETY: each element is NULL or a NUL-terminated string (header).
            let name = unsafe { args::name(p, format_args!("nodes[{i}]")) }?;
            batch.push((name, weights.map_or(1, |w| w[i])));
        }
        r.add_many(batch)
    })
}

/// Removes node `node`. Only the keys it owned move.
///
/// Invalidates every name previously borrowed from `ring`. Needs exclusive
/// access to `ring`.
///
/// Returns `RL_OK`, `RL_ERR_NOT_FOUND` (`node` is not in the ring; "" never
/// is), `RL_ERR_INVALID_ARGUMENT` (a pointer NULL, `node` not UTF-8) or
/// `RL_ERR_IO` (out of memory for the new table). On failure the ring is
/// unchanged.
#[no_mangle]
pub extern "C" fn rl_ring_remove(ring: *mut rl_ring, node: *const c_char) -> rl_status {
    mutate("rl_ring_remove", ring, |r| {
        // SAFETY: `node` is NULL or a NUL-terminated string (header contract).
        let node = unsafe { args::name(node, "node") }?;
        r.remove(node)
    })
}

/// Sets the weight of node `node` to `weight` (>= 1).
///
/// Invalidates every name previously borrowed from `ring`. Needs exclusive
/// access to `ring`.
///
/// Returns `RL_OK`, `RL_ERR_NOT_FOUND` (`node` is not in the ring) or
/// `RL_ERR_INVALID_ARGUMENT` (a pointer NULL, `node` not UTF-8, `weight` 0,
/// the ring would pass its limits: see `rl_ring_limits`) or `RL_ERR_IO` (out
/// of memory). On failure the ring is unchanged.
#[no_mangle]
pub extern "C" fn rl_ring_set_weight(
    ring: *mut rl_ring,
    node: *const c_char,
    weight: u32,
) -> rl_status {
    mutate("rl_ring_set_weight", ring, |r| {
        // SAFETY: `node` is NULL or a NUL-terminated string (header contract).
        let node = unsafe { args::name(node, "node") }?;
        r.set_weight(node, weight)
    })
}
