//! Placement: a consistent-hashing ring over named, weighted nodes.
//!
//! Every algorithm answers the same questions through [`Ring`]: which node owns
//! a key ([`Ring::get`]), which `n` distinct nodes hold its replicas
//! ([`Ring::get_n`]), for one key or a batch. Placement is a pure function of
//! (algorithm, vnodes, maglev table size, set of (name, weight), key);
//! docs/placement.md writes each function down exactly.

#![forbid(unsafe_code)]

mod algorithm;
mod bounded;
mod continuum;
mod diff;
mod envoy_ring_hash;
mod haproxy;
mod jump;
mod ketama;
mod libmemcached;
mod libmemcached_consistent;
mod limits;
mod maglev;
mod nginx;
mod nodes;
mod serial;
pub(crate) mod shared;
mod spymemcached;
mod tracker;
mod twemproxy;
mod xxh3;

pub use algorithm::Algorithm;
pub use bounded::{bounded_cap, DEFAULT_BALANCE};
pub use diff::{Diff, Move};
pub use jump::jump_hash;
pub use limits::{Limits, MAX_POINTS};
pub use maglev::{DEFAULT_TABLE_SIZE, MAX_TABLE_SIZE};
pub use nodes::{validate_name, validate_weight};
pub use tracker::LoadTracker;

use crate::error::{Error, Result};
use continuum::Continuum;
use nodes::NodeSet;

/// Up to this many replicas, [`Ring::get_n_ids`] checks a candidate against
/// those found so far; above it, against a bitset over the node ids.
const GET_N_SCAN: usize = 32;

/// Node ids the bitset of [`Ring::get_n_ids`] holds on the stack (above, it
/// is allocated): 4,096 nodes in 512 bytes.
const GET_N_STACK_WORDS: usize = 64;

/// The first `out.len()` distinct node ids offered, in the order offered:
/// `get_n`'s bookkeeping, shared by `Ring` and the shared ring. Up to
/// `GET_N_SCAN` wanted, a scan of those found; beyond, a bitmap over the
/// node ids (on the stack up to `64 * GET_N_STACK_WORDS` nodes), so a walk
/// of `points` entries costs O(points + nodes), never O(points × n).
pub(crate) struct Distinct<'a> {
    out: &'a mut [usize],
    found: usize,
    seen: Seen,
}

/// How [`Distinct`] knows an id was met (the stack bitmap is written only
/// when it is used).
// The big variant is the point: up to 4,096 nodes the bitmap lives on the
// stack, no allocation per call.
#[allow(clippy::large_enum_variant)]
enum Seen {
    Scan,
    Stack([u64; GET_N_STACK_WORDS]),
    Heap(Vec<u64>),
}

impl<'a> Distinct<'a> {
    /// Collects into `out` (at most `nodes` long) ids below `nodes`.
    pub fn new(out: &'a mut [usize], nodes: usize) -> Self {
        let words = nodes.div_ceil(64);
        let seen = if out.len() <= GET_N_SCAN {
            Seen::Scan
        } else if words <= GET_N_STACK_WORDS {
            Seen::Stack([0; GET_N_STACK_WORDS])
        } else {
            Seen::Heap(vec![0u64; words])
        };
        Distinct {
            out,
            found: 0,
            seen,
        }
    }

    /// Offers `id`; true once `out` is full.
    #[inline]
    pub fn offer(&mut self, id: usize) -> bool {
        let bitmap = match &mut self.seen {
            Seen::Scan => None,
            Seen::Stack(words) => Some(&mut words[..]),
            Seen::Heap(words) => Some(&mut words[..]),
        };
        let new = match bitmap {
            None => !self.out[..self.found].contains(&id),
            Some(seen) => {
                let (word, bit) = (id / 64, 1u64 << (id % 64));
                let new = seen[word] & bit == 0;
                seen[word] |= bit;
                new
            }
        };
        if new {
            self.out[self.found] = id;
            self.found += 1;
        }
        self.found == self.out.len()
    }

    /// How many distinct ids were collected.
    pub fn found(&self) -> usize {
        self.found
    }
}

/// What a lookup consults.
#[derive(Debug, Clone)]
enum Table {
    /// ketama and xxh3: points on a circle.
    Points(Continuum),
    /// jump: bucket number -> owner id.
    Buckets(Vec<u32>),
    /// maglev: entry -> owner id.
    Maglev(maglev::Table),
}

/// A consistent-hashing ring.
///
/// Lookups (`get*`) take `&self`, allocate nothing (except the `Vec`-returning
/// conveniences) and take no lock: any number of threads may look up at once.
/// Mutations take `&mut self` and rebuild the lookup table (O(points)).
#[derive(Debug, Clone)]
pub struct Ring {
    algorithm: Algorithm,
    vnodes: u32,
    /// maglev's table entries (prime); 0 for the other algorithms.
    table_size: u32,
    nodes: NodeSet,
    table: Table,
    /// How large the ring may grow (resolved: no 0).
    limits: Limits,
}

impl Ring {
    /// An empty ring with the algorithm's default number of virtual nodes.
    pub fn new(algorithm: Algorithm) -> Ring {
        Ring::with_vnodes(algorithm, 0).expect("default vnodes are valid")
    }

    /// An empty ring; `vnodes` 0 means the algorithm's default (160 for ketama
    /// and xxh3). Ketama needs a multiple of 4; jump takes only 0.
    pub fn with_vnodes(algorithm: Algorithm, vnodes: u32) -> Result<Ring> {
        Ring::with_config(algorithm, vnodes, 0)
    }

    /// An empty ring with a table size: `table_size` 0 means the algorithm's
    /// default (65,537 for maglev). Maglev takes a prime up to
    /// [`MAX_TABLE_SIZE`] (2^26) and within the default [`Limits`] (the
    /// largest prime is then 16,777,213); the other algorithms take only 0.
    /// `vnodes` as for [`Ring::with_vnodes`] (maglev takes only 0).
    pub fn with_config(algorithm: Algorithm, vnodes: u32, table_size: u32) -> Result<Ring> {
        Ring::with_limits(algorithm, vnodes, table_size, Limits::DEFAULT)
    }

    /// [`Ring::with_config`] with other [`Limits`] than the default ones
    /// (0 in a field: its default). The ring keeps them: a change that
    /// would take it past them is refused. Errors: `InvalidArgument` (as
    /// for `with_config`, a limit above [`MAX_POINTS`], or `vnodes` or
    /// `table_size` alone past `limits.max_points`).
    pub fn with_limits(
        algorithm: Algorithm,
        vnodes: u32,
        table_size: u32,
        limits: Limits,
    ) -> Result<Ring> {
        let vnodes = algorithm.resolve_vnodes(vnodes)?;
        let table_size = algorithm.resolve_table_size(table_size)?;
        let limits = limits.resolve()?;
        limits.check_points(u64::from(vnodes), "with these vnodes one node would hold")?;
        limits.check_points(u64::from(table_size), "the maglev table would hold")?;
        let mut ring = Ring {
            algorithm,
            vnodes,
            table_size,
            nodes: NodeSet::default(),
            table: Table::Buckets(Vec::new()),
            limits,
        };
        ring.table = ring.build_table(&ring.nodes)?;
        Ok(ring)
    }

    /// The ring's limits (resolved: no field is 0).
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// A ring holding `nodes` (name, weight), built once.
    pub fn with_nodes<I, S>(algorithm: Algorithm, vnodes: u32, nodes: I) -> Result<Ring>
    where
        I: IntoIterator<Item = (S, u32)>,
        S: AsRef<str>,
    {
        let mut ring = Ring::with_vnodes(algorithm, vnodes)?;
        ring.add_many(nodes)?;
        Ok(ring)
    }

    /// The algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// Virtual nodes per unit of weight (0 for jump and maglev).
    pub fn vnodes(&self) -> u32 {
        self.vnodes
    }

    /// Maglev's number of table entries (a prime); 0 for the others.
    pub fn table_size(&self) -> u32 {
        self.table_size
    }

    /// Adds a node. Errors: `InvalidArgument` (empty name, NUL in name, weight
    /// 0, too many points), `AlreadyExists`. On error the ring is unchanged.
    pub fn add(&mut self, name: &str, weight: u32) -> Result<()> {
        self.add_many([(name, weight)])
    }

    /// Adds several nodes at once, all or nothing, with one rebuild.
    pub fn add_many<I, S>(&mut self, nodes: I) -> Result<()>
    where
        I: IntoIterator<Item = (S, u32)>,
        S: AsRef<str>,
    {
        let mut next = self.nodes.clone();
        for (name, weight) in nodes {
            next.insert(name.as_ref(), weight)?;
        }
        self.replace_nodes(next)
    }

    /// Removes a node. Errors: `NotFound`. Only the keys it owned move.
    pub fn remove(&mut self, name: &str) -> Result<()> {
        let mut next = self.nodes.clone();
        next.remove(name)?;
        self.replace_nodes(next)
    }

    /// Changes a node's weight. Errors: `InvalidArgument` (0, too many
    /// points), `NotFound`.
    pub fn set_weight(&mut self, name: &str, weight: u32) -> Result<()> {
        let mut next = self.nodes.clone();
        next.set_weight(name, weight)?;
        self.replace_nodes(next)
    }

    /// Checks `next` against the limits, builds its table, then (only then)
    /// takes both: on error the ring is unchanged.
    fn replace_nodes(&mut self, next: NodeSet) -> Result<()> {
        self.limits.check_nodes(next.len() as u64)?;
        let spec = self.algorithm.spec();
        (spec.check_nodes)(self.table_size, next.len())?;
        let points = (spec.points)(&next, self.vnodes, self.table_size);
        self.limits.check_points(points, "the ring would hold")?;
        self.table = self.build_table(&next)?;
        self.nodes = next;
        Ok(())
    }

    /// The lookup table of `nodes` (already checked against the limits);
    /// `Io` if an allocation fails.
    fn build_table(&self, nodes: &NodeSet) -> Result<Table> {
        (self.algorithm.spec().build)(nodes.as_slice(), self.vnodes, self.table_size)
    }

    /// The id (index into [`Ring::nodes`] order) of the node owning `key`, or
    /// `None` on an empty ring.
    #[inline]
    pub fn get_id(&self, key: &[u8]) -> Option<usize> {
        match &self.table {
            Table::Points(c) => {
                let h = self.point_of(key);
                c.owner_at(h).map(|o| o as usize)
            }
            Table::Buckets(b) => {
                if b.is_empty() {
                    return None;
                }
                let i = jump::bucket_of(key, b.len());
                Some(b[i] as usize)
            }
            Table::Maglev(t) => t.owner(key).map(|o| o as usize),
        }
    }

    /// The point of `key` on a continuum (ketama, xxh3).
    #[inline]
    fn point_of(&self, key: &[u8]) -> u64 {
        (self.algorithm.spec().key_hash)(key)
    }

    /// The name of the node owning `key`. Errors: `EmptyRing`.
    #[inline]
    pub fn get(&self, key: &[u8]) -> Result<&str> {
        match self.get_id(key) {
            Some(id) => Ok(self.name_of(id)),
            None => Err(empty_ring()),
        }
    }

    /// `Ok` if the ring has a node, else the `EmptyRing` error every lookup
    /// of an empty ring gives (the one text of it, for the C and Python
    /// faces too).
    #[inline]
    pub fn require_nodes(&self) -> Result<()> {
        if self.is_empty() {
            return Err(empty_ring());
        }
        Ok(())
    }

    /// Calls `accept` on the ids of the owners met in `key`'s ring order
    /// until it returns true, and returns that id (`None` if it never does,
    /// or the ring is empty). Ring order: the continuum's points clockwise
    /// from the key's position (ketama, xxh3), the buckets from the key's
    /// bucket (jump), the table entries from the key's entry (maglev), each
    /// wrapping and each point, bucket or entry once, so a node may repeat.
    /// O(points) at most.
    pub(crate) fn find_in_ring_order(
        &self,
        key: &[u8],
        mut accept: impl FnMut(usize) -> bool,
    ) -> Option<usize> {
        match &self.table {
            Table::Points(c) => c
                .walk(self.point_of(key))
                .map(|o| o as usize)
                .find(|&id| accept(id)),
            Table::Buckets(b) => {
                if b.is_empty() {
                    return None;
                }
                let start = jump::bucket_of(key, b.len());
                b[start..]
                    .iter()
                    .chain(&b[..start])
                    .map(|&o| o as usize)
                    .find(|&id| accept(id))
            }
            Table::Maglev(t) => t.walk(key).map(|o| o as usize).find(|&id| accept(id)),
        }
    }

    /// Writes the ids of up to `out.len()` distinct nodes for `key` into
    /// `out`: the owner first, then the next distinct nodes in ring order
    /// (the continuum clockwise for ketama and xxh3, the next buckets for
    /// jump, the next table entries for maglev; wrapping). Returns how many
    /// were written: `min(out.len(), nodes)` (ketama nodes whose weight earns
    /// them no point are never returned).
    ///
    /// O(points + n) time at most. Up to 32 replicas it allocates nothing;
    /// above, it keeps a bitset of the nodes seen (nodes / 8 bytes), on the
    /// stack up to 4,096 nodes and allocated beyond.
    pub fn get_n_ids(&self, key: &[u8], out: &mut [usize]) -> usize {
        let want = out.len().min(self.nodes.len());
        if want == 0 {
            return 0;
        }
        let mut d = Distinct::new(&mut out[..want], self.nodes.len());
        self.find_in_ring_order(key, |id| d.offer(id));
        d.found()
    }

    /// Up to `n` distinct node names for `key`, owner first. Errors:
    /// `EmptyRing`. `n = 0` gives an empty list.
    pub fn get_n(&self, key: &[u8], n: usize) -> Result<Vec<&str>> {
        self.require_nodes()?;
        let mut ids = vec![0usize; n.min(self.nodes.len())];
        let k = self.get_n_ids(key, &mut ids);
        Ok(ids[..k].iter().map(|&id| self.name_of(id)).collect())
    }

    /// The owners of a batch of keys, in order. Errors: `EmptyRing`.
    pub fn get_many<K: AsRef<[u8]>>(&self, keys: &[K]) -> Result<Vec<&str>> {
        self.require_nodes()?;
        Ok(keys
            .iter()
            .map(|k| self.name_of(self.get_id(k.as_ref()).expect("non-empty")))
            .collect())
    }

    /// Writes the owner id of each key into `out` (same length). Errors:
    /// `EmptyRing`, `InvalidArgument` if the lengths differ. Allocates nothing.
    pub fn get_many_ids<K: AsRef<[u8]>>(&self, keys: &[K], out: &mut [usize]) -> Result<()> {
        if keys.len() != out.len() {
            return Err(Error::invalid(format!(
                "{} keys but room for {} answers",
                keys.len(),
                out.len()
            )));
        }
        self.require_nodes()?;
        match &self.table {
            Table::Points(c) => {
                // Hash a block of keys, then look the block up: the table
                // reads of different keys do not wait for each other.
                const BLOCK: usize = continuum::BATCH;
                let mut pos = [0u64; BLOCK];
                let mut owners = [0u32; BLOCK];
                for (ks, os) in keys.chunks(BLOCK).zip(out.chunks_mut(BLOCK)) {
                    for (p, k) in pos.iter_mut().zip(ks) {
                        *p = self.point_of(k.as_ref());
                    }
                    c.owners_at(&pos[..ks.len()], &mut owners[..ks.len()]);
                    for (o, &w) in os.iter_mut().zip(&owners) {
                        *o = w as usize;
                    }
                }
            }
            Table::Buckets(_) | Table::Maglev(_) => {
                for (k, o) in keys.iter().zip(out.iter_mut()) {
                    *o = self.get_id(k.as_ref()).expect("non-empty");
                }
            }
        }
        Ok(())
    }

    fn name_of(&self, id: usize) -> &str {
        &self.nodes.as_slice()[id].name
    }

    /// The number of nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the ring has no node.
    pub fn is_empty(&self) -> bool {
        self.nodes.len() == 0
    }

    /// Whether `name` is a node of the ring.
    pub fn contains(&self, name: &str) -> bool {
        self.nodes.find(name).is_ok()
    }

    /// The weight of `name`, if it is a node.
    pub fn weight(&self, name: &str) -> Option<u32> {
        self.nodes
            .find(name)
            .ok()
            .map(|id| self.nodes.as_slice()[id].weight)
    }

    /// The id of `name`, if it is a node: its index in [`Ring::nodes`].
    pub fn id_of(&self, name: &str) -> Option<usize> {
        self.nodes.find(name).ok()
    }

    /// The node with id `id`: (name, weight).
    pub fn node(&self, id: usize) -> Option<(&str, u32)> {
        self.nodes.get(id).map(|n| (&*n.name, n.weight))
    }

    /// The nodes (name, weight) in byte order of the names; a node's id is
    /// its index in this order.
    pub fn nodes(&self) -> impl ExactSizeIterator<Item = (&str, u32)> + '_ {
        self.nodes.as_slice().iter().map(|n| (&*n.name, n.weight))
    }

    /// The number of virtual points (ketama, xxh3), buckets (jump) or table
    /// entries (maglev; 0 while the ring is empty).
    pub fn point_count(&self) -> usize {
        match &self.table {
            Table::Points(c) => c.len(),
            Table::Buckets(b) => b.len(),
            Table::Maglev(t) => t.entries().len(),
        }
    }

    /// Bytes held by the lookup table.
    pub fn table_bytes(&self) -> usize {
        match &self.table {
            Table::Points(c) => c.memory_bytes(),
            Table::Buckets(b) => b.capacity() * 4,
            Table::Maglev(t) => t.memory_bytes(),
        }
    }
}

impl PartialEq for Ring {
    /// Rings are equal when they place every key alike: same algorithm,
    /// vnodes, table size and node set.
    fn eq(&self, other: &Ring) -> bool {
        self.algorithm == other.algorithm
            && self.vnodes == other.vnodes
            && self.table_size == other.table_size
            && self.nodes == other.nodes
    }
}

impl Eq for Ring {}

pub(crate) fn empty_ring() -> Error {
    Error::empty_ring()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn ring(a: Algorithm, nodes: &[(&str, u32)]) -> Ring {
        Ring::with_nodes(a, 0, nodes.iter().copied()).unwrap()
    }

    #[test]
    fn empty_ring_lookups_fail_cleanly() {
        for a in Algorithm::ALL {
            let r = Ring::new(a);
            assert_eq!(r.get(b"k").unwrap_err().kind(), ErrorKind::EmptyRing);
            assert_eq!(r.get_n(b"k", 2).unwrap_err().kind(), ErrorKind::EmptyRing);
            assert_eq!(r.get_id(b"k"), None);
            assert_eq!(r.get_n_ids(b"k", &mut [0; 3]), 0);
        }
    }

    #[test]
    fn single_node_owns_everything() {
        for a in Algorithm::ALL {
            let r = ring(a, &[("only", 1)]);
            for i in 0..100 {
                assert_eq!(r.get(format!("k{i}").as_bytes()).unwrap(), "only");
            }
        }
    }

    #[test]
    fn get_n_gives_distinct_nodes_owner_first() {
        for a in Algorithm::ALL {
            let r = ring(a, &[("a", 1), ("b", 2), ("c", 1), ("d", 1)]);
            for i in 0..200 {
                let key = format!("key-{i}");
                let all = r.get_n(key.as_bytes(), 10).unwrap();
                assert_eq!(all.len(), 4);
                assert_eq!(all[0], r.get(key.as_bytes()).unwrap());
                let mut s = all.clone();
                s.sort();
                s.dedup();
                assert_eq!(s.len(), 4);
                assert_eq!(r.get_n(key.as_bytes(), 2).unwrap(), all[..2].to_vec());
                assert!(r.get_n(key.as_bytes(), 0).unwrap().is_empty());
            }
        }
    }

    #[test]
    fn mutation_errors_leave_the_ring_unchanged() {
        let mut r = ring(Algorithm::Xxh3, &[("a", 1), ("b", 1)]);
        let before = r.clone();
        let owner = r.get(b"x").unwrap().to_string();
        assert!(r.add("a", 1).is_err());
        assert!(r.add_many([("c", 1), ("", 1)]).is_err());
        assert!(r.remove("zz").is_err());
        assert!(r.set_weight("a", 0).is_err());
        assert!(r.add("huge", u32::MAX).is_err());
        assert_eq!(r, before);
        assert_eq!(r.get(b"x").unwrap(), owner);
        assert!(!r.contains("c"));
    }

    #[test]
    fn node_enumeration_is_in_name_order() {
        let r = ring(Algorithm::Ketama, &[("b", 2), ("a", 1)]);
        assert_eq!(r.nodes().collect::<Vec<_>>(), vec![("a", 1), ("b", 2)]);
        assert_eq!(r.id_of("b"), Some(1));
        assert_eq!(r.weight("b"), Some(2));
        assert_eq!(r.node(2), None);
    }

    #[test]
    fn get_many_agrees_with_get() {
        let r = ring(Algorithm::Jump, &[("a", 1), ("b", 1), ("c", 3)]);
        let keys: Vec<String> = (0..500).map(|i| format!("k{i}")).collect();
        let many = r.get_many(&keys).unwrap();
        let mut ids = vec![0; keys.len()];
        r.get_many_ids(&keys, &mut ids).unwrap();
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(many[i], r.get(k.as_bytes()).unwrap());
            assert_eq!(r.node(ids[i]).unwrap().0, many[i]);
        }
        assert!(r.get_many_ids(&keys, &mut ids[1..]).is_err());
    }

    #[test]
    fn table_memory_is_at_most_16_bytes_per_point() {
        for n in [10usize, 100, 1000] {
            let nodes: Vec<(String, u32)> = (0..n).map(|i| (format!("n{i}"), 1)).collect();
            for a in [Algorithm::Ketama, Algorithm::Xxh3] {
                let r = Ring::with_nodes(a, 0, nodes.clone()).unwrap();
                assert!(
                    r.table_bytes() <= 16 * r.point_count() + 48,
                    "{a} {n}: {} bytes for {} points",
                    r.table_bytes(),
                    r.point_count()
                );
            }
        }
    }
}
