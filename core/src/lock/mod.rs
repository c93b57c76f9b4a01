//! Named locks between processes on one host: exclusive or shared, blocking,
//! try or timed, robust against a holder that dies, with fencing tokens.
//! docs/locks.md states the semantics and guarantees.
//!
//! ```
//! use ringlock::lock::{Lock, LockOptions, Mode};
//! # let dir = std::env::temp_dir().join(format!("ringlock-doc-{}", std::process::id()));
//! let lock = Lock::open("jobs", &LockOptions { dir: Some(dir), ..Default::default() })?;
//! let hold = lock.acquire(Mode::Exclusive, None)?;
//! assert!(hold.token >= 1);
//! lock.release()?;
//!
//! // holds as values: any number at once, each released when dropped
//! let lock = std::sync::Arc::new(lock);
//! let (a, b) = (lock.guard(Mode::Shared, None)?, lock.guard(Mode::Shared, None)?);
//! assert_eq!(lock.status().holders.len(), 2);
//! drop((a, b));
//! # Ok::<(), ringlock::Error>(())
//! ```

mod clock;
pub(crate) mod dir;
mod file;
mod futex;
mod guard;
mod image;
mod name;
mod page;
mod proc;
mod shm;
mod sigbus;
mod wait;

pub use guard::Guard;
pub use name::{validate_lock_name, MAX_NAME_LEN};
pub use page::READER_SLOTS;
pub use proc::{current_pid, thread_token, Liveness};

use crate::error::{Error, ErrorKind, Result};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release, SeqCst};
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, AtomicUsize};
use std::time::Duration;
use wait::{Budget, Deadline};

/// Where a lock's state lives and what guards it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Backend {
    /// Atomics in a mapped page (`<dir>/<name>.shm`): the fast one.
    #[default]
    Shm,
    /// flock(2) on `<dir>/<name>.lock`: portable, freed by the kernel.
    File,
}

impl Backend {
    /// `"shm"` or `"file"`.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Shm => "shm",
            Backend::File => "file",
        }
    }

    fn code(self) -> u32 {
        match self {
            Backend::Shm => 1,
            Backend::File => 2,
        }
    }

    fn suffix(self) -> &'static str {
        match self {
            Backend::Shm => "shm",
            Backend::File => "lock",
        }
    }
}

impl std::str::FromStr for Backend {
    type Err = Error;
    fn from_str(s: &str) -> Result<Backend> {
        match s {
            "shm" => Ok(Backend::Shm),
            "file" => Ok(Backend::File),
            _ => Err(Error::invalid(format!(
                "unknown lock backend {s:?}; expected \"shm\" or \"file\""
            ))),
        }
    }
}

/// Exclusive (write) or shared (read).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// One holder at a time; each acquisition gets a new fencing token.
    Exclusive,
    /// Any number of holders at once, none exclusive.
    Shared,
}

impl Mode {
    /// `"exclusive"` or `"shared"`.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Exclusive => "exclusive",
            Mode::Shared => "shared",
        }
    }
}

/// How to open a lock.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LockOptions {
    /// The backend (default `Shm`).
    pub backend: Backend,
    /// The lock directory; `None` for `/dev/shm/ringlock-<uid>/`.
    pub dir: Option<PathBuf>,
    /// Permission bits of a lock file this call creates; 0 means 0600. Must
    /// include 0600 (owner read and write) and nothing beyond 0777.
    pub file_mode: u32,
}

/// What an acquisition gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Hold {
    /// Exclusive: the fencing token of this acquisition, strictly greater than
    /// every token handed out before for this lock. Shared: the token of the
    /// last exclusive acquisition (0 if none).
    pub token: u64,
    /// A holder of this lock died without releasing it since the last
    /// exclusive acquisition (reported to the next exclusive acquirer).
    pub previous_owner_died: bool,
    /// The mode held.
    pub mode: Mode,
}

/// One holder, as `status` sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Holder {
    /// Process id.
    pub pid: u32,
    /// The mode held.
    pub mode: Mode,
    /// When it acquired, in milliseconds since the Unix epoch.
    pub since_ms: u64,
    /// Its token (see [`Hold::token`]).
    pub token: u64,
    /// Whether its process is running, stopped, or gone.
    pub liveness: Liveness,
}

/// Who holds a lock, read without taking it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockStatus {
    /// The last fencing token handed out (0 if never acquired exclusively).
    pub token: u64,
    /// The recorded holders (an exclusive one, or shared ones).
    pub holders: Vec<Holder>,
}

pub(crate) struct Acquired {
    pub token: u64,
    pub previous_owner_died: bool,
    pub slot: Option<usize>,
}

enum Inner {
    Shm(shm::Shm),
    File(file::FileLock),
}

const NO_SLOT: usize = usize::MAX;
const HELD_BIT: u64 = 1;
/// `owner` while a release is under way: no thread's token, so a thread that
/// acquires meanwhile waits instead of seeing itself as the holder.
const RELEASING: u64 = u64::MAX - 1;

/// A handle on a named lock.
///
/// A handle holds at most one acquisition at a time. Threads may share a
/// handle: while one holds it (or waits for it) through the handle, others
/// wait their turn; the thread that holds it gets `Deadlock` if it acquires
/// again. (An shm exclusive acquisition needs no handle-level step: the
/// lock word itself makes the other threads wait.) Separate handles — in one process or many — contend exactly as
/// processes do. `release` may be called from any thread of the process.
///
/// Across `fork()` the child does not hold the parent's lock and cannot
/// release it; it may acquire through the inherited handle like any process.
///
/// For several holds at once through one handle — a reader per thread, a
/// hold per asyncio task — take [`Guard`]s ([`Lock::guard`], on an
/// `Arc<Lock>`): each owns its hold and releases it on drop.
pub struct Lock {
    name: String,
    path: PathBuf,
    backend: Backend,
    inner: Inner,
    /// The process this handle's state belongs to.
    pid: AtomicU32,
    /// 0: free; else (thread token << 1) | HELD_BIT when held. Guards every
    /// acquisition through this handle except shm exclusive ones.
    owner: AtomicU64,
    /// shm exclusive holds: the holding thread's token << 1, 0 when none.
    /// Written only by the owner of the lock word, so a plain store
    /// suffices; the lock word itself excludes other threads.
    xowner: AtomicU64,
    held_mode: AtomicU8,
    held_slot: AtomicUsize,
    /// Threads waiting for the handle, and the futex word they sleep on
    /// (bumped when the handle is freed). Plain atomics and a futex, no
    /// mutex or queue: a forked child inherits nothing that names a thread
    /// it does not have, and resets the count.
    parked: AtomicU32,
    freed: AtomicU32,
}

impl Lock {
    /// Opens (creating if needed) the lock `name`. Errors: `InvalidArgument`
    /// (bad name, bad mode, a symlink in the path, a directory in the path
    /// that belongs to another user or that others can write to without the
    /// sticky bit, another user's lock file while `file_mode` shares nothing
    /// with the group or others; nothing is created or changed then), `Io`,
    /// `Corrupt` (the file is not an intact lock file of this backend and
    /// version, or its page was made for another file; it is left as it is).
    pub fn open(name: &str, options: &LockOptions) -> Result<Lock> {
        validate_lock_name(name)?;
        let mode = match options.file_mode {
            0 => 0o600,
            m if m & !0o777 != 0 || m & 0o600 != 0o600 => {
                return Err(Error::invalid(format!(
                    "file mode {m:o} must include 0600 and stay within 0777"
                )))
            }
            m => m,
        };
        let (dir, is_default) = match &options.dir {
            Some(d) => (d.clone(), false),
            None => (dir::default_dir(), true),
        };
        let dir = dir::prepare(&dir, is_default)?;
        let backend = options.backend;
        let file_name = format!("{name}.{}", backend.suffix());
        let path = dir.path().join(&file_name);
        let (file, _) = dir::open_or_create(&dir, &file_name, mode, &|inode| {
            page::initial(backend.code(), inode)
        })?;
        let map = page::Mapped::new(&file, &path, backend.code())?;
        let inner = match backend {
            Backend::Shm => Inner::Shm(shm::Shm::new(map)),
            Backend::File => Inner::File(file::FileLock::new(file, &path, map)?),
        };
        Ok(Lock {
            name: name.to_owned(),
            path,
            backend,
            inner,
            pid: AtomicU32::new(proc::current_pid()),
            owner: AtomicU64::new(0),
            xowner: AtomicU64::new(0),
            held_mode: AtomicU8::new(0),
            held_slot: AtomicUsize::new(NO_SLOT),
            parked: AtomicU32::new(0),
            freed: AtomicU32::new(0),
        })
    }

    /// The lock's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The file that holds the lock's state.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The backend.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Acquires the lock in `mode`. `timeout`: `None` waits for ever,
    /// `Some(0)` tries once (`WouldBlock` if held), otherwise waits at most
    /// that long (`Timeout`), measured on the monotonic clock. Errors also:
    /// `Deadlock` (this thread already holds the lock through this handle),
    /// `Corrupt` (the lock file was truncated, rewritten or reset while in
    /// use; nothing is acquired), `Io`.
    #[inline]
    pub fn acquire(&self, mode: Mode, timeout: Option<Duration>) -> Result<Hold> {
        self.acquire_in(mode, &mut Budget::new(Deadline::after(timeout)))
    }

    /// Acquires as [`acquire`](Lock::acquire) does, calling `hook` at least
    /// every `every` while it waits — without giving up its place in the
    /// meantime: a waiting exclusive acquirer keeps its claim, which holds
    /// new shared acquirers back, across the calls. (The hook is not called
    /// when the lock is had at once, nor for a try.) If the hook returns an
    /// error, the acquisition withdraws exactly as on a timeout — its claim
    /// gone, nothing held — and returns that error. The hook runs on the
    /// waiting thread, with nothing of the lock's held but the claim; it
    /// should be quick. Errors also as `acquire`, and `InvalidArgument` if
    /// `every` is zero.
    pub fn acquire_interruptible(
        &self,
        mode: Mode,
        timeout: Option<Duration>,
        every: Duration,
        hook: &mut dyn FnMut() -> Result<()>,
    ) -> Result<Hold> {
        self.acquire_in(mode, &mut self.hooked(timeout, every, hook)?)
    }

    /// The budget of an interruptible wait; `InvalidArgument` if `every`
    /// is zero.
    fn hooked<'a>(
        &self,
        timeout: Option<Duration>,
        every: Duration,
        hook: &'a mut dyn FnMut() -> Result<()>,
    ) -> Result<Budget<'a>> {
        if every.is_zero() {
            return Err(Error::invalid(format!(
                "lock {:?}: the interval between calls of the hook must not be zero",
                self.name
            )));
        }
        Ok(Budget::with_hook(Deadline::after(timeout), every, hook))
    }

    #[inline(always)]
    fn acquire_in(&self, mode: Mode, b: &mut Budget<'_>) -> Result<Hold> {
        self.follow_fork()?;
        let me = proc::thread_token() << 1;
        if self.xowner.load(Relaxed) == me || self.owner.load(Relaxed) == me | HELD_BIT {
            return Err(self.deadlock());
        }
        if let (Inner::Shm(s), Mode::Exclusive) = (&self.inner, mode) {
            // The lock word excludes every other thread and process: no
            // handle-level exclusion needed (the fast path).
            let a = s.acquire(mode, b, &self.name)?;
            self.xowner.store(me, Release);
            return Ok(Hold {
                token: a.token,
                previous_owner_died: a.previous_owner_died,
                mode,
            });
        }
        while let Err(cur) = self.owner.compare_exchange(0, me, Acquire, Relaxed) {
            if cur & !HELD_BIT == me {
                return Err(self.deadlock());
            }
            self.wait_for_handle(b)?;
        }
        let got = match &self.inner {
            Inner::Shm(s) => s.acquire(mode, b, &self.name),
            Inner::File(f) => f.acquire(mode, b, &self.name),
        };
        match got {
            Ok(a) => {
                self.held_mode.store(mode as u8, Relaxed);
                self.held_slot.store(a.slot.unwrap_or(NO_SLOT), Relaxed);
                self.owner.store(me | HELD_BIT, Release);
                Ok(Hold {
                    token: a.token,
                    previous_owner_died: a.previous_owner_died,
                    mode,
                })
            }
            Err(e) => {
                self.free_handle();
                Err(e)
            }
        }
    }

    fn deadlock(&self) -> Error {
        Error::new(
            ErrorKind::Deadlock,
            format!(
                "lock {:?} is already held by this thread through this handle",
                self.name
            ),
        )
    }

    /// Waits until the handle is free (another thread holds or takes it).
    fn wait_for_handle(&self, b: &mut Budget<'_>) -> Result<()> {
        let w = wait::Waiting::new(&self.freed, &self.parked);
        loop {
            let seen = w.seen();
            if self.owner.load(SeqCst) == 0 {
                return Ok(());
            }
            let Some(left) = b.remaining(Duration::from_secs(3600))? else {
                return Err(b.expired(&self.name));
            };
            w.sleep(seen, left);
        }
    }

    fn free_handle(&self) {
        self.owner.store(0, SeqCst);
        wait::wake(&self.freed, &self.parked);
    }

    /// Releases the hold of this handle. Errors: `InvalidArgument` if the
    /// handle holds nothing (or was inherited across fork), `Corrupt` (the
    /// lock file was truncated or rewritten while held; the hold is gone),
    /// `Io`.
    #[inline]
    pub fn release(&self) -> Result<()> {
        if self.pid.load(Relaxed) != proc::current_pid() {
            return Err(Error::invalid(format!(
                "lock {:?}: this handle was inherited across fork; the child does not hold \
                 the parent's lock and cannot release it",
                self.name
            )));
        }
        if let Inner::Shm(s) = &self.inner {
            if self.xowner.load(Relaxed) != 0 && self.xowner.swap(0, Acquire) != 0 {
                return s.release(Mode::Exclusive, None, &self.name);
            }
        }
        let cur = self.owner.load(Acquire);
        if cur & HELD_BIT == 0
            || self
                .owner
                .compare_exchange(cur, RELEASING, Acquire, Relaxed)
                .is_err()
        {
            return Err(Error::invalid(format!(
                "lock {:?} is not held through this handle",
                self.name
            )));
        }
        let mode = self.held_mode();
        let slot = match self.held_slot.load(Relaxed) {
            NO_SLOT => None,
            s => Some(s),
        };
        let r = match &self.inner {
            Inner::Shm(s) => s.release(mode, slot, &self.name),
            Inner::File(f) => f.release(mode, slot),
        };
        self.free_handle();
        r
    }

    fn held_mode(&self) -> Mode {
        if self.held_mode.load(Relaxed) == Mode::Shared as u8 {
            Mode::Shared
        } else {
            Mode::Exclusive
        }
    }

    /// Whether this handle holds the lock (in this process).
    pub fn is_held(&self) -> bool {
        self.pid.load(Relaxed) == proc::current_pid()
            && (self.xowner.load(Acquire) != 0 || self.owner.load(Acquire) & HELD_BIT != 0)
    }

    /// Who holds the lock, without taking it.
    pub fn status(&self) -> LockStatus {
        match &self.inner {
            Inner::Shm(s) => s.status(),
            Inner::File(f) => f.status(),
        }
    }

    /// In a forked child, forget the parent's hold and (file backend) open
    /// our own file description.
    fn follow_fork(&self) -> Result<()> {
        let now = proc::current_pid();
        if self.pid.load(Relaxed) == now {
            return Ok(());
        }
        if let Inner::File(f) = &self.inner {
            f.after_fork()?;
        }
        self.owner.store(0, SeqCst);
        self.xowner.store(0, SeqCst);
        // the parent's waiting threads are not in the child
        self.parked.store(0, SeqCst);
        self.pid.store(now, SeqCst);
        Ok(())
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        if self.is_held() {
            let _ = self.release();
        }
    }
}

impl std::fmt::Debug for Lock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lock")
            .field("name", &self.name)
            .field("backend", &self.backend)
            .field("path", &self.path)
            .field("held", &self.is_held())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Instant;

    pub(crate) fn scratch(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("ringlock-unit-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    fn open(dir: &Path, backend: Backend, name: &str) -> Lock {
        let o = LockOptions {
            backend,
            dir: Some(dir.to_owned()),
            file_mode: 0,
        };
        Lock::open(name, &o).unwrap()
    }

    const BOTH: [Backend; 2] = [Backend::Shm, Backend::File];

    #[test]
    fn tokens_increase_and_status_sees_the_holder() {
        for b in BOTH {
            let d = scratch(&format!("tok-{}", b.name()));
            let l = open(&d, b, "t");
            let h1 = l.acquire(Mode::Exclusive, None).unwrap();
            let st = l.status();
            assert_eq!(st.holders.len(), 1);
            assert_eq!(st.holders[0].pid, std::process::id());
            assert_eq!(st.holders[0].mode, Mode::Exclusive);
            assert_eq!(st.holders[0].token, h1.token);
            assert_eq!(st.holders[0].liveness, Liveness::Alive);
            l.release().unwrap();
            assert!(l.status().holders.is_empty());
            let h2 = l.acquire(Mode::Exclusive, None).unwrap();
            assert!(h2.token > h1.token);
            assert!(!h2.previous_owner_died);
            drop(l);
            // the token persists with the lock
            let l = open(&d, b, "t");
            let h3 = l.acquire(Mode::Exclusive, Some(Duration::ZERO)).unwrap();
            assert!(
                h3.token > h2.token,
                "{b:?}: dropped handle released, token kept"
            );
            std::fs::remove_dir_all(&d).unwrap();
        }
    }

    #[test]
    fn same_thread_same_handle_is_deadlock_not_hang() {
        for b in BOTH {
            let d = scratch(&format!("dl-{}", b.name()));
            let l = open(&d, b, "d");
            l.acquire(Mode::Exclusive, None).unwrap();
            let e = l.acquire(Mode::Shared, None).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Deadlock);
            l.release().unwrap();
            assert_eq!(l.release().unwrap_err().kind(), ErrorKind::InvalidArgument);
            std::fs::remove_dir_all(&d).unwrap();
        }
    }

    #[test]
    fn try_and_timeout_between_handles() {
        for b in BOTH {
            let d = scratch(&format!("to-{}", b.name()));
            let a = open(&d, b, "x");
            let c = open(&d, b, "x");
            a.acquire(Mode::Exclusive, None).unwrap();
            let e = c
                .acquire(Mode::Exclusive, Some(Duration::ZERO))
                .unwrap_err();
            assert_eq!(e.kind(), ErrorKind::WouldBlock);
            let t = Instant::now();
            let e = c
                .acquire(Mode::Shared, Some(Duration::from_millis(50)))
                .unwrap_err();
            let took = t.elapsed();
            assert_eq!(e.kind(), ErrorKind::Timeout);
            assert!(
                took >= Duration::from_millis(50) && took < Duration::from_secs(2),
                "{took:?}"
            );
            a.release().unwrap();
            c.acquire(Mode::Shared, Some(Duration::ZERO)).unwrap();
            a.acquire(Mode::Shared, Some(Duration::ZERO)).unwrap();
            assert_eq!(c.status().holders.len(), 2);
            let e = open(&d, b, "x")
                .acquire(Mode::Exclusive, Some(Duration::ZERO))
                .unwrap_err();
            assert_eq!(e.kind(), ErrorKind::WouldBlock);
            std::fs::remove_dir_all(&d).unwrap();
        }
    }

    #[test]
    fn threads_exclude_each_other_through_one_handle_and_through_many() {
        for b in BOTH {
            let d = scratch(&format!("thr-{}", b.name()));
            let shared = Arc::new(open(&d, b, "c"));
            let counter = Arc::new(AtomicU64::new(0));
            let mut ts = Vec::new();
            for i in 0..8 {
                let own = Arc::new(open(&d, b, "c"));
                let lock = if i % 2 == 0 { shared.clone() } else { own };
                let counter = counter.clone();
                ts.push(std::thread::spawn(move || {
                    for _ in 0..2000 {
                        lock.acquire(Mode::Exclusive, None).unwrap();
                        // a non-atomic read-modify-write under the lock
                        let v = counter.load(Relaxed);
                        std::hint::spin_loop();
                        counter.store(v + 1, Relaxed);
                        lock.release().unwrap();
                    }
                }));
            }
            for t in ts {
                t.join().unwrap();
            }
            assert_eq!(counter.load(Relaxed), 16_000, "{b:?}");
            std::fs::remove_dir_all(&d).unwrap();
        }
    }

    #[test]
    fn bad_options_and_corrupt_files() {
        let d = scratch("bad");
        for (name, mode) in [("a/b", 0), ("", 0), ("ok", 0o400), ("ok", 0o1600)] {
            let o = LockOptions {
                dir: Some(d.clone()),
                file_mode: mode,
                ..Default::default()
            };
            assert_eq!(
                Lock::open(name, &o).unwrap_err().kind(),
                ErrorKind::InvalidArgument
            );
        }
        std::fs::create_dir_all(&d).unwrap();
        let good = page::initial(Backend::Shm.code(), 0);
        let mut bad_version = good.clone();
        bad_version[8] = 9;
        for (what, bytes) in [
            ("garbage", b"hello world".repeat(400)),
            ("empty", Vec::new()),
            ("truncated", good[..100].to_vec()),
            ("bad magic", vec![0u8; page::PAGE_SIZE]),
            ("bad version", bad_version),
        ] {
            let path = d.join("c.shm");
            std::fs::write(&path, &bytes).unwrap();
            let o = LockOptions {
                dir: Some(d.clone()),
                ..Default::default()
            };
            let e = Lock::open("c", &o).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Corrupt, "{what}: {e}");
            assert_eq!(
                std::fs::read(&path).unwrap(),
                bytes,
                "{what}: file left as it was"
            );
        }
        std::fs::remove_dir_all(&d).unwrap();
    }
}
