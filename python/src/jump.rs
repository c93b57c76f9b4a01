//! `ringlock.jump_hash`: Lamping and Veach's jump consistent hash.

use crate::args::index;
use crate::errors::invalid;
use pyo3::prelude::*;

/// The bucket in ``range(buckets)`` of the 64-bit ``key``, by Lamping and
/// Veach's jump consistent hash (the published algorithm, identical to
/// Guava's and to the PyPI package jump-consistent-hash). Growing ``buckets``
/// by one moves a key only to the new bucket.
///
/// ``key`` must be in ``[0, 2**64)`` and ``buckets`` in ``[1, 2**31)``;
/// anything else raises InvalidArgumentError (a ValueError).
#[pyfunction]
pub fn jump_hash(key: &Bound<'_, PyAny>, buckets: &Bound<'_, PyAny>) -> PyResult<i32> {
    let key = index(key)?;
    let buckets = index(buckets)?;
    let k = key
        .extract::<u64>()
        .map_err(|_| invalid(format!("key must be in [0, 2**64), not {key}")))?;
    let b = buckets
        .extract::<i32>()
        .ok()
        .filter(|&b| b >= 1)
        .ok_or_else(|| invalid(format!("buckets must be in [1, 2**31), not {buckets}")))?;
    Ok(ringlock::jump_hash(k, b))
}
