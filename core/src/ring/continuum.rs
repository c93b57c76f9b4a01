//! The shared lookup surface of the point-based algorithms (ketama, xxh3): a
//! sorted table of 64-bit positions, each owned by a node id, and a bucket
//! index over the top bits of the position so that a lookup touches two or
//! three cache lines instead of binary-searching the whole table.
//!
//! Sentinel points at `u64::MAX`, owned by the owner of the first point, end
//! the table: every scan stops at a point at or after the key, and the first
//! sentinel is the wrap-around. There are `PAD` of them so that a lookup can
//! compare four positions at once without a bounds check or a branch per
//! position.
//!
//! Memory: 8 bytes (position) + 4 (owner) + at most 4 (index) = at most
//! 16 bytes per point (plus one sentinel).

use super::limits::vec_with_capacity;
use crate::error::Result;

/// Sentinels after the last point.
const PAD: usize = 4;

/// The most positions [`Continuum::owners_at`] takes at once.
pub(crate) const BATCH: usize = 32;

/// A sorted set of points. Ties (equal positions) are ordered by owner id,
/// i.e. by node name, so the table is a pure function of the point set.
#[derive(Debug, Clone, Default)]
pub(crate) struct Continuum {
    /// Sorted positions, then the sentinel `u64::MAX`.
    pos: Vec<u64>,
    /// `owner[i]` owns `pos[i]`; the sentinel's owner is `owner[0]`.
    owner: Vec<u32>,
    /// `index[b]` is the first point whose position is >= `b << shift`.
    index: Vec<u32>,
    shift: u32,
}

impl Continuum {
    /// Builds the table from unsorted `(position, owner)` pairs; `Io` if an
    /// allocation fails (the caller has checked the count against the
    /// ring's limits).
    pub fn build(mut points: Vec<(u64, u32)>) -> Result<Self> {
        points.sort_unstable();
        let n = points.len();
        let mut pos = vec_with_capacity(n + PAD, "point positions")?;
        let mut owner = vec_with_capacity(n + PAD, "point owners")?;
        for &(p, o) in &points {
            pos.push(p);
            owner.push(o);
        }
        drop(points);
        let first = owner.first().copied().unwrap_or(0);
        pos.extend([u64::MAX; PAD]);
        owner.extend([first; PAD]);
        // Between 1/2 and 1 bucket per point, at least 2 buckets.
        let bits = usize::BITS - n.max(2).leading_zeros() - 1;
        let bits = bits.clamp(1, 31);
        let shift = 64 - bits;
        let buckets = 1usize << bits;
        let mut index = vec_with_capacity(buckets, "index buckets")?;
        let mut j = 0usize;
        for b in 0..buckets {
            let start = (b as u64) << shift;
            while j < n && pos[j] < start {
                j += 1;
            }
            index.push(j as u32);
        }
        Ok(Continuum {
            pos,
            owner,
            index,
            shift,
        })
    }

    /// The number of points (without the sentinels).
    pub fn len(&self) -> usize {
        self.pos.len() - PAD
    }

    /// The sorted positions of the points (without the sentinels).
    pub fn positions(&self) -> &[u64] {
        &self.pos[..self.len()]
    }

    /// Index of the first point at or after `h`; `len()` (the first
    /// sentinel) when `h` is past the last point.
    #[inline]
    pub fn find(&self, h: u64) -> usize {
        self.find_from(self.index[(h >> self.shift) as usize] as usize, h)
    }

    /// [`Continuum::find`] from `i`, the bucket index entry of `h`.
    #[inline]
    fn find_from(&self, i: usize, h: u64) -> usize {
        // Buckets hold one or two points on average: count the points below
        // `h` among the next four (sorted, so the count is the offset of the
        // answer) without a data-dependent branch. Four or more below `h`
        // happens only in crowded buckets (colliding names): bisect the rest.
        let p: &[u64; PAD] = self.pos[i..i + PAD].try_into().expect("PAD positions");
        let below = p.iter().map(|&x| usize::from(x < h)).sum::<usize>();
        if below < PAD {
            return i + below;
        }
        i + PAD + self.pos[i + PAD..].partition_point(|&x| x < h)
    }

    /// The owner of the first point at or after `h` (wrapping).
    #[inline]
    pub fn owner_at(&self, h: u64) -> Option<u32> {
        if self.len() == 0 {
            return None;
        }
        Some(self.owner[self.find(h)])
    }

    /// The owners of a batch of positions (`hs.len() == out.len()`, at most
    /// [`BATCH`]; the table not empty), in three passes: all bucket index
    /// entries, then all position scans, then all owners. The loads of one
    /// pass do not depend on each other, so the CPU overlaps their cache
    /// misses instead of waiting for each key's three in turn.
    pub fn owners_at(&self, hs: &[u64], out: &mut [u32]) {
        debug_assert!(hs.len() == out.len() && hs.len() <= BATCH && self.len() > 0);
        let mut at = [0usize; BATCH];
        for (a, &h) in at.iter_mut().zip(hs) {
            *a = self.index[(h >> self.shift) as usize] as usize;
        }
        for (a, &h) in at.iter_mut().zip(hs) {
            *a = self.find_from(*a, h);
        }
        for (o, &a) in out.iter_mut().zip(&at) {
            *o = self.owner[a];
        }
    }

    /// Owners of the points from the first at or after `h`, clockwise, each
    /// point once (the same node may repeat).
    pub fn walk(&self, h: u64) -> impl Iterator<Item = u32> + '_ {
        let n = self.len();
        let start = match n {
            0 => 0,
            _ => self.find(h) % n, // the sentinel wraps to the first point
        };
        let (tail, head) = self.owner[..n].split_at(start);
        head.iter().chain(tail.iter()).copied()
    }

    /// The arrays as they are laid out (positions and owners with the
    /// sentinels, the bucket index) and the index shift: what a published
    /// ring file stores (ring/shared).
    pub(crate) fn raw_parts(&self) -> (&[u64], &[u32], &[u32], u32) {
        (&self.pos, &self.owner, &self.index, self.shift)
    }

    pub fn memory_bytes(&self) -> usize {
        self.pos.capacity() * 8 + self.owner.capacity() * 4 + self.index.capacity() * 4
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(points: &[(u64, u32)], h: u64) -> u32 {
        let mut s = points.to_vec();
        s.sort_unstable();
        s.iter().find(|p| p.0 >= h).unwrap_or(&s[0]).1
    }

    #[test]
    fn at_or_after_with_wrap() {
        let pts = vec![(100, 0), (200, 1), (u64::MAX - 5, 2)];
        let c = Continuum::build(pts).unwrap();
        assert_eq!(c.owner_at(0), Some(0));
        assert_eq!(c.owner_at(100), Some(0));
        assert_eq!(c.owner_at(101), Some(1));
        assert_eq!(c.owner_at(200), Some(1));
        assert_eq!(c.owner_at(201), Some(2));
        assert_eq!(c.owner_at(u64::MAX - 5), Some(2));
        assert_eq!(c.owner_at(u64::MAX - 4), Some(0));
        assert_eq!(c.owner_at(u64::MAX), Some(0));
    }

    #[test]
    fn ties_go_to_the_lowest_owner() {
        let c = Continuum::build(vec![(7, 3), (7, 1), (7, 2)]).unwrap();
        assert_eq!(c.owner_at(7), Some(1));
        assert_eq!(c.walk(7).collect::<Vec<_>>(), vec![1, 2, 3]);
    }

    #[test]
    fn empty_table_has_no_owner() {
        let c = Continuum::build(vec![]).unwrap();
        assert_eq!(c.owner_at(5), None);
        assert_eq!(c.walk(5).count(), 0);
    }

    #[test]
    fn matches_a_linear_scan_on_random_points() {
        let mut x = 0x9e3779b97f4a7c15u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for n in [1usize, 2, 3, 17, 1000] {
            let pts: Vec<(u64, u32)> = (0..n).map(|i| (next(), i as u32)).collect();
            let c = Continuum::build(pts.clone()).unwrap();
            for _ in 0..2000 {
                let h = next();
                assert_eq!(c.owner_at(h), Some(naive(&pts, h)));
            }
            assert!(c.memory_bytes() <= 16 * n.max(2) + 12 * PAD);
            let hs: Vec<u64> = (0..BATCH).map(|_| next()).collect();
            let mut out = [0u32; BATCH];
            c.owners_at(&hs, &mut out);
            for (&h, &o) in hs.iter().zip(&out) {
                assert_eq!(Some(o), c.owner_at(h));
            }
        }
    }
}
