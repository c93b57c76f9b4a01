//! `SharedRing.get` as a plain CPython `METH_O` method, as ring_get.rs does
//! for `Ring.get`: the hot case (a `str` or `bytes` key, the generation held
//! still the newest, a non-empty ring) reads the key in place, loads the
//! generation word once, looks the key up in the mapping and returns a new
//! reference to the cached name. Everything else — a new generation to take
//! up, other key types, errors — runs the ordinary method body under PyO3.

use super::bytes;
use super::method::{install_method, slow_call, MethodDef};
use crate::shared_ring::PySharedRing;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyType;
use std::ffi::CStr;

const DOC: &CStr = c"get($self, key, /)\n--\n\n\
The name of the node that owns ``key`` (str or bytes-like) in the newest\n\
generation published. Raises EmptyRingError (a LookupError) if the ring\n\
has no nodes, CorruptError if a new generation is damaged. ``shared[key]``\n\
is the same.";

static GET: MethodDef = MethodDef(ffi::PyMethodDef {
    ml_name: c"get".as_ptr(),
    ml_meth: ffi::PyMethodDefPointer {
        PyCFunction: shared_get,
    },
    ml_flags: ffi::METH_O,
    ml_doc: DOC.as_ptr(),
});

/// Replaces the PyO3-generated `SharedRing.get` with the `METH_O` one.
pub(crate) fn install(ty: &Bound<'_, PyType>) -> PyResult<()> {
    install_method(ty, &GET, "get")
}

/// The C function behind `SharedRing.get`: called by CPython with the GIL
/// held, `slf` a `SharedRing` (checked by the descriptor), `key` a live
/// borrowed object; returns a new reference or NULL with an exception set.
unsafe extern "C" fn shared_get(
    slf: *mut ffi::PyObject,
    key: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: the GIL is held for this whole call (contract above).
    let py = unsafe { Python::assume_attached() };
    // SAFETY: `slf` is a live `SharedRing` (the descriptor checked its type).
    let slf = unsafe { Borrowed::from_ptr(py, slf).cast_unchecked::<PySharedRing>() };
    if let Some(name) = hot_path(py, &slf, key) {
        return name;
    }
    slow_path(slf.as_ptr(), key)
}

#[inline(always)]
fn hot_path(
    py: Python<'_>,
    slf: &Borrowed<'_, '_, PySharedRing>,
    key: *mut ffi::PyObject,
) -> Option<*mut ffi::PyObject> {
    let ring = slf.try_borrow().ok()?;
    // SAFETY: `key` is alive for this whole call and no Python code runs
    // while the bytes are in use (the lookup calls no Python API).
    let bytes = match unsafe { bytes::borrow_bytes(py, key) } {
        Ok(Some(b)) => b,
        Ok(None) | Err(_) => return None,
    };
    Some(ring.lookup_current(bytes)?.clone_ref(py).into_ptr())
}

#[cold]
#[inline(never)]
fn slow_path(slf: *mut ffi::PyObject, key: *mut ffi::PyObject) -> *mut ffi::PyObject {
    slow_call(|py| {
        // SAFETY: both are live for this call (see `shared_get`), `slf` a SharedRing.
        let (slf, key) = unsafe {
            (
                Borrowed::from_ptr(py, slf).cast_unchecked::<PySharedRing>(),
                Borrowed::from_ptr(py, key),
            )
        };
        let mut ring = slf.try_borrow_mut()?;
        Ok(ring.owner(&key)?.into_any())
    })
}
