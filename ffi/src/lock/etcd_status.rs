//! `rl_lock_etcd_status`, `rl_lock_etcd_waiters`: an etcd lock's holders and
//! waiters with what only etcd knows — their host and their lease's time
//! left — beside the `rl_holder` record (whose layout is fixed).

use super::etcd::holder_of;
use super::status::{check_buffer, write_entries};
use super::{rl_holder, rl_lock, Kind};
use crate::args;
use crate::boundary::{self, invalid, Result};
use crate::error::rl_status;
use ringlock_core::etcd::RWEntry;
use std::ffi::c_char;

/// The size of `rl_etcd_holder.host`, its terminating NUL included: a host
/// name of up to `RL_HOST_MAX - 1` bytes is stored whole (Linux's are at
/// most 64).
pub const RL_HOST_MAX: usize = 256;

/// One holder or waiter of an etcd lock, as `rl_lock_etcd_status` and
/// `rl_lock_etcd_waiters` see it. A plain value the caller owns: nothing in
/// it points elsewhere.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct rl_etcd_holder {
    /// What `rl_lock_status` (or `rl_lock_waiters`) reports of it: pid
    /// (possibly on another host), mode, `since_ms` (when it began to wait),
    /// token, and liveness (`RL_LIVENESS_ALIVE` while its lease runs,
    /// `RL_LIVENESS_DEAD` once the lease is gone).
    pub holder: rl_holder,
    /// The host name its process recorded, NUL-terminated; cut at the last
    /// whole UTF-8 character that fits `RL_HOST_MAX - 1` bytes (or at a NUL
    /// in the name); empty if none was recorded.
    pub host: [c_char; RL_HOST_MAX],
    /// Milliseconds left on its lease as etcd answered (at most its TTL
    /// times 1000), or -1 when the lease is gone or unknown.
    pub lease_left_ms: i64,
}

impl From<&RWEntry> for rl_etcd_holder {
    fn from(e: &RWEntry) -> rl_etcd_holder {
        let mut host = [0 as c_char; RL_HOST_MAX];
        for (slot, b) in host.iter_mut().zip(host_bytes(&e.entry.host)) {
            *slot = *b as c_char;
        }
        rl_etcd_holder {
            holder: rl_holder::from(&holder_of(e)),
            host,
            lease_left_ms: e
                .entry
                .lease_left
                .map_or(-1, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
        }
    }
}

/// The bytes of `host` that `rl_etcd_holder.host` keeps: up to a NUL, at
/// most `RL_HOST_MAX - 1`, never half a UTF-8 character.
fn host_bytes(host: &str) -> &[u8] {
    let host = host.split('\0').next().unwrap_or("");
    let mut end = host.len().min(RL_HOST_MAX - 1);
    while !host.is_char_boundary(end) {
        end -= 1;
    }
    &host.as_bytes()[..end]
}

/// Which of an etcd lock's lists a call reads.
#[derive(Clone, Copy)]
enum List {
    Holders,
    Waiters,
}

/// The ceremony of both entry points: the handle, the buffer, one status
/// request, the size convention.
///
/// # Safety
/// As `rl_lock_etcd_status`'s header contract.
unsafe fn read_list(
    lock: *const rl_lock,
    token: *mut u64,
    buf: *mut rl_etcd_holder,
    cap: usize,
    count: *mut usize,
    list: List,
) -> Result<()> {
    // SAFETY: `lock` is NULL or a live handle not being closed (header).
    let l = unsafe { rl_lock::from_ptr(lock) }?;
    // SAFETY: `token` is NULL or writable (header contract).
    let token = unsafe { args::out_opt(token, "token") }?;
    // SAFETY: `count` is NULL or writable (header contract).
    let count = unsafe { args::out(count, "count") }?;
    let what = match list {
        List::Holders => "holders",
        List::Waiters => "waiters",
    };
    check_buffer(buf, cap, what)?;
    let Kind::Etcd(etcd) = &l.kind else {
        return Err(invalid(format!(
            "the lock's backend is local (shm or file): {what} with host and lease \
             are known only on RL_BACKEND_ETCD; use rl_lock_status or rl_lock_waiters"
        )));
    };
    let st = etcd.etcd_status()?;
    let entries = match list {
        List::Holders => &st.holders,
        List::Waiters => &st.waiters,
    };
    let too_small = |n| format!("a buffer of {cap} {what} is too small: the lock has {n}");
    // SAFETY: `buf` is NULL or holds `cap` writable entries (header).
    unsafe { write_entries(entries, buf, cap, |e| rl_etcd_holder::from(e), too_small) }?;
    if let Some(t) = token {
        t.write(st.token);
    }
    count.write(entries.len());
    Ok(())
}

/// `rl_lock_status` for an etcd lock, each holder with its host and its
/// lease's time left: the last confirmed exclusive hold's token (0 if never
/// held exclusively) into `*token` (may be NULL), and the holders — one
/// exclusive, or every shared one — into `holders[0..*count]`, a buffer the
/// caller owns (nothing written keeps pointing into the library).
///
/// Size convention as `rl_lock_status`: with `holders` NULL and `cap` 0,
/// stores the number of holders in `*count`. There are at most as many
/// shared holders as processes reading the lock: if they grew between two
/// calls, the second fails with `RL_ERR_INVALID_ARGUMENT` ("too small") and
/// the caller asks again. One request (or a few) to etcd; a snapshot,
/// possibly stale on return.
///
/// Returns `RL_OK`, `RL_ERR_INVALID_ARGUMENT` (`lock` or `count` NULL,
/// `holders` NULL with `cap` > 0, `cap` too small, or a local (shm, file)
/// lock: these records exist only on etcd) or `RL_ERR_UNAVAILABLE` (etcd did
/// not answer within `request_timeout_ms`). Outputs are written only on
/// success. Thread-safe: may run concurrently with other calls on the same
/// handle except `rl_lock_close`.
#[no_mangle]
pub extern "C" fn rl_lock_etcd_status(
    lock: *const rl_lock,
    token: *mut u64,
    holders: *mut rl_etcd_holder,
    cap: usize,
    count: *mut usize,
) -> rl_status {
    boundary::status("rl_lock_etcd_status", || {
        // SAFETY: the arguments are as this function's header contract says.
        unsafe { read_list(lock, token, holders, cap, count, List::Holders) }
    })
}

/// `rl_lock_waiters` for an etcd lock, each waiter with its host and its
/// lease's time left: the acquisitions waiting, in the order they will hold,
/// with their modes, into `waiters[0..*count]`, a buffer the caller owns.
/// Size convention, errors and thread-safety as `rl_lock_etcd_status`
/// (`RL_ERR_INVALID_ARGUMENT` on a local lock).
#[no_mangle]
pub extern "C" fn rl_lock_etcd_waiters(
    lock: *const rl_lock,
    waiters: *mut rl_etcd_holder,
    cap: usize,
    count: *mut usize,
) -> rl_status {
    boundary::status("rl_lock_etcd_waiters", || {
        // SAFETY: the arguments are as this function's header contract says;
        // no token is asked for.
        unsafe {
            read_list(
                lock,
                std::ptr::null_mut(),
                waiters,
                cap,
                count,
                List::Waiters,
            )
        }
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::{open, scratch};
    use super::super::{rl_lock_close, RL_BACKEND_FILE, RL_BACKEND_SHM};
    use super::*;
    use crate::error::RL_ERR_INVALID_ARGUMENT;

    #[test]
    fn hosts_are_cut_safely() {
        assert_eq!(host_bytes("web-1"), b"web-1");
        assert_eq!(host_bytes("a\0b"), b"a");
        let long = "é".repeat(200); // 400 bytes, 2 each
        let cut = host_bytes(&long);
        assert_eq!(cut.len(), 254);
        assert!(std::str::from_utf8(cut).is_ok());
        let ascii = "x".repeat(300);
        assert_eq!(host_bytes(&ascii).len(), RL_HOST_MAX - 1);
    }

    #[test]
    fn local_locks_are_refused_and_nothing_is_written() {
        let (d, dir) = scratch("etcd-status");
        for backend in [RL_BACKEND_SHM, RL_BACKEND_FILE] {
            let l = open(&dir, backend, "e");
            let (mut n, mut token) = (7usize, 9u64);
            let null = std::ptr::null_mut();
            assert_eq!(
                rl_lock_etcd_status(l, &mut token, null, 0, &mut n),
                RL_ERR_INVALID_ARGUMENT
            );
            assert_eq!(
                rl_lock_etcd_waiters(l, null, 0, &mut n),
                RL_ERR_INVALID_ARGUMENT
            );
            assert_eq!((n, token), (7, 9));
            assert_eq!(
                rl_lock_etcd_status(std::ptr::null(), &mut token, null, 0, &mut n),
                RL_ERR_INVALID_ARGUMENT
            );
            assert_eq!(
                rl_lock_etcd_waiters(l, null, 1, &mut n),
                RL_ERR_INVALID_ARGUMENT
            );
            rl_lock_close(l);
        }
        std::fs::remove_dir_all(&d).unwrap();
    }
}
