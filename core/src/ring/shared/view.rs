//! Lookups in a published ring file, in place: the arrays of the mapping are
//! read as they lie, with the same walks as [`Ring`](crate::Ring)'s tables,
//! so every answer is the in-process ring's, byte for byte.
//!
//! A [`Tables`] is checked once ([`Tables::validate`]) when a generation is
//! opened; lookups then trust its invariants for their answers but still
//! index with bounds checks, so even a file changed under the mapping can
//! give a wrong answer or a panic, never an out-of-bounds read.

use super::layout::{Header, SENTINELS};
use crate::error::{Error, ErrorKind, Result};
use crate::ring::bounded::{cap_exact, check_factor};
use crate::ring::maglev::{self, FastMod};
use crate::ring::Distinct;
use crate::ring::{
    empty_ring, envoy_ring_hash, haproxy, jump_hash, ketama, libmemcached, libmemcached_consistent,
    nginx, spymemcached, xxh3, Algorithm, MAX_POINTS,
};
use xxhash_rust::xxh3::xxh3_64;

/// The sections of one generation as typed arrays, plus what a lookup needs
/// from the header.
#[derive(Debug, Clone, Copy)]
pub struct Tables<'a> {
    /// The algorithm.
    pub algorithm: Algorithm,
    /// Node records: (name offset, name length, weight, 0) per node.
    pub records: &'a [u32],
    /// The names, each followed by a NUL.
    pub names: &'a [u8],
    /// Positions and sentinels (points only; empty otherwise).
    pub pos: &'a [u64],
    /// Owners: per point and sentinel, per bucket, or per maglev entry.
    pub owner: &'a [u32],
    /// The continuum's bucket index (points only).
    pub index: &'a [u32],
    /// Continuum index shift (64 - index bits).
    pub shift: u32,
    /// Maglev's `mod table_size`.
    pub modulus: FastMod,
}

impl<'a> Tables<'a> {
    /// The tables over the sections of `header` (the caller casts the bytes).
    /// `algorithm` falls back to xxh3 for an unknown code; [`Tables::validate`]
    /// refuses it.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        header: &Header,
        records: &'a [u32],
        names: &'a [u8],
        pos: &'a [u64],
        owner: &'a [u32],
        index: &'a [u32],
    ) -> Tables<'a> {
        Tables {
            algorithm: Algorithm::from_code(header.algorithm).unwrap_or_default(),
            records,
            names,
            pos,
            owner,
            index,
            shift: 64u32.saturating_sub(header.index_bits),
            modulus: FastMod::new(header.table_size),
        }
    }

    /// The number of nodes.
    #[inline]
    pub fn len(&self) -> usize {
        self.records.len() / 4
    }

    /// Whether there is no node.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Owners without the sentinels (the walk of `get_n`).
    #[inline]
    fn entries(&self) -> &'a [u32] {
        if self.algorithm.spec().continuum {
            &self.owner[..self.owner.len().saturating_sub(SENTINELS)]
        } else {
            self.owner
        }
    }

    /// The name of node `id` (without its NUL, which follows it).
    #[inline]
    pub fn name(&self, id: usize) -> &'a [u8] {
        let off = self.records[4 * id] as usize;
        let len = self.records[4 * id + 1] as usize;
        &self.names[off..off + len]
    }

    /// The weight of node `id`.
    pub fn weight(&self, id: usize) -> u32 {
        self.records[4 * id + 2]
    }

    #[inline]
    fn find(&self, h: u64) -> usize {
        let i = self.index[(h >> self.shift) as usize] as usize;
        let p: &[u64; SENTINELS] = self.pos[i..i + SENTINELS].try_into().expect("4 positions");
        let below = p.iter().map(|&x| usize::from(x < h)).sum::<usize>();
        if below < SENTINELS {
            return i + below;
        }
        i + SENTINELS + self.pos[i + SENTINELS..].partition_point(|&x| x < h)
    }

    #[inline]
    fn point_of(&self, key: &[u8]) -> u64 {
        match self.algorithm {
            Algorithm::Ketama | Algorithm::Libmemcached => ketama::key_position(key),
            Algorithm::Xxh3 => xxh3::key_position(key),
            a => (a.spec().key_hash)(key),
        }
    }

    /// Where `key`'s walk starts in [`Tables::entries`]; `None` when empty.
    #[inline]
    fn start(&self, key: &[u8]) -> Option<usize> {
        let n = self.entries().len();
        if n == 0 {
            return None;
        }
        Some(match self.algorithm {
            Algorithm::Jump => jump_hash(xxh3_64(key), n as i32) as usize,
            Algorithm::Maglev => self.modulus.rem(xxh3_64(key)) as usize,
            _ => self.find(self.point_of(key)) % n,
        })
    }

    /// The id of the node owning `key`, `None` on an empty ring.
    #[inline(always)]
    pub fn get_id(&self, key: &[u8]) -> Option<usize> {
        // validated: no node <=> no table entry
        if self.is_empty() {
            return None;
        }
        let at = match self.algorithm {
            Algorithm::Maglev => self.modulus.rem(xxh3_64(key)) as usize,
            Algorithm::Jump => jump_hash(xxh3_64(key), self.owner.len() as i32) as usize,
            // a continuum: the sentinel's owner is the first point's, so no
            // `% n` is needed
            _ => self.find(self.point_of(key)),
        };
        Some(self.owner[at] as usize)
    }

    /// The owners met from `key`'s position, each entry once, wrapping.
    fn walk(&self, key: &[u8]) -> impl Iterator<Item = usize> + 'a {
        let e = self.entries();
        let (tail, head) = e.split_at(self.start(key).unwrap_or(0));
        head.iter().chain(tail).map(|&o| o as usize)
    }

    /// As [`Ring::get_n_ids`](crate::Ring::get_n_ids).
    pub fn get_n_ids(&self, key: &[u8], out: &mut [usize]) -> usize {
        let want = out.len().min(self.len());
        if want == 0 {
            return 0;
        }
        let mut d = Distinct::new(&mut out[..want], self.len());
        for id in self.walk(key) {
            if d.offer(id) {
                break;
            }
        }
        d.found()
    }

    /// As [`Ring::get_many_ids`](crate::Ring::get_many_ids).
    pub fn get_many_ids<K: AsRef<[u8]>>(&self, keys: &[K], out: &mut [usize]) -> Result<()> {
        if keys.len() != out.len() {
            return Err(Error::invalid(format!(
                "{} keys but room for {} answers",
                keys.len(),
                out.len()
            )));
        }
        if self.is_empty() {
            return Err(empty_ring());
        }
        for (k, o) in keys.iter().zip(out.iter_mut()) {
            *o = self.get_id(k.as_ref()).ok_or_else(empty_ring)?;
        }
        Ok(())
    }

    /// As [`Ring::get_bounded_id`](crate::Ring::get_bounded_id): same errors, same answers.
    pub fn get_bounded_id(&self, key: &[u8], loads: &[u64], factor: f64) -> Result<usize> {
        check_factor(factor)?;
        if self.is_empty() {
            return Err(empty_ring());
        }
        if loads.len() != self.len() {
            return Err(Error::invalid(format!(
                "{} loads for a ring of {} nodes; expected one load per node, in node order",
                loads.len(),
                self.len()
            )));
        }
        let total = loads.iter().map(|&l| u128::from(l)).sum::<u128>();
        let total = u64::try_from(total)
            .map_err(|_| Error::invalid("the loads sum to more than 2^64 - 1"))?;
        let cap = cap_exact(total, self.len(), factor);
        let below = |id: &usize| u128::from(loads[*id]) < cap;
        self.walk(key)
            .find(below)
            .or_else(|| (0..loads.len()).find(below))
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::Internal,
                    "bounded lookup found no node below the cap",
                )
            })
    }

    /// Checks everything a lookup relies on, once per generation: the
    /// parameters, the nodes (names in strictly increasing byte order,
    /// contiguous, NUL-terminated UTF-8 without NUL; weights >= 1) and the
    /// table (the count the nodes imply; positions sorted; owners in range;
    /// the sentinels; the index; jump's buckets; maglev's size).
    pub fn validate(&self, h: &Header) -> Result<()> {
        let bad = |what: &str| Err(Error::corrupt(format!("ring file: {what}")));
        let Some(algorithm) = Algorithm::from_code(h.algorithm) else {
            return bad("unknown algorithm code");
        };
        if algorithm.resolve_vnodes(h.vnodes).ok() != Some(h.vnodes)
            || algorithm.resolve_table_size(h.table_size).ok() != Some(h.table_size)
        {
            return bad("vnodes or table size not valid for the algorithm");
        }
        let n = self.len();
        let mut off = 0usize;
        let mut total = 0u64;
        let mut prev: &[u8] = &[];
        for id in 0..n {
            let r = &self.records[4 * id..4 * id + 4];
            let (name_off, len, weight) = (r[0] as usize, r[1] as usize, r[2]);
            if name_off != off || len == 0 || weight == 0 || r[3] != 0 {
                return bad("a node record is out of place, empty or of weight 0");
            }
            let Some(name) = self.names.get(off..off + len) else {
                return bad("a name runs past the names section");
            };
            if self.names.get(off + len) != Some(&0)
                || name.contains(&0)
                || std::str::from_utf8(name).is_err()
            {
                return bad("a name is not NUL-terminated UTF-8 without NUL");
            }
            if id > 0 && name <= prev {
                return bad("names are not in strictly increasing byte order");
            }
            prev = name;
            off += len + 1;
            total += u64::from(weight);
        }
        if off != self.names.len() {
            return bad("the names section has bytes no node owns");
        }
        let count = h.entry_count;
        let expected = match algorithm {
            Algorithm::Xxh3 => total.checked_mul(u64::from(h.vnodes)),
            Algorithm::Ketama => Some(
                (0..n)
                    .map(|id| {
                        4 * u64::from(ketama::hashes_for(self.weight(id), total, n, h.vnodes))
                    })
                    .sum(),
            ),
            Algorithm::LibmemcachedConsistent | Algorithm::LibmemcachedConsistentMd5
                if !libmemcached_consistent::weighted((0..n).map(|id| self.weight(id))) =>
            {
                Some(n as u64 * u64::from(libmemcached_consistent::POINTS_PER_SERVER))
            }
            Algorithm::Libmemcached
            | Algorithm::LibmemcachedConsistent
            | Algorithm::LibmemcachedConsistentMd5
            | Algorithm::Twemproxy
            | Algorithm::TwemproxyMd5
            | Algorithm::TwemproxyOneAtATime
            | Algorithm::TwemproxyMurmur
            | Algorithm::TwemproxyCrc32
            | Algorithm::TwemproxyCrc32a => Some(
                (0..n)
                    .map(|id| 4 * u64::from(libmemcached::hashes_for(self.weight(id), total, n)))
                    .sum(),
            ),
            Algorithm::Nginx => total.checked_mul(u64::from(nginx::POINTS_PER_WEIGHT)),
            Algorithm::Haproxy => total.checked_mul(u64::from(haproxy::POINTS_PER_WEIGHT)),
            Algorithm::EnvoyRingHash => {
                let weights: Vec<u32> = (0..n).map(|id| self.weight(id)).collect();
                let min_ring = u64::from(h.table_size);
                let max_ring = envoy_ring_hash::MAX_RING_SIZE;
                Some(
                    envoy_ring_hash::entries(&weights, min_ring, max_ring)
                        .iter()
                        .sum(),
                )
            }
            Algorithm::Spymemcached => {
                let weights: Vec<u32> = (0..n).map(|id| self.weight(id)).collect();
                Some(
                    spymemcached::hashes(&weights)
                        .map(|k| 4 * u64::from(k))
                        .sum(),
                )
            }
            Algorithm::Jump => Some(total),
            Algorithm::Maglev if n == 0 => Some(0),
            Algorithm::Maglev => Some(u64::from(h.table_size)),
        };
        if expected != Some(count) || count > MAX_POINTS {
            return bad("the table size does not match the nodes");
        }
        let entries = self.entries();
        if entries.iter().any(|&o| o as usize >= n) {
            return bad("a table entry names no node");
        }
        match algorithm {
            Algorithm::Jump => {
                let mut at = 0usize;
                for id in 0..n {
                    let w = self.weight(id) as usize;
                    if entries[at..at + w].iter().any(|&o| o as usize != id) {
                        return bad("jump buckets are not the nodes' weights in name order");
                    }
                    at += w;
                }
                Ok(())
            }
            Algorithm::Maglev => {
                maglev::check_node_count(h.table_size, n).map_err(|e| Error::corrupt(e.message()))
            }
            _ => self.validate_points(h),
        }
    }

    fn validate_points(&self, h: &Header) -> Result<()> {
        let bad = |what: &str| Err(Error::corrupt(format!("ring file: {what}")));
        let n = self.entries().len();
        let bits = (usize::BITS - n.max(2).leading_zeros() - 1).clamp(1, 31);
        if h.index_bits != bits {
            return bad("the index size does not match the number of points");
        }
        let pairs = self.pos[..n].iter().zip(&self.owner[..n]);
        if pairs.clone().zip(pairs.skip(1)).any(|(a, b)| a > b) {
            return bad("the points are not sorted");
        }
        let first = self.owner.first().copied().unwrap_or(0);
        if self.pos[n..].iter().any(|&p| p != u64::MAX)
            || self.owner[n..].iter().any(|&o| o != first)
        {
            return bad("the sentinels are not u64::MAX owned by the first point's owner");
        }
        let mut j = 0usize;
        for (b, &ix) in self.index.iter().enumerate() {
            let start = (b as u64) << self.shift;
            while j < n && self.pos[j] < start {
                j += 1;
            }
            if ix as usize != j {
                return bad("the index does not match the points");
            }
        }
        Ok(())
    }
}
