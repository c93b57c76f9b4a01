//! The shared state of one lock: a 4096-byte page at the start of its file,
//! mapped by every process that opens the lock. Every field is an atomic, so
//! concurrent access from processes is well defined.
//!
//! | offset | field |
//! |---|---|
//! | 0 | magic `"RLLOCK\0\n"` as a little-endian u64 |
//! | 8 | layout version (1) |
//! | 12 | backend (1 shm, 2 file) |
//! | 16.. | the fields of [`Page`] below, then 65 holder records |

use crate::error::{Error, Result};
use memmap2::MmapRaw;
use std::fs::File;
use std::path::Path;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// The size of a lock file.
pub const PAGE_SIZE: usize = 4096;
/// Simultaneous shared holders that are recorded (one bit each in a u64).
pub const READER_SLOTS: usize = 64;

const MAGIC: u64 = u64::from_le_bytes(*b"RLLOCK\0\n");
const VERSION: u32 = 1;

/// One holder record. `pid` 0 means free.
#[repr(C)]
pub struct Record {
    pub pid: AtomicU32,
    /// 0 free, 1 claimed (acquiring), 2 held.
    pub state: AtomicU32,
    pub start: AtomicU64,
    pub since_ms: AtomicU64,
    pub token: AtomicU64,
}

pub const FREE: u32 = 0;
pub const CLAIMED: u32 = 1;
pub const HELD: u32 = 2;

/// The page.
#[repr(C)]
pub struct Page {
    pub magic: AtomicU64,
    pub version: AtomicU32,
    pub backend: AtomicU32,
    /// shm: pid of the exclusive owner (or of a writer waiting for readers
    /// to drain); 0 when free.
    pub word: AtomicU32,
    /// Futex bumped when an exclusive hold ends (if anyone waits).
    pub seq: AtomicU32,
    pub seq_waiters: AtomicU32,
    /// Futex bumped when a shared holder leaves while a writer waits.
    pub drain: AtomicU32,
    pub drain_waiters: AtomicU32,
    /// A holder died without releasing since the last exclusive acquisition.
    pub died: AtomicU32,
    /// shm: bit i set while reader slot i holds the lock shared.
    pub readers_mask: AtomicU64,
    /// The last fencing token handed out.
    pub token: AtomicU64,
    pub writer: Record,
    pub readers: [Record; READER_SLOTS],
    /// file: pid of a writer waiting for the flock; new readers wait while
    /// it is set (writer preference), unless that process is dead.
    pub writer_waiting: AtomicU32,
}

const _: () = assert!(std::mem::size_of::<Page>() <= PAGE_SIZE);

/// The bytes of a fresh page for `backend`.
pub fn initial(backend: u32) -> Vec<u8> {
    let mut b = vec![0u8; PAGE_SIZE];
    b[0..8].copy_from_slice(&MAGIC.to_le_bytes());
    b[8..12].copy_from_slice(&VERSION.to_le_bytes());
    b[12..16].copy_from_slice(&backend.to_le_bytes());
    b
}

/// A mapped, validated page.
pub struct Mapped {
    map: MmapRaw,
}

impl Mapped {
    /// Maps `file` and checks that it is a lock page of `backend`.
    pub fn new(file: &File, path: &Path, backend: u32) -> Result<Mapped> {
        let len = file.metadata().map_err(Error::from)?.len();
        if len != PAGE_SIZE as u64 {
            return Err(Error::corrupt(format!(
                "lock file {} is {len} bytes; a lock file is {PAGE_SIZE} bytes",
                path.display()
            )));
        }
        let map = MmapRaw::map_raw(file)
            .map_err(|e| Error::corrupt(format!("cannot map {}: {e}", path.display())))?;
        let m = Mapped { map };
        let p = m.page();
        let magic = p.magic.load(Ordering::Acquire);
        if magic != MAGIC {
            return Err(Error::corrupt(format!(
                "{} is not a ringlock lock file (bad magic)",
                path.display()
            )));
        }
        let version = p.version.load(Ordering::Relaxed);
        if version != VERSION {
            return Err(Error::corrupt(format!(
                "{} has lock layout version {version}; this library reads version {VERSION}",
                path.display()
            )));
        }
        let b = p.backend.load(Ordering::Relaxed);
        if b != backend {
            return Err(Error::corrupt(format!(
                "{} belongs to backend {b}, not {backend}",
                path.display()
            )));
        }
        Ok(m)
    }

    /// The page.
    #[inline]
    pub fn page(&self) -> &Page {
        // SAFETY: the mapping is PAGE_SIZE bytes (checked in `new`), page
        // aligned, shared and lives as long as `self`; `Page` fits in it, is
        // repr(C) and made only of atomics, for which every bit pattern is
        // valid and concurrent access by other processes is well defined.
        unsafe { &*(self.map.as_ptr() as *const Page) }
    }
}
