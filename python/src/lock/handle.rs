//! One core handle of either kind behind one surface: a lock of this host
//! (`ringlock::lock::Lock`, shm or file) or a lock in etcd (`etcd.rs`). The
//! classes, the pool and the asyncio side use this surface and do not ask
//! which kind they have.

use super::etcd::EtcdHandle;
use super::hold::{someone_holds, status};
use pyo3::prelude::*;
use ringlock::etcd::Client;
use ringlock::lock::{Lock as CoreLock, LockOptions};
use std::path::PathBuf;

pub(crate) enum Handle {
    Local(CoreLock),
    Etcd(EtcdHandle),
}

/// How to open handles on a lock.
pub(crate) enum Source {
    Local(LockOptions),
    /// The process's shared client for these endpoints and options
    /// (`Client::shared`: one lease for every handle).
    Etcd(Client),
}

impl Source {
    /// A new handle on lock `name`. Local: opens (perhaps creates) the lock
    /// file; etcd: no request yet. Call it with the GIL released.
    pub(crate) fn open(&self, name: &str) -> ringlock::Result<Handle> {
        match self {
            Source::Local(options) => CoreLock::open(name, options).map(Handle::Local),
            Source::Etcd(client) => EtcdHandle::new(client, name).map(Handle::Etcd),
        }
    }

    /// `"shm"`, `"file"` or `"etcd"`.
    pub(crate) fn backend(&self) -> &'static str {
        match self {
            Source::Local(options) => options.backend.name(),
            Source::Etcd(_) => "etcd",
        }
    }

    /// Where the lock's state is: the lock file, or the prefix of the
    /// lock's keys in etcd.
    pub(crate) fn path(&self, first: &Handle, name: &str) -> PathBuf {
        match (self, first) {
            (_, Handle::Local(h)) => h.path().to_owned(),
            (Source::Etcd(client), _) => format!("{}/{name}/", client.namespace()).into(),
            (Source::Local(_), Handle::Etcd(_)) => PathBuf::new(),
        }
    }
}

impl Handle {
    pub(crate) fn is_held(&self) -> bool {
        match self {
            Handle::Local(h) => h.is_held(),
            Handle::Etcd(h) => h.is_held(),
        }
    }

    /// Releases the hold of this handle (an etcd one with the GIL released).
    pub(crate) fn release(&self, py: Python<'_>) -> ringlock::Result<()> {
        match self {
            Handle::Local(h) => h.release(),
            Handle::Etcd(h) => py.detach(|| h.release()),
        }
    }

    /// `status()`: a `LockStatus`.
    pub(crate) fn status<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match self {
            Handle::Local(h) => status(py, h.status()),
            Handle::Etcd(h) => h.status(py),
        }
    }

    /// Whether a live holder (in any process) holds the lock now.
    pub(crate) fn someone_holds(&self, py: Python<'_>) -> PyResult<bool> {
        match self {
            Handle::Local(h) => Ok(someone_holds(&h.status())),
            Handle::Etcd(h) => h.someone_holds(py),
        }
    }

    /// Whether a first try never waits for the network (so that asyncio
    /// may try on the event loop's thread).
    pub(crate) fn is_local(&self) -> bool {
        matches!(self, Handle::Local(_))
    }
}
