//! The one mapping from core errors to Python exceptions.
//!
//! The exception classes are defined in `ringlock/_errors.py` (so that they
//! can inherit from both `ringlock.Error` and a builtin such as `LookupError`);
//! this file picks the class for each [`ErrorKind`] and nothing else does.

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
        // ErrorKind is #[non_exhaustive]: a kind added to the core before it
        // gets its own class here is still a ringlock.Error.
        _ => "Error",
    }
}

/// The Python exception for a core error; the message is the core's detail
/// (the class already says the kind).
pub(crate) fn to_py(err: Error) -> PyErr {
    Python::attach(|py| {
        let class = ERRORS
            .get_or_try_init(py, || py.import(ERRORS_MODULE).map(Bound::unbind))
            .and_then(|m| m.bind(py).getattr(class_name(err.kind())))
            .and_then(|c| c.cast_into::<PyType>().map_err(PyErr::from));
        match class {
            Ok(class) => PyErr::from_type(class, err.message().to_owned()),
            Err(import_failed) => import_failed,
        }
    })
}

/// An `InvalidArgumentError` raised by this face's own argument checks.
pub(crate) fn invalid(message: impl Into<String>) -> PyErr {
    to_py(Error::new(ErrorKind::InvalidArgument, message))
}

/// The `EmptyRingError` of a lookup on a ring without nodes.
pub(crate) fn empty_ring() -> PyErr {
    to_py(Error::new(ErrorKind::EmptyRing, "the ring has no nodes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KINDS: [ErrorKind; 10] = [
        ErrorKind::InvalidArgument,
        ErrorKind::EmptyRing,
        ErrorKind::NotFound,
        ErrorKind::AlreadyExists,
        ErrorKind::WouldBlock,
        ErrorKind::Timeout,
        ErrorKind::Deadlock,
        ErrorKind::Io,
        ErrorKind::Corrupt,
        ErrorKind::Internal,
    ];

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
        for kind in KINDS {
            let def = format!("\nclass {}(", class_name(kind));
            assert!(source.contains(&def), "{def:?} missing from _errors.py");
        }
    }
}
