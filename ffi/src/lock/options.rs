//! `rl_lock_options`: backend, lock directory and file mode of `rl_lock_open`.

use crate::args;
use crate::boundary::{invalid, Result};
use ringlock_core::lock::{Backend, LockOptions};
use std::ffi::c_char;

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

/// How `rl_lock_open` opens a lock. A zero-initialised struct
/// (`rl_lock_options o = {0};`) means the defaults, as does passing NULL.
///
/// The library reads it during `rl_lock_open` only and keeps no pointer into
/// it: it (and `dir`) may be freed once the call returns.
#[repr(C)]
pub struct rl_lock_options {
    /// `RL_BACKEND_SHM` or `RL_BACKEND_FILE`; 0 means `RL_BACKEND_SHM`.
    pub backend: rl_backend,
    /// The lock directory, NUL-terminated; NULL means the default,
    /// `/dev/shm/ringlock-<uid>/` (created 0700; it must belong to the caller
    /// and be private). Any non-empty byte string (UTF-8 not required). A
    /// missing directory is created 0700 (its parent must exist). The path is
    /// opened one component at a time: a symlink anywhere in it is refused,
    /// and so is a directory in it that belongs to another user (not root)
    /// or that the group or others can write to without the sticky bit.
    pub dir: *const c_char,
    /// Permission bits of a lock file this call creates; 0 means 0600. Must
    /// include 0600 and stay within 0777; set exactly, whatever the umask.
    /// An existing file keeps its mode. An existing lock file that belongs to
    /// another user is refused, unless this mode gives the group or others
    /// access (the caller shares its locks between users).
    pub file_mode: u32,
}

fn backend_of(code: rl_backend) -> Result<Backend> {
    match code {
        0 | RL_BACKEND_SHM => Ok(Backend::Shm),
        RL_BACKEND_FILE => Ok(Backend::File),
        _ => Err(invalid(format!(
            "unknown backend {code}; expected RL_BACKEND_SHM (1), RL_BACKEND_FILE (2) \
             or 0 for the default"
        ))),
    }
}

/// The core options of a C options pointer (NULL: the defaults).
///
/// # Safety
/// `p` is NULL or points to a readable `rl_lock_options` whose `dir` is NULL
/// or a NUL-terminated string, both unchanged during the call.
pub(super) unsafe fn from_c(p: *const rl_lock_options) -> Result<LockOptions> {
    // SAFETY: forwarded from the caller.
    let Some(o) = (unsafe { args::opt_ref(p, "options") })? else {
        return Ok(LockOptions::default());
    };
    let dir = if o.dir.is_null() {
        None
    } else {
        // SAFETY: non-NULL `dir` is a NUL-terminated string (caller).
        Some(unsafe { args::path(o.dir, "options->dir") }?.to_owned())
    };
    Ok(LockOptions {
        backend: backend_of(o.backend)?,
        dir,
        file_mode: o.file_mode,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStrExt;

    #[test]
    fn zeroes_and_null_are_the_defaults() {
        // SAFETY: NULL is allowed.
        let none = unsafe { from_c(std::ptr::null()) }.unwrap();
        assert_eq!(none, LockOptions::default());
        let zero = rl_lock_options {
            backend: 0,
            dir: std::ptr::null(),
            file_mode: 0,
        };
        // SAFETY: a valid struct with a NULL dir.
        assert_eq!(unsafe { from_c(&zero) }.unwrap(), LockOptions::default());
    }

    #[test]
    fn dir_is_bytes_and_backend_is_checked() {
        let o = rl_lock_options {
            backend: RL_BACKEND_FILE,
            dir: c"/tmp/\xff-locks".as_ptr(),
            file_mode: 0o640,
        };
        // SAFETY: a valid struct with a NUL-terminated dir.
        let got = unsafe { from_c(&o) }.unwrap();
        assert_eq!(got.backend, Backend::File);
        assert_eq!(got.dir.unwrap().as_os_str().as_bytes(), b"/tmp/\xff-locks");
        assert_eq!(got.file_mode, 0o640);
        for code in [3, 9, u32::MAX] {
            assert!(backend_of(code).is_err());
        }
        let empty = rl_lock_options {
            dir: c"".as_ptr(),
            ..o
        };
        // SAFETY: as above.
        assert!(unsafe { from_c(&empty) }.is_err());
    }
}
