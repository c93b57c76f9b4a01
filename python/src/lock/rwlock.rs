//! `ringlock.RWLock`: a named read/write lock, on this host or in etcd; a
//! hold per thread (and per task), so the threads of one process can read at
//! once.

use super::{args, current_task, helper, Holds, Owner, PyHold, Ticket};
use pyo3::prelude::*;
use ringlock::lock::Mode;
use std::sync::Arc;

/// A read/write lock named ``name`` between the processes of the host (or,
/// with ``backend="etcd"``, of any host): any number of readers at once, or
/// one writer. The arguments are those of :class:`Lock`.
///
/// ``with rw.read() as hold:`` holds it shared, ``with rw.write() as hold:``
/// exclusive; both wait the lock's ``timeout`` and raise LockTimeout when it
/// runs out (``async with`` works too, without blocking the event loop).
/// ``acquire_read``/``acquire_write(timeout=None, blocking=True) -> bool``
/// and ``release()`` are the same without a ``with``.
///
/// Holds belong to the calling thread: the threads of one process can read
/// at once (each hold its own), a thread releases only what
/// it acquired (NotHeldError otherwise), and a thread that acquires again
/// while it holds gets DeadlockError (no upgrade, no reentrancy). A thread
/// that exits while holding leaves the lock held until ``close()``, garbage
/// collection or the end of the process. A waiting writer keeps new
/// readers out, so readers cannot starve it.
///
/// ``backend="etcd"`` (``endpoints``, ``ttl``, ``namespace`` and
/// ``request_timeout`` as for :class:`Lock`): a reader that comes after a
/// waiting writer waits for it too (writer preference by queue order), a
/// read's ``token`` is that of the last write (0 if none), and ``hold.lost``
/// says whether the lease expired under the hold (``release()`` then raises
/// LockLostError). An RWLock and a Lock of the same name are one lock: a
/// Lock acquisition is a write. ``status()`` is an EtcdLockStatus whose
/// holders (one writer, or the readers) and waiters (in the order they will
/// hold) say their ``mode``.
#[pyclass(module = "ringlock", name = "RWLock", frozen, weakref)]
pub struct PyRWLock {
    holds: Arc<Holds>,
}

lock_class!(PyRWLock, "rwlock", {
    /// A context manager that holds the lock shared: ``with rw.read() as
    /// hold:`` (or ``async with``).
    fn read(slf: &Bound<'_, Self>) -> PyRWLockGuard {
        PyRWLockGuard {
            rw: slf.clone().unbind(),
            mode: Mode::Shared,
        }
    }

    /// A context manager that holds the lock exclusive: ``with rw.write() as
    /// hold:`` (or ``async with``).
    fn write(slf: &Bound<'_, Self>) -> PyRWLockGuard {
        PyRWLockGuard {
            rw: slf.clone().unbind(),
            mode: Mode::Exclusive,
        }
    }

    /// Acquires shared for the calling thread, as ``Lock.acquire``: True
    /// once held, False if ``timeout`` ran out (or, ``blocking=False``, the
    /// lock is held exclusive elsewhere).
    #[pyo3(signature = (timeout=None, blocking=true))]
    fn acquire_read(
        &self,
        py: Python<'_>,
        timeout: Option<&Bound<'_, PyAny>>,
        blocking: bool,
    ) -> PyResult<bool> {
        self.holds.acquire(py, Mode::Shared, timeout, blocking)
    }

    /// Acquires exclusive for the calling thread, as ``Lock.acquire``.
    #[pyo3(signature = (timeout=None, blocking=true))]
    fn acquire_write(
        &self,
        py: Python<'_>,
        timeout: Option<&Bound<'_, PyAny>>,
        blocking: bool,
    ) -> PyResult<bool> {
        self.holds.acquire(py, Mode::Exclusive, timeout, blocking)
    }

    /// Releases what the calling thread holds (read or write). Raises
    /// NotHeldError (a RuntimeError) if it holds nothing.
    fn release(&self, py: Python<'_>) -> PyResult<()> {
        self.holds.check_open()?;
        self.holds.release_owner(py, &Owner::thread())
    }

    /// Whether the calling thread holds the lock (read or write).
    #[getter]
    fn held(&self) -> bool {
        let me = Owner::thread();
        self.holds.holds(|o| o.is(&me))
    }

    /// Whether anyone holds the lock right now, in any mode and process (a
    /// holder whose process died does not count). A snapshot.
    fn locked(&self, py: Python<'_>) -> PyResult<bool> {
        self.holds.check_open()?;
        self.holds.source.someone_holds(py)
    }

    /// A ticket for an asyncio acquisition by the current task (private).
    fn _ticket(&self, py: Python<'_>, shared: bool) -> PyResult<Ticket> {
        let mode = if shared {
            Mode::Shared
        } else {
            Mode::Exclusive
        };
        Ticket::new(self.holds.clone(), mode, current_task(py)?)
    }

    /// Releases the current task's hold (private: ``async with`` exit).
    fn _release_task(&self, py: Python<'_>) -> PyResult<()> {
        let task = current_task(py)?.unbind();
        self.holds.release_owner(py, &Owner::Task(task))
    }

    fn __repr__(&self) -> String {
        self.holds.repr("RWLock", self.held(), " by this thread")
    }
});

/// What ``RWLock.read()`` and ``RWLock.write()`` return: a context manager
/// (``with`` or ``async with``) that acquires on entry, with the lock's
/// ``timeout``, gives the :class:`Hold`, and releases on exit.
#[pyclass(module = "ringlock", name = "RWLockGuard", frozen)]
pub struct PyRWLockGuard {
    rw: Py<PyRWLock>,
    mode: Mode,
}

#[pymethods]
impl PyRWLockGuard {
    /// ``"shared"`` (``read()``) or ``"exclusive"`` (``write()``).
    #[getter]
    fn mode(&self) -> &'static str {
        self.mode.name()
    }

    fn __enter__(&self, py: Python<'_>) -> PyResult<PyHold> {
        self.rw.get().holds.enter(py, self.mode)
    }

    fn __exit__(
        &self,
        py: Python<'_>,
        _exc_type: &Bound<'_, PyAny>,
        _exc: &Bound<'_, PyAny>,
        _tb: &Bound<'_, PyAny>,
    ) -> PyResult<bool> {
        self.rw.get().release(py)?;
        Ok(false)
    }

    fn __aenter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let t = args::seconds(self.rw.get().holds.timeout);
        let shared = self.mode == Mode::Shared;
        helper(py, "rw_enter", (self.rw.clone_ref(py), shared, t))
    }

    fn __aexit__<'py>(
        &self,
        py: Python<'py>,
        _exc_type: &Bound<'py, PyAny>,
        _exc: &Bound<'py, PyAny>,
        _tb: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        helper(py, "rw_exit", (self.rw.clone_ref(py),))
    }

    fn __repr__(&self) -> String {
        let rw = self.rw.get();
        let how = if self.mode == Mode::Shared {
            "read"
        } else {
            "write"
        };
        format!("<ringlock.RWLockGuard {how} of {}>", rw.__repr__())
    }
}
