//! The boundary every `extern "C"` function goes through: a panic becomes
//! `RL_ERR_INTERNAL`, an error becomes its status, and either is recorded for
//! `rl_last_error()` with the name of the function that failed.

use crate::error::{record, rl_status, status_of, RL_ERR_INTERNAL, RL_OK};
use ringlock_core::{Error, ErrorKind};
use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

pub(crate) type Result<T> = std::result::Result<T, Error>;

/// Runs the body of an entry point that returns a status. Outputs are written
/// by `body` itself, after every check has passed, so a failure leaves them
/// untouched.
pub(crate) fn status(function: &'static str, body: impl FnOnce() -> Result<()>) -> rl_status {
    match run(function, body) {
        Ok(()) => RL_OK,
        Err(status) => status,
    }
}

/// Runs the body of an entry point that returns a value; `fallback` is
/// returned on failure (the failure is recorded all the same).
pub(crate) fn value<T>(function: &'static str, fallback: T, body: impl FnOnce() -> Result<T>) -> T {
    run(function, body).unwrap_or(fallback)
}

fn run<T>(
    function: &'static str,
    body: impl FnOnce() -> Result<T>,
) -> std::result::Result<T, rl_status> {
    // AssertUnwindSafe: after a caught panic the caller only gets
    // RL_ERR_INTERNAL; a ring touched by the panicking call stays memory-safe
    // (lookups index with bounds checks) though its contents are unspecified.
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => {
            record(format!("{function}: {}", e.message()));
            Err(status_of(e.kind()))
        }
        Err(panic) => {
            record(format!(
                "{function}: internal error (panic: {})",
                panic_text(&*panic)
            ));
            Err(RL_ERR_INTERNAL)
        }
    }
}

fn panic_text(panic: &(dyn Any + Send)) -> &str {
    if let Some(s) = panic.downcast_ref::<&str>() {
        s
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s
    } else {
        "unknown payload"
    }
}

/// An `InvalidArgument` error.
pub(crate) fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidArgument, message)
}

/// An `Internal` error: something the library guarantees did not hold.
pub(crate) fn internal(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::Internal, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{rl_last_error, RL_ERR_INVALID_ARGUMENT};
    use std::ffi::CStr;

    fn last() -> String {
        // SAFETY: rl_last_error returns a valid NUL-terminated string.
        unsafe { CStr::from_ptr(rl_last_error()) }
            .to_str()
            .unwrap()
            .to_owned()
    }

    #[test]
    fn a_panic_becomes_internal_with_a_message() {
        let s = status("rl_test", || panic!("boom"));
        assert_eq!(s, RL_ERR_INTERNAL);
        assert_eq!(last(), "rl_test: internal error (panic: boom)");
        assert_eq!(value("rl_test", 7, || panic!("x{}", 1)), 7);
        assert_eq!(last(), "rl_test: internal error (panic: x1)");
    }

    #[test]
    fn errors_map_to_statuses_and_success_keeps_the_last_message() {
        assert_eq!(
            status("rl_f", || Err(invalid("bad"))),
            RL_ERR_INVALID_ARGUMENT
        );
        assert_eq!(last(), "rl_f: bad");
        assert_eq!(status("rl_g", || Ok(())), RL_OK);
        assert_eq!(last(), "rl_f: bad");
    }
}
