//! A hold as a value: [`Lock::guard`] returns a [`Guard`] that owns what it
//! holds — its reader slot (shm) or its own open file description (file) —
//! and releases it when released or dropped. One `Lock` gives any number of
//! guards at once, to any threads: each contends as a separate handle would
//! (guards of one process exclude each other exactly as processes do), and
//! shared guards of one process hold at once.
//!
//! Fork: a guard belongs to the process that acquired it. In a forked child
//! it holds nothing — the child's copy of a file guard's description is
//! closed at the fork (so a child that never touches the lock cannot keep
//! the parent's flock alive), an shm guard's page records name the parent —
//! and its release or drop there changes nothing. Exec: a file guard's
//! description is close-on-exec, so the hold ends at exec, as a handle's
//! does.

use super::file::Desc;
use super::proc::current_pid;
use super::wait::{Budget, Deadline};
use super::{Hold, Inner, Lock, Mode};
use crate::error::{Error, Result};
use std::sync::Arc;
use std::time::Duration;

/// An acquisition of a [`Lock`], released by [`Guard::release`] or when
/// dropped. Not reentrant: a thread that acquires again while its guard
/// holds exclusively waits for itself (give it a timeout, or keep track, as
/// the Python layer does).
#[must_use = "dropping the guard releases the lock at once"]
pub struct Guard {
    lock: Arc<Lock>,
    hold: Hold,
    slot: Option<usize>,
    /// File backend: the description the flock belongs to.
    desc: Option<Desc>,
    /// The process that holds.
    pid: u32,
    done: bool,
}

impl Lock {
    /// Acquires the lock in `mode` as a [`Guard`] that owns the hold.
    /// `timeout` as for [`Lock::acquire`]. Guards are independent of the
    /// handle's own hold (`acquire`/`release`) and of each other: they
    /// contend as separate handles do. Errors as [`Lock::acquire`], except
    /// that no `Deadlock` is detected (see [`Guard`]); `Io` also when the
    /// file backend cannot open a description of the lock file.
    pub fn guard(self: &Arc<Self>, mode: Mode, timeout: Option<Duration>) -> Result<Guard> {
        self.guard_in(mode, &mut Budget::new(Deadline::after(timeout)))
    }

    /// [`Lock::guard`] with an interruption hook, as
    /// [`Lock::acquire_interruptible`] has: `hook` runs at least every
    /// `every` while the acquisition waits, which keeps its place; its error
    /// withdraws the acquisition and is returned.
    pub fn guard_interruptible(
        self: &Arc<Self>,
        mode: Mode,
        timeout: Option<Duration>,
        every: Duration,
        hook: &mut dyn FnMut() -> Result<()>,
    ) -> Result<Guard> {
        self.guard_in(mode, &mut self.hooked(timeout, every, hook)?)
    }

    fn guard_in(self: &Arc<Self>, mode: Mode, b: &mut Budget<'_>) -> Result<Guard> {
        self.follow_fork()?;
        let (a, desc) = match &self.inner {
            Inner::Shm(s) => (s.acquire(mode, b, &self.name)?, None),
            Inner::File(f) => {
                let d = f.checkout()?;
                match f.acquire_on(&d, mode, b, &self.name) {
                    Ok(a) => (a, Some(d)),
                    Err(e) => {
                        f.checkin(d);
                        return Err(e);
                    }
                }
            }
        };
        Ok(Guard {
            lock: self.clone(),
            hold: Hold {
                token: a.token,
                previous_owner_died: a.previous_owner_died,
                mode,
            },
            slot: a.slot,
            desc,
            pid: current_pid(),
            done: false,
        })
    }
}

impl Guard {
    /// What the acquisition gave: token, previous owner's death, mode.
    pub fn hold(&self) -> Hold {
        self.hold
    }

    /// The fencing token (see [`Hold::token`]).
    pub fn token(&self) -> u64 {
        self.hold.token
    }

    /// The mode held.
    pub fn mode(&self) -> Mode {
        self.hold.mode
    }

    /// The lock this guard holds.
    pub fn lock(&self) -> &Arc<Lock> {
        &self.lock
    }

    /// Whether this process holds through the guard (false in a forked
    /// child, and after a failed release).
    pub fn is_held(&self) -> bool {
        !self.done && self.pid == current_pid()
    }

    /// Releases the hold. Errors: `InvalidArgument` in a forked child (it
    /// does not hold the parent's lock; nothing changes), `Corrupt` (the
    /// lock file was truncated or rewritten while held; the hold is gone),
    /// `Io`.
    pub fn release(mut self) -> Result<()> {
        self.finish()
    }

    fn finish(&mut self) -> Result<()> {
        if self.done {
            return Ok(());
        }
        self.done = true;
        let l = &self.lock;
        if self.pid != current_pid() {
            if let (Inner::File(f), Some(d)) = (&l.inner, self.desc.take()) {
                f.checkin(d); // closed at the fork; reopened when next used
            }
            return Err(Error::invalid(format!(
                "lock {:?}: this guard was inherited across fork; the child does not hold \
                 the parent's lock and cannot release it",
                l.name
            )));
        }
        match (&l.inner, self.desc.take()) {
            (Inner::Shm(s), _) => s.release(self.hold.mode, self.slot, &l.name),
            (Inner::File(f), Some(d)) => {
                let r = f.release_on(&d, self.hold.mode, self.slot);
                match r {
                    Ok(()) => f.checkin(d),
                    Err(_) => f.discard(d), // it may still hold: close it
                }
                r
            }
            (Inner::File(_), None) => Ok(()), // unreachable: a file guard has one
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.finish();
    }
}

impl std::fmt::Debug for Guard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guard")
            .field("lock", &self.lock.name)
            .field("hold", &self.hold)
            .field("held", &self.is_held())
            .finish()
    }
}
