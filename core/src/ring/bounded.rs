//! Bounded-load lookups: consistent hashing with bounded loads (Mirrokni,
//! Thorup and Zadimoghaddam, SODA 2018), over any algorithm of the ring.
//!
//! Given each node's current load and a balance factor `c > 1`, a key goes to
//! the first node in its *ring order* whose load is below the cap
//! `ceil(c * (total + 1) / nodes)`, where `total` is the sum of the loads and
//! `nodes` the number of nodes in the ring.
//!
//! Ring order is the order of [`Ring::get_n`]: the owners met walking the
//! table from the key's position — the continuum's points clockwise (ketama,
//! xxh3 and the client profiles), the buckets from the key's bucket (jump),
//! the table entries from the key's entry (maglev), each wrapping. A node
//! whose load is at or above the cap is rejected wherever it appears; so the
//! answer is the first owner met whose load is below the cap. Nodes that earn
//! no point (possible where points are shared out by weight, as in ketama)
//! never appear on the walk: they come after it, in name (id) order, so a
//! node below the cap is always found.
//!
//! Termination: with `L` the sum of the loads and `n` nodes, if every node
//! had a load `>= cap >= c (L + 1) / n` the loads would sum to at least
//! `c (L + 1) > L`: a contradiction. So some node is below the cap.
//!
//! With every load 0 the cap is at least 1 and the answer is [`Ring::get`]'s.

use super::{empty_ring, Ring};
use crate::error::{Error, Result};

/// The default balance factor, 1.25 (each node takes at most 25% more than
/// the average load, plus rounding).
pub const DEFAULT_BALANCE: f64 = 1.25;

/// The cap of bounded-load placement: `ceil(factor * (total + 1) / nodes)`,
/// computed exactly (not in floating point): a finite `f64` is `m * 2^e`
/// with integer `m < 2^53`, so the cap is `ceil(m * (total + 1) * 2^e /
/// nodes)` in 128-bit integers. Saturates at `u64::MAX` (reached only by
/// factors beyond 2^53 or totals near 2^64).
///
/// Errors (`InvalidArgument`): `factor` not finite or not above 1 (NaN and
/// infinities included), `nodes` 0.
pub fn bounded_cap(total: u64, nodes: usize, factor: f64) -> Result<u64> {
    check_factor(factor)?;
    if nodes == 0 {
        return Err(Error::invalid(
            "bounded_cap: nodes is 0; expected at least 1",
        ));
    }
    Ok(u64::try_from(cap_exact(total, nodes, factor)).unwrap_or(u64::MAX))
}

/// Refuses a balance factor that is not a finite number above 1.
pub(crate) fn check_factor(factor: f64) -> Result<()> {
    if factor.is_finite() && factor > 1.0 {
        return Ok(());
    }
    Err(Error::invalid(format!(
        "balance factor is {factor}; expected a finite number above 1 (e.g. 1.25)"
    )))
}

/// `ceil(factor * (total + 1) / nodes)` exactly, saturating at `u128::MAX`.
/// `factor` is finite and > 1, `nodes` >= 1.
pub(crate) fn cap_exact(total: u64, nodes: usize, factor: f64) -> u128 {
    // factor = m * 2^e exactly (factor > 1 is a normal number).
    let bits = factor.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32;
    let m = u128::from((bits & ((1u64 << 52) - 1)) | (1u64 << 52));
    let e = exp - 1075;
    // m < 2^53 and total + 1 <= 2^64: the product fits in 117 bits.
    let p = m * (u128::from(total) + 1);
    let n = nodes as u128;
    if e >= 0 {
        // factor >= 2^52: an integer; shift while it fits.
        let shifted = if p.leading_zeros() as i32 > e {
            p << e
        } else {
            return u128::MAX;
        };
        shifted.div_ceil(n)
    } else {
        // ceil(ceil(p / 2^k) / n) == ceil(p / (2^k n)) for positive integers.
        let k = (-e) as u32; // factor > 1 and m < 2^53: k <= 52
        let q = (p >> k) + u128::from(p & ((1u128 << k) - 1) != 0);
        q.div_ceil(n)
    }
}

impl Ring {
    /// The id of the node that takes `key` under bounded loads: the first
    /// node in the key's ring order whose load is below
    /// [`bounded_cap`]`(sum of loads, nodes, factor)`. `loads[id]` is the
    /// current load of node `id` (the order of [`Ring::nodes`]). Allocates
    /// nothing; O(nodes) to sum the loads, plus the walk.
    ///
    /// Errors: `InvalidArgument` (`factor` not finite or not above 1,
    /// `loads.len()` not the number of nodes, loads summing past `u64::MAX`),
    /// `EmptyRing`.
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
        // The low and high halves summed apart: plain u64 additions that
        // vectorise and cannot overflow (fewer than 2^32 nodes).
        let (mut lo, mut hi) = (0u64, 0u64);
        for &l in loads {
            lo += l & 0xffff_ffff;
            hi += l >> 32;
        }
        let total = (u128::from(hi) << 32) + u128::from(lo);
        let total = u64::try_from(total)
            .map_err(|_| Error::invalid("the loads sum to more than 2^64 - 1"))?;
        self.bounded_id_with_total(key, loads, total, factor)
    }

    /// [`Ring::get_bounded_id`] for callers that keep the sum of `loads`
    /// (`total`) themselves and have checked `factor`, a non-empty ring and
    /// `loads.len() == self.len()`.
    pub(crate) fn bounded_id_with_total(
        &self,
        key: &[u8],
        loads: &[u64],
        total: u64,
        factor: f64,
    ) -> Result<usize> {
        let cap = cap_exact(total, self.len(), factor);
        let below = |id: usize| u128::from(loads[id]) < cap;
        self.find_in_ring_order(key, below)
            // nodes without a point (a light ketama node): after the walk, in id order
            .or_else(|| (0..loads.len()).find(|&id| below(id)))
            .ok_or_else(|| {
                Error::new(
                    crate::ErrorKind::Internal,
                    "bounded lookup found no node below the cap",
                )
            })
    }

    /// The name of the node that takes `key` under bounded loads; see
    /// [`Ring::get_bounded_id`] (same errors).
    pub fn get_bounded(&self, key: &[u8], loads: &[u64], factor: f64) -> Result<&str> {
        let id = self.get_bounded_id(key, loads, factor)?;
        Ok(self.name_of(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Algorithm, ErrorKind};

    fn naive_cap(total: u64, nodes: usize, factor: f64) -> u64 {
        (factor * (total as f64 + 1.0) / nodes as f64).ceil() as u64
    }

    #[test]
    fn cap_is_exact() {
        assert_eq!(bounded_cap(0, 1, 1.25).unwrap(), 2); // ceil(1.25)
        assert_eq!(bounded_cap(3, 5, 1.25).unwrap(), 1); // 5/5 = 1 exactly
        assert_eq!(bounded_cap(4, 5, 1.25).unwrap(), 2); // 6.25/5
        assert_eq!(bounded_cap(99, 10, 1.5).unwrap(), 15); // exactly 15
        assert_eq!(bounded_cap(100, 10, 1.5).unwrap(), 16); // 15.15
        assert_eq!(bounded_cap(u64::MAX, 1, 2.0).unwrap(), u64::MAX);
        assert_eq!(bounded_cap(7, 3, 1e300).unwrap(), u64::MAX);
        // 1.1 is not 11/10 in binary: the cap is of the double's exact value
        // (slightly above 1.1), so 1.1 * 10 / 11 rounds up to 2.
        assert_eq!(bounded_cap(9, 11, 1.1).unwrap(), 2);
        for t in 0..2000u64 {
            for n in 1..40 {
                for c in [1.25, 1.5, 2.0, 3.0, 1.0625] {
                    assert_eq!(
                        bounded_cap(t, n, c).unwrap(),
                        naive_cap(t, n, c),
                        "{t} {n} {c}"
                    );
                }
            }
        }
    }

    #[test]
    fn bad_factors_and_node_counts_are_refused() {
        for c in [
            1.0,
            0.5,
            0.0,
            -2.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ] {
            assert_eq!(
                bounded_cap(1, 1, c).unwrap_err().kind(),
                ErrorKind::InvalidArgument
            );
        }
        assert_eq!(
            bounded_cap(1, 0, 1.25).unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
        assert!(bounded_cap(1, 1, 1.0 + f64::EPSILON).is_ok());
    }

    #[test]
    fn a_full_owner_passes_the_key_on_in_ring_order() {
        for a in Algorithm::ALL {
            let r = Ring::with_nodes(a, 0, [("a", 1), ("b", 1), ("c", 1)]).unwrap();
            for i in 0..200 {
                let key = format!("k{i}");
                let order = r.get_n(key.as_bytes(), 3).unwrap();
                let mut loads = [0u64; 3];
                // total 6, cap ceil(1.25 * 7 / 3) = 3: the owner at 3 is full
                loads[r.id_of(order[0]).unwrap()] = 3;
                loads[r.id_of(order[1]).unwrap()] = 2;
                loads[r.id_of(order[2]).unwrap()] = 1;
                assert_eq!(
                    r.get_bounded(key.as_bytes(), &loads, 1.25).unwrap(),
                    order[1]
                );
                loads[r.id_of(order[1]).unwrap()] = 3;
                loads[r.id_of(order[2]).unwrap()] = 0; // total 6, cap 3
                assert_eq!(
                    r.get_bounded(key.as_bytes(), &loads, 1.25).unwrap(),
                    order[2]
                );
            }
        }
    }
}
