//! `envoy-ring-hash`: Envoy's `ring_hash` load balancer (`RingHashLoadBalancer::Ring`
//! in `source/extensions/load_balancing_policies/ring_hash/ring_hash_lb.cc`
//! with the weights of `normalizeHostWeights` in
//! `load_balancing_policies/common/thread_aware_lb_impl.cc`), entry for
//! entry, with `hash_function: XX_HASH` (the default) and no locality
//! weighting.
//!
//! A node's name is the text Envoy hashes for the host: its address as
//! `asString()` writes it (`10.0.0.1:80`, `[::1]:80`), or its hostname with
//! `use_hostname_for_hashing`, or the `envoy.lb` `hash_key` metadata when a
//! host has it — verbatim. The table size is Envoy's `minimum_ring_size`
//! (default 1,024); `maximum_ring_size` is Envoy's default, 8,388,608.
//!
//! Weights are normalised in double precision, `w_i / Σw` (`w_i * 1.0 /
//! sum`), `m` the smallest of them (and of 1.0); the scale is
//! `min(ceil(m × min_ring) / m, max_ring)`. In node order (ringlock's name
//! order; Envoy's is the endpoint order of the cluster: list the endpoints
//! in name order), a running `target += scale × w_i` and a running count
//! `current` of entries give node `i` entries `0, 1, ...` while `current <
//! target` (so nodes may get one entry more or fewer than their share, and
//! a node may get none). Entry `j` of a node sits at `XXH64("{name}_{j}",
//! seed 0)` (`j` in decimal). A request hash `h` goes to the first entry at
//! or after `h`, wrapping — Envoy's binary search (ported from libketama)
//! finds that entry. Envoy computes `h` with its hash policy (XXH64 of a
//! header's value, of a cookie, of the source IP ...); ringlock's key hash
//! is XXH64 of the key with seed 0, what `hash_policy: header` gives for a
//! header whose value is the key. Equal positions (an XXH64 collision): Envoy
//! leaves their order to `std::sort`; ringlock gives them to the node first
//! in name order.

use super::algorithm::{Parameter, Spec};
use super::continuum::Continuum;
use super::limits::vec_with_capacity;
use super::nodes::Node;
use super::Table;
use crate::error::{Error, Result};
use std::io::Write;
use xxhash_rust::xxh64::xxh64;

/// envoy-ring-hash in the registry.
pub(super) const SPEC: Spec = Spec {
    name: "envoy-ring-hash",
    code: 17,
    parameter: Parameter::TableSize {
        default: DEFAULT_MIN_RING_SIZE,
        validate: validate_min_ring_size,
    },
    points: |nodes, _, min_ring| {
        let weights: Vec<u32> = nodes.as_slice().iter().map(|n| n.weight).collect();
        entries(&weights, min_ring.into(), MAX_RING_SIZE)
            .iter()
            .sum()
    },
    check_nodes: |_, _| Ok(()),
    build: |nodes, _, min_ring| {
        Ok(Table::Points(Continuum::build(points(
            nodes,
            min_ring.into(),
            MAX_RING_SIZE,
        )?)?))
    },
    key_hash: key_position,
    point_shift: 0,
    space: |_| Some(1 << 64),
    continuum: true,
};

/// Envoy's `DefaultMinRingSize`.
pub const DEFAULT_MIN_RING_SIZE: u32 = 1024;

/// Envoy's `DefaultMaxRingSize`: the most entries a ring holds.
pub const MAX_RING_SIZE: u64 = 8 * 1024 * 1024;

/// A minimum ring size is 1 to [`MAX_RING_SIZE`].
pub fn validate_min_ring_size(size: u32) -> Result<()> {
    if size == 0 || u64::from(size) > MAX_RING_SIZE {
        return Err(Error::invalid(format!(
            "envoy-ring-hash's table size is Envoy's minimum_ring_size, 1 to {MAX_RING_SIZE}, not {size}"
        )));
    }
    Ok(())
}

/// The position of a key: XXH64, seed 0.
#[inline]
pub fn key_position(key: &[u8]) -> u64 {
    xxh64(key, 0)
}

/// How many ring entries each node of `weights` gets, Envoy's double
/// arithmetic step for step.
pub fn entries(weights: &[u32], min_ring: u64, max_ring: u64) -> Vec<u64> {
    let sum = weights.iter().map(|&w| u64::from(w)).sum::<u64>() as f64;
    let normalized: Vec<f64> = weights.iter().map(|&w| f64::from(w) * 1.0 / sum).collect();
    let min = normalized
        .iter()
        .fold(1.0f64, |m, &w| if w < m { w } else { m });
    let scale = ((min * min_ring as f64).ceil() / min).min(max_ring as f64);
    let (mut current, mut target) = (0.0f64, 0.0f64);
    normalized
        .iter()
        .map(|&w| {
            target += scale * w;
            let mut i = 0u64;
            while current < target {
                i += 1;
                current += 1.0;
            }
            i
        })
        .collect()
}

/// The ring entries of every node (owner = index in `nodes`), unsorted;
/// `Io` if the allocation fails.
pub fn points(nodes: &[Node], min_ring: u64, max_ring: u64) -> Result<Vec<(u64, u32)>> {
    let weights: Vec<u32> = nodes.iter().map(|n| n.weight).collect();
    let counts = entries(&weights, min_ring, max_ring);
    let total: u64 = counts.iter().sum();
    let mut out = vec_with_capacity(total as usize, "envoy-ring-hash entries")?;
    let mut text = Vec::with_capacity(64);
    for (id, (node, &count)) in nodes.iter().zip(&counts).enumerate() {
        for j in 0..count {
            text.clear();
            // writing to a Vec cannot fail
            let _ = write!(text, "{}_{j}", node.name);
            out.push((xxh64(&text, 0), id as u32));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
