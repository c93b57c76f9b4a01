//! `rl_ring`: the handle, its life cycle and what it holds.

// Declaration order is the header's reading order (blank lines keep rustfmt
// from sorting): after the handle's life cycle in this file, the other ways
// to make a ring, then changes, lookups, enumeration, serialisation,
// migration plans, bounded loads and the load tracker.
mod limits;
mod options;

mod mutate;

mod lookup;

mod inspect;

mod serial;

pub(crate) mod diff;

mod bounded;

mod tracker;

use crate::args;
use crate::boundary::{self, internal, invalid, Result};
use crate::error::rl_status;
pub(crate) use options::rl_ring_options;
use ringlock_core::{Algorithm, Ring};
use std::ffi::{c_char, CString};

/// A placement algorithm: one of the `RL_ALGORITHM_*` values. Any other value
/// is refused with `RL_ERR_INVALID_ARGUMENT`.
pub type rl_algorithm = u32;

/// libketama-compatible MD5 continuum (default 160 vnodes, a multiple of 4).
pub const RL_ALGORITHM_KETAMA: rl_algorithm = 1;
/// Virtual-node ring on XXH3-64, seed 0: the fast default (default 160 vnodes).
pub const RL_ALGORITHM_XXH3: rl_algorithm = 2;
/// Jump consistent hash over buckets numbered in name order (vnodes must be 0).
pub const RL_ALGORITHM_JUMP: rl_algorithm = 3;
/// Maglev lookup table of a prime size (vnodes must be 0; table size 65537
/// unless `rl_ring_new_with_options` says otherwise).
pub const RL_ALGORITHM_MAGLEV: rl_algorithm = 4;
/// libmemcached 1.1.4's weighted ketama (`MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED`):
/// every key on the server libmemcached picks for nodes named `host:port`
/// (vnodes must be 0; docs/placement.md gives the exact function).
pub const RL_ALGORITHM_LIBMEMCACHED: rl_algorithm = 5;
/// nginx 1.22's `hash $key consistent`: every key on the upstream server
/// nginx picks, for nodes named by their `server` address as nginx's
/// configuration writes it (vnodes must be 0; docs/placement.md).
pub const RL_ALGORITHM_NGINX: rl_algorithm = 6;
/// twemproxy 0.5's ketama (`distribution: ketama`) with its default key hash,
/// `hash: fnv1a_64`; nodes are named `host:port`, or by the server's name
/// when the configuration gives one (vnodes must be 0; docs/placement.md).
pub const RL_ALGORITHM_TWEMPROXY: rl_algorithm = 7;
/// twemproxy's ketama with `hash: md5`.
pub const RL_ALGORITHM_TWEMPROXY_MD5: rl_algorithm = 8;
/// twemproxy's ketama with `hash: one_at_a_time`.
pub const RL_ALGORITHM_TWEMPROXY_ONE_AT_A_TIME: rl_algorithm = 9;
/// twemproxy's ketama with `hash: murmur`.
pub const RL_ALGORITHM_TWEMPROXY_MURMUR: rl_algorithm = 10;
/// twemproxy's ketama with `hash: crc32` (its 15-bit crc32).
pub const RL_ALGORITHM_TWEMPROXY_CRC32: rl_algorithm = 11;
/// twemproxy's ketama with `hash: crc32a`.
pub const RL_ALGORITHM_TWEMPROXY_CRC32A: rl_algorithm = 12;
/// HAProxy 2.6's `hash-type consistent`: every key on the server HAProxy
/// picks, the server lines written in the nodes' name order (server `i` is
/// the `i`-th node by name; weights 1 to 256; vnodes must be 0;
/// docs/placement.md).
pub const RL_ALGORITHM_HAPROXY: rl_algorithm = 13;
/// libmemcached 1.1.4's plain ketama (`MEMCACHED_BEHAVIOR_KETAMA`, not
/// weighted): 100 points per server whatever its weight, one per hash, with
/// its default key hash, one-at-a-time; nodes named `host:port` (vnodes must
/// be 0; docs/placement.md).
pub const RL_ALGORITHM_LIBMEMCACHED_CONSISTENT: rl_algorithm = 14;
/// libmemcached's plain ketama with `MEMCACHED_HASH_MD5`.
pub const RL_ALGORITHM_LIBMEMCACHED_CONSISTENT_MD5: rl_algorithm = 15;
/// spymemcached 2.12.3's `KetamaNodeLocator` with `KETAMA_HASH`: every key on
/// the server spymemcached picks, for nodes named by the string spymemcached
/// hashes for their socket address (`10.0.0.1:11211`,
/// `host/10.0.0.1:11211`); weighted as with a weight map when a weight is
/// not 1 (vnodes must be 0; docs/placement.md).
pub const RL_ALGORITHM_SPYMEMCACHED: rl_algorithm = 16;
/// Envoy's `ring_hash` load balancer (XXH64 of `"<host>_<i>"`, its running
/// weight shares): every key on the host Envoy's ring picks for the hash
/// XXH64(key), for nodes named by the text Envoy hashes (the host's address
/// `10.0.0.1:80`, or its hostname or `hash_key`). The table size of
/// `rl_ring_new_with_options` is Envoy's `minimum_ring_size` (0: 1024);
/// vnodes must be 0 (docs/placement.md).
pub const RL_ALGORITHM_ENVOY_RING_HASH: rl_algorithm = 17;

/// A consistent-hashing ring (opaque). Created by `rl_ring_new`,
/// `rl_ring_clone` or `rl_ring_deserialize`; released by `rl_ring_free`.
///
/// `const rl_ring *` calls (lookups, enumeration, serialisation) may run
/// concurrently from any number of threads. `rl_ring *` calls (mutations,
/// free) need exclusive access: no other call on the same ring at the same time.
pub struct rl_ring {
    ring: Ring,
    /// `names[id]` is the NUL-terminated name of node `id`; rebuilt after
    /// every successful mutation, so the pointers handed out stay valid until
    /// the next one.
    names: Vec<CString>,
}

impl rl_ring {
    fn boxed(ring: Ring) -> Result<Box<rl_ring>> {
        let mut r = Box::new(rl_ring {
            ring,
            names: Vec::new(),
        });
        r.refresh_names()?;
        Ok(r)
    }

    fn refresh_names(&mut self) -> Result<()> {
        self.names = self
            .ring
            .nodes()
            .map(|(name, _)| CString::new(name))
            .collect::<std::result::Result<_, _>>()
            .map_err(|_| internal("a node name holds a NUL byte"))?;
        Ok(())
    }

    /// The borrowed C name of node `id`.
    fn name_ptr(&self, id: usize) -> Result<*const c_char> {
        let name = self
            .names
            .get(id)
            .ok_or_else(|| internal("node id out of range"))?;
        Ok(name.as_ptr())
    }

    /// Checks that `names` has one entry per node id, so that `names[id]`
    /// cannot fail for an id the ring returns.
    fn check_names(&self) -> Result<()> {
        if self.names.len() != self.ring.len() {
            return Err(internal("node names out of step with the ring"));
        }
        Ok(())
    }

    /// # Safety
    /// `p` is NULL or a live ring that nobody mutates during `'a`.
    unsafe fn from_ptr<'a>(p: *const rl_ring) -> Result<&'a rl_ring> {
        // SAFETY: the caller guarantees NULL or a live, unmutated ring.
        unsafe { p.as_ref() }.ok_or_else(|| invalid("ring is NULL"))
    }

    /// # Safety
    /// `p` is NULL or a live ring that nothing else uses during `'a`.
    unsafe fn from_mut_ptr<'a>(p: *mut rl_ring) -> Result<&'a mut rl_ring> {
        // SAFETY: the caller guarantees NULL or a live ring, exclusively ours.
        unsafe { p.as_mut() }.ok_or_else(|| invalid("ring is NULL"))
    }
}

/// The ring behind `p`, for the other C types that read a ring (the shared
/// ring's publish).
///
/// # Safety
/// `p` is NULL or a live ring that nobody mutates during `'a`.
pub(crate) unsafe fn ring_of<'a>(p: *const rl_ring) -> Result<&'a Ring> {
    // SAFETY: the caller's guarantee is `from_ptr`'s.
    unsafe { rl_ring::from_ptr(p) }.map(|r| &r.ring)
}

/// A new C handle owning `ring`, for the other C types that hand out rings
/// (the membership watcher's copies); free it with `rl_ring_free`.
pub(crate) fn into_handle(ring: Ring) -> Result<*mut rl_ring> {
    Ok(Box::into_raw(rl_ring::boxed(ring)?))
}

/// The algorithm, vnodes and table size an `rl_ring_options` pointer asks
/// for (NULL or zeros: the defaults), checked as `rl_ring_new_with_options`
/// checks them.
///
/// # Safety
/// `options` is NULL or points to a readable `rl_ring_options`.
pub(crate) unsafe fn config_of(options: *const rl_ring_options) -> Result<(Algorithm, u32, u32)> {
    // SAFETY: forwarded from the caller's contract.
    let (algorithm, vnodes, table_size) = unsafe { options::config_of(options) }?;
    Ring::with_config(algorithm, vnodes, table_size)?;
    Ok((algorithm, vnodes, table_size))
}

fn algorithm_of(code: rl_algorithm) -> Result<Algorithm> {
    Algorithm::from_code(code).ok_or_else(|| {
        let known: Vec<String> = Algorithm::ALL
            .into_iter()
            .map(|a| format!("{} ({a})", a.code()))
            .collect();
        invalid(format!(
            "unknown algorithm {code}; expected an RL_ALGORITHM_* value: {}",
            known.join(", ")
        ))
    })
}

/// Creates an empty ring and stores it in `*out`; free it with `rl_ring_free`.
///
/// `vnodes` is the number of virtual nodes per unit of weight; 0 means the
/// algorithm's default (160 for ketama and xxh3). Ketama needs a multiple of
/// 4; jump and maglev take only 0. A maglev ring gets the default table size
/// (65537); `rl_ring_new_with_options` chooses another.
///
/// Returns `RL_OK`, or `RL_ERR_INVALID_ARGUMENT` (`out` NULL, unknown
/// algorithm, vnodes not allowed). `*out` is written only on success.
/// Thread-safe: the new ring is the caller's alone.
#[no_mangle]
pub extern "C" fn rl_ring_new(
    algorithm: rl_algorithm,
    vnodes: u32,
    out: *mut *mut rl_ring,
) -> rl_status {
    boundary::status("rl_ring_new", || {
        // SAFETY: `out` is NULL or writable (header contract).
        let out = unsafe { args::out(out, "out") }?;
        let ring = Ring::with_vnodes(algorithm_of(algorithm)?, vnodes)?;
        out.write(Box::into_raw(rl_ring::boxed(ring)?));
        Ok(())
    })
}

/// Copies `ring` (same algorithm, vnodes, table size and nodes) into a new ring stored in
/// `*out`; free it with `rl_ring_free`. The copy is independent: names
/// borrowed from it live as long as the copy.
///
/// Returns `RL_OK`, or `RL_ERR_INVALID_ARGUMENT` (`ring` or `out` NULL).
/// `*out` is written only on success. Safe concurrently with other
/// `const rl_ring *` calls on `ring`.
#[no_mangle]
pub extern "C" fn rl_ring_clone(ring: *const rl_ring, out: *mut *mut rl_ring) -> rl_status {
    boundary::status("rl_ring_clone", || {
        // SAFETY: `ring` is NULL or a live ring not being mutated (header).
        let r = unsafe { rl_ring::from_ptr(ring) }?;
        // SAFETY: `out` is NULL or writable (header contract).
        let out = unsafe { args::out(out, "out") }?;
        let copy = Box::new(rl_ring {
            ring: r.ring.clone(),
            names: r.names.clone(),
        });
        out.write(Box::into_raw(copy));
        Ok(())
    })
}

/// Frees a ring made by `rl_ring_new`, `rl_ring_clone` or
/// `rl_ring_deserialize`. NULL is a no-op. Every name borrowed from the ring
/// becomes invalid. Needs exclusive access; do not free a ring twice.
#[no_mangle]
pub extern "C" fn rl_ring_free(ring: *mut rl_ring) {
    boundary::value("rl_ring_free", (), || {
        if !ring.is_null() {
            // SAFETY: non-NULL, so (header contract) a pointer this library
            // made with Box::into_raw and has not freed yet, used by nobody else.
            drop(unsafe { Box::from_raw(ring) });
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::inspect::{rl_ring_algorithm, rl_ring_len, rl_ring_node};
    use super::mutate::rl_ring_add;
    use super::*;
    use crate::error::{RL_ERR_INVALID_ARGUMENT, RL_ERR_NOT_FOUND, RL_OK};

    #[test]
    fn algorithm_constants_are_the_core_codes() {
        for (c, a) in [
            (RL_ALGORITHM_KETAMA, Algorithm::Ketama),
            (RL_ALGORITHM_XXH3, Algorithm::Xxh3),
            (RL_ALGORITHM_JUMP, Algorithm::Jump),
            (RL_ALGORITHM_MAGLEV, Algorithm::Maglev),
            (RL_ALGORITHM_LIBMEMCACHED, Algorithm::Libmemcached),
            (RL_ALGORITHM_NGINX, Algorithm::Nginx),
            (RL_ALGORITHM_TWEMPROXY, Algorithm::Twemproxy),
            (RL_ALGORITHM_TWEMPROXY_MD5, Algorithm::TwemproxyMd5),
            (
                RL_ALGORITHM_TWEMPROXY_ONE_AT_A_TIME,
                Algorithm::TwemproxyOneAtATime,
            ),
            (RL_ALGORITHM_TWEMPROXY_MURMUR, Algorithm::TwemproxyMurmur),
            (RL_ALGORITHM_TWEMPROXY_CRC32, Algorithm::TwemproxyCrc32),
            (RL_ALGORITHM_TWEMPROXY_CRC32A, Algorithm::TwemproxyCrc32a),
            (RL_ALGORITHM_HAPROXY, Algorithm::Haproxy),
            (
                RL_ALGORITHM_LIBMEMCACHED_CONSISTENT,
                Algorithm::LibmemcachedConsistent,
            ),
            (
                RL_ALGORITHM_LIBMEMCACHED_CONSISTENT_MD5,
                Algorithm::LibmemcachedConsistentMd5,
            ),
            (RL_ALGORITHM_SPYMEMCACHED, Algorithm::Spymemcached),
            (RL_ALGORITHM_ENVOY_RING_HASH, Algorithm::EnvoyRingHash),
        ] {
            assert_eq!(c, u32::from(a.code()));
            assert_eq!(algorithm_of(c).unwrap(), a);
        }
        assert!(algorithm_of(0).is_err());
        assert!(algorithm_of(99).is_err());
    }

    #[test]
    fn life_cycle_and_enumeration() {
        let mut ring = std::ptr::null_mut();
        assert_eq!(rl_ring_new(RL_ALGORITHM_XXH3, 0, &mut ring), RL_OK);
        assert_eq!(rl_ring_add(ring, c"b".as_ptr(), 2), RL_OK);
        assert_eq!(rl_ring_add(ring, c"a".as_ptr(), 1), RL_OK);
        assert_eq!(rl_ring_len(ring), 2);
        let (mut name, mut weight) = (std::ptr::null(), 0u32);
        assert_eq!(rl_ring_node(ring, 1, &mut name, &mut weight), RL_OK);
        // SAFETY: a name borrowed from a live, unmutated ring.
        assert_eq!(unsafe { std::ffi::CStr::from_ptr(name) }, c"b");
        assert_eq!(weight, 2);
        assert_eq!(
            rl_ring_node(ring, 2, &mut name, &mut weight),
            RL_ERR_NOT_FOUND
        );
        assert_eq!(rl_ring_algorithm(ring), RL_ALGORITHM_XXH3);
        let mut bad = std::ptr::null_mut();
        assert_eq!(rl_ring_new(99, 0, &mut bad), RL_ERR_INVALID_ARGUMENT);
        assert!(bad.is_null());
        rl_ring_free(ring);
        rl_ring_free(std::ptr::null_mut());
    }
}
