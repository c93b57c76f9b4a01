//! The etcd side of an `rl_lock`: a core etcd read-write lock and the hold
//! it gives.
//!
//! The handle wraps the core's [`RWLock`], as the Python face does: its
//! exclusive mode *is* a core `Lock` acquisition (the same keys and
//! transactions), so a C handle excludes `Lock` users of the same name in
//! every language, and its status says in which mode each holder and waiter
//! is. The core hands out an [`RWGuard`] per hold; the C face holds at most
//! one acquisition per handle, so the handle keeps that guard until
//! `rl_lock_release` (or `rl_lock_close`, which drops it: a release). The
//! handles of one process opened with the same endpoints and client options
//! share one client ([`Client::shared`]: one lease, one keep-alive thread).

use crate::boundary::{invalid, Result};
use ringlock_core::etcd::{Client, ClientOptions, RWEntry, RWGuard, RWLock, RWLockStatus};
use ringlock_core::lock::{Hold, Holder, Liveness, LockStatus, Mode};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

pub(super) struct EtcdLock {
    lock: RWLock,
    /// The hold of this handle, if any.
    hold: Mutex<Option<RWGuard>>,
}

impl EtcdLock {
    /// Connects (or joins this process's client for the same configuration)
    /// and makes a handle on lock `name`.
    pub(super) fn open(name: &str, endpoints: &[String], options: &ClientOptions) -> Result<Self> {
        ringlock_core::lock::validate_lock_name(name)?;
        let client = Client::shared(endpoints, options)?;
        Ok(EtcdLock {
            lock: RWLock::new(&client, name)?,
            hold: Mutex::new(None),
        })
    }

    /// The slot of the hold. A panic while it was locked cannot have left a
    /// half-made value (it is an `Option` set or taken whole): ignore poison.
    fn slot(&self) -> MutexGuard<'_, Option<RWGuard>> {
        self.hold
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(super) fn acquire(&self, mode: Mode, timeout: Option<Duration>) -> Result<Hold> {
        // Not under the slot's mutex: a wait may be long, and release, check
        // and status must not wait behind it. The core refuses (Deadlock) a
        // second acquisition through a handle that holds or is acquiring, in
        // either mode, so the slot is empty when this one fills it.
        let guard = self.lock.acquire(mode, timeout)?;
        let hold = Hold {
            token: guard.token(),
            previous_owner_died: guard.previous_owner_died(),
            mode: guard.mode(),
        };
        *self.slot() = Some(guard);
        Ok(hold)
    }

    pub(super) fn release(&self) -> Result<()> {
        let guard = self.slot().take().ok_or_else(|| self.not_held())?;
        guard.release()
    }

    pub(super) fn check(&self) -> Result<()> {
        match &*self.slot() {
            Some(guard) => guard.check(),
            None => Err(self.not_held()),
        }
    }

    fn not_held(&self) -> ringlock_core::Error {
        invalid(format!(
            "lock {:?} is not held through this handle",
            self.lock.name()
        ))
    }

    /// The holders (one exclusive, or the shared ones) and the waiters, in
    /// the order they will hold, with their modes, hosts and leases.
    pub(super) fn etcd_status(&self) -> Result<RWLockStatus> {
        self.lock.status()
    }

    /// The holders as local records (the waiters: [`EtcdLock::waiters`]).
    pub(super) fn status(&self) -> Result<LockStatus> {
        let st = self.lock.status()?;
        Ok(LockStatus {
            token: st.token,
            holders: st.holders.iter().map(holder_of).collect(),
        })
    }

    /// The waiters, in the order they will hold.
    pub(super) fn waiters(&self) -> Result<Vec<Holder>> {
        Ok(self.lock.status()?.waiters.iter().map(holder_of).collect())
    }
}

/// An etcd queue entry as a holder record: its lease still running is
/// "alive", a lease gone is "dead" (the process may be on another host: its
/// state cannot be read from here).
pub(super) fn holder_of(rw: &RWEntry) -> Holder {
    let e = &rw.entry;
    Holder {
        pid: e.pid,
        mode: rw.mode,
        since_ms: e.since_ms,
        token: e.token,
        liveness: if e.lease_left.is_some() {
            Liveness::Alive
        } else {
            Liveness::Dead
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ringlock_core::etcd::Entry;

    #[test]
    fn entries_map_to_holders() {
        let mut e = RWEntry {
            mode: Mode::Shared,
            entry: Entry {
                pid: 42,
                host: "h".into(),
                token: 7,
                since_ms: 1_000,
                lease: 99,
                lease_left: Some(Duration::from_secs(3)),
            },
        };
        let h = holder_of(&e);
        assert_eq!((h.pid, h.token, h.since_ms), (42, 7, 1_000));
        assert_eq!((h.mode, h.liveness), (Mode::Shared, Liveness::Alive));
        e.entry.lease_left = None;
        e.mode = Mode::Exclusive;
        let h = holder_of(&e);
        assert_eq!((h.mode, h.liveness), (Mode::Exclusive, Liveness::Dead));
    }
}
