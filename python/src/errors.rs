//! The one mapping from core errors to Python exceptions.
//!
//! The exception classes are defined in `ringlock/_errors.py` (so that they
//! can inherit from both `ringlock.Error` and a builtin such as `LookupError`);
//! this file picks the class for each [`ErrorKind`] and nothing else does.
//! An error that carries an `errno` (the core's [`Error::errno`]) becomes,
//! through `_errors._os_error`, a class that is both the kind's class and
//! the builtin `OSError` subclass of that errno (`PermissionError`,
//! `FileNotFoundError`, ...), with `errno` and `strerror` set.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyModule, PyType};
use ringlock::{Error, ErrorKind};

/// The Python module that defines the exception classes.
const ERRORS_MODULE: &str = "ringlock._errors";

static ERRORS: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

/// The name of the `ringlock` exception class raised for `kind`.
pub(crate) fn class_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::InvalidArgument => "InvalidArgumentError",
        ErrorKind::EmptyRing => "EmptyRingError",
        ErrorKind::NotFound => "NodeNotFoundError",
        ErrorKind::AlreadyExists => "NodeExistsError",
        ErrorKind::WouldBlock => "WouldBlockError",
        ErrorKind::Timeout => "LockTimeout",
        ErrorKind::Deadlock => "DeadlockError",
        ErrorKind::Io => "IoError",
        ErrorKind::Corrupt => "CorruptError",
        ErrorKind::Internal => "InternalError",
        ErrorKind::Unavailable => "UnavailableError",
        ErrorKind::Lost => "LockLostError",
        // ErrorKind is #[non_exhaustive]: a kind added to the core before it
        // gets its own class here is still a ringlock.Error.
        _ => "Error",
    }
}

/// The Python exception for a core error; the message is the core's detail
/// (the class already says the kind).
/// A refused allocation (the core's `Io` "out of memory") is Python's own
/// `MemoryError`; an error with an errno is also the builtin OSError
/// subclass of that errno.
pub(crate) fn to_py(err: Error) -> PyErr {
    to_py_as(err.kind(), err)
}

/// [`to_py`], with the class of `kind` instead of the error's own (for a
/// face that knows better what a kind means at one call, such as "no shared
/// ring at that path", an `IoError` rather than a missing node).
pub(crate) fn to_py_as(kind: ErrorKind, err: Error) -> PyErr {
    if kind == ErrorKind::Io && err.message().starts_with(OUT_OF_MEMORY) {
        return pyo3::exceptions::PyMemoryError::new_err(err.message().to_owned());
    }
    match err.errno() {
        Some(errno) => os_error(class_name(kind), errno, err.message()),
        None => raise(class_name(kind), err.message()),
    }
}

/// How the core's messages for a refused allocation begin
/// (core/src/ring/limits.rs).
const OUT_OF_MEMORY: &str = "out of memory";

/// The class of `ringlock._errors` called `class` with `message`.
fn raise(class: &str, message: &str) -> PyErr {
    Python::attach(|py| {
        let class = errors_module(py)
            .and_then(|m| m.getattr(class))
            .and_then(|c| c.cast_into::<PyType>().map_err(PyErr::from));
        match class {
            Ok(class) => PyErr::from_type(class, message.to_owned()),
            Err(import_failed) => import_failed,
        }
    })
}

/// `ringlock._errors._os_error(class, errno, message)`: an instance of
/// both `class` and the builtin OSError subclass of `errno`.
fn os_error(class: &str, errno: i32, message: &str) -> PyErr {
    Python::attach(|py| {
        let made = errors_module(py)
            .and_then(|m| m.getattr("_os_error"))
            .and_then(|f| f.call1((class, errno, message)));
        match made {
            Ok(exc) => PyErr::from_value(exc),
            Err(call_failed) => call_failed,
        }
    })
}

fn errors_module(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    ERRORS
        .get_or_try_init(py, || py.import(ERRORS_MODULE).map(Bound::unbind))
        .map(|m| m.bind(py))
}

/// The class raised by a `release()` of a lock that is not held.
pub(crate) const NOT_HELD: &str = "NotHeldError";

/// The error of a lock's `release()`. There the core's `InvalidArgument`
/// means "this handle holds nothing" (or it was inherited across fork): a
/// `NotHeldError`, also a `RuntimeError` like `threading.Lock`'s "release
/// unlocked lock". Other kinds map as everywhere.
pub(crate) fn release_error(err: Error) -> PyErr {
    match err.kind() {
        ErrorKind::InvalidArgument => not_held(err.message()),
        _ => to_py(err),
    }
}

/// A `NotHeldError` raised by this face's own bookkeeping (a thread or task
/// that holds nothing through the lock object).
pub(crate) fn not_held(message: &str) -> PyErr {
    raise(NOT_HELD, message)
}

/// An `InvalidArgumentError` raised by this face's own argument checks.
pub(crate) fn invalid(message: impl Into<String>) -> PyErr {
    to_py(Error::new(ErrorKind::InvalidArgument, message))
}

/// The `EmptyRingError` of a lookup on a ring without nodes.
pub(crate) fn empty_ring() -> PyErr {
    to_py(Error::empty_ring())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KINDS: &[ErrorKind] = &ErrorKind::ALL;

    #[test]
    fn every_kind_has_its_own_class() {
        let mut names: Vec<_> = KINDS.iter().map(|&k| class_name(k)).collect();
        assert!(!names.contains(&"Error"));
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), KINDS.len());
    }

    #[test]
    fn the_python_module_defines_every_class() {
        let source = include_str!("../ringlock/_errors.py");
        let names = KINDS.iter().map(|&k| class_name(k)).chain([NOT_HELD]);
        for name in names {
            let def = format!("\nclass {name}(");
            assert!(source.contains(&def), "{def:?} missing from _errors.py");
        }
    }
}
