//! `ketama`: libketama's continuum, point for point.
//!
//! For `n` servers with total weight `W`, server `s` of weight `w` gets
//! `ks = floorf((float)(w / W as f32) * 40.0 * (float)n)` hashes — the float
//! arithmetic of libketama, exactly: the share is a 32-bit float, the product is
//! taken in double (40.0 is a double literal) and rounded to float by `floorf`.
//! Hash `k` (0 <= k < ks) is MD5 of the text `"{name}-{k}"`, cut to 29 bytes as
//! libketama's `snprintf(ss, 30, ...)` does, and each 16-byte digest gives four
//! points, little-endian 32-bit words. A key's hash is the first little-endian
//! word of MD5(key). Positions are kept in the top 32 bits of the shared
//! 64-bit table so the lookup surface is the one of every point algorithm.
//!
//! With `vnodes` other than the default 160, `vnodes / 4` replaces 40.

use super::algorithm::{Parameter, Spec};
use super::continuum::Continuum;
use super::limits::vec_with_capacity;
use super::nodes::Node;
use super::Table;
use crate::error::Result;
use md5::{Digest, Md5};

/// ketama in the registry.
pub(super) const SPEC: Spec = Spec {
    name: "ketama",
    code: 1,
    parameter: Parameter::Vnodes {
        default: DEFAULT_VNODES,
        multiple_of: 4,
        why: " (each MD5 digest gives 4 points)",
    },
    // about vnodes per server whatever the weights
    points: |nodes, vnodes, _| nodes.len() as u64 * u64::from(vnodes),
    check_nodes: |_, _| Ok(()),
    build: |nodes, vnodes, _| Ok(Table::Points(Continuum::build(points(nodes, vnodes)?)?)),
    key_hash: key_position,
    point_shift: 32,
    space: |_| Some(1 << 32),
    continuum: true,
};

/// libketama's points per server of average weight.
pub const DEFAULT_VNODES: u32 = 160;

/// libketama `snprintf` buffer: 30 bytes including the NUL.
const KETAMA_TEXT_MAX: usize = 29;

/// The position of a key: the first LE word of MD5(key), in the top 32 bits.
#[inline]
pub fn key_position(key: &[u8]) -> u64 {
    let d = Md5::digest(key);
    u64::from(u32::from_le_bytes([d[0], d[1], d[2], d[3]])) << 32
}

/// How many MD5 hashes (4 points each) a server gets, libketama's float math.
pub fn hashes_for(weight: u32, total_weight: u64, servers: usize, vnodes: u32) -> u32 {
    let pct = weight as f32 / total_weight as f32;
    let per_server = f64::from(vnodes / 4);
    let ks = (f64::from(pct) * per_server * f64::from(servers as f32)) as f32;
    ks.floor() as u32
}

/// The points of every node (owner = index in `nodes`), unsorted. The
/// caller has checked their number (at most nodes × vnodes) against the
/// ring's limits; `Io` if the allocation fails.
pub fn points(nodes: &[Node], vnodes: u32) -> Result<Vec<(u64, u32)>> {
    let total = nodes.iter().map(|n| u64::from(n.weight)).sum::<u64>();
    let hashes = |node: &Node| hashes_for(node.weight, total, nodes.len(), vnodes);
    let count: u64 = nodes.iter().map(|n| 4 * u64::from(hashes(n))).sum();
    let mut out = vec_with_capacity(count as usize, "ketama points")?;
    let mut text = Vec::with_capacity(64);
    for (id, node) in nodes.iter().enumerate() {
        let ks = hashes(node);
        for k in 0..ks {
            text.clear();
            text.extend_from_slice(node.name.as_bytes());
            text.push(b'-');
            text.extend_from_slice(k.to_string().as_bytes());
            text.truncate(KETAMA_TEXT_MAX);
            push_digest_points(&mut out, &text, id);
        }
    }
    Ok(out)
}

/// The four points of one hash text, owned by `id`: the little-endian
/// 32-bit words of MD5(`text`), in the top half of the u64 (the MD5
/// continuums: ketama, libmemcached, twemproxy).
pub(super) fn push_digest_points(out: &mut Vec<(u64, u32)>, text: &[u8], id: usize) {
    let d = Md5::digest(text);
    for w in d.chunks_exact(4) {
        let w = u32::from_le_bytes([w[0], w[1], w[2], w[3]]);
        out.push((u64::from(w) << 32, id as u32));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_weights_give_forty_hashes_each() {
        for n in 1..50 {
            assert_eq!(hashes_for(1, n as u64, n, 160), 40, "n = {n}");
        }
    }

    #[test]
    fn float_shares_follow_libketama() {
        // 3 servers, weights 1:1:1 of total 3: pct = 0.33333334f, * 120 = 40.0000008
        assert_eq!(hashes_for(1, 3, 3, 160), 40);
        // weights 1 and 2: 1/3 * 80 = 26.67 -> 26; 2/3 * 80 = 53.3 -> 53
        assert_eq!(hashes_for(1, 3, 2, 160), 26);
        assert_eq!(hashes_for(2, 3, 2, 160), 53);
    }

    #[test]
    fn key_position_is_md5_first_le_word() {
        // MD5("") = d41d8cd98f00b204e9800998ecf8427e
        assert_eq!(key_position(b""), 0xd98c1dd4u64 << 32);
    }

    #[test]
    fn long_names_are_cut_like_snprintf() {
        let long = "x".repeat(40);
        let nodes = [Node {
            name: long.clone().into(),
            weight: 1,
        }];
        let pts = points(&nodes, 160).unwrap();
        // every hash text is the same 29 bytes, so every digest is the same
        let d = Md5::digest(&long.as_bytes()[..29]);
        let w = u32::from_le_bytes([d[0], d[1], d[2], d[3]]);
        assert_eq!(pts[0].0 >> 32, u64::from(w));
        assert_eq!(pts[4].0, pts[0].0);
    }
}
