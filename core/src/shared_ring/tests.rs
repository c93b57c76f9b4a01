//! The corrupt-file matrix and a bounded bit-flip / truncation fuzz of the
//! reader (`RINGLOCK_FUZZ_CASES` raises the count: `make fuzz`).

use super::{encode, validate, SharedRing};
use crate::ring::shared::layout::{self, HEADER_LEN, NODE_RECORD_LEN};
use crate::{Algorithm, ErrorKind, Ring};

fn ring(a: Algorithm, n: usize) -> Ring {
    let nodes: Vec<(String, u32)> = (0..n)
        .map(|i| (format!("node-{i:03}"), 1 + i as u32 % 3))
        .collect();
    let mut r = Ring::with_config(a, 0, if a == Algorithm::Maglev { 101 } else { 0 }).unwrap();
    r.add_many(nodes).unwrap();
    r
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}
fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}
fn put32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}
fn put64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

fn corrupt(bytes: &[u8]) -> String {
    let e = validate(bytes).expect_err("must be refused");
    assert_eq!(e.kind(), ErrorKind::Corrupt, "{e}");
    e.message().to_owned()
}

/// `f` applied, then the checksum made right again: only the structural
/// checks stand between the reader and the damage.
fn resealed(bytes: &[u8], f: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut b = bytes.to_vec();
    f(&mut b);
    if b.len() >= HEADER_LEN {
        layout::seal(&mut b);
    }
    b
}

#[test]
fn intact_files_validate_for_every_algorithm_and_size() {
    for a in Algorithm::ALL {
        for n in [0, 1, 5, 40] {
            let r = ring(a, n);
            assert_eq!(validate(&encode(&r, 7)).unwrap(), 7, "{a} {n}");
        }
    }
}

#[test]
fn the_corrupt_matrix() {
    let good = encode(&ring(Algorithm::Xxh3, 5), 3);
    let nodes_at = HEADER_LEN;
    let names_at = u64_at(&good, 72) as usize;
    let pos_at = u64_at(&good, 88) as usize;
    let owner_at = u64_at(&good, 96) as usize;
    let index_at = u64_at(&good, 104) as usize;

    assert!(corrupt(&[]).contains("shorter"));
    assert!(corrupt(&good[..HEADER_LEN - 1]).contains("shorter"));
    assert!(corrupt(&good[..good.len() - 8]).contains("truncated"));
    assert!(corrupt(&vec![0xA5; good.len()]).contains("magic"));
    let mut b = good.clone();
    b[0] = b'X';
    assert!(corrupt(&b).contains("magic"));
    assert!(corrupt(&resealed(&good, |b| put32(b, 8, 2))).contains("version 2"));
    let mut b = good.clone();
    b[names_at] ^= 1;
    assert!(corrupt(&b).contains("checksum"));
    assert!(corrupt(&resealed(&good, |b| put64(b, 16, 0))).contains("generation is 0"));
    // hostile counts: every one refused before anything is read or allocated
    for (at, v) in [(44usize, u32::MAX), (44, 6), (56, 31), (56, 3)] {
        let m = corrupt(&resealed(&good, |b| put32(b, at, v)));
        assert!(m.contains("sections") || m.contains("index"), "{at}: {m}");
    }
    for (at, v) in [
        (48usize, u64::MAX),
        (48, 1 << 40),
        (80, u64::MAX - 3),
        (88, 8),
        (96, 0),
    ] {
        corrupt(&resealed(&good, |b| put64(b, at, v)));
    }
    assert!(corrupt(&resealed(&good, |b| put32(b, 32, 99))).contains("algorithm"));
    assert!(corrupt(&resealed(&good, |b| put32(b, 36, 0))).contains("vnodes"));
    assert!(corrupt(&resealed(&good, |b| put32(b, 40, 101))).contains("table size"));
    // names that overlap, run past the section, repeat or go out of order
    let rec1 = nodes_at + NODE_RECORD_LEN;
    assert!(corrupt(&resealed(&good, |b| put32(b, rec1, 0))).contains("out of place"));
    assert!(corrupt(&resealed(&good, |b| put32(b, rec1 + 4, 0))).contains("out of place"));
    assert!(corrupt(&resealed(&good, |b| put32(b, rec1 + 8, 0))).contains("weight 0"));
    assert!(corrupt(&resealed(&good, |b| put32(b, rec1 + 4, 10_000))).contains("past"));
    let m = corrupt(&resealed(&good, |b| b[names_at + 8] = b'x')); // a NUL overwritten
    assert!(m.contains("NUL"), "{m}");
    let m = corrupt(&resealed(&good, |b| b[names_at + 9 + 7] = b'0')); // node-001 -> node-000
    assert!(m.contains("increasing"), "{m}");
    let m = corrupt(&resealed(&good, |b| b[names_at + 2] = 0xff)); // not UTF-8
    assert!(m.contains("UTF-8"), "{m}");
    // weights that do not match the table
    assert!(corrupt(&resealed(&good, |b| put32(b, rec1 + 8, 3))).contains("table size"));
    // the table: unsorted, owners out of range, sentinels, index
    let m = corrupt(&resealed(&good, |b| {
        let (x, y) = (u64_at(b, pos_at), u64_at(b, pos_at + 8));
        put64(b, pos_at, y);
        put64(b, pos_at + 8, x);
    }));
    assert!(m.contains("sorted"), "{m}");
    assert!(corrupt(&resealed(&good, |b| put32(b, owner_at, 5))).contains("names no node"));
    let points = u64_at(&good, 48) as usize;
    let m = corrupt(&resealed(&good, |b| put64(b, pos_at + 8 * points, 0)));
    assert!(m.contains("sentinel"), "{m}");
    let m = corrupt(&resealed(&good, |b| {
        let v = u32_at(b, index_at + 4) + 1;
        put32(b, index_at + 4, v)
    }));
    assert!(m.contains("index"), "{m}");
    let m = corrupt(&resealed(&good, |b| put32(b, index_at + 4, u32::MAX)));
    assert!(m.contains("index"), "{m}");

    // jump and maglev tables
    let jump = encode(&ring(Algorithm::Jump, 4), 1);
    let owner_at = u64_at(&jump, 96) as usize;
    let m = corrupt(&resealed(&jump, |b| put32(b, owner_at, 1)));
    assert!(m.contains("jump"), "{m}");
    let maglev = encode(&ring(Algorithm::Maglev, 4), 1);
    let owner_at = u64_at(&maglev, 96) as usize;
    assert!(corrupt(&resealed(&maglev, |b| put32(b, owner_at, 4))).contains("names no node"));
    assert!(corrupt(&resealed(&maglev, |b| put32(b, 40, 100))).contains("table size"));
}

/// xorshift: the fuzz cases are the same on every run.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Flips bits, overwrites words, truncates or extends valid files (half of
/// the cases resealed, so the structural checks are what is tested); every
/// case must either validate or be `Corrupt`, and a file that validates must
/// answer lookups without a panic.
#[test]
fn fuzz_the_reader() {
    let cases: usize = std::env::var("RINGLOCK_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3000);
    let seeds: Vec<Vec<u8>> = Algorithm::ALL
        .into_iter()
        .flat_map(|a| [0, 1, 3, 17].map(|n| encode(&ring(a, n), 1 + n as u64)))
        .collect();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut accepted = 0;
    for case in 0..cases {
        let mut b = seeds[rng.below(seeds.len())].clone();
        for _ in 0..1 + rng.below(4) {
            if b.is_empty() {
                break;
            }
            match rng.below(6) {
                0 | 1 => {
                    let i = rng.below(b.len());
                    b[i] ^= 1 << rng.below(8);
                }
                2 => {
                    // a header word set to an extreme
                    let at = 8 * rng.below(16);
                    let v = [0u64, 1, u32::MAX as u64, u64::MAX, rng.next()][rng.below(5)];
                    if at + 8 <= b.len() {
                        put64(&mut b, at, v);
                    }
                }
                3 => {
                    let len = rng.below(b.len() + 1);
                    b.truncate(len);
                }
                4 => b.extend(std::iter::repeat_n(0u8, 8 * (1 + rng.below(4)))),
                _ => {
                    let i = rng.below(b.len());
                    b[i] = rng.next() as u8;
                }
            }
        }
        if rng.below(2) == 0 && b.len() >= HEADER_LEN {
            if rng.below(2) == 0 {
                let len = b.len() as u64;
                put64(&mut b, 24, len);
            }
            layout::seal(&mut b);
        }
        match validate(&b) {
            Ok(_) => {
                accepted += 1;
                let g = super::Generation::from_vec(&b).unwrap();
                let t = g.tables();
                for k in 0..20u32 {
                    let key = k.to_le_bytes();
                    if let Some(id) = t.get_id(&key) {
                        assert!(id < t.len(), "case {case}");
                        let _ = g.name(id);
                    }
                    let mut out = [0usize; 3];
                    let _ = t.get_n_ids(&key, &mut out);
                    let _ = t.get_bounded_id(&key, &vec![1; t.len()], 1.25);
                }
            }
            Err(e) => assert_eq!(e.kind(), ErrorKind::Corrupt, "case {case}: {e}"),
        }
    }
    // Some damage is harmless (a flipped bit in a name keeps it valid):
    // the harness must see both outcomes to be testing anything.
    assert!(
        accepted > 0 && accepted < cases,
        "{accepted} of {cases} accepted"
    );
}

#[test]
fn files_that_are_not_ring_files_are_refused_at_open() {
    let dir = std::env::temp_dir().join(format!("ringlock-sr-unit-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("r");
    assert_eq!(
        SharedRing::open(&path).unwrap_err().kind(),
        ErrorKind::NotFound
    );
    SharedRing::publish(&ring(Algorithm::Ketama, 3), &path).unwrap();
    std::fs::write(&path, b"garbage").unwrap();
    assert_eq!(
        SharedRing::open(&path).unwrap_err().kind(),
        ErrorKind::Corrupt
    );
    std::fs::write(dir.join("r.gen"), b"short").unwrap();
    assert_eq!(
        SharedRing::open(&path).unwrap_err().kind(),
        ErrorKind::Corrupt
    );
    // a publisher does not repair a generation file it does not recognise
    let e = SharedRing::publish(&ring(Algorithm::Ketama, 3), &path).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Corrupt, "{e}");
    let link = dir.join("link");
    std::os::unix::fs::symlink(&path, &link).unwrap();
    std::os::unix::fs::symlink(dir.join("r.gen"), dir.join("link.gen")).unwrap();
    assert_eq!(
        SharedRing::open(&link).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
