//! Statuses, their names, and the calling thread's last error message.

use ringlock_core::ErrorKind;
use std::cell::RefCell;
use std::ffi::{c_char, CStr, CString};

/// The result of a fallible call: `RL_OK` (0) on success, otherwise one
/// `RL_ERR_*` value per kind of failure. Values are never reused; an
/// application should treat any value it does not know as a failure.
pub type rl_status = u32;

/// Success.
pub const RL_OK: rl_status = 0;
/// A bad argument: NULL pointer, empty or non-UTF-8 name, zero weight, unknown
/// algorithm, bad vnodes, a buffer too small, a length that does not fit; for
/// locks also a bad lock name, mode, backend, file mode or timeout, a
/// symlinked lock path, and releasing a lock the handle does not hold.
pub const RL_ERR_INVALID_ARGUMENT: rl_status = 1;
/// A lookup on a ring that has no nodes.
pub const RL_ERR_EMPTY_RING: rl_status = 2;
/// The named node (or index) does not exist.
pub const RL_ERR_NOT_FOUND: rl_status = 3;
/// The named node exists already.
pub const RL_ERR_ALREADY_EXISTS: rl_status = 4;
/// A non-blocking operation could not proceed (locks).
pub const RL_ERR_WOULD_BLOCK: rl_status = 5;
/// A timed operation ran out of time (locks).
pub const RL_ERR_TIMEOUT: rl_status = 6;
/// The operation would deadlock (locks).
pub const RL_ERR_DEADLOCK: rl_status = 7;
/// An operating-system error.
pub const RL_ERR_IO: rl_status = 8;
/// Serialised or stored data (a ring's bytes, a lock file) is malformed,
/// truncated or of an unknown version.
pub const RL_ERR_CORRUPT: rl_status = 9;
/// A bug in ringlock (a caught panic included).
pub const RL_ERR_INTERNAL: rl_status = 10;
/// A remote service (etcd) could not be reached, did not answer within the
/// time allowed, or answered with something that is not etcd's JSON gateway
/// (etcd-backend locks).
pub const RL_ERR_UNAVAILABLE: rl_status = 11;
/// A lock hold was lost: its etcd lease expired (the process was paused, or
/// cut off from etcd, past its TTL) or its key is gone, so another holder may
/// have taken the lock since (etcd-backend locks).
pub const RL_ERR_LOST: rl_status = 12;

/// The status of a core error kind. `ErrorKind` is `#[non_exhaustive]`: a kind
/// added to the core later maps to `RL_ERR_INTERNAL` until it gets its own
/// (never reused) value here.
pub(crate) fn status_of(kind: ErrorKind) -> rl_status {
    match kind {
        ErrorKind::InvalidArgument => RL_ERR_INVALID_ARGUMENT,
        ErrorKind::EmptyRing => RL_ERR_EMPTY_RING,
        ErrorKind::NotFound => RL_ERR_NOT_FOUND,
        ErrorKind::AlreadyExists => RL_ERR_ALREADY_EXISTS,
        ErrorKind::WouldBlock => RL_ERR_WOULD_BLOCK,
        ErrorKind::Timeout => RL_ERR_TIMEOUT,
        ErrorKind::Deadlock => RL_ERR_DEADLOCK,
        ErrorKind::Io => RL_ERR_IO,
        ErrorKind::Corrupt => RL_ERR_CORRUPT,
        ErrorKind::Internal => RL_ERR_INTERNAL,
        ErrorKind::Unavailable => RL_ERR_UNAVAILABLE,
        ErrorKind::Lost => RL_ERR_LOST,
        _ => RL_ERR_INTERNAL,
    }
}

fn status_name(status: rl_status) -> &'static CStr {
    match status {
        RL_OK => c"ok",
        RL_ERR_INVALID_ARGUMENT => c"invalid argument",
        RL_ERR_EMPTY_RING => c"empty ring",
        RL_ERR_NOT_FOUND => c"not found",
        RL_ERR_ALREADY_EXISTS => c"already exists",
        RL_ERR_WOULD_BLOCK => c"would block",
        RL_ERR_TIMEOUT => c"timeout",
        RL_ERR_DEADLOCK => c"deadlock",
        RL_ERR_IO => c"i/o error",
        RL_ERR_CORRUPT => c"corrupt data",
        RL_ERR_INTERNAL => c"internal error",
        RL_ERR_UNAVAILABLE => c"unavailable",
        RL_ERR_LOST => c"lock lost",
        _ => c"unknown status",
    }
}

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

/// Stores `message` as the calling thread's last error (NUL bytes dropped).
pub(crate) fn record(message: String) {
    let mut bytes = message.into_bytes();
    bytes.retain(|&b| b != 0);
    let message = CString::new(bytes).unwrap_or_default();
    // During thread teardown the slot may be gone: nothing to record into.
    let _ = LAST_ERROR.try_with(|slot| *slot.borrow_mut() = message);
}

/// The name of a status: "ok", "invalid argument", "empty ring", "not found",
/// "already exists", "would block", "timeout", "deadlock", "i/o error",
/// "corrupt data", "internal error", "unavailable", "lock lost"; "unknown
/// status" for any other value.
///
/// The string is static: never free it. Thread-safe.
#[no_mangle]
pub extern "C" fn rl_status_str(status: rl_status) -> *const c_char {
    let unknown = c"unknown status".as_ptr();
    crate::boundary::value(
        "rl_status_str",
        unknown,
        || Ok(status_name(status).as_ptr()),
    )
}

/// The detailed message of the calling thread's last failure, e.g.
/// "rl_ring_add: node \"a\" is already in the ring"; "" if no call has failed
/// on this thread yet.
///
/// Successful calls do not clear it. The string belongs to the library and to
/// the calling thread: it stays valid until the next failing ringlock call on
/// the same thread (or the thread's exit). Copy it to keep it. Never NULL.
#[no_mangle]
pub extern "C" fn rl_last_error() -> *const c_char {
    crate::boundary::value("rl_last_error", c"".as_ptr(), || {
        Ok(LAST_ERROR
            .try_with(|slot| slot.borrow().as_ptr())
            .unwrap_or(c"".as_ptr()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const KINDS: &[ErrorKind] = &ErrorKind::ALL;

    #[test]
    fn every_kind_has_its_own_status_named_like_the_kind() {
        let mut seen = Vec::new();
        for &kind in KINDS {
            let status = status_of(kind);
            assert_ne!(status, RL_OK);
            assert!(!seen.contains(&status), "{kind:?} shares status {status}");
            seen.push(status);
            assert_eq!(status_name(status).to_str().unwrap(), kind.as_str());
        }
        // values 1..=12, in the order DESIGN.md fixes
        assert_eq!(seen, (1..=12).collect::<Vec<_>>());
        assert_eq!(status_of(ErrorKind::Unavailable), RL_ERR_UNAVAILABLE);
        assert_eq!(status_of(ErrorKind::Lost), RL_ERR_LOST);
        assert_eq!(status_name(RL_OK), c"ok");
        assert_eq!(status_name(13), c"unknown status");
        assert_eq!(status_name(u32::MAX), c"unknown status");
    }

    #[test]
    fn last_error_is_per_thread_and_nul_safe() {
        record("main\0 thread".into());
        let other = std::thread::spawn(|| {
            // SAFETY: rl_last_error returns a valid NUL-terminated string.
            let before = unsafe { CStr::from_ptr(rl_last_error()) }.to_owned();
            record("other".into());
            before
        })
        .join()
        .unwrap();
        assert_eq!(other, CString::default());
        // SAFETY: as above; no failing call on this thread since `record`.
        let here = unsafe { CStr::from_ptr(rl_last_error()) };
        assert_eq!(here, c"main thread");
    }
}
