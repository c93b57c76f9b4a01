//! `shm`: the lock lives in a mapped page (on tmpfs by default) and is taken
//! with atomics; no syscall when uncontended.
//!
//! - Exclusive: compare-and-swap the page's `word` from 0 to our pid, then wait
//!   for shared holders to drain (their bits in `readers_mask`). While `word`
//!   is set, new readers back off: a stream of readers cannot starve a writer.
//! - Shared: claim a reader slot (pid, start time), set its bit, then check
//!   that no writer owns `word` (both sides use sequentially consistent
//!   operations, so a reader and a writer cannot both see the other absent);
//!   otherwise clear the bit and wait.
//! - Waiting: on a futex word (`seq` for the word, `drain` for readers), woken
//!   by the release; every [`LIVENESS_SLICE`] without a release the waiter
//!   checks that the holder's process still exists (pid and start time, not a
//!   zombie) and takes over from a dead one.

use super::clock::now_ms;
use super::page::{Mapped, Page, Record, CLAIMED, FREE, HELD, READER_SLOTS};
use super::proc::{current_pid, current_start, liveness, Liveness};
use super::wait::{wake, Budget, Waiting, LIVENESS_SLICE};
use super::{Acquired, Holder, LockStatus, Mode};
use crate::error::{Error, ErrorKind, Result};
use std::sync::atomic::Ordering::{Relaxed, Release, SeqCst};
use std::time::Duration;

/// A pid that no process has: marks a reader slot being reaped.
const REAPING: u32 = u32::MAX;

pub struct Shm {
    map: Mapped,
}

impl Shm {
    pub fn new(map: Mapped) -> Shm {
        Shm { map }
    }

    fn page(&self) -> &Page {
        self.map.page()
    }

    #[inline(always)]
    pub fn acquire(&self, mode: Mode, b: &mut Budget<'_>, name: &str) -> Result<Acquired> {
        match mode {
            Mode::Exclusive => self.exclusive(b, name),
            Mode::Shared => self.shared(b, name),
        }
    }

    #[inline(always)]
    fn exclusive(&self, b: &mut Budget<'_>, name: &str) -> Result<Acquired> {
        let p = self.page();
        let me = current_pid();
        if p.word.compare_exchange(0, me, SeqCst, SeqCst).is_err() {
            self.take_word(me, b, name)?;
        }
        self.finish_exclusive(me, b, name)
    }

    /// The contended part of taking the word: wait for it, or take it from a
    /// dead writer.
    #[cold]
    #[inline(never)]
    fn take_word(&self, me: u32, b: &mut Budget<'_>, name: &str) -> Result<()> {
        self.map.check()?;
        let p = self.page();
        // Reading /proc costs microseconds: look at the holder's liveness only
        // after a slice passed without a release (or for a single try).
        let mut check = b.is_try();
        // 1. own the word
        while let Err(holder) = p.word.compare_exchange(0, me, SeqCst, SeqCst) {
            if check && holder != me && self.take_from_dead_writer(holder, me) {
                break;
            }
            let w = Waiting::new(&p.seq, &p.seq_waiters);
            let seen = w.seen();
            if p.word.load(SeqCst) == 0 {
                continue;
            }
            // (a hook's error: nothing of ours to withdraw yet)
            let Some(slice) = b.remaining(LIVENESS_SLICE)? else {
                if !check {
                    check = true; // one look at the holder before giving up
                    continue;
                }
                return Err(b.expired(name));
            };
            w.sleep(seen, slice);
            check = p.seq.load(SeqCst) == seen;
        }
        Ok(())
    }

    /// With the word ours: wait for shared holders to leave, then record the
    /// hold and hand out the next token.
    #[inline(always)]
    fn finish_exclusive(&self, me: u32, b: &mut Budget<'_>, name: &str) -> Result<Acquired> {
        let p = self.page();
        if p.readers_mask.load(SeqCst) != 0 {
            set_record(&p.writer, me, CLAIMED);
            // a timeout or a hook's error: give the word back
            if let Err(e) = self.drain_readers(b, name) {
                free_slot(&p.writer);
                p.word.store(0, SeqCst);
                wake(&p.seq, &p.seq_waiters);
                return Err(e);
            }
        }
        if let Err(e) = self.map.verify(p.token.load(Relaxed)) {
            self.abandon_word(me);
            return Err(e);
        }
        let Some(token) = p.token.load(Relaxed).checked_add(1) else {
            self.abandon_word(me);
            return Err(super::page::exhausted(name));
        };
        p.token.store(token, Relaxed);
        self.map.handed_out(token);
        set_record(&p.writer, me, HELD);
        p.writer.token.store(token, Relaxed);
        let died = p.died.load(Relaxed) != 0;
        if died {
            p.died.store(0, Relaxed);
        }
        Ok(Acquired {
            token,
            previous_owner_died: died,
            slot: None,
        })
    }

    /// Gives up a word we own without having held the lock.
    #[cold]
    fn abandon_word(&self, me: u32) {
        let p = self.page();
        free_slot(&p.writer);
        let _ = p.word.compare_exchange(me, 0, SeqCst, SeqCst);
        wake(&p.seq, &p.seq_waiters);
    }

    /// If the pid in `word` is dead, takes the word over from it.
    fn take_from_dead_writer(&self, holder: u32, me: u32) -> bool {
        let p = self.page();
        let Some((recorded, held)) = writer_is_dead(p, holder) else {
            return false;
        };
        if p.word.compare_exchange(holder, me, SeqCst, SeqCst).is_err() {
            return false;
        }
        if recorded && held {
            p.died.store(1, SeqCst);
        }
        true
    }

    fn drain_readers(&self, b: &mut Budget<'_>, name: &str) -> Result<()> {
        let p = self.page();
        // Reading /proc costs microseconds: look at the holder's liveness only
        // after a slice passed without a release (or for a single try).
        let mut check = b.is_try();
        loop {
            if p.readers_mask.load(SeqCst) == 0 {
                return Ok(());
            }
            if check && self.reap_dead_readers() {
                continue;
            }
            let w = Waiting::new(&p.drain, &p.drain_waiters);
            let seen = w.seen();
            if p.readers_mask.load(SeqCst) == 0 {
                return Ok(());
            }
            let Some(slice) = b.remaining(LIVENESS_SLICE)? else {
                if !check {
                    check = true;
                    continue;
                }
                return Err(b.expired(name));
            };
            w.sleep(seen, slice);
            check = p.drain.load(SeqCst) == seen;
        }
    }

    /// Frees the slots of dead readers; true if any was freed.
    fn reap_dead_readers(&self) -> bool {
        let p = self.page();
        let mut any = false;
        for (i, rec) in p.readers.iter().enumerate() {
            let pid = rec.pid.load(SeqCst);
            if pid == 0 || pid == REAPING {
                continue;
            }
            if liveness(pid, rec.start.load(SeqCst)) != Liveness::Dead {
                continue;
            }
            // Only one reaper wins the slot; nobody can claim it meanwhile.
            if rec
                .pid
                .compare_exchange(pid, REAPING, SeqCst, SeqCst)
                .is_err()
            {
                continue;
            }
            if p.readers_mask.fetch_and(!(1u64 << i), SeqCst) & (1u64 << i) != 0
                && rec.state.load(SeqCst) == HELD
            {
                p.died.store(1, SeqCst);
            }
            free_slot(rec);
            any = true;
        }
        any
    }

    fn shared(&self, b: &mut Budget<'_>, name: &str) -> Result<Acquired> {
        let p = self.page();
        let me = current_pid();
        let slot = self.claim_slot(me, b, name)?;
        let rec = &p.readers[slot];
        let bit = 1u64 << slot;
        // Reading /proc costs microseconds: look at the holder's liveness only
        // after a slice passed without a release (or for a single try).
        let mut check = b.is_try();
        loop {
            p.readers_mask.fetch_or(bit, SeqCst);
            let writer = p.word.load(SeqCst);
            if writer == 0 {
                let token = p.token.load(Relaxed);
                if let Err(e) = self.map.verify(token) {
                    p.readers_mask.fetch_and(!bit, SeqCst);
                    free_slot(rec);
                    return Err(e);
                }
                rec.token.store(token, Relaxed);
                rec.state.store(HELD, SeqCst);
                return Ok(Acquired {
                    token,
                    previous_owner_died: false,
                    slot: Some(slot),
                });
            }
            // A writer owns the word (or waits for readers): step back.
            p.readers_mask.fetch_and(!bit, SeqCst);
            wake(&p.drain, &p.drain_waiters);
            if check && self.clear_dead_writer(writer) {
                continue;
            }
            let w = Waiting::new(&p.seq, &p.seq_waiters);
            let seen = w.seen();
            if p.word.load(SeqCst) == 0 {
                continue;
            }
            let left = match b.remaining(LIVENESS_SLICE) {
                Ok(Some(left)) => left,
                Ok(None) if !check => {
                    check = true;
                    continue;
                }
                Ok(None) => {
                    free_slot(rec);
                    return Err(b.expired(name));
                }
                Err(e) => {
                    free_slot(rec);
                    return Err(e);
                }
            };
            w.sleep(seen, left);
            check = p.seq.load(SeqCst) == seen;
        }
    }

    /// A reader that finds a dead writer in `word` clears it.
    fn clear_dead_writer(&self, holder: u32) -> bool {
        let p = self.page();
        let Some((recorded, held)) = writer_is_dead(p, holder) else {
            return false;
        };
        if p.word.compare_exchange(holder, 0, SeqCst, SeqCst).is_ok() {
            if recorded && held {
                p.died.store(1, SeqCst);
            }
            if recorded {
                free_slot(&p.writer);
            }
            wake(&p.seq, &p.seq_waiters);
        }
        true
    }

    fn claim_slot(&self, me: u32, b: &mut Budget<'_>, name: &str) -> Result<usize> {
        let p = self.page();
        loop {
            for (i, rec) in p.readers.iter().enumerate() {
                if rec.pid.load(Relaxed) == 0
                    && rec.pid.compare_exchange(0, me, SeqCst, SeqCst).is_ok()
                {
                    set_record(rec, me, CLAIMED);
                    return Ok(i);
                }
            }
            if self.reap_dead_readers() {
                continue;
            }
            // All READER_SLOTS slots are held by live readers: wait a little.
            let Some(left) = b.remaining(Duration::from_millis(2))? else {
                return Err(b.expired(name));
            };
            std::thread::sleep(left);
        }
    }

    #[inline(always)]
    pub fn release(&self, mode: Mode, slot: Option<usize>, name: &str) -> Result<()> {
        let p = self.page();
        let me = current_pid();
        match (mode, slot) {
            (Mode::Exclusive, _) => {
                free_slot(&p.writer);
                if p.word.compare_exchange(me, 0, SeqCst, SeqCst).is_err() {
                    return Err(self.taken_over(name));
                }
                wake(&p.seq, &p.seq_waiters);
            }
            (Mode::Shared, Some(slot)) => {
                let rec = &p.readers[slot];
                if rec.pid.load(SeqCst) != me {
                    return Err(self.taken_over(name));
                }
                p.readers_mask.fetch_and(!(1u64 << slot), SeqCst);
                wake(&p.drain, &p.drain_waiters);
                free_slot(rec);
            }
            (Mode::Shared, None) => {
                return Err(Error::new(
                    ErrorKind::Internal,
                    "shared hold without a slot",
                ))
            }
        }
        Ok(())
    }

    /// A release found our hold gone: the page was tampered with, or we
    /// were thought dead.
    #[cold]
    fn taken_over(&self, name: &str) -> Error {
        self.map.check().err().unwrap_or_else(|| taken_over(name))
    }

    pub fn status(&self) -> LockStatus {
        let p = self.page();
        let mut holders = Vec::new();
        let word = p.word.load(SeqCst);
        if word != 0 && p.writer.pid.load(SeqCst) == word && p.writer.state.load(SeqCst) == HELD {
            holders.push(holder(&p.writer, Mode::Exclusive));
        }
        let mask = p.readers_mask.load(SeqCst);
        for (i, rec) in p.readers.iter().enumerate() {
            if mask & (1u64 << i) != 0 && rec.state.load(SeqCst) == HELD {
                holders.push(holder(rec, Mode::Shared));
            }
        }
        LockStatus {
            token: p.token.load(SeqCst),
            holders,
        }
    }
}

const _: () = assert!(READER_SLOTS == 64, "readers_mask is one u64");

/// Fills a record (a reader slot's pid was claimed by a compare-and-swap
/// already). A reader of the record never pairs our pid with another
/// process's start time: see the order below.
#[inline(always)]
pub(super) fn set_record(rec: &Record, pid: u32, state: u32) {
    // Start time before pid, release stores: a reader that sees our pid
    // (acquire) sees our start time, never the one of the record's previous
    // owner — a holder that died leaves its record as it was, and a waiter
    // that read our pid with its start time would judge us dead. A reader
    // that still sees the previous pid beside our start time judges that
    // pid, whose hold is over, dead, as it is.
    rec.start.store(current_start(), Release);
    rec.pid.store(pid, Release);
    rec.since_ms.store(now_ms(), Relaxed);
    rec.token.store(0, Relaxed);
    rec.state.store(state, Release);
}

/// Empties a record: start cleared before pid (see [`set_record`]).
#[inline(always)]
pub(super) fn free_slot(rec: &Record) {
    rec.state.store(FREE, Release);
    rec.start.store(0, Release);
    rec.pid.store(0, Release);
}

/// Whether the writer `holder` (the pid in `word`) is dead: `Some((recorded,
/// held))` if so, where `recorded` says the writer record was its and `held`
/// that it had completed its acquisition.
fn writer_is_dead(p: &Page, holder: u32) -> Option<(bool, bool)> {
    let rec = &p.writer;
    let recorded = rec.pid.load(SeqCst) == holder;
    let start = if recorded { rec.start.load(SeqCst) } else { 0 };
    let held = recorded && rec.state.load(SeqCst) == HELD;
    if recorded && rec.pid.load(SeqCst) != holder {
        return None; // the record changed under us: look again later
    }
    (liveness(holder, start) == Liveness::Dead).then_some((recorded, held))
}

pub(super) fn holder(rec: &Record, mode: Mode) -> Holder {
    let pid = rec.pid.load(SeqCst);
    Holder {
        pid,
        mode,
        since_ms: rec.since_ms.load(Relaxed),
        token: rec.token.load(Relaxed),
        liveness: liveness(pid, rec.start.load(Relaxed)),
    }
}

fn taken_over(name: &str) -> Error {
    Error::new(
        ErrorKind::Internal,
        format!("lock {name:?} was taken over while held (was this process thought dead?)"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lock::{Backend, Inner, Lock, LockOptions};
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Acquire};

    /// Taking over from a dead exclusive holder rewrites the writer record
    /// that waiters read to judge the holder: the record must never pair the
    /// new, live holder's pid with the dead one's start time (a waiter that
    /// read that would judge the live holder dead and take the lock too).
    /// This process takes the lock over from a dead holder again and again
    /// (every other time as if it were its first acquisition, which reads
    /// the start time from /proc: the wide window in which `make stress`
    /// caught it) while another thread reads the record. A look counts only if it fell
    /// inside one takeover (`era`, bumped before each dead holder is put
    /// back, and the page's token, bumped by each takeover, the same before
    /// and after), so that reads straddling two takeovers are not mistaken
    /// for a torn record.
    #[test]
    fn a_takeover_never_pairs_the_new_holders_pid_with_the_dead_ones_start() {
        let d = std::env::temp_dir().join(format!("ringlock-shm-takeover-{}", current_pid()));
        let _ = std::fs::remove_dir_all(&d);
        let lock = Lock::open(
            "t",
            &LockOptions {
                backend: Backend::Shm,
                dir: Some(d.clone()),
                file_mode: 0,
            },
        )
        .unwrap();
        let Inner::Shm(shm) = &lock.inner else {
            unreachable!()
        };
        let p = shm.page();
        let (me, my_start) = (current_pid(), current_start());
        // a dead holder: a child that is gone, started at another clock tick
        // than this process (the start times must differ)
        let (dead, dead_start) = loop {
            let mut child = std::process::Command::new("sleep")
                .arg("60")
                .spawn()
                .unwrap();
            let dead = child.id();
            let dead_start = super::super::proc::stat(dead).unwrap().start;
            child.kill().unwrap();
            child.wait().unwrap();
            if dead_start != super::super::image::unpack(my_start).0 {
                break (dead, dead_start);
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let (stop, era, looks) = (AtomicBool::new(false), AtomicU64::new(0), AtomicU64::new(0));
        let (mut torn, mut rounds) = (0u64, 0u32);
        let began = std::time::Instant::now();
        std::thread::scope(|s| {
            let reader = s.spawn(|| {
                let mut torn = 0u64;
                while !stop.load(Relaxed) {
                    let (e, t) = (era.load(SeqCst), p.token.load(SeqCst));
                    let pid = p.writer.pid.load(Acquire);
                    let start = p.writer.start.load(Acquire);
                    let same = p.token.load(SeqCst) == t && era.load(SeqCst) == e;
                    if same && pid == me {
                        looks.fetch_add(1, Relaxed);
                        torn += u64::from(start != 0 && start != my_start);
                    }
                }
                torn
            });
            // at least 1 s, and on until the reader has seen a hold of
            // ours (a busy machine may not run the two threads at once at
            // first), at most 60 s
            while began.elapsed() < Duration::from_secs(1)
                || (looks.load(Relaxed) == 0 && began.elapsed() < Duration::from_secs(60))
            {
                // what a holder killed while holding leaves behind
                era.fetch_add(1, SeqCst);
                // every other takeover as a process's first acquisition,
                // which reads its start time from /proc
                if rounds % 2 == 0 {
                    super::super::proc::forget_start();
                }
                p.writer.start.store(dead_start, SeqCst);
                p.writer.state.store(HELD, SeqCst);
                p.writer.pid.store(dead, SeqCst);
                p.word.store(dead, SeqCst);
                let h = lock.acquire(Mode::Exclusive, Some(Duration::ZERO)).unwrap();
                assert!(h.previous_owner_died);
                lock.release().unwrap();
                rounds += 1;
            }
            stop.store(true, Relaxed);
            torn = reader.join().unwrap();
        });
        drop(lock);
        let _ = std::fs::remove_dir_all(&d);
        let looks = looks.load(Relaxed);
        assert!(looks > 0, "the reader never saw a hold of ours");
        assert_eq!(
            torn, 0,
            "during {rounds} takeovers, {torn} of {looks} looks at the writer record \
             showed this process's pid with the dead holder's start time"
        );
    }
}
