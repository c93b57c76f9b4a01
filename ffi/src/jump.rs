//! `rl_jump_hash`: the bare jump consistent hash.

use crate::boundary;

/// Lamping and Veach's jump consistent hash: the bucket in `[0, buckets)` of
/// `key`, the published algorithm bit for bit. Returns -1 when `buckets` <= 0.
/// Pure and thread-safe.
#[no_mangle]
pub extern "C" fn rl_jump_hash(key: u64, buckets: i32) -> i32 {
    boundary::value("rl_jump_hash", -1, || {
        Ok(ringlock_core::jump_hash(key, buckets))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_values() {
        assert_eq!(rl_jump_hash(42, 57), 43);
        assert_eq!(rl_jump_hash(0xDEAD10CC, 666), 361);
        assert_eq!(rl_jump_hash(42, 0), -1);
        assert_eq!(rl_jump_hash(42, i32::MIN), -1);
    }
}
