//! A load tracker: bounded-load placement done for the caller. It counts the
//! work in flight on each node (slots); `acquire` picks the node for a key
//! with [`Ring::get_bounded_id`] over the current counts and takes a slot
//! there, `release` gives the slot back.

use super::bounded::check_factor;
use super::{empty_ring, Ring};
use crate::error::{Error, ErrorKind, Result};
use parking_lot::Mutex;

/// Counts in-flight work per node and places keys with bounded loads.
///
/// The tracker owns a snapshot of the ring taken at creation: later changes
/// to the original ring do not reach it (membership changes need a new
/// tracker, see [`LoadTracker::with_ring`]).
///
/// Thread-safe (`Send + Sync`): `acquire`, `release` and the readers may run
/// from any number of threads at once. One mutex guards the counts; an
/// `acquire` chooses and counts under it, so the cap holds whatever the
/// interleaving: at the moment a slot is taken, the node's load (the taken
/// slot included) is at most `bounded_cap(total before, nodes, factor)`.
/// A release lowers the total and so the cap: loads taken earlier may then
/// sit above the new cap until they are released; new slots never go there.
#[derive(Debug)]
pub struct LoadTracker {
    ring: Ring,
    factor: f64,
    counts: Mutex<Counts>,
}

#[derive(Debug)]
struct Counts {
    loads: Vec<u64>,
    total: u64,
}

impl LoadTracker {
    /// A tracker over a copy of `ring` with balance factor `factor`, every
    /// load 0. Errors: `InvalidArgument` (`factor` not finite or not above
    /// 1), `EmptyRing`.
    pub fn new(ring: &Ring, factor: f64) -> Result<LoadTracker> {
        check_factor(factor)?;
        if ring.is_empty() {
            return Err(empty_ring());
        }
        Ok(LoadTracker {
            ring: ring.clone(),
            factor,
            counts: Mutex::new(Counts {
                loads: vec![0; ring.len()],
                total: 0,
            }),
        })
    }

    /// A new tracker over a copy of `ring` (same factor) that keeps the
    /// loads of the nodes still in it; the slots of nodes no longer in `ring`
    /// are dropped (releasing them on the new tracker is `NotFound`).
    /// Errors: `EmptyRing`.
    pub fn with_ring(&self, ring: &Ring) -> Result<LoadTracker> {
        let next = LoadTracker::new(ring, self.factor)?;
        {
            let old = self.counts.lock();
            let mut new = next.counts.lock();
            for (id, (name, _)) in self.ring.nodes().enumerate() {
                if let Some(to) = ring.id_of(name) {
                    new.loads[to] = old.loads[id];
                    new.total += old.loads[id];
                }
            }
        }
        Ok(next)
    }

    /// The tracker's copy of the ring: ids and names of its nodes.
    pub fn ring(&self) -> &Ring {
        &self.ring
    }

    /// The balance factor.
    pub fn factor(&self) -> f64 {
        self.factor
    }

    /// Takes a slot for `key` on the node chosen by bounded-load placement
    /// over the current loads, atomically with respect to other calls, and
    /// returns that node's id. Errors: `InvalidArgument` if the total would
    /// pass `u64::MAX`.
    pub fn acquire_id(&self, key: &[u8]) -> Result<usize> {
        let mut c = self.counts.lock();
        if c.total == u64::MAX {
            return Err(Error::invalid("the tracker holds 2^64 - 1 slots already"));
        }
        // the running total spares summing the loads on every acquisition
        let id = self
            .ring
            .bounded_id_with_total(key, &c.loads, c.total, self.factor)?;
        c.loads[id] += 1; // <= total < u64::MAX
        c.total += 1;
        Ok(id)
    }

    /// As [`LoadTracker::acquire_id`], returning the node's name.
    pub fn acquire(&self, key: &[u8]) -> Result<&str> {
        let id = self.acquire_id(key)?;
        Ok(self.ring.name_of(id))
    }

    /// Gives back a slot of node `id`. Errors: `NotFound` (no such id),
    /// `InvalidArgument` (the node holds no slot).
    pub fn release_id(&self, id: usize) -> Result<()> {
        let mut c = self.counts.lock();
        let name = match self.ring.node(id) {
            Some((name, _)) => name,
            None => {
                return Err(Error::new(
                    ErrorKind::NotFound,
                    format!(
                        "node id {id} is not in the tracker's ring of {} nodes",
                        self.ring.len()
                    ),
                ))
            }
        };
        if c.loads[id] == 0 {
            return Err(Error::invalid(format!(
                "node {name:?} holds no slot: release only what acquire gave"
            )));
        }
        c.loads[id] -= 1;
        c.total -= 1;
        Ok(())
    }

    /// Gives back a slot of node `name`. Errors: `NotFound` (not a node of
    /// the tracker's ring), `InvalidArgument` (the node holds no slot).
    pub fn release(&self, name: &str) -> Result<()> {
        self.release_id(self.id(name)?)
    }

    /// The slots held on node `name`. Errors: `NotFound`.
    pub fn load(&self, name: &str) -> Result<u64> {
        let id = self.id(name)?;
        Ok(self.counts.lock().loads[id])
    }

    /// The slots held on each node, by id (the order of [`Ring::nodes`]).
    pub fn loads(&self) -> Vec<u64> {
        self.counts.lock().loads.clone()
    }

    /// The slots held in all.
    pub fn total(&self) -> u64 {
        self.counts.lock().total
    }

    /// The cap a new slot must stay under now:
    /// [`bounded_cap`](super::bounded_cap)`(total, nodes, factor)`.
    pub fn cap(&self) -> u64 {
        let total = self.total();
        super::bounded_cap(total, self.ring.len(), self.factor).expect("checked at creation")
    }

    fn id(&self, name: &str) -> Result<usize> {
        self.ring.id_of(name).ok_or_else(|| {
            Error::new(
                ErrorKind::NotFound,
                format!("node {name:?} is not in the tracker's ring"),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Algorithm;

    fn ring() -> Ring {
        Ring::with_nodes(Algorithm::Xxh3, 0, [("a", 1), ("b", 1), ("c", 1)]).unwrap()
    }

    #[test]
    fn is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<LoadTracker>();
    }

    #[test]
    fn acquire_and_release_count_slots() {
        let t = LoadTracker::new(&ring(), 1.25).unwrap();
        let n = t.acquire(b"k").unwrap().to_string();
        assert_eq!(n, ring().get(b"k").unwrap());
        assert_eq!(t.load(&n).unwrap(), 1);
        assert_eq!(t.total(), 1);
        t.release(&n).unwrap();
        assert_eq!(t.loads(), vec![0, 0, 0]);
        assert_eq!(
            t.release(&n).unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
        assert_eq!(t.release("zz").unwrap_err().kind(), ErrorKind::NotFound);
        assert_eq!(t.load("zz").unwrap_err().kind(), ErrorKind::NotFound);
        assert_eq!(t.release_id(3).unwrap_err().kind(), ErrorKind::NotFound);
    }

    #[test]
    fn one_hot_key_spreads_under_the_cap() {
        let t = LoadTracker::new(&ring(), 1.25).unwrap();
        for _ in 0..300 {
            let before = t.cap();
            let n = t.acquire(b"hot").unwrap().to_string();
            assert!(t.load(&n).unwrap() <= before);
        }
        // 300 slots on 3 nodes with c = 1.25: none above ceil(1.25 * 300 / 3)
        assert!(t.loads().iter().all(|&l| l <= 125), "{:?}", t.loads());
        assert_eq!(t.total(), 300);
    }

    #[test]
    fn bad_arguments_are_refused() {
        assert_eq!(
            LoadTracker::new(&ring(), 1.0).unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
        assert_eq!(
            LoadTracker::new(&Ring::new(Algorithm::Jump), 1.5)
                .unwrap_err()
                .kind(),
            ErrorKind::EmptyRing
        );
    }

    #[test]
    fn with_ring_keeps_the_loads_of_surviving_nodes() {
        let t = LoadTracker::new(&ring(), 1.5).unwrap();
        for i in 0..30 {
            t.acquire(format!("k{i}").as_bytes()).unwrap();
        }
        let mut r = ring();
        r.remove("b").unwrap();
        r.add("d", 1).unwrap();
        let u = t.with_ring(&r).unwrap();
        assert_eq!(u.load("a").unwrap(), t.load("a").unwrap());
        assert_eq!(u.load("c").unwrap(), t.load("c").unwrap());
        assert_eq!(u.load("d").unwrap(), 0);
        assert_eq!(u.total(), t.total() - t.load("b").unwrap());
        assert_eq!(u.release("b").unwrap_err().kind(), ErrorKind::NotFound);
    }
}
