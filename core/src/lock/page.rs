//! The shared state of one lock: a 4096-byte page at the start of its file,
//! mapped by every process that opens the lock. Every field is an atomic, so
//! concurrent access from processes is well defined.
//!
//! | offset | field |
//! |---|---|
//! | 0 | magic `"RLLOCK\0\n"` as a little-endian u64 |
//! | 8 | layout version (2) |
//! | 12 | backend (1 shm, 2 file) |
//! | 16 | page identity: a random non-zero u64 drawn when the file is made |
//! | 24 | the inode number of the file the page was made for |
//! | 32.. | the fields of [`Page`] below, then 65 holder records |
//!
//! Tampering: every handle keeps the identity it found at open and the
//! highest token it has seen (read from the page or handed out itself). [`Mapped::check`] (on the slow paths, and
//! before a token is trusted) and [`Mapped::verify`] fail with `Corrupt` when
//! the page was rewritten (another identity), truncated (the SIGBUS handler
//! of [`super::sigbus`] swapped in a zero page) or reset (a token lower than
//! one already seen). Opening checks that the page was made for this very
//! file (its inode), so a page copied from another lock file is refused.

use super::sigbus;
use crate::error::{Error, Result};
use memmap2::MmapRaw;
use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// The size of a lock file.
pub const PAGE_SIZE: usize = 4096;
/// Simultaneous shared holders that are recorded (one bit each in a u64).
pub const READER_SLOTS: usize = 64;

const MAGIC: u64 = u64::from_le_bytes(*b"RLLOCK\0\n");
const VERSION: u32 = 2;

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
    /// Random, non-zero, drawn when the file is made; never changes.
    pub identity: AtomicU64,
    /// The inode number of the file the page was made for.
    pub inode: AtomicU64,
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
    /// shm: bit i set while reader slot i holds the lock shared. file:
    /// nonzero once a reader claimed a slot, until the next exclusive
    /// acquirer has looked at the slots.
    pub readers_mask: AtomicU64,
    /// The last fencing token handed out.
    pub token: AtomicU64,
    pub writer: Record,
    pub readers: [Record; READER_SLOTS],
    /// file: pid of a writer waiting for the flock; new readers wait while
    /// it is set (writer preference), unless that process is dead.
    pub writer_waiting: AtomicU32,
    /// file: the start time of the `writer_waiting` process (0 while
    /// unknown), so that a pid reused by another process is not taken for
    /// the writer. Set after the pid, cleared before it.
    pub writer_waiting_start: AtomicU64,
}

const _: () = assert!(std::mem::offset_of!(Page, writer_waiting) == 2152);
const _: () = assert!(std::mem::offset_of!(Page, writer_waiting_start) == 2160);

const _: () = assert!(std::mem::size_of::<Page>() <= PAGE_SIZE);

/// The bytes of a fresh page for `backend`, made for the file with inode
/// number `inode`.
pub fn initial(backend: u32, inode: u64) -> Vec<u8> {
    let mut b = vec![0u8; PAGE_SIZE];
    b[0..8].copy_from_slice(&MAGIC.to_le_bytes());
    b[8..12].copy_from_slice(&VERSION.to_le_bytes());
    b[12..16].copy_from_slice(&backend.to_le_bytes());
    b[16..24].copy_from_slice(&random_identity().to_le_bytes());
    b[24..32].copy_from_slice(&inode.to_le_bytes());
    b
}

/// 64 random bits, never 0: getrandom(2), else a mix of the clock, the pid
/// and a counter.
pub(super) fn random_identity() -> u64 {
    let mut v = 0u64;
    // SAFETY: writes at most 8 bytes into `v`, which is 8 bytes long.
    let n = unsafe { libc::getrandom((&mut v as *mut u64).cast(), 8, 0) };
    if n != 8 {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let c = COUNTER.fetch_add(1, Ordering::Relaxed);
        v = xxhash_rust::xxh3::xxh3_64(
            &[t, u64::from(std::process::id()), c]
                .map(u64::to_le_bytes)
                .concat(),
        );
    }
    v.max(1)
}

/// A mapped, validated page.
pub struct Mapped {
    /// Dropped before `map`: unregistered before it is unmapped.
    guard: sigbus::Guard,
    map: MmapRaw,
    identity: u64,
    /// The highest token this handle has seen.
    seen: AtomicU64,
    path: PathBuf,
}

impl Mapped {
    /// Maps `file` and checks that it is a lock page of `backend`, made for
    /// this file.
    pub fn new(file: &File, path: &Path, backend: u32) -> Result<Mapped> {
        let md = file.metadata().map_err(Error::from)?;
        let len = md.len();
        if len != PAGE_SIZE as u64 {
            return Err(Error::corrupt(format!(
                "lock file {} is {len} bytes; a lock file is {PAGE_SIZE} bytes",
                path.display()
            )));
        }
        let map = MmapRaw::map_raw(file).map_err(|e| {
            Error::os(
                crate::ErrorKind::Corrupt,
                format_args!("cannot map {}", path.display()),
                &e,
            )
        })?;
        let guard = sigbus::register(map.as_ptr(), map.len());
        let mut m = Mapped {
            guard,
            map,
            identity: 0,
            seen: AtomicU64::new(0),
            path: path.to_owned(),
        };
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
        let identity = p.identity.load(Ordering::Relaxed);
        let inode = p.inode.load(Ordering::Relaxed);
        if identity == 0 {
            return Err(Error::corrupt(format!(
                "{} has no page identity; it was not made by ringlock",
                path.display()
            )));
        }
        if inode != md.ino() {
            return Err(Error::corrupt(format!(
                "{}: its page was made for another file (inode {inode}, this is inode {}); \
                 it was copied or rewritten",
                path.display(),
                md.ino()
            )));
        }
        let token = p.token.load(Ordering::Relaxed);
        m.identity = identity;
        m.seen = AtomicU64::new(token);
        Ok(m)
    }

    /// The page.
    #[inline]
    pub fn page(&self) -> &Page {
        // SAFETY: the mapping is PAGE_SIZE bytes (checked in `new`), page
        // aligned, shared and lives as long as `self`; `Page` fits in it, is
        // repr(C) and made only of atomics, for which every bit pattern is
        // valid and concurrent access by other processes is well defined. If
        // the file is truncated, the SIGBUS handler replaces the mapping by a
        // zero page of the same size in place, which keeps all of this true.
        unsafe { &*(self.map.as_ptr() as *const Page) }
    }

    /// `Corrupt` if the page is no longer the one this handle opened: it was
    /// rewritten (another identity) or truncated (a zero page now).
    #[inline(always)]
    pub fn check(&self) -> Result<()> {
        if self.page().identity.load(Ordering::Relaxed) == self.identity {
            Ok(())
        } else {
            Err(self.tampered())
        }
    }

    /// [`check`](Self::check), then that the page's `token` (read by an
    /// acquisition that is about to trust it) is not behind a token this
    /// handle has seen: the page was not reset under us.
    #[inline(always)]
    pub fn verify(&self, token: u64) -> Result<()> {
        self.check()?;
        let seen = self.seen.load(Ordering::Relaxed);
        if token < seen {
            return Err(self.went_back(seen, token));
        }
        if token != seen {
            // One acquisition per handle at a time, ordered by the lock: a
            // plain store suffices.
            self.seen.store(token, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Notes the token this handle just handed out as seen, so that a page
    /// reset to its copy from before this acquisition is caught too.
    #[inline(always)]
    pub fn handed_out(&self, token: u64) {
        self.seen.store(token, Ordering::Relaxed);
    }

    #[cold]
    #[inline(never)]
    fn went_back(&self, seen: u64, token: u64) -> Error {
        Error::corrupt(format!(
            "lock file {}: its token went back from {seen} to {token}; \
             the file was reset or rewritten while in use",
            self.path.display()
        ))
    }

    #[cold]
    #[inline(never)]
    fn tampered(&self) -> Error {
        if self.guard.hit() {
            Error::corrupt(format!(
                "lock file {} was truncated while in use; this handle no longer uses \
                 it (open the lock again once the file is repaired or removed)",
                self.path.display()
            ))
        } else {
            Error::corrupt(format!(
                "lock file {} was rewritten while in use (page identity {:016x}, \
                 {:016x} when opened); its state cannot be trusted",
                self.path.display(),
                self.page().identity.load(Ordering::Relaxed),
                self.identity
            ))
        }
    }
}

/// The error of an exclusive acquisition when the last token handed out is
/// 2^64 - 1: a greater one does not exist, and 0 means "never acquired".
#[cold]
pub fn exhausted(name: &str) -> Error {
    Error::corrupt(format!(
        "lock {name:?} has handed out its last fencing token (2^64 - 1); remove its \
         lock file to start again from 1 (holders of old tokens must be gone)"
    ))
}
