//! What both lock classes have: `lock_class!(PyLock, "lock", { ... })`
//! writes the `#[pymethods]` of a struct with a field `holds: Arc<Holds>`:
//! the constructor (the same arguments for both), `name`, `path`,
//! `backend`, `timeout`, `status` and `close`, then the class's own methods
//! (the tokens in braces).

macro_rules! lock_class {
    ($class:ident, $what:literal, { $($own:tt)* }) => {
        #[pymethods]
        impl $class {
            #[new]
            #[pyo3(
                signature = (name, *, backend=None, dir=None, mode=None, timeout=None,
                             endpoints=None, ttl=None, namespace=None, request_timeout=None),
                text_signature = "(name, *, backend='shm', dir=None, mode=0o600, timeout=None, \
                                  endpoints=None, ttl=10, namespace='ringlock', request_timeout=5)"
            )]
            #[allow(clippy::too_many_arguments)] // the Python signature
            fn new(
                py: Python<'_>,
                name: &Bound<'_, PyAny>,
                backend: Option<&Bound<'_, PyAny>>,
                dir: Option<&Bound<'_, PyAny>>,
                mode: Option<&Bound<'_, PyAny>>,
                timeout: Option<&Bound<'_, PyAny>>,
                endpoints: Option<&Bound<'_, PyAny>>,
                ttl: Option<&Bound<'_, PyAny>>,
                namespace: Option<&Bound<'_, PyAny>>,
                request_timeout: Option<&Bound<'_, PyAny>>,
            ) -> PyResult<Self> {
                let etcd = super::EtcdArgs {
                    endpoints,
                    ttl,
                    namespace,
                    request_timeout,
                };
                let a = super::LockArgs {
                    name,
                    backend,
                    dir,
                    mode,
                    timeout,
                    etcd,
                };
                let holds = super::Holds::open(py, $what, a)?;
                Ok($class {
                    holds: std::sync::Arc::new(holds),
                })
            }

            /// Who holds the lock, read without taking it: a LockStatus with
            /// the last fencing token and a Holder per recorded holder, each
            /// with its ``mode`` (etcd: an EtcdLockStatus, whose EtcdHolders
            /// also have ``host`` and ``lease_left``, with the ``waiters`` in
            /// the order they will hold).
            fn status<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                self.holds.check_open()?;
                self.holds.source.status(py)
            }

            /// The lock's name.
            #[getter]
            fn name(&self) -> &str {
                &self.holds.name
            }

            /// The file that holds the lock's state (etcd: the prefix of its
            /// keys, ``<namespace>/<name>/``).
            #[getter]
            fn path(&self) -> &std::ffi::OsStr {
                self.holds.path.as_os_str()
            }

            /// ``"shm"``, ``"file"`` or ``"etcd"``.
            #[getter]
            fn backend(&self) -> &'static str {
                self.holds.source.backend()
            }

            /// What ``with`` waits before LockTimeout (an RWLock: ``with
            /// rw.read():`` and ``with rw.write():``), in seconds (None: for
            /// ever).
            #[getter]
            fn timeout(&self) -> Option<f64> {
                super::args::seconds(self.holds.timeout)
            }

            /// Releases every hold of this object (all threads and tasks) and
            /// closes the lock file. Any later use raises
            /// InvalidArgumentError. Idempotent.
            fn close(&self, py: Python<'_>) {
                self.holds.close(py);
            }

            $($own)*
        }
    };
}
