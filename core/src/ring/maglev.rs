//! `maglev`: the lookup table of Eisenbud et al., "Maglev: A Fast and Reliable
//! Software Network Load Balancer" (NSDI 2016), with weights.
//!
//! The table has a prime number `M` of entries (default 65,537). Node `name`
//! gets `offset = XXH3_64(name, seed 1) mod M` and
//! `skip = XXH3_64(name, seed 2) mod (M - 1) + 1`; its preference list is
//! `offset, offset + skip, offset + 2·skip, ... (mod M)`, a permutation of the
//! entries because `M` is prime. The table is filled by turns: at each turn a
//! node takes the first entry of its preference list that is still empty.
//! Node `i` of weight `w_i` has its `k`-th turn (k = 0, 1, ...) at virtual
//! time `k / w_i`; turns go in increasing time, ties in node id (name) order,
//! until every entry is taken. With equal weights this is the paper's
//! round-robin. A key goes to entry `XXH3_64(key) mod M`.
//!
//! Every node has a turn at time 0, so every node owns at least one entry
//! (a ring refuses more nodes than entries). Node `i` owns `c_i` entries with
//! `-N·w_i/W <= c_i - M·w_i/W <= 1` (N nodes, total weight W): see
//! docs/placement.md for the proof and the measured disruption.

use super::algorithm::{Parameter, Spec};
use super::limits::vec_with_capacity;
use super::nodes::Node;
use crate::error::{Error, Result};
use std::cmp::Ordering;
use std::collections::BinaryHeap;
use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed};

/// Table entries when the caller passes 0: the prime 65,537.
pub const DEFAULT_TABLE_SIZE: u32 = 65_537;

/// The largest table size accepted: 2^26 (= `MAX_POINTS`), so the largest
/// prime accepted is 67,108,859 (256 MiB of table).
pub const MAX_TABLE_SIZE: u32 = 1 << 26;

/// maglev in the registry: a prime table size, the table's entries as
/// points and positions.
pub(super) const SPEC: Spec = Spec {
    name: "maglev",
    code: 4,
    parameter: Parameter::TableSize {
        default: DEFAULT_TABLE_SIZE,
        validate: validate_table_size,
    },
    points: |_, _, table_size| u64::from(table_size),
    check_nodes: check_node_count,
    build: |nodes, _, table_size| Ok(super::Table::Maglev(Table::build(nodes, table_size)?)),
    // unused: the table hashes the key itself (Table::slot)
    key_hash: super::xxh3::key_position,
    point_shift: 0,
    space: |table_size| Some(u128::from(table_size)),
    continuum: false,
};

/// XXH3-64 seed of the offset hash.
pub const OFFSET_SEED: u64 = 1;
/// XXH3-64 seed of the skip hash.
pub const SKIP_SEED: u64 = 2;

/// Checks a table size: a prime no larger than [`MAX_TABLE_SIZE`].
pub fn validate_table_size(size: u32) -> Result<()> {
    if size > MAX_TABLE_SIZE {
        return Err(Error::invalid(format!(
            "maglev table size {size} is larger than the {MAX_TABLE_SIZE} allowed \
             (the largest prime allowed is 67108859)"
        )));
    }
    if !is_prime(size) {
        return Err(Error::invalid(format!(
            "maglev table size {size} is not prime; use a prime such as 65537 (0 means 65537)"
        )));
    }
    Ok(())
}

/// Whether `n` is prime (trial division; `n` <= 2^32 needs divisors < 2^16).
pub fn is_prime(n: u32) -> bool {
    if n < 2 {
        return false;
    }
    if n % 2 == 0 {
        return n == 2;
    }
    let n = u64::from(n);
    let mut d = 3u64;
    while d * d <= n {
        if n % d == 0 {
            return false;
        }
        d += 2;
    }
    true
}

/// Checks that `nodes` nodes fit in a table of `size` entries.
pub fn check_node_count(size: u32, nodes: usize) -> Result<()> {
    if nodes as u64 > u64::from(size) {
        return Err(Error::invalid(format!(
            "a maglev table of {size} entries holds at most {size} nodes, not {nodes}; \
             use a larger prime table size"
        )));
    }
    Ok(())
}

/// `x mod d` for a fixed `d` without a division: Barrett reduction with
/// `m = floor((2^64 - 1) / d)`. The estimated quotient `mulhi(x, m)` is the
/// true one or one less, so one conditional subtraction finishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FastMod {
    d: u64,
    m: u64,
}

impl FastMod {
    /// A reducer for divisor `d` (>= 1).
    pub fn new(d: u32) -> FastMod {
        let d = u64::from(d.max(1));
        FastMod { d, m: u64::MAX / d }
    }

    /// `x % d`.
    #[inline]
    pub fn rem(self, x: u64) -> u64 {
        let q = ((u128::from(x) * u128::from(self.m)) >> 64) as u64;
        let r = x - q * self.d;
        if r >= self.d {
            r - self.d
        } else {
            r
        }
    }
}

/// The filled lookup table: entry -> owner id.
#[derive(Debug, Clone)]
pub(crate) struct Table {
    entries: Vec<u32>,
    modulus: FastMod,
}

/// Node `name`'s first preferred entry and its step, in a table of `size`.
pub fn offset_skip(name: &str, size: u32) -> (u64, u64) {
    let m = u64::from(size);
    let offset = xxh3_64_with_seed(name.as_bytes(), OFFSET_SEED) % m;
    let skip = match m {
        0..=2 => 1,
        _ => xxh3_64_with_seed(name.as_bytes(), SKIP_SEED) % (m - 1) + 1,
    };
    (offset, skip)
}

/// A node's next turn in the population: at virtual time `k / w`.
#[derive(Debug, PartialEq, Eq)]
struct Turn {
    k: u64,
    w: u64,
    id: u32,
}

impl Ord for Turn {
    /// Reversed (BinaryHeap is a max-heap): the earliest time, then the lowest id, is greatest.
    fn cmp(&self, other: &Self) -> Ordering {
        // k / w vs k' / w' exactly: k, k' < 2^26 and w, w' < 2^32.
        let a = u128::from(self.k) * u128::from(other.w);
        let b = u128::from(other.k) * u128::from(self.w);
        b.cmp(&a).then(other.id.cmp(&self.id))
    }
}

impl PartialOrd for Turn {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Table {
    /// Fills a table of `size` (prime) entries for `nodes` (id = index);
    /// empty when there is no node. `nodes.len() <= size` (checked by the
    /// ring, with `size` against its limits); `Io` if an allocation fails.
    pub fn build(nodes: &[Node], size: u32) -> Result<Table> {
        let modulus = FastMod::new(size);
        if nodes.is_empty() {
            return Ok(Table {
                entries: Vec::new(),
                modulus,
            });
        }
        let m = u64::from(size);
        const EMPTY: u32 = u32::MAX;
        let mut entries = vec_with_capacity(size as usize, "maglev entries")?;
        entries.resize(size as usize, EMPTY);
        // (next preferred entry, skip) of each node
        let mut pref = vec_with_capacity(nodes.len(), "maglev preferences")?;
        pref.extend(nodes.iter().map(|n| offset_skip(&n.name, size)));
        let mut turns = vec_with_capacity(nodes.len(), "maglev turns")?;
        turns.extend(nodes.iter().enumerate().map(|(id, n)| Turn {
            k: 0,
            w: u64::from(n.weight),
            id: id as u32,
        }));
        let mut turns = BinaryHeap::from(turns);
        for _ in 0..size {
            let mut turn = turns.pop().expect("at least one node");
            let (next, skip) = &mut pref[turn.id as usize];
            // A permutation of all M entries: an empty one comes within M steps.
            loop {
                let c = *next as usize;
                *next += *skip;
                if *next >= m {
                    *next -= m;
                }
                if entries[c] == EMPTY {
                    entries[c] = turn.id;
                    break;
                }
            }
            turn.k += 1;
            turns.push(turn);
        }
        Ok(Table { entries, modulus })
    }

    /// The entry of `key`: `XXH3_64(key) mod M`.
    #[inline]
    pub fn slot(&self, key: &[u8]) -> usize {
        self.modulus.rem(xxh3_64(key)) as usize
    }

    /// The owner of `key`, or `None` when the table is empty.
    #[inline]
    pub fn owner(&self, key: &[u8]) -> Option<u32> {
        if self.entries.is_empty() {
            return None;
        }
        Some(self.entries[self.slot(key)])
    }

    /// Owners of the entries from `key`'s entry forward, wrapping, each entry once.
    pub fn walk(&self, key: &[u8]) -> impl Iterator<Item = u32> + '_ {
        let start = match self.entries.len() {
            0 => 0,
            _ => self.slot(key),
        };
        let (tail, head) = self.entries.split_at(start);
        head.iter().chain(tail.iter()).copied()
    }

    /// Entry -> owner id (empty when the ring is).
    pub fn entries(&self) -> &[u32] {
        &self.entries
    }

    /// Bytes held.
    pub fn memory_bytes(&self) -> usize {
        self.entries.capacity() * 4
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nodes(spec: &[(&str, u32)]) -> Vec<Node> {
        let mut v: Vec<Node> = spec
            .iter()
            .map(|&(n, w)| Node {
                name: n.into(),
                weight: w,
            })
            .collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v
    }

    fn counts(t: &Table, n: usize) -> Vec<usize> {
        let mut c = vec![0; n];
        for &o in t.entries() {
            c[o as usize] += 1;
        }
        c
    }

    #[test]
    fn fastmod_equals_remainder() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for d in [1u32, 2, 3, 7, 251, 65_537, 1_000_003, 67_108_859, u32::MAX] {
            let f = FastMod::new(d);
            for v in [0, 1, u64::from(d) - 1, u64::from(d), u64::MAX, u64::MAX - 1] {
                assert_eq!(f.rem(v), v % u64::from(d), "{v} mod {d}");
            }
            for _ in 0..20_000 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                assert_eq!(f.rem(x), x % u64::from(d), "{x} mod {d}");
            }
        }
    }

    #[test]
    fn primes_and_bounds() {
        let primes: Vec<u32> = (0..40).filter(|&n| is_prime(n)).collect();
        assert_eq!(primes, [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37]);
        assert!(is_prime(65_537) && is_prime(67_108_859) && is_prime(4_294_967_291));
        assert!(!is_prime(65_536) && !is_prime(65_539 * 3) && !is_prime(4_294_967_295));
        assert!(validate_table_size(65_537).is_ok());
        assert!(validate_table_size(67_108_859).is_ok());
        let e = validate_table_size(65_536).unwrap_err();
        assert!(e.message().contains("not prime"), "{e}");
        let e = validate_table_size(67_108_879).unwrap_err(); // prime, too big
        assert!(e.message().contains("larger"), "{e}");
        assert!(validate_table_size(0).is_err() && validate_table_size(1).is_err());
        assert!(check_node_count(3, 3).is_ok() && check_node_count(3, 4).is_err());
    }

    #[test]
    fn offset_and_skip_are_seeded_xxh3() {
        let (o, s) = offset_skip("node-a", 65_537);
        assert_eq!(o, xxh3_64_with_seed(b"node-a", 1) % 65_537);
        assert_eq!(s, xxh3_64_with_seed(b"node-a", 2) % 65_536 + 1);
        assert_eq!(offset_skip("x", 2).1, 1);
    }

    /// The paper's algorithm, written as in its pseudo-code, for equal weights.
    fn paper(names: &[&str], m: u32) -> Vec<u32> {
        let perm = |i: usize, j: u64| {
            let (o, s) = offset_skip(names[i], m);
            ((o + j * s) % u64::from(m)) as usize
        };
        let mut next = vec![0u64; names.len()];
        let mut entry = vec![u32::MAX; m as usize];
        let mut filled = 0;
        loop {
            for (i, next) in next.iter_mut().enumerate() {
                let mut c = perm(i, *next);
                while entry[c] != u32::MAX {
                    *next += 1;
                    c = perm(i, *next);
                }
                entry[c] = i as u32;
                *next += 1;
                filled += 1;
                if filled == m {
                    return entry;
                }
            }
        }
    }

    #[test]
    fn equal_weights_give_the_papers_table() {
        let names = ["a", "b", "c", "d", "e"];
        for m in [5u32, 7, 13, 251, 65_537] {
            let t = Table::build(&nodes(&names.map(|n| (n, 3))), m).unwrap();
            assert_eq!(t.entries(), paper(&names, m).as_slice(), "M = {m}");
        }
    }

    #[test]
    fn weighted_counts_within_the_proven_bound() {
        let spec: Vec<(String, u32)> = (0..37)
            .map(|i| (format!("n{i:02}"), [1, 2, 3, 7, 100][i % 5]))
            .collect();
        let spec: Vec<(&str, u32)> = spec.iter().map(|(n, w)| (n.as_str(), *w)).collect();
        let ns = nodes(&spec);
        let total: u64 = ns.iter().map(|n| u64::from(n.weight)).sum();
        for m in [37u32, 101, 4_099, 65_537] {
            let t = Table::build(&ns, m).unwrap();
            for (id, &c) in counts(&t, ns.len()).iter().enumerate() {
                let w = f64::from(ns[id].weight);
                let fair = f64::from(m) * w / total as f64;
                let d = c as f64 - fair;
                assert!(c >= 1, "M {m}: node {id} owns nothing");
                assert!(d <= 1.0 + 1e-9, "M {m}: node {id} {c} vs {fair}");
                assert!(
                    d >= -(37.0 * w / total as f64) - 1e-9,
                    "M {m}: {c} vs {fair}"
                );
            }
        }
    }

    #[test]
    fn every_entry_is_owned_and_lookups_agree_with_walk() {
        let ns = nodes(&[("a", 1), ("b", 2), ("c", 1)]);
        let t = Table::build(&ns, 101).unwrap();
        assert!(t.entries().iter().all(|&o| (o as usize) < ns.len()));
        for i in 0..1000 {
            let k = format!("k{i}");
            let slot = (xxh3_64(k.as_bytes()) % 101) as usize;
            assert_eq!(t.slot(k.as_bytes()), slot);
            assert_eq!(t.owner(k.as_bytes()), Some(t.entries()[slot]));
            assert_eq!(t.walk(k.as_bytes()).next(), t.owner(k.as_bytes()));
            assert_eq!(t.walk(k.as_bytes()).count(), 101);
        }
        let empty = Table::build(&[], 101).unwrap();
        assert_eq!(empty.owner(b"k"), None);
        assert_eq!(empty.walk(b"k").count(), 0);
    }
}
