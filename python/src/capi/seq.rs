//! Exact lists and tuples read in place: their length and items from the
//! object itself (never through `len()` or `__getitem__`, which a subclass
//! could make lie), and new lists filled slot by slot. The invariants are in
//! [`super`].

use pyo3::exceptions::PyTypeError;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyInt, PyList, PyString, PyTuple};

/// A new list of `len` NULL slots, to be filled by [`set_new_item`] (a list
/// with NULL slots left is safely freed on error).
pub(crate) fn new_list(py: Python<'_>, len: usize) -> PyResult<Bound<'_, PyAny>> {
    // SAFETY: PyList_New returns a new list or NULL with an error set.
    unsafe { Bound::from_owned_ptr_or_err(py, ffi::PyList_New(len as ffi::Py_ssize_t)) }
}

/// Puts `name` in slot `at` of a list made by [`new_list`].
///
/// # Safety
/// `at` is below the list's length and its slot is still NULL (nothing to
/// release).
pub(crate) unsafe fn set_new_item(list: &Bound<'_, PyAny>, at: usize, name: Py<PyString>) {
    let (at, name) = (at as ffi::Py_ssize_t, name.into_ptr());
    // SAFETY: per the contract; both steal the new reference to the name.
    #[cfg(not(any(Py_LIMITED_API, PyPy, GraalPy)))]
    unsafe {
        ffi::PyList_SET_ITEM(list.as_ptr(), at, name)
    };
    // SAFETY: as above.
    #[cfg(any(Py_LIMITED_API, PyPy, GraalPy))]
    unsafe {
        ffi::PyList_SetItem(list.as_ptr(), at, name)
    };
}

/// The keys of `get_many` as an exact list or tuple, whose length and items
/// can be read in place: an exact list or tuple itself, anything else (a
/// subclass, whose `__len__`, `__iter__` or `__getitem__` may say anything,
/// a generator, a numpy array) copied by `list(keys)` first. A single str or
/// bytes key is a TypeError. This runs the iterable's Python code, so call it
/// before the ring is borrowed.
pub(crate) fn keys_in_place<'py>(keys: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    if keys.is_exact_instance_of::<PyList>() || keys.is_exact_instance_of::<PyTuple>() {
        return Ok(keys.clone());
    }
    if keys.is_instance_of::<PyString>() || keys.is_instance_of::<PyBytes>() {
        return Err(PyTypeError::new_err(
            "get_many takes an iterable of keys, not a single key; use get()",
        ));
    }
    // SAFETY: PySequence_List returns a new (exact) list or NULL with an
    // error set.
    unsafe { Bound::from_owned_ptr_or_err(keys.py(), ffi::PySequence_List(keys.as_ptr())) }
}

/// The length of an exact list (`is_list`) or tuple, read from the object
/// itself (not through `len()`, which a subclass could make lie).
pub(crate) fn seq_len(seq: &Bound<'_, PyAny>, is_list: bool) -> usize {
    // SAFETY: `seq` is a live list or tuple (the caller's contract, as made
    // by `keys_in_place`); the size functions only read its header.
    let len = unsafe {
        if is_list {
            ffi::PyList_Size(seq.as_ptr())
        } else {
            ffi::PyTuple_Size(seq.as_ptr())
        }
    };
    usize::try_from(len).unwrap_or(0)
}

/// The borrowed item `i` of a list or tuple.
///
/// # Safety
/// `seq` is an exact list (`is_list`) or tuple, `i` is below its length as
/// [`seq_len`] reads it, and no Python code runs between reading that length
/// and the last use of the returned borrowed pointer (so nothing can shrink
/// the list or free the item).
pub(crate) unsafe fn item_at(
    seq: &Bound<'_, PyAny>,
    is_list: bool,
    i: usize,
) -> *mut ffi::PyObject {
    let i = i as ffi::Py_ssize_t;
    // SAFETY: per this function's contract; the result is a borrowed
    // reference owned by the sequence.
    unsafe {
        #[cfg(not(any(Py_LIMITED_API, PyPy, GraalPy)))]
        if is_list {
            ffi::PyList_GET_ITEM(seq.as_ptr(), i)
        } else {
            ffi::PyTuple_GET_ITEM(seq.as_ptr(), i)
        }
        #[cfg(any(Py_LIMITED_API, PyPy, GraalPy))]
        if is_list {
            ffi::PyList_GetItem(seq.as_ptr(), i)
        } else {
            ffi::PyTuple_GetItem(seq.as_ptr(), i)
        }
    }
}

/// `operator.index(obj)`: the int itself, or its `__index__`, or TypeError.
pub(crate) fn index<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyInt>> {
    if let Ok(int) = obj.cast::<PyInt>() {
        return Ok(int.clone());
    }
    // SAFETY: PyNumber_Index returns a new reference or NULL with an error set.
    let int = unsafe { Bound::from_owned_ptr_or_err(obj.py(), ffi::PyNumber_Index(obj.as_ptr())) }?;
    Ok(int.cast_into::<PyInt>()?)
}
