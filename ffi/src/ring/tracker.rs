//! `rl_tracker`: a load tracker — bounded-load placement with the loads kept
//! by the library. Thread-safe: every call but `rl_tracker_free` may run
//! concurrently on one tracker.

use super::rl_ring;
use crate::args;
use crate::boundary::{self, internal, invalid, Result};
use crate::error::rl_status;
use ringlock_core::LoadTracker;
use std::ffi::{c_char, c_void, CString};

/// A load tracker (opaque): counts the work in flight on each node of a copy
/// of a ring, and places keys on nodes under bounded loads. Created by
/// `rl_tracker_new`, released by `rl_tracker_free`.
///
/// Thread-safe: `rl_tracker_acquire`, `rl_tracker_release` and
/// `rl_tracker_load` may run concurrently from any number of threads on one
/// tracker; an acquire chooses and counts atomically, so no node ever takes a
/// slot above the cap. Only `rl_tracker_free` needs exclusive access.
pub struct rl_tracker {
    tracker: LoadTracker,
    /// `names[id]`: the NUL-terminated name of node `id`, never rebuilt (the
    /// tracker's ring never changes), so borrowed names live as long as the
    /// tracker.
    names: Vec<CString>,
}

impl rl_tracker {
    /// # Safety
    /// `p` is NULL or a live tracker that nobody frees during `'a`. Other
    /// threads may use it at the same time: only shared access is made.
    unsafe fn from_ptr<'a>(p: *const rl_tracker) -> Result<&'a rl_tracker> {
        // SAFETY: the caller guarantees NULL or a live tracker; `LoadTracker`
        // is Sync and `names` is never written after creation, so a shared
        // reference may coexist with other threads' ones.
        unsafe { p.as_ref() }.ok_or_else(|| invalid("tracker is NULL"))
    }
}

/// Creates a load tracker over a copy of `ring` (later changes to `ring` do
/// not reach it: make a new tracker after a change of membership), with the
/// balance factor `factor` (finite and above 1; 1.25 is the usual choice) and
/// every load 0; stores it in `*out`. Free it with `rl_tracker_free`.
///
/// Returns `RL_OK`, `RL_ERR_EMPTY_RING` (`ring` has no nodes) or
/// `RL_ERR_INVALID_ARGUMENT` (`ring` or `out` NULL, `factor` NaN, infinite or
/// <= 1). `*out` is written only on success. Safe concurrently with other
/// `const rl_ring *` calls on `ring`.
#[no_mangle]
pub extern "C" fn rl_tracker_new(
    ring: *const rl_ring,
    factor: f64,
    out: *mut *mut rl_tracker,
) -> rl_status {
    boundary::status("rl_tracker_new", || {
        // SAFETY: `ring` is NULL or a live ring not being mutated (header).
        let r = unsafe { rl_ring::from_ptr(ring) }?;
        // SAFETY: `out` is NULL or writable (header contract).
        let out = unsafe { args::out(out, "out") }?;
        let tracker = LoadTracker::new(&r.ring, factor)?;
        r.check_names()?;
        let t = Box::new(rl_tracker {
            tracker,
            names: r.names.clone(),
        });
        out.write(Box::into_raw(t));
        Ok(())
    })
}

/// Takes a slot for the key `key[0..key_len]` on the node chosen by
/// bounded-load placement over the tracker's current loads (as
/// `rl_ring_get_bounded` would choose), and stores that node's name in
/// `*node`. Release the slot with `rl_tracker_release(tracker, *node)` when
/// the work is done. `key` may be NULL only when `key_len` is 0.
///
/// `*node` is borrowed from the tracker: valid until `rl_tracker_free`. Do
/// not free it.
///
/// Returns `RL_OK` or `RL_ERR_INVALID_ARGUMENT` (`tracker` or `node` NULL,
/// `key` NULL with `key_len` > 0, 2^64 - 1 slots held already). `*node` is
/// written, and a slot taken, only on success. Thread-safe.
#[no_mangle]
pub extern "C" fn rl_tracker_acquire(
    tracker: *mut rl_tracker,
    key: *const c_void,
    key_len: usize,
    node: *mut *const c_char,
) -> rl_status {
    boundary::status("rl_tracker_acquire", || {
        // SAFETY: `tracker` is NULL or a live tracker (header contract).
        let t = unsafe { rl_tracker::from_ptr(tracker) }?;
        // SAFETY: `key` is NULL or `key_len` readable bytes (header contract).
        let key = unsafe { args::bytes(key, key_len, "key") }?;
        // SAFETY: `node` is NULL or writable (header contract).
        let node = unsafe { args::out(node, "node") }?;
        if t.names.len() != t.tracker.ring().len() {
            return Err(internal("node names out of step with the tracker"));
        }
        let id = t.tracker.acquire_id(key)?;
        node.write(t.names[id].as_ptr());
        Ok(())
    })
}

/// Gives back one slot of node `node` (a name, NUL-terminated UTF-8; any
/// pointer to an equal string will do, not only one `rl_tracker_acquire`
/// gave).
///
/// Returns `RL_OK`, `RL_ERR_NOT_FOUND` (not a node of the tracker's ring) or
/// `RL_ERR_INVALID_ARGUMENT` (`tracker` or `node` NULL, `node` not UTF-8, the
/// node holds no slot). Nothing changes on failure. Thread-safe.
#[no_mangle]
pub extern "C" fn rl_tracker_release(tracker: *mut rl_tracker, node: *const c_char) -> rl_status {
    boundary::status("rl_tracker_release", || {
        // SAFETY: `tracker` is NULL or a live tracker (header contract).
        let t = unsafe { rl_tracker::from_ptr(tracker) }?;
        // SAFETY: `node` is NULL or a NUL-terminated string (header contract).
        let name = unsafe { args::name(node, "node") }?;
        t.tracker.release(name)
    })
}

/// Stores in `*load` the number of slots node `node` holds now (a snapshot:
/// other threads may change it at once).
///
/// Returns `RL_OK`, `RL_ERR_NOT_FOUND` (not a node of the tracker's ring) or
/// `RL_ERR_INVALID_ARGUMENT` (a pointer NULL, `node` not UTF-8). `*load` is
/// written only on success. Thread-safe.
#[no_mangle]
pub extern "C" fn rl_tracker_load(
    tracker: *const rl_tracker,
    node: *const c_char,
    load: *mut u64,
) -> rl_status {
    boundary::status("rl_tracker_load", || {
        // SAFETY: `tracker` is NULL or a live tracker (header contract).
        let t = unsafe { rl_tracker::from_ptr(tracker) }?;
        // SAFETY: `node` is NULL or a NUL-terminated string (header contract).
        let name = unsafe { args::name(node, "node") }?;
        // SAFETY: `load` is NULL or writable (header contract).
        let load = unsafe { args::out(load, "load") }?;
        load.write(t.tracker.load(name)?);
        Ok(())
    })
}

/// Frees a tracker made by `rl_tracker_new`; NULL is a no-op. Every name
/// borrowed from it becomes invalid. Needs exclusive access; do not free a
/// tracker twice. The ring it was made from is not affected.
#[no_mangle]
pub extern "C" fn rl_tracker_free(tracker: *mut rl_tracker) {
    boundary::value("rl_tracker_free", (), || {
        if !tracker.is_null() {
            // SAFETY: non-NULL, so (header contract) a pointer this library
            // made with Box::into_raw and has not freed yet, used by nobody else.
            drop(unsafe { Box::from_raw(tracker) });
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{RL_ERR_EMPTY_RING, RL_ERR_INVALID_ARGUMENT, RL_ERR_NOT_FOUND, RL_OK};
    use crate::ring::{mutate::rl_ring_add, rl_ring_free, rl_ring_new, RL_ALGORITHM_XXH3};
    use std::ffi::CStr;
    use std::ptr::{null, null_mut};

    #[test]
    fn life_cycle() {
        let mut ring = null_mut();
        assert_eq!(rl_ring_new(RL_ALGORITHM_XXH3, 0, &mut ring), RL_OK);
        let mut t = null_mut();
        assert_eq!(rl_tracker_new(ring, 1.25, &mut t), RL_ERR_EMPTY_RING);
        assert_eq!(rl_ring_add(ring, c"a".as_ptr(), 1), RL_OK);
        assert_eq!(rl_tracker_new(ring, 0.5, &mut t), RL_ERR_INVALID_ARGUMENT);
        assert!(t.is_null());
        assert_eq!(rl_tracker_new(ring, 1.25, &mut t), RL_OK);
        rl_ring_free(ring); // the tracker has its own copy
        let mut node = null();
        assert_eq!(
            rl_tracker_acquire(t, b"k".as_ptr().cast(), 1, &mut node),
            RL_OK
        );
        // SAFETY: a name borrowed from a live tracker.
        assert_eq!(unsafe { CStr::from_ptr(node) }, c"a");
        let mut load = 0;
        assert_eq!(rl_tracker_load(t, c"a".as_ptr(), &mut load), RL_OK);
        assert_eq!(load, 1);
        assert_eq!(
            rl_tracker_load(t, c"b".as_ptr(), &mut load),
            RL_ERR_NOT_FOUND
        );
        assert_eq!(rl_tracker_release(t, node), RL_OK);
        assert_eq!(rl_tracker_release(t, node), RL_ERR_INVALID_ARGUMENT);
        assert_eq!(rl_tracker_release(t, null()), RL_ERR_INVALID_ARGUMENT);
        rl_tracker_free(t);
        rl_tracker_free(null_mut());
    }
}
