//! The arguments of the lock classes, converted to what the core takes. A
//! value of the wrong type is a `TypeError`, and so is an argument of one
//! kind of backend given with another (`dir=` with `backend="etcd"`); a bad
//! value of the right type an `InvalidArgumentError`. The core checks names,
//! backends, file modes, endpoints, TTLs and namespaces itself; this file
//! checks only what the core never sees (timeouts in seconds, `blocking`).

use crate::args::index;
use crate::errors::invalid;
use crate::keys::{as_str, type_name};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyBool;
use ringlock::etcd::ClientOptions;
use ringlock::lock::Backend;
use std::path::PathBuf;
use std::time::Duration;

/// A lock name: a `str` (the core checks `[A-Za-z0-9._-]{1,200}`).
pub(crate) fn name(obj: &Bound<'_, PyAny>) -> PyResult<String> {
    as_str(obj, "lock name").map(str::to_owned)
}

/// Where a lock lives: on this host (a core backend) or in etcd.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Where {
    Local(Backend),
    Etcd,
}

/// `"shm"`, `"file"` or `"etcd"`; None is `"shm"`.
pub(crate) fn backend(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Where> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(Where::Local(Backend::default()));
    };
    let name = as_str(obj, "backend")?;
    if name == "etcd" {
        return Ok(Where::Etcd);
    }
    name.parse::<Backend>().map(Where::Local).map_err(|_| {
        invalid(format!(
            "unknown lock backend {name:?}; expected \"shm\", \"file\" or \"etcd\""
        ))
    })
}

/// The arguments that only `backend="etcd"` takes (None: not given).
#[derive(Default)]
pub(crate) struct EtcdArgs<'a, 'py> {
    pub endpoints: Option<&'a Bound<'py, PyAny>>,
    pub ttl: Option<&'a Bound<'py, PyAny>>,
    pub namespace: Option<&'a Bound<'py, PyAny>>,
    pub request_timeout: Option<&'a Bound<'py, PyAny>>,
}

impl EtcdArgs<'_, '_> {
    /// The name of the first one given (not None), if any.
    pub(crate) fn given(&self) -> Option<&'static str> {
        [
            ("endpoints", self.endpoints),
            ("ttl", self.ttl),
            ("namespace", self.namespace),
            ("request_timeout", self.request_timeout),
        ]
        .into_iter()
        .find(|(_, v)| v.is_some_and(|o| !o.is_none()))
        .map(|(name, _)| name)
    }

    /// The endpoints and the client's options (defaults: TTL 10 s,
    /// namespace `ringlock`, request timeout 5 s). No endpoints is a
    /// `TypeError` (a required argument is missing).
    pub(crate) fn options(&self) -> PyResult<(Vec<String>, ClientOptions)> {
        let endpoints = self
            .endpoints
            .filter(|o| !o.is_none())
            .ok_or_else(|| PyTypeError::new_err("backend='etcd' needs endpoints=[...]"))?;
        let endpoints = crate::args::endpoints(endpoints)?;
        let mut options = ClientOptions::default();
        if let Some(ttl) = duration(self.ttl, "ttl")? {
            options.ttl = ttl;
        }
        if let Some(ns) = self.namespace.filter(|o| !o.is_none()) {
            options.namespace = as_str(ns, "namespace")?.to_owned();
        }
        if let Some(t) = duration(self.request_timeout, "request_timeout")? {
            options.request_timeout = t;
        }
        Ok((endpoints, options))
    }
}

/// A finite, non-negative number of seconds (None: not given); the core
/// says what is too short.
fn duration(obj: Option<&Bound<'_, PyAny>>, what: &str) -> PyResult<Option<Duration>> {
    let Some(secs) = secs(obj, what, "")? else {
        return Ok(None);
    };
    Duration::try_from_secs_f64(secs).map(Some).map_err(|_| {
        invalid(format!(
            "{what} must be a finite number of seconds >= 0, not {secs}"
        ))
    })
}

/// A number of seconds as a float (None: not given); a bool or a value that
/// is not a number is a `TypeError` that says what `what` may be (`also`:
/// what else it may be).
fn secs(obj: Option<&Bound<'_, PyAny>>, what: &str, also: &str) -> PyResult<Option<f64>> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(None);
    };
    let not = if obj.is_instance_of::<PyBool>() {
        "bool".to_owned()
    } else if let Ok(secs) = obj.extract::<f64>() {
        return Ok(Some(secs));
    } else {
        type_name(obj)
    };
    Err(PyTypeError::new_err(format!(
        "{what} must be a number of seconds{also}, not {not}"
    )))
}

/// The lock directory: `None` (the default per-user directory), a `str` or
/// an `os.PathLike`.
pub(crate) fn dir(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<PathBuf>> {
    match obj {
        None => Ok(None),
        Some(o) if o.is_none() => Ok(None),
        Some(o) => o.extract::<PathBuf>().map(Some).map_err(|_| {
            PyTypeError::new_err(format!(
                "dir must be None, str or os.PathLike, not {}",
                type_name(o)
            ))
        }),
    }
}

/// Permission bits of a lock file the call creates (the core requires 0o600
/// and nothing beyond 0o777).
pub(crate) fn file_mode(obj: &Bound<'_, PyAny>) -> PyResult<u32> {
    let int = index(obj)?;
    int.extract::<u32>().map_err(|_| {
        invalid(format!(
            "mode is {int}; expected permission bits such as 0o600 or 0o660"
        ))
    })
}

/// A timeout in seconds: `None` or -1 wait for ever, 0 tries once, a
/// positive number waits that long (a float: fractions of a second). NaN and
/// negatives other than -1 are `InvalidArgumentError`; an infinite or
/// astronomically large timeout is "for ever". `what` names the argument.
pub(crate) fn timeout(obj: Option<&Bound<'_, PyAny>>, what: &str) -> PyResult<Option<Duration>> {
    if obj.is_some_and(|o| o.is_instance_of::<PyBool>()) {
        return Err(PyTypeError::new_err(format!(
            "{what} must be a number of seconds or None, not bool \
             (threading's acquire(False) is acquire(blocking=False) here)"
        )));
    }
    let Some(secs) = secs(obj, what, " or None")? else {
        return Ok(None);
    };
    if secs.is_nan() {
        return Err(invalid(format!("{what} is NaN")));
    }
    if secs == -1.0 {
        return Ok(None);
    }
    if secs < 0.0 {
        return Err(invalid(format!(
            "{what} must be a non-negative number of seconds, -1 or None, not {secs}"
        )));
    }
    Ok(Duration::try_from_secs_f64(secs).ok())
}

/// `acquire(timeout, blocking)` as `threading.Lock.acquire` reads them:
/// `blocking=False` is a single try and takes no timeout.
pub(crate) fn acquire_timeout(
    timeout_arg: Option<&Bound<'_, PyAny>>,
    blocking: bool,
) -> PyResult<Option<Duration>> {
    let t = timeout(timeout_arg, "timeout")?;
    if blocking {
        return Ok(t);
    }
    // threading's default timeout is -1, ours None: either means "not given"
    if let Some(o) = timeout_arg.filter(|o| !o.is_none()) {
        if o.extract::<f64>()? != -1.0 {
            return Err(invalid("can't specify a timeout for a non-blocking call"));
        }
    }
    Ok(Some(Duration::ZERO))
}

/// Seconds as a Python float (`None` for ever), for reprs and properties.
pub(crate) fn seconds(t: Option<Duration>) -> Option<f64> {
    t.map(|d| d.as_secs_f64())
}
