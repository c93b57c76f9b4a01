//! Bytes read in place from `str`, `bytes`, `bytearray` and `memoryview`
//! objects (the invariants are in [`super`]).

use crate::keys::{not_utf8, type_name};
use pyo3::exceptions::PyTypeError;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

/// The UTF-8 bytes of `s`, which must be a `str` (or subclass), borrowed from
/// the string's cached UTF-8 form (for an ASCII string, its characters): no
/// copy. Err if it holds a lone surrogate (not encodable).
#[inline]
pub(crate) fn utf8_of_str<'a>(s: &'a Bound<'_, PyAny>) -> PyResult<&'a [u8]> {
    let mut size: ffi::Py_ssize_t = 0;
    // SAFETY: `s` is a str (checked by the callers); the returned buffer is
    // owned by the string, immutable, and outlives the borrow of `s`.
    unsafe {
        let data = ffi::PyUnicode_AsUTF8AndSize(s.as_ptr(), &mut size);
        if data.is_null() {
            return Err(PyErr::fetch(s.py()));
        }
        Ok(std::slice::from_raw_parts(data.cast::<u8>(), size as usize))
    }
}

/// The bytes of a `str` or `bytes` key, read in place; `None` for any other
/// type (the caller then goes through [`with_key`]).
///
/// # Safety
/// `p` must point to a live object that outlives `'a`, and no Python code
/// may run while the slice is in use (nothing can then change or free it).
#[inline]
pub(crate) unsafe fn borrow_bytes<'a>(
    py: Python<'_>,
    p: *mut ffi::PyObject,
) -> PyResult<Option<&'a [u8]>> {
    // SAFETY: the type checks only read type flags of a live object; the
    // buffers belong to the (immutable) str or bytes object, which the
    // caller keeps alive for 'a.
    unsafe {
        // The full C API: a compact ASCII str (the common key) holds its
        // characters, which are its UTF-8, right after its header.
        #[cfg(not(any(Py_LIMITED_API, PyPy, GraalPy)))]
        if ffi::Py_TYPE(p) == std::ptr::addr_of_mut!(ffi::PyUnicode_Type)
            && ffi::PyUnicode_IS_COMPACT_ASCII(p) != 0
        {
            return Ok(Some(std::slice::from_raw_parts(
                ffi::PyUnicode_DATA(p).cast::<u8>(),
                ffi::PyUnicode_GET_LENGTH(p) as usize,
            )));
        }
        if ffi::Py_TYPE(p) == std::ptr::addr_of_mut!(ffi::PyUnicode_Type)
            || ffi::PyUnicode_Check(p) != 0
        {
            let mut size: ffi::Py_ssize_t = 0;
            let data = ffi::PyUnicode_AsUTF8AndSize(p, &mut size);
            if data.is_null() {
                return Err(not_utf8(py, "a str key", PyErr::fetch(py)));
            }
            return Ok(Some(std::slice::from_raw_parts(
                data.cast::<u8>(),
                size as usize,
            )));
        }
        if ffi::PyBytes_Check(p) != 0 {
            let data = ffi::PyBytes_AsString(p);
            let len = ffi::PyBytes_Size(p);
            return Ok(Some(std::slice::from_raw_parts(
                data.cast::<u8>(),
                len as usize,
            )));
        }
    }
    Ok(None)
}

/// The bytes of a `str` or `bytes` key (subclasses too), read in place and
/// borrowed for as long as `key` is: `None` for any other type. Safe
/// because both types are immutable and the bytes (a str's cached UTF-8
/// form) live as long as the object, which the borrow keeps alive.
#[inline]
pub(crate) fn str_or_bytes<'a>(key: &'a Bound<'_, PyAny>) -> PyResult<Option<&'a [u8]>> {
    // SAFETY: `key` is a live object for 'a (the borrow), and the slice's
    // bytes belong to the immutable str or bytes object (invariant 2).
    unsafe { borrow_bytes(key.py(), key.as_ptr()) }
}

/// Runs `f` on the bytes of a bytes-like object (bytes, bytearray,
/// memoryview); `what` and `expected` word the TypeError for anything else.
pub(crate) fn with_buffer<R>(
    obj: &Bound<'_, PyAny>,
    what: &str,
    expected: &str,
    f: impl FnOnce(&[u8]) -> R,
) -> PyResult<R> {
    let p = obj.as_ptr();
    // SAFETY: as in `with_key`. A bytearray could be resized by Python code,
    // but none runs between reading its buffer and the end of `f`.
    unsafe {
        if ffi::PyBytes_Check(p) != 0 {
            let data = ffi::PyBytes_AsString(p);
            let len = ffi::PyBytes_Size(p);
            return Ok(f(std::slice::from_raw_parts(
                data.cast::<u8>(),
                len as usize,
            )));
        }
        if ffi::PyByteArray_Check(p) != 0 {
            let len = ffi::PyByteArray_Size(p) as usize;
            if len == 0 {
                return Ok(f(&[]));
            }
            let data = ffi::PyByteArray_AsString(p);
            return Ok(f(std::slice::from_raw_parts(data.cast::<u8>(), len)));
        }
        if ffi::PyMemoryView_Check(p) != 0 {
            // The buffer protocol joined the limited API in 3.11: copy (in C
            // order, whatever the view's strides) through bytes(view).
            let copy = Bound::from_owned_ptr_or_err(obj.py(), ffi::PyBytes_FromObject(p))?;
            let copy = copy.cast_into::<PyBytes>()?;
            return Ok(f(copy.as_bytes()));
        }
    }
    Err(PyTypeError::new_err(format!(
        "{what} must be {expected}, not {}",
        type_name(obj)
    )))
}
