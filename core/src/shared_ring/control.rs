//! The generation word: a 64-byte file `F.gen` beside the ring file, mapped
//! by every reader. Bytes 0..8 are the magic `RLSRGEN1`, 8..12 the version
//! (1, little-endian), 16..24 the newest complete generation (an aligned
//! little-endian u64 written atomically, only ever increased). A lookup
//! reads it with one atomic load; when it differs from what the reader last
//! saw, the reader reopens the ring file.

use crate::error::{Error, ErrorKind, Result};
use crate::lock::dir;
use memmap2::{Mmap, MmapMut, MmapOptions};
use std::fs::File;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// The magic of a generation file.
pub const CONTROL_MAGIC: [u8; 8] = *b"RLSRGEN1";
/// The length of a generation file.
pub const CONTROL_LEN: usize = 64;
/// Where the generation word sits.
const WORD_AT: usize = 16;

fn initial() -> [u8; CONTROL_LEN] {
    let mut b = [0u8; CONTROL_LEN];
    b[..8].copy_from_slice(&CONTROL_MAGIC);
    b[8..12].copy_from_slice(&1u32.to_le_bytes());
    b
}

fn check(bytes: &[u8], path: &Path) -> Result<()> {
    if bytes.len() != CONTROL_LEN
        || bytes[..8] != CONTROL_MAGIC
        || bytes[8..12] != 1u32.to_le_bytes()
    {
        return Err(Error::corrupt(format!(
            "{} is not a ringlock generation file (version 1)",
            path.display()
        )));
    }
    Ok(())
}

fn word(bytes: &[u8]) -> &AtomicU64 {
    let p = bytes[WORD_AT..WORD_AT + 8].as_ptr();
    assert_eq!(p as usize % 8, 0, "mappings are page-aligned");
    // SAFETY: `p` points to 8 bytes inside a live mapping (the slice above),
    // aligned to 8 (asserted); other processes touch these bytes only through
    // atomic operations, and the returned reference borrows `bytes`.
    unsafe { &*p.cast::<AtomicU64>() }
}

/// A reader's read-only mapping of the generation word.
pub(crate) struct Control {
    /// The word inside `map`, located (and its alignment checked) once at
    /// open, so that a lookup's check is one load.
    word: std::ptr::NonNull<AtomicU64>,
    _map: Mmap,
}

// SAFETY: `word` points into `_map`, which the Control owns and which does
// not move when the Control does (the mapping is not the struct's memory);
// the word is only accessed atomically, from any thread.
unsafe impl Send for Control {}
// SAFETY: as for Send: shared access is only atomic loads.
unsafe impl Sync for Control {}

impl Control {
    /// Opens an existing generation file. Errors: `NotFound` (nothing
    /// published there), `InvalidArgument` (a symlink), `Corrupt`, `Io`.
    pub fn open(path: &Path) -> Result<Control> {
        let f = open_file(path, false)?;
        // SAFETY: the mapping is read-only and its bytes are only read through
        // atomics (`word`) or once at open (`check`); publishers never
        // truncate the file.
        let map = unsafe { MmapOptions::new().len(CONTROL_LEN).map(&f) }
            .map_err(|e| Error::io(format_args!("cannot map {}", path.display()), &e))?;
        check(&map, path)?;
        let word = std::ptr::NonNull::from(word(&map));
        Ok(Control { word, _map: map })
    }

    /// The newest complete generation: one atomic load.
    #[inline]
    pub fn generation(&self) -> u64 {
        // SAFETY: `word` points into `_map` (checked in bounds and aligned by
        // `word` at open), which lives as long as `self`.
        unsafe { self.word.as_ref() }.load(Ordering::Acquire)
    }
}

/// A publisher's writable mapping (created if missing).
pub(crate) struct ControlMut {
    map: MmapMut,
}

impl ControlMut {
    /// Opens or creates `dir/name`, 0600, never following a symlink.
    pub fn open_or_create(dir: &dir::Dir, name: &str) -> Result<ControlMut> {
        let (f, _) = dir::open_or_create(dir, name, 0o600, &|_| initial().to_vec())?;
        let path = dir.path().join(name);
        let len = f.metadata().map_err(Error::from)?.len();
        if len != CONTROL_LEN as u64 {
            return Err(Error::corrupt(format!(
                "{} is {len} bytes, not a ringlock generation file",
                path.display()
            )));
        }
        // SAFETY: a shared writable mapping of a 64-byte file nobody
        // truncates; the generation word is only accessed atomically.
        let map = unsafe { MmapOptions::new().len(CONTROL_LEN).map_mut(&f) }
            .map_err(|e| Error::io(format_args!("cannot map {}", path.display()), &e))?;
        check(&map, &path)?;
        Ok(ControlMut { map })
    }

    /// The generation it holds.
    pub fn generation(&self) -> u64 {
        word(&self.map).load(Ordering::Acquire)
    }

    /// Announces generation `g` (never lowers the word).
    pub fn announce(&self, g: u64) {
        word(&self.map).fetch_max(g, Ordering::AcqRel);
    }
}

/// Opens a regular file without following a symlink, read-only or read-write.
pub(crate) fn open_file(path: &Path, write: bool) -> Result<File> {
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(write)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) => Error::invalid(format!(
                "{} is a symbolic link; symlinks are not followed",
                path.display()
            )),
            _ if e.kind() == std::io::ErrorKind::NotFound => Error::os(
                ErrorKind::NotFound,
                format_args!("no shared ring at {}", path.display()),
                &e,
            ),
            _ => Error::io(format_args!("cannot open {}", path.display()), &e),
        })?;
    let md = f.metadata().map_err(Error::from)?;
    if !md.file_type().is_file() {
        return Err(Error::corrupt(format!(
            "{} is not a regular file",
            path.display()
        )));
    }
    Ok(f)
}
