//! Bounded-load lookup: `rl_ring_get_bounded`. Takes `const rl_ring *`, no
//! lock, safe from any number of threads at once.

use super::rl_ring;
use crate::args;
use crate::boundary;
use crate::error::rl_status;
use std::ffi::{c_char, c_void};

/// Stores in `*node` the node that takes the key `key[0..key_len]` under
/// bounded loads (consistent hashing with bounded loads, Mirrokni, Thorup and
/// Zadimoghaddam): the first node in the key's ring order (the order of
/// `rl_ring_get_n`) whose load is below the cap
/// `ceil(factor * (sum of loads + 1) / rl_ring_len(ring))`, computed exactly.
/// Such a node always exists. With every load 0 the answer is
/// `rl_ring_get`'s. See docs/placement.md, "Bounded loads".
///
/// `loads[i]` is the current load of node `i` of the enumeration
/// (`rl_ring_node(ring, i, ...)`, byte order of the names); `loads_len` must
/// be `rl_ring_len(ring)`. `factor` (the balance factor; 1.25 is the usual
/// choice) must be finite and above 1. `key` may be NULL only when `key_len`
/// is 0; `loads` only when `loads_len` is 0.
///
/// `*node` is borrowed from `ring`: valid until the next mutation of `ring`
/// (`rl_ring_add`, `rl_ring_add_many`, `rl_ring_remove`, `rl_ring_set_weight`)
/// or `rl_ring_free`. Do not free it.
///
/// Returns `RL_OK`, `RL_ERR_EMPTY_RING` or `RL_ERR_INVALID_ARGUMENT` (`ring`
/// or `node` NULL, `key` or `loads` NULL with a length > 0, `factor` NaN,
/// infinite or <= 1, `loads_len` not the number of nodes, loads summing past
/// 2^64 - 1). `*node` is written only on success. Allocates nothing; O(nodes)
/// plus the walk; safe concurrently with other `const rl_ring *` calls.
#[no_mangle]
pub extern "C" fn rl_ring_get_bounded(
    ring: *const rl_ring,
    key: *const c_void,
    key_len: usize,
    loads: *const u64,
    loads_len: usize,
    factor: f64,
    node: *mut *const c_char,
) -> rl_status {
    boundary::status("rl_ring_get_bounded", || {
        // SAFETY: `ring` is NULL or a live ring not being mutated (header).
        let r = unsafe { rl_ring::from_ptr(ring) }?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{RL_ERR_EMPTY_RING, RL_ERR_INVALID_ARGUMENT, RL_OK};
    use crate::ring::{mutate::rl_ring_add, rl_ring_free, rl_ring_new, RL_ALGORITHM_JUMP};
    use std::ptr::{null, null_mut};

    #[test]
    fn answers_and_refusals() {
        let mut ring = null_mut();
        assert_eq!(rl_ring_new(RL_ALGORITHM_JUMP, 0, &mut ring), RL_OK);
        let mut node = null();
        let sentinel = 0x5eed as *const c_char;
        let mut out = sentinel;
        let k = b"k".as_ptr().cast();
        assert_eq!(
            rl_ring_get_bounded(ring, k, 1, null(), 0, 1.25, &mut out),
            RL_ERR_EMPTY_RING
        );
        assert_eq!(rl_ring_add(ring, c"a".as_ptr(), 1), RL_OK);
        assert_eq!(rl_ring_add(ring, c"b".as_ptr(), 1), RL_OK);
        let zero = [0u64; 2];
        assert_eq!(
            rl_ring_get_bounded(ring, k, 1, zero.as_ptr(), 2, 1.25, &mut node),
            RL_OK
        );
        assert!(!node.is_null());
        for (loads, len, factor) in [
            (zero.as_ptr(), 1, 1.25),
            (null(), 2, 1.25),
            (zero.as_ptr(), 2, 1.0),
            (zero.as_ptr(), 2, f64::NAN),
        ] {
            assert_eq!(
                rl_ring_get_bounded(ring, k, 1, loads, len, factor, &mut out),
                RL_ERR_INVALID_ARGUMENT
            );
        }
        assert_eq!(out, sentinel);
        rl_ring_free(ring);
    }
}
