//! `ringlock.Member`, `ringlock.RingWatcher` and `ringlock.RingChange`: the
//! Python faces of [`ringlock::etcd::Member`] and [`ringlock::etcd::Watcher`].
//!
//! The watcher's changes reach Python through a queue (the core's callback
//! pushes, `next_change` pops with the GIL released), so no Python code runs
//! on the watcher's thread.

use crate::ring::PyRing;
use crate::{args, diff, errors};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use ringlock::etcd::{Change, ClientOptions, Member, WatchOptions, Watcher};
use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The changes kept for `next_change`; older ones are dropped (and counted).
const QUEUE: usize = 256;
/// A blocking wait looks at signals (Ctrl-C) this often.
const SLICE: Duration = Duration::from_millis(200);

/// A std mutex's guard, through a poisoned lock too (nothing here can leave
/// the data half-changed).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn seconds(what: &str, value: f64) -> PyResult<Duration> {
    Duration::try_from_secs_f64(value).map_err(|_| {
        errors::invalid(format!(
            "{what} must be a number of seconds >= 0, not {value}"
        ))
    })
}

/// Waits in slices for `ready`, checking signals between them; `false` when
/// `timeout` (seconds; None: no limit) ran out first.
fn wait_until(
    py: Python<'_>,
    timeout: Option<f64>,
    mut ready: impl FnMut(Duration) -> bool + Send,
) -> PyResult<bool> {
    let until = timeout
        .map(|t| seconds("timeout", t).map(|d| Instant::now() + d))
        .transpose()?;
    loop {
        let slice = until.map_or(SLICE, |u| {
            u.saturating_duration_since(Instant::now()).min(SLICE)
        });
        if py.detach(|| ready(slice)) {
            return Ok(true);
        }
        py.check_signals()?;
        if until.is_some_and(|u| Instant::now() >= u) {
            return Ok(false);
        }
    }
}

/// A node registered in a membership ring in etcd, under a lease of its
/// own (``ttl`` seconds, at least 2) kept alive by a background thread.
///
/// ``endpoints`` is a list of ``"http://host:port"`` (or one str, commas
/// between them). ``ring`` is 1 to 200 characters from ``A-Z a-z 0-9 . _ -``;
/// ``node`` the ring's node name (non-empty, no NUL, at most 1024 bytes);
/// ``weight`` an integer >= 1; ``addr`` free text for the ring's users.
/// ``timeout`` (seconds) bounds each request to etcd.
///
/// The member stays in the ring while this process keeps its lease alive:
/// ``leave()`` (or leaving ``with``) deletes its key and revokes the lease;
/// a process that dies drops out when the lease expires. A member whose
/// lease was lost while it lives (stopped, cut off past its TTL) joins again
/// by itself once etcd answers (``rejoins`` counts it). Errors:
/// NodeExistsError (a live member has this node id), UnavailableError (a
/// ConnectionError) for etcd out of reach. docs/distributed.md, "Membership".
#[pyclass(module = "ringlock", name = "Member", frozen)]
pub struct PyMember {
    inner: Mutex<Option<Arc<Member>>>,
    ring: String,
    node: String,
}

impl PyMember {
    fn member(&self) -> PyResult<Arc<Member>> {
        lock(&self.inner).clone().ok_or_else(|| {
            errors::invalid(format!(
                "node {:?} has left ring {:?}",
                self.node, self.ring
            ))
        })
    }
}

#[pymethods]
impl PyMember {
    #[new]
    #[pyo3(signature = (endpoints, ring, node, weight=None, addr="", *, ttl=10.0, namespace="ringlock", timeout=5.0))]
    #[allow(clippy::too_many_arguments)] // the Python signature
    fn new(
        py: Python<'_>,
        endpoints: &Bound<'_, PyAny>,
        ring: &str,
        node: &str,
        weight: Option<&Bound<'_, PyAny>>,
        addr: &str,
        ttl: f64,
        namespace: &str,
        timeout: f64,
    ) -> PyResult<Self> {
        let endpoints = args::endpoints(endpoints)?;
        let weight = weight.map_or(Ok(1), |w| args::weight(node, w))?;
        let options = ClientOptions {
            ttl: seconds("ttl", ttl)?,
            namespace: namespace.to_owned(),
            request_timeout: seconds("timeout", timeout)?,
        };
        let member = py
            .detach(|| Member::join(&endpoints, &options, ring, node, weight, addr))
            .map_err(errors::to_py)?;
        Ok(PyMember {
            inner: Mutex::new(Some(Arc::new(member))),
            ring: ring.to_owned(),
            node: node.to_owned(),
        })
    }

    /// Raises unless the member is registered now: ringlock.Error (its
    /// lease's deadline passed or its key is gone; it rejoins by itself
    /// once etcd answers), InvalidArgumentError after ``leave()``.
    fn check(&self, py: Python<'_>) -> PyResult<()> {
        let member = self.member()?;
        py.detach(|| member.check()).map_err(errors::to_py)
    }

    /// Leaves the ring: deletes the key (only this member's) and revokes the
    /// lease. Raises ringlock.Error if the key was gone already. A second
    /// ``leave()`` does nothing.
    fn leave(&self, py: Python<'_>) -> PyResult<()> {
        let Some(member) = lock(&self.inner).take() else {
            return Ok(());
        };
        match Arc::try_unwrap(member) {
            Ok(member) => py.detach(|| member.leave()).map_err(errors::to_py),
            // a check() running in another thread holds a reference: the
            // member leaves when it returns (its lease is revoked)
            Err(_) => Ok(()),
        }
    }

    /// The ring's name.
    #[getter]
    fn ring(&self) -> &str {
        &self.ring
    }

    /// The node id.
    #[getter]
    fn node(&self) -> &str {
        &self.node
    }

    /// The etcd revision at which the member (last) joined.
    #[getter]
    fn revision(&self) -> PyResult<u64> {
        Ok(self.member()?.revision())
    }

    /// How many times the member joined again by itself after losing its
    /// lease.
    #[getter]
    fn rejoins(&self) -> PyResult<u64> {
        Ok(self.member()?.rejoins())
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<bool> {
        self.leave(py)?;
        Ok(false)
    }

    fn __repr__(&self) -> String {
        let state = if lock(&self.inner).is_some() {
            "joined"
        } else {
            "left"
        };
        format!(
            "<ringlock.Member node={:?} ring={:?} {state}>",
            self.node, self.ring
        )
    }
}

/// The changes a watcher's callback queued for `next_change`.
#[derive(Default)]
struct Queue {
    items: Mutex<VecDeque<Change>>,
    ready: Condvar,
    dropped: std::sync::atomic::AtomicU64,
}

/// Follows a membership ring in etcd: lists its members, builds the ring
/// (members sorted by node id, so every watcher builds the same ring from the
/// same members), then follows etcd's watch and swaps in each new ring,
/// stamped with its etcd revision (the placement version).
///
/// ``algorithm``, ``vnodes`` and ``table_size`` as for :class:`Ring`;
/// ``coalesce`` (seconds, default 0.01): events closer together build one
/// ring. ``ring`` is a copy of the current ring (keep it for a run of
/// lookups); ``revision`` its version; ``wait(revision, timeout)`` waits for
/// a newer one; ``next_change(timeout)`` returns the next
/// :class:`RingChange` with its migration plan (the last 256 are kept).
/// A compacted watch or a broken connection never loses an event: the
/// watcher lists the members again. ``close()`` (or leaving ``with``) stops
/// it. docs/distributed.md, "Membership".
#[pyclass(module = "ringlock", name = "RingWatcher", frozen)]
pub struct PyRingWatcher {
    inner: Mutex<Option<Arc<Watcher>>>,
    queue: Arc<Queue>,
}

impl PyRingWatcher {
    fn watcher(&self) -> PyResult<Arc<Watcher>> {
        lock(&self.inner)
            .clone()
            .ok_or_else(|| errors::invalid("the watcher is closed"))
    }
}

#[pymethods]
impl PyRingWatcher {
    #[new]
    #[pyo3(signature = (endpoints, ring, algorithm="xxh3", *, vnodes=None, table_size=None, namespace="ringlock", timeout=5.0, coalesce=0.01))]
    #[allow(clippy::too_many_arguments)] // the Python signature
    fn new(
        py: Python<'_>,
        endpoints: &Bound<'_, PyAny>,
        ring: &str,
        algorithm: &str,
        vnodes: Option<&Bound<'_, PyAny>>,
        table_size: Option<&Bound<'_, PyAny>>,
        namespace: &str,
        timeout: f64,
        coalesce: f64,
    ) -> PyResult<Self> {
        let endpoints = args::endpoints(endpoints)?;
        let options = WatchOptions {
            algorithm: args::algorithm(algorithm)?,
            vnodes: args::vnodes(vnodes)?,
            table_size: args::table_size(table_size)?,
            namespace: namespace.to_owned(),
            request_timeout: seconds("timeout", timeout)?,
            coalesce: seconds("coalesce", coalesce)?,
        };
        let queue = Arc::new(Queue::default());
        let q = Arc::clone(&queue);
        let watcher = py
            .detach(|| {
                Watcher::with_callback(&endpoints, ring, &options, move |change| {
                    let mut items = lock(&q.items);
                    if items.len() == QUEUE {
                        items.pop_front();
                        q.dropped.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                    items.push_back(Change {
                        before: Arc::clone(&change.before),
                        after: Arc::clone(&change.after),
                        plan: change.plan.clone(),
                        relisted: change.relisted,
                    });
                    q.ready.notify_all();
                })
            })
            .map_err(errors::to_py)?;
        Ok(PyRingWatcher {
            inner: Mutex::new(Some(Arc::new(watcher))),
            queue,
        })
    }

    /// A copy of the current ring (a :class:`Ring`).
    #[getter]
    fn ring(&self, py: Python<'_>) -> PyResult<PyRing> {
        let placement = self.watcher()?.current();
        Ok(PyRing::wrap(py, placement.ring().clone()))
    }

    /// The current placement version: the etcd revision of its members.
    #[getter]
    fn revision(&self) -> PyResult<u64> {
        Ok(self.watcher()?.current().revision())
    }

    /// The current members: a list of ``(node, weight, addr)``, by node id.
    #[getter]
    fn members<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let placement = self.watcher()?.current();
        let items: Vec<(String, u32, String)> = placement
            .members()
            .iter()
            .map(|m| (m.node.clone(), m.weight, m.addr.clone()))
            .collect();
        PyList::new(py, items)
    }

    /// Waits until the revision is above ``revision``; False when
    /// ``timeout`` (seconds, None: no limit) ran out first.
    #[pyo3(signature = (revision, timeout=None))]
    fn wait(&self, py: Python<'_>, revision: u64, timeout: Option<f64>) -> PyResult<bool> {
        let watcher = self.watcher()?;
        wait_until(py, timeout, |slice| {
            watcher.wait_newer(revision, Some(slice)).is_some()
        })
    }

    /// The next change (a :class:`RingChange`), waiting up to ``timeout``
    /// seconds (None: no limit); None when none came.
    #[pyo3(signature = (timeout=None))]
    fn next_change(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Option<PyRingChange>> {
        self.watcher()?;
        let q = Arc::clone(&self.queue);
        let mut got = None;
        let found = wait_until(py, timeout, |slice| {
            let mut items = lock(&q.items);
            if items.is_empty() {
                items = q
                    .ready
                    .wait_timeout(items, slice)
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .0;
            }
            got = items.pop_front();
            got.is_some()
        })?;
        Ok(found
            .then(|| got.map(|c| PyRingChange { change: c }))
            .flatten())
    }

    /// What the watcher has done: a dict of ``lists``, ``changes``,
    /// ``compactions``, ``failures``, ``skipped``, ``dropped`` (changes
    /// ``next_change`` lost to the queue's bound) and ``last_error``.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = self.watcher()?.stats();
        let d = PyDict::new(py);
        d.set_item("lists", s.lists)?;
        d.set_item("changes", s.changes)?;
        d.set_item("compactions", s.compactions)?;
        d.set_item("failures", s.failures)?;
        d.set_item("skipped", s.skipped)?;
        d.set_item(
            "dropped",
            self.queue
                .dropped
                .load(std::sync::atomic::Ordering::Relaxed),
        )?;
        d.set_item("last_error", s.last_error)?;
        Ok(d)
    }

    /// Stops the watcher (within 0.1 s). A second ``close()`` does nothing.
    fn close(&self, py: Python<'_>) {
        if let Some(w) = lock(&self.inner).take() {
            py.detach(move || drop(w));
        }
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, pyo3::types::PyTuple>) -> bool {
        self.close(py);
        false
    }
}

/// One change of a watched ring: ``revision`` (the new placement version)
/// and ``before_revision``, ``ring`` and ``before_ring`` (copies, as
/// :class:`Ring`), ``plan`` (the migration plan, a :class:`Diff` of
/// ``before_ring`` against ``ring``; None for jump) and ``relisted`` (found
/// by listing the members again after a compaction).
#[pyclass(module = "ringlock", name = "RingChange", frozen)]
pub struct PyRingChange {
    change: Change,
}

#[pymethods]
impl PyRingChange {
    /// The new placement version (etcd revision).
    #[getter]
    fn revision(&self) -> u64 {
        self.change.after.revision()
    }

    /// The version before the change.
    #[getter]
    fn before_revision(&self) -> u64 {
        self.change.before.revision()
    }

    /// The ring after the change (a copy).
    #[getter]
    fn ring(&self, py: Python<'_>) -> PyRing {
        PyRing::wrap(py, self.change.after.ring().clone())
    }

    /// The ring before the change (a copy).
    #[getter]
    fn before_ring(&self, py: Python<'_>) -> PyRing {
        PyRing::wrap(py, self.change.before.ring().clone())
    }

    /// The migration plan (a :class:`Diff`), None for jump.
    #[getter]
    fn plan<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.change
            .plan
            .clone()
            .map(|d| diff::to_python(py, d))
            .transpose()
    }

    /// Whether the change was found by listing the members again.
    #[getter]
    fn relisted(&self) -> bool {
        self.change.relisted
    }

    fn __repr__(&self) -> String {
        format!(
            "<ringlock.RingChange {} -> {}: {} nodes>",
            self.change.before.revision(),
            self.change.after.revision(),
            self.change.after.ring().len()
        )
    }
}
