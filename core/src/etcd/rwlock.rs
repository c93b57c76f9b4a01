//! The read-write lock over etcd: the [`Lock`]'s recipe with a shared mode.
//!
//! An `RWLock` and a `Lock` of the same name are one lock: the exclusive
//! mode of an `RWLock` *is* a `Lock` acquisition (the same keys, the same
//! transactions, run by the same code), so `Lock` users and `RWLock` writers
//! and readers of one name exclude each other as they should, and the tokens
//! of both count on one sequence.
//!
//! Keys of lock `<name>` (under the client's namespace `<ns>`), besides
//! lock.rs's `~owner`:
//!
//! - exclusive acquisitions: `<ns>/<name>/<lease>-<handle>-<attempt>`, the
//!   `Lock`'s keys (they begin with a hex digit), in the range
//!   `[<ns>/<name>/, <ns>/<name>/r)`;
//! - shared acquisitions: `<ns>/<name>/r/<lease>-<handle>-<attempt>`,
//!   attached to the lease like the exclusive ones, value `{"pid", "host",
//!   "since_ms", "mode": "shared"}`.
//!
//! Both lie in the queue `[<ns>/<name>/, <ns>/<name>/~)`, ordered by create
//! revision. An exclusive acquisition holds when no key of either mode was
//! created before its own, and waits on the key created just before its own.
//! A shared one holds when no *exclusive* key was created before its own,
//! and waits on the newest such key: a reader that comes after a waiting
//! writer waits for it (writer preference by queue order), and readers with
//! no writer before them hold together.
//!
//! A shared acquisition is one transaction when no exclusive key exists
//! (`if create_revision(own key) == 0 then put it and read the newest
//! exclusive key and ~owner`); otherwise its wait reads the newest
//! exclusive key before its own in a transaction guarded by
//! `create_revision(own key) == rev`, which is also its ownership
//! transaction: a waiter whose lease expired is never told it holds. It
//! does not write `~owner` (a reader is not an exclusive holder: recording
//! a clean release would hide a writer that died). Its token is the token
//! of the last exclusive hold (`~owner`, 0 when never held exclusively) and
//! its `previous_owner_died` tells whether that holder's lease expired
//! instead of it releasing, both read in that guarded transaction. Its
//! release is a delete guarded by `create_revision(own key) == rev`.

use super::codec::{self, flag, Kv};
use super::lock::{died, now_ms, owner_token, Entry, Guard, Handle, Hook, Lock, Queued, Wait};
use super::session::Lease;
use super::Client;
use crate::error::{Error, ErrorKind, Result};
use crate::lock::Mode;
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A handle on a named read-write lock in etcd.
///
/// As for [`Lock`], a handle holds or waits for at most one acquisition at a
/// time, in either mode (acquiring again through it is `Deadlock`); handles
/// in one process or many contend with each other. An `RWLock` and a
/// [`Lock`] of the same name are the same lock: a `Lock` acquisition is the
/// exclusive mode.
pub struct RWLock {
    lock: Lock,
}

/// A hold of an [`RWLock`], shared or exclusive. Released by
/// [`RWGuard::release`] or when dropped.
#[must_use = "dropping the guard releases the lock at once"]
pub struct RWGuard {
    hold: Hold,
}

enum Hold {
    Exclusive(Guard),
    Shared(Shared),
}

struct Shared {
    h: Arc<Handle>,
    key: Vec<u8>,
    /// The own key's create revision (the guard of the release).
    rev: i64,
    /// The last exclusive hold's token.
    token: u64,
    lease: i64,
    died: bool,
    lost: AtomicBool,
    done: bool,
}

/// One acquisition in an [`RWLock`]'s queue, with its mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RWEntry {
    /// The mode it holds or waits for.
    pub mode: Mode,
    /// Who, since when, its key's create revision, its lease.
    pub entry: Entry,
}

/// Who holds an [`RWLock`] and who waits, read without taking it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RWLockStatus {
    /// The token of the last confirmed exclusive hold (0: never held).
    pub token: u64,
    /// The holders: one exclusive, or one or more shared.
    pub holders: Vec<RWEntry>,
    /// The waiters, in the order they will hold.
    pub waiters: Vec<RWEntry>,
}

impl RWLock {
    /// A handle on the lock `name` (`[A-Za-z0-9._-]{1,200}`; anything else
    /// is `InvalidArgument`). Talks to etcd only when used.
    pub fn new(client: &Client, name: &str) -> Result<RWLock> {
        Ok(RWLock {
            lock: Lock::new(client, name)?,
        })
    }

    /// The lock's name.
    pub fn name(&self) -> &str {
        self.lock.name()
    }

    /// Waits for the lock in `mode` until it is held or `timeout` passes
    /// (`None`: no limit; zero: try). Errors as [`Lock::acquire`]: `Timeout`,
    /// `WouldBlock` (a try that would wait), `Deadlock` (this handle holds or
    /// is acquiring already), `Unavailable`, `Lost` (this process's lease
    /// expired while it waited), `InvalidArgument` in a forked child. A
    /// failed acquisition leaves no key behind.
    pub fn acquire(&self, mode: Mode, timeout: Option<Duration>) -> Result<RWGuard> {
        self.acquire_with(mode, Wait::from_timeout(timeout), None)
    }

    /// Acquires in `mode` as [`RWLock::acquire`] does, calling `hook` at
    /// least every `every` while it waits in etcd's queue, without giving up
    /// its place: a waiting writer's key stays, so the readers that come
    /// after it keep waiting behind it across the calls. (Not called when
    /// the lock is had at once, nor for a try.) If the hook returns an
    /// error, the acquisition withdraws exactly as on a timeout — its key
    /// deleted, nothing held — and returns that error. `InvalidArgument` if
    /// `every` is zero. See [`Lock::acquire_interruptible`].
    pub fn acquire_interruptible(
        &self,
        mode: Mode,
        timeout: Option<Duration>,
        every: Duration,
        hook: &mut dyn FnMut() -> Result<()>,
    ) -> Result<RWGuard> {
        let mut hook = Hook::new(self.name(), every, hook)?;
        self.acquire_with(mode, Wait::from_timeout(timeout), Some(&mut hook))
    }

    /// Takes the lock in `mode` only if it would not wait: exclusive, if
    /// nobody holds it or waits for it; shared, if no exclusive acquisition
    /// holds it or waits for it. `WouldBlock` otherwise.
    pub fn try_acquire(&self, mode: Mode) -> Result<RWGuard> {
        self.acquire_with(mode, Wait::Try, None)
    }

    /// [`RWLock::acquire`] in shared mode.
    pub fn read(&self, timeout: Option<Duration>) -> Result<RWGuard> {
        self.acquire(Mode::Shared, timeout)
    }

    /// [`RWLock::try_acquire`] in shared mode.
    pub fn try_read(&self) -> Result<RWGuard> {
        self.try_acquire(Mode::Shared)
    }

    /// [`RWLock::acquire`] in exclusive mode.
    pub fn write(&self, timeout: Option<Duration>) -> Result<RWGuard> {
        self.acquire(Mode::Exclusive, timeout)
    }

    /// [`RWLock::try_acquire`] in exclusive mode.
    pub fn try_write(&self) -> Result<RWGuard> {
        self.try_acquire(Mode::Exclusive)
    }

    fn acquire_with(&self, mode: Mode, wait: Wait, hook: Option<&mut Hook<'_>>) -> Result<RWGuard> {
        let hold = match mode {
            Mode::Exclusive => Hold::Exclusive(self.lock.acquire_with(wait, hook)?),
            Mode::Shared => Hold::Shared(self.lock.enter(|| self.shared(wait, hook))?),
        };
        Ok(RWGuard { hold })
    }

    fn shared(&self, wait: Wait, hook: Option<&mut Hook<'_>>) -> Result<Shared> {
        let lock = &self.lock;
        let h = &lock.h;
        let s = lock.session();
        let lease = s.lease(s.call_deadline(wait.until()))?;
        let attempt = h.attempts.fetch_add(1, Relaxed);
        let key = h.shared_key(lease.id, attempt);
        let value = json!({
            "pid": std::process::id(),
            "host": h.client.host,
            "since_ms": now_ms(),
            "mode": "shared",
        });
        // Put the own key (unless a first try of this very request did) and
        // read, as of that put, the newest exclusive key (every one is older
        // than the own key) and the persistent keys.
        let mut last_exclusive = codec::range(&h.prefix, &h.exclusive_end());
        last_exclusive["sort_order"] = json!("DESCEND");
        last_exclusive["sort_target"] = json!("CREATE");
        last_exclusive["limit"] = json!("1");
        let txn = codec::txn(
            vec![codec::created_at(&key, 0)],
            vec![
                codec::put(&key, value.to_string().as_bytes(), lease.id),
                codec::op_range(last_exclusive),
                codec::op_range(codec::range(&h.meta("owner"), b"")),
            ],
            vec![codec::op_range(codec::range(&key, b""))],
        );
        let answer = match lock.txn(&txn, s.call_deadline(wait.until())) {
            Ok(a) => a,
            Err(e) => {
                s.orphan(key, None);
                return Err(e);
            }
        };
        let (rev, result) = if flag(&answer, "succeeded") {
            let rev = codec::revision(&answer)?;
            let result = if codec::txn_range(&answer, 1)?.is_empty() {
                let owner = codec::txn_range(&answer, 2)?;
                self.shared_hold(&key, rev, lease, &owner)
            } else {
                self.wait_shared(&key, rev, lease, wait, hook)
            };
            (rev, result)
        } else {
            let Some(rev) = codec::txn_range(&answer, 0)?
                .first()
                .map(|kv| kv.create_revision)
            else {
                return Err(Error::corrupt(
                    "etcd said the new key exists and returned no key",
                ));
            };
            (rev, self.wait_shared(&key, rev, lease, wait, hook))
        };
        result.inspect_err(|_| h.delete_own(key, rev))
    }

    /// Waits until no exclusive key older than the own key is left.
    fn wait_shared(
        &self,
        key: &[u8],
        rev: i64,
        lease: Lease,
        wait: Wait,
        mut hook: Option<&mut Hook<'_>>,
    ) -> Result<Shared> {
        let lock = &self.lock;
        let h = &lock.h;
        let s = lock.session();
        let mut watched = false;
        loop {
            if !s.alive(lease.id) {
                return Err(h.lost_waiting(lease.id));
            }
            if let Wait::Until(t) = wait {
                if watched && Instant::now() >= t {
                    return Err(h.timed_out());
                }
            }
            let txn = codec::txn(
                vec![codec::created_at(key, rev)],
                vec![
                    codec::op_range(codec::last_created_before(
                        &h.prefix,
                        &h.exclusive_end(),
                        rev,
                    )),
                    codec::op_range(codec::range(&h.meta("owner"), b"")),
                ],
                Vec::new(),
            );
            let answer = lock.txn(&txn, s.call_deadline(wait.until()))?;
            if !flag(&answer, "succeeded") {
                return Err(h.lost_waiting(lease.id));
            }
            let before = codec::txn_range(&answer, 0)?;
            let Some(writer) = before.first() else {
                let owner = codec::txn_range(&answer, 1)?;
                return self.shared_hold(key, rev, lease, &owner);
            };
            let watch_until = match wait {
                Wait::Try => {
                    return Err(Error::new(
                        ErrorKind::WouldBlock,
                        format!("lock {:?} is held or awaited exclusively", h.name),
                    ))
                }
                Wait::Until(t) if Instant::now() >= t => return Err(h.timed_out()),
                Wait::Until(t) => t.min(Instant::now() + lease.ttl),
                Wait::Forever => Instant::now() + lease.ttl,
            };
            let from = codec::revision(&answer)? + 1;
            lock.wait_for_delete(&writer.key, key, from, watch_until, hook.as_deref_mut())?;
            watched = true;
        }
    }

    /// The shared hold confirmed by a guarded transaction that saw no older
    /// exclusive key, and `~owner` as it was then.
    fn shared_hold(&self, key: &[u8], rev: i64, lease: Lease, owner: &[Kv]) -> Result<Shared> {
        let h = &self.lock.h;
        if !h.client.session.alive(lease.id) {
            return Err(h.lost_waiting(lease.id));
        }
        Ok(Shared {
            h: Arc::clone(h),
            key: key.to_vec(),
            rev,
            token: owner.first().and_then(owner_token).unwrap_or(0),
            lease: lease.id,
            died: died(owner),
            lost: AtomicBool::new(false),
            done: false,
        })
    }

    /// The holders (one exclusive, or the shared ones with no exclusive key
    /// before them) and the waiters, in order, with their modes and leases'
    /// time left.
    pub fn status(&self) -> Result<RWLockStatus> {
        let (token, entries) = self.lock.queue()?;
        let (holders, waiters) = split(entries, &self.lock.h.shared_prefix());
        Ok(RWLockStatus {
            token,
            holders,
            waiters,
        })
    }
}

/// The queue (keys in creation order) as holders and waiters: the oldest
/// key holds; a shared key holds with it while no exclusive key is older.
fn split(entries: Vec<Queued>, shared: &[u8]) -> (Vec<RWEntry>, Vec<RWEntry>) {
    let mut holders: Vec<RWEntry> = Vec::new();
    let mut waiters = Vec::new();
    for (key, entry) in entries {
        let mode = if key.starts_with(shared) {
            Mode::Shared
        } else {
            Mode::Exclusive
        };
        let holds = waiters.is_empty()
            && match mode {
                Mode::Exclusive => holders.is_empty(),
                Mode::Shared => holders.iter().all(|e| e.mode == Mode::Shared),
            };
        let e = RWEntry { mode, entry };
        if holds {
            holders.push(e);
        } else {
            waiters.push(e);
        }
    }
    (holders, waiters)
}

impl Handle {
    /// `<ns>/<name>/r/`: the shared keys' prefix.
    fn shared_prefix(&self) -> Vec<u8> {
        let mut p = self.prefix.clone();
        p.extend_from_slice(b"r/");
        p
    }

    fn shared_key(&self, lease: i64, attempt: u64) -> Vec<u8> {
        let mut key = self.shared_prefix();
        key.extend_from_slice(format!("{lease:016x}-{:x}-{attempt:x}", self.id).as_bytes());
        key
    }

    /// `<ns>/<name>/r`: the end of the exclusive keys (which begin with a
    /// hex digit).
    fn exclusive_end(&self) -> Vec<u8> {
        let mut end = self.prefix.clone();
        end.push(b'r');
        end
    }
}

impl RWGuard {
    /// The mode held.
    pub fn mode(&self) -> Mode {
        match self.hold {
            Hold::Exclusive(_) => Mode::Exclusive,
            Hold::Shared(_) => Mode::Shared,
        }
    }

    /// Exclusive: the fencing token, the create revision of this hold's
    /// key, greater than every token before it for this lock. Shared: the
    /// token of the last exclusive hold (0: never held exclusively).
    pub fn token(&self) -> u64 {
        match &self.hold {
            Hold::Exclusive(g) => g.token(),
            Hold::Shared(s) => s.token,
        }
    }

    /// The last exclusive holder before this hold let its lease expire (it
    /// died, hung, or lost etcd) instead of releasing. A shared holder that
    /// dies is not reported.
    pub fn previous_owner_died(&self) -> bool {
        match &self.hold {
            Hold::Exclusive(g) => g.previous_owner_died(),
            Hold::Shared(s) => s.died,
        }
    }

    /// The lease this hold is attached to.
    pub fn lease_id(&self) -> i64 {
        match &self.hold {
            Hold::Exclusive(g) => g.lease_id(),
            Hold::Shared(s) => s.lease,
        }
    }

    /// `Ok` while the hold is intact; `Lost` once its lease's local deadline
    /// has passed or its key is gone; `Unavailable` when etcd does not
    /// answer (as [`Guard::check`]).
    pub fn check(&self) -> Result<()> {
        match &self.hold {
            Hold::Exclusive(g) => g.check(),
            Hold::Shared(s) => {
                s.h.check_hold(&s.key, s.rev, s.lease, &s.lost, &|why| s.lost_error(why))
            }
        }
    }

    /// Releases the hold. `Lost` if it was lost before, `Unavailable` if
    /// etcd did not answer (the key is deleted later, or expires with the
    /// lease), `InvalidArgument` in a forked child (as [`Guard::release`]).
    pub fn release(self) -> Result<()> {
        match self.hold {
            Hold::Exclusive(g) => g.release(),
            Hold::Shared(mut s) => {
                s.h.client.session.check_process()?;
                s.release_now()
            }
        }
    }
}

impl Shared {
    fn release_now(&mut self) -> Result<()> {
        self.done = true;
        let s = &self.h.client.session;
        let expired = self.lost.load(Relaxed) || !s.alive(self.lease);
        let txn = codec::txn(
            vec![codec::created_at(&self.key, self.rev)],
            vec![codec::delete(&self.key)],
            Vec::new(),
        );
        let answer = s.transport.call("/v3/kv/txn", &txn, s.call_deadline(None));
        self.h.busy.store(false, Relaxed);
        let answer = match answer {
            Ok(a) => a,
            Err(e) => {
                s.orphan(self.key.clone(), Some(self.rev));
                if expired {
                    return Err(self.lost_error("its lease's deadline passed"));
                }
                return Err(e);
            }
        };
        if expired {
            return Err(self.lost_error("its lease's deadline passed"));
        }
        // The guard failed while the lease lives: nothing but this release
        // deletes a live lease's key, so a first try of this very request
        // (sent again after a broken connection) deleted it.
        if !flag(&answer, "succeeded") && !s.alive(self.lease) {
            return Err(self.lost_error("its key was gone from etcd"));
        }
        Ok(())
    }

    fn lost_error(&self, why: &str) -> Error {
        Error::new(
            ErrorKind::Lost,
            format!(
                "the shared hold of lock {:?} was lost: {why} (a writer may have held the \
                 lock since)",
                self.h.name
            ),
        )
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        if !self.done && self.h.client.session.in_own_process() {
            let _ = self.release_now();
        }
    }
}

impl std::fmt::Debug for RWGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match &self.hold {
            Hold::Exclusive(g) => return g.fmt(f),
            Hold::Shared(s) => &s.h.name,
        };
        f.debug_struct("RWGuard")
            .field("lock", name)
            .field("mode", &Mode::Shared)
            .field("token", &self.token())
            .field("previous_owner_died", &self.previous_owner_died())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Mode::{Exclusive as X, Shared as S};

    fn queue(modes: &[Mode]) -> Vec<Queued> {
        modes
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let key = match m {
                    Mode::Shared => format!("ns/l/r/{i:016x}-1-0"),
                    Mode::Exclusive => format!("ns/l/{i:016x}-1-0"),
                };
                let entry = Entry {
                    pid: 1,
                    host: String::new(),
                    token: i as u64 + 1,
                    since_ms: 0,
                    lease: 1,
                    lease_left: None,
                };
                (key.into_bytes(), entry)
            })
            .collect()
    }

    fn modes(q: &[Mode]) -> (Vec<Mode>, Vec<Mode>) {
        let (h, w) = split(queue(q), b"ns/l/r/");
        (
            h.iter().map(|e| e.mode).collect(),
            w.iter().map(|e| e.mode).collect(),
        )
    }

    #[test]
    fn holders_are_the_oldest_writer_or_the_readers_before_any_writer() {
        assert_eq!(modes(&[]), (vec![], vec![]));
        assert_eq!(modes(&[S, S, S]), (vec![S, S, S], vec![]));
        assert_eq!(modes(&[S, S, X, S]), (vec![S, S], vec![X, S]));
        assert_eq!(modes(&[X, S, S]), (vec![X], vec![S, S]));
        assert_eq!(modes(&[X, X]), (vec![X], vec![X]));
        // a reader behind a waiting writer waits, even behind holding readers
        assert_eq!(modes(&[S, X, S, X]), (vec![S], vec![X, S, X]));
    }
}
