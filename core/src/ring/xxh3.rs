//! `xxh3`: a virtual-node ring on XXH3-64 (seed 0), the fast default.
//!
//! Node `name` of weight `w` has `vnodes * w` points; point `j` sits at
//! `XXH3_64(name_bytes ++ le32(j))`. A key sits at `XXH3_64(key)` and goes to
//! the first point at or after it, wrapping. A node's points depend on its own
//! name and weight only, so adding, removing or re-weighting a node moves keys
//! only to or from that node.

use super::algorithm::{Parameter, Spec};
use super::continuum::Continuum;
use super::limits::vec_with_capacity;
use super::nodes::Node;
use super::Table;
use crate::error::Result;
use xxhash_rust::xxh3::xxh3_64;

/// xxh3 in the registry.
pub(super) const SPEC: Spec = Spec {
    name: "xxh3",
    code: 2,
    parameter: Parameter::Vnodes {
        default: DEFAULT_VNODES,
        multiple_of: 1,
        why: "",
    },
    points: |nodes, vnodes, _| nodes.total_weight() * u64::from(vnodes),
    check_nodes: |_, _| Ok(()),
    build: |nodes, vnodes, _| Ok(Table::Points(Continuum::build(points(nodes, vnodes)?)?)),
    key_hash: key_position,
    point_shift: 0,
    space: |_| Some(1 << 64),
    continuum: true,
};

/// Points per unit of weight unless the caller says otherwise.
pub const DEFAULT_VNODES: u32 = 160;

/// The position of a key.
#[inline]
pub fn key_position(key: &[u8]) -> u64 {
    xxh3_64(key)
}

/// The position of point `j` of node `name`.
pub fn point_position(name: &str, j: u32, buf: &mut Vec<u8>) -> u64 {
    buf.clear();
    buf.extend_from_slice(name.as_bytes());
    buf.extend_from_slice(&j.to_le_bytes());
    xxh3_64(buf)
}

/// The points of every node (owner = index in `nodes`), unsorted. The
/// caller has checked their number against the ring's limits; `Io` if the
/// allocation fails.
pub fn points(nodes: &[Node], vnodes: u32) -> Result<Vec<(u64, u32)>> {
    let total: u64 = nodes
        .iter()
        .map(|n| u64::from(vnodes) * u64::from(n.weight))
        .sum();
    let mut out = vec_with_capacity(total as usize, "xxh3 points")?;
    let mut buf = Vec::with_capacity(64);
    for (id, node) in nodes.iter().enumerate() {
        let count = vnodes.saturating_mul(node.weight);
        for j in 0..count {
            out.push((point_position(&node.name, j, &mut buf), id as u32));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn point_text_is_name_then_le32_counter() {
        let mut buf = Vec::new();
        assert_eq!(
            point_position("node-a", 258, &mut buf),
            xxh3_64(b"node-a\x02\x01\x00\x00")
        );
    }

    #[test]
    fn weight_multiplies_points() {
        let nodes = [
            Node {
                name: "a".into(),
                weight: 1,
            },
            Node {
                name: "b".into(),
                weight: 3,
            },
        ];
        let out = points(&nodes, 10).unwrap();
        assert_eq!(out.iter().filter(|p| p.1 == 0).count(), 10);
        assert_eq!(out.iter().filter(|p| p.1 == 1).count(), 30);
    }
}
