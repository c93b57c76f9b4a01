//! `jump`: Lamping and Veach's jump consistent hash ("A Fast, Minimal Memory,
//! Consistent Hash Algorithm", 2014) over numbered buckets.
//!
//! In a ring, buckets are numbered in the byte order of the node names, a node
//! of weight `w` taking `w` consecutive buckets, and a key goes to bucket
//! `jump_hash(XXH3_64(key), buckets)`. Jump only moves the minimum of keys
//! when buckets are added or removed *at the end*: adding a node whose name
//! sorts after every other (or removing the last one) is minimal; any other
//! change renumbers buckets and moves more keys (see docs/placement.md).

use super::algorithm::{Parameter, Spec};
use super::limits::vec_with_capacity;
use super::Table;
use crate::error::Result;
use xxhash_rust::xxh3::xxh3_64;

/// jump in the registry: no parameter, one bucket per unit of weight, no
/// positions.
pub(super) const SPEC: Spec = Spec {
    name: "jump",
    code: 3,
    parameter: Parameter::None,
    points: |nodes, _, _| nodes.total_weight(),
    check_nodes: |_, _| Ok(()),
    build: |nodes, _, _| Ok(Table::Buckets(buckets(nodes.iter().map(|n| n.weight))?)),
    // unused: the bucket table hashes the key itself (bucket_of)
    key_hash: super::xxh3::key_position,
    point_shift: 0,
    space: |_| None,
    continuum: false,
};

/// The published jump consistent hash: the bucket in `[0, buckets)` of `key`.
/// Returns -1 when `buckets <= 0`.
#[inline]
pub fn jump_hash(mut key: u64, buckets: i32) -> i32 {
    if buckets <= 0 {
        return -1;
    }
    let mut b: i64 = -1;
    let mut j: i64 = 0;
    while j < i64::from(buckets) {
        b = j;
        key = key.wrapping_mul(2862933555777941757).wrapping_add(1);
        j = ((b + 1) as f64 * ((1u64 << 31) as f64 / ((key >> 33) + 1) as f64)) as i64;
    }
    b as i32
}

/// The bucket of `key` among `buckets` (> 0): `jump_hash(XXH3_64(key),
/// buckets)`.
#[inline]
pub fn bucket_of(key: &[u8], buckets: usize) -> usize {
    jump_hash(xxh3_64(key), buckets as i32) as usize
}

/// The bucket table: bucket number -> owner id. The caller has checked the
/// total weight against the ring's limits; `Io` if the allocation fails.
pub fn buckets(weights: impl Iterator<Item = u32> + Clone) -> Result<Vec<u32>> {
    let total: u64 = weights.clone().map(u64::from).sum();
    let mut out = vec_with_capacity(total as usize, "jump buckets")?;
    for (id, w) in weights.enumerate() {
        out.extend(std::iter::repeat_n(id as u32, w as usize));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_values() {
        // Published test vectors (Guava's and dgryski/go-jump's suites),
        // cross-checked with the PyPI package jump-consistent-hash.
        assert_eq!(jump_hash(1, 1), 0);
        assert_eq!(jump_hash(42, 57), 43);
        assert_eq!(jump_hash(0xDEAD10CC, 1), 0);
        assert_eq!(jump_hash(0xDEAD10CC, 666), 361);
        assert_eq!(jump_hash(256, 1024), 520);
        assert_eq!(jump_hash(10863919174838991, 11), 6);
        assert_eq!(jump_hash(2016238256797177309, 11), 3);
        assert_eq!(jump_hash(1673758223894951030, 11), 5);
    }

    #[test]
    fn non_positive_buckets() {
        assert_eq!(jump_hash(42, 0), -1);
        assert_eq!(jump_hash(42, -5), -1);
    }

    #[test]
    fn growing_moves_keys_only_to_the_new_bucket() {
        for key in 0..20_000u64 {
            let k = key.wrapping_mul(0x9e37_79b9_7f4a_7c15);
            for n in 1..40 {
                let a = jump_hash(k, n);
                let b = jump_hash(k, n + 1);
                assert!(a == b || b == n, "key {k}: {a} -> {b} at {n}");
            }
        }
    }
}
