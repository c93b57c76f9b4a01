//! `twemproxy`, `twemproxy-<hash>`: the ketama continuum of twemproxy 0.5
//! (`distribution: ketama`, `ketama_update` in `hashkit/nc_ketama.c`) with
//! one of its key hashes (`hash:`), point for point.
//!
//! The continuum is libmemcached's weighted one (see `libmemcached.rs`: the
//! same 32-bit float shares and the same point texts). twemproxy hashes a
//! server's `name`: the name the configuration gives it
//! (`host:port:weight name`), else `host` when the port is 11211 and
//! `host:port` otherwise — which is the libmemcached profile's rule applied
//! to a node named `host:port`. So a node is named `host:port` for an
//! unnamed server and by its name for a named one (a name that itself ends
//! in `:<port>` is split as `host:port` would be). The profiles differ in the
//! key hash only: `twemproxy` uses twemproxy's default, `fnv1a_64`; the
//! others name theirs. A key's point is that 32-bit hash of the key, and it
//! goes to the first point at or after it, wrapping. twemproxy's bytes are
//! C `char`, signed on the platforms it runs on: where its hash widens a byte
//! without masking it (`fnv1a_64`, `fnv1_64`, `one_at_a_time`), a byte of
//! 0x80 or more is sign-extended, here too.

use super::algorithm::Spec;
use super::libmemcached::spec;

/// `twemproxy` (fnv1a_64, twemproxy's default key hash).
pub(super) const SPEC: Spec = spec("twemproxy", 7, |k| u64::from(fnv1a_64(k)) << 32);
/// `twemproxy-md5`.
pub(super) const MD5: Spec = spec("twemproxy-md5", 8, |k| u64::from(md5(k)) << 32);
/// `twemproxy-one_at_a_time`.
pub(super) const ONE_AT_A_TIME: Spec = spec("twemproxy-one_at_a_time", 9, |k| {
    u64::from(one_at_a_time(k)) << 32
});
/// `twemproxy-murmur`.
pub(super) const MURMUR: Spec = spec("twemproxy-murmur", 10, |k| u64::from(murmur(k)) << 32);
/// `twemproxy-crc32` (twemproxy's 15-bit `crc32`).
pub(super) const CRC32: Spec = spec("twemproxy-crc32", 11, |k| u64::from(crc32(k)) << 32);
/// `twemproxy-crc32a`.
pub(super) const CRC32A: Spec = spec("twemproxy-crc32a", 12, |k| u64::from(crc32a(k)) << 32);

/// A C `char` of twemproxy widened to 32 bits (signed: sign-extended).
#[inline]
fn widen(b: u8) -> u32 {
    b as i8 as i32 as u32
}

/// `hash_fnv1a_64`: FNV-1a with the 64-bit constants cut to 32 bits.
pub fn fnv1a_64(key: &[u8]) -> u32 {
    let mut h = 0xcbf2_9ce4_8422_2325u64 as u32;
    for &b in key {
        h ^= widen(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3u64 as u32);
    }
    h
}

/// `hash_md5`: the first little-endian word of MD5(key).
pub fn md5(key: &[u8]) -> u32 {
    (super::ketama::key_position(key) >> 32) as u32
}

/// `hash_one_at_a_time`: Jenkins' one-at-a-time.
pub fn one_at_a_time(key: &[u8]) -> u32 {
    let mut v = 0u32;
    for &b in key {
        v = v.wrapping_add(widen(b));
        v = v.wrapping_add(v << 10);
        v ^= v >> 6;
    }
    v = v.wrapping_add(v << 3);
    v ^= v >> 11;
    v.wrapping_add(v << 15)
}

/// `hash_murmur`: MurmurHash2 with seed `0xdeadbeef * len`.
pub fn murmur(key: &[u8]) -> u32 {
    const M: u32 = 0x5bd1_e995;
    let len = key.len() as u32;
    let mut h = 0xdead_beefu32.wrapping_mul(len) ^ len;
    let mut chunks = key.chunks_exact(4);
    for c in &mut chunks {
        let mut k = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> 24;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M) ^ k;
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        for (i, &b) in rest.iter().enumerate().rev() {
            h ^= u32::from(b) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^ (h >> 15)
}

/// `hash_crc32`: the top 15 bits of the low half of CRC32 (twemproxy's and
/// libmemcached's historical "crc32").
pub fn crc32(key: &[u8]) -> u32 {
    (crc32fast::hash(key) >> 16) & 0x7fff
}

/// `hash_crc32a`: the full CRC32.
pub fn crc32a(key: &[u8]) -> u32 {
    crc32fast::hash(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_hashes_match_their_reference_values() {
        // FNV-1a 32-bit of "" is the 64-bit basis cut to 32 bits
        assert_eq!(fnv1a_64(b""), 0x8422_2325);
        // one byte: (basis ^ 'a') * 0x1b3 in 32 bits
        assert_eq!(fnv1a_64(b"a"), (0x8422_2325u32 ^ 0x61).wrapping_mul(0x1b3));
        // a byte >= 0x80 is sign-extended before the xor
        assert_eq!(
            fnv1a_64(&[0xff]),
            (0x8422_2325u32 ^ 0xffff_ffff).wrapping_mul(0x1b3)
        );
        // one-at-a-time of "a" (Bob Jenkins' published value)
        assert_eq!(one_at_a_time(b"a"), 0xca2e_9442);
        assert_eq!(crc32a(b"123456789"), 0xcbf4_3926);
        assert_eq!(crc32(b"123456789"), (0xcbf4_3926 >> 16) & 0x7fff);
        assert_eq!(md5(b""), 0xd98c_1dd4);
        assert_eq!(murmur(b""), {
            let mut h = 0u32;
            h ^= h >> 13;
            h = h.wrapping_mul(0x5bd1_e995);
            h ^ (h >> 15)
        });
    }
}
