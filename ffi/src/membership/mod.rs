//! Rings that follow cluster membership in etcd: `rl_member` (a node
//! registered in a ring under a lease of its own) and `rl_ring_watcher` (the
//! ring of a ring's members, with its etcd revision). The faces of
//! `ringlock::etcd::{Member, Watcher}`; docs/distributed.md, "Membership".

// Declaration order is the header's reading order: members, then watchers.
mod member;

mod watcher;

mod on_change;

use crate::args;
use crate::boundary::{invalid, Result};
use std::ffi::c_char;
use std::time::Duration;

/// The endpoints of a call: `count` (at least 1) NUL-terminated UTF-8
/// strings.
///
/// # Safety
/// `p` is NULL or an array of `count` pointers, each NULL or a
/// NUL-terminated string, unchanged during the call.
unsafe fn endpoints(p: *const *const c_char, count: usize) -> Result<Vec<String>> {
    if count == 0 {
        return Err(invalid(
            "endpoint_count is 0: give at least one etcd endpoint (http://host:port)",
        ));
    }
    // SAFETY: NULL (refused, the count being > 0) or an array of `count`
    // pointers (caller).
    let list = unsafe { args::slice(p, count, "endpoints") }?;
    list.iter()
        .enumerate()
        .map(|(i, &e)| {
            // SAFETY: each entry is NULL or a NUL-terminated string (caller).
            unsafe { args::name(e, format_args!("endpoints[{i}]")) }.map(str::to_owned)
        })
        .collect()
}

/// The key prefix: NULL means "ringlock" (the core checks the rest).
///
/// # Safety
/// `p` is NULL or a NUL-terminated string.
unsafe fn namespace(p: *const c_char, what: &str) -> Result<String> {
    if p.is_null() {
        return Ok("ringlock".to_owned());
    }
    // SAFETY: non-NULL: a NUL-terminated string (caller).
    Ok(unsafe { args::name(p, what) }?.to_owned())
}

/// Milliseconds with 0 meaning `default`.
fn millis_or(ms: u32, default: Duration) -> Duration {
    match ms {
        0 => default,
        ms => Duration::from_millis(ms.into()),
    }
}

/// A C string of the name or address `s` (which the core keeps free of NUL).
fn c_string(s: &str) -> Result<std::ffi::CString> {
    std::ffi::CString::new(s).map_err(|_| crate::boundary::internal("a member field holds a NUL"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_checked() {
        let eps = [c"http://127.0.0.1:2379".as_ptr(), c"h:1".as_ptr()];
        // SAFETY: an array of two NUL-terminated strings.
        let got = unsafe { endpoints(eps.as_ptr(), 2) }.unwrap();
        assert_eq!(got, ["http://127.0.0.1:2379", "h:1"]);
        // SAFETY: NULL and a zero count are allowed (and refused).
        assert!(unsafe { endpoints(std::ptr::null(), 0) }.is_err());
        // SAFETY: NULL with a count > 0 is refused before any read.
        assert!(unsafe { endpoints(std::ptr::null(), 1) }.is_err());
        let holes = [c"h:1".as_ptr(), std::ptr::null()];
        // SAFETY: two entries, the second NULL (refused).
        assert!(unsafe { endpoints(holes.as_ptr(), 2) }.is_err());
        let bad = [c"\xff".as_ptr()];
        // SAFETY: one NUL-terminated (non-UTF-8) string.
        assert!(unsafe { endpoints(bad.as_ptr(), 1) }.is_err());
    }

    #[test]
    fn defaults() {
        // SAFETY: NULL is allowed.
        let none = unsafe { namespace(std::ptr::null(), "ns") }.unwrap();
        assert_eq!(none, "ringlock");
        // SAFETY: a NUL-terminated string.
        assert_eq!(unsafe { namespace(c"x/y".as_ptr(), "ns") }.unwrap(), "x/y");
        let d = Duration::from_secs(5);
        assert_eq!(millis_or(0, d), d);
        assert_eq!(millis_or(250, d), Duration::from_millis(250));
    }
}
