//! Migration plans for `ringlock.Ring`: `position` and `diff`. The result
//! classes (`ringlock.Move`, a named tuple, and `ringlock.Diff`) are defined
//! in `ringlock/_diff.py`; this file fills them from [`Ring::diff`].

use crate::{errors, keys};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyList, PyModule, PyString};
use ringlock::ring::Diff;
use ringlock::Ring;
use std::collections::HashMap;

/// The Python module that defines `Move` and `Diff`.
const DIFF_MODULE: &str = "ringlock._diff";

static MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

/// The position of `key` (str or bytes-like) in `ring`'s diff space.
pub(crate) fn position(ring: &Ring, key: &Bound<'_, PyAny>) -> PyResult<u64> {
    keys::with_key(key, |k| ring.position(k))?.map_err(errors::to_py)
}

/// A migration plan (computed by the caller, who no longer borrows the
/// rings: making the objects runs Python code) as a `ringlock.Diff` of
/// `ringlock.Move` tuples (`end` exclusive: `last + 1`, which may be 2**64).
pub(crate) fn to_python<'py>(py: Python<'py>, d: Diff) -> PyResult<Bound<'py, PyAny>> {
    let module = MODULE.get_or_try_init(py, || py.import(DIFF_MODULE).map(Bound::unbind))?;
    let module = module.bind(py);
    let move_class = module.getattr("Move")?;
    // One str per node name, shared by every move that names it.
    let mut names: HashMap<&str, Bound<'py, PyString>> = HashMap::new();
    let moves = PyList::empty(py);
    for m in &d.moves {
        let end = u128::from(m.last) + 1;
        let (old, new) = (
            intern(py, &mut names, &m.old),
            intern(py, &mut names, &m.new),
        );
        moves.append(move_class.call1((m.first, end, old, new))?)?;
    }
    module
        .getattr("Diff")?
        .call1((moves, d.fraction(), d.space, d.moved))
}

/// The str for `name`, made once per distinct name.
fn intern<'a, 'py>(
    py: Python<'py>,
    names: &mut HashMap<&'a str, Bound<'py, PyString>>,
    name: &'a Option<String>,
) -> Option<Bound<'py, PyString>> {
    let name = name.as_deref()?;
    Some(
        names
            .entry(name)
            .or_insert_with(|| PyString::new(py, name))
            .clone(),
    )
}
