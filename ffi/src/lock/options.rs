//! `rl_lock_options`: the backend of `rl_lock_open` and what it needs — a
//! lock directory and file mode (shm, file) or endpoints, lease TTL,
//! namespace and request timeout (etcd).

use crate::args;
use crate::boundary::{invalid, Result};
use ringlock_core::etcd::ClientOptions;
use ringlock_core::lock::{Backend, LockOptions};
use std::ffi::c_char;
use std::time::Duration;

/// A lock backend: one of the `RL_BACKEND_*` values, or 0 in
/// `rl_lock_options` for the default (shm). Any other value is refused with
/// `RL_ERR_INVALID_ARGUMENT`.
pub type rl_backend = u32;

/// Atomics and a futex in a mapped page, `<dir>/<name>.shm`: the fast one
/// (the default). Processes sharing it must share a pid namespace.
pub const RL_BACKEND_SHM: rl_backend = 1;
/// flock(2) on `<dir>/<name>.lock`: freed by the kernel when a holder dies;
/// works across containers that mount the same directory.
pub const RL_BACKEND_FILE: rl_backend = 2;
/// etcd v3 (through its JSON gateway): a lock shared by the processes of
/// every host that reaches the same etcd cluster. Exclusive mode only, for
/// now. docs/distributed.md describes the recipe.
pub const RL_BACKEND_ETCD: rl_backend = 3;

/// How `rl_lock_open` opens a lock. A zero-initialised struct
/// (`rl_lock_options o = {0};`) means the defaults (the shm backend), as does
/// passing NULL.
///
/// The fields fall in two groups: `dir` and `file_mode` belong to the local
/// backends (shm, file), `endpoints` to `request_timeout_ms` to etcd. A field
/// of the other group must be left zero (NULL): setting it is refused with
/// `RL_ERR_INVALID_ARGUMENT`, so that a mistaken backend is not silently
/// ignored.
///
/// The library reads it during `rl_lock_open` only and keeps no pointer into
/// it: it (and the strings it points to) may be freed once the call returns.
///
///     const char *endpoints[] = {"http://10.0.0.1:2379", "http://10.0.0.2:2379"};
///     rl_lock_options o = {0};
///     o.backend = RL_BACKEND_ETCD;
///     o.endpoints = endpoints;
///     o.endpoint_count = 2;
///     o.ttl_s = 5;
#[repr(C)]
#[derive(Clone, Copy)]
pub struct rl_lock_options {
    /// `RL_BACKEND_SHM`, `RL_BACKEND_FILE` or `RL_BACKEND_ETCD`; 0 means
    /// `RL_BACKEND_SHM`.
    pub backend: rl_backend,
    /// Local backends. The lock directory, NUL-terminated; NULL means the default,
    /// `/dev/shm/ringlock-<uid>/` (created 0700; it must belong to the caller
    /// and be private). Any non-empty byte string (UTF-8 not required). A
    /// missing directory is created 0700 (its parent must exist). The path is
    /// opened one component at a time: a symlink anywhere in it is refused,
    /// and so is a directory in it that belongs to another user (not root)
    /// or that the group or others can write to without the sticky bit.
    pub dir: *const c_char,
    /// Local backends. Permission bits of a lock file this call creates; 0
    /// means 0600. Must include 0600 and stay within 0777; set exactly,
    /// whatever the umask.
    /// An existing file keeps its mode. An existing lock file that belongs to
    /// another user is refused, unless this mode gives the group or others
    /// access (the caller shares its locks between users).
    pub file_mode: u32,
    /// etcd: an array of `endpoint_count` NUL-terminated UTF-8 strings, the
    /// cluster's client URLs (`http://host:port`; TLS is not supported). At
    /// least one is required (NULL or a count of 0 is refused); when one
    /// cannot be reached the next is tried.
    pub endpoints: *const *const c_char,
    /// etcd: the number of strings in `endpoints`.
    pub endpoint_count: usize,
    /// etcd: the lease's time to live in seconds: how long after this
    /// process stops renewing it (it died, is stopped, or lost etcd) its hold
    /// ends and another may take the lock. 0 means 10; 1 is refused (etcd's
    /// minimum is 2).
    pub ttl_s: u32,
    /// etcd: the prefix of every key, NUL-terminated: 1 to 200 of
    /// `A-Z a-z 0-9 . _ - /`, not beginning or ending with `/`; NULL means
    /// "ringlock". Locks of one name under two namespaces are two locks.
    pub etcd_namespace: *const c_char,
    /// etcd: the bound of each request that has no deadline of its own
    /// (connecting in `rl_lock_open`, `rl_lock_release`, `rl_lock_check`,
    /// `rl_lock_status`, each step of an acquisition with `timeout_ms` -1),
    /// in milliseconds; 0 means 5000. Past it a call fails with
    /// `RL_ERR_UNAVAILABLE`.
    pub request_timeout_ms: u32,
}

/// What `rl_lock_open` opens: a lock of this host or one in etcd.
#[derive(Debug, PartialEq)]
pub(super) enum Target {
    Local(LockOptions),
    Etcd {
        endpoints: Vec<String>,
        options: ClientOptions,
    },
}

fn backend_of(code: rl_backend) -> Result<Option<Backend>> {
    match code {
        0 | RL_BACKEND_SHM => Ok(Some(Backend::Shm)),
        RL_BACKEND_FILE => Ok(Some(Backend::File)),
        RL_BACKEND_ETCD => Ok(None),
        _ => Err(invalid(format!(
            "unknown backend {code}; expected RL_BACKEND_SHM (1), RL_BACKEND_FILE (2), \
             RL_BACKEND_ETCD (3) or 0 for the default"
        ))),
    }
}

/// What a C options pointer asks for (NULL: the local defaults).
///
/// # Safety
/// `p` is NULL or points to a readable `rl_lock_options` whose `dir` and
/// `etcd_namespace` are NULL or NUL-terminated strings and whose `endpoints`
/// is NULL or an array of `endpoint_count` NULL-or-NUL-terminated strings,
/// all unchanged during the call.
pub(super) unsafe fn from_c(p: *const rl_lock_options) -> Result<Target> {
    // SAFETY: forwarded from the caller.
    let Some(o) = (unsafe { args::opt_ref(p, "options") })? else {
        return Ok(Target::Local(LockOptions::default()));
    };
    match backend_of(o.backend)? {
        // SAFETY: forwarded from the caller.
        Some(backend) => unsafe { local(o, backend) },
        // SAFETY: forwarded from the caller.
        None => unsafe { etcd(o) },
    }
}

/// # Safety
/// As [`from_c`], for `o`.
unsafe fn local(o: &rl_lock_options, backend: Backend) -> Result<Target> {
    let etcd_fields = [
        (!o.endpoints.is_null() || o.endpoint_count != 0, "endpoints"),
        (o.ttl_s != 0, "ttl_s"),
        (!o.etcd_namespace.is_null(), "etcd_namespace"),
        (o.request_timeout_ms != 0, "request_timeout_ms"),
    ];
    if let Some((_, field)) = etcd_fields.iter().find(|(set, _)| *set) {
        return Err(invalid(format!(
            "options->{field} is set but the backend is {}: it is for RL_BACKEND_ETCD \
             (leave it zero, or choose the etcd backend)",
            backend.name()
        )));
    }
    let dir = if o.dir.is_null() {
        None
    } else {
        // SAFETY: non-NULL `dir` is a NUL-terminated string (caller).
        Some(unsafe { args::path(o.dir, "options->dir") }?.to_owned())
    };
    Ok(Target::Local(LockOptions {
        backend,
        dir,
        file_mode: o.file_mode,
    }))
}

/// # Safety
/// As [`from_c`], for `o`.
unsafe fn etcd(o: &rl_lock_options) -> Result<Target> {
    for (set, field) in [(!o.dir.is_null(), "dir"), (o.file_mode != 0, "file_mode")] {
        if set {
            return Err(invalid(format!(
                "options->{field} is set but the backend is etcd, which has no lock files \
                 (leave it zero)"
            )));
        }
    }
    if o.endpoint_count == 0 {
        return Err(invalid(
            "the etcd backend needs options->endpoints: at least one http://host:port \
             (endpoint_count is 0)",
        ));
    }
    // SAFETY: `endpoints` is NULL (refused by `slice`, the count being > 0)
    // or an array of `endpoint_count` pointers (caller).
    let list = unsafe { args::slice(o.endpoints, o.endpoint_count, "options->endpoints") }?;
    let mut endpoints = Vec::with_capacity(list.len());
    for (i, &e) in list.iter().enumerate() {
        // SAFETY: each entry is NULL or a NUL-terminated string (caller).
        let e = unsafe { args::name(e, format_args!("options->endpoints[{i}]")) }?;
        endpoints.push(e.to_owned());
    }
    let defaults = ClientOptions::default();
    let namespace = if o.etcd_namespace.is_null() {
        defaults.namespace
    } else {
        // SAFETY: non-NULL `etcd_namespace` is a NUL-terminated string (caller).
        unsafe { args::name(o.etcd_namespace, "options->etcd_namespace") }?.to_owned()
    };
    let ttl = match o.ttl_s {
        0 => defaults.ttl,
        1 => {
            return Err(invalid(
                "options->ttl_s is 1: etcd's smallest lease TTL is 2 seconds (0 means 10)",
            ))
        }
        s => Duration::from_secs(s.into()),
    };
    let request_timeout = match o.request_timeout_ms {
        0 => defaults.request_timeout,
        ms => Duration::from_millis(ms.into()),
    };
    Ok(Target::Etcd {
        endpoints,
        options: ClientOptions {
            ttl,
            namespace,
            request_timeout,
        },
    })
}

/// A zeroed struct (what `rl_lock_options o = {0};` makes in C).
#[cfg(test)]
pub(crate) fn zeroed() -> rl_lock_options {
    rl_lock_options {
        backend: 0,
        dir: std::ptr::null(),
        file_mode: 0,
        endpoints: std::ptr::null(),
        endpoint_count: 0,
        ttl_s: 0,
        etcd_namespace: std::ptr::null(),
        request_timeout_ms: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStrExt;

    #[test]
    fn zeroes_and_null_are_the_defaults() {
        let local = Target::Local(LockOptions::default());
        // SAFETY: NULL is allowed.
        assert_eq!(unsafe { from_c(std::ptr::null()) }.unwrap(), local);
        // SAFETY: a valid struct with NULL pointers.
        assert_eq!(unsafe { from_c(&zeroed()) }.unwrap(), local);
    }

    fn local_of(t: Target) -> LockOptions {
        match t {
            Target::Local(o) => o,
            t => panic!("not local: {t:?}"),
        }
    }

    /// The parse of `o` (valid pointers), as a result.
    fn parse(o: &rl_lock_options) -> Result<Target> {
        // SAFETY: the tests give valid structs with valid strings.
        unsafe { from_c(o) }
    }

    #[test]
    fn etcd_defaults_and_fields() {
        let eps = [
            c"http://127.0.0.1:2379".as_ptr(),
            c"http://h2:2379".as_ptr(),
        ];
        let o = rl_lock_options {
            backend: RL_BACKEND_ETCD,
            endpoints: eps.as_ptr(),
            endpoint_count: 1,
            ..zeroed()
        };
        let want = Target::Etcd {
            endpoints: vec!["http://127.0.0.1:2379".into()],
            options: ClientOptions::default(),
        };
        assert_eq!(parse(&o).unwrap(), want);
        let o = rl_lock_options {
            endpoint_count: 2,
            ttl_s: 2,
            etcd_namespace: c"prod/locks".as_ptr(),
            request_timeout_ms: 250,
            ..o
        };
        let Target::Etcd { endpoints, options } = parse(&o).unwrap() else {
            panic!("not etcd")
        };
        assert_eq!(endpoints, ["http://127.0.0.1:2379", "http://h2:2379"]);
        assert_eq!(options.ttl, Duration::from_secs(2));
        assert_eq!(options.namespace, "prod/locks");
        assert_eq!(options.request_timeout, Duration::from_millis(250));
    }

    #[test]
    fn etcd_refusals_say_which_field() {
        let eps = [c"http://127.0.0.1:2379".as_ptr(), std::ptr::null()];
        let etcd = rl_lock_options {
            backend: RL_BACKEND_ETCD,
            endpoints: eps.as_ptr(),
            endpoint_count: 1,
            ..zeroed()
        };
        let cases = [
            (
                rl_lock_options {
                    endpoints: std::ptr::null(),
                    endpoint_count: 0,
                    ..etcd
                },
                "endpoint_count is 0",
            ),
            (
                rl_lock_options {
                    endpoints: std::ptr::null(),
                    ..etcd
                },
                "options->endpoints is NULL",
            ),
            (
                rl_lock_options {
                    endpoint_count: 2,
                    ..etcd
                },
                "options->endpoints[1] is NULL",
            ),
            (
                rl_lock_options { ttl_s: 1, ..etcd },
                "smallest lease TTL is 2",
            ),
            (
                rl_lock_options {
                    dir: c"/tmp".as_ptr(),
                    ..etcd
                },
                "options->dir is set",
            ),
            (
                rl_lock_options {
                    file_mode: 0o600,
                    ..etcd
                },
                "options->file_mode is set",
            ),
            (
                rl_lock_options { backend: 0, ..etcd },
                "options->endpoints is set but the backend is shm",
            ),
            (
                rl_lock_options {
                    ttl_s: 5,
                    ..zeroed()
                },
                "options->ttl_s is set",
            ),
            (
                rl_lock_options {
                    etcd_namespace: c"x".as_ptr(),
                    backend: RL_BACKEND_FILE,
                    ..zeroed()
                },
                "backend is file",
            ),
            (
                rl_lock_options {
                    request_timeout_ms: 9,
                    ..zeroed()
                },
                "request_timeout_ms",
            ),
        ];
        for (o, want) in cases {
            let e = parse(&o).unwrap_err();
            assert_eq!(e.kind(), ringlock_core::ErrorKind::InvalidArgument);
            assert!(
                e.message().contains(want),
                "{:?} lacks {want:?}",
                e.message()
            );
        }
    }

    #[test]
    fn dir_is_bytes_and_backend_is_checked() {
        let o = rl_lock_options {
            backend: RL_BACKEND_FILE,
            dir: c"/tmp/\xff-locks".as_ptr(),
            file_mode: 0o640,
            ..zeroed()
        };
        let got = local_of(parse(&o).unwrap());
        assert_eq!(got.backend, Backend::File);
        assert_eq!(got.dir.unwrap().as_os_str().as_bytes(), b"/tmp/\xff-locks");
        assert_eq!(got.file_mode, 0o640);
        for code in [4, 9, u32::MAX] {
            assert!(backend_of(code).is_err());
        }
        let empty = rl_lock_options {
            dir: c"".as_ptr(),
            ..o
        };
        assert!(parse(&empty).is_err());
    }
}
