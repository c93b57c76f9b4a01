//! `rl_version` and the `RINGLOCK_VERSION_*` macros: the library version.

use crate::boundary;
use std::ffi::{c_char, CStr};

/// The major version of the header (`RINGLOCK_VERSION_MAJOR`): compare with
/// `rl_version()` to see which library a program runs against.
pub const RINGLOCK_VERSION_MAJOR: u32 = 0;
/// The minor version of the header.
pub const RINGLOCK_VERSION_MINOR: u32 = 1;
/// The patch version of the header.
pub const RINGLOCK_VERSION_PATCH: u32 = 0;

const VERSION: &CStr =
    match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
        Ok(v) => v,
        Err(_) => panic!("the package version holds a NUL byte"),
    };

/// The library version, "MAJOR.MINOR.PATCH" (e.g. "0.1.0"): that of the
/// library loaded at run time, where `RINGLOCK_VERSION_*` are those of the
/// header compiled against. Static: never free it. Never fails.
/// Thread-safe.
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

    #[test]
    fn the_macros_are_the_package_version() {
        let parse = |s: &str| s.parse::<u32>().unwrap();
        assert_eq!(
            (
                RINGLOCK_VERSION_MAJOR,
                RINGLOCK_VERSION_MINOR,
                RINGLOCK_VERSION_PATCH
            ),
            (
                parse(env!("CARGO_PKG_VERSION_MAJOR")),
                parse(env!("CARGO_PKG_VERSION_MINOR")),
                parse(env!("CARGO_PKG_VERSION_PATCH"))
            ),
            "update the RINGLOCK_VERSION_* constants with the version in Cargo.toml"
        );
    }
}
