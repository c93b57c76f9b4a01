//! Where a Python lock object's holds come from, and how it waits for one:
//! a lock of this host (one core `Lock`, whose guards own their holds, any
//! number at once) or a lock in etcd (a fresh core handle per acquisition:
//! making one sends no request). Either kind acquires in one core call with
//! the GIL released; where something must be checked while it waits —
//! signals in the main thread, `cancel` for asyncio — the core calls a hook
//! that checks it, and the wait keeps its place in the meantime (a waiting
//! writer goes on holding new readers back, locally and in etcd's queue).

use super::etcd::{self, EtcdHold};
use super::hold::{someone_holds, status};
use super::PyHold;
use crate::errors::to_py;
use pyo3::prelude::*;
use ringlock::etcd::{Client, RWLock as EtcdRWLock};
use ringlock::lock::{Guard, Lock as CoreLock, LockOptions, Mode};
use ringlock::ErrorKind;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

/// How often a waiter in the main thread runs Python's signal handlers (so
/// that Ctrl-C interrupts a blocked `acquire`). Other threads' waiters sleep
/// in the core until the lock is released or their timeout runs out.
const SIGNAL_SLICE: Duration = Duration::from_millis(200);

/// How often an asyncio waiter checks whether its task was cancelled (so a
/// cancelled wait ends soon, and rarely acquires for nobody).
const CANCEL_SLICE: Duration = Duration::from_millis(50);

pub(crate) enum Source {
    Local(Arc<CoreLock>),
    /// The process's shared client for the endpoints and options
    /// (`Client::shared`: one lease for every hold), and a handle that
    /// only reads the status.
    Etcd {
        client: Client,
        name: String,
        probe: EtcdRWLock,
    },
}

/// A hold, owned: released by [`Held::release`] or when dropped (an etcd
/// one sends a request then: drop it with the GIL released).
pub(crate) enum Held {
    Local(Guard),
    Etcd(Arc<EtcdHold>),
}

impl Source {
    /// Opens lock `name` on this host (perhaps creating its file) with the
    /// GIL released.
    pub(crate) fn local(py: Python<'_>, name: &str, options: &LockOptions) -> PyResult<Source> {
        let lock = py.detach(|| CoreLock::open(name, options)).map_err(to_py)?;
        Ok(Source::Local(Arc::new(lock)))
    }

    /// Lock `name` in etcd through `client` (no request yet).
    pub(crate) fn etcd(client: Client, name: &str) -> PyResult<Source> {
        let probe = EtcdRWLock::new(&client, name).map_err(to_py)?;
        Ok(Source::Etcd {
            client,
            name: name.to_owned(),
            probe,
        })
    }

    /// `"shm"`, `"file"` or `"etcd"`.
    pub(crate) fn backend(&self) -> &'static str {
        match self {
            Source::Local(l) => l.backend().name(),
            Source::Etcd { .. } => "etcd",
        }
    }

    /// Where the lock's state is: the lock file, or the prefix of the lock's
    /// keys in etcd.
    pub(crate) fn path(&self) -> PathBuf {
        match self {
            Source::Local(l) => l.path().to_owned(),
            Source::Etcd { client, name, .. } => format!("{}/{name}/", client.namespace()).into(),
        }
    }

    /// Whether a first try never waits for the network (so that asyncio
    /// may try on the event loop's thread).
    pub(crate) fn is_local(&self) -> bool {
        matches!(self, Source::Local(_))
    }

    /// `status()`: a `LockStatus` (etcd: an `EtcdLockStatus`).
    pub(crate) fn status<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match self {
            Source::Local(l) => status(py, l.status()),
            Source::Etcd { probe, .. } => etcd::status(py, probe),
        }
    }

    /// Whether a live holder (in any process) holds the lock now.
    pub(crate) fn someone_holds(&self, py: Python<'_>) -> PyResult<bool> {
        match self {
            Source::Local(l) => Ok(someone_holds(&l.status())),
            Source::Etcd { probe, .. } => etcd::someone_holds(py, probe),
        }
    }

    /// Acquires in `mode`; `Ok(None)` when the timeout runs out (a zero
    /// timeout: at once) or `cancel` is set. A local lock is first tried
    /// with the GIL held (a few atomics on shm, one flock on file: the whole
    /// cost when the lock is free); an etcd one asks etcd, GIL released.
    pub(crate) fn acquire(
        &self,
        py: Python<'_>,
        mode: Mode,
        timeout: Option<Duration>,
        cancel: Option<&AtomicBool>,
    ) -> PyResult<Option<(Held, PyHold)>> {
        match self {
            Source::Local(l) => {
                match l.guard(mode, Some(Duration::ZERO)) {
                    Ok(g) => return Ok(Some(local(g))),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                    Err(e) => return Err(to_py(e)),
                }
                if timeout == Some(Duration::ZERO) {
                    return Ok(None);
                }
                let got = wait(py, cancel, |hook| match hook {
                    Some((every, hook)) => l.guard_interruptible(mode, timeout, every, hook),
                    None => l.guard(mode, timeout),
                })?;
                Ok(got.map(local))
            }
            Source::Etcd { client, name, .. } => {
                let core = EtcdRWLock::new(client, name).map_err(to_py)?;
                let got = wait(py, cancel, |hook| match hook {
                    Some((every, hook)) if timeout != Some(Duration::ZERO) => {
                        core.acquire_interruptible(mode, timeout, every, hook)
                    }
                    _ => core.acquire(mode, timeout),
                })?;
                Ok(got.map(|g| {
                    let (hold, py_hold) = EtcdHold::new(g);
                    (Held::Etcd(hold), py_hold)
                }))
            }
        }
    }
}

fn local(g: Guard) -> (Held, PyHold) {
    let hold = PyHold::from(g.hold());
    (Held::Local(g), hold)
}

/// A hook for the core's wait: the interval, and what to call.
type Hook<'a> = Option<(Duration, &'a mut dyn FnMut() -> ringlock::Result<()>)>;

/// Runs the waiting acquisition `call` with the GIL released, giving it a
/// hook where something must be checked while it waits: in the main thread
/// one that takes the GIL for a moment and runs the signal handlers (an
/// exception they raise ends the wait, withdrawn as on a timeout, and is
/// raised); for asyncio one that ends the wait once `cancel` is set
/// (`Ok(None)`). No mutex of ours is held meanwhile: the signal handlers may
/// do anything, this lock included. A timeout is `Ok(None)` too.
fn wait<T: Send>(
    py: Python<'_>,
    cancel: Option<&AtomicBool>,
    call: impl Send + FnOnce(Hook<'_>) -> ringlock::Result<T>,
) -> PyResult<Option<T>> {
    let main = cancel.is_none() && in_main_thread(py)?;
    // what stopped the wait from the hook: an exception of a signal
    // handler, or the cancellation (None inside)
    let mut stopped: Option<Option<PyErr>> = None;
    let got = py.detach(|| match cancel {
        Some(c) => call(Some((CANCEL_SLICE, &mut || {
            if c.load(SeqCst) {
                stopped = Some(None);
                return Err(interrupted());
            }
            Ok(())
        }))),
        None if main => call(Some((SIGNAL_SLICE, &mut || {
            Python::attach(|py| py.check_signals()).map_err(|e| {
                stopped = Some(Some(e));
                interrupted()
            })
        }))),
        None => call(None),
    });
    match (got, stopped) {
        (Ok(v), _) => Ok(Some(v)),
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

impl Held {
    /// Releases the hold: a local one at once (a few atomics, or one
    /// flock), an etcd one with the GIL released (a request).
    pub(crate) fn release(self, py: Python<'_>) -> ringlock::Result<()> {
        match self {
            Held::Local(_) => self.release_now(),
            Held::Etcd(_) => py.detach(|| self.release_now()),
        }
    }

    /// Releases the hold where the GIL is released already.
    pub(crate) fn release_now(self) -> ringlock::Result<()> {
        match self {
            Held::Local(g) => g.release(),
            Held::Etcd(h) => h.release(),
        }
    }
}
