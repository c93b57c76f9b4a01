//! `spymemcached`: the continuum of spymemcached 2.12.3's
//! `KetamaNodeLocator` with its `KETAMA_HASH` key hash (what
//! `KetamaConnectionFactory` builds), point for point.
//!
//! spymemcached hashes the string of each server's socket address
//! (`KetamaNodeKeyFormatter`, format `SPYMEMCACHED`: `String.valueOf` of the
//! `InetSocketAddress` without its leading `/`), which depends on how the
//! address was resolved: `10.0.0.1:11211` for an IP address,
//! `cache-a.example/10.0.0.1:11211` for a resolved host name,
//! `cache-a.example/<unresolved>:11211` for an unresolved one (Java 14 and
//! later). So the profile takes a node's name as that string, verbatim (one
//! leading `/` dropped, as spymemcached drops it), and derives nothing.
//!
//! Hash `k` of a node is MD5 of `"{name}-{k}"`, never cut, and each digest
//! gives four points, its little-endian 32-bit words. Unweighted (every
//! node's weight 1: spymemcached without a weight map) every node has 40
//! hashes, 160 points. With any weight other than 1 (spymemcached given a
//! weight map) a node of weight `w` among `n` of total weight `W` has
//! `floor((float)(w/W as f32 * 160 / 4 * n) + 1e-10)` hashes, libmemcached's
//! 32-bit float rounding (39 instead of 40 at some counts). A key's point is
//! the first little-endian word of MD5(key), and it goes to the first point
//! at or after it, wrapping. spymemcached keeps its points in a map where a
//! later server overwrites an earlier one at the same position: equal points
//! go to the node *last* in name order (spymemcached's list order). The
//! profile has no parameter.

use super::algorithm::{Parameter, Spec};
use super::continuum::Continuum;
use super::ketama::{key_position, push_digest_points};
use super::libmemcached;
use super::limits::vec_with_capacity;
use super::nodes::Node;
use super::Table;
use crate::error::Result;

/// spymemcached in the registry.
pub(super) const SPEC: Spec = Spec {
    name: "spymemcached",
    code: 16,
    parameter: Parameter::None,
    // at most POINTS_PER_SERVER per server whatever the weights
    points: |nodes, _, _| nodes.len() as u64 * u64::from(POINTS_PER_SERVER),
    check_nodes: |_, _| Ok(()),
    build: |nodes, _, _| Ok(Table::Points(Continuum::build(points(nodes)?)?)),
    key_hash: key_position,
    point_shift: 32,
    space: |_| Some(1 << 32),
    continuum: true,
};

/// `DefaultKetamaNodeLocatorConfiguration`'s repetitions per node.
pub const POINTS_PER_SERVER: u32 = 160;

/// Whether spymemcached is given a weight map for `weights`.
pub fn weighted(mut weights: impl Iterator<Item = u32>) -> bool {
    weights.any(|w| w != 1)
}

/// How many MD5 hashes (4 points each) each node of `weights` gets.
pub fn hashes(weights: &[u32]) -> impl Iterator<Item = u32> + '_ {
    let total = weights.iter().map(|&w| u64::from(w)).sum::<u64>();
    let weighted = weighted(weights.iter().copied());
    weights.iter().map(move |&w| match weighted {
        // the same float steps as libmemcached's (`percent * 160 / 4 * n`)
        true => libmemcached::hashes_for(w, total, weights.len()),
        false => POINTS_PER_SERVER / 4,
    })
}

/// The points of every node (owner = index in `nodes`), unsorted, a
/// position that several nodes share owned by the last of them; `Io` if the
/// allocation fails.
pub fn points(nodes: &[Node]) -> Result<Vec<(u64, u32)>> {
    let weights: Vec<u32> = nodes.iter().map(|n| n.weight).collect();
    let count: u64 = hashes(&weights).map(|h| 4 * u64::from(h)).sum();
    let mut out = vec_with_capacity(count as usize, "spymemcached points")?;
    let mut text = Vec::with_capacity(64);
    for ((id, node), ks) in nodes.iter().enumerate().zip(hashes(&weights)) {
        let name = node.name.strip_prefix('/').unwrap_or(&node.name);
        for k in 0..ks {
            text.clear();
            text.extend_from_slice(name.as_bytes());
            text.push(b'-');
            text.extend_from_slice(k.to_string().as_bytes());
            push_digest_points(&mut out, &text, id);
        }
    }
    last_owner_wins(&mut out);
    Ok(out)
}

/// Sorts `points` and gives every point of a shared position the owner last
/// in node order, keeping the count (a walk meets that owner there, and
/// never the nodes it overwrote).
fn last_owner_wins(points: &mut [(u64, u32)]) {
    points.sort_unstable();
    for run in points.chunk_by_mut(|a, b| a.0 == b.0) {
        let last = run[run.len() - 1].1;
        for p in run {
            p.1 = last;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use md5::{Digest, Md5};

    fn node(name: &str, weight: u32) -> Node {
        Node {
            name: name.into(),
            weight,
        }
    }

    #[test]
    fn unweighted_is_always_forty_hashes() {
        for n in [1usize, 3, 8, 25, 47, 50, 100] {
            let w = vec![1; n];
            assert!(hashes(&w).all(|h| h == 40), "n = {n}");
            // a weight map of equal weights rounds as libmemcached does
            let w = vec![3; n];
            let expected = if n >= 25 { 39 } else { 40 };
            assert!(hashes(&w).all(|h| h == expected), "n = {n}");
        }
        assert_eq!(hashes(&[1, 2]).collect::<Vec<_>>(), [26, 53]);
    }

    #[test]
    fn names_are_hashed_verbatim_without_a_leading_slash() {
        let long = format!("{}/10.0.0.1:11211", "h".repeat(40));
        let pts = points(&[node(&long, 1)]).unwrap();
        assert_eq!(pts.len(), 160);
        let d = Md5::digest(format!("{long}-39").as_bytes());
        let w = u64::from(u32::from_le_bytes([d[0], d[1], d[2], d[3]])) << 32;
        assert!(pts.iter().any(|p| p.0 == w));
        let slash = points(&[node("/10.0.0.1:11211", 1)]).unwrap();
        assert_eq!(slash, points(&[node("10.0.0.1:11211", 1)]).unwrap());
    }

    #[test]
    fn a_shared_position_goes_to_the_last_node() {
        let mut pts = vec![(7 << 32, 0), (9 << 32, 1), (7 << 32, 2), (7 << 32, 1)];
        last_owner_wins(&mut pts);
        assert_eq!(
            pts,
            [(7 << 32, 2), (7 << 32, 2), (7 << 32, 2), (9 << 32, 1)]
        );
        // the same node twice (its names differ only by the slash): one owner
        let pts = points(&[node("/a:1", 1), node("a:1", 1)]).unwrap();
        assert_eq!(pts.len(), 320);
        assert!(pts.iter().all(|p| p.1 == 1));
    }
}
