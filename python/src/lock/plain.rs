//! `ringlock.Lock`: an exclusive named lock that behaves as a
//! `threading.Lock` shared by every process of the host.

use super::{args, current_task, helper, Holds, PyHold, Ticket};
use crate::errors::not_held;
use pyo3::prelude::*;
use ringlock::lock::Mode;
use std::sync::Arc;

/// An exclusive lock named ``name`` that any process of the host (or, with
/// ``backend="etcd"``, of any host) can take, that survives a holder that
/// dies, and that hands out fencing tokens.
///
/// ``name`` is 1 to 200 characters from ``A-Z a-z 0-9 . _ -``. ``backend``
/// is ``"shm"`` (a mapped page, the fast default) or ``"file"`` (flock,
/// freed by the kernel; shareable between containers). ``dir`` is the lock
/// directory (default ``/dev/shm/ringlock-<uid>/``; no symlink in its path,
/// none of it writable by other users unless sticky); ``mode`` the permission
/// bits of a lock file this call creates (must include 0o600; a mode shared
/// with the group or others also accepts another user's lock file). ``timeout``
/// (seconds, None for ever) is what ``with lock:`` and ``async with lock:``
/// wait before they raise LockTimeout.
///
/// ``backend="etcd"`` keeps the lock in etcd, for processes on any host:
/// ``endpoints`` is a list of ``"http://host:port"`` (or one str, commas
/// between them; required), ``ttl`` the seconds (at least 2, default 10)
/// after which the holds of a process that stopped renewing its lease end,
/// ``namespace`` the prefix of the keys (default ``"ringlock"``),
/// ``request_timeout`` the bound (seconds, default 5) of each request that
/// has no deadline of its own. The Lock objects of one process with the same
/// endpoints and options share one client (one lease, one keep-alive
/// thread). ``dir`` and ``mode`` are refused with etcd, and the etcd
/// arguments with the local backends (TypeError). The token is the holder
/// key's etcd revision; ``hold.lost`` says whether the lease expired under a
/// hold; UnavailableError (a ConnectionError) when etcd does not answer in
/// time. A wait interrupted by Ctrl-C (or an asyncio cancel) takes its key
/// out of etcd's queue before it raises; docs/distributed.md has the recipe.
///
/// It behaves as a ``threading.Lock``: ``acquire(timeout=None,
/// blocking=True) -> bool``, ``release()`` from any thread of the process,
/// ``locked()``. Threads sharing one Lock take turns; a thread that acquires
/// a lock it holds through the same object gets DeadlockError (a hang with
/// threading). Separate Lock objects on one name exclude each other as
/// processes do. ``with lock as hold:`` gives a :class:`Hold` with the
/// fencing ``token`` and ``previous_owner_died``.
///
/// asyncio: ``async with lock as hold:`` and ``await lock.acquire_async()``
/// never block the event loop (a held lock is waited for in the object's
/// one waiting thread, its tasks first come first served); such a hold
/// belongs to the task, and any thread may release it.
///
/// Waiting releases the GIL. In the main thread a wait is interrupted by
/// Ctrl-C (within 0.2 s), and keeps its place until then. The lock is
/// released when the object is closed or garbage-collected, and by the
/// kernel or the next waiter when the process dies. docs/locks.md has the
/// full semantics.
#[pyclass(module = "ringlock", name = "Lock", frozen, weakref)]
pub struct PyLock {
    holds: Arc<Holds>,
}

lock_class!(PyLock, "lock", {
    /// Acquires the lock, as ``threading.Lock.acquire``: waits for ever
    /// (``timeout`` None or -1), at most ``timeout`` seconds, or not at all
    /// (``blocking=False``, or ``timeout=0``). Returns True once acquired,
    /// False if the lock stayed held elsewhere. Raises DeadlockError if the
    /// calling thread already holds it through this object.
    #[pyo3(signature = (timeout=None, blocking=true))]
    fn acquire(
        &self,
        py: Python<'_>,
        timeout: Option<&Bound<'_, PyAny>>,
        blocking: bool,
    ) -> PyResult<bool> {
        self.holds.acquire(py, Mode::Exclusive, timeout, blocking)
    }

    /// Releases the lock; any thread may (as with ``threading.Lock``).
    /// Raises NotHeldError (a RuntimeError) if this object does not hold it.
    fn release(&self, py: Python<'_>) -> PyResult<()> {
        self.holds.check_open()?;
        self.holds.release_where(py, |_| true).unwrap_or_else(|| {
            Err(not_held(&format!(
                "lock {:?} is not held through this object",
                self.holds.name
            )))
        })
    }

    /// Whether the lock is held right now, by this object or by anyone else
    /// (a holder whose process died does not count). A snapshot, as with
    /// ``threading.Lock.locked``.
    fn locked(&self, py: Python<'_>) -> PyResult<bool> {
        self.holds.check_open()?;
        Ok(self.held() || self.holds.source.someone_holds(py)?)
    }

    /// Whether this object holds the lock (in this process).
    #[getter]
    fn held(&self) -> bool {
        self.holds.holds(|_| true)
    }

    /// The Hold of the last acquisition through this object (None before
    /// the first).
    #[getter]
    fn hold(&self) -> Option<PyHold> {
        self.holds.last()
    }

    /// Acquires with the lock's own ``timeout``; raises LockTimeout (also a
    /// TimeoutError) when it runs out. Returns the Hold.
    fn __enter__(&self, py: Python<'_>) -> PyResult<PyHold> {
        self.holds.enter(py, Mode::Exclusive)
    }

    fn __exit__(
        &self,
        py: Python<'_>,
        _exc_type: &Bound<'_, PyAny>,
        _exc: &Bound<'_, PyAny>,
        _tb: &Bound<'_, PyAny>,
    ) -> PyResult<bool> {
        self.release(py)?;
        Ok(false)
    }

    /// ``await lock.acquire_async(timeout=None) -> bool``: ``acquire`` for
    /// asyncio, without blocking the event loop. The hold belongs to the
    /// awaiting task (DeadlockError if it holds the lock already); if the
    /// task is cancelled, nothing stays held.
    #[pyo3(signature = (timeout=None))]
    fn acquire_async<'py>(
        slf: &Bound<'py, Self>,
        timeout: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let t = args::timeout(timeout, "timeout")?;
        helper(slf.py(), "lock_acquire", (slf, args::seconds(t)))
    }

    fn __aenter__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let t = args::seconds(slf.get().holds.timeout);
        helper(slf.py(), "lock_enter", (slf, t))
    }

    fn __aexit__<'py>(
        slf: &Bound<'py, Self>,
        _exc_type: &Bound<'py, PyAny>,
        _exc: &Bound<'py, PyAny>,
        _tb: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        helper(slf.py(), "lock_exit", (slf,))
    }

    /// A ticket for an asyncio acquisition by the current task (private).
    fn _ticket(&self, py: Python<'_>) -> PyResult<Ticket> {
        Ticket::new(self.holds.clone(), Mode::Exclusive, current_task(py)?)
    }

    fn __repr__(&self) -> String {
        self.holds.repr("Lock", self.held(), "")
    }
});
