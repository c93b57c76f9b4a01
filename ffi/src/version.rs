//! `rl_version`: the library version.

use crate::boundary;
use std::ffi::{c_char, CStr};

const VERSION: &CStr =
    match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
        Ok(v) => v,
        Err(_) => panic!("the package version holds a NUL byte"),
    };

/// The library version, e.g. "0.1.0". Static: never free it. Thread-safe.
#[no_mangle]
pub extern "C" fn rl_version() -> *const c_char {
    boundary::value("rl_version", c"".as_ptr(), || Ok(VERSION.as_ptr()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_the_core_version() {
        // SAFETY: rl_version returns a static NUL-terminated string.
        let v = unsafe { CStr::from_ptr(rl_version()) };
        assert_eq!(v.to_str().unwrap(), ringlock_core::VERSION);
    }
}
