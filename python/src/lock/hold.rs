//! `ringlock.Hold` (what an acquisition gives) and the conversion of the
//! core's `LockStatus` to the named tuples `ringlock.LockStatus` and
//! `ringlock.Holder` (defined in `ringlock/_lock.py`).

use super::etcd::EtcdHold;
use super::helper;
use pyo3::prelude::*;
use ringlock::lock::{Hold, Liveness, LockStatus};
use std::sync::Arc;

/// What an acquisition gives: the fencing ``token``, whether the
/// ``previous_owner_died`` without releasing, and the ``mode`` held.
///
/// ``token``: for an exclusive hold, a number strictly greater than every
/// token handed out before for this lock, in any process, across crashes;
/// send it with every write to the protected resource and have the resource
/// refuse tokens lower than the highest it has seen. A shared hold carries
/// the token of the last exclusive one (0 if none).
///
/// ``previous_owner_died``: a holder died (``kill -9`` included) without
/// releasing since the last exclusive acquisition; reported once, to the
/// next exclusive acquirer. What it protected may be half written. With
/// etcd: the previous exclusive holder's lease expired instead of it
/// releasing; a shared hold says it of the last exclusive holder (every read
/// until the next write does: what it reads may be half written), and a
/// reader that dies is reported to nobody.
///
/// ``lost``: an etcd hold whose lease expired (the process was paused or
/// cut off from etcd past its TTL) is lost: another process may hold the
/// lock now, and ``release()`` raises LockLostError. Local holds are never
/// lost.
#[pyclass(module = "ringlock", name = "Hold", frozen, eq, hash)]
#[derive(Clone)]
pub struct PyHold {
    hold: Hold,
    /// The etcd acquisition (for `lost`); `None` for a local hold.
    etcd: Option<Arc<EtcdHold>>,
}

impl From<Hold> for PyHold {
    fn from(hold: Hold) -> Self {
        PyHold { hold, etcd: None }
    }
}

impl PyHold {
    /// The hold of an etcd acquisition.
    pub(super) fn etcd(hold: Hold, of: Arc<EtcdHold>) -> Self {
        PyHold {
            hold,
            etcd: Some(of),
        }
    }
}

/// Holds are equal when what they say is (token, previous_owner_died, mode).
impl PartialEq for PyHold {
    fn eq(&self, other: &Self) -> bool {
        self.hold == other.hold
    }
}

impl Eq for PyHold {}

impl std::hash::Hash for PyHold {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.hold.hash(state);
    }
}

#[pymethods]
impl PyHold {
    /// The fencing token of this acquisition (see the class docs).
    #[getter]
    fn token(&self) -> u64 {
        self.hold.token
    }

    /// Whether a holder died without releasing before this acquisition.
    #[getter]
    fn previous_owner_died(&self) -> bool {
        self.hold.previous_owner_died
    }

    /// Whether the hold is known lost (etcd: its lease expired, or its key
    /// is gone; asks etcd while the hold is held, and says False when etcd
    /// does not answer, until the lease's own deadline passes). Always False
    /// for the local backends.
    #[getter]
    fn lost(&self, py: Python<'_>) -> bool {
        self.etcd.as_ref().is_some_and(|h| h.lost(py))
    }

    /// ``"exclusive"`` or ``"shared"``.
    #[getter]
    fn mode(&self) -> &'static str {
        self.hold.mode.name()
    }

    fn __repr__(&self) -> String {
        format!(
            "Hold(token={}, previous_owner_died={}, mode='{}')",
            self.hold.token,
            if self.hold.previous_owner_died {
                "True"
            } else {
                "False"
            },
            self.mode()
        )
    }
}

/// `LockStatus(token, [Holder(pid, mode, since, token, liveness), ...])`.
pub(super) fn status(py: Python<'_>, st: LockStatus) -> PyResult<Bound<'_, PyAny>> {
    let mut holders = Vec::with_capacity(st.holders.len());
    for h in st.holders {
        let liveness = match h.liveness {
            Liveness::Alive => "alive",
            Liveness::Stopped => "stopped",
            Liveness::Dead => "dead",
        };
        let since = h.since_ms as f64 / 1000.0;
        holders.push(helper(
            py,
            "Holder",
            (h.pid, h.mode.name(), since, h.token, liveness),
        )?);
    }
    helper(py, "LockStatus", (st.token, holders))
}

/// Whether a status shows a holder whose process is still there (alive or
/// stopped): a dead one no longer excludes anybody.
pub(super) fn someone_holds(st: &LockStatus) -> bool {
    st.holders.iter().any(|h| h.liveness != Liveness::Dead)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ringlock::lock::Mode;

    #[test]
    fn holds_convert_and_print_like_python() {
        let h = PyHold::from(Hold {
            token: 7,
            previous_owner_died: true,
            mode: Mode::Exclusive,
        });
        assert_eq!(
            h.__repr__(),
            "Hold(token=7, previous_owner_died=True, mode='exclusive')"
        );
        let s = PyHold::from(Hold {
            token: 0,
            previous_owner_died: false,
            mode: Mode::Shared,
        });
        assert_eq!(s.mode(), "shared");
        assert!(s.__repr__().contains("previous_owner_died=False"));
    }
}
