//! `rl_member`: one node registered in a ring in etcd, under a lease of its
//! own kept alive by a background thread (`ringlock::etcd::Member`).

use super::{endpoints, millis_or, namespace};
use crate::args;
use crate::boundary::{self, invalid, Result};
use crate::error::rl_status;
use ringlock_core::etcd::{ClientOptions, Member};
use std::ffi::c_char;
use std::time::Duration;

/// How `rl_member_join` registers a member. A zero-initialised struct
/// (`rl_member_options o = {0};`) means the defaults, as does passing NULL.
///
/// The library reads it during the call only and keeps no pointer into it.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct rl_member_options {
    /// The member's lease's time to live, in seconds: how long after this
    /// process stops renewing it (it died, is stopped, or lost etcd) the
    /// member drops out of the ring. 0 means 10; 1 is refused (etcd's
    /// minimum is 2).
    pub ttl_s: u32,
    /// The prefix of every key, NUL-terminated: 1 to 200 of
    /// `A-Z a-z 0-9 . _ - /`, not beginning or ending with `/`; NULL means
    /// "ringlock". Watchers must use the same one.
    pub etcd_namespace: *const c_char,
    /// The bound of each request to etcd (joining, `rl_member_check`,
    /// `rl_member_leave`), in milliseconds; 0 means 5000. Past it a call
    /// fails with `RL_ERR_UNAVAILABLE`.
    pub request_timeout_ms: u32,
}

/// # Safety
/// `p` is NULL or a readable `rl_member_options` whose `etcd_namespace` is
/// NULL or a NUL-terminated string.
unsafe fn options_of(p: *const rl_member_options) -> Result<ClientOptions> {
    let defaults = ClientOptions::default();
    // SAFETY: forwarded from the caller.
    let Some(o) = (unsafe { args::opt_ref(p, "options") })? else {
        return Ok(defaults);
    };
    let ttl = match o.ttl_s {
        0 => defaults.ttl,
        s => Duration::from_secs(s.into()),
    };
    Ok(ClientOptions {
        ttl,
        // SAFETY: NULL or a NUL-terminated string (caller).
        namespace: unsafe { namespace(o.etcd_namespace, "options->etcd_namespace") }?,
        request_timeout: millis_or(o.request_timeout_ms, defaults.request_timeout),
    })
}

/// A node registered in a membership ring in etcd (opaque). Created by
/// `rl_member_join`; released by `rl_member_leave` (leaves, then frees) or
/// `rl_member_free` (frees; the member drops out as its lease is revoked).
///
/// Thread-safe: `rl_member_check`, `rl_member_revision` and
/// `rl_member_rejoins` may run concurrently from any number of threads.
/// `rl_member_leave` and `rl_member_free` need exclusive access.
pub struct rl_member {
    member: Member,
}

impl rl_member {
    /// # Safety
    /// `p` is NULL or a live handle that nobody frees during `'a`.
    unsafe fn from_ptr<'a>(p: *const rl_member) -> Result<&'a rl_member> {
        // SAFETY: the caller guarantees NULL or a live handle; `Member` is
        // Sync, so shared references may coexist across threads.
        unsafe { p.as_ref() }.ok_or_else(|| invalid("member is NULL"))
    }
}

/// Registers node `node` with weight `weight` (>= 1) and address `addr` in
/// ring `ring` in the etcd cluster at `endpoints`, and stores the new member
/// in `*out`; release it with `rl_member_leave` or `rl_member_free`.
///
/// `endpoints` is an array of `endpoint_count` (at least 1) NUL-terminated
/// URLs, `http://host:port` (TLS is not supported); when one cannot be
/// reached the next is tried. `ring`: 1 to 200 characters from
/// `A-Z a-z 0-9 . _ -`. `node`: the ring's node name (non-empty UTF-8, at
/// most 1024 bytes). `addr`: free text for the ring's users, e.g.
/// `host:port`, at most 1024 bytes; NULL means "". `options` may be NULL
/// for the defaults (see `rl_member_options`).
///
/// The member stays in the ring while this process keeps its lease alive
/// (a background thread renews it): a process that dies, hangs or loses
/// etcd drops out within the TTL (plus etcd's 500 ms tick). A member whose
/// lease was lost while its process lives joins again by itself, under a
/// new lease, once etcd answers (`rl_member_rejoins`). A forked child does
/// not inherit the membership: its calls on the handle fail.
///
/// Blocks for up to `request_timeout_ms` (each endpoint tried in turn).
/// Returns `RL_OK`, `RL_ERR_INVALID_ARGUMENT` (a pointer NULL, no endpoint,
/// a malformed endpoint, a bad ring name, node, weight 0, address, TTL or
/// namespace), `RL_ERR_ALREADY_EXISTS` (a live member of the ring has this
/// node id) or `RL_ERR_UNAVAILABLE` (no endpoint answered as etcd in time).
/// `*out` is written only on success. Thread-safe.
#[no_mangle]
#[allow(clippy::too_many_arguments)] // the C signature: one call, no builder
pub extern "C" fn rl_member_join(
    endpoints: *const *const c_char,
    endpoint_count: usize,
    options: *const rl_member_options,
    ring: *const c_char,
    node: *const c_char,
    weight: u32,
    addr: *const c_char,
    out: *mut *mut rl_member,
) -> rl_status {
    boundary::status("rl_member_join", || {
        // SAFETY: `endpoints` is NULL or an array of `endpoint_count`
        // strings (header contract).
        let endpoints = unsafe { self::endpoints(endpoints, endpoint_count) }?;
        // SAFETY: `options` is NULL or a readable rl_member_options (header).
        let options = unsafe { options_of(options) }?;
        // SAFETY: `ring` is NULL or a NUL-terminated string (header).
        let ring = unsafe { args::name(ring, "ring") }?;
        // SAFETY: `node` is NULL or a NUL-terminated string (header).
        let node = unsafe { args::name(node, "node") }?;
        let addr = if addr.is_null() {
            ""
        } else {
            // SAFETY: non-NULL `addr` is a NUL-terminated string (header).
            unsafe { args::name(addr, "addr") }?
        };
        // SAFETY: `out` is NULL or writable (header contract).
        let out = unsafe { args::out(out, "out") }?;
        let member = Member::join(&endpoints, &options, ring, node, weight, addr)?;
        out.write(Box::into_raw(Box::new(rl_member { member })));
        Ok(())
    })
}

/// Checks that `member` is registered now: its lease's local deadline has
/// not passed and its key is still in etcd (one request).
///
/// Returns `RL_OK`, `RL_ERR_LOST` (the lease expired or the key is gone:
/// watchers have dropped the node, or will; it joins again by itself once
/// etcd answers, unless another member took its node id meanwhile),
/// `RL_ERR_UNAVAILABLE` (etcd did not answer within the request timeout) or
/// `RL_ERR_INVALID_ARGUMENT` (`member` NULL, or called in a forked child).
/// Thread-safe.
#[no_mangle]
pub extern "C" fn rl_member_check(member: *const rl_member) -> rl_status {
    boundary::status("rl_member_check", || {
        // SAFETY: `member` is NULL or a live handle (header contract).
        unsafe { rl_member::from_ptr(member) }?.member.check()
    })
}

/// The etcd revision at which `member` (last) joined: its key's create
/// revision, the revision of the first placement that holds it (see
/// `rl_ring_watcher_wait`). 0 if `member` is NULL (recorded for
/// `rl_last_error`). Thread-safe.
#[no_mangle]
pub extern "C" fn rl_member_revision(member: *const rl_member) -> u64 {
    boundary::value("rl_member_revision", 0, || {
        // SAFETY: `member` is NULL or a live handle (header contract).
        Ok(unsafe { rl_member::from_ptr(member) }?.member.revision())
    })
}

/// How many times `member` joined again by itself after its lease was
/// lost. 0 if `member` is NULL (recorded for `rl_last_error`). Thread-safe.
#[no_mangle]
pub extern "C" fn rl_member_rejoins(member: *const rl_member) -> u64 {
    boundary::value("rl_member_rejoins", 0, || {
        // SAFETY: `member` is NULL or a live handle (header contract).
        Ok(unsafe { rl_member::from_ptr(member) }?.member.rejoins())
    })
}

/// Leaves the ring and frees `member`: stops rejoining, deletes the
/// member's key (only this member's, never a newer member of the same node
/// id) and revokes its lease. The handle is freed whatever the status;
/// never use it again.
///
/// Blocks for up to twice the request timeout. Returns `RL_OK`,
/// `RL_ERR_LOST` (the key was gone already: the lease had expired),
/// `RL_ERR_UNAVAILABLE` (etcd did not answer; the key then expires with the
/// lease, within the TTL) or `RL_ERR_INVALID_ARGUMENT` (`member` NULL:
/// nothing is freed; or called in a forked child: the parent's member
/// stays). Needs exclusive access.
#[no_mangle]
pub extern "C" fn rl_member_leave(member: *mut rl_member) -> rl_status {
    boundary::status("rl_member_leave", || {
        if member.is_null() {
            return Err(invalid("member is NULL"));
        }
        // SAFETY: non-NULL, so (header contract) a handle rl_member_join
        // made with Box::into_raw, not freed yet, used by nobody else.
        let handle = unsafe { Box::from_raw(member) };
        handle.member.leave()
    })
}

/// Frees `member` without waiting for an answer: its lease is revoked
/// (best effort, at most 1 s), which deletes its key, so the node drops out
/// of the ring at once, or within the TTL if etcd cannot be reached. In a
/// forked child it only frees the memory (the parent's member stays). NULL
/// is a no-op. Needs exclusive access; do not free a member twice.
#[no_mangle]
pub extern "C" fn rl_member_free(member: *mut rl_member) {
    boundary::value("rl_member_free", (), || {
        if !member.is_null() {
            // SAFETY: non-NULL, so (header contract) a handle rl_member_join
            // made with Box::into_raw, not freed yet, used by nobody else.
            drop(unsafe { Box::from_raw(member) });
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{RL_ERR_INVALID_ARGUMENT, RL_ERR_UNAVAILABLE};

    fn join(
        eps: &[*const c_char],
        o: Option<rl_member_options>,
        ring: *const c_char,
        node: *const c_char,
        weight: u32,
    ) -> rl_status {
        let sentinel = std::ptr::NonNull::<rl_member>::dangling().as_ptr();
        let mut out = sentinel;
        let p = o.as_ref().map_or(std::ptr::null(), |o| o as *const _);
        let s = rl_member_join(
            eps.as_ptr(),
            eps.len(),
            p,
            ring,
            node,
            weight,
            std::ptr::null(),
            &mut out,
        );
        assert_eq!(out, sentinel, "out written on failure");
        s
    }

    #[test]
    fn bad_arguments_are_refused_before_any_network() {
        // nothing listens on port 1: a network call would be Unavailable
        let ep = [c"http://127.0.0.1:1".as_ptr()];
        let (r, n) = (c"ring".as_ptr(), c"node".as_ptr());
        let null = std::ptr::null();
        let opts = |ttl_s, ns: *const c_char| {
            Some(rl_member_options {
                ttl_s,
                etcd_namespace: ns,
                request_timeout_ms: 200,
            })
        };
        for (eps, o, ring, node, weight) in [
            (&[][..], None, r, n, 1),
            (&[null][..], None, r, n, 1),
            (&ep[..], opts(1, null), r, n, 1),
            (&ep[..], opts(0, c"/bad".as_ptr()), r, n, 1),
            (&ep[..], None, c"a b".as_ptr(), n, 1),
            (&ep[..], None, null, n, 1),
            (&ep[..], None, r, null, 1),
            (&ep[..], None, r, c"".as_ptr(), 1),
            (&ep[..], None, r, n, 0),
            (&[c"ftp://h:1".as_ptr()][..], None, r, n, 1),
        ] {
            assert_eq!(join(eps, o, ring, node, weight), RL_ERR_INVALID_ARGUMENT);
        }
        let s = rl_member_join(
            ep.as_ptr(),
            1,
            null.cast(),
            r,
            n,
            1,
            null,
            std::ptr::null_mut(),
        );
        assert_eq!(s, RL_ERR_INVALID_ARGUMENT);
        // good arguments reach the network, where nothing answers
        assert_eq!(join(&ep, opts(2, null), r, n, 1), RL_ERR_UNAVAILABLE);
    }

    #[test]
    fn null_handles() {
        assert_eq!(rl_member_check(std::ptr::null()), RL_ERR_INVALID_ARGUMENT);
        assert_eq!(rl_member_revision(std::ptr::null()), 0);
        assert_eq!(rl_member_rejoins(std::ptr::null()), 0);
        assert_eq!(
            rl_member_leave(std::ptr::null_mut()),
            RL_ERR_INVALID_ARGUMENT
        );
        rl_member_free(std::ptr::null_mut());
    }

    #[test]
    fn options() {
        // SAFETY: NULL is allowed.
        let none = unsafe { options_of(std::ptr::null()) }.unwrap();
        assert_eq!(none, ClientOptions::default());
        let o = rl_member_options {
            ttl_s: 3,
            etcd_namespace: c"ns".as_ptr(),
            request_timeout_ms: 250,
        };
        // SAFETY: a valid struct with a NUL-terminated namespace.
        let got = unsafe { options_of(&o) }.unwrap();
        assert_eq!(got.ttl, Duration::from_secs(3));
        assert_eq!(got.namespace, "ns");
        assert_eq!(got.request_timeout, Duration::from_millis(250));
    }
}
