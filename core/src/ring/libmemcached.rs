//! `libmemcached`: the continuum of libmemcached's weighted ketama
//! (`MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED`, what pylibmc's `ketama_weighted`,
//! PHP memcached's `OPT_LIBKETAMA_COMPATIBLE` and twemproxy's `hash: md5`
//! deployments use), point for point, as libmemcached 1.1.4
//! (`update_continuum` in `libmemcached/hosts.cc`) builds it.
//!
//! A node is named `host:port` or `host` (port 11211): the port is the
//! decimal number after the last `:`, and a host in brackets (`[::1]:11211`)
//! loses them, as libmemcached keeps it. For `n` servers of total weight `W`,
//! server `s` of weight `w` gets `ks` MD5 hashes, computed in 32-bit floats
//! throughout as libmemcached does:
//! `ks = floorf(w/W * 160 / 4 * n + 1e-10)` (`w/W` a float division, each
//! product rounded to float) — at some server counts (25, 47, 50, ...) that
//! is 39 where libketama's double arithmetic gives 40. Hash `k`
//! (0 <= k < ks) is MD5 of `"{host}-{k}"` when the port is 11211 and of
//! `"{host}:{port}-{k}"` otherwise, never cut; each digest gives four points,
//! its little-endian 32-bit words. A key's point is the first little-endian
//! word of MD5(key), and it goes to the first point at or after it,
//! wrapping. Equal points go to the node first in name order (libmemcached:
//! the server added first; the two agree when servers are added in name
//! order). The profile has no parameter (160 points per server of average
//! weight, as libmemcached fixes).

use super::algorithm::{Parameter, Spec};
use super::continuum::Continuum;
use super::ketama::{key_position, push_digest_points};
use super::limits::vec_with_capacity;
use super::nodes::Node;
use super::Table;
use crate::error::Result;
use std::io::Write;

/// libmemcached in the registry.
pub(super) const SPEC: Spec = spec("libmemcached", 5, key_position);

/// The spec of a profile on libmemcached's continuum (libmemcached's own,
/// twemproxy's), `key_hash` the key's point.
pub(super) const fn spec(name: &'static str, code: u8, key_hash: fn(&[u8]) -> u64) -> Spec {
    Spec {
        name,
        code,
        parameter: Parameter::None,
        // at most about POINTS_PER_SERVER per server whatever the weights
        points: |nodes, _, _| nodes.len() as u64 * u64::from(POINTS_PER_SERVER),
        check_nodes: |_, _| Ok(()),
        build: |nodes, _, _| Ok(Table::Points(Continuum::build(points(nodes)?)?)),
        key_hash,
        point_shift: 32,
        space: |_| Some(1 << 32),
        continuum: true,
    }
}

/// `MEMCACHED_POINTS_PER_SERVER_KETAMA`.
pub const POINTS_PER_SERVER: u32 = 160;

/// `MEMCACHED_DEFAULT_PORT`: the port whose point names omit it.
pub(super) const DEFAULT_PORT: u16 = 11211;

/// How many MD5 hashes (4 points each) a server gets: libmemcached's
/// 32-bit float arithmetic, step for step.
pub fn hashes_for(weight: u32, total_weight: u64, servers: usize) -> u32 {
    let pct = weight as f32 / total_weight as f32;
    let share = pct * POINTS_PER_SERVER as f32 / 4.0 * servers as f32 + 0.000_000_000_1;
    share.floor() as u32
}

/// The host and port libmemcached would hold for a node name.
pub fn host_port(name: &str) -> (&str, u16) {
    let (host, port) = match name.rsplit_once(':') {
        Some((host, port))
            if !port.is_empty()
                && port.bytes().all(|b| b.is_ascii_digit())
                && (!host.contains(':') || host.starts_with('[')) =>
        {
            match port.parse::<u16>() {
                Ok(p) => (host, p),
                Err(_) => (name, DEFAULT_PORT),
            }
        }
        _ => (name, DEFAULT_PORT),
    };
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    (host, port)
}

/// The points of every node (owner = index in `nodes`), unsorted; `Io` if
/// the allocation fails.
pub fn points(nodes: &[Node]) -> Result<Vec<(u64, u32)>> {
    let total = nodes.iter().map(|n| u64::from(n.weight)).sum::<u64>();
    let hashes = |node: &Node| hashes_for(node.weight, total, nodes.len());
    let count: u64 = nodes.iter().map(|n| 4 * u64::from(hashes(n))).sum();
    let mut out = vec_with_capacity(count as usize, "libmemcached points")?;
    let mut text = Vec::with_capacity(64);
    for (id, node) in nodes.iter().enumerate() {
        let (host, port) = host_port(&node.name);
        for k in 0..hashes(node) {
            text.clear();
            // writing to a Vec cannot fail
            let _ = if port == DEFAULT_PORT {
                write!(text, "{host}-{k}")
            } else {
                write!(text, "{host}:{port}-{k}")
            };
            push_digest_points(&mut out, &text, id);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use md5::{Digest, Md5};

    #[test]
    fn float_shares_drop_a_hash_where_libmemcached_does() {
        // equal weights: 40 hashes, except where the float product falls
        // just below 40 (the measured counts)
        for n in [25usize, 47, 50, 55, 71, 94, 100] {
            assert_eq!(hashes_for(1, n as u64, n), 39, "n = {n}");
        }
        for n in [1usize, 2, 3, 4, 10, 24, 26, 48, 99] {
            assert_eq!(hashes_for(1, n as u64, n), 40, "n = {n}");
        }
    }

    #[test]
    fn names_follow_libmemcached_hosts() {
        assert_eq!(host_port("10.0.0.1:11211"), ("10.0.0.1", 11211));
        assert_eq!(host_port("cache-a:11212"), ("cache-a", 11212));
        assert_eq!(host_port("cache-a"), ("cache-a", 11211));
        assert_eq!(host_port("[::1]:11300"), ("::1", 11300));
        assert_eq!(host_port("[::1]"), ("::1", 11211));
        assert_eq!(host_port("::1"), ("::1", 11211));
        assert_eq!(host_port("a:99999"), ("a:99999", 11211));
        assert_eq!(host_port("a:"), ("a:", 11211));
    }

    #[test]
    fn long_names_are_not_cut() {
        let long = "x".repeat(40);
        let nodes = [Node {
            name: long.clone().into(),
            weight: 1,
        }];
        let pts = points(&nodes).unwrap();
        assert_eq!(pts.len(), 160);
        let d = Md5::digest(format!("{long}-1").as_bytes());
        let w = u32::from_le_bytes([d[0], d[1], d[2], d[3]]);
        assert_eq!(pts[4].0 >> 32, u64::from(w));
        assert_ne!(pts[4].0, pts[0].0);
    }
}
