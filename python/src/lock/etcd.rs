//! The etcd side of `ringlock.Lock(backend="etcd")` and
//! `ringlock.RWLock(backend="etcd")`: a handle on a
//! [`ringlock::etcd::RWLock`] that behaves as a local core handle does.
//!
//! Both classes take the core's `RWLock`: its exclusive mode *is* a core
//! `Lock` acquisition (the same keys and transactions), and its status says
//! in which mode each holder and waiter is, which a `Lock` of a name that
//! readers also use needs too.
//!
//! The core's etcd handle holds one acquisition at a time and refuses a
//! second (`Deadlock`) whoever asks. A Python lock object shares its handle
//! between threads, so this file adds the turn-taking of a local handle:
//! while one thread holds or acquires through the handle, other threads wait
//! here (on a condvar, in bounded steps where Ctrl-C or asyncio's cancel
//! must be seen), and the holding thread gets `Deadlock`. Once a thread has
//! its turn, it waits for etcd in one core call with the GIL released, as a
//! local wait does (`acquire_local` in mod.rs): where the wait must be
//! interruptible (Ctrl-C in the main thread, asyncio's cancel), the core's
//! hook checks for it without the wait giving up its place in etcd's queue
//! (its key stays; a waiting writer keeps later readers behind it), and an
//! interruption withdraws the wait as a timeout does: its key is deleted
//! before the call returns, nothing is left waiting in etcd.
//!
//! The core's [`RWGuard`] lives in an [`EtcdHold`], shared with the `Hold`s
//! Python has of it, so that `hold.lost` can ask [`RWGuard::check`].

use super::{lock, PyHold};
use crate::errors::to_py;
use pyo3::prelude::*;
use ringlock::etcd::{Client, RWEntry, RWGuard, RWLock as EtcdRWLock};
use ringlock::lock::Mode;
use ringlock::{Error, ErrorKind};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed, Ordering::SeqCst};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

pub(crate) struct EtcdHandle {
    /// The core handle.
    lock: EtcdRWLock,
    state: Mutex<State>,
    /// Signalled when the handle is free again.
    turn: Condvar,
}

#[derive(Default)]
struct State {
    /// The thread that holds, or is acquiring, through this handle.
    owner: Option<ThreadId>,
    /// The hold, once acquired.
    hold: Option<Arc<EtcdHold>>,
}

/// One acquisition's guard, shared with the `Hold`s of it.
pub(crate) struct EtcdHold {
    /// `None` once released.
    guard: Mutex<Option<RWGuard>>,
    /// Known lost: `RWGuard::check` or the release said `Lost`.
    lost: AtomicBool,
}

impl EtcdHold {
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

impl EtcdHandle {
    /// A handle on lock `name` of `client` (no request to etcd yet).
    pub(crate) fn new(client: &Client, name: &str) -> ringlock::Result<EtcdHandle> {
        Ok(EtcdHandle {
            lock: EtcdRWLock::new(client, name)?,
            state: Mutex::new(State::default()),
            turn: Condvar::new(),
        })
    }

    pub(crate) fn is_held(&self) -> bool {
        lock(&self.state).hold.is_some()
    }

    /// Acquires: the handle's turn, then etcd's, in one core wait (GIL
    /// released) that the core's hook interrupts, keeping its place until
    /// then: in the main thread when a signal handler raises (that exception
    /// is raised), for asyncio when `cancel` is set (`Ok(None)`). `Ok(None)`
    /// also when the timeout runs out; `timeout` zero is one try.
    pub(crate) fn acquire(
        &self,
        py: Python<'_>,
        mode: Mode,
        timeout: Option<Duration>,
        cancel: Option<&AtomicBool>,
    ) -> PyResult<Option<PyHold>> {
        let main = cancel.is_none() && super::in_main_thread(py)?;
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        if !self.claim(py, deadline, main, cancel)? {
            return Ok(None);
        }
        // None: no limit; zero (a try, or the turn took all the time): a try
        let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        let core = &self.lock;
        // what stopped the wait from the hook: an exception of a signal
        // handler, or the cancellation (None inside)
        let mut stopped: Option<Option<PyErr>> = None;
        let got = py.detach(|| match cancel {
            Some(c) => core.acquire_interruptible(mode, left, super::CANCEL_SLICE, &mut || {
                if c.load(SeqCst) {
                    stopped = Some(None);
                    return Err(super::interrupted());
                }
                Ok(())
            }),
            // No mutex of ours is held here: the signal handlers may do
            // anything, this lock included (through this object, a
            // `DeadlockError`: this thread has the handle's turn).
            None if main => {
                core.acquire_interruptible(mode, left, super::SIGNAL_SLICE, &mut || {
                    Python::attach(|py| py.check_signals()).map_err(|e| {
                        stopped = Some(Some(e));
                        super::interrupted()
                    })
                })
            }
            None => core.acquire(mode, left),
        });
        match (got, stopped) {
            (Ok(guard), _) => {
                let (token, died) = (guard.token(), guard.previous_owner_died());
                let shared = guard.mode() == Mode::Shared;
                let hold = Arc::new(EtcdHold {
                    guard: Mutex::new(Some(guard)),
                    lost: AtomicBool::new(false),
                });
                lock(&self.state).hold = Some(Arc::clone(&hold));
                Ok(Some(PyHold::etcd(token, died, shared, hold)))
            }
            (Err(e), stopped) => {
                self.free();
                match (e, stopped) {
                    (_, Some(Some(raised))) => Err(raised),
                    (_, Some(None)) => Ok(None),
                    (e, None) if matches!(e.kind(), ErrorKind::Timeout | ErrorKind::WouldBlock) => {
                        Ok(None)
                    }
                    (e, None) => Err(to_py(e)),
                }
            }
        }
    }

    /// Takes the handle for the calling thread; `false` when `deadline`
    /// passes or `cancel` is set first. The wait for the turn is cut into
    /// steps where something must be checked between them: the signal
    /// handlers in the main thread (`main`), `cancel` for asyncio.
    fn claim(
        &self,
        py: Python<'_>,
        deadline: Option<Instant>,
        main: bool,
        cancel: Option<&AtomicBool>,
    ) -> PyResult<bool> {
        let step = match cancel {
            Some(_) => Some(super::CANCEL_SLICE),
            None => main.then_some(super::SIGNAL_SLICE),
        };
        let me = std::thread::current().id();
        loop {
            let mine = {
                let mut state = lock(&self.state);
                match state.owner {
                    None => {
                        state.owner = Some(me);
                        return Ok(true);
                    }
                    Some(t) => t == me,
                }
            };
            if mine {
                return Err(to_py(Error::new(
                    ErrorKind::Deadlock,
                    format!(
                        "lock {:?} is already held (or being acquired) by this thread \
                         through this object",
                        self.lock.name()
                    ),
                )));
            }
            let left = match deadline {
                None => None,
                Some(d) => match d.saturating_duration_since(Instant::now()) {
                    left if left.is_zero() => return Ok(false),
                    left => Some(left),
                },
            };
            let wait = match (step, left) {
                (Some(s), left) => Some(left.map_or(s, |l| l.min(s))),
                (None, left) => left,
            };
            py.detach(|| {
                let state = lock(&self.state);
                if state.owner.is_some() {
                    match wait {
                        Some(w) => drop(self.turn.wait_timeout(state, w)),
                        None => drop(self.turn.wait(state)),
                    }
                }
            });
            if cancel.is_some_and(|c| c.load(SeqCst)) {
                return Ok(false);
            }
            if main {
                py.check_signals()?;
            }
        }
    }

    /// Gives the handle back to the threads waiting for it.
    fn free(&self) {
        lock(&self.state).owner = None;
        self.turn.notify_all();
    }

    /// Releases the hold (from any thread): `InvalidArgument` if the handle
    /// holds nothing, `Lost` if the hold was lost, `Unavailable` if etcd did
    /// not answer. Call it with the GIL released.
    pub(crate) fn release(&self) -> ringlock::Result<()> {
        let Some(hold) = lock(&self.state).hold.take() else {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "lock {:?} is not held through this object",
                    self.lock.name()
                ),
            ));
        };
        let guard = lock(&hold.guard).take();
        let result = guard.map_or(Ok(()), RWGuard::release);
        if result.as_ref().is_err_and(|e| e.kind() == ErrorKind::Lost) {
            hold.lost.store(true, Relaxed);
        }
        self.free();
        result
    }

    /// The holders and the waiters, with their modes (GIL released while
    /// etcd answers): `EtcdLockStatus(token, [EtcdHolder, ...],
    /// [EtcdHolder, ...])`.
    pub(crate) fn status<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let st = py.detach(|| self.lock.status()).map_err(to_py)?;
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
    pub(crate) fn someone_holds(&self, py: Python<'_>) -> PyResult<bool> {
        let st = py.detach(|| self.lock.status()).map_err(to_py)?;
        Ok(st.holders.iter().any(|h| h.entry.lease_left.is_some()))
    }
}

impl Drop for EtcdHandle {
    /// Releases a hold still held (its `Hold`s may outlive the handle).
    fn drop(&mut self) {
        let state = self.state.get_mut().unwrap_or_else(|e| e.into_inner());
        if let Some(hold) = state.hold.take() {
            let guard = lock(&hold.guard).take();
            drop(guard); // after the mutex: the release is a request
        }
    }
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
            super::mode_name(rw.mode),
            since,
            e.token,
            liveness,
            e.host.as_str(),
            left,
        ),
    )
}
