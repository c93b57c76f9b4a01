//! Serialisation: the core's portable byte format (version 1), through a
//! caller-owned buffer.

use super::limits::{self, rl_ring_limits};
use super::rl_ring;
use crate::args;
use crate::boundary::{self, invalid};
use crate::error::rl_status;
use ringlock_core::ring::Limits;
use ringlock_core::Ring;
use std::ffi::c_void;

/// Serialises `ring` (algorithm, vnodes or table size, nodes and weights; no table) into a
/// buffer the caller owns. The bytes are portable (little-endian,
/// checksummed, versioned) and equal rings give equal bytes.
///
/// Size query: with `buf` NULL and `cap` 0, stores the number of bytes needed
/// in `*len` and returns `RL_OK`. Then, with `cap` >= that size, writes the
/// bytes to `buf[0..*len]` and stores their number in `*len`:
///
///     size_t need;
///     rl_ring_serialize(ring, NULL, 0, &need);
///     uint8_t *buf = malloc(need);
///     rl_ring_serialize(ring, buf, need, &need);
///
/// Returns `RL_OK` or `RL_ERR_INVALID_ARGUMENT` (`ring` or `len` NULL, `buf`
/// NULL with `cap` > 0, or `cap` smaller than the size needed: nothing is
/// written then and `rl_last_error` says how many bytes are needed). `buf`
/// and `*len` are written only on success. Safe concurrently with other
/// `const rl_ring *` calls.
#[no_mangle]
pub extern "C" fn rl_ring_serialize(
    ring: *const rl_ring,
    buf: *mut u8,
    cap: usize,
    len: *mut usize,
) -> rl_status {
    boundary::status("rl_ring_serialize", || {
        // SAFETY: `ring` is NULL or a live ring not being mutated (header).
        let r = unsafe { rl_ring::from_ptr(ring) }?;
        // SAFETY: `len` is NULL or writable (header contract).
        let len = unsafe { args::out(len, "len") }?;
        if buf.is_null() && cap > 0 {
            return Err(invalid(format!(
                "buf is NULL but cap is {cap}; pass NULL and 0 to ask for the size"
            )));
        }
        let bytes = r.ring.to_bytes();
        if !buf.is_null() {
            if cap < bytes.len() {
                return Err(invalid(format!(
                    "buffer of {cap} bytes is too small: the ring needs {}",
                    bytes.len()
                )));
            }
            // SAFETY: `buf` is non-NULL and holds `cap` writable bytes
            // (header contract).
            let out = unsafe { args::slice_out(buf, bytes.len(), "buf") }?;
            for (slot, &b) in out.iter_mut().zip(&bytes) {
                slot.write(b);
            }
        }
        len.write(bytes.len());
        Ok(())
    })
}

/// Rebuilds a ring from `buf[0..len]` (bytes made by `rl_ring_serialize`, in
/// any process or version that writes format 1) and stores it in `*out`; free
/// it with `rl_ring_free`. Every field is checked: a buffer that loads is a
/// ring that could have been built, and its serialisation is `buf` again
/// (one ring, one encoding). `buf` may be NULL only when `len` is 0.
///
/// The ring is loaded within the default limits (`rl_ring_limits`), checked
/// before any table is built: a few bytes cannot ask for gigabytes. Use
/// `rl_ring_deserialize_with_limits` for a larger ring.
///
/// Returns `RL_OK`, `RL_ERR_CORRUPT` (truncated, altered, unknown version,
/// invalid content, past the limits), `RL_ERR_IO` (out of memory) or
/// `RL_ERR_INVALID_ARGUMENT` (`out` NULL, `buf` NULL with `len` > 0).
/// `*out` is written only on success. Thread-safe: the new ring is the
/// caller's alone.
#[no_mangle]
pub extern "C" fn rl_ring_deserialize(
    buf: *const c_void,
    len: usize,
    out: *mut *mut rl_ring,
) -> rl_status {
    boundary::status("rl_ring_deserialize", || {
        // SAFETY: `buf` is NULL or `len` readable bytes (header contract).
        let bytes = unsafe { args::bytes(buf, len, "buf") }?;
        // SAFETY: `out` is NULL or writable (header contract).
        let out = unsafe { args::out(out, "out") }?;
        let ring = rl_ring::boxed(Ring::from_bytes_with_limits(bytes, Limits::DEFAULT)?)?;
        out.write(Box::into_raw(ring));
        Ok(())
    })
}

/// `rl_ring_deserialize` within `limits` (NULL: the defaults) instead of
/// the default limits; the ring keeps them. For rings larger than the
/// defaults allow, from a source you trust that much.
///
/// Returns as `rl_ring_deserialize`, and `RL_ERR_INVALID_ARGUMENT` for a
/// limit above 2^26. `*out` is written only on success. Thread-safe: the
/// new ring is the caller's alone.
#[no_mangle]
pub extern "C" fn rl_ring_deserialize_with_limits(
    buf: *const c_void,
    len: usize,
    limits: *const rl_ring_limits,
    out: *mut *mut rl_ring,
) -> rl_status {
    boundary::status("rl_ring_deserialize_with_limits", || {
        // SAFETY: `buf` is NULL or `len` readable bytes (header contract).
        let bytes = unsafe { args::bytes(buf, len, "buf") }?;
        // SAFETY: `limits` is NULL or a readable rl_ring_limits (header).
        let limits = unsafe { limits::from_ptr(limits) }?;
        // SAFETY: `out` is NULL or writable (header contract).
        let out = unsafe { args::out(out, "out") }?;
        let ring = rl_ring::boxed(Ring::from_bytes_with_limits(bytes, limits)?)?;
        out.write(Box::into_raw(ring));
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::super::{rl_ring_free, rl_ring_new, RL_ALGORITHM_KETAMA};
    use super::*;
    use crate::error::{RL_ERR_CORRUPT, RL_ERR_INVALID_ARGUMENT, RL_OK};

    #[test]
    fn size_query_then_write_then_load() {
        let mut ring = std::ptr::null_mut();
        assert_eq!(rl_ring_new(RL_ALGORITHM_KETAMA, 0, &mut ring), RL_OK);
        let mut need = 0usize;
        assert_eq!(
            rl_ring_serialize(ring, std::ptr::null_mut(), 0, &mut need),
            RL_OK
        );
        let mut buf = vec![0u8; need];
        let mut small = 7usize;
        assert_eq!(
            rl_ring_serialize(ring, buf.as_mut_ptr(), need - 1, &mut small),
            RL_ERR_INVALID_ARGUMENT
        );
        assert_eq!(small, 7);
        assert_eq!(
            rl_ring_serialize(ring, std::ptr::null_mut(), 4, &mut small),
            RL_ERR_INVALID_ARGUMENT
        );
        let mut len = 0usize;
        assert_eq!(
            rl_ring_serialize(ring, buf.as_mut_ptr(), need, &mut len),
            RL_OK
        );
        assert_eq!(len, need);
        let mut back = std::ptr::null_mut();
        assert_eq!(
            rl_ring_deserialize(buf.as_ptr().cast(), len, &mut back),
            RL_OK
        );
        let mut none = std::ptr::null_mut();
        assert_eq!(
            rl_ring_deserialize(buf.as_ptr().cast(), len - 1, &mut none),
            RL_ERR_CORRUPT
        );
        assert!(none.is_null());
        rl_ring_free(back);
        rl_ring_free(ring);
    }
}
