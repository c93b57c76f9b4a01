//! How big a ring may grow: [`Limits`], checked before any table is built,
//! and the fallible allocation of every table whose size comes from input.
//!
//! A few bytes can ask for a huge ring (a serialised ring of 37 bytes may
//! say "one node, 2^26 virtual nodes" or "a Maglev table of 67,108,859
//! entries"). So every ring carries limits, the defaults unless its maker
//! asked for more, and refuses to grow past them before allocating
//! anything; within them, a failed allocation is an error, never an abort.
//!
//! The defaults allow every realistic ring: 16,777,216 points are 100,000
//! nodes at 160 virtual nodes each (256 MiB of table), a Maglev table of up
//! to 16,777,213 entries (64 MiB), a jump ring of 16,777,216 buckets; and
//! 1,048,576 nodes. The hard ceiling, [`MAX_POINTS`] (2^26), is what the
//! table's 32-bit indices and jump's 32-bit bucket count allow with room to
//! spare; limits may be raised up to it, never past.

use crate::error::{Error, ErrorKind, Result};

/// The most points one ring may ever hold, whatever its limits: 2^26 virtual
/// points (ketama, xxh3), jump buckets or Maglev table entries (about 1 GiB
/// of table for a point ring). Limits above it are refused.
pub const MAX_POINTS: u64 = 1 << 26;

/// How large a ring may grow. Every ring has limits: [`Limits::default`]
/// unless it was made with [`Ring::with_limits`](super::Ring::with_limits)
/// or [`Ring::from_bytes_with_limits`](super::Ring::from_bytes_with_limits).
/// A change that would pass them is refused (`InvalidArgument`; `Corrupt`
/// when loading) before anything is allocated. Limits are not part of
/// placement: they are not serialised and do not make rings unequal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Limits {
    /// The most points: virtual points (ketama: nodes × vnodes, an upper
    /// bound of its points; xxh3: total weight × vnodes), jump buckets
    /// (total weight) or Maglev table entries (the table size). 0 means
    /// [`Limits::DEFAULT_MAX_POINTS`]; at most [`MAX_POINTS`].
    pub max_points: u64,
    /// The most nodes. 0 means [`Limits::DEFAULT_MAX_NODES`]; at most
    /// [`MAX_POINTS`].
    pub max_nodes: u64,
}

impl Limits {
    /// Default most points: 2^24 = 16,777,216.
    pub const DEFAULT_MAX_POINTS: u64 = 1 << 24;
    /// Default most nodes: 2^20 = 1,048,576.
    pub const DEFAULT_MAX_NODES: u64 = 1 << 20;
    /// The defaults.
    pub const DEFAULT: Limits = Limits {
        max_points: Limits::DEFAULT_MAX_POINTS,
        max_nodes: Limits::DEFAULT_MAX_NODES,
    };
    /// The largest limits allowed: [`MAX_POINTS`] of each.
    pub const MAX: Limits = Limits {
        max_points: MAX_POINTS,
        max_nodes: MAX_POINTS,
    };

    /// These limits with each 0 replaced by its default; `InvalidArgument`
    /// if one is above [`MAX_POINTS`].
    pub fn resolve(self) -> Result<Limits> {
        let pick = |v: u64, default: u64, what: &str| match v {
            0 => Ok(default),
            v if v <= MAX_POINTS => Ok(v),
            v => Err(Error::invalid(format!(
                "{what} limit {v} is above the largest allowed, {MAX_POINTS} (2^26)"
            ))),
        };
        Ok(Limits {
            max_points: pick(self.max_points, Limits::DEFAULT_MAX_POINTS, "points")?,
            max_nodes: pick(self.max_nodes, Limits::DEFAULT_MAX_NODES, "node")?,
        })
    }

    /// `InvalidArgument` unless `points` points fit.
    pub(crate) fn check_points(self, points: u64, what: &str) -> Result<()> {
        if points <= self.max_points {
            return Ok(());
        }
        Err(Error::invalid(format!(
            "{what} {points} points, more than the limit of {} (lower the weights, vnodes or \
             table size, or raise Limits::max_points, at most {MAX_POINTS})",
            self.max_points
        )))
    }

    /// `InvalidArgument` unless `nodes` nodes fit.
    pub(crate) fn check_nodes(self, nodes: u64) -> Result<()> {
        if nodes <= self.max_nodes {
            return Ok(());
        }
        Err(Error::invalid(format!(
            "the ring would hold {nodes} nodes, more than the limit of {} \
             (raise Limits::max_nodes, at most {MAX_POINTS})",
            self.max_nodes
        )))
    }
}

impl Default for Limits {
    fn default() -> Limits {
        Limits::DEFAULT
    }
}

/// An empty `Vec` with room for `n` items, or an `Io` error ("out of
/// memory") if the allocator refuses: the allocation of every table whose
/// size comes from input.
pub(crate) fn vec_with_capacity<T>(n: usize, what: &str) -> Result<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(n)
        .map_err(|_| out_of_memory(n, std::mem::size_of::<T>(), what))?;
    Ok(v)
}

fn out_of_memory(n: usize, size: usize, what: &str) -> Error {
    Error::new(
        ErrorKind::Io,
        format!(
            "out of memory: cannot allocate {} bytes for {n} {what}",
            n.saturating_mul(size)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_means_default_and_the_ceiling_holds() {
        let l = Limits {
            max_points: 0,
            max_nodes: 5,
        }
        .resolve()
        .unwrap();
        assert_eq!((l.max_points, l.max_nodes), (1 << 24, 5));
        assert_eq!(Limits::MAX.resolve().unwrap(), Limits::MAX);
        for bad in [
            Limits {
                max_points: MAX_POINTS + 1,
                max_nodes: 0,
            },
            Limits {
                max_points: 0,
                max_nodes: u64::MAX,
            },
        ] {
            assert_eq!(
                bad.resolve().unwrap_err().kind(),
                ErrorKind::InvalidArgument
            );
        }
    }

    #[test]
    fn a_refused_allocation_is_an_error() {
        let e = vec_with_capacity::<u64>(usize::MAX / 4, "points").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Io);
        assert!(e.message().contains("out of memory"), "{e}");
        assert!(vec_with_capacity::<u64>(10, "points").unwrap().capacity() >= 10);
    }
}
