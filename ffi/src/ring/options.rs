//! `rl_ring_options`: a ring with a table size (maglev) through
//! `rl_ring_new_with_options` (and other limits through
//! `rl_ring_new_with_limits`), and the `rl_ring_table_size` getter.

use super::limits::{self, rl_ring_limits};
use super::{algorithm_of, rl_algorithm, rl_ring, RL_ALGORITHM_XXH3};
use crate::args;
use crate::boundary::{self, Result};
use crate::error::rl_status;
use ringlock_core::ring::Limits;
use ringlock_core::{Algorithm, Ring};

/// How `rl_ring_new_with_options` makes a ring. A zero-initialised struct
/// (`rl_ring_options o = {0};`) means the defaults (an xxh3 ring with 160
/// vnodes), as does passing NULL.
///
/// The library reads it during the call only and keeps no pointer into it.
#[repr(C)]
pub struct rl_ring_options {
    /// An `RL_ALGORITHM_*` value; 0 means `RL_ALGORITHM_XXH3`.
    pub algorithm: rl_algorithm,
    /// Virtual nodes per unit of weight; 0 means the algorithm's default
    /// (160 for ketama and xxh3). Ketama needs a multiple of 4; jump and
    /// maglev take only 0.
    pub vnodes: u32,
    /// Maglev's number of table entries: a prime, at most 2^26 (67108864;
    /// the largest prime allowed is 67108859) and within the ring's limits
    /// (by default 16777216, so at most 16777213; see `rl_ring_limits`); 0
    /// means 65537. The other algorithms take only 0.
    pub table_size: u32,
}

/// Creates an empty ring as `options` says (NULL: the defaults) and stores
/// it in `*out`; free it with `rl_ring_free`.
///
/// `rl_ring_new(a, v, &r)` is `rl_ring_new_with_options` with
/// `{a, v, 0}`: use this function to choose maglev's table size. A maglev
/// ring refuses (`rl_ring_add`) more nodes than table entries.
///
/// Returns `RL_OK`, or `RL_ERR_INVALID_ARGUMENT` (`out` NULL, unknown
/// algorithm, vnodes not allowed, table size not prime, too big or given to
/// an algorithm other than maglev; vnodes or table size alone past the
/// default limits). `*out` is written only on success. Thread-safe: the
/// new ring is the caller's alone.
#[no_mangle]
pub extern "C" fn rl_ring_new_with_options(
    options: *const rl_ring_options,
    out: *mut *mut rl_ring,
) -> rl_status {
    boundary::status("rl_ring_new_with_options", || {
        // SAFETY: `options` is NULL or a readable rl_ring_options (header).
        let ring = unsafe { new_ring(options, Limits::DEFAULT) }?;
        // SAFETY: `out` is NULL or writable (header contract).
        let out = unsafe { args::out(out, "out") }?;
        out.write(Box::into_raw(ring));
        Ok(())
    })
}

/// `rl_ring_new_with_options` with `limits` (NULL: the defaults) in place of
/// the default limits: for rings larger than the defaults allow. The ring
/// keeps them: every later change is checked against them (its clones
/// keep them too).
///
/// Returns `RL_OK`, or `RL_ERR_INVALID_ARGUMENT` (as
/// `rl_ring_new_with_options`, a limit above 2^26, or vnodes or table size
/// alone past `limits`). `*out` is written only on success. Thread-safe:
/// the new ring is the caller's alone.
#[no_mangle]
pub extern "C" fn rl_ring_new_with_limits(
    options: *const rl_ring_options,
    limits: *const rl_ring_limits,
    out: *mut *mut rl_ring,
) -> rl_status {
    boundary::status("rl_ring_new_with_limits", || {
        // SAFETY: `limits` is NULL or a readable rl_ring_limits (header).
        let limits = unsafe { limits::from_ptr(limits) }?;
        // SAFETY: `options` is NULL or a readable rl_ring_options (header).
        let ring = unsafe { new_ring(options, limits) }?;
        // SAFETY: `out` is NULL or writable (header contract).
        let out = unsafe { args::out(out, "out") }?;
        out.write(Box::into_raw(ring));
        Ok(())
    })
}

/// # Safety
/// `options` is NULL or points to a readable `rl_ring_options`.
unsafe fn new_ring(options: *const rl_ring_options, limits: Limits) -> Result<Box<rl_ring>> {
    // SAFETY: forwarded from the caller's contract.
    let (algorithm, vnodes, table_size) = unsafe { config_of(options) }?;
    rl_ring::boxed(Ring::with_limits(algorithm, vnodes, table_size, limits)?)
}

/// The algorithm (0: xxh3), vnodes and table size of an options pointer
/// (NULL: the defaults); the algorithm code is checked, the rest is left to
/// the ring's constructor.
///
/// # Safety
/// `options` is NULL or points to a readable `rl_ring_options`.
pub(super) unsafe fn config_of(options: *const rl_ring_options) -> Result<(Algorithm, u32, u32)> {
    // SAFETY: forwarded from the caller's contract.
    let options = unsafe { args::opt_ref(options, "options") }?;
    let (code, vnodes, table_size) = match options {
        None => (RL_ALGORITHM_XXH3, 0, 0),
        Some(o) => (o.algorithm, o.vnodes, o.table_size),
    };
    let algorithm = algorithm_of(if code == 0 { RL_ALGORITHM_XXH3 } else { code })?;
    Ok((algorithm, vnodes, table_size))
}

/// Maglev's number of table entries (a prime) of `ring`; 0 for the other
/// algorithms, and 0 if `ring` is NULL (recorded as a failure for
/// `rl_last_error`). Safe concurrently with other `const rl_ring *` calls.
#[no_mangle]
pub extern "C" fn rl_ring_table_size(ring: *const rl_ring) -> u32 {
    boundary::value("rl_ring_table_size", 0, || {
        // SAFETY: `ring` is NULL or a live ring not being mutated (header).
        Ok(unsafe { rl_ring::from_ptr(ring) }?.ring.table_size())
    })
}

#[cfg(test)]
mod tests {
    use super::super::inspect::rl_ring_algorithm;
    use super::super::{rl_ring_free, RL_ALGORITHM_JUMP, RL_ALGORITHM_MAGLEV};
    use super::*;
    use crate::error::{RL_ERR_INVALID_ARGUMENT, RL_OK};

    fn new(o: Option<rl_ring_options>) -> (rl_status, *mut rl_ring) {
        let mut r = std::ptr::null_mut();
        let p = o.as_ref().map_or(std::ptr::null(), |o| o as *const _);
        (rl_ring_new_with_options(p, &mut r), r)
    }

    #[test]
    fn options_make_rings_and_bad_options_are_refused() {
        let o = |algorithm, vnodes, table_size| {
            Some(rl_ring_options {
                algorithm,
                vnodes,
                table_size,
            })
        };
        for (opts, algo, size) in [
            (None, RL_ALGORITHM_XXH3, 0),
            (o(0, 0, 0), RL_ALGORITHM_XXH3, 0),
            (o(RL_ALGORITHM_MAGLEV, 0, 0), RL_ALGORITHM_MAGLEV, 65_537),
            (o(RL_ALGORITHM_MAGLEV, 0, 101), RL_ALGORITHM_MAGLEV, 101),
        ] {
            let (s, r) = new(opts);
            assert_eq!(s, RL_OK);
            assert_eq!(rl_ring_algorithm(r), algo);
            assert_eq!(rl_ring_table_size(r), size);
            rl_ring_free(r);
        }
        for bad in [
            o(RL_ALGORITHM_MAGLEV, 0, 100),
            o(RL_ALGORITHM_MAGLEV, 0, 67_108_879),
            o(RL_ALGORITHM_MAGLEV, 160, 0),
            o(RL_ALGORITHM_JUMP, 0, 101),
            o(99, 0, 0),
        ] {
            let (s, r) = new(bad);
            assert_eq!(s, RL_ERR_INVALID_ARGUMENT);
            assert!(r.is_null());
        }
        let none: Option<rl_ring_options> = None;
        let p = none.as_ref().map_or(std::ptr::null(), |o| o as *const _);
        assert_eq!(
            rl_ring_new_with_options(p, std::ptr::null_mut()),
            RL_ERR_INVALID_ARGUMENT
        );
        assert_eq!(rl_ring_table_size(std::ptr::null()), 0);
    }
}
