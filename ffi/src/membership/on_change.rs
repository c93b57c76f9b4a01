//! `rl_ring_watcher_open_with_callback`: a watcher that hands each new ring,
//! with the migration plan from the ring before it, to a C callback on the
//! watcher's thread (`ringlock::etcd::Watcher::with_callback`).

use super::watcher::{options_of, rl_ring_watcher, rl_ring_watcher_options};
use crate::args;
use crate::boundary::{self, Result};
use crate::error::rl_status;
use crate::ring::diff::{pack, rl_move, rl_moves_free};
use crate::ring::{self, rl_ring, rl_ring_free, rl_ring_options};
use ringlock_core::etcd::{Change, Watcher};
use std::ffi::{c_char, c_void};

/// One change of a watched ring, as the callback of
/// `rl_ring_watcher_open_with_callback` gets it.
///
/// Everything it points to is borrowed for the duration of the callback
/// only: the rings and the moves are freed when the callback returns. To
/// keep a ring, copy it (`rl_ring_clone`); to keep the plan, copy the
/// records and the names they point to, or compute it again later with
/// `rl_ring_diff` on rings you kept. Do not free or mutate anything here.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct rl_ring_change {
    /// The etcd revision of the ring before.
    pub before_revision: u64,
    /// The etcd revision of the ring now current.
    pub revision: u64,
    /// The ring before the change (read-only, borrowed).
    pub before: *const rl_ring,
    /// The ring now current (read-only, borrowed): what
    /// `rl_ring_watcher_current` returns from now on.
    pub after: *const rl_ring,
    /// Whether a plan is given: false for jump rings, which place keys by
    /// bucket number and have no key positions (`rl_ring_diff` refuses
    /// them too); compare the rings' nodes instead.
    pub has_plan: bool,
    /// The migration plan, exactly `rl_ring_diff(before, after)`: the ranges
    /// of key positions whose owner changed, with the old and new owner;
    /// `move_count` records. NULL when `has_plan` is false.
    pub moves: *const rl_move,
    /// The number of records in `moves` (0 without a plan).
    pub move_count: usize,
    /// The share of the key space that moves (0 to 1; 0 without a plan).
    pub fraction: f64,
    /// Whether the change was found by listing the members again (after a
    /// compacted history or a broken watch) rather than from watch events.
    pub relisted: bool,
}

/// The callback of `rl_ring_watcher_open_with_callback`: `change` and what
/// it points to are valid until the callback returns; `user_data` is the
/// pointer given at open.
pub type rl_ring_change_fn =
    Option<unsafe extern "C" fn(change: *const rl_ring_change, user_data: *mut c_void)>;

/// The C callback and its `user_data`, moved to the watcher's thread.
struct Target {
    on_change: unsafe extern "C" fn(*const rl_ring_change, *mut c_void),
    user_data: *mut c_void,
}

// SAFETY: the header makes the caller promise that `user_data` may be used
// from the watcher's thread while the watcher is open; the function pointer
// is plain code.
unsafe impl Send for Target {}

impl Target {
    /// Calls the C callback with `change` as borrowed C values, freed after.
    fn call(&self, change: &Change) -> Result<()> {
        let before = Owned::ring(ring::into_handle(change.before.ring().clone())?);
        let after = Owned::ring(ring::into_handle(change.after.ring().clone())?);
        let moves = match &change.plan {
            Some(plan) => Some((Owned::moves(pack(plan)?), plan.moves.len(), plan.fraction())),
            None => None,
        };
        let c = rl_ring_change {
            before_revision: change.before.revision(),
            revision: change.after.revision(),
            before: before.0.cast_const().cast(),
            after: after.0.cast_const().cast(),
            has_plan: moves.is_some(),
            moves: moves
                .as_ref()
                .map_or(std::ptr::null(), |(m, _, _)| m.0.cast_const().cast()),
            move_count: moves.as_ref().map_or(0, |(_, n, _)| *n),
            fraction: moves.as_ref().map_or(0.0, |(_, _, f)| *f),
            relisted: change.relisted,
        };
        // SAFETY: a C function the caller registered (header contract: it
        // may run on the watcher's thread with this `user_data`); `c` and
        // what it points to live until after it returns.
        unsafe { (self.on_change)(&c, self.user_data) };
        Ok(())
    }
}

/// A ring or moves array made for one callback, freed when dropped (after
/// the callback returned) by the function paired with it.
struct Owned(*mut c_void, fn(*mut c_void));

impl Owned {
    /// `p` from `ring::into_handle`.
    fn ring(p: *mut rl_ring) -> Owned {
        Owned(p.cast(), |p| rl_ring_free(p.cast()))
    }

    /// `p` from `pack`.
    fn moves(p: *mut rl_move) -> Owned {
        Owned(p.cast(), |p| rl_moves_free(p.cast()))
    }
}

impl Drop for Owned {
    fn drop(&mut self) {
        (self.1)(self.0)
    }
}

/// `rl_ring_watcher_open`, and `on_change(change, user_data)` called after
/// each change of the ring (not for the first ring, which the open returns
/// with): each new ring comes with the migration plan from the ring before
/// it, `rl_ring_change`. The watcher's other calls are as for
/// `rl_ring_watcher_open`; close it with `rl_ring_watcher_close`, after
/// which the callback is never called again.
///
/// The callback runs on the watcher's background thread, one change at a
/// time, in revision order, after the swap: `rl_ring_watcher_current` from
/// another thread already returns the new ring, and a thread blocked in
/// `rl_ring_watcher_wait` may wake before or while it runs. Every change the
/// watcher applies is handed over: when events follow each other within
/// `coalesce_ms` they make one change. Constraints: the callback must not
/// call `rl_ring_watcher_close` on this watcher (a deadlock: close waits for
/// the thread) and should not call back into it at all; it must not block
/// long — the watcher waits for it, so the next ring is delayed meanwhile
/// (the changes in between coalesce into one); it must not unwind (a C++
/// exception escaping it aborts the process). `user_data` (may be NULL) is
/// passed as given; the caller keeps it valid, and usable from that thread,
/// until `rl_ring_watcher_close` returns. Each call allocates a copy of both
/// rings and the plan (freed when it returns); if that fails (out of
/// memory) that change's callback is skipped.
///
/// Returns as `rl_ring_watcher_open`, and `RL_ERR_INVALID_ARGUMENT` when
/// `on_change` is NULL. `*out` is written only on success. Thread-safe.
#[allow(clippy::too_many_arguments)] // the C signature: open's, plus the callback
#[no_mangle]
pub extern "C" fn rl_ring_watcher_open_with_callback(
    endpoints: *const *const c_char,
    endpoint_count: usize,
    ring: *const c_char,
    ring_options: *const rl_ring_options,
    options: *const rl_ring_watcher_options,
    on_change: rl_ring_change_fn,
    user_data: *mut c_void,
    out: *mut *mut rl_ring_watcher,
) -> rl_status {
    boundary::status("rl_ring_watcher_open_with_callback", || {
        let on_change = on_change.ok_or_else(|| {
            crate::boundary::invalid("on_change is NULL; use rl_ring_watcher_open without one")
        })?;
        // SAFETY: `endpoints` is NULL or an array of `endpoint_count`
        // strings (header contract).
        let endpoints = unsafe { super::endpoints(endpoints, endpoint_count) }?;
        // SAFETY: both are NULL or readable structs of their type (header).
        let options = unsafe { options_of(ring_options, options) }?;
        // SAFETY: `ring` is NULL or a NUL-terminated string (header).
        let ring = unsafe { args::name(ring, "ring") }?;
        // SAFETY: `out` is NULL or writable (header contract).
        let out = unsafe { args::out(out, "out") }?;
        let target = Target {
            on_change,
            user_data,
        };
        let watcher = Watcher::with_callback(&endpoints, ring, &options, move |change| {
            // out of memory: this change's callback is skipped (documented)
            let _ = target.call(change);
        })?;
        out.write(Box::into_raw(Box::new(rl_ring_watcher { watcher })));
        Ok(())
    })
}
