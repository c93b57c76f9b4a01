//! `rl_shared_ring`: a ring published into a file, mapped and looked up in
//! place. The handle, publish, open, close and what it tells about itself.

// Lookups, then bounded loads, in the header (a blank line keeps rustfmt
// from sorting).
mod lookup;

mod bounded;

use crate::args;
use crate::boundary::{self, invalid, Result};
use crate::error::rl_status;
use crate::ring::{ring_of, rl_ring};
use ringlock_core::SharedRing;
use std::ffi::c_char;

/// A handle on a published ring (opaque), mapped read-only. Created by
/// `rl_shared_ring_open`, released by `rl_shared_ring_close`.
///
/// Every call on a handle may switch it to a newer generation, so a handle is
/// used by one thread at a time (no two calls on it at once); open one handle
/// per thread — handles of one process or many share the same pages.
pub struct rl_shared_ring {
    ring: SharedRing,
}

impl rl_shared_ring {
    /// # Safety
    /// `p` is NULL or a live handle that nothing else uses during `'a`.
    unsafe fn from_ptr<'a>(p: *mut rl_shared_ring) -> Result<&'a mut rl_shared_ring> {
        // SAFETY: the caller guarantees NULL or a live handle, exclusively ours.
        unsafe { p.as_mut() }.ok_or_else(|| invalid("shared ring is NULL"))
    }

    /// The NUL-terminated name of node `id` of the generation held.
    #[inline]
    fn name_ptr(&self, id: usize) -> Result<*const c_char> {
        self.ring
            .name_ptr(id)
            .map(|p| p.cast())
            .ok_or_else(|| boundary::internal("node id out of range"))
    }
}

/// Publishes `ring` at `path` as a new generation of the shared ring there;
/// stores the generation's number in `*generation` if it is not NULL.
///
/// `path` without a `/` is a name in the calling user's default directory
/// (`/dev/shm/ringlock-<uid>/`, tmpfs, 0700); any other path names the ring
/// file itself, whose directory is created 0700 if missing. Beside it sit
/// `path.gen` (the generation word) and the publishers' lock
/// `path.publish.shm`; all three are 0600 and symlinks are never followed.
/// The first publish to a path is generation 1, each later one the next
/// number, whichever process publishes: publishers of one path are
/// serialised by a ringlock lock (this call blocks while another publishes).
/// Readers never see a partly written generation, and a publisher killed at
/// any point leaves the last complete generation readable.
///
/// Returns `RL_OK`, `RL_ERR_INVALID_ARGUMENT` (`ring` or `path` NULL, `path`
/// empty, not UTF-8 or a bad name, a symlink), `RL_ERR_CORRUPT` (`path.gen`
/// is not a generation file) or `RL_ERR_IO`. Reads `ring` only: safe
/// concurrently with other `const rl_ring *` calls.
#[no_mangle]
pub extern "C" fn rl_shared_ring_publish(
    ring: *const rl_ring,
    path: *const c_char,
    generation: *mut u64,
) -> rl_status {
    boundary::status("rl_shared_ring_publish", || {
        // SAFETY: `ring` is NULL or a live ring not being mutated (header).
        let r = unsafe { ring_of(ring) }?;
        // SAFETY: `path` is NULL or a NUL-terminated string (header).
        let path = unsafe { args::path(path, "path") }?;
        // SAFETY: `generation` is NULL or writable (header).
        let out = unsafe { args::out_opt(generation, "generation") }?;
        let g = SharedRing::publish(r, path)?;
        if let Some(out) = out {
            out.write(g);
        }
        Ok(())
    })
}

/// Opens the shared ring published at `path` (as for
/// `rl_shared_ring_publish`) and stores a handle in `*out`; close it with
/// `rl_shared_ring_close`. The ring file is validated once (header,
/// checksum, every section) and mapped read-only; lookups read it in place.
///
/// Returns `RL_OK`, `RL_ERR_NOT_FOUND` (nothing published there),
/// `RL_ERR_INVALID_ARGUMENT` (`path` or `out` NULL, a bad name, a symlink),
/// `RL_ERR_CORRUPT` (truncated, garbage, another version, a bad checksum,
/// inconsistent contents) or `RL_ERR_IO`. `*out` is written only on success.
/// Thread-safe: each handle is the caller's alone (open one per thread).
#[no_mangle]
pub extern "C" fn rl_shared_ring_open(
    path: *const c_char,
    out: *mut *mut rl_shared_ring,
) -> rl_status {
    boundary::status("rl_shared_ring_open", || {
        // SAFETY: `path` is NULL or a NUL-terminated string (header).
        let path = unsafe { args::path(path, "path") }?;
        // SAFETY: `out` is NULL or writable (header).
        let out = unsafe { args::out(out, "out") }?;
        let ring = SharedRing::open(path)?;
        out.write(Box::into_raw(Box::new(rl_shared_ring { ring })));
        Ok(())
    })
}

/// Stores in `*generation` the generation the handle answers from, after
/// taking up a newer one if it was published (as every lookup does). A
/// handle's generation never goes backwards.
///
/// Names returned by earlier calls on `ring` may be invalid after this call
/// (see `rl_shared_ring_get`).
///
/// Returns `RL_OK`, `RL_ERR_INVALID_ARGUMENT` (a pointer NULL), or the error
/// of a failed switch (`RL_ERR_CORRUPT`, `RL_ERR_NOT_FOUND`, `RL_ERR_IO`:
/// the handle keeps its generation). Not concurrently with other calls on
/// the same handle.
#[no_mangle]
pub extern "C" fn rl_shared_ring_generation(
    ring: *mut rl_shared_ring,
    generation: *mut u64,
) -> rl_status {
    boundary::status("rl_shared_ring_generation", || {
        // SAFETY: `ring` is NULL or a live handle used by this thread only (header).
        let r = unsafe { rl_shared_ring::from_ptr(ring) }?;
        // SAFETY: `generation` is NULL or writable (header).
        let out = unsafe { args::out(generation, "generation") }?;
        out.write(r.ring.generation()?);
        Ok(())
    })
}

/// Stores in `*count` the number of nodes of the generation the handle
/// answers from (after taking up a newer one, as `rl_shared_ring_generation`).
///
/// Returns `RL_OK`, `RL_ERR_INVALID_ARGUMENT` (a pointer NULL), or the error
/// of a failed switch. Not concurrently with other calls on the same handle.
#[no_mangle]
pub extern "C" fn rl_shared_ring_node_count(
    ring: *mut rl_shared_ring,
    count: *mut usize,
) -> rl_status {
    boundary::status("rl_shared_ring_node_count", || {
        // SAFETY: `ring` is NULL or a live handle used by this thread only (header).
        let r = unsafe { rl_shared_ring::from_ptr(ring) }?;
        // SAFETY: `count` is NULL or writable (header).
        let out = unsafe { args::out(count, "count") }?;
        out.write(r.ring.node_count()?);
        Ok(())
    })
}

/// Enumerates the nodes of the generation the handle holds, without looking
/// for a newer one: node `index` (0 <= `index` < the node count) in byte
/// order of the names — the order of the loads of `rl_shared_ring_get_bounded`.
/// Stores its name in `*name` and its weight in `*weight`.
///
/// `*name` lives in the mapping: valid until the next call on `ring` or
/// `rl_shared_ring_close` (see `rl_shared_ring_get`). Do not free it.
///
/// Returns `RL_OK`, `RL_ERR_NOT_FOUND` (`index` past the end) or
/// `RL_ERR_INVALID_ARGUMENT` (a pointer NULL). Outputs are written only on
/// success. Not concurrently with other calls on the same handle.
#[no_mangle]
pub extern "C" fn rl_shared_ring_node(
    ring: *mut rl_shared_ring,
    index: usize,
    name: *mut *const c_char,
    weight: *mut u32,
) -> rl_status {
    boundary::status("rl_shared_ring_node", || {
        // SAFETY: `ring` is NULL or a live handle used by this thread only (header).
        let r = unsafe { rl_shared_ring::from_ptr(ring) }?;
        // SAFETY: `name` is NULL or writable (header).
        let name = unsafe { args::out(name, "name") }?;
        // SAFETY: `weight` is NULL or writable (header).
        let weight = unsafe { args::out(weight, "weight") }?;
        let Some((_, w)) = r.ring.node(index) else {
            return Err(ringlock_core::Error::new(
                ringlock_core::ErrorKind::NotFound,
                format!("node index {index} is past the end"),
            ));
        };
        name.write(r.name_ptr(index)?);
        weight.write(w);
        Ok(())
    })
}

/// Closes a handle: unmaps its generation and frees it. Names it returned
/// become invalid. NULL is a no-op. Not concurrently with other calls on
/// the same handle.
#[no_mangle]
pub extern "C" fn rl_shared_ring_close(ring: *mut rl_shared_ring) {
    boundary::value("rl_shared_ring_close", (), || {
        if !ring.is_null() {
            // SAFETY: non-NULL `ring` came from rl_shared_ring_open and is
            // closed once, with no other call on it running (header).
            drop(unsafe { Box::from_raw(ring) });
        }
        Ok(())
    })
}
