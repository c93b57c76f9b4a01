//! `ringlock.SharedRing`: the Python face of [`ringlock::SharedRing`], a ring
//! published into a file and looked up in the mapping.
//!
//! Lookups return new references to one cached `str` per node of the
//! generation held, rebuilt when a lookup takes up a new generation; `get`
//! is a `METH_O` method (capi/shared_get.rs) like `Ring.get`.

use crate::ring::PyRing;
use crate::{errors, keys};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyString};
use ringlock::{Error, ErrorKind, SharedRing};
use std::path::PathBuf;

/// A ring published into a file by ``SharedRing.publish(ring, path)`` and
/// opened by ``SharedRing(path)``: every process on the host maps the same
/// pages read-only and looks keys up in place, with the answers of the
/// ``Ring`` that was published (``get``, ``[]``, ``get_n``, ``get_many``,
/// ``get_bounded``).
///
/// ``path`` without a ``/`` is a name in the default directory
/// (``/dev/shm/ringlock-<uid>/``, private to the user); any other path is
/// the ring file itself. Each lookup first checks (one atomic load) whether
/// a newer generation was published and, if so, takes it up: a lookup that
/// starts after ``publish`` returned sees that generation or a newer one;
/// ``generation`` never goes backwards. A damaged file raises CorruptError
/// at open or at the switch (the handle keeps its generation).
///
/// Thread safety: one SharedRing may be shared by threads (calls take turns
/// under the GIL); separate SharedRings — in one process or many — map the
/// same pages.
#[pyclass(module = "ringlock", name = "SharedRing", mapping, weakref)]
pub struct PySharedRing {
    inner: SharedRing,
    /// `names[id]`: the str returned for node `id` of generation `names_of`.
    names: Vec<Py<PyString>>,
    names_of: u64,
}

fn open_error(err: Error) -> PyErr {
    // "nothing published there" is an IoError that is the builtin
    // FileNotFoundError (its errno, ENOENT), not a missing node.
    match err.kind() {
        ErrorKind::NotFound => errors::to_py_as(ErrorKind::Io, err),
        _ => errors::to_py(err),
    }
}

impl PySharedRing {
    /// Takes up a newer generation if one was published, and the names with it.
    #[inline]
    fn sync(&mut self, py: Python<'_>) -> PyResult<()> {
        self.inner.refresh().map_err(errors::to_py)?;
        if self.inner.held_generation() != self.names_of {
            self.names = self
                .inner
                .nodes()
                .map(|(n, _)| PyString::new(py, n).unbind())
                .collect();
            self.names_of = self.inner.held_generation();
        }
        Ok(())
    }

    /// The hot path of `get`: the owner's cached name when the generation
    /// held is the newest (nothing to switch, no error possible); `None`
    /// otherwise or on an empty ring.
    #[inline]
    pub(crate) fn lookup_current(&self, key: &[u8]) -> Option<&Py<PyString>> {
        if !self.inner.is_current() || self.names_of != self.inner.held_generation() {
            return None;
        }
        self.inner.held_id(key).map(|id| &self.names[id])
    }

    /// The method body of `get` (and `[]`).
    pub(crate) fn owner(&mut self, key: &Bound<'_, PyAny>) -> PyResult<Py<PyString>> {
        let py = key.py();
        self.sync(py)?;
        match keys::with_key(key, |k| self.inner.held_id(k))? {
            Some(id) => Ok(self.names[id].clone_ref(py)),
            None => Err(errors::empty_ring()),
        }
    }
}

#[pymethods]
impl PySharedRing {
    #[new]
    #[pyo3(text_signature = "(path)")]
    fn new(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let inner = py
            .detach(move || SharedRing::open(path))
            .map_err(open_error)?;
        Ok(PySharedRing {
            inner,
            names: Vec::new(),
            names_of: 0,
        })
    }

    /// Publishes ``ring`` at ``path`` as a new generation and returns its
    /// number (1 for the first publish to a path, then one more each time,
    /// whichever process publishes). Writes ``path``, ``path.gen`` and the
    /// publishers' lock ``path.publish.shm``, all 0600; publishers of one
    /// path take turns (this call waits, without the GIL). Readers never see
    /// a partly written generation. Raises InvalidArgumentError (a bad name,
    /// a symlink), CorruptError (``path.gen`` is not a generation file),
    /// IoError.
    #[staticmethod]
    fn publish(py: Python<'_>, ring: PyRef<'_, PyRing>, path: PathBuf) -> PyResult<u64> {
        // A copy, so that the ring may change while this call waits.
        let ring = ring.ring().clone();
        py.detach(move || SharedRing::publish(&ring, path))
            .map_err(errors::to_py)
    }

    // `get` is installed by capi/shared_get.rs (METH_O); this body is its
    // slow path and `[]`.
    fn get(&mut self, key: &Bound<'_, PyAny>) -> PyResult<Py<PyString>> {
        self.owner(key)
    }

    fn __getitem__(&mut self, key: &Bound<'_, PyAny>) -> PyResult<Py<PyString>> {
        self.owner(key)
    }

    /// The names of up to ``n`` distinct nodes for ``key``, owner first:
    /// ``Ring.get_n``'s answer. Raises EmptyRingError, InvalidArgumentError
    /// if ``n < 0``.
    fn get_n<'py>(
        slf: &Bound<'py, Self>,
        key: &Bound<'py, PyAny>,
        n: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        let py = slf.py();
        // n's __index__ is Python code: run it before the ring is borrowed
        let n = crate::args::count(n)?;
        let mut this = slf.try_borrow_mut()?;
        this.sync(py)?;
        let held = this.inner.snapshot();
        if held.is_empty() {
            return Err(errors::empty_ring());
        }
        let mut ids = vec![0usize; n.min(held.len())];
        let found = keys::with_key(key, |k| held.get_n_ids(k, &mut ids))?;
        PyList::new(py, ids[..found].iter().map(|&id| this.names[id].bind(py)))
    }

    /// The owners of many keys, in order, all from one generation:
    /// ``[shared.get(k) for k in keys]``. Raises EmptyRingError, TypeError
    /// for a key that is not str or bytes-like.
    fn get_many<'py>(
        slf: &Bound<'py, Self>,
        keys: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        let py = slf.py();
        // an exact list or tuple: iterating it below runs no Python code
        // (a subclass's __iter__ or __len__ run here, before the borrow)
        let seq = crate::capi::seq::keys_in_place(keys)?;
        let mut this = slf.try_borrow_mut()?;
        this.sync(py)?;
        if this.names.is_empty() {
            return Err(errors::empty_ring());
        }
        let mut out = Vec::with_capacity(seq.len()?);
        for (i, item) in seq.try_iter()?.enumerate() {
            let item = item?;
            let id = keys::with_key(&item, |k| this.inner.held_id(k))
                .map_err(|e| PyTypeError::new_err(format!("key {i}: {}", e.value(py))))?
                .ok_or_else(errors::empty_ring)?;
            out.push(this.names[id].clone_ref(py));
        }
        PyList::new(py, out)
    }

    /// The node that takes ``key`` under bounded loads: ``Ring.get_bounded``'s
    /// answer, with ``loads`` a mapping node name -> load (missing nodes
    /// count 0). Raises EmptyRingError, NodeNotFoundError for a node not in
    /// the generation answering, InvalidArgumentError for a negative load or
    /// a factor not above 1.
    #[pyo3(
        signature = (key, loads, factor=ringlock::ring::DEFAULT_BALANCE),
        text_signature = "(self, key, loads, factor=1.25)"
    )]
    fn get_bounded(
        slf: &Bound<'_, Self>,
        key: &Bound<'_, PyAny>,
        loads: &Bound<'_, PyAny>,
        factor: f64,
    ) -> PyResult<Py<PyString>> {
        let py = slf.py();
        let pairs = crate::bounded::load_pairs(loads)?;
        let mut this = slf.try_borrow_mut()?;
        this.sync(py)?;
        let mut by_id = vec![0u64; this.names.len()];
        for (name, load) in &pairs {
            let name = keys::as_str(name, "node name")?;
            let id = this.inner.id_of(name).ok_or_else(|| {
                errors::to_py(Error::new(
                    ErrorKind::NotFound,
                    format!("node {name:?} is not in the ring"),
                ))
            })?;
            by_id[id] = *load;
        }
        let held = this.inner.snapshot();
        let id = keys::with_key(key, |k| held.get_bounded_id(k, &by_id, factor))?
            .map_err(errors::to_py)?;
        Ok(this.names[id].clone_ref(py))
    }

    /// The generation this handle answers from (a newer one taken up first).
    #[getter]
    fn generation(&mut self, py: Python<'_>) -> PyResult<u64> {
        self.sync(py)?;
        Ok(self.inner.held_generation())
    }

    /// The algorithm of the generation held: ``"ketama"``, ``"xxh3"``,
    /// ``"jump"``, ``"maglev"`` or a profile's name (``"nginx"``, ...).
    #[getter]
    fn algorithm(&mut self, py: Python<'_>) -> PyResult<&'static str> {
        self.sync(py)?;
        Ok(self.inner.algorithm().name())
    }

    /// The ring file's path.
    #[getter]
    fn path(&self) -> String {
        // resolved paths are UTF-8 (ringlock refuses others)
        self.inner.path().to_string_lossy().into_owned()
    }

    /// The nodes as ``(name, weight)`` pairs, in name order.
    #[getter]
    fn nodes<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        self.sync(py)?;
        let pairs: Vec<(Py<PyString>, u32)> = self
            .inner
            .nodes()
            .zip(&self.names)
            .map(|((_, w), n)| (n.clone_ref(py), w))
            .collect();
        PyList::new(py, pairs)
    }

    fn __len__(&mut self, py: Python<'_>) -> PyResult<usize> {
        self.sync(py)?;
        Ok(self.names.len())
    }

    fn __contains__(&mut self, py: Python<'_>, name: &Bound<'_, PyAny>) -> PyResult<bool> {
        self.sync(py)?;
        Ok(match keys::as_str(name, "node name") {
            Ok(n) => self.inner.id_of(n).is_some(),
            Err(_) => false,
        })
    }

    fn __repr__(&mut self, py: Python<'_>) -> PyResult<String> {
        self.sync(py)?;
        let path = PyString::new(py, &self.inner.path().to_string_lossy()).repr()?;
        Ok(format!(
            "ringlock.SharedRing({path}, generation={}, algorithm='{}', nodes={})",
            self.inner.held_generation(),
            self.inner.algorithm().name(),
            self.names.len()
        ))
    }
}
