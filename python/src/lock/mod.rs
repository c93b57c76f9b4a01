//! The lock half of the Python face: `ringlock.Lock`, `ringlock.RWLock`,
//! their holds and status, and what asyncio needs.
//!
//! The core decides everything about locking and owns every hold: a local
//! acquisition is a core guard (its reader slot or its own file
//! description), an etcd one a core etcd guard (`source.rs`). This layer
//! converts arguments, maps errors, releases the GIL while waiting, and
//! keeps a table of the object's holds with their owners — which is all that
//! Python's ideas of ownership need:
//!
//! - `Lock` behaves as a `threading.Lock`: one hold at a time (all its holds
//!   are exclusive), any thread may release it, and the thread (or task)
//!   that holds it gets `DeadlockError` if it acquires again.
//! - `RWLock`: a hold per thread (and per task), so that several threads of
//!   one process can read at once; a thread releases only its own.
//! - An asyncio acquisition belongs to a task, waited for in the object's
//!   waiting thread, one task after another (`ticket.rs`).
//!
//! A hold made before a `fork()` is not the child's: the child's table
//! forgets it.

#[macro_use]
mod class;
mod args;
mod etcd;
mod hold;
mod plain;
mod rwlock;
mod source;
mod ticket;

pub(crate) use hold::PyHold;
pub(crate) use plain::PyLock;
pub(crate) use rwlock::{PyRWLock, PyRWLockGuard};
pub(crate) use ticket::Ticket;

use crate::errors::{invalid, not_held, release_error, to_py};
use args::{EtcdArgs, Where};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use ringlock::etcd::Client;
use ringlock::lock::{current_pid, thread_token, LockOptions, Mode};
use ringlock::{Error, ErrorKind};
use source::{Held, Source};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// A Python lock object's state: where its holds come from, and the holds
/// it has, with their owners.
pub(crate) struct Holds {
    /// "lock" or "rwlock", for messages.
    what: &'static str,
    name: String,
    source: Source,
    path: PathBuf,
    timeout: Option<Duration>,
    closed: AtomicBool,
    table: Mutex<Table>,
    /// How many holds the table has (read without the mutex: an empty
    /// table, the common case, needs no lock to be found empty).
    count: AtomicUsize,
    /// The process whose holds the table has (a forked child forgets the
    /// parent's).
    pid: AtomicU32,
    next_id: AtomicU64,
}

#[derive(Default)]
struct Table {
    held: Vec<Entry>,
    /// The `Hold` of the last acquisition.
    last: Option<PyHold>,
}

/// Who a hold belongs to.
pub(crate) enum Owner {
    /// The core's token of the thread (`thread_token`).
    Thread(u64),
    /// An asyncio task, compared by identity.
    Task(Py<PyAny>),
}

impl Owner {
    fn thread() -> Owner {
        Owner::Thread(thread_token())
    }

    fn is(&self, other: &Owner) -> bool {
        match (self, other) {
            (Owner::Thread(a), Owner::Thread(b)) => a == b,
            (Owner::Task(a), Owner::Task(b)) => a.is(b),
            _ => false,
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Owner::Thread(_) => "thread",
            Owner::Task(_) => "task",
        }
    }
}

/// One hold of the object.
struct Entry {
    id: u64,
    owner: Owner,
    held: Held,
}

/// Locks a mutex of ours. No Python code runs while one is held (no
/// allocation of Python objects, no decref: entries leave the table before
/// they are dropped), so a panic is the only way to poison one, and the data
/// stays consistent.
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

impl Holds {
    /// Opens the lock from the constructor's arguments: on this host, or
    /// in etcd through the process's shared client for the same endpoints
    /// and options (connecting, with the GIL released, if there is none).
    fn open(py: Python<'_>, what: &'static str, a: LockArgs<'_, '_>) -> PyResult<Holds> {
        let name = args::name(a.name)?;
        let source = match args::backend(a.backend)? {
            Where::Local(backend) => {
                if let Some(arg) = a.etcd.given() {
                    return Err(PyTypeError::new_err(format!(
                        "{arg}= is an argument of backend='etcd', not of backend={:?}",
                        backend.name()
                    )));
                }
                let options = LockOptions {
                    backend,
                    dir: args::dir(a.dir)?,
                    file_mode: a.mode.map(args::file_mode).transpose()?.unwrap_or(0o600),
                };
                Source::local(py, &name, &options)?
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
                Source::etcd(client, &name)?
            }
        };
        let timeout = args::timeout(a.timeout, "timeout")?;
        Ok(Holds {
            what,
            path: source.path(),
            name,
            source,
            timeout,
            closed: AtomicBool::new(false),
            table: Mutex::new(Table::default()),
            count: AtomicUsize::new(0),
            pid: AtomicU32::new(current_pid()),
            next_id: AtomicU64::new(1),
        })
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

    /// Acquires for `owner`; `Ok(None)` when `timeout` runs out or `cancel`
    /// is set. `DeadlockError` if `owner` holds already. Returns the
    /// hold's id in the table with the `Hold`.
    fn take(
        &self,
        py: Python<'_>,
        owner: Owner,
        mode: Mode,
        timeout: Option<Duration>,
        cancel: Option<&AtomicBool>,
    ) -> PyResult<Option<(u64, PyHold)>> {
        self.check_open()?;
        self.forget_inherited(py);
        self.refuse_reentry(&owner)?;
        let Some((held, hold)) = self.source.acquire(py, mode, timeout, cancel)? else {
            return Ok(None);
        };
        if self.is_closed() {
            let _ = held.release(py);
            return Err(self.closed_error());
        }
        let id = self.next_id.fetch_add(1, SeqCst);
        let old = {
            let mut t = lock(&self.table);
            t.held.push(Entry { id, owner, held });
            self.count.store(t.held.len(), SeqCst);
            t.last.replace(hold.clone())
        };
        drop(old); // after the mutex: an etcd hold's last reference may go
        Ok(Some((id, hold)))
    }

    /// Acquires for the calling thread; `None` when `timeout` runs out.
    fn take_thread(
        &self,
        py: Python<'_>,
        mode: Mode,
        timeout: Option<Duration>,
    ) -> PyResult<Option<PyHold>> {
        let got = self.take(py, Owner::thread(), mode, timeout, None)?;
        Ok(got.map(|(_, hold)| hold))
    }

    /// `acquire(timeout, blocking)` of either class, in `mode`.
    fn acquire(
        &self,
        py: Python<'_>,
        mode: Mode,
        timeout: Option<&Bound<'_, PyAny>>,
        blocking: bool,
    ) -> PyResult<bool> {
        let t = args::acquire_timeout(timeout, blocking)?;
        Ok(self.take_thread(py, mode, t)?.is_some())
    }

    /// `with`: acquires with the object's timeout, `LockTimeout` when it
    /// runs out.
    fn enter(&self, py: Python<'_>, mode: Mode) -> PyResult<PyHold> {
        self.take_thread(py, mode, self.timeout)?
            .ok_or_else(|| timed_out(&self.name, self.timeout))
    }

    /// `<ringlock.Class 'name' backend='...' path='...' state>`, the state
    /// "closed", "held<by>" or "not held<by>".
    fn repr(&self, class: &str, held: bool, by: &str) -> String {
        let state = match (self.is_closed(), held) {
            (true, _) => "closed".to_owned(),
            (false, true) => format!("held{by}"),
            (false, false) => format!("not held{by}"),
        };
        format!(
            "<ringlock.{class} '{}' backend='{}' path='{}' {state}>",
            self.name,
            self.source.backend(),
            self.path.display()
        )
    }

    /// `DeadlockError` if `owner` holds the lock through the object.
    fn refuse_reentry(&self, owner: &Owner) -> PyResult<()> {
        if !self.holds(|o| o.is(owner)) {
            return Ok(());
        }
        Err(to_py(Error::new(
            ErrorKind::Deadlock,
            format!(
                "{} {:?} is already held by this {}",
                self.what,
                self.name,
                owner.name()
            ),
        )))
    }

    /// Releases the first hold of this process that `pick` selects (an
    /// etcd one with the GIL released); `None` if there is none.
    fn release_where(&self, py: Python<'_>, pick: impl Fn(&Entry) -> bool) -> Option<PyResult<()>> {
        if self.pid.load(SeqCst) != current_pid() {
            return None; // the parent's holds
        }
        let entry = {
            let mut t = lock(&self.table);
            let i = t.held.iter().position(pick)?;
            let e = t.held.swap_remove(i);
            self.count.store(t.held.len(), SeqCst);
            e
        };
        let Entry { owner, held, .. } = entry;
        let r = held.release(py).map_err(release_error);
        drop(owner); // with the GIL: a task's reference
        Some(r)
    }

    /// Releases `owner`'s hold: `NotHeldError` if it has none.
    fn release_owner(&self, py: Python<'_>, owner: &Owner) -> PyResult<()> {
        self.release_where(py, |e| e.owner.is(owner))
            .unwrap_or_else(|| {
                Err(not_held(&format!(
                    "{} {:?} is not held by this {}",
                    self.what,
                    self.name,
                    owner.name()
                )))
            })
    }

    /// Whether this process holds the lock through the object, through a
    /// hold that `pick` selects.
    fn holds(&self, pick: impl Fn(&Owner) -> bool) -> bool {
        self.count.load(SeqCst) != 0
            && self.pid.load(SeqCst) == current_pid()
            && lock(&self.table).held.iter().any(|e| pick(&e.owner))
    }

    /// In a forked child: drops the parent's holds (the core does not
    /// release them there).
    fn forget_inherited(&self, py: Python<'_>) {
        let me = current_pid();
        if self.pid.load(SeqCst) == me {
            return;
        }
        let (owners, holds) = self.drain();
        self.pid.store(me, SeqCst);
        py.detach(|| drop(holds));
        drop(owners);
    }

    /// Empties the table: its owners (dropped with the GIL: a task's
    /// reference) and its holds (dropped or released without it: an etcd
    /// one sends a request).
    fn drain(&self) -> (Vec<Owner>, Vec<Held>) {
        let entries = std::mem::take(&mut lock(&self.table).held);
        self.count.store(0, SeqCst);
        entries.into_iter().map(|e| (e.owner, e.held)).unzip()
    }

    fn last(&self) -> Option<PyHold> {
        lock(&self.table).last.clone()
    }

    /// Marks the object closed and releases every hold (GIL released).
    /// Idempotent.
    fn close(&self, py: Python<'_>) {
        self.closed.store(true, SeqCst);
        let (owners, holds) = self.drain();
        // released, not just dropped: an etcd hold's `Hold`s may keep it
        py.detach(|| holds.into_iter().for_each(|h| drop(h.release_now())));
        drop(owners);
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
