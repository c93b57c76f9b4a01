//! `Ring.get_many`: the keys' bytes read in place from an exact list or
//! tuple, looked up in blocks by the core's batched lookup (without the GIL
//! from [`DETACH_KEYS`] keys on), and the owners' cached names put straight
//! into a new list. The reads rely on the invariants in [`super`].

use super::bytes::borrow_bytes;
use super::seq::{item_at, keys_in_place, new_list, seq_len, set_new_item};
use crate::ring::PyRing;
use crate::{errors, keys};
use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyList;
use std::borrow::Cow;

/// From this many keys on, `get_many` runs without the GIL.
const DETACH_KEYS: usize = 4096;

/// The body of `Ring.get_many(keys)`.
pub(crate) fn ring_get_many<'py>(
    slf: &Bound<'py, PyRing>,
    keys: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyList>> {
    let py = slf.py();
    let seq = keys_in_place(keys)?;
    let is_list = seq.is_exact_instance_of::<PyList>();
    let len = seq_len(&seq, is_list);
    if len >= DETACH_KEYS {
        return detached(slf, &seq, is_list);
    }
    let out = new_list(py, len)?;
    let this = slf.try_borrow()?;
    if this.ring().is_empty() {
        return Err(errors::empty_ring());
    }
    // Blocks of keys: read every key's bytes in place, look the block up
    // in one core call (its table reads overlap), then fill the list.
    const BLOCK: usize = 64;
    let mut ids = [0usize; BLOCK];
    let mut start = 0;
    while start < len {
        let end = (start + BLOCK).min(len);
        let mut slices: [&[u8]; BLOCK] = [&[]; BLOCK];
        let mut in_place = true;
        for (j, slot) in slices[..end - start].iter_mut().enumerate() {
            // SAFETY: the index is in bounds and no Python code runs in
            // this function, so `seq` keeps its length and its items,
            // which outlive the slices (used only within this block).
            match unsafe { borrow_bytes(py, item_at(&seq, is_list, start + j)) } {
                Ok(Some(b)) => *slot = b,
                Ok(None) => in_place = false,
                Err(e) => return Err(key_error_at(py, e, (start + j) as ffi::Py_ssize_t)),
            }
        }
        if in_place {
            this.ring()
                .get_many_ids(&slices[..end - start], &mut ids[..end - start])
                .map_err(errors::to_py)?;
        } else {
            // some key is neither str nor bytes: one at a time
            for (j, id) in ids[..end - start].iter_mut().enumerate() {
                // SAFETY: as above; the item is borrowed from `seq`.
                let item = unsafe { Borrowed::from_ptr(py, item_at(&seq, is_list, start + j)) };
                *id = keys::with_key(&item, |k| this.ring().get_id(k))
                    .map_err(|e| key_error_at(py, e, (start + j) as ffi::Py_ssize_t))?
                    .expect("the ring is not empty");
            }
        }
        for (j, &id) in ids[..end - start].iter().enumerate() {
            // SAFETY: `start + j` is below `len`, its slot still NULL.
            unsafe { set_new_item(&out, start + j, this.names()[id].clone_ref(py)) };
        }
        start = end;
    }
    drop(this);
    Ok(out.cast_into::<PyList>()?)
}

/// `get_many` of many keys, on a snapshot of the ring: chunk by chunk,
/// the keys' bytes are gathered (in place, each key held by a new
/// reference, or copied for bytearray and memoryview), looked up without
/// the GIL, and their owners put in the list. A list that another thread
/// resizes meanwhile is a RuntimeError.
fn detached<'py>(
    slf: &Bound<'py, PyRing>,
    seq: &Bound<'py, PyAny>,
    is_list: bool,
) -> PyResult<Bound<'py, PyList>> {
    /// Keys per GIL-free lookup (their slices and ids stay in cache).
    const CHUNK: usize = 8192;
    let py = slf.py();
    let (ring, names) = PyRing::snapshot(slf)?;
    let len = seq_len(seq, is_list);
    let out = new_list(py, len)?;
    let mut held: Vec<Py<PyAny>> = Vec::with_capacity(CHUNK.min(len));
    let mut keys: Vec<Cow<'_, [u8]>> = Vec::with_capacity(CHUNK.min(len));
    let mut ids = vec![0usize; CHUNK.min(len)];
    let mut start = 0;
    while start < len {
        let end = (start + CHUNK).min(len);
        // the slices go before the references that keep them valid;
        // releasing those may run Python code (a subclass's __del__)
        keys.clear();
        held.clear();
        if seq_len(seq, is_list) != len {
            return Err(PyRuntimeError::new_err(
                "the list of keys changed size during get_many",
            ));
        }
        for i in start..end {
            // SAFETY: `i` is below the length just read, and no Python
            // code runs in this loop (see `item_at`).
            let p = unsafe { item_at(seq, is_list, i) };
            // SAFETY: `p` is a live object (borrowed from `seq`).
            let item = unsafe { Borrowed::from_ptr(py, p) };
            held.push(item.to_owned().unbind());
            // SAFETY: a str or bytes (or subclass) is immutable and its
            // bytes (its UTF-8 form, cached in the str) live as long as
            // it, which `held` keeps alive for as long as `keys`, with or
            // without the GIL (another thread may change the list).
            match unsafe { borrow_bytes(py, p) } {
                Ok(Some(b)) => keys.push(Cow::Borrowed(b)),
                Ok(None) => {
                    // a bytearray or memoryview may change: copied
                    let copy = keys::with_key(&item, <[u8]>::to_vec)
                        .map_err(|e| key_error_at(py, e, i as ffi::Py_ssize_t))?;
                    keys.push(Cow::Owned(copy));
                }
                Err(e) => return Err(key_error_at(py, e, i as ffi::Py_ssize_t)),
            }
        }
        let ids = &mut ids[..end - start];
        py.detach(|| ring.get_many_ids(&keys, ids))
            .map_err(errors::to_py)?;
        for (j, &id) in ids.iter().enumerate() {
            // SAFETY: `start + j` is below `len`, its slot still NULL.
            unsafe { set_new_item(&out, start + j, names[id].clone_ref(py)) };
        }
        start = end;
    }
    keys.clear();
    drop(held);
    Ok(out.cast_into::<PyList>()?)
}

/// Prefixes a get_many key error with the key's index.
fn key_error_at(py: Python<'_>, err: PyErr, i: ffi::Py_ssize_t) -> PyErr {
    if err.is_instance_of::<PyTypeError>(py) {
        PyTypeError::new_err(format!("keys[{i}]: {}", err.value(py)))
    } else {
        err
    }
}
