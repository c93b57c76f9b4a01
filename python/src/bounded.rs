//! Bounded loads in Python: `Ring.get_bounded`'s argument conversion and
//! `ringlock.LoadTracker` (with its `slot` context manager), over
//! [`ringlock::Ring::get_bounded_id`] and [`ringlock::LoadTracker`].

use crate::args::index;
use crate::ring::PyRing;
use crate::{errors, keys};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyMapping, PyString};
use ringlock::{Error, ErrorKind, LoadTracker};

/// The default balance factor.
const FACTOR: f64 = ringlock::ring::DEFAULT_BALANCE;

/// A load: an integer from 0 to 2**64-1.
fn load_of(name: &Bound<'_, PyAny>, obj: &Bound<'_, PyAny>) -> PyResult<u64> {
    let int = index(obj)?;
    int.extract::<u64>().map_err(|_| {
        errors::invalid(format!(
            "load of node {name} is {int}; loads are integers from 0 to {}",
            u64::MAX
        ))
    })
}

/// `loads` (a mapping node name -> load) as (name, load) pairs. Runs any
/// Python code it must (a mapping's `items`, an int's `__index__`) here,
/// before the ring is borrowed.
pub(crate) fn load_pairs<'py>(
    loads: &Bound<'py, PyAny>,
) -> PyResult<Vec<(Bound<'py, PyAny>, u64)>> {
    let mut out = Vec::new();
    if let Ok(dict) = loads.cast_exact::<PyDict>() {
        // a snapshot of the items: a load's __index__ may change the dict
        for item in dict.items().iter() {
            let (name, load) = item.extract::<(Bound<'py, PyAny>, Bound<'py, PyAny>)>()?;
            let l = load_of(&name, &load)?;
            out.push((name, l));
        }
    } else if let Ok(mapping) = loads.cast::<PyMapping>() {
        for item in mapping.items()?.iter() {
            let (name, load) = item.extract::<(Bound<'py, PyAny>, Bound<'py, PyAny>)>()?;
            let l = load_of(&name, &load)?;
            out.push((name, l));
        }
    } else {
        return Err(PyTypeError::new_err(format!(
            "loads must be a mapping node name -> load (e.g. a dict), not {}",
            keys::type_name(loads)
        )));
    }
    Ok(out)
}

/// The loads in node order: nodes missing from `pairs` count 0. An unknown
/// node is a NodeNotFoundError.
pub(crate) fn loads_by_id(
    ring: &ringlock::Ring,
    pairs: &[(Bound<'_, PyAny>, u64)],
) -> PyResult<Vec<u64>> {
    let mut loads = vec![0u64; ring.len()];
    for (name, load) in pairs {
        let name = keys::as_str(name, "node name")?;
        let id = ring.id_of(name).ok_or_else(|| {
            errors::to_py(Error::new(
                ErrorKind::NotFound,
                format!("loads names node {name:?}, which is not in the ring"),
            ))
        })?;
        loads[id] = *load;
    }
    Ok(loads)
}

/// Counts the work in flight on each node and places keys under bounded
/// loads: ``acquire(key)`` takes a slot on the first node in the key's ring
/// order whose load is below ``ceil(factor * (total + 1) / len(ring))``
/// (as ``ring.get_bounded`` with the tracker's loads), ``release(node)``
/// gives it back; ``with tracker.slot(key) as node:`` does both.
///
/// The tracker works on a copy of ``ring`` taken now: later changes to the
/// ring do not reach it (make a new tracker after a change of membership).
/// ``factor`` is a finite number above 1. Raises EmptyRingError for a ring
/// without nodes, InvalidArgumentError for a bad factor.
///
/// Thread-safe: any number of threads may acquire and release at once; an
/// acquire chooses and counts atomically, so no node takes a slot above the
/// cap.
#[pyclass(module = "ringlock", name = "LoadTracker", frozen, weakref)]
pub struct PyLoadTracker {
    inner: LoadTracker,
    /// `names[id]`: the str returned for node `id`.
    names: Vec<Py<PyString>>,
}

impl PyLoadTracker {
    fn acquire_id(&self, key: &Bound<'_, PyAny>) -> PyResult<usize> {
        keys::with_key(key, |k| self.inner.acquire_id(k))?.map_err(errors::to_py)
    }
}

#[pymethods]
impl PyLoadTracker {
    #[new]
    #[pyo3(signature = (ring, factor=FACTOR), text_signature = "(ring, factor=1.25)")]
    fn new(py: Python<'_>, ring: PyRef<'_, PyRing>, factor: f64) -> PyResult<Self> {
        let inner = LoadTracker::new(ring.ring(), factor).map_err(errors::to_py)?;
        let names = ring.names().iter().map(|n| n.clone_ref(py)).collect();
        Ok(PyLoadTracker { inner, names })
    }

    /// Takes a slot for ``key`` (str or bytes-like) on the node chosen by
    /// bounded-load placement and returns that node's name. Pair it with
    /// ``release(node)``, or use ``slot(key)``.
    fn acquire(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<Py<PyString>> {
        let id = self.acquire_id(key)?;
        Ok(self.names[id].clone_ref(py))
    }

    /// Gives back one slot of ``node``. Raises NodeNotFoundError (a
    /// KeyError) for a node not in the ring, InvalidArgumentError (a
    /// ValueError) if the node holds no slot.
    fn release(&self, node: &Bound<'_, PyAny>) -> PyResult<()> {
        let name = keys::as_str(node, "node name")?;
        self.inner.release(name).map_err(errors::to_py)
    }

    /// A context manager holding a slot for ``key``: ``with
    /// tracker.slot(key) as node:`` acquires on entry, gives the node, and
    /// releases on exit (exceptions included).
    fn slot(slf: Bound<'_, Self>, key: Bound<'_, PyAny>) -> PyLoadSlot {
        PyLoadSlot {
            tracker: slf.unbind(),
            key: key.unbind(),
            held: std::sync::Mutex::new(None),
        }
    }

    /// The slots held on ``node`` now. Raises NodeNotFoundError.
    fn load(&self, node: &Bound<'_, PyAny>) -> PyResult<u64> {
        let name = keys::as_str(node, "node name")?;
        self.inner.load(name).map_err(errors::to_py)
    }

    /// The slots held on every node: a dict name -> load, in name order
    /// (a snapshot).
    #[getter]
    fn loads<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        for (id, load) in self.inner.loads().into_iter().enumerate() {
            dict.set_item(self.names[id].bind(py), load)?;
        }
        Ok(dict)
    }

    /// The slots held in all.
    #[getter]
    fn total(&self) -> u64 {
        self.inner.total()
    }

    /// The balance factor.
    #[getter]
    fn factor(&self) -> f64 {
        self.inner.factor()
    }

    /// The cap a new slot must stay under now:
    /// ``ceil(factor * (total + 1) / len(ring))``, exact.
    #[getter]
    fn cap(&self) -> u64 {
        self.inner.cap()
    }

    fn __repr__(&self) -> String {
        format!(
            "LoadTracker({} nodes, factor={}, total={})",
            self.names.len(),
            self.inner.factor(),
            self.inner.total()
        )
    }
}

/// A slot of a LoadTracker held by a ``with`` block (``tracker.slot(key)``):
/// acquired on entry (``as`` gives the node), released on exit. One slot at
/// a time: entering it again while held is an error.
#[pyclass(module = "ringlock", name = "LoadSlot", frozen)]
pub struct PyLoadSlot {
    tracker: Py<PyLoadTracker>,
    key: Py<PyAny>,
    held: std::sync::Mutex<Option<usize>>,
}

#[pymethods]
impl PyLoadSlot {
    fn __enter__(&self, py: Python<'_>) -> PyResult<Py<PyString>> {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        if held.is_some() {
            return Err(errors::invalid(
                "this slot is held already; use another slot(key)",
            ));
        }
        let t = self.tracker.get();
        let id = t.acquire_id(self.key.bind(py))?;
        *held = Some(id);
        Ok(t.names[id].clone_ref(py))
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, _exc: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<bool> {
        let id = self.held.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(id) = id {
            self.tracker
                .get()
                .inner
                .release_id(id)
                .map_err(errors::to_py)?;
        }
        Ok(false)
    }

    /// The node holding the slot, or None when not entered.
    #[getter]
    fn node(&self, py: Python<'_>) -> Option<Py<PyString>> {
        let held = *self.held.lock().unwrap_or_else(|e| e.into_inner());
        held.map(|id| self.tracker.get().names[id].clone_ref(py))
    }
}
