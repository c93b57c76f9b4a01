//! Keys: a `str` is placed by its UTF-8 bytes (read in place, not copied),
//! `bytes`, `bytearray` and `memoryview` by their bytes. Anything else is a
//! `TypeError`. Subclasses count (numpy's `str_` and `bytes_` included).

use crate::errors;
use pyo3::exceptions::PyTypeError;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

/// The UTF-8 bytes of `s`, which must be a `str` (or subclass), borrowed from
/// the string's cached UTF-8 form (for an ASCII string, its characters): no
/// copy. Err if it holds a lone surrogate (not encodable).
#[inline]
fn utf8_of_str<'a>(s: &'a Bound<'_, PyAny>) -> PyResult<&'a [u8]> {
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

/// A `str` argument as `&str`, borrowed in place. `what` names the argument
/// in the errors: TypeError for a non-str, InvalidArgumentError for a str
/// that cannot be encoded as UTF-8.
pub(crate) fn as_str<'a>(obj: &'a Bound<'_, PyAny>, what: &str) -> PyResult<&'a str> {
    // SAFETY: PyUnicode_Check only reads the type flags.
    if unsafe { ffi::PyUnicode_Check(obj.as_ptr()) } == 0 {
        return Err(PyTypeError::new_err(format!(
            "{what} must be str, not {}",
            type_name(obj)
        )));
    }
    let bytes = utf8_of_str(obj).map_err(|e| not_utf8(obj.py(), what, e))?;
    // CPython's UTF-8 encoder only produces valid UTF-8; checking is cheap
    // next to everything else done with a name.
    std::str::from_utf8(bytes).map_err(|_| errors::invalid(format!("{what} is not valid UTF-8")))
}

/// Runs `f` on the bytes of `key` (see the module docs). Nothing in here runs
/// Python code, so the bytes cannot change while `f` runs.
#[inline]
pub(crate) fn with_key<R>(key: &Bound<'_, PyAny>, f: impl FnOnce(&[u8]) -> R) -> PyResult<R> {
    // SAFETY: `key` is alive for this whole call, which runs no Python code.
    if let Some(bytes) = unsafe { borrow_bytes(key.py(), key.as_ptr()) }? {
        return Ok(f(bytes));
    }
    with_buffer(key, "a key", "str, bytes, bytearray or memoryview", f)
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

fn not_utf8(py: Python<'_>, what: &str, cause: PyErr) -> PyErr {
    let err = errors::invalid(format!(
        "{what} cannot be encoded as UTF-8 (it contains a lone surrogate)"
    ));
    err.set_cause(py, Some(cause));
    err
}

/// The type name of `obj`, for error messages.
pub(crate) fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".to_owned())
}
