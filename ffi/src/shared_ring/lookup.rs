//! Lookups in a shared ring: get, get_n, get_many. Each first takes up a
//! newer generation if one was published (one atomic load when none was).

use super::rl_shared_ring;
use crate::args;
use crate::boundary::{self, Result};
use crate::error::rl_status;
use ringlock_core::Error;
use std::ffi::{c_char, c_void};

/// Takes up a newer generation if one was published; EmptyRing if the
/// generation held has no node. The caller then answers from the snapshot.
fn refresh_non_empty(r: &mut rl_shared_ring) -> Result<()> {
    if r.ring.node_count()? == 0 {
        return Err(Error::empty_ring());
    }
    Ok(())
}

/// Stores in `*node` the name of the node that owns the key `key[0..key_len]`
/// in the newest generation published (taken up by this call if it is new):
/// the answer `rl_ring_get` gives on the ring that was published, byte for
/// byte. `key` may be NULL only when `key_len` is 0.
///
/// Lifetime: `*node` points into the mapping of the generation that
/// answered. It stays valid until the next call on the same handle (any
/// `rl_shared_ring_*` call taking `ring`, which may switch to a newer
/// generation and unmap this one) or `rl_shared_ring_close`. Copy it to keep
/// it longer. Do not free it.
///
/// Returns `RL_OK`, `RL_ERR_EMPTY_RING`, `RL_ERR_INVALID_ARGUMENT` (`ring`
/// or `node` NULL, `key` NULL with `key_len` > 0), or the error of a failed
/// switch (`RL_ERR_CORRUPT`, `RL_ERR_NOT_FOUND`, `RL_ERR_IO`: the handle
/// keeps its generation). `*node` is written only on success. No syscall
/// and no allocation unless the generation changed; not concurrently with
/// other calls on the same handle.
#[no_mangle]
pub extern "C" fn rl_shared_ring_get(
    ring: *mut rl_shared_ring,
    key: *const c_void,
    key_len: usize,
    node: *mut *const c_char,
) -> rl_status {
    boundary::status("rl_shared_ring_get", || {
        // SAFETY: `ring` is NULL or a live handle used by this thread only (header).
        let r = unsafe { rl_shared_ring::from_ptr(ring) }?;
        // SAFETY: `key` is NULL or `key_len` readable bytes (header contract).
        let key = unsafe { args::bytes(key, key_len, "key") }?;
        // SAFETY: `node` is NULL or writable (header contract).
        let node = unsafe { args::out(node, "node") }?;
        let id = r.ring.get_id(key)?.ok_or_else(Error::empty_ring)?;
        node.write(r.name_ptr(id)?);
        Ok(())
    })
}

/// Stores up to `n` distinct node names for the key `key[0..key_len]` in
/// `nodes[0..n]`, owner first: `rl_ring_get_n`'s answer on the published
/// ring. `*found` gets how many. `n` = 0 is allowed (then `nodes` may be
/// NULL). Entries past `*found` are left untouched.
///
/// The names live in the mapping, as for `rl_shared_ring_get`: valid until
/// the next call on `ring` or `rl_shared_ring_close`.
///
/// Returns `RL_OK`, `RL_ERR_EMPTY_RING` (whatever `n`),
/// `RL_ERR_INVALID_ARGUMENT` (`ring` or `found` NULL, `nodes` NULL with
/// `n` > 0, `key` NULL with `key_len` > 0), or the error of a failed switch.
/// Outputs are written only on success. Not concurrently with other calls on
/// the same handle.
#[no_mangle]
pub extern "C" fn rl_shared_ring_get_n(
    ring: *mut rl_shared_ring,
    key: *const c_void,
    key_len: usize,
    nodes: *mut *const c_char,
    n: usize,
    found: *mut usize,
) -> rl_status {
    boundary::status("rl_shared_ring_get_n", || {
        // SAFETY: `ring` is NULL or a live handle used by this thread only (header).
        let r = unsafe { rl_shared_ring::from_ptr(ring) }?;
        // SAFETY: `key` is NULL or `key_len` readable bytes (header contract).
        let key = unsafe { args::bytes(key, key_len, "key") }?;
        // SAFETY: `nodes` is NULL or `n` writable pointers (header contract).
        let nodes = unsafe { args::slice_out(nodes, n, "nodes") }?;
        // SAFETY: `found` is NULL or writable (header contract).
        let found = unsafe { args::out(found, "found") }?;
        refresh_non_empty(r)?;
        const STACK: usize = 16;
        let want = n.min(r.ring.snapshot().len());
        let mut stack = [0usize; STACK];
        let mut heap = Vec::new();
        let ids = if want <= STACK {
            &mut stack[..want]
        } else {
            heap.resize(want, 0);
            &mut heap[..]
        };
        let k = r.ring.snapshot().get_n_ids(key, ids);
        for (slot, &id) in nodes.iter_mut().zip(&ids[..k]) {
            slot.write(r.name_ptr(id)?);
        }
        found.write(k);
        Ok(())
    })
}

/// Stores in `nodes[i]` the owner of key `i`, `keys[i][0..key_lens[i]]`, for
/// each of the `count` keys, all answered from one generation: the answers
/// of `rl_ring_get_many` on the published ring. `keys[i]` may be NULL only
/// when `key_lens[i]` is 0; the arrays may be NULL only when `count` is 0.
///
/// The names live in the mapping, as for `rl_shared_ring_get`: valid until
/// the next call on `ring` or `rl_shared_ring_close`.
///
/// Returns `RL_OK`, `RL_ERR_EMPTY_RING` (whatever `count`),
/// `RL_ERR_INVALID_ARGUMENT` (`ring` NULL, an array NULL with `count` > 0, a
/// key NULL with its length > 0), or the error of a failed switch. `nodes`
/// is written only on success. Not concurrently with other calls on the same
/// handle.
#[no_mangle]
pub extern "C" fn rl_shared_ring_get_many(
    ring: *mut rl_shared_ring,
    keys: *const *const c_void,
    key_lens: *const usize,
    count: usize,
    nodes: *mut *const c_char,
) -> rl_status {
    boundary::status("rl_shared_ring_get_many", || {
        // SAFETY: `ring` is NULL or a live handle used by this thread only (header).
        let r = unsafe { rl_shared_ring::from_ptr(ring) }?;
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
        refresh_non_empty(r)?; // the rest answers from the generation it holds
        for ((&k, &len), slot) in keys.iter().zip(key_lens).zip(nodes.iter_mut()) {
            // SAFETY: as above; checked in the first pass.
            let key = unsafe { args::bytes(k, len, "key") }?;
            let id = r
                .ring
                .snapshot()
                .get_id(key)
                .ok_or_else(|| boundary::internal("no owner"))?;
            slot.write(r.name_ptr(id)?);
        }
        Ok(())
    })
}
