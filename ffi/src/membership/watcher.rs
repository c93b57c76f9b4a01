//! `rl_ring_watcher`: follows a ring's members in etcd into rings stamped
//! with their etcd revision (`ringlock::etcd::Watcher`). Rings are handed out
//! as copies the caller owns.

use super::{c_string, endpoints, millis_or, namespace};
use crate::args;
use crate::boundary::{self, invalid, Result};
use crate::error::rl_status;
use crate::ring::{self, rl_ring, rl_ring_options};
use ringlock_core::etcd::{Placement, WatchOptions, Watcher};
use ringlock_core::{Error, ErrorKind};
use std::ffi::c_char;
use std::mem::MaybeUninit;
use std::time::Duration;

/// How `rl_ring_watcher_open` reaches etcd. A zero-initialised struct
/// (`rl_ring_watcher_options o = {0};`) means the defaults, as does passing
/// NULL.
///
/// The library reads it during the call only and keeps no pointer into it.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct rl_ring_watcher_options {
    /// The key prefix the members registered under (their
    /// `rl_member_options.etcd_namespace`), NUL-terminated; NULL means
    /// "ringlock".
    pub etcd_namespace: *const c_char,
    /// The bound of each list request (the first one, in
    /// `rl_ring_watcher_open`, and those after a compaction), in
    /// milliseconds; 0 means 5000.
    pub request_timeout_ms: u32,
    /// Watch events that follow each other within this many milliseconds
    /// build one ring (for at most 10 times this after the first); 0 means
    /// 10.
    pub coalesce_ms: u32,
}

/// Follows one ring's members in etcd (opaque). Created by
/// `rl_ring_watcher_open`; released by `rl_ring_watcher_close`.
///
/// A background thread lists the members, builds the ring (members sorted
/// by node id, so every watcher that has seen the same members holds an
/// identical ring), then follows etcd's watch and swaps in a new placement
/// after each change; a broken connection or a compacted history never
/// loses a change (it lists again). Each placement is stamped with its etcd
/// revision: two watchers that report the same revision hold the same ring.
///
/// Thread-safe: `rl_ring_watcher_current`, `rl_ring_watcher_wait`,
/// `rl_ring_watcher_revision` and `rl_ring_watcher_addr` may run
/// concurrently from any number of threads. Only `rl_ring_watcher_close`
/// needs exclusive access (no call on the watcher may be running, a wait
/// included). A forked child's copy does not follow: it keeps the
/// placement it had at the fork.
pub struct rl_ring_watcher {
    pub(super) watcher: Watcher,
}

impl rl_ring_watcher {
    /// # Safety
    /// `p` is NULL or a live handle that nobody closes during `'a`.
    unsafe fn from_ptr<'a>(p: *const rl_ring_watcher) -> Result<&'a rl_ring_watcher> {
        // SAFETY: the caller guarantees NULL or a live handle; `Watcher` is
        // Sync, so shared references may coexist across threads.
        unsafe { p.as_ref() }.ok_or_else(|| invalid("watcher is NULL"))
    }
}

/// # Safety
/// `ring_options` is NULL or a readable `rl_ring_options`; `options` is NULL
/// or a readable `rl_ring_watcher_options` whose `etcd_namespace` is NULL or
/// a NUL-terminated string.
pub(super) unsafe fn options_of(
    ring_options: *const rl_ring_options,
    options: *const rl_ring_watcher_options,
) -> Result<WatchOptions> {
    let defaults = WatchOptions::default();
    // SAFETY: forwarded from the caller.
    let (algorithm, vnodes, table_size) = unsafe { ring::config_of(ring_options) }?;
    // SAFETY: forwarded from the caller.
    let o = unsafe { args::opt_ref(options, "options") }?;
    let (ns, timeout_ms, coalesce_ms) = o.map_or((std::ptr::null(), 0, 0), |o| {
        (o.etcd_namespace, o.request_timeout_ms, o.coalesce_ms)
    });
    Ok(WatchOptions {
        algorithm,
        vnodes,
        table_size,
        // SAFETY: NULL or a NUL-terminated string (caller).
        namespace: unsafe { namespace(ns, "options->etcd_namespace") }?,
        request_timeout: millis_or(timeout_ms, defaults.request_timeout),
        coalesce: millis_or(coalesce_ms, defaults.coalesce),
    })
}

/// Lists the members of ring `ring` in the etcd cluster at `endpoints`,
/// builds their ring and starts following them; stores the new watcher in
/// `*out`. Close it with `rl_ring_watcher_close`.
///
/// `endpoints`, `endpoint_count` and `ring` as for `rl_member_join`.
/// `ring_options` chooses the algorithm, vnodes and maglev's table size as
/// for `rl_ring_new_with_options` (NULL: xxh3 with 160 vnodes); every
/// watcher of one ring should use the same, so that they place keys alike.
/// `options` may be NULL for the defaults (see `rl_ring_watcher_options`).
///
/// When this returns `RL_OK` the watcher holds the ring of the members at
/// the list's revision (possibly empty). Blocks for up to
/// `request_timeout_ms`. Returns `RL_OK`, `RL_ERR_INVALID_ARGUMENT` (a
/// pointer NULL, no endpoint, a malformed endpoint, a bad ring name, ring
/// options or namespace) or `RL_ERR_UNAVAILABLE` (etcd did not answer the
/// list in time). `*out` is written only on success. Thread-safe.
#[no_mangle]
pub extern "C" fn rl_ring_watcher_open(
    endpoints: *const *const c_char,
    endpoint_count: usize,
    ring: *const c_char,
    ring_options: *const rl_ring_options,
    options: *const rl_ring_watcher_options,
    out: *mut *mut rl_ring_watcher,
) -> rl_status {
    boundary::status("rl_ring_watcher_open", || {
        // SAFETY: `endpoints` is NULL or an array of `endpoint_count`
        // strings (header contract).
        let endpoints = unsafe { self::endpoints(endpoints, endpoint_count) }?;
        // SAFETY: both are NULL or readable structs of their type (header).
        let options = unsafe { options_of(ring_options, options) }?;
        // SAFETY: `ring` is NULL or a NUL-terminated string (header).
        let ring = unsafe { args::name(ring, "ring") }?;
        // SAFETY: `out` is NULL or writable (header contract).
        let out = unsafe { args::out(out, "out") }?;
        let watcher = Watcher::start(&endpoints, ring, &options)?;
        out.write(Box::into_raw(Box::new(rl_ring_watcher { watcher })));
        Ok(())
    })
}

/// Writes a copy of `placement`'s ring to `ring` and its revision to
/// `revision` (either may be absent).
fn hand_out(
    placement: &Placement,
    ring: Option<&mut MaybeUninit<*mut rl_ring>>,
    revision: Option<&mut MaybeUninit<u64>>,
) -> Result<()> {
    if let Some(ring) = ring {
        ring.write(ring::into_handle(placement.ring().clone())?);
    }
    if let Some(revision) = revision {
        revision.write(placement.revision());
    }
    Ok(())
}

/// Stores a copy of the watcher's current ring in `*ring` and its revision
/// (the etcd revision whose members built it) in `*revision`.
///
/// The ring is a new, independent `rl_ring` that the caller owns: free it
/// with `rl_ring_free`. It does not follow later changes (call again, or
/// `rl_ring_watcher_wait`, for a newer one); it may be used after the
/// watcher is closed. Copying costs one copy of the ring's table: keep it
/// for a run of lookups rather than copying per key. `revision` may be
/// NULL; `ring` may be NULL to read the revision alone.
///
/// Returns `RL_OK`, `RL_ERR_INVALID_ARGUMENT` (`watcher` NULL) or
/// `RL_ERR_IO` (out of memory). Outputs are written only on success.
/// Thread-safe.
#[no_mangle]
pub extern "C" fn rl_ring_watcher_current(
    watcher: *const rl_ring_watcher,
    ring: *mut *mut rl_ring,
    revision: *mut u64,
) -> rl_status {
    boundary::status("rl_ring_watcher_current", || {
        // SAFETY: `watcher` is NULL or a live handle (header contract).
        let w = unsafe { rl_ring_watcher::from_ptr(watcher) }?;
        // SAFETY: `ring` is NULL or writable (header contract).
        let ring = unsafe { args::out_opt(ring, "ring") }?;
        // SAFETY: `revision` is NULL or writable (header contract).
        let revision = unsafe { args::out_opt(revision, "revision") }?;
        hand_out(&w.watcher.current(), ring, revision)
    })
}

/// The revision of the watcher's current placement; 0 if `watcher` is NULL
/// (recorded for `rl_last_error`). Thread-safe.
#[no_mangle]
pub extern "C" fn rl_ring_watcher_revision(watcher: *const rl_ring_watcher) -> u64 {
    boundary::value("rl_ring_watcher_revision", 0, || {
        // SAFETY: `watcher` is NULL or a live handle (header contract).
        Ok(unsafe { rl_ring_watcher::from_ptr(watcher) }?
            .watcher
            .current()
            .revision())
    })
}

/// Waits until the watcher's placement has a revision above
/// `after_revision`, then stores a copy of its ring in `*ring` and its
/// revision in `*revision`, as `rl_ring_watcher_current` does (both may be
/// NULL). Pass the revision of the ring you hold to wait for the next one.
///
/// `timeout_ms`: -1 waits for ever, 0 does not wait (returns at once), a
/// positive value waits at most that many milliseconds (one too large for
/// the clock waits for ever). A newer placement present already returns at
/// once.
///
/// Returns `RL_OK`, `RL_ERR_TIMEOUT` (no newer placement in time),
/// `RL_ERR_INVALID_ARGUMENT` (`watcher` NULL, `timeout_ms` below -1) or
/// `RL_ERR_IO` (out of memory). Outputs are written only on success.
/// Thread-safe; blocks only the calling thread.
#[no_mangle]
pub extern "C" fn rl_ring_watcher_wait(
    watcher: *const rl_ring_watcher,
    after_revision: u64,
    timeout_ms: i64,
    ring: *mut *mut rl_ring,
    revision: *mut u64,
) -> rl_status {
    boundary::status("rl_ring_watcher_wait", || {
        // SAFETY: `watcher` is NULL or a live handle (header contract).
        let w = unsafe { rl_ring_watcher::from_ptr(watcher) }?;
        let timeout = match timeout_ms {
            -1 => None,
            // a bound past what a clock can hold is no bound
            ms if ms >= 0 => Some(Duration::from_millis(ms.unsigned_abs()))
                .filter(|&d| std::time::Instant::now().checked_add(d).is_some()),
            ms => {
                return Err(invalid(format!(
                    "timeout_ms is {ms}: -1 waits for ever, 0 does not wait, > 0 is a bound"
                )))
            }
        };
        // SAFETY: `ring` is NULL or writable (header contract).
        let ring = unsafe { args::out_opt(ring, "ring") }?;
        // SAFETY: `revision` is NULL or writable (header contract).
        let revision = unsafe { args::out_opt(revision, "revision") }?;
        let placement = w
            .watcher
            .wait_newer(after_revision, timeout)
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::Timeout,
                    format!(
                        "no placement newer than revision {after_revision} within {timeout_ms} ms"
                    ),
                )
            })?;
        hand_out(&placement, ring, revision)
    })
}

/// Copies the address that member `node` registered (its `addr` in
/// `rl_member_join`), NUL-terminated, into `buf`, a buffer of `cap` bytes
/// the caller owns, and stores the size written (the NUL included) in
/// `*len`. Addresses are at most 1024 bytes: a buffer of 1025 always
/// suffices. The address is read from the watcher's current placement: a node
/// that left since a ring was copied is not found.
///
/// Size query: with `buf` NULL and `cap` 0, stores the size needed (the
/// NUL included) in `*len` and returns `RL_OK`:
///
///     size_t need;
///     rl_ring_watcher_addr(w, "node-1", NULL, 0, &need);
///     char *addr = malloc(need);
///     rl_ring_watcher_addr(w, "node-1", addr, need, &need);
///
/// Returns `RL_OK`, `RL_ERR_NOT_FOUND` (`node` is not a member now) or
/// `RL_ERR_INVALID_ARGUMENT` (`watcher`, `node` or `len` NULL, `node` not
/// UTF-8, `buf` NULL with `cap` > 0, or `cap` smaller than the size needed:
/// `rl_last_error` says how many bytes are needed). `buf` and `*len` are
/// written only on success. Thread-safe.
#[no_mangle]
pub extern "C" fn rl_ring_watcher_addr(
    watcher: *const rl_ring_watcher,
    node: *const c_char,
    buf: *mut c_char,
    cap: usize,
    len: *mut usize,
) -> rl_status {
    boundary::status("rl_ring_watcher_addr", || {
        // SAFETY: `watcher` is NULL or a live handle (header contract).
        let w = unsafe { rl_ring_watcher::from_ptr(watcher) }?;
        // SAFETY: `node` is NULL or a NUL-terminated string (header).
        let node = unsafe { args::name(node, "node") }?;
        // SAFETY: `len` is NULL or writable (header contract).
        let len = unsafe { args::out(len, "len") }?;
        if buf.is_null() && cap > 0 {
            return Err(invalid(format!(
                "buf is NULL but cap is {cap}; pass NULL and 0 to ask for the size"
            )));
        }
        let placement = w.watcher.current();
        let addr = placement.addr(node).ok_or_else(|| {
            Error::new(
                ErrorKind::NotFound,
                format!(
                    "node {node:?} is not a member at revision {}",
                    placement.revision()
                ),
            )
        })?;
        let addr = c_string(addr)?;
        let bytes = addr.as_bytes_with_nul();
        if !buf.is_null() {
            if cap < bytes.len() {
                return Err(invalid(format!(
                    "buffer of {cap} bytes is too small: the address needs {} (its NUL included)",
                    bytes.len()
                )));
            }
            // SAFETY: `buf` is non-NULL and holds `cap` writable bytes
            // (header contract); we write `bytes.len()` <= `cap` of them.
            let out = unsafe { args::slice_out(buf.cast::<u8>(), bytes.len(), "buf") }?;
            for (slot, &b) in out.iter_mut().zip(bytes) {
                slot.write(b);
            }
        }
        len.write(bytes.len());
        Ok(())
    })
}

/// Stops the watcher's thread (within 100 ms, or the list request under
/// way) and frees it. Rings copied from it stay valid (they are the
/// caller's). NULL is a no-op. Needs exclusive access: no call on the
/// watcher may be running (a wait included); do not close a watcher twice.
#[no_mangle]
pub extern "C" fn rl_ring_watcher_close(watcher: *mut rl_ring_watcher) {
    boundary::value("rl_ring_watcher_close", (), || {
        if !watcher.is_null() {
            // SAFETY: non-NULL, so (header contract) a handle
            // rl_ring_watcher_open made with Box::into_raw, not freed yet,
            // used by nobody else.
            drop(unsafe { Box::from_raw(watcher) });
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{RL_ERR_INVALID_ARGUMENT, RL_ERR_UNAVAILABLE};
    use crate::ring::{RL_ALGORITHM_JUMP, RL_ALGORITHM_MAGLEV};
    use ringlock_core::Algorithm;

    fn open(
        eps: &[*const c_char],
        ring: *const c_char,
        ro: Option<rl_ring_options>,
        o: Option<rl_ring_watcher_options>,
    ) -> rl_status {
        let sentinel = std::ptr::NonNull::<rl_ring_watcher>::dangling().as_ptr();
        let mut out = sentinel;
        let rp = ro.as_ref().map_or(std::ptr::null(), |o| o as *const _);
        let p = o.as_ref().map_or(std::ptr::null(), |o| o as *const _);
        let s = rl_ring_watcher_open(eps.as_ptr(), eps.len(), ring, rp, p, &mut out);
        assert_eq!(out, sentinel, "out written on failure");
        s
    }

    #[test]
    fn bad_arguments_are_refused_before_any_network() {
        let ep = [c"http://127.0.0.1:1".as_ptr()];
        let r = c"ring".as_ptr();
        let fast = rl_ring_watcher_options {
            etcd_namespace: std::ptr::null(),
            request_timeout_ms: 200,
            coalesce_ms: 0,
        };
        let quick = Some(fast);
        let ro = |algorithm, vnodes, table_size| {
            Some(rl_ring_options {
                algorithm,
                vnodes,
                table_size,
            })
        };
        let bad_ns = Some(rl_ring_watcher_options {
            etcd_namespace: c"a//b".as_ptr(),
            ..fast
        });
        for (eps, ring, ropts, opts) in [
            (&[][..], r, None, quick),
            (&ep[..], std::ptr::null(), None, quick),
            (&ep[..], c"a/b".as_ptr(), None, quick),
            (&ep[..], r, ro(99, 0, 0), quick),
            (&ep[..], r, ro(RL_ALGORITHM_MAGLEV, 0, 100), quick),
            (&ep[..], r, ro(RL_ALGORITHM_JUMP, 160, 0), quick),
            (&ep[..], r, None, bad_ns),
        ] {
            assert_eq!(open(eps, ring, ropts, opts), RL_ERR_INVALID_ARGUMENT);
        }
        let s = rl_ring_watcher_open(
            ep.as_ptr(),
            1,
            r,
            std::ptr::null(),
            std::ptr::null(),
            std::ptr::null_mut(),
        );
        assert_eq!(s, RL_ERR_INVALID_ARGUMENT);
        assert_eq!(open(&ep, r, None, quick), RL_ERR_UNAVAILABLE);
    }

    #[test]
    fn null_handles() {
        let (mut ring, mut rev, mut len) = (std::ptr::null_mut(), 7u64, 0usize);
        let w = std::ptr::null();
        assert_eq!(
            rl_ring_watcher_current(w, &mut ring, &mut rev),
            RL_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            rl_ring_watcher_wait(w, 0, 0, &mut ring, &mut rev),
            RL_ERR_INVALID_ARGUMENT
        );
        let node = c"n".as_ptr();
        assert_eq!(
            rl_ring_watcher_addr(w, node, std::ptr::null_mut(), 0, &mut len),
            RL_ERR_INVALID_ARGUMENT
        );
        assert_eq!(rl_ring_watcher_revision(w), 0);
        assert_eq!(
            rl_ring_watcher_wait(w, 0, i64::MIN, &mut ring, &mut rev),
            RL_ERR_INVALID_ARGUMENT
        );
        assert!(ring.is_null());
        assert_eq!((rev, len), (7, 0));
        rl_ring_watcher_close(std::ptr::null_mut());
    }

    #[test]
    fn options() {
        // SAFETY: NULL is allowed for both.
        let d = unsafe { options_of(std::ptr::null(), std::ptr::null()) }.unwrap();
        assert_eq!(d, WatchOptions::default());
        let ro = rl_ring_options {
            algorithm: RL_ALGORITHM_MAGLEV,
            vnodes: 0,
            table_size: 101,
        };
        let o = rl_ring_watcher_options {
            etcd_namespace: c"ns".as_ptr(),
            request_timeout_ms: 300,
            coalesce_ms: 2,
        };
        // SAFETY: two valid structs, the namespace NUL-terminated.
        let got = unsafe { options_of(&ro, &o) }.unwrap();
        assert_eq!(
            (got.algorithm, got.vnodes, got.table_size),
            (Algorithm::Maglev, 0, 101)
        );
        assert_eq!(got.namespace, "ns");
        assert_eq!(got.request_timeout, Duration::from_millis(300));
        assert_eq!(got.coalesce, Duration::from_millis(2));
    }
}
