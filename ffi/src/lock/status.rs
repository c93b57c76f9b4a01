//! `rl_lock_status`: who holds a lock, read without taking it.

use super::{mode_code, rl_lock, rl_mode};
use crate::args;
use crate::boundary::{self, invalid, Result};
use crate::error::rl_status;
use ringlock_core::lock::{Holder, Liveness};

/// How a recorded holder's process is doing: one of the `RL_LIVENESS_*`
/// values.
pub type rl_liveness = u32;

/// Running or sleeping.
pub const RL_LIVENESS_ALIVE: rl_liveness = 1;
/// Stopped (SIGSTOP, a debugger): alive, but it will not release meanwhile.
pub const RL_LIVENESS_STOPPED: rl_liveness = 2;
/// Gone, a zombie, or its pid now belongs to another process: a holder that
/// died and has not been reaped yet (the next acquirer takes over).
pub const RL_LIVENESS_DEAD: rl_liveness = 3;

/// The most holders `rl_lock_status` ever reports: an array of this many
/// `rl_holder` is always large enough (one exclusive record and 64 shared
/// ones).
pub const RL_LOCK_MAX_HOLDERS: usize = 65;

/// One holder of a lock, as `rl_lock_status` sees it.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct rl_holder {
    /// Its process id.
    pub pid: u32,
    /// The mode held (`RL_MODE_*`).
    pub mode: rl_mode,
    /// When it acquired, in milliseconds since the Unix epoch (wall clock).
    pub since_ms: u64,
    /// Its token (see `rl_hold.token`).
    pub token: u64,
    /// Whether its process is alive, stopped or dead (`RL_LIVENESS_*`).
    pub liveness: rl_liveness,
}

impl From<&Holder> for rl_holder {
    fn from(h: &Holder) -> rl_holder {
        rl_holder {
            pid: h.pid,
            mode: mode_code(h.mode),
            since_ms: h.since_ms,
            token: h.token,
            liveness: match h.liveness {
                Liveness::Alive => RL_LIVENESS_ALIVE,
                Liveness::Stopped => RL_LIVENESS_STOPPED,
                Liveness::Dead => RL_LIVENESS_DEAD,
            },
        }
    }
}

/// Reads who holds the lock, without taking it: the last fencing token
/// handed out (0 if never acquired exclusively) into `*token` (may be NULL),
/// and the recorded holders (an exclusive one, or shared ones; a dead one
/// until it is reaped) into a buffer the caller owns, with their number in
/// `*count`.
///
/// Size convention (as `rl_ring_serialize`): with `holders` NULL and `cap` 0,
/// stores the number of holders in `*count` and returns `RL_OK`. With
/// `holders` pointing to `cap` entries, writes `holders[0..*count]` if
/// `cap` >= the number of holders. The holders may change between two calls:
/// a buffer of `RL_LOCK_MAX_HOLDERS` entries is always large enough.
///
///     rl_holder holders[RL_LOCK_MAX_HOLDERS];
///     size_t n;
///     uint64_t token;
///     rl_lock_status(lock, &token, holders, RL_LOCK_MAX_HOLDERS, &n);
///
/// The answer is a snapshot: it may be stale by the time the call returns.
///
/// etcd: one request (or a few) to etcd. `*token` is the token of the last
/// confirmed exclusive hold; the holders are one exclusive holder or every
/// shared one (the waiters: `rl_lock_waiters`; hosts and leases' time left:
/// `rl_lock_etcd_status`), each with its pid (possibly on another host), its
/// mode, `since_ms` (when it began to wait), its token (a shared holder's is
/// the last exclusive token when it took its hold), and `RL_LIVENESS_ALIVE`
/// while its lease runs, `RL_LIVENESS_DEAD` once the lease is gone. Shared
/// holders on etcd are not bounded by `RL_LOCK_MAX_HOLDERS`: if the buffer is
/// too small the call fails (nothing written) and `rl_last_error` says how
/// many there are.
///
/// Returns `RL_OK`, `RL_ERR_INVALID_ARGUMENT` (`lock` or `count` NULL,
/// `holders` NULL with `cap` > 0, or `cap` smaller than the number of
/// holders: nothing is written then and `rl_last_error` says how many there
/// are) or, for etcd, `RL_ERR_UNAVAILABLE` (no answer within
/// `request_timeout_ms`). Outputs are written only on success. Thread-safe: may run
/// concurrently with other calls on the same handle except `rl_lock_close`.
#[no_mangle]
pub extern "C" fn rl_lock_status(
    lock: *const rl_lock,
    token: *mut u64,
    holders: *mut rl_holder,
    cap: usize,
    count: *mut usize,
) -> rl_status {
    boundary::status("rl_lock_status", || {
        // SAFETY: `lock` is NULL or a live handle not being closed (header).
        let l = unsafe { rl_lock::from_ptr(lock) }?;
        // SAFETY: `token` is NULL or writable (header contract).
        let token = unsafe { args::out_opt(token, "token") }?;
        // SAFETY: `count` is NULL or writable (header contract).
        let count = unsafe { args::out(count, "count") }?;
        check_buffer(holders, cap, "holders")?;
        let st = l.status()?;
        let too_small = |n| {
            format!(
                "a buffer of {cap} holders is too small: the lock has {n} \
                 (RL_LOCK_MAX_HOLDERS, {RL_LOCK_MAX_HOLDERS}, always suffices)"
            )
        };
        // SAFETY: `holders` is NULL or holds `cap` writable entries (header).
        unsafe { write_entries(&st.holders, holders, cap, |h| rl_holder::from(h), too_small) }?;
        if let Some(t) = token {
            t.write(st.token);
        }
        count.write(st.holders.len());
        Ok(())
    })
}

/// Reads the acquisitions waiting for the lock, in the order they will hold
/// it, into a buffer the caller owns, with their number in `*count`. etcd
/// only: the local backends do not record their waiters (the count is 0).
/// Each entry is as `rl_lock_status` reports a holder (pid, possibly on
/// another host; the mode it waits for; `since_ms`, when it began to wait;
/// the token it will hold (exclusive) or its key's revision (shared);
/// `RL_LIVENESS_ALIVE` while its lease runs, `RL_LIVENESS_DEAD` once gone).
///
/// Size convention as `rl_lock_status`: with `waiters` NULL and `cap` 0,
/// stores the number in `*count`. There is no upper bound on etcd waiters:
/// if the queue grew between the two calls the second fails with
/// `RL_ERR_INVALID_ARGUMENT` ("too small"), and the caller asks again.
/// One request (or a few) to etcd; a snapshot, possibly stale on return.
///
/// Returns `RL_OK`, `RL_ERR_INVALID_ARGUMENT` (`lock` or `count` NULL,
/// `waiters` NULL with `cap` > 0, `cap` too small: nothing is written) or
/// `RL_ERR_UNAVAILABLE` (etcd did not answer within `request_timeout_ms`).
/// Outputs are written only on success. Thread-safe: may run concurrently
/// with other calls on the same handle except `rl_lock_close`.
#[no_mangle]
pub extern "C" fn rl_lock_waiters(
    lock: *const rl_lock,
    waiters: *mut rl_holder,
    cap: usize,
    count: *mut usize,
) -> rl_status {
    boundary::status("rl_lock_waiters", || {
        // SAFETY: `lock` is NULL or a live handle not being closed (header).
        let l = unsafe { rl_lock::from_ptr(lock) }?;
        // SAFETY: `count` is NULL or writable (header contract).
        let count = unsafe { args::out(count, "count") }?;
        check_buffer(waiters, cap, "waiters")?;
        let list = l.waiters()?;
        let too_small = |n| format!("a buffer of {cap} waiters is too small: the lock has {n}");
        // SAFETY: `waiters` is NULL or holds `cap` writable entries (header).
        unsafe { write_entries(&list, waiters, cap, |h| rl_holder::from(h), too_small) }?;
        count.write(list.len());
        Ok(())
    })
}

pub(super) fn check_buffer<T>(buf: *mut T, cap: usize, what: &str) -> Result<()> {
    if buf.is_null() && cap > 0 {
        return Err(invalid(format!(
            "{what} is NULL but cap is {cap}; pass NULL and 0 to ask for the count"
        )));
    }
    Ok(())
}

/// Writes `list`, each entry converted by `conv`, into `buf` (unless NULL: a
/// size query), refusing a `cap` smaller than the list with the message
/// `too_small(len)`.
///
/// # Safety
/// `buf` is NULL or points to `cap` writable `T` that nothing else accesses
/// during the call.
pub(super) unsafe fn write_entries<S, T>(
    list: &[S],
    buf: *mut T,
    cap: usize,
    conv: impl Fn(&S) -> T,
    too_small: impl Fn(usize) -> String,
) -> Result<()> {
    if buf.is_null() {
        return Ok(());
    }
    let n = list.len();
    if cap < n {
        return Err(invalid(too_small(n)));
    }
    // SAFETY: `buf` is non-NULL and holds `cap` >= n writable entries
    // (caller).
    let out = unsafe { args::slice_out(buf, n, "holders") }?;
    for (slot, h) in out.iter_mut().zip(list) {
        slot.write(conv(h));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::tests::{open, scratch};
    use super::super::{
        rl_lock_acquire, rl_lock_close, RL_BACKEND_FILE, RL_BACKEND_SHM, RL_MODE_SHARED,
    };
    use super::*;
    use crate::error::{RL_ERR_INVALID_ARGUMENT, RL_OK};

    #[test]
    fn local_locks_record_no_waiters() {
        let (d, dir) = scratch("waiters");
        let a = open(&dir, RL_BACKEND_FILE, "w");
        let null = std::ptr::null_mut();
        let mut n = 7usize;
        assert_eq!(rl_lock_waiters(a, null, 0, &mut n), RL_OK);
        assert_eq!(n, 0);
        let mut buf = [rl_holder {
            pid: 0,
            mode: 0,
            since_ms: 0,
            token: 0,
            liveness: 0,
        }; 1];
        assert_eq!(rl_lock_waiters(a, buf.as_mut_ptr(), 1, &mut n), RL_OK);
        assert_eq!(n, 0);
        assert_eq!(rl_lock_waiters(a, null, 1, &mut n), RL_ERR_INVALID_ARGUMENT);
        assert_eq!(
            rl_lock_waiters(a, null, 0, std::ptr::null_mut()),
            RL_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            rl_lock_waiters(std::ptr::null(), null, 0, &mut n),
            RL_ERR_INVALID_ARGUMENT
        );
        rl_lock_close(a);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn max_holders_is_what_the_page_records() {
        assert_eq!(RL_LOCK_MAX_HOLDERS, ringlock_core::lock::READER_SLOTS + 1);
    }

    #[test]
    fn size_query_then_read() {
        for backend in [RL_BACKEND_SHM, RL_BACKEND_FILE] {
            let (d, dir) = scratch(&format!("st-{backend}"));
            let a = open(&dir, backend, "s");
            let b = open(&dir, backend, "s");
            let null = std::ptr::null_mut();
            let mut n = 0usize;
            assert_eq!(rl_lock_status(a, null, null.cast(), 0, &mut n), RL_OK);
            assert_eq!(n, 0);
            assert_eq!(rl_lock_acquire(a, RL_MODE_SHARED, 0, null.cast()), RL_OK);
            assert_eq!(rl_lock_acquire(b, RL_MODE_SHARED, 0, null.cast()), RL_OK);
            assert_eq!(rl_lock_status(a, null, null.cast(), 0, &mut n), RL_OK);
            assert_eq!(n, 2);
            let blank = rl_holder {
                pid: 0,
                mode: 0,
                since_ms: 0,
                token: 0,
                liveness: 0,
            };
            let mut buf = [blank; 2];
            let mut token = 99u64;
            let mut got = 7usize;
            assert_eq!(
                rl_lock_status(a, &mut token, buf.as_mut_ptr(), 1, &mut got),
                RL_ERR_INVALID_ARGUMENT
            );
            assert_eq!((buf[0], token, got), (blank, 99, 7));
            assert_eq!(
                rl_lock_status(b, &mut token, null.cast(), 2, &mut got),
                RL_ERR_INVALID_ARGUMENT
            );
            assert_eq!(
                rl_lock_status(b, &mut token, buf.as_mut_ptr(), 2, &mut got),
                RL_OK
            );
            assert_eq!((token, got), (0, 2));
            for h in buf {
                assert_eq!(h.pid, std::process::id());
                assert_eq!((h.mode, h.liveness), (RL_MODE_SHARED, RL_LIVENESS_ALIVE));
            }
            rl_lock_close(a);
            rl_lock_close(b);
            std::fs::remove_dir_all(&d).unwrap();
        }
    }
}
