//! What the hand-written CPython entry points (ring_get.rs, shared_get.rs, jump_hash.rs)
//! share: a static method definition, and the way back into PyO3's full
//! machinery for every case their hot paths leave.

use pyo3::ffi;
use pyo3::panic::PanicException;
use pyo3::prelude::*;
use pyo3::types::PyType;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

/// A method definition CPython keeps a pointer to for the life of the
/// process (it never writes through it).
pub(crate) struct MethodDef(pub(crate) ffi::PyMethodDef);

// SAFETY: the definition holds pointers to static, immutable C strings and a
// function; nobody writes to it after compilation, so sharing it between
// threads is sharing immutable data.
unsafe impl Sync for MethodDef {}

impl MethodDef {
    /// The pointer CPython's constructors take (as `*mut`, but only read).
    pub(crate) fn as_ptr(&'static self) -> *mut ffi::PyMethodDef {
        ptr::addr_of!(self.0).cast_mut()
    }
}

/// Installs `def` (a `METH_O` or other method definition) on `ty` as the
/// method `name`, in place of the PyO3-generated one.
pub(crate) fn install_method(
    ty: &Bound<'_, PyType>,
    def: &'static MethodDef,
    name: &str,
) -> PyResult<()> {
    let py = ty.py();
    // SAFETY: `ty` is a live type object; `def` is a static definition that
    // outlives it. PyDescr_NewMethod returns a new reference or NULL with an
    // exception set (invariant 5).
    let descr = unsafe {
        Bound::from_owned_ptr_or_err(
            py,
            ffi::PyDescr_NewMethod(ty.as_ptr().cast::<ffi::PyTypeObject>(), def.as_ptr()),
        )
    }?;
    ty.setattr(name, descr)
}

/// Runs `body` attached through PyO3 (the attach guard, deferred reference
/// counts) with panics caught, and returns what a CPython C function must:
/// a new reference, or NULL with the exception (a `PanicException` for a
/// panic) set.
pub(crate) fn slow_call(
    body: impl FnOnce(Python<'_>) -> PyResult<Py<PyAny>>,
) -> *mut ffi::PyObject {
    let result = catch_unwind(AssertUnwindSafe(|| {
        Python::attach(|py| match body(py) {
            Ok(obj) => obj.into_ptr(),
            Err(e) => {
                e.restore(py);
                ptr::null_mut()
            }
        })
    }));
    result.unwrap_or_else(|payload| {
        let msg = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic in ringlock".to_owned());
        Python::attach(|py| PanicException::new_err(msg).restore(py));
        ptr::null_mut()
    })
}
