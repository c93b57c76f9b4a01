//! `nginx`: the continuum of nginx's `hash $key consistent` (the upstream
//! hash module, `ngx_http_upstream_update_chash`), point for point, as
//! nginx 1.22 builds it — itself compatible with Cache::Memcached::Fast.
//!
//! A node's name is the `server` address exactly as nginx's configuration
//! writes it (`10.0.0.1:8080`, `[::1]:8080`, `cache.internal`,
//! `unix:/run/app.sock`). nginx splits it into host and port: a name that
//! starts with `unix:` (any case) is all host after that prefix, with no port;
//! otherwise, when the name ends in a `:` followed only by digits (possibly
//! none), the host is what comes before that `:` and the port those digits;
//! else the whole name is the host and there is no port. A node of weight
//! `w` has `160 × w` points: with `base` the bytes `host ‖ 0x00 ‖ port`,
//! point `j` is `CRC32(base ‖ le32(p))` where `p` is point `j - 1` (0 for the
//! first point). CRC32 is the IEEE/zlib one. A key sits at `CRC32(key)` and
//! goes to the first point at or after it, wrapping. nginx drops equal
//! points but one, picked by its unstable sort; ringlock keeps the node
//! first in name order there. The profile has no parameter.

use super::algorithm::{Parameter, Spec};
use super::continuum::Continuum;
use super::limits::vec_with_capacity;
use super::nodes::Node;
use super::Table;
use crate::error::Result;

/// nginx in the registry.
pub(super) const SPEC: Spec = Spec {
    name: "nginx",
    code: 6,
    parameter: Parameter::None,
    points: |nodes, _, _| nodes.total_weight() * u64::from(POINTS_PER_WEIGHT),
    check_nodes: |_, _| Ok(()),
    build: |nodes, _, _| Ok(Table::Points(Continuum::build(points(nodes)?)?)),
    key_hash: key_position,
    point_shift: 32,
    space: |_| Some(1 << 32),
    continuum: true,
};

/// Points per unit of weight, fixed by nginx.
pub const POINTS_PER_WEIGHT: u32 = 160;

/// The position of a key: CRC32(key), in the top 32 bits.
#[inline]
pub fn key_position(key: &[u8]) -> u64 {
    u64::from(crc32fast::hash(key)) << 32
}

/// nginx's split of a `server` address into host and port bytes.
pub fn host_port(name: &[u8]) -> (&[u8], &[u8]) {
    if name.len() >= 5 && name[..5].eq_ignore_ascii_case(b"unix:") {
        return (&name[5..], b"");
    }
    let digits = name.iter().rev().take_while(|b| b.is_ascii_digit()).count();
    match name.len().checked_sub(digits + 1) {
        Some(colon) if name[colon] == b':' => (&name[..colon], &name[colon + 1..]),
        _ => (name, b""),
    }
}

/// The points of every node (owner = index in `nodes`), unsorted; `Io` if
/// the allocation fails.
pub fn points(nodes: &[Node]) -> Result<Vec<(u64, u32)>> {
    let count: u64 =
        nodes.iter().map(|n| u64::from(n.weight)).sum::<u64>() * u64::from(POINTS_PER_WEIGHT);
    let mut out = vec_with_capacity(count as usize, "nginx points")?;
    for (id, node) in nodes.iter().enumerate() {
        let (host, port) = host_port(node.name.as_bytes());
        let mut base = crc32fast::Hasher::new();
        base.update(host);
        base.update(&[0]);
        base.update(port);
        let mut prev = 0u32;
        for _ in 0..u64::from(node.weight) * u64::from(POINTS_PER_WEIGHT) {
            let mut h = base.clone();
            h.update(&prev.to_le_bytes());
            prev = h.finalize();
            out.push((u64::from(prev) << 32, id as u32));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_split_as_nginx_splits_them() {
        let split = |s: &'static str| {
            let (h, p) = host_port(s.as_bytes());
            (
                std::str::from_utf8(h).unwrap(),
                std::str::from_utf8(p).unwrap(),
            )
        };
        assert_eq!(split("127.0.0.1:8080"), ("127.0.0.1", "8080"));
        assert_eq!(split("[::1]:8080"), ("[::1]", "8080"));
        assert_eq!(split("cache.internal"), ("cache.internal", ""));
        assert_eq!(split("host:"), ("host", ""));
        assert_eq!(split("8080"), ("8080", ""));
        assert_eq!(split("UNIX:/run/a.sock"), ("/run/a.sock", ""));
        assert_eq!(split("a:b1"), ("a:b1", ""));
    }

    #[test]
    fn points_chain_from_the_previous_point() {
        let nodes = [Node {
            name: "h:1".into(),
            weight: 1,
        }];
        let pts = points(&nodes).unwrap();
        assert_eq!(pts.len(), 160);
        let first = crc32fast::hash(b"h\x001\x00\x00\x00\x00");
        assert_eq!(pts[0].0 >> 32, u64::from(first));
        let mut second = b"h\x001".to_vec();
        second.extend_from_slice(&first.to_le_bytes());
        assert_eq!(pts[1].0 >> 32, u64::from(crc32fast::hash(&second)));
    }
}
