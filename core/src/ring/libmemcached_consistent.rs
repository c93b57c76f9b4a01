//! `libmemcached-consistent`, `libmemcached-consistent-md5`: the continuum
//! of libmemcached's plain ketama (`MEMCACHED_BEHAVIOR_KETAMA`,
//! `MEMCACHED_DISTRIBUTION_CONSISTENT_KETAMA` without weighting: pylibmc's
//! `{"ketama": True}`), point for point, as libmemcached 1.1.4
//! (`update_continuum` in `libmemcached/hosts.cc`) builds it.
//!
//! A node is named as for the `libmemcached` profile (`host:port`, or
//! `host` for port 11211; the same split). While every weight is 1, every
//! server has 100 points (`MEMCACHED_POINTS_PER_SERVER`): point `k`
//! (0 <= k < 100) is the client's key hash of the text `"{host}-{k}"` when
//! the port is 11211 and `"{host}:{port}-{k}"` otherwise, one point per
//! hash, never cut. A key's point is the same hash of the key, and it goes
//! to the first point at or after it, wrapping. The hash is libmemcached's
//! default, Jenkins' one-at-a-time over C `char`s (a byte of 0x80 or more
//! sign-extended), for `libmemcached-consistent`, and the first
//! little-endian word of MD5 (`MEMCACHED_BEHAVIOR_HASH` =
//! `MEMCACHED_HASH_MD5`) for `libmemcached-consistent-md5`. Equal points go
//! to the node first in name order (libmemcached: unspecified, its `qsort`).
//!
//! A server added with a weight above 1 switches libmemcached to its
//! weighted continuum (`memcached_server_add_with_weight` sets the weighted
//! flag): then, as there, the points are those of the `libmemcached`
//! profile (MD5 point texts, float shares), and the key's point is still
//! this profile's key hash. The profiles have no parameter.

use super::algorithm::{Parameter, Spec};
use super::continuum::Continuum;
use super::libmemcached::{self, host_port, DEFAULT_PORT};
use super::limits::vec_with_capacity;
use super::nodes::Node;
use super::twemproxy::{md5, one_at_a_time};
use super::Table;
use crate::error::Result;
use std::io::Write;

/// `libmemcached-consistent` (one-at-a-time, libmemcached's default hash).
pub(super) const SPEC: Spec = Spec {
    build: |nodes, _, _| {
        Ok(Table::Points(Continuum::build(points(
            nodes,
            one_at_a_time,
        )?)?))
    },
    key_hash: |k| u64::from(one_at_a_time(k)) << 32,
    ..base("libmemcached-consistent", 14)
};

/// `libmemcached-consistent-md5`.
pub(super) const MD5: Spec = Spec {
    build: |nodes, _, _| Ok(Table::Points(Continuum::build(points(nodes, md5)?)?)),
    key_hash: |k| u64::from(md5(k)) << 32,
    ..base("libmemcached-consistent-md5", 15)
};

/// What the two profiles share (`build` and `key_hash` are replaced).
const fn base(name: &'static str, code: u8) -> Spec {
    Spec {
        name,
        code,
        parameter: Parameter::None,
        // at most about 160 per server (weighted), else 100
        points: |nodes, _, _| nodes.len() as u64 * u64::from(libmemcached::POINTS_PER_SERVER),
        check_nodes: |_, _| Ok(()),
        build: |_, _, _| Ok(Table::Buckets(Vec::new())),
        key_hash: |_| 0,
        point_shift: 32,
        space: |_| Some(1 << 32),
        continuum: true,
    }
}

/// `MEMCACHED_POINTS_PER_SERVER`.
pub const POINTS_PER_SERVER: u32 = 100;

/// Whether libmemcached would be on its weighted continuum for `weights`.
pub fn weighted(mut weights: impl Iterator<Item = u32>) -> bool {
    weights.any(|w| w > 1)
}

/// The points of every node (owner = index in `nodes`), unsorted, with
/// `hash` the client's hash; `Io` if the allocation fails.
pub fn points(nodes: &[Node], hash: fn(&[u8]) -> u32) -> Result<Vec<(u64, u32)>> {
    if weighted(nodes.iter().map(|n| n.weight)) {
        return libmemcached::points(nodes);
    }
    let count = nodes.len() * POINTS_PER_SERVER as usize;
    let mut out = vec_with_capacity(count, "libmemcached-consistent points")?;
    let mut text = Vec::with_capacity(64);
    for (id, node) in nodes.iter().enumerate() {
        let (host, port) = host_port(&node.name);
        for k in 0..POINTS_PER_SERVER {
            text.clear();
            // writing to a Vec cannot fail
            let _ = if port == DEFAULT_PORT {
                write!(text, "{host}-{k}")
            } else {
                write!(text, "{host}:{port}-{k}")
            };
            out.push((u64::from(hash(&text)) << 32, id as u32));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_weight_above_one_switches_to_the_weighted_continuum() {
        let nodes = [
            Node {
                name: "a".into(),
                weight: 1,
            },
            Node {
                name: "b".into(),
                weight: 2,
            },
        ];
        assert_eq!(
            points(&nodes, one_at_a_time).unwrap(),
            libmemcached::points(&nodes).unwrap()
        );
    }

    #[test]
    fn a_hundred_points_one_per_hash() {
        let nodes = [
            Node {
                name: "10.0.0.1:11211".into(),
                weight: 1,
            },
            Node {
                name: "10.0.0.2:11300".into(),
                weight: 1,
            },
        ];
        let pts = points(&nodes, one_at_a_time).unwrap();
        assert_eq!(pts.len(), 200);
        assert_eq!(pts[0].0 >> 32, u64::from(one_at_a_time(b"10.0.0.1-0")));
        assert_eq!(
            pts[199].0 >> 32,
            u64::from(one_at_a_time(b"10.0.0.2:11300-99"))
        );
        let pts = points(&nodes, md5).unwrap();
        assert_eq!(pts[1].0 >> 32, u64::from(md5(b"10.0.0.1-1")));
    }
}
