//! The lock half of the Python face: `ringlock.Lock`, `ringlock.RWLock`,
//! their holds and status, and what asyncio needs.
//!
//! The core decides everything about locking. This layer converts arguments,
//! maps errors, releases the GIL while waiting and keeps the core handles
//! that Python's ideas of ownership need (a core handle holds one
//! acquisition at a time):
//!
//! - `Lock` behaves as a `threading.Lock`: one core handle serves all its
//!   threads, so they take turns, any thread may release, and the thread that
//!   holds it gets `DeadlockError` if it acquires again — the core's rules.
//! - `RWLock` gives each thread that holds it a handle of its own, so that
//!   several threads of one process can read at once; a hold belongs to its
//!   thread.
//! - An asyncio acquisition belongs to a task, not to a thread: it takes a
//!   handle of its own, waited for in a helper thread (`ticket.rs`).
//!
//! Handles not in use wait in the object's pool, so threads and tasks that
//! come and go do not open the lock file each time.
//!
//! A handle is a local core lock or an etcd one (`handle.rs`); both classes
//! take either.

mod args;
mod etcd;
mod handle;
mod hold;
mod plain;
mod rwlock;
mod ticket;

pub(crate) use hold::PyHold;
pub(crate) use plain::PyLock;
pub(crate) use rwlock::{PyRWLock, PyRWLockGuard};
pub(crate) use ticket::Ticket;

use crate::errors::{invalid, release_error, to_py};
use args::{EtcdArgs, Where};
use handle::{Handle, Source};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use ringlock::etcd::Client;
use ringlock::lock::{Hold, Lock as CoreLock, LockOptions, Mode};
use ringlock::ErrorKind;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// How often a waiter in the main thread runs Python's signal handlers (so
/// that Ctrl-C interrupts a blocked `acquire`). A local wait does so from
/// the core's hook, keeping its place in the meantime; an etcd wait polls
/// its helper thread's answer this often (`etcd.rs`). Other threads' waiters
/// sleep in the core until the lock is released or their timeout runs out.
const SIGNAL_SLICE: Duration = Duration::from_millis(200);

/// How often an asyncio waiter checks whether its task was cancelled (so a
/// cancelled wait ends soon, and rarely acquires for nobody).
const CANCEL_SLICE: Duration = Duration::from_millis(50);

/// What a Python lock object keeps besides the handles its class manages:
/// how to open more handles on the same lock, the idle ones, and the holds
/// of asyncio tasks.
pub(crate) struct Handles {
    /// "lock" or "rwlock", for messages.
    what: &'static str,
    name: String,
    source: Source,
    path: PathBuf,
    timeout: Option<Duration>,
    closed: AtomicBool,
    idle: Mutex<Vec<Arc<Handle>>>,
    tasks: Mutex<Vec<TaskHold>>,
    last: Mutex<Option<PyHold>>,
}

/// A hold of an asyncio task: the task (compared by identity) and the
/// handle that holds.
pub(crate) struct TaskHold {
    task: Py<PyAny>,
    handle: Arc<Handle>,
}

/// Locks a mutex of ours. No Python code runs while one is held (no
/// allocation, no decref), so a panic is the only way to poison one, and
/// the data stays consistent.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The arguments of a lock class's constructor (see `Lock`).
pub(crate) struct LockArgs<'a, 'py> {
    name: &'a Bound<'py, PyAny>,
    backend: Option<&'a Bound<'py, PyAny>>,
    dir: Option<&'a Bound<'py, PyAny>>,
    mode: Option<&'a Bound<'py, PyAny>>,
    timeout: Option<&'a Bound<'py, PyAny>>,
    etcd: EtcdArgs<'a, 'py>,
}

impl Handles {
    /// Opens the lock from the constructor's arguments: on this host, or
    /// in etcd through the process's shared client for the same endpoints
    /// and options (connecting, with the GIL released, if there is none).
    fn from_args(
        py: Python<'_>,
        what: &'static str,
        a: LockArgs<'_, '_>,
    ) -> PyResult<(Arc<Handles>, Arc<Handle>)> {
        let name = args::name(a.name)?;
        let source = match args::backend(a.backend)? {
            Where::Local(backend) => {
                if let Some(arg) = a.etcd.given() {
                    return Err(PyTypeError::new_err(format!(
                        "{arg}= is an argument of backend='etcd', not of backend={:?}",
                        backend.name()
                    )));
                }
                Source::Local(LockOptions {
                    backend,
                    dir: args::dir(a.dir)?,
                    file_mode: a.mode.map(args::file_mode).transpose()?.unwrap_or(0o600),
                })
            }
            Where::Etcd => {
                let local = [("dir", a.dir), ("mode", a.mode)];
                if let Some((arg, _)) = local.iter().find(|(_, v)| v.is_some_and(|o| !o.is_none()))
                {
                    return Err(PyTypeError::new_err(format!(
                        "{arg}= is an argument of the shm and file backends, not of backend='etcd'"
                    )));
                }
                let (endpoints, options) = a.etcd.options()?;
                let client = py
                    .detach(|| Client::shared(&endpoints, &options))
                    .map_err(to_py)?;
                Source::Etcd(client)
            }
        };
        let timeout = args::timeout(a.timeout, "timeout")?;
        Handles::open(py, what, name, source, timeout)
    }

    /// Opens the lock (with the GIL released: it may create the directory
    /// and the file) and returns its state with the first handle.
    fn open(
        py: Python<'_>,
        what: &'static str,
        name: String,
        source: Source,
        timeout: Option<Duration>,
    ) -> PyResult<(Arc<Handles>, Arc<Handle>)> {
        let first = py.detach(|| source.open(&name)).map_err(to_py)?;
        let handles = Handles {
            what,
            path: source.path(&first, &name),
            name,
            source,
            timeout,
            closed: AtomicBool::new(false),
            idle: Mutex::new(Vec::new()),
            tasks: Mutex::new(Vec::new()),
            last: Mutex::new(None),
        };
        Ok((Arc::new(handles), Arc::new(first)))
    }

    /// `"shm"`, `"file"` or `"etcd"`.
    fn backend(&self) -> &'static str {
        self.source.backend()
    }

    fn is_closed(&self) -> bool {
        self.closed.load(SeqCst)
    }

    /// The `InvalidArgumentError` of a use after `close()`.
    fn closed_error(&self) -> PyErr {
        invalid(format!("{} {:?} is closed", self.what, self.name))
    }

    fn check_open(&self) -> PyResult<()> {
        if self.is_closed() {
            return Err(self.closed_error());
        }
        Ok(())
    }

    /// An idle handle, or a new one on the same lock.
    fn checkout(&self, py: Python<'_>) -> PyResult<Arc<Handle>> {
        if let Some(h) = lock(&self.idle).pop() {
            return Ok(h);
        }
        let h = py.detach(|| self.source.open(&self.name)).map_err(to_py)?;
        Ok(Arc::new(h))
    }

    /// Returns a handle that holds nothing to the pool (after close, or if
    /// it holds after all, it is dropped: the core releases on drop).
    fn checkin(&self, h: Arc<Handle>) {
        if !self.is_closed() && !h.is_held() {
            lock(&self.idle).push(h);
        }
    }

    fn set_last(&self, hold: PyHold) {
        let old = lock(&self.last).replace(hold);
        drop(old); // after the mutex: an etcd hold's last reference may go
    }

    fn last(&self) -> Option<PyHold> {
        lock(&self.last).clone()
    }

    fn task_holds(&self, task: &Bound<'_, PyAny>) -> bool {
        lock(&self.tasks).iter().any(|t| t.task.is(task))
    }

    fn has_task_holds(&self) -> bool {
        !lock(&self.tasks).is_empty()
    }

    fn add_task(&self, task: Py<PyAny>, handle: Arc<Handle>) {
        lock(&self.tasks).push(TaskHold { task, handle });
    }

    /// Removes the first task hold that `pick` selects.
    fn take_task(&self, pick: impl Fn(&TaskHold) -> bool) -> Option<TaskHold> {
        let mut tasks = lock(&self.tasks);
        let i = tasks.iter().position(pick)?;
        Some(tasks.swap_remove(i))
    }

    /// Releases a task's hold and returns its handle to the pool.
    fn release_task(&self, py: Python<'_>, t: TaskHold) -> PyResult<()> {
        let r = t.handle.release(py).map_err(release_error);
        self.checkin(t.handle);
        r
    }

    /// Marks the object closed, releases the holds of tasks (an etcd one
    /// with the GIL released) and drops the idle handles. Idempotent.
    fn close(&self, py: Python<'_>) {
        self.closed.store(true, SeqCst);
        let idle = std::mem::take(&mut *lock(&self.idle));
        let tasks = std::mem::take(&mut *lock(&self.tasks));
        for t in tasks {
            let _ = t.handle.release(py);
        }
        py.detach(|| drop(idle));
    }
}

/// Acquires through `h`; `Ok(None)` when the timeout runs out (a zero
/// timeout: at once), or `cancel` is set. An etcd handle waits as `etcd.rs`
/// says.
fn acquire(
    py: Python<'_>,
    h: &Handle,
    mode: Mode,
    timeout: Option<Duration>,
    cancel: Option<&AtomicBool>,
) -> PyResult<Option<PyHold>> {
    match h {
        Handle::Local(h) => Ok(acquire_local(py, h, mode, timeout, cancel)?.map(PyHold::from)),
        Handle::Etcd(h) => h.acquire(py, mode, timeout, cancel),
    }
}

/// Acquires through a local handle: first a try with the GIL held (a few
/// atomics on shm, one flock on file: the whole cost when the lock is
/// free), then, if the lock is held elsewhere, one wait in the core with the
/// GIL released. Where something must be checked while waiting (signals in
/// the main thread, `cancel` for asyncio), the core's hook checks it without
/// the wait giving up its place: a waiting writer keeps holding new readers
/// back. In the main thread the hook takes the GIL for a moment and runs the
/// signal handlers; an exception they raise ends the wait (withdrawn, as on
/// a timeout) and is raised.
fn acquire_local(
    py: Python<'_>,
    h: &CoreLock,
    mode: Mode,
    timeout: Option<Duration>,
    cancel: Option<&AtomicBool>,
) -> PyResult<Option<Hold>> {
    match h.acquire(mode, Some(Duration::ZERO)) {
        Ok(hold) => return Ok(Some(hold)),
        Err(e) if e.kind() == ErrorKind::WouldBlock => {}
        Err(e) => return Err(to_py(e)),
    }
    if timeout == Some(Duration::ZERO) {
        return Ok(None);
    }
    let main = cancel.is_none() && in_main_thread(py)?;
    // what stopped the wait from the hook: an exception of a signal
    // handler, or the cancellation (None inside)
    let mut stopped: Option<Option<PyErr>> = None;
    let got = py.detach(|| match cancel {
        Some(c) => h.acquire_interruptible(mode, timeout, CANCEL_SLICE, &mut || {
            if c.load(SeqCst) {
                stopped = Some(None);
                return Err(interrupted());
            }
            Ok(())
        }),
        // No mutex of ours is held here (the core waits on atomics): the
        // signal handlers may do anything, this lock included.
        None if main => h.acquire_interruptible(mode, timeout, SIGNAL_SLICE, &mut || {
            Python::attach(|py| py.check_signals()).map_err(|e| {
                stopped = Some(Some(e));
                interrupted()
            })
        }),
        None => h.acquire(mode, timeout),
    });
    match (got, stopped) {
        (Ok(hold), _) => Ok(Some(hold)),
        (Err(_), Some(Some(e))) => Err(e),
        (Err(_), Some(None)) => Ok(None),
        (Err(e), None) if matches!(e.kind(), ErrorKind::Timeout | ErrorKind::WouldBlock) => {
            Ok(None)
        }
        (Err(e), None) => Err(to_py(e)),
    }
}

/// The error the hook ends a wait with (never seen by Python: the reason is
/// kept beside it).
fn interrupted() -> ringlock::Error {
    ringlock::Error::new(ErrorKind::Internal, "lock wait interrupted")
}

/// Whether the calling thread is Python's main thread (where signal
/// handlers run).
fn in_main_thread(py: Python<'_>) -> PyResult<bool> {
    let threading = py.import("threading")?;
    let main = threading.call_method0("main_thread")?.getattr("ident")?;
    main.eq(threading.call_method0("get_ident")?)
}

/// `"exclusive"` or `"shared"`.
fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::Exclusive => "exclusive",
        Mode::Shared => "shared",
    }
}

/// The `LockTimeout` of a `with` block whose lock's timeout ran out.
fn timed_out(name: &str, timeout: Option<Duration>) -> PyErr {
    let after = timeout.map_or(String::new(), |t| format!(" after {} s", t.as_secs_f64()));
    to_py(ringlock::Error::new(
        ErrorKind::Timeout,
        format!("timed out waiting for lock {name:?}{after}"),
    ))
}

/// `asyncio.current_task()`, or an error outside a running task.
fn current_task(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    let task = py.import("asyncio")?.call_method0("current_task")?;
    if task.is_none() {
        return Err(pyo3::exceptions::PyRuntimeError::new_err(
            "no running asyncio task",
        ));
    }
    Ok(task)
}

/// `ringlock._lock.<function>(*args)`: a named tuple of `status()`, or a
/// coroutine of the asyncio side.
fn helper<'py>(
    py: Python<'py>,
    function: &str,
    args: impl pyo3::call::PyCallArgs<'py>,
) -> PyResult<Bound<'py, PyAny>> {
    static HELPERS: pyo3::sync::PyOnceLock<Py<PyModule>> = pyo3::sync::PyOnceLock::new();
    let module = HELPERS.get_or_try_init(py, || py.import("ringlock._lock").map(Bound::unbind))?;
    module.bind(py).getattr(function)?.call1(args)
}
