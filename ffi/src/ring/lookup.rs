//! Lookups: get, get_n, get_many. They take `const rl_ring *`, take no lock
//! and may run from any number of threads at once.

use super::rl_ring;
use crate::args;
use crate::boundary;
use crate::error::rl_status;
use std::ffi::{c_char, c_void};

/// Keys `rl_ring_get_many` hands to the core's batched lookup at once.
const BATCH: usize = 32;

/// Stores in `*node` the name of the node that owns the key `key[0..key_len]`
/// (any bytes). `key` may be NULL only when `key_len` is 0.
///
/// `*node` is borrowed from `ring`: valid until the next mutation of `ring`
/// (`rl_ring_add`, `rl_ring_add_many`, `rl_ring_remove`, `rl_ring_set_weight`)
/// or `rl_ring_free`. Do not free it.
///
/// Returns `RL_OK`, `RL_ERR_EMPTY_RING` or `RL_ERR_INVALID_ARGUMENT` (`ring`
/// or `node` NULL, `key` NULL with `key_len` > 0). `*node` is written only on
/// success. Allocates nothing; safe concurrently with other
/// `const rl_ring *` calls.
#[no_mangle]
pub extern "C" fn rl_ring_get(
    ring: *const rl_ring,
    key: *const c_void,
    key_len: usize,
    node: *mut *const c_char,
) -> rl_status {
    boundary::status("rl_ring_get", || {
        // SAFETY: `ring` is NULL or a live ring not being mutated (header).
        let r = unsafe { rl_ring::from_ptr(ring) }?;
        // SAFETY: `key` is NULL or `key_len` readable bytes (header contract).
        let key = unsafe { args::bytes(key, key_len, "key") }?;
        // SAFETY: `node` is NULL or writable (header contract).
        let node = unsafe { args::out(node, "node") }?;
        r.ring.require_nodes()?;
        let id = r
            .ring
            .get_id(key)
            .ok_or_else(|| boundary::internal("no owner"))?;
        node.write(r.name_ptr(id)?);
        Ok(())
    })
}

/// Stores up to `n` distinct node names for the key `key[0..key_len]` in
/// `nodes[0..n]`: the owner first, then the next distinct nodes in ring
/// order (ketama, xxh3 and the client profiles: the continuum's points
/// clockwise; jump: the next buckets; maglev: the next table entries;
/// wrapping); `*found` gets how many, `min(n, rl_ring_len)` (fewer only for a
/// node whose weight earns it no point, as a light ketama node). Entries past
/// `*found` are left untouched.
///
/// O(points + n) time. Up to 16 names it allocates nothing; above, it
/// allocates `n` ids, and above 32 a bitset of the nodes seen (nodes / 8
/// bytes, on the stack up to 4,096 nodes).
///
/// `n` = 0 is allowed (finds 0), and then `nodes` may be NULL. `key` may be
/// NULL only when `key_len` is 0.
///
/// The names are borrowed from `ring`: valid until the next mutation of `ring`
/// (`rl_ring_add`, `rl_ring_add_many`, `rl_ring_remove`, `rl_ring_set_weight`)
/// or `rl_ring_free`. Do not free them.
///
/// Returns `RL_OK`, `RL_ERR_EMPTY_RING` (whatever `n`) or
/// `RL_ERR_INVALID_ARGUMENT` (`ring` or `found` NULL, `nodes` NULL with
/// `n` > 0, `key` NULL with `key_len` > 0). Outputs are written only on
/// success. Safe concurrently with other `const rl_ring *` calls.
#[no_mangle]
pub extern "C" fn rl_ring_get_n(
    ring: *const rl_ring,
    key: *const c_void,
    key_len: usize,
    nodes: *mut *const c_char,
    n: usize,
    found: *mut usize,
) -> rl_status {
    boundary::status("rl_ring_get_n", || {
        // SAFETY: `ring` is NULL or a live ring not being mutated (header).
        let r = unsafe { rl_ring::from_ptr(ring) }?;
        // SAFETY: `key` is NULL or `key_len` readable bytes (header contract).
        let key = unsafe { args::bytes(key, key_len, "key") }?;
        // SAFETY: `nodes` is NULL or `n` writable pointers (header contract).
        let nodes = unsafe { args::slice_out(nodes, n, "nodes") }?;
        // SAFETY: `found` is NULL or writable (header contract).
        let found = unsafe { args::out(found, "found") }?;
        r.ring.require_nodes()?;
        const STACK: usize = 16;
        let want = n.min(r.ring.len());
        let mut stack = [0usize; STACK];
        let mut heap = Vec::new();
        let ids = if want <= STACK {
            &mut stack[..want]
        } else {
            heap.resize(want, 0);
            &mut heap[..]
        };
        r.check_names()?;
        let k = r.ring.get_n_ids(key, ids);
        for (slot, &id) in nodes.iter_mut().zip(&ids[..k]) {
            slot.write(r.names[id].as_ptr());
        }
        found.write(k);
        Ok(())
    })
}

/// Stores in `nodes[i]` the owner of key `i`, `keys[i][0..key_lens[i]]`, for
/// each of the `count` keys: the same answers as `count` calls of
/// `rl_ring_get`, found by the batched lookup (blocks of 32 keys whose table
/// reads overlap). `keys[i]` may be NULL only when `key_lens[i]` is 0; the
/// three arrays may be NULL only when `count` is 0.
///
/// The names are borrowed from `ring`: valid until the next mutation of `ring`
/// (`rl_ring_add`, `rl_ring_add_many`, `rl_ring_remove`, `rl_ring_set_weight`)
/// or `rl_ring_free`. Do not free them.
///
/// Returns `RL_OK`, `RL_ERR_EMPTY_RING` (whatever `count`) or
/// `RL_ERR_INVALID_ARGUMENT` (`ring` NULL, an array NULL with `count` > 0, a
/// key NULL with its length > 0). `nodes` is written only on success.
/// Allocates nothing; safe concurrently with other `const rl_ring *` calls.
#[no_mangle]
pub extern "C" fn rl_ring_get_many(
    ring: *const rl_ring,
    keys: *const *const c_void,
    key_lens: *const usize,
    count: usize,
    nodes: *mut *const c_char,
) -> rl_status {
    boundary::status("rl_ring_get_many", || {
        // SAFETY: `ring` is NULL or a live ring not being mutated (header).
        let r = unsafe { rl_ring::from_ptr(ring) }?;
        // SAFETY: `keys` is NULL or `count` readable pointers (header).
        let keys = unsafe { args::slice(keys, count, "keys") }?;
        // SAFETY: `key_lens` is NULL or `count` readable sizes (header).
        let key_lens = unsafe { args::slice(key_lens, count, "key_lens") }?;
        // SAFETY: `nodes` is NULL or `count` writable pointers (header).
        let nodes = unsafe { args::slice_out(nodes, count, "nodes") }?;
        // Check every key before writing any answer.
        for (i, (&k, &len)) in keys.iter().zip(key_lens).enumerate() {
            // SAFETY: keys[i] is NULL or key_lens[i] readable bytes (header).
            unsafe { args::bytes(k, len, format_args!("keys[{i}]")) }?;
        }
        r.ring.require_nodes()?;
        r.check_names()?;
        let mut block: [&[u8]; BATCH] = [&[]; BATCH];
        let mut ids = [0usize; BATCH];
        for ((ks, ls), slots) in keys
            .chunks(BATCH)
            .zip(key_lens.chunks(BATCH))
            .zip(nodes.chunks_mut(BATCH))
        {
            for ((b, &k), &len) in block.iter_mut().zip(ks).zip(ls) {
                // SAFETY: as above; checked in the first pass.
                *b = unsafe { args::bytes(k, len, "key") }?;
            }
            let n = ks.len();
            r.ring.get_many_ids(&block[..n], &mut ids[..n])?;
            for (slot, &id) in slots.iter_mut().zip(&ids[..n]) {
                slot.write(r.names[id].as_ptr());
            }
        }
        Ok(())
    })
}
