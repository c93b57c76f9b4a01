//! `ringlock.Ring`: the Python face of [`ringlock::Ring`].
//!
//! Lookups return new references to one cached `str` per node (kept in step
//! by every change), so a lookup allocates nothing. No method runs Python
//! code or releases the GIL while it borrows the ring, so a lookup never sees
//! a half-made change and a change never fails because a lookup is running.
//!
//! Long calls (`get_many` of many keys, `get_n` of many nodes, `diff` and
//! changes of large rings) run without the GIL on a snapshot: the ring and
//! the names are shared (`Arc`), the call takes its own reference while it
//! briefly borrows the ring, then computes with the GIL released and builds
//! its Python result from the snapshot. A change copies what a running
//! snapshot still shares (copy on write); a change computed without the GIL
//! is installed only if nobody changed the ring meanwhile, and made again on
//! the newer ring otherwise.

use crate::{args, capi, errors, keys};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple, PyType};
use ringlock::Ring;
use std::fmt::Write;
use std::sync::Arc;

/// From this many nodes asked for on, `get_n` runs without the GIL.
const DETACH_N: usize = 4096;
/// From this many points on, a change or a diff runs without the GIL.
const DETACH_POINTS: usize = 1 << 16;

/// A consistent-hashing ring: which node owns a key, which ``n`` nodes hold
/// its replicas.
///
/// ``nodes`` is an iterable of names or ``(name, weight)`` pairs, or a dict
/// name -> weight. Names are non-empty str without NUL; weights are integers
/// from 1 to 2**32-1. ``algorithm`` is ``"xxh3"`` (the fast default),
/// ``"ketama"`` (libketama's continuum: keys on the server libketama picks),
/// ``"jump"`` (jump consistent hash over buckets numbered in name order),
/// ``"maglev"`` (a Maglev lookup table), or a client profile that places
/// keys exactly as that software does: ``"libmemcached"`` (weighted ketama,
/// nodes ``"host:port"``), ``"nginx"`` (``hash $key consistent``, nodes named
/// by their ``server`` address), ``"twemproxy"`` (its ketama with fnv1a_64
/// keys) or ``"twemproxy-md5"``, ``"twemproxy-one_at_a_time"``,
/// ``"twemproxy-murmur"``, ``"twemproxy-crc32"``, ``"twemproxy-crc32a"``,
/// ``"haproxy"`` (``hash-type consistent``, server ``i`` the ``i``-th node by
/// name), ``"libmemcached-consistent"`` and ``"libmemcached-consistent-md5"``
/// (plain ketama, 100 points per server), ``"spymemcached"``
/// (``KetamaNodeLocator``, nodes named as spymemcached prints their socket
/// address), ``"envoy-ring-hash"`` (Envoy's ``ring_hash``, nodes named by the
/// host address Envoy hashes; ``table_size`` is its ``minimum_ring_size``,
/// default 1024) (docs/placement.md); the profiles take no vnodes. ``vnodes`` is the
/// number of virtual points per unit of weight (xxh3) or per server of
/// average weight (ketama, a multiple of 4); 0 means the default, 160. Jump
/// and maglev take no vnodes. ``table_size`` is maglev's number of table
/// entries: a prime up to 2**26, default 65537; the other algorithms take
/// none (InvalidArgumentError). A maglev ring holds at most ``table_size``
/// nodes. ``max_points`` and ``max_nodes`` bound the ring's size (None: the
/// defaults, 2**24 points and 2**20 nodes; at most 2**26 each): a change past
/// them is InvalidArgumentError, refused before anything is built.
///
/// Keys are bytes: a str key is placed by its UTF-8 bytes, so
/// ``ring["k"] == ring.get(b"k")``; bytearray and memoryview are accepted.
/// Placement is a pure function of (algorithm, vnodes, table size, nodes and
/// weights, key): the same in every process, language and version of ringlock.
///
/// Thread safety: lookups may run from any number of threads at once; a
/// change (add, remove, set_weight) is atomic: every lookup sees the ring
/// before or after it, and never fails because another call is running.
/// Long calls release the GIL: building a ring (the constructor,
/// from_bytes), get_many of 4096 keys or more, get_n of 4096 nodes or more,
/// and diff and changes of rings of 65536 points or more (these work on a
/// snapshot: a call running meanwhile answers for the ring as it was when it
/// started). Errors leave the ring unchanged.
#[pyclass(module = "ringlock", name = "Ring", mapping, weakref)]
pub struct PyRing {
    /// Shared with the snapshots of calls running without the GIL.
    inner: Arc<Ring>,
    /// `names[id]`: the str returned for node `id` (ids are name order);
    /// shared like `inner`.
    names: Arc<Vec<Py<PyString>>>,
}

/// The ring and names a call works on without the GIL.
pub(crate) type Snapshot = (Arc<Ring>, Arc<Vec<Py<PyString>>>);

impl PyRing {
    pub(crate) fn wrap(py: Python<'_>, inner: Ring) -> Self {
        let names = inner
            .nodes()
            .map(|(name, _)| PyString::new(py, name).unbind())
            .collect();
        PyRing {
            inner: Arc::new(inner),
            names: Arc::new(names),
        }
    }

    /// A snapshot of the ring (briefly borrowed); EmptyRingError if it has
    /// no nodes.
    pub(crate) fn snapshot(slf: &Bound<'_, Self>) -> PyResult<Snapshot> {
        let this = slf.try_borrow()?;
        if this.inner.is_empty() {
            return Err(errors::empty_ring());
        }
        Ok((Arc::clone(&this.inner), Arc::clone(&this.names)))
    }

    /// The names, made this ring's own (copied if a snapshot shares them).
    fn names_mut(&mut self, py: Python<'_>) -> &mut Vec<Py<PyString>> {
        if Arc::get_mut(&mut self.names).is_none() {
            self.names = Arc::new(self.names.iter().map(|n| n.clone_ref(py)).collect());
        }
        Arc::get_mut(&mut self.names).expect("the names were just made unique")
    }

    /// Applies the change `f` to the ring and returns the ring borrowed
    /// mutably, for the caller to bring the names in step. A small ring is
    /// changed in place (copied first if a snapshot shares it); a large one
    /// is copied and changed without the GIL, and the result installed if
    /// the ring is still the one copied (else it is done again).
    fn change<'py>(
        slf: &Bound<'py, Self>,
        f: impl Fn(&mut Ring) -> ringlock::Result<()> + Sync,
    ) -> PyResult<PyRefMut<'py, Self>> {
        loop {
            let before = {
                let mut this = slf.try_borrow_mut()?;
                if this.inner.point_count() < DETACH_POINTS {
                    f(Arc::make_mut(&mut this.inner)).map_err(errors::to_py)?;
                    return Ok(this);
                }
                Arc::clone(&this.inner)
            };
            let next = slf
                .py()
                .detach(|| {
                    let mut next = Ring::clone(&before);
                    f(&mut next).map(|()| next)
                })
                .map_err(errors::to_py)?;
            let mut this = slf.try_borrow_mut()?;
            if Arc::ptr_eq(&this.inner, &before) {
                this.inner = Arc::new(next);
                return Ok(this);
            }
        }
    }

    /// The core ring and the cached names (for python/src/bounded.rs).
    pub(crate) fn ring(&self) -> &Ring {
        &self.inner
    }

    pub(crate) fn names(&self) -> &[Py<PyString>] {
        &self.names
    }

    /// The cached name of the owner of `key`; `None` on an empty ring.
    #[inline]
    pub(crate) fn lookup(&self, _py: Python<'_>, key: &[u8]) -> Option<&Py<PyString>> {
        self.inner.get_id(key).map(|id| &self.names[id])
    }

    /// The method body of `get` (and `[]`): the owner's cached name.
    #[inline]
    pub(crate) fn owner(&self, key: &Bound<'_, PyAny>) -> PyResult<&Py<PyString>> {
        match keys::with_key(key, |k| self.inner.get_id(k))? {
            Some(id) => Ok(&self.names[id]),
            None => Err(errors::empty_ring()),
        }
    }
}

#[pymethods]
impl PyRing {
    #[new]
    #[pyo3(
        signature = (nodes=None, *, algorithm=String::from("xxh3"), vnodes=None, table_size=None, max_points=None, max_nodes=None),
        text_signature = "(nodes=(), *, algorithm='xxh3', vnodes=0, table_size=None, max_points=None, max_nodes=None)"
    )]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        nodes: Option<&Bound<'_, PyAny>>,
        algorithm: String,
        vnodes: Option<&Bound<'_, PyAny>>,
        table_size: Option<&Bound<'_, PyAny>>,
        max_points: Option<&Bound<'_, PyAny>>,
        max_nodes: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let algorithm = args::algorithm(&algorithm)?;
        let vnodes = args::vnodes(vnodes)?;
        let table_size = args::table_size(table_size)?;
        let limits = args::limits(max_points, max_nodes)?;
        let nodes = match nodes {
            Some(n) => args::nodes(n)?,
            None => Vec::new(),
        };
        let inner = py
            .detach(move || {
                let mut ring = Ring::with_limits(algorithm, vnodes, table_size, limits)?;
                ring.add_many(nodes).map(|()| ring)
            })
            .map_err(errors::to_py)?;
        Ok(PyRing::wrap(py, inner))
    }

    /// Adds node ``name`` with ``weight`` (an integer >= 1). Only keys that
    /// move *to* the new node change owner. Raises NodeExistsError if the
    /// name is taken, InvalidArgumentError for a bad name or weight.
    #[pyo3(signature = (name, weight=None), text_signature = "(self, name, weight=1)")]
    fn add(
        slf: &Bound<'_, Self>,
        name: &Bound<'_, PyAny>,
        weight: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let name = keys::as_str(name, "node name")?;
        let weight = weight
            .map(|w| args::weight(name, w))
            .transpose()?
            .unwrap_or(1);
        // the new name's str is made before the ring is borrowed (making an
        // object may run the garbage collector, and with it Python code)
        let cached = PyString::new(slf.py(), name).unbind();
        let mut this = Self::change(slf, |ring| ring.add(name, weight))?;
        let id = this.inner.id_of(name).expect("the node was just added");
        this.names_mut(slf.py()).insert(id, cached);
        Ok(())
    }

    /// Removes node ``name``; only the keys it owned move. Raises
    /// NodeNotFoundError (a KeyError) if there is no such node.
    fn remove(slf: &Bound<'_, Self>, name: &Bound<'_, PyAny>) -> PyResult<()> {
        let name = keys::as_str(name, "node name")?;
        let py = slf.py();
        let removed;
        {
            let mut this = Self::change(slf, |ring| ring.remove(name))?;
            // the names are still those of the ring before the change
            let id = this
                .names
                .iter()
                .position(|n| n.bind(py).to_str().is_ok_and(|n| n == name));
            removed = id.map(|id| this.names_mut(py).remove(id));
        }
        // the name's str is released after the borrow ends
        drop(removed);
        Ok(())
    }

    /// Changes the weight of node ``name`` (an integer >= 1; use remove to
    /// take a node out). Raises NodeNotFoundError, InvalidArgumentError.
    fn set_weight(
        slf: &Bound<'_, Self>,
        name: &Bound<'_, PyAny>,
        weight: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let name = keys::as_str(name, "node name")?;
        let weight = args::weight(name, weight)?;
        Self::change(slf, |ring| ring.set_weight(name, weight)).map(drop)
    }

    // `get` is installed by capi/ring_get.rs as a METH_O method: the same body
    // (`owner`) without PyO3's calling overhead.

    fn __getitem__(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<Py<PyString>> {
        self.owner(key).map(|name| name.clone_ref(py))
    }

    /// The position of ``key`` in the space that ``diff`` reports ranges of:
    /// ketama, its 32-bit MD5 hash (0 to 2**32-1); a client profile, its
    /// 32-bit key hash; xxh3, its XXH3-64 hash (0 to 2**64-1); maglev, its
    /// table entry (XXH3-64 mod table_size). InvalidArgumentError for jump
    /// (no positions).
    fn position(&self, key: &Bound<'_, PyAny>) -> PyResult<u64> {
        crate::diff::position(&self.inner, key)
    }

    /// The migration plan to ``after``: a ``ringlock.Diff`` whose ``moves``
    /// are ``ringlock.Move(start, end, old, new)`` ranges ``[start, end)`` of
    /// positions whose owner changes (half-open, as Python's ranges are; the
    /// other faces say ``first`` and an inclusive ``last``), and ``fraction``
    /// the share that moves. Exact: a key moves iff its position is in a
    /// range. Both rings must use the same algorithm (any but jump; maglev
    /// tables of equal size), else InvalidArgumentError.
    fn diff<'py>(
        slf: &Bound<'py, Self>,
        after: &Bound<'py, PyRing>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (before, after) = (
            Arc::clone(&slf.try_borrow()?.inner),
            Arc::clone(&after.try_borrow()?.inner),
        );
        let plan = if before.point_count() + after.point_count() < DETACH_POINTS {
            before.diff(&after)
        } else {
            slf.py().detach(|| before.diff(&after))
        }
        .map_err(errors::to_py)?;
        // the borrows are released: making the Move objects runs Python code
        crate::diff::to_python(slf.py(), plan)
    }

    /// The names of up to ``n`` distinct nodes for ``key``: the owner first,
    /// then the next distinct nodes clockwise (replicas); ``min(n, len(ring))``
    /// of them (ketama nodes too light to earn a point are never returned).
    /// Raises EmptyRingError, InvalidArgumentError if ``n < 0``.
    fn get_n<'py>(
        slf: &Bound<'py, Self>,
        key: &Bound<'py, PyAny>,
        n: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        let py = slf.py();
        // n's __index__ is Python code: run it before the ring is borrowed
        let n = args::count(n)?;
        // a snapshot: the ring is not borrowed while the list is made (an
        // allocation may run the garbage collector, and with it Python code)
        let (ring, names) = Self::snapshot(slf)?;
        let want = n.min(ring.len());
        let mut small = [0usize; 8];
        let mut large = Vec::new();
        let ids: &mut [usize] = if want <= small.len() {
            &mut small[..want]
        } else {
            large.resize(want, 0);
            &mut large
        };
        let found = if want < DETACH_N {
            keys::with_key(key, |k| ring.get_n_ids(k, ids))?
        } else {
            // a copy of the key: a bytearray may change once the GIL is free
            let key = keys::with_key(key, <[u8]>::to_vec)?;
            py.detach(|| ring.get_n_ids(&key, ids))
        };
        PyList::new(py, ids[..found].iter().map(|&id| names[id].bind(py)))
    }

    /// The node that takes ``key`` under bounded loads: the first node in
    /// the key's ring order (``get_n``'s) whose load is below
    /// ``ceil(factor * (total + 1) / len(ring))``, with ``loads`` a mapping
    /// node name -> load (an int >= 0; missing nodes count 0) and ``total``
    /// their sum. With no load it is ``get(key)``. Raises EmptyRingError,
    /// NodeNotFoundError for an unknown node in ``loads``,
    /// InvalidArgumentError for a negative load or a factor not above 1.
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
        let pairs = crate::bounded::load_pairs(loads)?;
        let this = slf.try_borrow()?;
        let loads = crate::bounded::loads_by_id(&this.inner, &pairs)?;
        let id = keys::with_key(key, |k| this.inner.get_bounded_id(k, &loads, factor))?
            .map_err(errors::to_py)?;
        Ok(this.names[id].clone_ref(slf.py()))
    }

    /// The owners of many keys, in order: ``[ring.get(k) for k in keys]``,
    /// much faster. A list or tuple is read in place; any other iterable
    /// (a subclass of list or tuple, a generator, a numpy array of str or
    /// bytes) is first made a list, ``list(keys)``.
    /// Raises EmptyRingError, TypeError for a key that is not str or
    /// bytes-like, RuntimeError if another thread resizes the list while
    /// a long call runs without the GIL.
    fn get_many<'py>(
        slf: &Bound<'py, Self>,
        keys: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        capi::get_many::ring_get_many(slf, keys)
    }

    /// The nodes as ``(name, weight)`` pairs, in name order (a node's index
    /// in this list is its bucket under jump).
    #[getter]
    fn nodes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        PyList::new(
            py,
            self.inner
                .nodes()
                .enumerate()
                .map(|(id, (_, w))| (self.names[id].bind(py), w)),
        )
    }

    /// The nodes as a dict name -> weight, in name order.
    #[getter]
    fn weights<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        for (id, (_, w)) in self.inner.nodes().enumerate() {
            dict.set_item(self.names[id].bind(py), w)?;
        }
        Ok(dict)
    }

    /// The algorithm's name: ``"ketama"``, ``"xxh3"``, ``"jump"``,
    /// ``"maglev"`` or a profile's (``"libmemcached"``, ``"nginx"``,
    /// ``"twemproxy"``, ...).
    #[getter]
    fn algorithm(&self) -> &'static str {
        self.inner.algorithm().name()
    }

    /// Virtual nodes in use (the default resolved: 160 for ketama and xxh3;
    /// 0 for jump and maglev).
    #[getter]
    fn vnodes(&self) -> u32 {
        self.inner.vnodes()
    }

    /// Maglev's number of table entries (a prime; 65537 by default); 0 for
    /// the other algorithms.
    #[getter]
    fn table_size(&self) -> u32 {
        self.inner.table_size()
    }

    /// The most points the ring may hold (virtual points, jump buckets or
    /// maglev table entries): the ``max_points`` it was made or loaded with,
    /// 2**24 by default.
    #[getter]
    fn max_points(&self) -> u64 {
        self.inner.limits().max_points
    }

    /// The most nodes the ring may hold: the ``max_nodes`` it was made or
    /// loaded with, 2**20 by default.
    #[getter]
    fn max_nodes(&self) -> u64 {
        self.inner.limits().max_nodes
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    fn __contains__(&self, name: &Bound<'_, PyAny>) -> bool {
        match keys::as_str(name, "node name") {
            Ok(name) => self.inner.contains(name),
            Err(_) => false,
        }
    }

    /// Iterates over the node names in name order (over a snapshot: changing
    /// the ring while iterating is allowed).
    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(PyList::new(py, self.names.iter().map(|n| n.bind(py)))?
            .try_iter()?
            .into_any())
    }

    /// The ring as bytes: algorithm, vnodes (or table size), names and weights, with a
    /// checksum. Equal rings give equal bytes; ``Ring.from_bytes`` (of any
    /// ringlock, in any language) rebuilds it.
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.to_bytes())
    }

    /// A ring from ``to_bytes`` output (bytes, bytearray or memoryview),
    /// within ``max_points`` and ``max_nodes`` (None: the defaults, 2**24
    /// points and 2**20 nodes; at most 2**26 each), which the ring keeps.
    /// Raises CorruptError (a ValueError) for truncated or damaged data or a
    /// ring past the limits (refused before anything is built),
    /// MemoryError if memory runs out.
    #[classmethod]
    #[pyo3(signature = (data, max_points=None, max_nodes=None))]
    fn from_bytes(
        cls: &Bound<'_, PyType>,
        data: &Bound<'_, PyAny>,
        max_points: Option<&Bound<'_, PyAny>>,
        max_nodes: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let py = cls.py();
        let limits = args::limits(max_points, max_nodes)?;
        let data = keys::with_buffer(
            data,
            "data",
            "bytes, bytearray or memoryview",
            <[u8]>::to_vec,
        )?;
        let inner = py
            .detach(move || Ring::from_bytes_with_limits(&data, limits))
            .map_err(errors::to_py)?;
        Ok(PyRing::wrap(py, inner))
    }

    /// Pickles as ``Ring.from_bytes(data)``, with the ring's limits when they
    /// are not the defaults (so a pickle of a ring within the defaults is
    /// loaded within them).
    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let py = slf.py();
        let from_bytes = slf.get_type().getattr("from_bytes")?;
        let (data, limits) = {
            let this = slf.try_borrow()?;
            (this.inner.to_bytes(), this.inner.limits())
        };
        let data = PyBytes::new(py, &data);
        let args = if limits == ringlock::ring::Limits::DEFAULT {
            PyTuple::new(py, [data.into_any()])?
        } else {
            (data, limits.max_points, limits.max_nodes).into_pyobject(py)?
        };
        Ok((from_bytes, args))
    }

    /// A copy of the ring (changing one does not change the other).
    fn copy(&self) -> Self {
        PyRing {
            // shared until one of them changes (copy on write)
            inner: Arc::clone(&self.inner),
            names: Arc::clone(&self.names),
        }
    }

    fn __copy__(&self) -> Self {
        self.copy()
    }

    fn __deepcopy__(&self, _memo: &Bound<'_, PyAny>) -> Self {
        self.copy()
    }

    /// Rings are equal when they place every key alike: same algorithm,
    /// vnodes, table size and nodes with weights.
    fn __eq__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let Ok(other) = other.cast::<PyRing>() else {
            return Ok(py.NotImplemented());
        };
        let equal = self.inner == other.try_borrow()?.inner;
        Ok(equal.into_pyobject(py)?.to_owned().into_any().unbind())
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        const SHOWN: usize = 10;
        let mut s = String::from("Ring({");
        for (id, (_, w)) in self.inner.nodes().enumerate().take(SHOWN) {
            if id > 0 {
                s.push_str(", ");
            }
            let _ = write!(s, "{}: {w}", self.names[id].bind(py).repr()?);
        }
        if self.inner.len() > SHOWN {
            let _ = write!(s, ", ...({} more)", self.inner.len() - SHOWN);
        }
        let _ = write!(
            s,
            "}}, algorithm='{}', vnodes={})",
            self.inner.algorithm().name(),
            self.inner.vnodes()
        );
        if self.inner.table_size() != 0 {
            s.pop();
            let _ = write!(s, ", table_size={})", self.inner.table_size());
        }
        Ok(s)
    }
}
