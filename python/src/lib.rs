//! `ringlock._ringlock`: the native module behind the Python package
//! `ringlock` (whose `__init__.py` curates the public names). Thin by rule:
//! argument conversion and error mapping; placement and locking are the
//! core's.

use pyo3::prelude::*;

mod args;
mod bounded;
mod capi;
mod diff;
mod errors;
mod jump;
mod keys;
mod lock;
mod membership;
mod ring;
mod shared_ring;

// `gil_used`: a change to a ring is atomic for lookups because both hold
// the GIL. The abi3 wheel never loads on a free-threaded CPython; a build
// for one keeps the GIL on rather than let a lookup racing a change fail
// with "Already borrowed".
/// The native part of ringlock (private): import ringlock instead.
#[pymodule(gil_used = true)]
fn _ringlock(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<ring::PyRing>()?;
    capi::ring_get::install(&m.py().get_type::<ring::PyRing>())?;
    m.add_class::<shared_ring::PySharedRing>()?;
    capi::shared_get::install(&m.py().get_type::<shared_ring::PySharedRing>())?;
    m.add_class::<bounded::PyLoadTracker>()?;
    m.add_class::<bounded::PyLoadSlot>()?;
    m.add_class::<lock::PyLock>()?;
    m.add_class::<lock::PyRWLock>()?;
    m.add_class::<lock::PyRWLockGuard>()?;
    m.add_class::<lock::PyHold>()?;
    m.add_class::<lock::Ticket>()?;
    m.add_class::<membership::PyMember>()?;
    m.add_class::<membership::PyRingWatcher>()?;
    m.add_class::<membership::PyRingChange>()?;
    capi::jump_hash::install(m)?;
    m.add("__version__", ringlock::VERSION)?;
    Ok(())
}
