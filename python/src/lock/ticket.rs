//! The asyncio side: a ticket is one acquisition by one task, through a
//! handle of its own. `ringlock/_lock.py` drives it: `try_acquire` on the
//! event loop's thread (never blocks), else `wait` in a helper thread; a
//! cancelled task's ticket stops waiting (`cancel`) and gives back a hold
//! that arrived too late (`release`).

use super::{acquire, args, lock, timed_out, Handle, Handles, PyHold};
use pyo3::prelude::*;
use ringlock::lock::Mode;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One asyncio acquisition (private: see ``ringlock/_lock.py``).
#[pyclass(module = "ringlock._ringlock", name = "_Ticket", frozen)]
pub struct Ticket {
    handles: Arc<Handles>,
    /// The ticket's handle until its hold is registered with `handles` as
    /// the task's (then the object releases it), or the ticket is dropped
    /// (then it goes back to the pool).
    handle: Mutex<Option<Arc<Handle>>>,
    /// The handle's address: which task hold is this ticket's.
    id: usize,
    mode: Mode,
    task: Py<PyAny>,
    cancelled: AtomicBool,
    /// Whether a try never waits for the network (see `local`).
    local: bool,
}

impl Ticket {
    pub(crate) fn new(
        py: Python<'_>,
        handles: Arc<Handles>,
        mode: Mode,
        task: Bound<'_, PyAny>,
    ) -> PyResult<Ticket> {
        let h = handles.checkout(py)?;
        Ok(Ticket {
            local: h.is_local(),
            id: Arc::as_ptr(&h) as usize,
            handle: Mutex::new(Some(h)),
            handles,
            mode,
            task: task.unbind(),
            cancelled: AtomicBool::new(false),
        })
    }

    fn run(
        &self,
        py: Python<'_>,
        timeout: Option<Duration>,
        cancel: Option<&AtomicBool>,
    ) -> PyResult<Option<PyHold>> {
        let Some(h) = lock(&self.handle).clone() else {
            return Err(pyo3::exceptions::PyRuntimeError::new_err(
                "this acquisition is over",
            ));
        };
        let Some(hold) = acquire(py, &h, self.mode, timeout, cancel)? else {
            return Ok(None);
        };
        if self.handles.is_closed() {
            let _ = h.release(py);
            return Err(self.handles.closed_error());
        }
        lock(&self.handle).take();
        self.handles.add_task(self.task.clone_ref(py), h);
        self.handles.set_last(hold.clone());
        Ok(Some(hold))
    }
}

#[pymethods]
impl Ticket {
    /// Whether ``try_acquire`` is instant (a local lock), so the event
    /// loop's thread may call it; an etcd ticket does all in ``wait``.
    #[getter]
    fn local(&self) -> bool {
        self.local
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
        match self
            .handles
            .take_task(|t| Arc::as_ptr(&t.handle) as usize == self.id)
        {
            Some(t) => self.handles.release_task(py, t),
            None => Ok(()),
        }
    }

    /// The LockTimeout to raise when ``async with`` ran out of time.
    #[pyo3(signature = (timeout))]
    fn timeout_error(&self, py: Python<'_>, timeout: Option<f64>) -> Py<PyAny> {
        let t = timeout.and_then(|s| Duration::try_from_secs_f64(s).ok());
        timed_out(&self.handles.name, t).into_value(py).into_any()
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let h = self
            .handle
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(h) = h {
            self.handles.checkin(h);
        }
    }
}
