//! Acquire, release and check: blocking, try or timed; exclusive or shared.

use super::{mode_code, mode_of, rl_lock, rl_mode};
use crate::args;
use crate::boundary::{self, invalid, Result};
use crate::error::rl_status;
use ringlock_core::lock::Hold;
use std::time::Duration;

/// What an acquisition gives.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct rl_hold {
    /// Exclusive: the fencing token of this acquisition, strictly greater
    /// than every token handed out before for this lock (across holders,
    /// processes and crashes). Shared: the token of the last exclusive
    /// acquisition (0 if none).
    pub token: u64,
    /// A holder died without releasing since the last exclusive acquisition.
    /// Reported once, to the next exclusive acquirer (on the local backends
    /// always false for shared; on etcd a shared hold says whether the last
    /// exclusive holder's lease expired). What it was protecting may be half
    /// written.
    pub previous_owner_died: bool,
    /// The mode held (`RL_MODE_*`).
    pub mode: rl_mode,
}

impl From<Hold> for rl_hold {
    fn from(h: Hold) -> rl_hold {
        rl_hold {
            token: h.token,
            previous_owner_died: h.previous_owner_died,
            mode: mode_code(h.mode),
        }
    }
}

/// `timeout_ms` in C: -1 for ever, 0 a single try, > 0 at most that long.
fn timeout_of(ms: i64) -> Result<Option<Duration>> {
    match ms {
        -1 => Ok(None),
        ms if ms >= 0 => Ok(Some(Duration::from_millis(ms.unsigned_abs()))),
        ms => Err(invalid(format!(
            "timeout_ms is {ms}; expected -1 (for ever), 0 (try) or a positive number \
             of milliseconds"
        ))),
    }
}

/// Acquires the lock through `lock` in `mode` (`RL_MODE_EXCLUSIVE` or
/// `RL_MODE_SHARED`) and, if `hold` is not NULL, stores what the acquisition
/// gives in `*hold` (fencing token, whether a previous holder died).
///
/// `timeout_ms`: -1 waits for ever (the call may then block indefinitely,
/// e.g. behind a holder that is stopped or that never releases); 0 tries
/// once (`RL_ERR_WOULD_BLOCK` if the lock is held); > 0 waits at most that
/// many milliseconds on the monotonic clock (`RL_ERR_TIMEOUT`). A waiter
/// sleeps in the kernel, is woken by the release, and takes over from a
/// holder that died (kill -9 included) within about 20 ms.
///
/// A lock belongs to the process: it stays held until `rl_lock_release` (from
/// any thread of this process), `rl_lock_close` or the process's death — not
/// the calling thread's exit. Not reentrant: acquiring again through the same
/// handle from the thread that holds it is `RL_ERR_DEADLOCK`, never a hang.
/// Other threads using the same handle wait their turn (within `timeout_ms`).
///
/// etcd (`RL_BACKEND_ETCD`): both modes, queued in one order of arrival. An
/// exclusive acquisition holds when nothing came before it; a shared one
/// when no exclusive acquisition came before it (readers hold together; a
/// reader that comes after a waiting writer waits for it). The handle is the
/// same lock as an exclusive-only etcd lock of the same name in any
/// language. Exclusive: the token is the create revision of the hold's key
/// in etcd; `previous_owner_died` says that the previous exclusive holder's
/// lease expired (it died, was stopped, or lost etcd) instead of releasing,
/// which happens within the TTL of its death. Shared: the token is the last
/// exclusive hold's (0 if none), and `previous_owner_died` says whether that
/// holder's lease expired (a reader that dies is not reported). A try (0)
/// fails with `RL_ERR_WOULD_BLOCK` when it would wait: exclusive, when the
/// lock is held or waited for; shared, when an exclusive acquisition holds
/// or waits. Any
/// acquisition through a handle that holds or is acquiring is
/// `RL_ERR_DEADLOCK`, from whichever thread (open a handle per thread).
/// While held, the hold lasts as long as the process's lease is renewed:
/// see `rl_lock_check`. A failed acquisition leaves no key behind.
///
/// Returns `RL_OK`, `RL_ERR_WOULD_BLOCK`, `RL_ERR_TIMEOUT`, `RL_ERR_DEADLOCK`,
/// `RL_ERR_INVALID_ARGUMENT` (`lock` NULL, an unknown mode, `timeout_ms`
/// < -1, a handle inherited across fork() on etcd;
/// nothing is acquired then), `RL_ERR_CORRUPT` (the lock file was
/// truncated, rewritten or reset while in use: nothing is acquired, and the
/// handle stays unusable), `RL_ERR_IO`, or for etcd `RL_ERR_UNAVAILABLE`
/// (etcd did not answer within `timeout_ms`, or within `request_timeout_ms`
/// for one step) and `RL_ERR_LOST` (this process's lease expired while it
/// waited: it does not hold the lock). `*hold` is written only on success.
/// Thread-safe: may run concurrently with `rl_lock_acquire`,
/// `rl_lock_release`, `rl_lock_check` and `rl_lock_status` on the same
/// handle.
#[no_mangle]
pub extern "C" fn rl_lock_acquire(
    lock: *mut rl_lock,
    mode: rl_mode,
    timeout_ms: i64,
    hold: *mut rl_hold,
) -> rl_status {
    boundary::status("rl_lock_acquire", || {
        // SAFETY: `lock` is NULL or a live handle not being closed (header).
        let l = unsafe { rl_lock::from_ptr(lock) }?;
        let mode = mode_of(mode)?;
        let timeout = timeout_of(timeout_ms)?;
        // SAFETY: `hold` is NULL or writable (header contract).
        let hold = unsafe { args::out_opt(hold, "hold") }?;
        let got = l.acquire(mode, timeout)?;
        if let Some(out) = hold {
            out.write(got.into());
        }
        Ok(())
    })
}

/// Releases the hold of `lock`. May be called from any thread of the process
/// that acquired.
///
/// Returns `RL_OK`, `RL_ERR_INVALID_ARGUMENT` (`lock` NULL, nothing held
/// through this handle, or a handle inherited across fork(): the child does
/// not hold the parent's lock and cannot release it), `RL_ERR_CORRUPT` (the
/// lock file was truncated or rewritten while held: the hold is gone),
/// `RL_ERR_IO` (the hold is gone all the same), or for etcd `RL_ERR_LOST`
/// (the hold had been lost before: the lease expired or the key was gone, so
/// another may have held the lock meanwhile; what it protected may have been
/// changed by that other holder) and `RL_ERR_UNAVAILABLE` (etcd did not
/// answer within `request_timeout_ms`: the key is deleted later, or expires
/// with the lease). After any of these but `RL_ERR_INVALID_ARGUMENT` the
/// handle holds nothing. Thread-safe: may run concurrently with other calls
/// on the same handle except `rl_lock_close`.
#[no_mangle]
pub extern "C" fn rl_lock_release(lock: *mut rl_lock) -> rl_status {
    boundary::status("rl_lock_release", || {
        // SAFETY: `lock` is NULL or a live handle not being closed (header).
        let l = unsafe { rl_lock::from_ptr(lock) }?;
        l.release()
    })
}

/// Checks that `lock` still holds: `RL_OK` while this handle holds the lock
/// (in this process) and the hold is not known to be lost. Changes nothing.
///
/// shm and file: `RL_OK` if held through this handle (a local hold cannot be
/// lost while the process lives). etcd: asks etcd that the hold's key still
/// exists and checks that the lease's deadline has not passed — call it
/// before acting on the hold after a long pause, or pass the token to a
/// store that fences.
///
/// Returns `RL_OK`, `RL_ERR_INVALID_ARGUMENT` (`lock` NULL, nothing held
/// through this handle, a handle inherited across fork()), `RL_ERR_LOST`
/// (etcd: the hold was lost, for good — the lease expired or the key is
/// gone; another may hold the lock now. The handle still counts as holding
/// until `rl_lock_release`, which then returns `RL_ERR_LOST` too) or
/// `RL_ERR_UNAVAILABLE` (etcd did not answer within `request_timeout_ms`; the
/// hold may be intact). Thread-safe: may run concurrently with other calls
/// on the same handle except `rl_lock_close`.
#[no_mangle]
pub extern "C" fn rl_lock_check(lock: *const rl_lock) -> rl_status {
    boundary::status("rl_lock_check", || {
        // SAFETY: `lock` is NULL or a live handle not being closed (header).
        let l = unsafe { rl_lock::from_ptr(lock) }?;
        l.check()
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::{open, scratch};
    use super::super::{rl_lock_close, RL_BACKEND_FILE, RL_BACKEND_SHM, RL_MODE_EXCLUSIVE};
    use super::*;
    use crate::error::{
        RL_ERR_DEADLOCK, RL_ERR_INVALID_ARGUMENT, RL_ERR_TIMEOUT, RL_ERR_WOULD_BLOCK, RL_OK,
    };
    use std::time::Instant;

    #[test]
    fn timeouts_map_as_documented() {
        assert_eq!(timeout_of(-1).unwrap(), None);
        assert_eq!(timeout_of(0).unwrap(), Some(Duration::ZERO));
        assert_eq!(timeout_of(50).unwrap(), Some(Duration::from_millis(50)));
        assert_eq!(
            timeout_of(i64::MAX).unwrap(),
            Some(Duration::from_millis(i64::MAX as u64))
        );
        assert!(timeout_of(-2).is_err() && timeout_of(i64::MIN).is_err());
    }

    #[test]
    fn try_timeout_deadlock_and_tokens() {
        for backend in [RL_BACKEND_SHM, RL_BACKEND_FILE] {
            let (d, dir) = scratch(&format!("acq-{backend}"));
            let a = open(&dir, backend, "x");
            let b = open(&dir, backend, "x");
            let sentinel = rl_hold {
                token: 77,
                previous_owner_died: true,
                mode: 9,
            };
            let mut h = sentinel;
            assert_eq!(rl_lock_acquire(a, RL_MODE_EXCLUSIVE, -1, &mut h), RL_OK);
            assert!(h.token >= 1 && !h.previous_owner_died && h.mode == RL_MODE_EXCLUSIVE);
            let first = h.token;
            let mut other = sentinel;
            assert_eq!(
                rl_lock_acquire(a, RL_MODE_EXCLUSIVE, -1, &mut other),
                RL_ERR_DEADLOCK
            );
            assert_eq!(
                rl_lock_acquire(b, RL_MODE_EXCLUSIVE, 0, &mut other),
                RL_ERR_WOULD_BLOCK
            );
            let t = Instant::now();
            assert_eq!(
                rl_lock_acquire(b, RL_MODE_EXCLUSIVE, 30, &mut other),
                RL_ERR_TIMEOUT
            );
            assert!(t.elapsed() >= Duration::from_millis(30));
            assert_eq!(
                rl_lock_acquire(b, 0, 0, &mut other),
                RL_ERR_INVALID_ARGUMENT
            );
            assert_eq!(other, sentinel);
            assert_eq!(rl_lock_release(a), RL_OK);
            assert_eq!(rl_lock_release(a), RL_ERR_INVALID_ARGUMENT);
            assert_eq!(
                rl_lock_acquire(b, RL_MODE_EXCLUSIVE, 0, std::ptr::null_mut()),
                RL_OK
            );
            rl_lock_close(b); // releases
            assert_eq!(rl_lock_acquire(a, RL_MODE_EXCLUSIVE, 0, &mut h), RL_OK);
            assert!(h.token > first + 1);
            rl_lock_close(a);
            std::fs::remove_dir_all(&d).unwrap();
        }
    }
}
