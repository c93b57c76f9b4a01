//! `haproxy`: HAProxy 2.6's `hash-type consistent` placement (`balance
//! uri`, `hdr(...)`, `url_param`, `source`, `hash <expr>` ... over the
//! consistent-hash tree of `src/lb_chash.c`), server for server.
//!
//! HAProxy does not hash server names or addresses: a server's points come
//! from its numeric id (`puid`), which is its 1-based position among the
//! backend's `server` lines unless the line gives `id <n>`. Here server `i`
//! (from 1) is the node `i`-th in name order, so a ringlock ring matches a
//! backend whose `server` lines are written in the nodes' name order (or
//! carry `id <i>` accordingly). A server of weight `w` (HAProxy's `weight`,
//! 1 to 256) has `16 × w` points (`BE_WEIGHT_SCALE` = 16 nodes per unit of
//! weight): point `j` (0 <= j < 16w) of server `i` is `full_hash(i × 4096 +
//! j)` (4096 = `SRV_EWGHT_RANGE`), `full_hash` being Bob Jenkins' 32-bit
//! integer avalanche followed by a multiplication by 3221225473 mod 2^32. It
//! is a bijection, so two points never coincide.
//!
//! A key hashes to `full_hash(sdbm(key))` (`hash-type consistent` with no
//! function named: sdbm with the avalanche modifier), and goes to the server
//! of the point *nearest* to it on the 32-bit circle, the point before it
//! when both are as near (HAProxy compares the distance to the first point
//! at or after the hash with the distance to the one before: `dp <= dn`
//! keeps the one before). So each point owns the arc from itself to halfway
//! to the next point, the midpoint included: ringlock's table holds, for
//! each point `p` followed by `q`, the position `p + ⌊(q − p) / 2⌋` (mod
//! 2^32), and a key goes to the first such position at or after it — the
//! lookup of every continuum. HAProxy sends an empty key (an absent or empty
//! header) round robin; ringlock places it at `full_hash(0)`. The profile has
//! no parameter.

use super::algorithm::{Parameter, Spec};
use super::continuum::Continuum;
use super::limits::vec_with_capacity;
use super::nodes::Node;
use super::Table;
use crate::error::{Error, Result};

/// haproxy in the registry.
pub(super) const SPEC: Spec = Spec {
    name: "haproxy",
    code: 13,
    parameter: Parameter::None,
    points: |nodes, _, _| nodes.total_weight() * u64::from(POINTS_PER_WEIGHT),
    check_nodes: |_, nodes| check_servers(nodes),
    build: |nodes, _, _| Ok(Table::Points(Continuum::build(points(nodes)?)?)),
    key_hash: key_position,
    point_shift: 32,
    space: |_| Some(1 << 32),
    continuum: true,
};

/// `BE_WEIGHT_SCALE`: tree nodes per unit of weight.
pub const POINTS_PER_WEIGHT: u32 = 16;

/// `SRV_EWGHT_RANGE`: a server id's stride in the point numbering.
const ID_STRIDE: u32 = 4096;

/// HAProxy's largest server weight (`SRV_UWGHT_MAX`).
pub const MAX_WEIGHT: u32 = 256;

/// The most servers whose ids keep `id × 4096 + j` within 32 bits.
const MAX_SERVERS: usize = (1 << 20) - 1;

/// `full_hash`: Bob Jenkins' 32-bit integer avalanche, then a multiplication
/// by 3221225473.
#[inline]
pub fn full_hash(a: u32) -> u32 {
    let mut a = a.wrapping_add(0x7ed5_5d16).wrapping_add(a << 12);
    a = (a ^ 0xc761_c23c) ^ (a >> 19);
    a = a.wrapping_add(0x1656_67b1).wrapping_add(a << 5);
    a = a.wrapping_add(0xd3a2_646c) ^ (a << 9);
    a = a.wrapping_add(0xfd70_46c5).wrapping_add(a << 3);
    a = (a ^ 0xb55a_4f09) ^ (a >> 16);
    a.wrapping_mul(3_221_225_473)
}

/// `hash_sdbm`: `h = c + (h << 6) + (h << 16) − h` over the bytes.
#[inline]
pub fn sdbm(key: &[u8]) -> u32 {
    key.iter().fold(0u32, |h, &c| {
        u32::from(c)
            .wrapping_add(h << 6)
            .wrapping_add(h << 16)
            .wrapping_sub(h)
    })
}

/// The position of a key: `full_hash(sdbm(key))`, in the top 32 bits.
#[inline]
pub fn key_position(key: &[u8]) -> u64 {
    u64::from(full_hash(sdbm(key))) << 32
}

fn check_servers(nodes: usize) -> Result<()> {
    if nodes > MAX_SERVERS {
        return Err(Error::invalid(format!(
            "haproxy numbers at most {MAX_SERVERS} servers (id × 4096 must fit 32 bits), not {nodes}"
        )));
    }
    Ok(())
}

/// HAProxy's points of every node (owner = index in `nodes`, server id =
/// index + 1), unsorted.
fn tree_points(nodes: &[Node]) -> Result<Vec<(u32, u32)>> {
    check_servers(nodes.len())?;
    if let Some(n) = nodes.iter().find(|n| n.weight > MAX_WEIGHT) {
        return Err(Error::invalid(format!(
            "haproxy weights are 1 to {MAX_WEIGHT}; node {:?} has {}",
            n.name, n.weight
        )));
    }
    let count: u64 =
        nodes.iter().map(|n| u64::from(n.weight)).sum::<u64>() * u64::from(POINTS_PER_WEIGHT);
    let mut out = vec_with_capacity(count as usize, "haproxy points")?;
    for (id, node) in nodes.iter().enumerate() {
        let base = (id as u32 + 1) * ID_STRIDE;
        for j in 0..node.weight * POINTS_PER_WEIGHT {
            out.push((full_hash(base + j), id as u32));
        }
    }
    Ok(out)
}

/// The continuum of every node (owner = index in `nodes`): each HAProxy
/// point moved to the end of the arc it is nearest to; `InvalidArgument`
/// for a weight above 256, `Io` if the allocation fails.
pub fn points(nodes: &[Node]) -> Result<Vec<(u64, u32)>> {
    let mut tree = tree_points(nodes)?;
    tree.sort_unstable();
    let mut out = vec_with_capacity(tree.len(), "haproxy arcs")?;
    for (i, &(p, owner)) in tree.iter().enumerate() {
        let q = tree[(i + 1) % tree.len()].0;
        // a single point is its own successor: the whole circle, halfway
        // round and back
        let gap = match q.wrapping_sub(p) {
            0 => u32::MAX,
            g => g,
        };
        let end = p.wrapping_add(gap / 2);
        out.push((u64::from(end) << 32, owner));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// HAProxy's lookup over its tree, as `chash_get_server_hash` does it.
    fn nearest(tree: &[(u32, u32)], h: u32) -> u32 {
        let i = tree.partition_point(|&(p, _)| p < h);
        let next = tree[i % tree.len()];
        let prev = tree[(i + tree.len() - 1) % tree.len()];
        let (dp, dn) = (h.wrapping_sub(prev.0), next.0.wrapping_sub(h));
        if dp <= dn {
            prev.1
        } else {
            next.1
        }
    }

    #[test]
    fn hashes_match_their_definitions() {
        assert_eq!(sdbm(b""), 0);
        assert_eq!(sdbm(b"a"), 97);
        assert_eq!(sdbm(b"ab"), 98 + 97 * 64 + 97 * 65536 - 97);
        // full_hash is a bijection: no two of the first points coincide
        let mut seen: Vec<u32> = (0..1 << 16).map(full_hash).collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), 1 << 16);
    }

    #[test]
    fn arcs_reproduce_the_nearest_point_rule() {
        let nodes: Vec<Node> = (0..5)
            .map(|i| Node {
                name: format!("s{i}").into(),
                weight: 1 + i % 3,
            })
            .collect();
        let mut tree = tree_points(&nodes).unwrap();
        tree.sort_unstable();
        let c = Continuum::build(points(&nodes).unwrap()).unwrap();
        let mut probes: Vec<u32> = vec![0, 1, u32::MAX, u32::MAX - 1];
        for w in tree.windows(2) {
            let (a, b) = (w[0].0, w[1].0);
            let mid = a + (b - a) / 2;
            probes.extend([a, a + 1, mid, mid + 1, b - 1, b]);
        }
        let mut x = 0x2545_f491u32;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            probes.push(x);
        }
        for h in probes {
            assert_eq!(
                c.owner_at(u64::from(h) << 32),
                Some(nearest(&tree, h)),
                "hash {h:#x}"
            );
        }
    }

    #[test]
    fn weights_above_256_are_refused() {
        let nodes = [Node {
            name: "a".into(),
            weight: 257,
        }];
        assert!(points(&nodes).unwrap_err().message().contains("1 to 256"));
        assert!(check_servers(MAX_SERVERS + 1).is_err());
    }
}
