//! The asyncio side: a ticket is one acquisition by one task.
//! `ringlock/_lock.py` drives it: `try_acquire` on the event loop's thread
//! (never blocks), else `wait` in the object's waiting thread (one per
//! object, serving its tickets in turn); a cancelled task's ticket
//! stops waiting (`cancel`) and gives back a hold that arrived too late
//! (`release`).

use super::{args, lock, timed_out, Holds, Owner, PyHold};
use pyo3::prelude::*;
use ringlock::lock::Mode;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One asyncio acquisition (private: see ``ringlock/_lock.py``).
#[pyclass(module = "ringlock._ringlock", name = "_Ticket", frozen)]
pub struct Ticket {
    holds: Arc<Holds>,
    mode: Mode,
    task: Py<PyAny>,
    cancelled: AtomicBool,
    /// The id of the hold this ticket got, once it got one.
    got: Mutex<Option<u64>>,
}

impl Ticket {
    /// A ticket of `task`: `DeadlockError` if the task holds already.
    pub(crate) fn new(holds: Arc<Holds>, mode: Mode, task: Bound<'_, PyAny>) -> PyResult<Ticket> {
        let py = task.py();
        holds.check_open()?;
        let task = task.unbind();
        holds.refuse_reentry(&Owner::Task(task.clone_ref(py)))?;
        Ok(Ticket {
            holds,
            mode,
            task,
            cancelled: AtomicBool::new(false),
            got: Mutex::new(None),
        })
    }

    fn run(
        &self,
        py: Python<'_>,
        timeout: Option<Duration>,
        cancel: Option<&AtomicBool>,
    ) -> PyResult<Option<PyHold>> {
        let owner = Owner::Task(self.task.clone_ref(py));
        let Some((id, hold)) = self.holds.take(py, owner, self.mode, timeout, cancel)? else {
            return Ok(None);
        };
        *lock(&self.got) = Some(id);
        Ok(Some(hold))
    }
}

#[pymethods]
impl Ticket {
    /// Whether ``try_acquire`` is instant (a local lock), so the event
    /// loop's thread may call it; an etcd ticket does all in ``wait``.
    #[getter]
    fn local(&self) -> bool {
        self.holds.source.is_local()
    }

    /// One try, without waiting: the Hold, or None if the lock is held.
    fn try_acquire(&self, py: Python<'_>) -> PyResult<Option<PyHold>> {
        self.run(py, Some(Duration::ZERO), None)
    }

    /// Waits (GIL released) at most ``timeout`` seconds (None: for ever)
    /// or until ``cancel()``: the Hold, or None.
    #[pyo3(signature = (timeout))]
    fn wait(&self, py: Python<'_>, timeout: Option<&Bound<'_, PyAny>>) -> PyResult<Option<PyHold>> {
        let t = args::timeout(timeout, "timeout")?;
        self.run(py, t, Some(&self.cancelled))
    }

    /// Makes ``wait`` give up within 50 ms.
    fn cancel(&self) {
        self.cancelled.store(true, SeqCst);
    }

    /// Releases this ticket's hold if it is still held (a hold that arrived
    /// for a task that was cancelled meanwhile). Quiet otherwise.
    fn release(&self, py: Python<'_>) -> PyResult<()> {
        let Some(id) = lock(&self.got).take() else {
            return Ok(());
        };
        self.holds
            .release_where(py, |e| e.id == id)
            .unwrap_or(Ok(()))
    }

    /// The LockTimeout to raise when ``async with`` ran out of time.
    #[pyo3(signature = (timeout))]
    fn timeout_error(&self, py: Python<'_>, timeout: Option<f64>) -> Py<PyAny> {
        let t = timeout.and_then(|s| Duration::try_from_secs_f64(s).ok());
        timed_out(&self.holds.name, t).into_value(py).into_any()
    }
}
