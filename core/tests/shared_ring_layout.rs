//! A reader of published ring files written from docs/shared-ring.md alone
//! (byte offsets, the canonical sections, the checksum, the lookups), with
//! none of the crate's reading code: it must find every field where the
//! document says and answer as `Ring` does, for every algorithm. If the code
//! and the document part ways, this fails.

use md5::{Digest, Md5};
use ringlock::{jump_hash, Algorithm, Ring, SharedRing};
use xxhash_rust::xxh3::{xxh3_64, Xxh3};

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

fn align8(x: u64) -> u64 {
    (x + 7) & !7
}

/// What the document's reader keeps of a file.
struct Doc {
    generation: u64,
    algorithm: u32,
    names: Vec<String>,
    weights: Vec<u32>,
    entries: u64,
    bits: u32,
    table_size: u64,
    pos: Vec<u64>,
    owner: Vec<u32>,
    index: Vec<u32>,
}

fn read(b: &[u8]) -> Doc {
    // header
    assert_eq!(&b[0..8], b"RLSHRING");
    assert_eq!(u32_at(b, 8), 1);
    assert_eq!(u32_at(b, 12), 128);
    let generation = u64_at(b, 16);
    assert!(generation >= 1);
    assert_eq!(u64_at(b, 24), b.len() as u64);
    let algorithm = u32_at(b, 32);
    let table_size = u64::from(u32_at(b, 40));
    let n = u32_at(b, 44) as u64;
    let entries = u64_at(b, 48);
    let bits = u32_at(b, 56);
    assert_eq!(u32_at(b, 60), 0);
    assert_eq!(u64_at(b, 120), 0);
    let mut h = Xxh3::new();
    h.update(&b[..112]);
    h.update(&b[120..]);
    assert_eq!(u64_at(b, 112), h.digest(), "checksum");
    // canonical sections
    let nodes = 128u64;
    let names = nodes + 16 * n;
    let names_len = u64_at(b, 80);
    let after = align8(names + names_len);
    let points = !matches!(algorithm, 3 | 4);
    let (pos, owner, index, end) = if points {
        let s = entries + 4;
        let owner = after + 8 * s;
        let index = align8(owner + 4 * s);
        (after, owner, index, index + 4 * (1u64 << bits))
    } else {
        assert_eq!(bits, 0);
        (0, after, 0, after + 4 * entries)
    };
    for (at, v) in [
        (64, nodes),
        (72, names),
        (88, pos),
        (96, owner),
        (104, index),
    ] {
        assert_eq!(u64_at(b, at), v, "offset at byte {at}");
    }
    assert_eq!(align8(end), b.len() as u64);
    // node records and names
    let (mut ns, mut ws, mut off) = (vec![], vec![], 0u32);
    for i in 0..n as usize {
        let r = 128 + 16 * i;
        let (o, len, w) = (u32_at(b, r), u32_at(b, r + 4), u32_at(b, r + 8));
        assert_eq!((o, u32_at(b, r + 12)), (off, 0));
        assert!(len >= 1 && w >= 1);
        let at = names as usize + o as usize;
        let name = std::str::from_utf8(&b[at..at + len as usize]).unwrap();
        assert_eq!(b[at + len as usize], 0, "NUL after the name");
        ns.push(name.to_owned());
        ws.push(w);
        off += len + 1;
    }
    assert_eq!(u64::from(off), names_len);
    assert!(ns.windows(2).all(|w| w[0].as_bytes() < w[1].as_bytes()));
    let slots = if points { entries + 4 } else { entries } as usize;
    let u64s = |at: u64, k: usize| (0..k).map(|i| u64_at(b, at as usize + 8 * i)).collect();
    let u32s = |at: u64, k: usize| (0..k).map(|i| u32_at(b, at as usize + 4 * i)).collect();
    Doc {
        generation,
        algorithm,
        names: ns,
        weights: ws,
        entries,
        bits,
        table_size,
        pos: if points { u64s(pos, slots) } else { vec![] },
        owner: u32s(owner, slots),
        index: if points {
            u32s(index, 1 << bits)
        } else {
            vec![]
        },
    }
}

/// HAProxy's key hash as docs/placement.md writes it: sdbm, then
/// `full_hash`.
fn haproxy_key(key: &[u8]) -> u32 {
    let mut h = 0u32;
    for &c in key {
        h = u32::from(c)
            .wrapping_add(h << 6)
            .wrapping_add(h << 16)
            .wrapping_sub(h);
    }
    let mut a = h;
    a = a.wrapping_add(0x7ed55d16).wrapping_add(a << 12);
    a = (a ^ 0xc761c23c) ^ (a >> 19);
    a = a.wrapping_add(0x165667b1).wrapping_add(a << 5);
    a = a.wrapping_add(0xd3a2646c) ^ (a << 9);
    a = a.wrapping_add(0xfd7046c5).wrapping_add(a << 3);
    a = (a ^ 0xb55a4f09) ^ (a >> 16);
    a.wrapping_mul(3221225473)
}

impl Doc {
    /// Where the document's walk starts, and the owner.
    fn start(&self, key: &[u8]) -> (usize, u32) {
        match self.algorithm {
            3 => {
                let b = jump_hash(xxh3_64(key), self.entries as i32) as usize;
                (b, self.owner[b])
            }
            4 => {
                let e = (xxh3_64(key) % self.table_size) as usize;
                (e, self.owner[e])
            }
            _ => {
                let h = match self.algorithm {
                    2 => xxh3_64(key),
                    // envoy-ring-hash: XXH64, seed 0
                    17 => xxhash_rust::xxh64::xxh64(key, 0),
                    // ketama, libmemcached, twemproxy-md5,
                    // libmemcached-consistent-md5, spymemcached
                    1 | 5 | 8 | 15 | 16 => {
                        let d = Md5::digest(key);
                        u64::from(u32::from_le_bytes([d[0], d[1], d[2], d[3]])) << 32
                    }
                    // nginx, twemproxy-crc32a
                    6 | 12 => u64::from(crc32fast::hash(key)) << 32,
                    // haproxy: full_hash(sdbm(key)), from docs/placement.md
                    13 => u64::from(haproxy_key(key)) << 32,
                    a => unreachable!("the test does not read algorithm {a}"),
                };
                let mut j = self.index[(h >> (64 - self.bits)) as usize] as usize;
                while self.pos[j] < h {
                    j += 1;
                }
                (j % self.entries as usize, self.owner[j])
            }
        }
    }

    fn get(&self, key: &[u8]) -> &str {
        &self.names[self.start(key).1 as usize]
    }

    fn get_n(&self, key: &[u8], n: usize) -> Vec<&str> {
        let e = self.entries as usize;
        let (s, _) = self.start(key);
        let mut out: Vec<u32> = vec![];
        for k in 0..e {
            let o = self.owner[(s + k) % e];
            if !out.contains(&o) {
                out.push(o);
            }
            if out.len() == n.min(self.names.len()) {
                break;
            }
        }
        out.iter()
            .map(|&o| self.names[o as usize].as_str())
            .collect()
    }
}

#[test]
fn a_reader_written_from_the_document_answers_as_the_ring() {
    let dir = std::env::temp_dir().join(format!("ringlock-sr-layout-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    // every algorithm whose key hash this reader computes (the other
    // twemproxy profiles differ from twemproxy-md5 in the key hash only, and
    // libmemcached-consistent from libmemcached-consistent-md5)
    let read_here = |a: &Algorithm| !matches!(a.code(), 7 | 9 | 10 | 11 | 14);
    for a in Algorithm::ALL.into_iter().filter(read_here) {
        for n in [1usize, 7, 60] {
            let nodes: Vec<(String, u32)> = (0..n)
                .map(|i| (format!("node-{i:03}-é"), 1 + (i as u32) % 3))
                .collect();
            let r = Ring::with_nodes(a, 0, nodes).unwrap();
            let path = dir.join(format!("{a}-{n}"));
            SharedRing::publish(&r, &path).unwrap();
            SharedRing::publish(&r, &path).unwrap();
            let d = read(&std::fs::read(&path).unwrap());
            assert_eq!(d.generation, 2);
            assert_eq!(d.algorithm, u32::from(a.code()));
            assert!(d
                .names
                .iter()
                .map(String::as_str)
                .zip(d.weights.iter().copied())
                .eq(r.nodes()));
            // the generation word
            let g = std::fs::read(dir.join(format!("{a}-{n}.gen"))).unwrap();
            assert_eq!(
                (g.len(), &g[0..8], u32_at(&g, 8)),
                (64, &b"RLSRGEN1"[..], 1)
            );
            assert_eq!(u64_at(&g, 16), 2);
            if !matches!(d.algorithm, 3 | 4) {
                // sentinels and index as the document says
                let e = d.entries as usize;
                assert!(d.pos[e..].iter().all(|&p| p == u64::MAX));
                assert!(d.owner[e..].iter().all(|&o| o == d.owner[0]));
                let bits = (usize::BITS - e.max(2).leading_zeros() - 1).clamp(1, 31);
                assert_eq!(d.bits, bits);
                for (b, &ix) in d.index.iter().enumerate() {
                    let below = d.pos[..e]
                        .iter()
                        .filter(|&&p| p < (b as u64) << (64 - bits))
                        .count();
                    assert_eq!(ix as usize, below);
                }
                // 32-bit positions in the top half, but for the 64-bit rings
                if a != Algorithm::Xxh3 && a != Algorithm::EnvoyRingHash {
                    assert!(d.pos[..e].iter().all(|p| p & 0xffff_ffff == 0));
                }
            }
            for i in 0..20_000 {
                let k = format!("user:{i}");
                assert_eq!(
                    d.get(k.as_bytes()),
                    r.get(k.as_bytes()).unwrap(),
                    "{a} {n} {k}"
                );
                if i % 20 == 0 {
                    assert_eq!(d.get_n(k.as_bytes(), 3), r.get_n(k.as_bytes(), 3).unwrap());
                }
            }
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
