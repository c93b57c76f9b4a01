//! `file`: the lock is an flock(2) on the lock file, so the kernel frees it
//! when the holder dies; the state (token, holder records) lives in the
//! file's page, mapped. Works wherever flock and shared mappings do — any
//! local filesystem, and containers that mount the same directory.
//!
//! A waiter with no timeout (and no interruption hook) blocks in flock itself
//! (the kernel hands it the lock at the release or the holder's death). A
//! waiter with a timeout or a hook sleeps
//! on the page's futex, woken by every release, and retries; it notices a
//! holder's death within [`LIVENESS_SLICE`].

use super::page::{Mapped, Page, HELD};
use super::proc::{current_pid, current_start, liveness, Liveness};
use super::shm::{free_slot, holder, set_record};
use super::wait::{wake, Budget, Deadline, Waiting, LIVENESS_SLICE};
use super::{Acquired, LockStatus, Mode};
use crate::error::{Error, Result};
use std::cell::UnsafeCell;
use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release, SeqCst};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicPtr};
use std::sync::{Arc, Mutex, Once};

/// `readers_mask` in a file lock's page: a reader claimed a slot since the
/// last exclusive acquirer looked at the slots.
const READERS_USED: u64 = 1;

/// An open file description of the lock file of our own (flock belongs to
/// it): its descriptor, -1 once closed in a forked child. Registered in
/// [`Registry`] for as long as it exists.
pub type Desc = Arc<AtomicI32>;

pub struct FileLock {
    /// Our own open file description (flock belongs to it), never mapped;
    /// -1 in a forked child until it first acquires (see [`Registry`]).
    fd: Desc,
    /// Descriptions for guards ([`super::Guard`]: each holds through one
    /// of its own), idle. Locked only inside [`Registry::with`], so no
    /// thread is inside it at a fork (the prepare handler holds the
    /// registry): a forked child finds it unlocked.
    spare: Mutex<Vec<Desc>>,
    /// One idle description before the pool (`Arc::into_raw` of a `Desc`,
    /// or null), taken and given back with one atomic swap: the usual case,
    /// one guard at a time, never locks. A forked child finds it as the
    /// parent left it (closed by the atfork handler, like every `Desc`).
    idle: AtomicPtr<AtomicI32>,
    /// The description the page was mapped from; never locked. (A mapping
    /// keeps its description alive, and a forked child inherits the
    /// mapping: a flock on that description would outlive its holder.)
    base: File,
    path: PathBuf,
    map: Mapped,
}

/// Every open file lock's descriptor, so that a forked child can close its
/// copies: a child that shares the parent's open file description would keep
/// the parent's flock alive after the parent's death. A spin lock (held for
/// a push or a removal only), taken by the `pthread_atfork` prepare handler
/// and released on both sides, so the child finds the list consistent and
/// unlocked, and no mutex's waiter queue is inherited.
struct Registry {
    busy: AtomicBool,
    fds: UnsafeCell<Vec<Desc>>,
}

// SAFETY: `fds` is only touched while `busy` is held (see `with`).
unsafe impl Sync for Registry {}

static REGISTRY: Registry = Registry {
    busy: AtomicBool::new(false),
    fds: UnsafeCell::new(Vec::new()),
};
static ATFORK: Once = Once::new();

impl Registry {
    fn lock(&self) {
        while self
            .busy
            .compare_exchange_weak(false, true, Acquire, Relaxed)
            .is_err()
        {
            std::thread::yield_now();
        }
    }

    fn unlock(&self) {
        self.busy.store(false, Release);
    }

    fn with<R>(&self, f: impl FnOnce(&mut Vec<Desc>) -> R) -> R {
        self.lock();
        // SAFETY: `busy` is held: nobody else touches the list.
        let r = f(unsafe { &mut *self.fds.get() });
        self.unlock();
        r
    }
}

extern "C" fn before_fork() {
    REGISTRY.lock();
}

extern "C" fn after_fork_in_parent() {
    REGISTRY.unlock();
}

/// In the child: close every inherited lock descriptor (close is
/// async-signal-safe); a handle the child uses opens its own description at
/// its first acquisition ([`FileLock::after_fork`]).
extern "C" fn after_fork_in_child() {
    // SAFETY: the prepare handler holds `busy` for us; the list is as the
    // parent's last complete push or removal left it.
    for fd in unsafe { &*REGISTRY.fds.get() } {
        let old = fd.swap(-1, SeqCst);
        if old >= 0 {
            // SAFETY: the child's copy of a descriptor of ours; nothing in
            // the child uses it any more (it now reads -1).
            unsafe { libc::close(old) };
        }
    }
    REGISTRY.unlock();
}

impl FileLock {
    pub fn new(file: File, path: &Path, map: Mapped) -> Result<FileLock> {
        ATFORK.call_once(|| {
            // SAFETY: registers plain extern "C" functions without captured
            // state; they take and release the registry's spin lock and
            // close descriptors.
            unsafe {
                libc::pthread_atfork(
                    Some(before_fork),
                    Some(after_fork_in_parent),
                    Some(after_fork_in_child),
                )
            };
        });
        let own = reopen(&file).map_err(|e| Error::io(path.display(), &e))?;
        let fd = Arc::new(AtomicI32::new(own.into_raw_fd()));
        REGISTRY.with(|v| v.push(fd.clone()));
        Ok(FileLock {
            fd,
            spare: Mutex::new(Vec::new()),
            idle: AtomicPtr::new(std::ptr::null_mut()),
            base: file,
            path: path.to_owned(),
            map,
        })
    }

    fn page(&self) -> &Page {
        self.map.page()
    }

    fn flock(&self, fd: &AtomicI32, op: libc::c_int) -> std::io::Result<()> {
        loop {
            // SAFETY: flock on a descriptor we own (-1 in a forked child, then
            // EBADF); no memory is passed.
            let r = unsafe { libc::flock(fd.load(Relaxed), op) };
            if r == 0 {
                return Ok(());
            }
            let e = std::io::Error::last_os_error();
            if e.kind() != std::io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
    }

    pub fn acquire(&self, mode: Mode, b: &mut Budget<'_>, name: &str) -> Result<Acquired> {
        self.acquire_on(&self.fd, mode, b, name)
    }

    /// Acquires through the description `fd` (the handle's own, or a
    /// guard's).
    pub fn acquire_on(
        &self,
        fd: &AtomicI32,
        mode: Mode,
        b: &mut Budget<'_>,
        name: &str,
    ) -> Result<Acquired> {
        let op = match mode {
            Mode::Exclusive => libc::LOCK_EX,
            Mode::Shared => {
                self.wait_for_no_waiting_writer(b, name)?;
                libc::LOCK_SH
            }
        };
        if !self.try_flock(fd, op)? {
            if b.deadline.remaining(LIVENESS_SLICE).is_none() {
                return Err(b.expired(name));
            }
            let writer = mode == Mode::Exclusive;
            let mut announced = writer && self.announce_writer();
            // Without a deadline or a hook, block in flock itself; a hook
            // must run between sleeps, so a waiter with one polls as a timed
            // waiter does (keeping its announcement throughout).
            let got = match b.deadline {
                Deadline::Never if !b.has_hook() => self.flock(fd, op).map_err(|e| self.io(e)),
                _ => self.wait_flock(fd, op, b, name, writer, &mut announced),
            };
            if announced {
                self.withdraw_writer();
            }
            got?;
        }
        let p = self.page();
        if let Err(e) = self.map.verify(p.token.load(SeqCst)) {
            let _ = self.flock(fd, libc::LOCK_UN);
            return Err(e);
        }
        let me = current_pid();
        if mode == Mode::Exclusive && p.token.load(SeqCst) == u64::MAX {
            let _ = self.flock(fd, libc::LOCK_UN);
            wake(&p.seq, &p.seq_waiters);
            return Err(super::page::exhausted(name));
        }
        Ok(match mode {
            Mode::Exclusive => {
                // Under LOCK_EX nobody else holds the lock: a record left in
                // the page belongs to a holder that died without releasing.
                // The reader slots are looked at only if a reader claimed
                // one since the last writer looked (`readers_mask`, set under
                // LOCK_SH, so before our LOCK_EX): a run of writers skips
                // the 64 records. Stores under LOCK_EX need no fence: the
                // next holder reads them after its own flock.
                let mut died = p.writer.pid.load(SeqCst) != 0;
                if p.readers_mask.load(Relaxed) != 0 {
                    for rec in &p.readers {
                        if rec.pid.load(SeqCst) != 0 {
                            died |= rec.state.load(SeqCst) == HELD;
                            free_slot(rec);
                        }
                    }
                    p.readers_mask.store(0, Relaxed);
                }
                let token = p.token.load(SeqCst) + 1;
                p.token.store(token, Release);
                self.map.handed_out(token);
                record(&p.writer, me, token);
                Acquired {
                    token,
                    previous_owner_died: died,
                    slot: None,
                }
            }
            Mode::Shared => {
                let token = p.token.load(SeqCst);
                let slot = self.claim_slot(me, token);
                Acquired {
                    token,
                    previous_owner_died: false,
                    slot,
                }
            }
        })
    }

    fn try_flock(&self, fd: &AtomicI32, op: libc::c_int) -> Result<bool> {
        match self.flock(fd, op | libc::LOCK_NB) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(false),
            Err(e) => Err(self.io(e)),
        }
    }

    fn wait_flock(
        &self,
        fd: &AtomicI32,
        op: libc::c_int,
        b: &mut Budget<'_>,
        name: &str,
        writer: bool,
        announced: &mut bool,
    ) -> Result<()> {
        let p = self.page();
        loop {
            // a writer not yet announced takes the place of the announced
            // one when that one got through
            if writer && !*announced {
                *announced = self.announce_writer();
            }
            let w = Waiting::new(&p.seq, &p.seq_waiters);
            let seen = w.seen();
            if self.try_flock(fd, op)? {
                return Ok(());
            }
            // a timeout or a hook's error: the caller withdraws the
            // announcement
            let Some(slice) = b.remaining(LIVENESS_SLICE)? else {
                return Err(b.expired(name));
            };
            w.sleep(seen, slice);
        }
    }

    /// Writer preference: a writer that has to wait says so in the page, and
    /// new readers hold back until it is through. Returns whether we are the
    /// announced writer (one at a time; the others wait behind it).
    fn announce_writer(&self) -> bool {
        let p = self.page();
        let ok = p
            .writer_waiting
            .compare_exchange(0, current_pid(), SeqCst, SeqCst)
            .is_ok();
        if ok {
            p.writer_waiting_start.store(current_start(), SeqCst);
        }
        ok
    }

    fn withdraw_writer(&self) {
        let p = self.page();
        if p.writer_waiting.load(SeqCst) == current_pid() {
            p.writer_waiting_start.store(0, SeqCst);
            let _ = p
                .writer_waiting
                .compare_exchange(current_pid(), 0, SeqCst, SeqCst);
        }
        wake(&p.seq, &p.seq_waiters);
    }

    /// A reader waits while a (live) writer is waiting.
    fn wait_for_no_waiting_writer(&self, b: &mut Budget<'_>, name: &str) -> Result<()> {
        let p = self.page();
        let mut check = true;
        loop {
            let writer = p.writer_waiting.load(SeqCst);
            if writer == 0 {
                return Ok(());
            }
            let start = p.writer_waiting_start.load(SeqCst);
            if check && liveness(writer, start) == Liveness::Dead {
                if p.writer_waiting.load(SeqCst) == writer {
                    let _ = p
                        .writer_waiting_start
                        .compare_exchange(start, 0, SeqCst, SeqCst);
                }
                let _ = p.writer_waiting.compare_exchange(writer, 0, SeqCst, SeqCst);
                continue;
            }
            let w = Waiting::new(&p.seq, &p.seq_waiters);
            let seen = w.seen();
            if p.writer_waiting.load(SeqCst) == 0 {
                return Ok(());
            }
            let Some(slice) = b.remaining(LIVENESS_SLICE)? else {
                return Err(b.expired(name));
            };
            w.sleep(seen, slice);
            check = p.seq.load(SeqCst) == seen;
        }
    }

    /// Records a shared holder; slots of dead readers are reused. With all
    /// slots taken by live readers the hold is valid but unrecorded.
    fn claim_slot(&self, me: u32, token: u64) -> Option<usize> {
        let p = self.page();
        let take = |i: usize, pid: u32| {
            let rec = &p.readers[i];
            if rec.pid.compare_exchange(pid, me, SeqCst, SeqCst).is_ok() {
                if p.readers_mask.load(Relaxed) == 0 {
                    p.readers_mask.store(READERS_USED, Relaxed); // see acquire_on
                }
                record(rec, me, token);
                return true;
            }
            false
        };
        // a free slot, else the slot of a reader that died holding
        (0..p.readers.len())
            .find(|&i| p.readers[i].pid.load(SeqCst) == 0 && take(i, 0))
            .or_else(|| {
                (0..p.readers.len()).find(|&i| {
                    let rec = &p.readers[i];
                    let pid = rec.pid.load(SeqCst);
                    pid != me
                        && liveness(pid, rec.start.load(SeqCst)) == Liveness::Dead
                        && take(i, pid)
                })
            })
    }

    pub fn release(&self, mode: Mode, slot: Option<usize>) -> Result<()> {
        self.release_on(&self.fd, mode, slot)
    }

    /// Releases the hold of the description `fd`.
    pub fn release_on(&self, fd: &AtomicI32, mode: Mode, slot: Option<usize>) -> Result<()> {
        let p = self.page();
        if let Err(e) = self.map.check() {
            // the records are not ours to clear; the flock still is
            self.flock(fd, libc::LOCK_UN).map_err(|e| self.io(e))?;
            return Err(e);
        }
        match (mode, slot) {
            (Mode::Exclusive, _) => free_slot(&p.writer),
            (Mode::Shared, Some(i)) => free_slot(&p.readers[i]),
            (Mode::Shared, None) => {}
        }
        self.flock(fd, libc::LOCK_UN).map_err(|e| self.io(e))?;
        wake(&p.seq, &p.seq_waiters);
        Ok(())
    }

    /// A description for a guard: an idle one, or a new one (registered, so
    /// that a forked child closes its copy). An idle one closed in a forked
    /// child is opened anew.
    pub fn checkout(&self) -> Result<Desc> {
        let one = self.idle.swap(std::ptr::null_mut(), SeqCst);
        let idle = if one.is_null() {
            REGISTRY.with(|_| lock_spare(&self.spare).pop())
        } else {
            // SAFETY: `one` came from `Arc::into_raw` in `checkin`, and the
            // swap took it out of `idle`: this is its only owner.
            Some(unsafe { Arc::from_raw(one) })
        };
        if let Some(d) = idle.as_ref().filter(|d| d.load(SeqCst) >= 0) {
            return Ok(d.clone());
        }
        let f = reopen(&self.base).map_err(|e| self.io(e))?;
        let raw = f.into_raw_fd();
        match idle {
            // still registered
            Some(d) => {
                d.store(raw, SeqCst);
                Ok(d)
            }
            None => {
                let d = Arc::new(AtomicI32::new(raw));
                REGISTRY.with(|v| v.push(d.clone()));
                Ok(d)
            }
        }
    }

    /// Gives back a guard's description (holding nothing) for the next one.
    pub fn checkin(&self, d: Desc) {
        let raw = Arc::into_raw(d).cast_mut();
        if self
            .idle
            .compare_exchange(std::ptr::null_mut(), raw, SeqCst, SeqCst)
            .is_ok()
        {
            return;
        }
        // SAFETY: `raw` came from `Arc::into_raw` just above and was not
        // stored: we still own it.
        let d = unsafe { Arc::from_raw(raw) };
        REGISTRY.with(|_| lock_spare(&self.spare).push(d));
    }

    /// Closes a guard's description (after a failed release: the kernel
    /// drops whatever flock it still has).
    pub fn discard(&self, d: Desc) {
        REGISTRY.with(|v| v.retain(|fd| !Arc::ptr_eq(fd, &d)));
        // out of the registry and of the guard: nothing else uses it
        replace_fd(&d, -1);
    }

    pub fn status(&self) -> LockStatus {
        let p = self.page();
        let mut holders = Vec::new();
        if p.writer.pid.load(SeqCst) != 0 && p.writer.state.load(SeqCst) == HELD {
            holders.push(holder(&p.writer, Mode::Exclusive));
        }
        for rec in &p.readers {
            if rec.pid.load(SeqCst) != 0 && rec.state.load(SeqCst) == HELD {
                holders.push(holder(rec, Mode::Shared));
            }
        }
        LockStatus {
            token: p.token.load(SeqCst),
            holders,
        }
    }

    /// In a forked child: open our own file description, so that nothing the
    /// child does touches the parent's flock.
    pub fn after_fork(&self) -> Result<()> {
        let f = reopen(&self.base).map_err(|e| self.io(e))?;
        // Closing the old one drops only this process's reference to the
        // inherited description, not the parent's lock. (The atfork child
        // handler normally closed it.) No acquisition through the handle is
        // under way in this fresh child.
        replace_fd(&self.fd, f.into_raw_fd());
        Ok(())
    }

    fn io(&self, e: std::io::Error) -> Error {
        Error::io(self.path.display(), &e)
    }
}

use std::os::unix::fs::OpenOptionsExt;

impl Drop for FileLock {
    fn drop(&mut self) {
        let mut spare = std::mem::take(self.spare.get_mut().unwrap_or_else(|e| e.into_inner()));
        let one = std::mem::replace(self.idle.get_mut(), std::ptr::null_mut());
        if !one.is_null() {
            // SAFETY: from `Arc::into_raw` in `checkin`; `&mut self`: nobody
            // else can take it.
            spare.push(unsafe { Arc::from_raw(one) });
        }
        REGISTRY.with(|v| {
            v.retain(|fd| !Arc::ptr_eq(fd, &self.fd) && !spare.iter().any(|s| Arc::ptr_eq(fd, s)))
        });
        // out of the registry, and nothing uses them after drop (no guard
        // is left: each keeps the lock alive)
        for d in spare.iter().chain([&self.fd]) {
            replace_fd(d, -1);
        }
    }
}

/// Puts `new` into `d` (-1: closed) and closes the descriptor `d` held, if
/// any. The caller makes sure that nothing uses the old descriptor any more
/// (no flock on it under way, no guard or handle left that holds it).
fn replace_fd(d: &AtomicI32, new: i32) {
    let old = d.swap(new, SeqCst);
    if old >= 0 {
        // SAFETY: every value a `Desc` holds came from `into_raw_fd` of a
        // file of ours, and the swap gave `old` to this call alone; the
        // caller guarantees nothing uses it any more.
        drop(unsafe { File::from_raw_fd(old) });
    }
}

/// The idle descriptions (see [`FileLock::spare`]); nothing panics inside.
fn lock_spare(m: &Mutex<Vec<Desc>>) -> std::sync::MutexGuard<'_, Vec<Desc>> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl AsRawFd for FileLock {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.fd.load(Relaxed)
    }
}

/// A new open file description of the file `f` is open on (the same inode,
/// whatever its path names now), through /proc/self/fd.
fn reopen(f: &File) -> std::io::Result<File> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_CLOEXEC)
        .open(format!("/proc/self/fd/{}", f.as_raw_fd()))
}

fn record(rec: &super::page::Record, pid: u32, token: u64) {
    set_record(rec, pid, HELD);
    rec.token.store(token, Release);
}
