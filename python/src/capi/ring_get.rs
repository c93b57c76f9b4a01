//! `Ring.get` as a plain CPython `METH_O` method.
//!
//! `ring.get(key)` is the call users make millions of times, and most of its
//! cost was PyO3's generic calling machinery (argument parsing for
//! positional-or-keyword calls, the attach guard's thread-local counters),
//! not the lookup. This module installs `get` on the `Ring` type as a
//! `METH_O` method descriptor, the convention CPython's own one-argument
//! methods use, whose C function does only the lookup:
//!
//! - the hot case (a `str` or `bytes` key on a non-empty ring, the ring not
//!   being changed) reads the key in place, looks it up and returns a new
//!   reference to the node's cached name: nothing is allocated or freed and
//!   no error can arise, so no PyO3 state is needed;
//! - every other case (bytearray or memoryview keys, wrong types, an empty
//!   ring, ...) runs the ordinary method body, [`PyRing::owner`], inside
//!   `Python::attach` and turns its error into the Python exception exactly
//!   as the PyO3 method would. Panics become `PanicException`.
//!
//! The result: the same answers and exceptions as the PyO3 method, minus the
//! calling overhead (see docs/benchmarks.md).

use super::bytes;
use super::method::{install_method, slow_call, MethodDef};
use crate::ring::PyRing;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyType;
use std::ffi::CStr;

const DOC: &CStr = c"get($self, key, /)\n--\n\n\
The name of the node that owns ``key`` (str or bytes-like). Raises\n\
EmptyRingError (a LookupError) if the ring has no nodes. ``ring[key]``\n\
is the same.";

static GET: MethodDef = MethodDef(ffi::PyMethodDef {
    ml_name: c"get".as_ptr(),
    ml_meth: ffi::PyMethodDefPointer {
        PyCFunction: ring_get,
    },
    ml_flags: ffi::METH_O,
    ml_doc: DOC.as_ptr(),
});

/// Replaces the PyO3-generated `Ring.get` with the `METH_O` one.
pub(crate) fn install(ty: &Bound<'_, PyType>) -> PyResult<()> {
    install_method(ty, &GET, "get")
}

/// The C function behind `Ring.get`.
///
/// CPython calls it with the GIL held, `slf` an instance of `Ring` (the
/// method descriptor checks the type before calling) and `key` a borrowed,
/// live object; it returns a new reference, or NULL with an exception set.
unsafe extern "C" fn ring_get(
    slf: *mut ffi::PyObject,
    key: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: see the contract above: the GIL is held for this whole call.
    let py = unsafe { Python::assume_attached() };
    // SAFETY: `slf` is a live `Ring` (the descriptor checked its type).
    let slf = unsafe { Borrowed::from_ptr(py, slf).cast_unchecked::<PyRing>() };
    if let Some(name) = hot_path(py, &slf, key) {
        return name;
    }
    slow_path(slf.as_ptr(), key)
}

/// A `str` or `bytes` key on a non-empty ring that nobody is changing: the
/// owner's name (a new reference). `None` for everything else.
#[inline(always)]
fn hot_path(
    py: Python<'_>,
    slf: &Borrowed<'_, '_, PyRing>,
    key: *mut ffi::PyObject,
) -> Option<*mut ffi::PyObject> {
    let ring = slf.try_borrow().ok()?;
    // SAFETY: `key` is alive for this whole call and no Python code runs
    // while the bytes are in use (the lookup calls no Python API).
    let bytes = match unsafe { bytes::borrow_bytes(py, key) } {
        Ok(Some(b)) => b,
        // other types, and errors (retried by the slow path, which raises
        // them properly: nothing here may drop a PyErr without a guard)
        Ok(None) | Err(_) => return None,
    };
    Some(ring.lookup(py, bytes)?.clone_ref(py).into_ptr())
}

/// The ordinary method body under PyO3's full machinery: for the cases the
/// hot path leaves, including every error.
#[cold]
#[inline(never)]
fn slow_path(slf: *mut ffi::PyObject, key: *mut ffi::PyObject) -> *mut ffi::PyObject {
    slow_call(|py| {
        // SAFETY: both are live for this call (see `ring_get`), `slf` a Ring.
        let (slf, key) = unsafe {
            (
                Borrowed::from_ptr(py, slf).cast_unchecked::<PyRing>(),
                Borrowed::from_ptr(py, key),
            )
        };
        let ring = slf.try_borrow()?;
        Ok(ring.owner(&key)?.clone_ref(py).into_any())
    })
}
