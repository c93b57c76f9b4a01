//! Serialisation of a ring: what is needed to rebuild it, no table.
//!
//! Format version 1, all integers little-endian:
//!
//! | bytes | field |
//! |---|---|
//! | 8 | magic `"RLRING\0\n"` |
//! | 2 | format version (1) |
//! | 1 | algorithm code (1 ketama, 2 xxh3, 3 jump, 4 maglev) |
//! | 1 | reserved, 0 |
//! | 4 | vnodes (ketama, xxh3: the resolved count, never 0; jump: 0); for maglev (which has none) the table size, a prime, never 0 |
//! | 4 | node count `n` |
//! | n × (4 + len + 4) | name length, UTF-8 name, weight — names strictly ascending |
//! | 8 | XXH3-64 of every byte before it |
//!
//! Loading checks every field and rebuilds the ring through the normal
//! constructors, so a buffer that loads is a ring that could have been built;
//! and every ring has exactly one encoding: `to_bytes(from_bytes(b)) == b`
//! for every `b` that loads (0 for "the default" is never written, so it is
//! refused). A ring is loaded within [`Limits`] (the defaults, or those given
//! to [`Ring::from_bytes_with_limits`]), checked before any table is built.

use super::algorithm::Parameter;
use super::limits::vec_with_capacity;
use super::{Algorithm, Limits, Ring};
use crate::error::{Error, ErrorKind, Result};
use xxhash_rust::xxh3::xxh3_64;

const MAGIC: &[u8; 8] = b"RLRING\0\n";
const VERSION: u16 = 1;

impl Ring {
    /// The ring as bytes (format above). Equal rings give equal bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(32 + self.len() * 24);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.push(self.algorithm.code());
        out.push(0);
        let field = match self.algorithm.spec().parameter {
            Parameter::TableSize { .. } => self.table_size,
            _ => self.vnodes,
        };
        out.extend_from_slice(&field.to_le_bytes());
        out.extend_from_slice(&(self.len() as u32).to_le_bytes());
        for (name, weight) in self.nodes() {
            out.extend_from_slice(&(name.len() as u32).to_le_bytes());
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(&weight.to_le_bytes());
        }
        let sum = xxh3_64(&out);
        out.extend_from_slice(&sum.to_le_bytes());
        out
    }

    /// A ring from [`Ring::to_bytes`] output, within the default [`Limits`].
    /// Errors: `Corrupt` for anything that is not a whole, intact buffer of a
    /// known version, or a ring past the limits (refused before any table
    /// is built); `Io` if memory runs out.
    pub fn from_bytes(bytes: &[u8]) -> Result<Ring> {
        Ring::from_bytes_with_limits(bytes, Limits::DEFAULT)
    }

    /// [`Ring::from_bytes`] within `limits` (0 in a field: its default),
    /// which the ring keeps. `InvalidArgument` for a limit above
    /// [`MAX_POINTS`](super::MAX_POINTS).
    pub fn from_bytes_with_limits(bytes: &[u8], limits: Limits) -> Result<Ring> {
        let limits = limits.resolve()?;
        if bytes.len() < MAGIC.len() + 20 {
            return Err(Error::corrupt(format!(
                "serialised ring is {} bytes, shorter than any valid ring",
                bytes.len()
            )));
        }
        if &bytes[..8] != MAGIC {
            return Err(Error::corrupt("not a serialised ring (bad magic)"));
        }
        let (body, sum) = bytes.split_at(bytes.len() - 8);
        let mut r = Reader { buf: body, at: 8 };
        let version = u16::from_le_bytes([r.byte()?, r.byte()?]);
        if version != VERSION {
            return Err(Error::corrupt(format!(
                "serialised ring has format version {version}; this library reads version {VERSION}"
            )));
        }
        if u64::from_le_bytes(sum.try_into().expect("8 bytes")) != xxh3_64(body) {
            return Err(Error::corrupt("serialised ring fails its checksum"));
        }
        let code = r.byte()?;
        let algorithm = Algorithm::from_code(u32::from(code))
            .ok_or_else(|| Error::corrupt(format!("unknown algorithm code {code}")))?;
        if r.byte()? != 0 {
            return Err(Error::corrupt("reserved byte is not 0"));
        }
        let vnodes = r.u32()?;
        let count = r.u32()?;
        if u64::from(count) > limits.max_nodes {
            return Err(Error::corrupt(format!(
                "serialised ring has {count} nodes, more than the limit of {} \
                 (raise Limits::max_nodes to load it)",
                limits.max_nodes
            )));
        }
        let count = count as usize;
        // Each node takes at least 9 bytes: no more room than the input holds.
        let mut nodes: Vec<(String, u32)> =
            vec_with_capacity(count.min(body.len() / 9), "serialised nodes")?;
        for i in 0..count {
            let len = r.u32()? as usize;
            let name = std::str::from_utf8(r.take(len)?)
                .map_err(|_| Error::corrupt(format!("node {i}: name is not UTF-8")))?;
            let weight = r.u32()?;
            if let Some((prev, _)) = nodes.last() {
                if prev.as_bytes() >= name.as_bytes() {
                    return Err(Error::corrupt(format!(
                        "node {i}: names are not in strictly ascending order"
                    )));
                }
            }
            nodes.push((name.to_owned(), weight));
        }
        if r.at != body.len() {
            return Err(Error::corrupt(format!(
                "{} unexpected bytes after the last node",
                body.len() - r.at
            )));
        }
        let (vnodes, table_size) = match algorithm.spec().parameter {
            // 0 would be a second spelling of the default: one ring, one encoding.
            Parameter::TableSize { .. } if vnodes == 0 => {
                return Err(Error::corrupt(format!(
                    "serialised {algorithm} ring has table size 0"
                )))
            }
            Parameter::Vnodes { .. } if vnodes == 0 => {
                return Err(Error::corrupt(format!(
                    "serialised {algorithm} ring has vnodes 0; rings store their resolved vnodes"
                )))
            }
            Parameter::TableSize { .. } => (0, vnodes),
            _ => (vnodes, 0),
        };
        Ring::with_limits(algorithm, vnodes, table_size, limits)
            .and_then(|mut ring| ring.add_many(nodes).map(|()| ring))
            .map_err(|e| match e.kind() {
                // the data may be fine: memory ran out
                ErrorKind::Io => e,
                _ => Error::corrupt(format!("serialised ring is refused: {}", e.message())),
            })
    }
}

struct Reader<'a> {
    buf: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.buf.len());
        let end = end.ok_or_else(|| Error::corrupt("serialised ring is truncated"))?;
        let s = &self.buf[self.at..end];
        self.at = end;
        Ok(s)
    }

    fn byte(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn sample(a: Algorithm) -> Ring {
        Ring::with_nodes(a, 0, [("alpha", 1), ("beta", 3), ("γ", 2)]).unwrap()
    }

    #[test]
    fn round_trips_every_algorithm() {
        for a in Algorithm::ALL {
            let r = sample(a);
            let back = Ring::from_bytes(&r.to_bytes()).unwrap();
            assert_eq!(back, r);
            assert_eq!(back.to_bytes(), r.to_bytes());
            for i in 0..100 {
                let k = format!("k{i}");
                assert_eq!(
                    back.get(k.as_bytes()).unwrap(),
                    r.get(k.as_bytes()).unwrap()
                );
            }
        }
        let empty = Ring::new(Algorithm::Ketama);
        assert_eq!(Ring::from_bytes(&empty.to_bytes()).unwrap(), empty);
    }

    #[test]
    fn maglev_carries_its_table_size() {
        let r = Ring::with_config(Algorithm::Maglev, 0, 101).unwrap();
        let bytes = r.to_bytes();
        assert_eq!(&bytes[12..16], &101u32.to_le_bytes());
        let back = Ring::from_bytes(&bytes).unwrap();
        assert_eq!(back.table_size(), 101);
        assert_eq!(back, r);
        assert_ne!(back, Ring::new(Algorithm::Maglev));
        let bytes = sample(Algorithm::Maglev).to_bytes();
        assert_eq!(&bytes[12..16], &65_537u32.to_le_bytes());
        assert_damage_is_corrupt(&bytes);
    }

    /// Every truncation and every single bit flip of `bytes` is `Corrupt`.
    fn assert_damage_is_corrupt(bytes: &[u8]) {
        for cut in 0..bytes.len() {
            let e = Ring::from_bytes(&bytes[..cut]).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Corrupt, "cut at {cut}: {e}");
        }
        for i in 0..bytes.len() {
            for bit in 0..8 {
                let mut b = bytes.to_vec();
                b[i] ^= 1 << bit;
                let e = Ring::from_bytes(&b).unwrap_err();
                assert_eq!(e.kind(), ErrorKind::Corrupt, "flip {i}.{bit}: {e}");
            }
        }
    }

    #[test]
    fn every_truncation_and_bit_flip_is_corrupt() {
        let bytes = sample(Algorithm::Xxh3).to_bytes();
        assert_damage_is_corrupt(&bytes);
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(Ring::from_bytes(&longer).is_err());
    }

    /// A buffer with a valid checksum but invalid content is still refused.
    #[test]
    fn semantic_errors_behind_a_good_checksum() {
        fn seal(mut body: Vec<u8>) -> Vec<u8> {
            let s = xxh3_64(&body);
            body.extend_from_slice(&s.to_le_bytes());
            body
        }
        let head = |algo: u8, vnodes: u32, n: u32| {
            let mut b = MAGIC.to_vec();
            b.extend_from_slice(&1u16.to_le_bytes());
            b.extend_from_slice(&[algo, 0]);
            b.extend_from_slice(&vnodes.to_le_bytes());
            b.extend_from_slice(&n.to_le_bytes());
            b
        };
        let node = |b: &mut Vec<u8>, name: &[u8], w: u32| {
            b.extend_from_slice(&(name.len() as u32).to_le_bytes());
            b.extend_from_slice(name);
            b.extend_from_slice(&w.to_le_bytes());
        };
        let mut zero_weight = head(2, 0, 1);
        node(&mut zero_weight, b"a", 0);
        let mut unsorted = head(2, 0, 2);
        node(&mut unsorted, b"b", 1);
        node(&mut unsorted, b"a", 1);
        let mut bad_utf8 = head(2, 0, 1);
        node(&mut bad_utf8, b"\xff", 1);
        let mut huge = head(2, 0, 1);
        node(&mut huge, b"a", u32::MAX);
        let many = head(2, 0, u32::MAX);
        let mut crowded = head(4, 2, 3);
        for name in [b"a", b"b", b"c"] {
            node(&mut crowded, name, 1);
        }
        for (what, body) in [
            ("zero weight", zero_weight),
            ("unsorted", unsorted),
            ("bad utf8", bad_utf8),
            ("huge", huge),
            ("count past the end", many),
            ("3 nodes in a maglev table of 2", crowded),
            ("algorithm 99", head(99, 0, 0)),
            ("ketama vnodes 5", head(1, 5, 0)),
            ("ketama vnodes 0 (a second spelling of 160)", head(1, 0, 0)),
            ("xxh3 vnodes 0 (a second spelling of 160)", head(2, 0, 0)),
            ("maglev table size 0", head(4, 0, 0)),
            ("maglev table size 100 (not prime)", head(4, 100, 0)),
            (
                "maglev table size 2^26 + 15 (prime, too big)",
                head(4, (1 << 26) + 15, 0),
            ),
            ("jump vnodes 5", head(3, 5, 0)),
        ] {
            let e = Ring::from_bytes(&seal(body)).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Corrupt, "{what}: {e}");
        }
    }
}
