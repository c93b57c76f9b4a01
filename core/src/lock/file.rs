//! `file`: the lock is an flock(2) on the lock file, so the kernel frees it
//! when the holder dies; the state (token, holder records) lives in the
//! file's page, mapped. Works wherever flock and shared mappings do — any
//! local filesystem, and containers that mount the same directory.
//!
//! A waiter with no timeout blocks in flock itself (the kernel hands it the
//! lock at the release or the holder's death). A waiter with a timeout sleeps
//! on the page's futex, woken by every release, and retries; it notices a
//! holder's death within [`LIVENESS_SLICE`].

use super::page::{Mapped, Page, HELD};
use super::proc::{current_pid, liveness, Liveness};
use super::shm::{free_slot, holder, set_record};
use super::wait::{wake, Deadline, Waiting, LIVENESS_SLICE};
use super::{Acquired, LockStatus, Mode};
use crate::error::{Error, Result};
use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicI32;
use std::sync::atomic::Ordering::{Relaxed, SeqCst};

pub struct FileLock {
    /// Our own open file description (flock belongs to it). Replaced in a
    /// forked child, which must not share the parent's.
    fd: AtomicI32,
    path: PathBuf,
    map: Mapped,
}

impl FileLock {
    pub fn new(file: File, path: &Path, map: Mapped) -> FileLock {
        FileLock {
            fd: AtomicI32::new(file.into_raw_fd()),
            path: path.to_owned(),
            map,
        }
    }

    fn page(&self) -> &Page {
        self.map.page()
    }

    fn flock(&self, op: libc::c_int) -> std::io::Result<()> {
        loop {
            // SAFETY: flock on a descriptor we own; no memory is passed.
            let r = unsafe { libc::flock(self.fd.load(Relaxed), op) };
            if r == 0 {
                return Ok(());
            }
            let e = std::io::Error::last_os_error();
            if e.kind() != std::io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
    }

    pub fn acquire(&self, mode: Mode, deadline: Deadline, name: &str) -> Result<Acquired> {
        let op = match mode {
            Mode::Exclusive => libc::LOCK_EX,
            Mode::Shared => {
                self.wait_for_no_waiting_writer(deadline, name)?;
                libc::LOCK_SH
            }
        };
        if !self.try_flock(op)? {
            if deadline.remaining(LIVENESS_SLICE).is_none() {
                return Err(deadline.expired(name));
            }
            let writer = mode == Mode::Exclusive;
            let mut announced = writer && self.announce_writer();
            let got = match deadline {
                Deadline::Never => self.flock(op).map_err(|e| self.io(e)),
                _ => self.wait_flock(op, deadline, name, writer, &mut announced),
            };
            if announced {
                self.withdraw_writer();
            }
            got?;
        }
        let p = self.page();
        if let Err(e) = self.map.verify(p.token.load(SeqCst)) {
            let _ = self.flock(libc::LOCK_UN);
            return Err(e);
        }
        let me = current_pid();
        Ok(match mode {
            Mode::Exclusive => {
                // Under LOCK_EX nobody else holds the lock: a record left in
                // the page belongs to a holder that died without releasing.
                let mut died = p.writer.pid.load(SeqCst) != 0;
                for rec in &p.readers {
                    if rec.pid.load(SeqCst) != 0 {
                        died |= rec.state.load(SeqCst) == HELD;
                        free_slot(rec);
                    }
                }
                let token = p.token.load(SeqCst) + 1;
                p.token.store(token, SeqCst);
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

    fn try_flock(&self, op: libc::c_int) -> Result<bool> {
        match self.flock(op | libc::LOCK_NB) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(false),
            Err(e) => Err(self.io(e)),
        }
    }

    fn wait_flock(
        &self,
        op: libc::c_int,
        deadline: Deadline,
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
            if self.try_flock(op)? {
                return Ok(());
            }
            let Some(slice) = deadline.remaining(LIVENESS_SLICE) else {
                return Err(deadline.expired(name));
            };
            w.sleep(seen, slice);
        }
    }

    /// Writer preference: a writer that has to wait says so in the page, and
    /// new readers hold back until it is through. Returns whether we are the
    /// announced writer (one at a time; the others wait behind it).
    fn announce_writer(&self) -> bool {
        let p = self.page();
        p.writer_waiting
            .compare_exchange(0, current_pid(), SeqCst, SeqCst)
            .is_ok()
    }

    fn withdraw_writer(&self) {
        let p = self.page();
        let _ = p
            .writer_waiting
            .compare_exchange(current_pid(), 0, SeqCst, SeqCst);
        wake(&p.seq, &p.seq_waiters);
    }

    /// A reader waits while a (live) writer is waiting.
    fn wait_for_no_waiting_writer(&self, deadline: Deadline, name: &str) -> Result<()> {
        let p = self.page();
        let mut check = true;
        loop {
            let writer = p.writer_waiting.load(SeqCst);
            if writer == 0 {
                return Ok(());
            }
            if check && liveness(writer, 0) == Liveness::Dead {
                let _ = p.writer_waiting.compare_exchange(writer, 0, SeqCst, SeqCst);
                continue;
            }
            let w = Waiting::new(&p.seq, &p.seq_waiters);
            let seen = w.seen();
            if p.writer_waiting.load(SeqCst) == 0 {
                return Ok(());
            }
            let Some(slice) = deadline.remaining(LIVENESS_SLICE) else {
                return Err(deadline.expired(name));
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
        let p = self.page();
        if let Err(e) = self.map.check() {
            // the records are not ours to clear; the flock still is
            self.flock(libc::LOCK_UN).map_err(|e| self.io(e))?;
            return Err(e);
        }
        match (mode, slot) {
            (Mode::Exclusive, _) => free_slot(&p.writer),
            (Mode::Shared, Some(i)) => free_slot(&p.readers[i]),
            (Mode::Shared, None) => {}
        }
        self.flock(libc::LOCK_UN).map_err(|e| self.io(e))?;
        wake(&p.seq, &p.seq_waiters);
        Ok(())
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
        let f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&self.path)
            .map_err(|e| self.io(e))?;
        let old = self.fd.swap(f.into_raw_fd(), SeqCst);
        // SAFETY: `old` was our descriptor (from into_raw_fd) and is no longer
        // reachable through `self.fd`; closing it drops only this process's
        // reference to the inherited description, not the parent's lock.
        drop(unsafe { File::from_raw_fd(old) });
        Ok(())
    }

    fn io(&self, e: std::io::Error) -> Error {
        Error::io(self.path.display(), &e)
    }
}

use std::os::unix::fs::OpenOptionsExt;

impl Drop for FileLock {
    fn drop(&mut self) {
        // SAFETY: the descriptor is ours and nothing uses it after drop.
        drop(unsafe { File::from_raw_fd(self.fd.load(SeqCst)) });
    }
}

impl AsRawFd for FileLock {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.fd.load(Relaxed)
    }
}

fn record(rec: &super::page::Record, pid: u32, token: u64) {
    set_record(rec, pid, HELD);
    rec.token.store(token, SeqCst);
}
