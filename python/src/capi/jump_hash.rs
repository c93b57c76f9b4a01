//! `ringlock.jump_hash` as a plain CPython `METH_FASTCALL` function.
//!
//! Like `Ring.get` (ring_get.rs): the hot case — two `int` arguments in
//! range, given positionally — is read with two C-API calls and answered
//! without PyO3's generic argument handling, which cost more than the hash
//! itself. Every other call (keywords, `__index__` objects, values out of
//! range, wrong types) is handed, unchanged, to the PyO3 function
//! ([`crate::jump::jump_hash`]), so answers and exceptions are the same.

use super::method::{slow_call, MethodDef};
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyCFunction, PyDict, PyTuple};
use std::ffi::CStr;
use std::ptr;
use std::sync::OnceLock;

const DOC: &CStr = c"jump_hash(key, buckets)\n--\n\n\
The bucket in ``range(buckets)`` of the 64-bit ``key``, by Lamping and\n\
Veach's jump consistent hash (the published algorithm, identical to\n\
Guava's and to the PyPI package jump-consistent-hash). Growing ``buckets``\n\
by one moves a key only to the new bucket.\n\
\n\
``key`` must be in ``[0, 2**64)`` and ``buckets`` in ``[1, 2**31)``;\n\
anything else raises InvalidArgumentError (a ValueError).";

static JUMP: MethodDef = MethodDef(ffi::PyMethodDef {
    ml_name: c"jump_hash".as_ptr(),
    ml_meth: ffi::PyMethodDefPointer {
        PyCFunctionFastWithKeywords: jump_hash,
    },
    ml_flags: ffi::METH_FASTCALL | ffi::METH_KEYWORDS,
    ml_doc: DOC.as_ptr(),
});

/// The PyO3 function: the slow path.
static GENERIC: OnceLock<Py<PyCFunction>> = OnceLock::new();

/// Adds `jump_hash` to `m`: the fast function in front of the PyO3 one.
pub(crate) fn install(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    let generic = pyo3::wrap_pyfunction!(crate::jump::jump_hash, m)?;
    let _ = GENERIC.set(generic.unbind());
    // SAFETY: `JUMP` is a static definition that outlives the function
    // object; `m` is a live module (its name goes in `__module__`).
    // PyCFunction_NewEx returns a new reference or NULL with an error set.
    let fast = unsafe {
        Bound::from_owned_ptr_or_err(
            py,
            ffi::PyCFunction_NewEx(JUMP.as_ptr(), ptr::null_mut(), m.name()?.as_ptr()),
        )
    }?;
    m.add("jump_hash", fast)
}

/// The C function behind `jump_hash`.
///
/// CPython calls it with the GIL held; `args` holds `nargs` positional
/// arguments followed by one value per name in `kwnames` (NULL when there
/// are none), all borrowed and alive for the call. Returns a new reference,
/// or NULL with an exception set.
unsafe extern "C" fn jump_hash(
    _module: *mut ffi::PyObject,
    args: *const *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
    kwnames: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    if nargs == 2 && kwnames.is_null() {
        // SAFETY: two positional arguments, alive for this call (above).
        let (key, buckets) = unsafe { (*args, *args.add(1)) };
        // SAFETY: both are live objects and the GIL is held.
        if let Some(bucket) = unsafe { hot_path(key, buckets) } {
            // SAFETY: the GIL is held; a new reference or NULL with an error.
            return unsafe { ffi::PyLong_FromLong(bucket.into()) };
        }
    }
    // SAFETY: as this function's contract says.
    unsafe { slow_path(args, nargs, kwnames) }
}

/// Two exact ints in range: the bucket. `None` (with no exception left set)
/// for anything else.
///
/// # Safety
/// The GIL is held and both pointers are live objects.
#[inline(always)]
unsafe fn hot_path(key: *mut ffi::PyObject, buckets: *mut ffi::PyObject) -> Option<i32> {
    // SAFETY: the caller's contract; the calls only read the int objects,
    // and an error they raise (negative, too large) is cleared here before
    // the slow path raises ours.
    unsafe {
        let int_type = ptr::addr_of_mut!(ffi::PyLong_Type);
        if ffi::Py_TYPE(key) != int_type || ffi::Py_TYPE(buckets) != int_type {
            return None;
        }
        // `unsigned long` where it is 64 bits (LP64): CPython converts it
        // digit by digit, while `unsigned long long` goes through the
        // generic byte-array path, several times slower (3.11).
        #[cfg(all(target_pointer_width = "64", not(windows)))]
        let k: u64 = ffi::PyLong_AsUnsignedLong(key);
        #[cfg(not(all(target_pointer_width = "64", not(windows))))]
        let k = ffi::PyLong_AsUnsignedLongLong(key);
        let b = ffi::PyLong_AsLong(buckets);
        if (k == u64::MAX || b == -1) && !ffi::PyErr_Occurred().is_null() {
            ffi::PyErr_Clear();
            return None;
        }
        let b = i32::try_from(b).ok().filter(|&b| b >= 1)?;
        Some(ringlock::jump_hash(k, b))
    }
}

/// Calls the PyO3 function with the same arguments.
///
/// # Safety
/// As [`jump_hash`]'s contract.
#[cold]
#[inline(never)]
unsafe fn slow_path(
    args: *const *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
    kwnames: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: per the contract: `nargs` positional values, then one per name
    // of the `kwnames` tuple, all borrowed live objects.
    slow_call(|py| unsafe { call_generic(py, args, nargs, kwnames) }.map(Bound::unbind))
}

/// # Safety
/// As [`jump_hash`]'s contract.
unsafe fn call_generic<'py>(
    py: Python<'py>,
    args: *const *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
    kwnames: *mut ffi::PyObject,
) -> PyResult<Bound<'py, PyAny>> {
    let generic = GENERIC
        .get()
        .ok_or_else(|| pyo3::exceptions::PyRuntimeError::new_err("jump_hash is not set up"))?;
    let nargs = usize::try_from(nargs).unwrap_or(0);
    // SAFETY: `args[..nargs]` are borrowed live objects (contract).
    let positional = (0..nargs).map(|i| unsafe { Borrowed::from_ptr(py, *args.add(i)) });
    let positional = PyTuple::new(py, positional)?;
    let kwargs = if kwnames.is_null() {
        None
    } else {
        // SAFETY: `kwnames` is a live tuple of str (contract).
        let names = unsafe { Borrowed::from_ptr(py, kwnames) }
            .cast::<PyTuple>()?
            .to_owned();
        let dict = PyDict::new(py);
        for (j, name) in names.iter().enumerate() {
            // SAFETY: the value of the j-th keyword follows the positionals.
            let value = unsafe { Borrowed::from_ptr(py, *args.add(nargs + j)) };
            dict.set_item(name, value)?;
        }
        Some(dict)
    };
    generic.bind(py).call(positional, kwargs.as_ref())
}
