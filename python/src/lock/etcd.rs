//! The etcd side of `ringlock.Lock(backend="etcd")` and
//! `ringlock.RWLock(backend="etcd")`: the hold of one acquisition, and the
//! status.
//!
//! Both classes take the core's `RWLock`: its exclusive mode *is* a core
//! `Lock` acquisition (the same keys and transactions), and its status says
//! in which mode each holder and waiter is, which a `Lock` of a name that
//! readers also use needs too. Each acquisition has a core handle of its own
//! (`source.rs`), so the threads of one process queue in etcd as processes
//! do (an object's asyncio tasks reach it one after another, through its
//! waiting thread).
//!
//! The core's [`RWGuard`] lives in an [`EtcdHold`], shared with the `Hold`s
//! Python has of it, so that `hold.lost` can ask [`RWGuard::check`].

use super::{lock, PyHold};
use crate::errors::to_py;
use pyo3::prelude::*;
use ringlock::etcd::{RWEntry, RWGuard, RWLock as EtcdRWLock};
use ringlock::lock::Hold;
use ringlock::{Error, ErrorKind};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Mutex};

/// One acquisition's guard, shared with the `Hold`s of it.
pub(crate) struct EtcdHold {
    /// `None` once released.
    guard: Mutex<Option<RWGuard>>,
    /// Known lost: `RWGuard::check` or the release said `Lost`.
    lost: AtomicBool,
}

impl EtcdHold {
    /// The hold of `guard`, and the `Hold` Python gets of it.
    pub(crate) fn new(guard: RWGuard) -> (Arc<EtcdHold>, PyHold) {
        let said = Hold {
            token: guard.token(),
            previous_owner_died: guard.previous_owner_died(),
            mode: guard.mode(),
        };
        let hold = Arc::new(EtcdHold {
            guard: Mutex::new(Some(guard)),
            lost: AtomicBool::new(false),
        });
        let py_hold = PyHold::etcd(said, Arc::clone(&hold));
        (hold, py_hold)
    }

    /// Releases (call it with the GIL released: a request): `Lost` if the
    /// hold was lost, `Unavailable` if etcd did not answer.
    pub(crate) fn release(&self) -> ringlock::Result<()> {
        let guard = lock(&self.guard).take();
        let Some(guard) = guard else {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                "this hold was released",
            ));
        };
        let result = guard.release();
        if result.as_ref().is_err_and(|e| e.kind() == ErrorKind::Lost) {
            self.lost.store(true, Relaxed);
        }
        result
    }

    /// Whether the hold is known lost. While it is held, asks etcd
    /// ([`RWGuard::check`], GIL released); etcd out of reach is "not known"
    /// (false) until the lease's own deadline passes, which `check` sees
    /// without etcd.
    pub(crate) fn lost(&self, py: Python<'_>) -> bool {
        if self.lost.load(Relaxed) {
            return true;
        }
        py.detach(|| {
            let guard = lock(&self.guard);
            if let Some(Err(e)) = guard.as_ref().map(RWGuard::check) {
                if e.kind() == ErrorKind::Lost {
                    self.lost.store(true, Relaxed);
                }
            }
        });
        self.lost.load(Relaxed)
    }
}

/// The holders and the waiters, with their modes (GIL released while etcd
/// answers): `EtcdLockStatus(token, [EtcdHolder, ...], [EtcdHolder, ...])`.
pub(crate) fn status<'py>(py: Python<'py>, probe: &EtcdRWLock) -> PyResult<Bound<'py, PyAny>> {
    let st = py.detach(|| probe.status()).map_err(to_py)?;
    let holders = st
        .holders
        .iter()
        .map(|e| holder(py, e))
        .collect::<PyResult<Vec<_>>>()?;
    let waiters = st
        .waiters
        .iter()
        .map(|e| holder(py, e))
        .collect::<PyResult<Vec<_>>>()?;
    super::helper(py, "EtcdLockStatus", (st.token, holders, waiters))
}

/// Whether a live lease holds the lock now.
pub(crate) fn someone_holds(py: Python<'_>, probe: &EtcdRWLock) -> PyResult<bool> {
    let st = py.detach(|| probe.status()).map_err(to_py)?;
    Ok(st.holders.iter().any(|h| h.entry.lease_left.is_some()))
}

/// `EtcdHolder(pid, mode, since, token, liveness, host, lease_left)`.
fn holder<'py>(py: Python<'py>, rw: &RWEntry) -> PyResult<Bound<'py, PyAny>> {
    let e = &rw.entry;
    let liveness = if e.lease_left.is_some() {
        "alive"
    } else {
        "dead"
    };
    let since = e.since_ms as f64 / 1000.0;
    let left = e.lease_left.map(|d| d.as_secs_f64());
    super::helper(
        py,
        "EtcdHolder",
        (
            e.pid,
            rw.mode.name(),
            since,
            e.token,
            liveness,
            e.host.as_str(),
            left,
        ),
    )
}
