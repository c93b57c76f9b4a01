//! Checked conversions of C arguments: NULL, lengths that do not fit,
//! misaligned arrays and non-UTF-8 names become `InvalidArgument` errors.
//! Paths are bytes (Linux): any non-empty string is a path.
//!
//! Each function is `unsafe`: a non-NULL pointer must be what the header says
//! (a NUL-terminated string, an array of the given length, a live handle);
//! that part of the contract cannot be checked from here.

use crate::boundary::{invalid, Result};
use std::ffi::{c_char, c_void, CStr, OsStr};
use std::fmt::Display;
use std::mem::MaybeUninit;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// A node name: non-NULL, NUL-terminated, UTF-8.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string that outlives `'a`.
pub(crate) unsafe fn name<'a>(p: *const c_char, what: impl Display) -> Result<&'a str> {
    if p.is_null() {
        return Err(invalid(format!("{what} is NULL")));
    }
    // SAFETY: non-NULL, and the caller guarantees a NUL-terminated string
    // living for 'a.
    let bytes = unsafe { CStr::from_ptr(p) }.to_bytes();
    std::str::from_utf8(bytes).map_err(|e| {
        invalid(format!(
            "{what} is not UTF-8 (invalid byte at offset {})",
            e.valid_up_to()
        ))
    })
}

/// A byte string: NULL allowed only when `len` is 0.
///
/// # Safety
/// `p` is NULL or points to `len` readable bytes that outlive `'a`.
pub(crate) unsafe fn bytes<'a>(
    p: *const c_void,
    len: usize,
    what: impl Display,
) -> Result<&'a [u8]> {
    // SAFETY: forwarded; u8 has no alignment requirement.
    unsafe { slice(p.cast::<u8>(), len, what) }
}

/// An array of `count` elements: NULL allowed only when `count` is 0.
///
/// # Safety
/// `p` is NULL or points to `count` initialised `T` that outlive `'a`.
pub(crate) unsafe fn slice<'a, T>(
    p: *const T,
    count: usize,
    what: impl Display,
) -> Result<&'a [T]> {
    if count == 0 {
        return Ok(&[]);
    }
    check_array(p, count, what)?;
    // SAFETY: non-NULL, aligned, at most isize::MAX bytes (checked above);
    // the caller guarantees `count` initialised elements living for 'a.
    Ok(unsafe { std::slice::from_raw_parts(p, count) })
}

/// An output array of `count` elements, possibly uninitialised: NULL allowed
/// only when `count` is 0.
///
/// # Safety
/// `p` is NULL or points to `count` writable `T` that outlive `'a` and that
/// nothing else accesses during the call.
pub(crate) unsafe fn slice_out<'a, T>(
    p: *mut T,
    count: usize,
    what: impl Display,
) -> Result<&'a mut [MaybeUninit<T>]> {
    if count == 0 {
        return Ok(&mut []);
    }
    check_array(p, count, what)?;
    // SAFETY: non-NULL, aligned, at most isize::MAX bytes (checked above); the
    // caller guarantees `count` writable elements, exclusively ours for 'a.
    // MaybeUninit<T> has T's layout and accepts uninitialised contents.
    Ok(unsafe { std::slice::from_raw_parts_mut(p.cast::<MaybeUninit<T>>(), count) })
}

fn check_array<T>(p: *const T, count: usize, what: impl Display) -> Result<()> {
    if p.is_null() {
        return Err(invalid(format!("{what} is NULL but its length is {count}")));
    }
    if !p.is_aligned() {
        return Err(invalid(format!(
            "{what} is not aligned for its element type"
        )));
    }
    let fits = count
        .checked_mul(std::mem::size_of::<T>())
        .is_some_and(|b| b <= isize::MAX as usize);
    if !fits {
        return Err(invalid(format!(
            "{what}: length {count} does not fit in memory"
        )));
    }
    Ok(())
}

/// A required output pointer: checked now, written only on success.
///
/// # Safety
/// `p` is NULL or valid for a write of a `T` during `'a`, and nothing else
/// accesses it during the call.
pub(crate) unsafe fn out<'a, T>(p: *mut T, what: impl Display) -> Result<&'a mut MaybeUninit<T>> {
    if p.is_null() {
        return Err(invalid(format!("{what} is NULL")));
    }
    if !p.is_aligned() {
        return Err(invalid(format!("{what} is not aligned")));
    }
    // SAFETY: non-NULL and aligned (checked above), writable and exclusively
    // ours for the call (caller). MaybeUninit<T> accepts whatever it holds.
    Ok(unsafe { &mut *p.cast::<MaybeUninit<T>>() })
}

/// An optional output pointer: NULL means "not wanted"; otherwise as [`out`].
///
/// # Safety
/// As [`out`], with NULL allowed.
pub(crate) unsafe fn out_opt<'a, T>(
    p: *mut T,
    what: impl Display,
) -> Result<Option<&'a mut MaybeUninit<T>>> {
    if p.is_null() {
        return Ok(None);
    }
    // SAFETY: forwarded (non-NULL here).
    unsafe { out(p, what) }.map(Some)
}

/// An optional input struct: NULL gives `None`.
///
/// # Safety
/// `p` is NULL or points to an initialised `T` that outlives `'a` and that
/// nothing writes during `'a`.
pub(crate) unsafe fn opt_ref<'a, T>(p: *const T, what: impl Display) -> Result<Option<&'a T>> {
    if p.is_null() {
        return Ok(None);
    }
    if !p.is_aligned() {
        return Err(invalid(format!("{what} is not aligned")));
    }
    // SAFETY: non-NULL and aligned (checked above); initialised and not
    // written during 'a (caller).
    Ok(Some(unsafe { &*p }))
}

/// A filesystem path: non-NULL, NUL-terminated, non-empty; any other bytes
/// (paths are bytes on Linux: UTF-8 is not required).
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string that outlives `'a`.
pub(crate) unsafe fn path<'a>(p: *const c_char, what: impl Display) -> Result<&'a Path> {
    if p.is_null() {
        return Err(invalid(format!("{what} is NULL")));
    }
    // SAFETY: non-NULL, and the caller guarantees a NUL-terminated string
    // living for 'a.
    let bytes = unsafe { CStr::from_ptr(p) }.to_bytes();
    if bytes.is_empty() {
        return Err(invalid(format!("{what} is empty")));
    }
    Ok(Path::new(OsStr::from_bytes(bytes)))
}
