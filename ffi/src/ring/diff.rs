//! Migration plans: `rl_ring_diff` (the ranges whose owner changes, in one
//! caller-freed allocation) and `rl_ring_position` (where a key sits).

use super::rl_ring;
use crate::args;
use crate::boundary::{self, internal, Result};
use crate::error::rl_status;
use ringlock_core::ring::Diff;
use std::alloc::{alloc, dealloc, Layout};
use std::collections::HashMap;
use std::ffi::{c_char, c_void};

/// One range of key positions whose owner changes: positions `first` to
/// `last`, both included (a range that reaches the top of the 2^64 space has
/// no exclusive end in a `uint64_t`). Positions are those of
/// `rl_ring_position`. Rust's and C++'s `Move` name them `first` and `last`
/// too; Python's `Move(start, end)` is half-open, `start = first` and
/// `end = last + 1`.
#[repr(C)]
pub struct rl_move {
    /// The first position of the range.
    pub first: u64,
    /// The last position of the range (inclusive).
    pub last: u64,
    /// The owner in the `before` ring; NULL when that ring is empty.
    pub old_node: *const c_char,
    /// The owner in the `after` ring; NULL when that ring is empty.
    pub new_node: *const c_char,
}

/// Bytes before the array, holding the size of the whole allocation so that
/// `rl_moves_free` can give it back. A multiple of the array's alignment.
const HEADER: usize = 16;
const ALIGN: usize = 16;

/// Stores in `*position` the position of the key `key[0..key_len]` (any
/// bytes) in the space whose ranges `rl_ring_diff` reports: ketama, the key's
/// 32-bit MD5 hash (0 to 2^32 - 1); a client profile, its 32-bit key hash;
/// xxh3, its XXH3-64 hash (0 to 2^64 - 1); maglev, its table entry, XXH3-64
/// mod the table size. A key moves between two rings exactly when its
/// position lies in one of their diff's ranges. `key` may be NULL only when
/// `key_len` is 0. Works on an empty ring (the position does not depend on
/// the nodes).
///
/// Returns `RL_OK` or `RL_ERR_INVALID_ARGUMENT` (`ring` or `position` NULL,
/// `key` NULL with `key_len` > 0, or a jump ring: jump places keys by bucket
/// number and has no positions). `*position` is written only on success.
/// Allocates nothing; safe concurrently with other `const rl_ring *` calls.
#[no_mangle]
pub extern "C" fn rl_ring_position(
    ring: *const rl_ring,
    key: *const c_void,
    key_len: usize,
    position: *mut u64,
) -> rl_status {
    boundary::status("rl_ring_position", || {
        // SAFETY: `ring` is NULL or a live ring not being mutated (header).
        let r = unsafe { rl_ring::from_ptr(ring) }?;
        // SAFETY: `key` is NULL or `key_len` readable bytes (header contract).
        let key = unsafe { args::bytes(key, key_len, "key") }?;
        // SAFETY: `position` is NULL or writable (header contract).
        let position = unsafe { args::out(position, "position") }?;
        position.write(r.ring.position(key)?);
        Ok(())
    })
}

/// The migration plan from `before` to `after`: every range of key positions
/// (see `rl_ring_position`) whose owner differs between the two rings, with
/// the old and the new owner. Exact: a key's owner differs if and only if its
/// position lies in one of the ranges. The rings must use the same algorithm
/// (any but jump); their nodes, weights and vnodes may differ, but
/// two maglev tables must have the same size (the ranges are then runs of
/// table entries).
///
/// On success `*moves` points to `*count` `rl_move` records sorted by `first`,
/// disjoint, never wrapping past the top of the space (such a range is split
/// in two); adjacent ranges with the same old and new owner are merged.
/// `*fraction` gets the share of the position space that moves (0 to 1):
/// the expected share of keys that move.
///
/// Ownership and lifetime: the array and the node names it points to are ONE
/// allocation owned by the caller, to be freed with one `rl_moves_free(*moves)`
/// (also when `*count` is 0: `*moves` is never NULL on success). It does not
/// borrow from the rings: it stays valid after they change or are freed.
///
/// Returns `RL_OK` or `RL_ERR_INVALID_ARGUMENT` (`before`, `after`, `moves`,
/// `count` or `fraction` NULL; the algorithms differ; maglev tables of
/// different sizes; jump rings, which have no positions). Outputs are written
/// only on success. Takes O(points of both rings) time and memory (maglev:
/// O(table size)); safe concurrently with other `const rl_ring *` calls on
/// either ring.
#[no_mangle]
pub extern "C" fn rl_ring_diff(
    before: *const rl_ring,
    after: *const rl_ring,
    moves: *mut *mut rl_move,
    count: *mut usize,
    fraction: *mut f64,
) -> rl_status {
    boundary::status("rl_ring_diff", || {
        // SAFETY: `before` is NULL or a live ring not being mutated (header).
        let b = unsafe { rl_ring::from_ptr(before) }?;
        // SAFETY: `after` is NULL or a live ring not being mutated (header).
        let a = unsafe { rl_ring::from_ptr(after) }?;
        // SAFETY: `moves` is NULL or writable (header contract).
        let moves = unsafe { args::out(moves, "moves") }?;
        // SAFETY: `count` is NULL or writable (header contract).
        let count = unsafe { args::out(count, "count") }?;
        // SAFETY: `fraction` is NULL or writable (header contract).
        let fraction = unsafe { args::out(fraction, "fraction") }?;
        let diff = b.ring.diff(&a.ring)?;
        let array = pack(&diff)?;
        moves.write(array);
        count.write(diff.moves.len());
        fraction.write(diff.fraction());
        Ok(())
    })
}

/// Frees an array made by `rl_ring_diff`, with the names it points to. NULL
/// is a no-op. Do not free an array twice or use it afterwards; no other
/// thread may be reading it.
#[no_mangle]
pub extern "C" fn rl_moves_free(moves: *mut rl_move) {
    boundary::value("rl_moves_free", (), || {
        if moves.is_null() {
            return Ok(());
        }
        // SAFETY: non-NULL, so (header contract) an array from `pack` not yet
        // freed: HEADER bytes before it hold the allocation's size.
        unsafe {
            let base = moves.cast::<u8>().sub(HEADER);
            let size = base.cast::<usize>().read();
            dealloc(base, Layout::from_size_align_unchecked(size, ALIGN));
        }
        Ok(())
    })
}

/// Lays the moves out in one allocation: header (size), the `rl_move` array,
/// then each distinct name once, NUL-terminated.
pub(crate) fn pack(diff: &Diff) -> Result<*mut rl_move> {
    let too_big = || internal("the diff does not fit in memory");
    let mut names: HashMap<&str, usize> = HashMap::new();
    let mut text = 0usize;
    for m in &diff.moves {
        for name in [&m.old, &m.new].into_iter().flatten() {
            if name.contains('\0') {
                return Err(internal("a node name holds a NUL byte"));
            }
            names.entry(name.as_str()).or_insert_with(|| {
                let at = text;
                text += name.len() + 1;
                at
            });
        }
    }
    let array = diff
        .moves
        .len()
        .checked_mul(std::mem::size_of::<rl_move>())
        .ok_or_else(too_big)?;
    let size = HEADER
        .checked_add(array)
        .and_then(|s| s.checked_add(text))
        .ok_or_else(too_big)?;
    let layout = Layout::from_size_align(size, ALIGN).map_err(|_| too_big())?;
    const _: () = assert!(std::mem::align_of::<rl_move>() <= ALIGN && HEADER % ALIGN == 0);
    // SAFETY: `layout` has a non-zero size (HEADER > 0).
    let base = unsafe { alloc(layout) };
    if base.is_null() {
        return Err(too_big());
    }
    // SAFETY: `base` holds `size` bytes, aligned to ALIGN: the header
    // (a usize at offset 0), `len` rl_move records at HEADER (aligned, as
    // HEADER is a multiple of ALIGN), and `text` bytes of names after them.
    // Every byte written lies inside the allocation.
    unsafe {
        base.cast::<usize>().write(size);
        let records = base.add(HEADER).cast::<rl_move>();
        let strings = base.add(HEADER + array);
        for (name, &at) in &names {
            std::ptr::copy_nonoverlapping(name.as_ptr(), strings.add(at), name.len());
            strings.add(at + name.len()).write(0);
        }
        let ptr = |n: &Option<String>| match n {
            Some(s) => strings.add(names[s.as_str()]).cast::<c_char>().cast_const(),
            None => std::ptr::null(),
        };
        for (i, m) in diff.moves.iter().enumerate() {
            records.add(i).write(rl_move {
                first: m.first,
                last: m.last,
                old_node: ptr(&m.old),
                new_node: ptr(&m.new),
            });
        }
        Ok(records)
    }
}

#[cfg(test)]
mod tests {
    use super::super::mutate::rl_ring_add;
    use super::super::{rl_ring_free, rl_ring_new, RL_ALGORITHM_JUMP, RL_ALGORITHM_XXH3};
    use super::*;
    use crate::error::{RL_ERR_INVALID_ARGUMENT, RL_OK};
    use std::ffi::CStr;
    use std::ptr::{null, null_mut};

    fn ring(alg: u32, nodes: &[&CStr]) -> *mut rl_ring {
        let mut r = null_mut();
        assert_eq!(rl_ring_new(alg, 0, &mut r), RL_OK);
        for n in nodes {
            assert_eq!(rl_ring_add(r, n.as_ptr(), 1), RL_OK);
        }
        r
    }

    #[test]
    fn packed_moves_match_the_core_and_outlive_the_rings() {
        let a = ring(RL_ALGORITHM_XXH3, &[c"a", c"b"]);
        let b = ring(RL_ALGORITHM_XXH3, &[c"a", c"b", c"c"]);
        // SAFETY: live rings made above.
        let want = unsafe { (*a).ring.diff(&(*b).ring) }.unwrap();
        let (mut moves, mut count, mut fraction) = (null_mut(), 0usize, 0f64);
        assert_eq!(
            rl_ring_diff(a, b, &mut moves, &mut count, &mut fraction),
            RL_OK
        );
        rl_ring_free(a);
        rl_ring_free(b);
        assert_eq!(count, want.moves.len());
        assert_eq!(fraction, want.fraction());
        // SAFETY: `count` records from rl_ring_diff, not yet freed.
        let got = unsafe { std::slice::from_raw_parts(moves, count) };
        for (g, w) in got.iter().zip(&want.moves) {
            assert_eq!((g.first, g.last), (w.first, w.last));
            // SAFETY: names inside the live allocation, NUL-terminated.
            let old = unsafe { CStr::from_ptr(g.old_node) }.to_str().unwrap();
            // SAFETY: as above.
            let new = unsafe { CStr::from_ptr(g.new_node) }.to_str().unwrap();
            assert_eq!(Some(old), w.old.as_deref());
            assert_eq!(Some(new), w.new.as_deref());
        }
        rl_moves_free(moves);
        rl_moves_free(null_mut());
    }

    #[test]
    fn no_moves_is_still_an_allocation_and_bad_input_writes_nothing() {
        let a = ring(RL_ALGORITHM_XXH3, &[c"a"]);
        let j = ring(RL_ALGORITHM_JUMP, &[c"a"]);
        let (mut moves, mut count, mut fraction) = (null_mut(), 7usize, 0.5f64);
        assert_eq!(
            rl_ring_diff(a, j, &mut moves, &mut count, &mut fraction),
            RL_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            rl_ring_diff(j, j, &mut moves, &mut count, &mut fraction),
            RL_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            rl_ring_diff(null(), a, &mut moves, &mut count, &mut fraction),
            RL_ERR_INVALID_ARGUMENT
        );
        assert_eq!((moves, count, fraction), (null_mut(), 7, 0.5));
        assert_eq!(
            rl_ring_diff(a, a, &mut moves, &mut count, &mut fraction),
            RL_OK
        );
        assert!(!moves.is_null());
        assert_eq!((count, fraction), (0, 0.0));
        rl_moves_free(moves);
        let mut pos = 3u64;
        assert_eq!(
            rl_ring_position(j, c"k".as_ptr().cast(), 1, &mut pos),
            RL_ERR_INVALID_ARGUMENT
        );
        assert_eq!(pos, 3);
        assert_eq!(rl_ring_position(a, null(), 0, &mut pos), RL_OK);
        assert_eq!(pos, xxh3_of(b""));
        rl_ring_free(a);
        rl_ring_free(j);
    }

    fn xxh3_of(key: &[u8]) -> u64 {
        ringlock_core::Ring::new(ringlock_core::Algorithm::Xxh3)
            .position(key)
            .unwrap()
    }
}
