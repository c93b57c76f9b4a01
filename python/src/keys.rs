//! Keys: a `str` is placed by its UTF-8 bytes (read in place, not copied),
//! `bytes`, `bytearray` and `memoryview` by their bytes. Anything else is a
//! `TypeError`. Subclasses count (numpy's `str_` and `bytes_` included).

use crate::capi::bytes::{str_or_bytes, utf8_of_str};
use crate::errors;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyString;

pub(crate) use crate::capi::bytes::with_buffer;

/// A `str` argument as `&str`, borrowed in place. `what` names the argument
/// in the errors: TypeError for a non-str, InvalidArgumentError for a str
/// that cannot be encoded as UTF-8.
pub(crate) fn as_str<'a>(obj: &'a Bound<'_, PyAny>, what: &str) -> PyResult<&'a str> {
    if !obj.is_instance_of::<PyString>() {
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
    if let Some(bytes) = str_or_bytes(key)? {
        return Ok(f(bytes));
    }
    with_buffer(key, "a key", "str, bytes, bytearray or memoryview", f)
}

pub(crate) fn not_utf8(py: Python<'_>, what: &str, cause: PyErr) -> PyErr {
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
