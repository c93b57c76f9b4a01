//! Bounded-load lookup in a shared ring: `rl_shared_ring_get_bounded`.

use super::rl_shared_ring;
use crate::args;
use crate::boundary;
use crate::error::rl_status;
use std::ffi::{c_char, c_void};

/// Stores in `*node` the node that takes the key `key[0..key_len]` under
/// bounded loads in the newest generation published: `rl_ring_get_bounded`'s
/// answer on the published ring (same cap, same order, same errors).
/// `loads[i]` is the load of node `i` of `rl_shared_ring_node`'s order;
/// `loads_len` must be the node count of the generation that answers — check
/// `rl_shared_ring_generation` when the membership may have changed. `key`
/// may be NULL only when `key_len` is 0; `loads` only when `loads_len` is 0.
///
/// `*node` lives in the mapping, as for `rl_shared_ring_get`: valid until the
/// next call on `ring` or `rl_shared_ring_close`.
///
/// Returns `RL_OK`, `RL_ERR_EMPTY_RING`, `RL_ERR_INVALID_ARGUMENT` (`ring`
/// or `node` NULL, `key` or `loads` NULL with a length > 0, `factor` NaN,
/// infinite or <= 1, `loads_len` not the number of nodes, loads summing past
/// 2^64 - 1), or the error of a failed switch. `*node` is written only on
/// success. Not concurrently with other calls on the same handle.
#[no_mangle]
pub extern "C" fn rl_shared_ring_get_bounded(
    ring: *mut rl_shared_ring,
    key: *const c_void,
    key_len: usize,
    loads: *const u64,
    loads_len: usize,
    factor: f64,
    node: *mut *const c_char,
) -> rl_status {
    boundary::status("rl_shared_ring_get_bounded", || {
        // SAFETY: `ring` is NULL or a live handle used by this thread only (header).
        let r = unsafe { rl_shared_ring::from_ptr(ring) }?;
        // SAFETY: `key` is NULL or `key_len` readable bytes (header contract).
        let key = unsafe { args::bytes(key, key_len, "key") }?;
        // SAFETY: `loads` is NULL or `loads_len` readable u64 (header contract).
        let loads = unsafe { args::slice(loads, loads_len, "loads") }?;
        // SAFETY: `node` is NULL or writable (header contract).
        let node = unsafe { args::out(node, "node") }?;
        let id = r.ring.get_bounded_id(key, loads, factor)?;
        node.write(r.name_ptr(id)?);
        Ok(())
    })
}
