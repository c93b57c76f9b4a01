//! Migration plans: which ranges of key positions change owner between two
//! rings ([`Ring::diff`]), and where a key sits in that space
//! ([`Ring::position`]).
//!
//! Method, point rings (ketama, xxh3 and the client profiles libmemcached,
//! nginx and twemproxy, all continua of points): take the sorted union of both
//! rings' point positions. Between two consecutive boundaries neither ring
//! has a point, so each ring has one owner there: the owner of the first
//! point at or after the segment's last position, found with the very lookup
//! that [`Ring::get`] uses (ties, wrap and all). Cost: O(points of both
//! rings). Maglev: a key's position is its table entry, so the two tables
//! (of one size) are compared entry by entry, O(table size). Either way the
//! diff is exact by construction: a key moves if and only if its position
//! falls in a reported range. Jump has no positions, hence no diff.
//!
//! One meaning and one pair of names in the native faces: a range is the
//! positions from its `first` to its `last`, both included (a range reaching
//! the top of the 2^64 space has no exclusive end in a `u64`): Rust's
//! [`Move::first`] and [`Move::last`], C's `rl_move` and C++'s `Move` alike.
//! Python alone, on purpose, is half-open as Python's ranges are:
//! `Move(start, end)` with `start = first` and `end = last + 1` (its integers
//! hold 2^64); docs/placement.md says the same.

use super::continuum::Continuum;
use super::{Ring, Table};
use crate::error::{Error, Result};

/// One range of key positions whose owner changes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Move {
    /// The first position of the range (Python: `start`).
    pub first: u64,
    /// The last position of the range (inclusive: a range that reaches the
    /// top of the 2^64 space has no exclusive end in a `u64`).
    pub last: u64,
    /// The owner in the `before` ring; `None` when that ring is empty.
    pub old: Option<String>,
    /// The owner in the `after` ring; `None` when that ring is empty.
    pub new: Option<String>,
}

impl Move {
    /// The number of positions in the range: `last - first + 1`.
    pub fn len(&self) -> u128 {
        u128::from(self.last) - u128::from(self.first) + 1
    }

    /// Always false: a range holds at least one position.
    pub fn is_empty(&self) -> bool {
        false
    }
}

/// The migration plan from one ring to another: see [`Ring::diff`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diff {
    /// The ranges whose owner changes, sorted by `first`, disjoint, never
    /// wrapping (a range that would wrap past the top is split in two);
    /// adjacent ranges with the same `(old, new)` are merged into one.
    pub moves: Vec<Move>,
    /// The size of the position space: 2^32 for ketama and the client
    /// profiles (32-bit hashes), 2^64 for xxh3, the table size for maglev.
    pub space: u128,
    /// The number of positions that change owner: the sum of the ranges'
    /// lengths.
    pub moved: u128,
}

impl Diff {
    /// The share of the position space that changes owner: `moved / space`,
    /// in `[0, 1]`. For uniformly hashed keys this is the expected share of
    /// keys that move.
    pub fn fraction(&self) -> f64 {
        if self.space == 0 {
            return 0.0;
        }
        self.moved as f64 / self.space as f64
    }
}

impl Ring {
    /// The position of `key` in the space that [`Ring::diff`] reports ranges
    /// of: ketama, the key's 32-bit MD5 hash (space 2^32); a client profile,
    /// its 32-bit key hash (space 2^32; docs/placement.md names each one);
    /// xxh3, the key's XXH3-64 hash (space 2^64); maglev, the key's table
    /// entry, `XXH3_64(key) mod table_size` (space: the table size). `key` moves
    /// between two rings exactly when its position lies in one of the diff's
    /// ranges.
    ///
    /// Errors: `InvalidArgument` for jump, which places keys by bucket number
    /// and has no positions.
    pub fn position(&self, key: &[u8]) -> Result<u64> {
        // The lookups' own functions: the point a key is looked up at, the
        // entry a maglev table reads.
        match &self.table {
            Table::Points(_) => Ok(self.point_of(key) >> self.point_shift()),
            Table::Maglev(t) => Ok(t.slot(key) as u64),
            Table::Buckets(_) => Err(no_positions()),
        }
    }

    /// Public positions are internal point positions shifted right by this
    /// (ketama keeps its 32-bit points in the top half of a u64).
    fn point_shift(&self) -> u32 {
        self.algorithm.spec().point_shift
    }

    /// The size of the position space: `Some(2^32)` for ketama and the client
    /// profiles, `Some(2^64)` for xxh3, `Some(table size)` for maglev, `None`
    /// for jump (no positions).
    pub fn position_space(&self) -> Option<u128> {
        (self.algorithm.spec().space)(self.table_size)
    }

    /// The ranges of key positions (see [`Ring::position`]) whose owner
    /// differs between `self` (before) and `after`, with the old and new
    /// owner names, and the share of the space that moves. Exact: a key's
    /// owner differs between the rings if and only if its position falls in
    /// a returned range. The rings may differ in nodes, weights and vnodes;
    /// for maglev the ranges are runs of table entries, and both tables must
    /// have the same size.
    ///
    /// Errors: `InvalidArgument` when the algorithms differ (their positions
    /// are not comparable), when two maglev tables differ in size, or for
    /// jump (no positions). Cost: O(points of both rings) time and memory
    /// (maglev: O(table size)).
    pub fn diff(&self, after: &Ring) -> Result<Diff> {
        if self.algorithm != after.algorithm {
            return Err(Error::invalid(format!(
                "cannot diff a {} ring against a {} ring: their key positions are not \
                 comparable; both rings must use the same algorithm",
                self.algorithm, after.algorithm
            )));
        }
        let space = self.position_space().ok_or_else(no_positions)?;
        if let (Table::Maglev(a), Table::Maglev(b)) = (&self.table, &after.table) {
            if self.table_size != after.table_size {
                return Err(Error::invalid(format!(
                    "cannot diff maglev tables of {} and {} entries: a key's entry depends on \
                     the table size; both rings must use the same table size",
                    self.table_size, after.table_size
                )));
            }
            let size = u64::from(self.table_size);
            return Ok(self.slot_diff(after, a.entries(), b.entries(), size));
        }
        let (Table::Points(a), Table::Points(b)) = (&self.table, &after.table) else {
            return Err(no_positions());
        };
        let shift = self.point_shift();
        let runs = continuum_runs(a, b, shift, (space - 1) as u64, &self.names_in(after));
        Ok(self.build_diff(after, runs, space))
    }

    /// For each node id of `self`, its id in `other` ([`NONE`] if absent).
    fn names_in(&self, other: &Ring) -> Vec<u32> {
        self.nodes()
            .map(|(name, _)| other.id_of(name).map_or(NONE, |i| i as u32))
            .collect()
    }

    /// The diff of two slot tables (Maglev): `before_table[s]` is the id (in
    /// `self`) of the owner of slot `s`, `after_table[s]` its id in `after`;
    /// an empty table stands for an empty ring. `space` is the table size,
    /// which both non-empty tables must have (the caller checks that the
    /// rings' table sizes agree and says so in an `InvalidArgument` error).
    pub(crate) fn slot_diff(
        &self,
        after: &Ring,
        before_table: &[u32],
        after_table: &[u32],
        space: u64,
    ) -> Diff {
        let runs = slot_runs(before_table, after_table, &self.names_in(after));
        self.build_diff(after, runs, u128::from(space))
    }

    fn build_diff(&self, after: &Ring, runs: Vec<Run>, space: u128) -> Diff {
        let name =
            |ring: &Ring, id: u32| (id != NONE).then(|| ring.name_of(id as usize).to_owned());
        let mut moved = 0u128;
        let moves = runs
            .into_iter()
            .map(|r| {
                moved += u128::from(r.last) - u128::from(r.first) + 1;
                Move {
                    first: r.first,
                    last: r.last,
                    old: name(self, r.old),
                    new: name(after, r.new),
                }
            })
            .collect();
        Diff {
            moves,
            space,
            moved,
        }
    }
}

/// "No owner": the ring is empty.
pub(crate) const NONE: u32 = u32::MAX;

/// A maximal range `[first, last]` whose owner changes from `old` to `new`
/// (ids in their own rings; [`NONE`] when a ring is empty).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Run {
    pub first: u64,
    pub last: u64,
    pub old: u32,
    pub new: u32,
}

/// Collects segments in increasing order, keeps those whose owner changes,
/// and merges adjacent ones with the same `(old, new)`.
struct Runs<'a> {
    /// `old_in_new[old]`: the id the `before` node `old` has in `after`.
    old_in_new: &'a [u32],
    out: Vec<Run>,
}

impl Runs<'_> {
    fn push(&mut self, first: u64, last: u64, old: u32, new: u32) {
        let same = old != NONE && new != NONE && self.old_in_new[old as usize] == new;
        let both_empty = old == NONE && new == NONE;
        if same || both_empty {
            return;
        }
        if let Some(r) = self.out.last_mut() {
            if r.old == old && r.new == new && r.last.checked_add(1) == Some(first) {
                r.last = last;
                return;
            }
        }
        self.out.push(Run {
            first,
            last,
            old,
            new,
        });
    }
}

/// The changed runs between two continua. Positions are public positions
/// `0..=top`; internal position = public << `shift` (all points are
/// multiples of `1 << shift`).
fn continuum_runs(
    a: &Continuum,
    b: &Continuum,
    shift: u32,
    top: u64,
    old_in_new: &[u32],
) -> Vec<Run> {
    let (pa, pb) = (a.positions(), b.positions());
    let mut runs = Runs {
        old_in_new,
        out: Vec::new(),
    };
    let owner = |c: &Continuum, p: u64| c.owner_at(p << shift).unwrap_or(NONE);
    // Segments [start, end]: each ends at a boundary (a point of either
    // ring) or at the top; no point of either ring lies in [start, end), so
    // each ring's owner over the segment is its owner at `end`.
    let mut start = 0u64;
    let mut segment = |end: u64, runs: &mut Runs| {
        runs.push(start, end, owner(a, end), owner(b, end));
        start = end.wrapping_add(1); // wraps only after the top, the last
    };
    let (mut i, mut j) = (0, 0);
    let mut last_end: Option<u64> = None;
    loop {
        let next = match (pa.get(i), pb.get(j)) {
            (Some(&x), Some(&y)) => x.min(y),
            (Some(&x), None) | (None, Some(&x)) => x,
            (None, None) => break,
        };
        while pa.get(i) == Some(&next) {
            i += 1;
        }
        while pb.get(j) == Some(&next) {
            j += 1;
        }
        let end = next >> shift;
        segment(end, &mut runs);
        last_end = Some(end);
    }
    if last_end != Some(top) {
        segment(top, &mut runs);
    }
    runs.out
}

/// The changed runs between two owner tables indexed by slot (Maglev): slot
/// `s` is owned by `before[s]` and then by `after[s]` (ids in their own
/// rings). An empty table (an empty ring) reads as [`NONE`] everywhere;
/// non-empty tables have the same length, the size of the slot space.
/// `old_in_new[old]` is the `after` id of the `before` node `old` (`NONE` if
/// it left).
pub(crate) fn slot_runs(before: &[u32], after: &[u32], old_in_new: &[u32]) -> Vec<Run> {
    let mut runs = Runs {
        old_in_new,
        out: Vec::new(),
    };
    let at = |t: &[u32], s: usize| t.get(s).copied().unwrap_or(NONE);
    for s in 0..before.len().max(after.len()) {
        runs.push(s as u64, s as u64, at(before, s), at(after, s));
    }
    runs.out
}

fn no_positions() -> Error {
    Error::invalid(
        "jump places keys by bucket number; it has no key positions, so there are no \
         ranges to diff; use any other algorithm (ketama, xxh3, maglev, a client profile)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ring::Algorithm;

    fn runs(a: &[(u64, u32)], b: &[(u64, u32)], map: &[u32]) -> Vec<(u64, u64, u32, u32)> {
        let (ca, cb) = (
            Continuum::build(a.to_vec()).unwrap(),
            Continuum::build(b.to_vec()).unwrap(),
        );
        continuum_runs(&ca, &cb, 0, u64::MAX, map)
            .into_iter()
            .map(|r| (r.first, r.last, r.old, r.new))
            .collect()
    }

    #[test]
    fn a_new_point_takes_the_range_up_to_it() {
        // before: 0 owns everything; after: 1 (id 1 in after) owns (100, 200].
        let r = runs(&[(100, 0), (300, 0)], &[(100, 0), (200, 1), (300, 0)], &[0]);
        assert_eq!(r, vec![(101, 200, 0, 1)]);
    }

    #[test]
    fn the_wrap_segment_is_split_at_the_top() {
        // after: node 1 owns (300, MAX] and [0, 100].
        let r = runs(&[(100, 0), (300, 0)], &[(100, 1), (300, 0)], &[0]);
        assert_eq!(r, vec![(0, 100, 0, 1), (301, u64::MAX, 0, 1)]);
    }

    #[test]
    fn a_point_at_the_top_ends_the_last_segment() {
        let r = runs(&[(u64::MAX, 0)], &[(5, 1), (u64::MAX, 0)], &[0]);
        assert_eq!(r, vec![(0, 5, 0, 1)]);
        let r = runs(&[(u64::MAX, 0)], &[(u64::MAX, 1)], &[0]);
        assert_eq!(r, vec![(0, u64::MAX, 0, 1)]);
    }

    #[test]
    fn ties_use_the_lookup_rule() {
        // before: "b" (id 0) alone. after: "a" (id 0) and "b" (id 1), with
        // "a" tying "b" at 50: the lower id (a) owns 50, and the wrap.
        let r = runs(&[(50, 0), (90, 0)], &[(50, 1), (50, 0), (90, 1)], &[1]);
        assert_eq!(r, vec![(0, 50, 0, 0), (91, u64::MAX, 0, 0)]);
    }

    #[test]
    fn empty_rings_on_either_side() {
        assert_eq!(runs(&[], &[], &[]), vec![]);
        assert_eq!(runs(&[(7, 0)], &[], &[0]), vec![(0, u64::MAX, 0, NONE)]);
        assert_eq!(runs(&[], &[(7, 0)], &[]), vec![(0, u64::MAX, NONE, 0)]);
    }

    #[test]
    fn identical_tables_move_nothing() {
        let pts = [(1, 0), (9, 1), (9, 0), (u64::MAX, 1)];
        assert_eq!(runs(&pts, &pts, &[0, 1]), vec![]);
    }

    #[test]
    fn slot_tables_merge_runs_of_the_same_move() {
        let before = [0, 0, 1, 1, 1, 0];
        let after = [0, 2, 2, 2, 1, 2];
        // before ids 0, 1 keep their ids; 2 is new.
        let r: Vec<_> = slot_runs(&before, &after, &[0, 1])
            .into_iter()
            .map(|r| (r.first, r.last, r.old, r.new))
            .collect();
        assert_eq!(r, vec![(1, 1, 0, 2), (2, 3, 1, 2), (5, 5, 0, 2)]);
        assert_eq!(slot_runs(&before, &before, &[0, 1]), vec![]);
        // A node whose id changes but keeps its slots does not move.
        assert_eq!(slot_runs(&[1, 1], &[0, 0], &[NONE, 0]), vec![]);
        // An empty ring on either side: one run per owner.
        let r: Vec<_> = slot_runs(&[], &[0, 0, 1], &[])
            .into_iter()
            .map(|r| (r.first, r.last, r.old, r.new))
            .collect();
        assert_eq!(r, vec![(0, 1, NONE, 0), (2, 2, NONE, 1)]);
    }

    #[test]
    fn slot_diff_names_the_owners() {
        let before = Ring::with_nodes(Algorithm::Xxh3, 1, [("a", 1), ("b", 1)]).unwrap();
        let after = Ring::with_nodes(Algorithm::Xxh3, 1, [("b", 1), ("c", 1)]).unwrap();
        // slots: a a b b  ->  b c c b   (after ids: b = 0, c = 1)
        let d = before.slot_diff(&after, &[0, 0, 1, 1], &[0, 1, 1, 0], 4);
        let got: Vec<_> = d
            .moves
            .iter()
            .map(|m| (m.first, m.last, m.old.as_deref(), m.new.as_deref()))
            .collect();
        assert_eq!(
            got,
            vec![
                (0, 0, Some("a"), Some("b")),
                (1, 1, Some("a"), Some("c")),
                (2, 2, Some("b"), Some("c"))
            ]
        );
        assert_eq!((d.space, d.moved), (4, 3));
        assert_eq!(d.fraction(), 0.75);
    }
}
