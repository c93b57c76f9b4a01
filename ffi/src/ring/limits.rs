//! `rl_ring_limits`: how large a ring may grow, for
//! `rl_ring_new_with_limits` and `rl_ring_deserialize_with_limits`.

use crate::args;
use crate::boundary::Result;
use ringlock_core::ring::Limits;

/// How large a ring may grow: checked before any table is built, by every
/// change of the ring and by loading it. A zero-initialised struct
/// (`rl_ring_limits l = {0};`), or NULL where a `const rl_ring_limits *` is
/// taken, means the defaults; every other ring gets the defaults too
/// (`rl_ring_new`, `rl_ring_new_with_options`, `rl_ring_deserialize`; a
/// clone keeps its original's limits).
///
/// The defaults allow every realistic ring and keep a few hostile bytes from
/// asking for gigabytes: 16,777,216 points (100,000 nodes of 160 vnodes;
/// a maglev table of up to 16,777,213 entries) and 1,048,576 nodes. Either
/// may be raised up to 67,108,864 (2^26); more is `RL_ERR_INVALID_ARGUMENT`.
/// See docs/placement.md.
///
/// The library reads it during the call only and keeps no pointer into it.
#[repr(C)]
pub struct rl_ring_limits {
    /// The most points: ketama, nodes × vnodes (a bound of its points);
    /// xxh3, total weight × vnodes; jump, total weight (buckets); maglev,
    /// the table size. 0 means 16,777,216 (2^24).
    pub max_points: u64,
    /// The most nodes. 0 means 1,048,576 (2^20).
    pub max_nodes: u64,
}

/// The core limits of `limits` (NULL: the defaults).
///
/// # Safety
/// `limits` is NULL or points to a readable `rl_ring_limits`.
pub(crate) unsafe fn from_ptr(limits: *const rl_ring_limits) -> Result<Limits> {
    // SAFETY: forwarded from the caller's contract.
    let limits = unsafe { args::opt_ref(limits, "limits") }?;
    Ok(limits.map_or(Limits::DEFAULT, |l| Limits {
        max_points: l.max_points,
        max_nodes: l.max_nodes,
    }))
}
