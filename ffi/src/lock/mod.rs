//! `rl_lock`: a handle on a named lock between processes — the handle, its
//! modes, open and close. docs/locks.md states the semantics.

mod acquire;
mod etcd;
mod etcd_status;
mod options;
mod status;

pub use acquire::{rl_hold, rl_lock_acquire, rl_lock_check, rl_lock_release};
pub use etcd_status::{rl_etcd_holder, rl_lock_etcd_status, rl_lock_etcd_waiters, RL_HOST_MAX};
pub use options::{rl_backend, rl_lock_options, RL_BACKEND_ETCD, RL_BACKEND_FILE, RL_BACKEND_SHM};
pub use status::{
    rl_holder, rl_liveness, rl_lock_status, rl_lock_waiters, RL_LIVENESS_ALIVE, RL_LIVENESS_DEAD,
    RL_LIVENESS_STOPPED, RL_LOCK_MAX_HOLDERS,
};

use crate::args;
use crate::boundary::{self, invalid, Result};
use crate::error::rl_status;
use etcd::EtcdLock;
use options::Target;
use ringlock_core::lock::{Hold, Holder, Lock, LockStatus, Mode};
use std::ffi::c_char;
use std::time::Duration;

/// A lock mode: one of the `RL_MODE_*` values. Any other value is refused
/// with `RL_ERR_INVALID_ARGUMENT`.
pub type rl_mode = u32;

/// Exclusive (write): one holder at a time; every acquisition gets a new
/// fencing token.
pub const RL_MODE_EXCLUSIVE: rl_mode = 1;
/// Shared (read): any number of holders at once, none exclusive.
pub const RL_MODE_SHARED: rl_mode = 2;

/// A handle on a named lock (opaque). Created by `rl_lock_open`, released by
/// `rl_lock_close`. A handle holds at most one acquisition at a time.
///
/// Thread-safe: `rl_lock_acquire`, `rl_lock_release`, `rl_lock_check` and
/// `rl_lock_status` may run concurrently from any number of threads on one
/// handle (threads sharing a local handle take turns holding it; on etcd a
/// second acquisition through a handle that holds or is acquiring is
/// `RL_ERR_DEADLOCK`). Only `rl_lock_close` needs exclusive access. Separate
/// handles, in one process or many, contend through the lock exactly as
/// processes do.
pub struct rl_lock {
    kind: Kind,
}

/// Where the lock lives: this host (shm, file) or etcd.
enum Kind {
    Local(Lock),
    Etcd(EtcdLock),
}

impl rl_lock {
    /// # Safety
    /// `p` is NULL or a live handle that nobody closes during `'a`. Other
    /// threads may use it at the same time: only shared access is made.
    unsafe fn from_ptr<'a>(p: *const rl_lock) -> Result<&'a rl_lock> {
        // SAFETY: the caller guarantees NULL or a live handle; `Lock` is
        // Sync, so a shared reference may coexist with other threads' ones.
        unsafe { p.as_ref() }.ok_or_else(|| invalid("lock is NULL"))
    }

    fn acquire(&self, mode: Mode, timeout: Option<Duration>) -> Result<Hold> {
        match &self.kind {
            Kind::Local(l) => l.acquire(mode, timeout),
            Kind::Etcd(l) => l.acquire(mode, timeout),
        }
    }

    fn release(&self) -> Result<()> {
        match &self.kind {
            Kind::Local(l) => l.release(),
            Kind::Etcd(l) => l.release(),
        }
    }

    /// `Ok` while this handle holds the lock (and, on etcd, the hold is not
    /// known to be lost).
    fn check(&self) -> Result<()> {
        match &self.kind {
            Kind::Local(l) if l.is_held() => Ok(()),
            Kind::Local(l) => Err(invalid(format!(
                "lock {:?} is not held through this handle",
                l.name()
            ))),
            Kind::Etcd(l) => l.check(),
        }
    }

    fn status(&self) -> Result<LockStatus> {
        match &self.kind {
            Kind::Local(l) => Ok(l.status()),
            Kind::Etcd(l) => l.status(),
        }
    }

    /// The acquisitions waiting, in order (etcd); none recorded locally.
    fn waiters(&self) -> Result<Vec<Holder>> {
        match &self.kind {
            Kind::Local(_) => Ok(Vec::new()),
            Kind::Etcd(l) => l.waiters(),
        }
    }
}

fn mode_of(code: rl_mode) -> Result<Mode> {
    match code {
        RL_MODE_EXCLUSIVE => Ok(Mode::Exclusive),
        RL_MODE_SHARED => Ok(Mode::Shared),
        _ => Err(invalid(format!(
            "unknown mode {code}; expected RL_MODE_EXCLUSIVE (1) or RL_MODE_SHARED (2)"
        ))),
    }
}

fn mode_code(mode: Mode) -> rl_mode {
    match mode {
        Mode::Exclusive => RL_MODE_EXCLUSIVE,
        Mode::Shared => RL_MODE_SHARED,
    }
}

/// Opens (creating it if needed) the lock `name` and stores a new handle in
/// `*out`; close it with `rl_lock_close`. Opening does not acquire.
///
/// `name`: 1 to 200 characters from `A-Z a-z 0-9 . _ -`, not "." or "..";
/// never a path. `options` may be NULL for the defaults (the shm backend in
/// `/dev/shm/ringlock-<uid>/`, files 0600); see `rl_lock_options`. The same
/// name with another backend is another lock.
///
/// etcd (`RL_BACKEND_ETCD`): opening connects. The handles of one process
/// opened with the same endpoints, `ttl_s`, `etcd_namespace` and
/// `request_timeout_ms` share one connection and one lease, kept alive by one
/// background thread while any of them is open; the first open grants the
/// lease (bounded by `request_timeout_ms`), the later ones make no request.
/// No key is written until `rl_lock_acquire`.
///
/// Returns `RL_OK`, `RL_ERR_INVALID_ARGUMENT` (`name` or `out` NULL, a bad
/// name, an unknown backend, a bad `file_mode`, an empty `dir`, a symlink in
/// the lock path, a directory other users could write to, another user's lock
/// file; for etcd no endpoint, a NULL or malformed one, `ttl_s` 1, a bad
/// `etcd_namespace`, a local-backend field set (or an etcd field set with a
/// local backend): see `rl_lock_options`; nothing is created or changed then),
/// `RL_ERR_CORRUPT` (the lock file exists but is not an intact lock file of
/// this backend and layout version, or its page was made for another file:
/// it is left untouched, remove it yourself if you know it is stale),
/// `RL_ERR_IO`, or for etcd `RL_ERR_UNAVAILABLE` (no endpoint answered as
/// etcd within `request_timeout_ms`; the message says what each answered).
/// `*out` is written only on success. Thread-safe.
#[no_mangle]
pub extern "C" fn rl_lock_open(
    name: *const c_char,
    options: *const rl_lock_options,
    out: *mut *mut rl_lock,
) -> rl_status {
    boundary::status("rl_lock_open", || {
        // SAFETY: `name` is NULL or a NUL-terminated string (header contract).
        let name = unsafe { args::name(name, "name") }?;
        // SAFETY: `options` is NULL or a readable rl_lock_options whose
        // strings and endpoint array are as its docs say (header contract).
        let target = unsafe { options::from_c(options) }?;
        // SAFETY: `out` is NULL or writable (header contract).
        let out = unsafe { args::out(out, "out") }?;
        let kind = match target {
            Target::Local(options) => Kind::Local(Lock::open(name, &options)?),
            Target::Etcd { endpoints, options } => {
                Kind::Etcd(EtcdLock::open(name, &endpoints, &options)?)
            }
        };
        out.write(Box::into_raw(Box::new(rl_lock { kind })));
        Ok(())
    })
}

/// Closes a handle made by `rl_lock_open`; NULL is a no-op. If the handle
/// holds the lock in this process, the hold is released first (etcd: within
/// `request_timeout_ms`; a failure is not reported, and the key then expires
/// with the lease). Closing the last etcd handle of a connection stops its
/// keep-alive thread and revokes its lease (bounded by 1 s). In a forked
/// child, closing an inherited handle never releases the parent's hold.
///
/// Needs exclusive access: no other call on the handle may run at the same
/// time (a thread blocked in `rl_lock_acquire` on it included), and the
/// handle must not be used afterwards. Do not close a handle twice.
#[no_mangle]
pub extern "C" fn rl_lock_close(lock: *mut rl_lock) {
    boundary::value("rl_lock_close", (), || {
        if !lock.is_null() {
            // SAFETY: non-NULL, so (header contract) a pointer this library
            // made with Box::into_raw and has not closed yet, used by nobody
            // else now or later.
            drop(unsafe { Box::from_raw(lock) });
        }
        Ok(())
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::error::{RL_ERR_CORRUPT, RL_ERR_INVALID_ARGUMENT, RL_OK};
    use std::ffi::CString;
    use std::path::PathBuf;

    /// A fresh lock directory under the temp dir.
    pub(crate) fn scratch(tag: &str) -> (PathBuf, CString) {
        let d = std::env::temp_dir().join(format!("ringlock-ffi-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        let c = CString::new(d.to_str().unwrap()).unwrap();
        (d, c)
    }

    pub(crate) fn open(dir: &CString, backend: rl_backend, name: &str) -> *mut rl_lock {
        let o = rl_lock_options {
            backend,
            dir: dir.as_ptr(),
            ..options::zeroed()
        };
        let name = CString::new(name).unwrap();
        let mut l = std::ptr::null_mut();
        assert_eq!(rl_lock_open(name.as_ptr(), &o, &mut l), RL_OK);
        assert!(!l.is_null());
        l
    }

    #[test]
    fn open_checks_its_arguments_and_writes_only_on_success() {
        let (d, dir) = scratch("open");
        let sentinel = 0x5eed as *mut rl_lock;
        let mut out = sentinel;
        let o = rl_lock_options {
            backend: 0,
            dir: dir.as_ptr(),
            ..options::zeroed()
        };
        for (name, backend, file_mode) in [
            (c"a/b", 0, 0),
            (c"", 0, 0),
            (c"..", 0, 0),
            (c"ok", 4, 0),
            (c"ok", RL_BACKEND_ETCD, 0),
            (c"ok", 0, 0o400),
        ] {
            let o = rl_lock_options {
                backend,
                file_mode,
                ..o
            };
            assert_eq!(
                rl_lock_open(name.as_ptr(), &o, &mut out),
                RL_ERR_INVALID_ARGUMENT
            );
        }
        assert_eq!(
            rl_lock_open(std::ptr::null(), &o, &mut out),
            RL_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            rl_lock_open(c"ok".as_ptr(), &o, std::ptr::null_mut()),
            RL_ERR_INVALID_ARGUMENT
        );
        let empty_dir = rl_lock_options {
            dir: c"".as_ptr(),
            ..o
        };
        assert_eq!(
            rl_lock_open(c"ok".as_ptr(), &empty_dir, &mut out),
            RL_ERR_INVALID_ARGUMENT
        );
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("bad.shm"), b"garbage").unwrap();
        assert_eq!(rl_lock_open(c"bad".as_ptr(), &o, &mut out), RL_ERR_CORRUPT);
        assert_eq!(out, sentinel);
        let l = open(&dir, RL_BACKEND_FILE, "ok");
        assert!(d.join("ok.lock").exists());
        rl_lock_close(l);
        rl_lock_close(std::ptr::null_mut());
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn etcd_open_refuses_before_any_network() {
        let sentinel = 0x5eed as *mut rl_lock;
        let mut out = sentinel;
        // port 1 on 127.0.0.1: nothing listens; these fail before connecting
        let eps = [c"http://127.0.0.1:1".as_ptr()];
        let etcd = rl_lock_options {
            backend: RL_BACKEND_ETCD,
            endpoints: eps.as_ptr(),
            endpoint_count: 1,
            request_timeout_ms: 200,
            ..options::zeroed()
        };
        let bad_ep = [c"ftp://x".as_ptr()];
        for (name, o) in [
            (c"a/b", etcd),
            (c"ok", rl_lock_options { ttl_s: 1, ..etcd }),
            (
                c"ok",
                rl_lock_options {
                    etcd_namespace: c"/x".as_ptr(),
                    ..etcd
                },
            ),
            (
                c"ok",
                rl_lock_options {
                    endpoints: bad_ep.as_ptr(),
                    ..etcd
                },
            ),
        ] {
            assert_eq!(
                rl_lock_open(name.as_ptr(), &o, &mut out),
                RL_ERR_INVALID_ARGUMENT
            );
        }
        assert_eq!(
            rl_lock_open(c"ok".as_ptr(), &etcd, &mut out),
            crate::error::RL_ERR_UNAVAILABLE
        );
        assert_eq!(out, sentinel);
    }

    #[test]
    fn check_says_whether_a_local_handle_holds() {
        let (d, dir) = scratch("check");
        for backend in [RL_BACKEND_SHM, RL_BACKEND_FILE] {
            let l = open(&dir, backend, "c");
            assert_eq!(rl_lock_check(l), RL_ERR_INVALID_ARGUMENT);
            let null = std::ptr::null_mut();
            assert_eq!(rl_lock_acquire(l, RL_MODE_EXCLUSIVE, 0, null), RL_OK);
            assert_eq!(rl_lock_check(l), RL_OK);
            assert_eq!(rl_lock_release(l), RL_OK);
            assert_eq!(rl_lock_check(l), RL_ERR_INVALID_ARGUMENT);
            rl_lock_close(l);
        }
        assert_eq!(rl_lock_check(std::ptr::null()), RL_ERR_INVALID_ARGUMENT);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn mode_codes_round_trip() {
        for code in [RL_MODE_EXCLUSIVE, RL_MODE_SHARED] {
            assert_eq!(mode_code(mode_of(code).unwrap()), code);
        }
        assert!(mode_of(0).is_err() && mode_of(3).is_err());
    }
}
