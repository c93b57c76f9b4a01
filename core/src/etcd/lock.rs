//! The exclusive lock over etcd: the mutex recipe run in the client.
//!
//! Keys of lock `<name>` (under the client's namespace `<ns>`):
//!
//! - `<ns>/<name>/<lease>-<handle>-<attempt>` (lease id in 16 hex digits,
//!   handle and attempt numbers in hex): one per acquisition, attached to the
//!   lease, its value who put it (pid, host, since). The holder is the key
//!   with the smallest create revision; its create revision is the token.
//! - `<ns>/<name>/~owner`: the last exclusive hold and whether it was
//!   released cleanly; persistent. Written when a hold is confirmed (token,
//!   pid, host) and by its release (`{"token", "clean": true}`). An
//!   uncontended acquisition writes it in the transaction that puts its key,
//!   before the token is known: that value has no `token`, and its token is
//!   the revision that wrote it (the key's create revision).
//!   `previous_owner_died` is `~owner`, as the next hold finds it, existing
//!   without `"clean": true`.
//!
//! - `<ns>/<name>/r/<lease>-<handle>-<attempt>`: a shared acquisition of
//!   the [`RWLock`](super::RWLock) of the same name (rwlock.rs), whose
//!   exclusive mode is this lock. To a `Lock` it is one more key in the
//!   queue.
//!
//! Waiters range over `[<ns>/<name>/, <ns>/<name>/~)`, which the
//! persistent key sorts after. An acquisition's first write is guarded by
//! no key in that range (to take the lock in one round trip; the own key,
//! in that range too, was not put yet) or, when that fails, by its key not
//! existing yet; every later write by `create_revision(own key) == token`: a waiter whose lease expired (its key gone) can never be told it
//! holds the lock, and a release sent twice can never delete a newer
//! holder's key.

use super::codec::{self, flag, int, Kv};
use super::session::{Lease, Session};
use super::{Client, Inner};
use crate::error::{Error, ErrorKind, Result};
use crate::lock::validate_lock_name;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::AcqRel, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A watch that ends at once is not re-opened sooner than this.
const WATCH_PAUSE: Duration = Duration::from_millis(50);
/// The time allowed to delete the key of a failed acquisition (then the
/// keep-alive thread tries again).
const CLEANUP_TIMEOUT: Duration = Duration::from_millis(500);

static NEXT_HANDLE: AtomicU64 = AtomicU64::new(1);

/// A handle on a named lock in etcd.
///
/// A handle holds or waits for at most one acquisition at a time: acquiring
/// through a handle that is already holding or acquiring is `Deadlock`. Two
/// handles — in one process or in many, on one host or many — contend with
/// each other.
pub struct Lock {
    pub(super) h: Arc<Handle>,
}

pub(super) struct Handle {
    pub(super) client: Arc<Inner>,
    pub(super) name: String,
    /// `<ns>/<name>/`
    pub(super) prefix: Vec<u8>,
    pub(super) id: u64,
    pub(super) attempts: AtomicU64,
    pub(super) busy: AtomicBool,
}

/// When an acquisition stops waiting.
#[derive(Clone, Copy)]
pub(super) enum Wait {
    Try,
    Until(Instant),
    Forever,
}

impl Wait {
    /// `None`: no limit; zero: try.
    pub(super) fn from_timeout(timeout: Option<Duration>) -> Wait {
        match timeout {
            None => Wait::Forever,
            Some(t) if t.is_zero() => Wait::Try,
            Some(t) => Wait::Until(Instant::now() + t),
        }
    }

    pub(super) fn until(self) -> Option<Instant> {
        match self {
            Wait::Try => None,
            Wait::Until(t) => Some(t),
            Wait::Forever => None,
        }
    }
}

/// An exclusive hold. Released by [`Guard::release`] or when dropped.
#[must_use = "dropping the guard releases the lock at once"]
pub struct Guard {
    h: Arc<Handle>,
    key: Vec<u8>,
    token: i64,
    lease: i64,
    died: bool,
    lost: AtomicBool,
    done: bool,
}

/// One acquisition in a lock's queue, as [`Lock::status`] sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Its process id.
    pub pid: u32,
    /// Its host name.
    pub host: String,
    /// Its key's create revision: the token it holds, or will hold.
    pub token: u64,
    /// When it began to wait, in milliseconds since the Unix epoch.
    pub since_ms: u64,
    /// Its lease id.
    pub lease: i64,
    /// The time its lease has left (`None`: the lease is gone).
    pub lease_left: Option<Duration>,
}

/// A key of the queue and its entry.
pub(super) type Queued = (Vec<u8>, Entry);

/// Who holds a lock and who waits, read without taking it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockStatus {
    /// The token of the last confirmed exclusive hold (0: never held).
    pub token: u64,
    /// The holder (the oldest key).
    pub holder: Option<Entry>,
    /// The waiters, in the order they will hold.
    pub waiters: Vec<Entry>,
}

impl Lock {
    /// A handle on the lock `name` (`[A-Za-z0-9._-]{1,200}`, as the local
    /// locks; anything else is `InvalidArgument`). Talks to etcd only when
    /// used.
    pub fn new(client: &Client, name: &str) -> Result<Lock> {
        validate_lock_name(name)?;
        let inner = Arc::clone(client.inner());
        let prefix = format!("{}/{name}/", inner.namespace).into_bytes();
        Ok(Lock {
            h: Arc::new(Handle {
                client: inner,
                name: name.to_owned(),
                prefix,
                id: NEXT_HANDLE.fetch_add(1, Relaxed),
                attempts: AtomicU64::new(0),
                busy: AtomicBool::new(false),
            }),
        })
    }

    /// The lock's name.
    pub fn name(&self) -> &str {
        &self.h.name
    }

    /// Waits for the lock: until it is held, or `timeout` passes (`None`:
    /// no limit). Errors: `Timeout` (held by another all along), `Deadlock`
    /// (this handle holds or is acquiring already), `Unavailable` (etcd did
    /// not answer within the timeout, or within the client's
    /// `request_timeout` for one step), `Lost` (this process's lease expired
    /// while waiting: its key is gone and it does not hold the lock; the next
    /// acquisition gets a new lease), `InvalidArgument` in a forked child.
    /// A failed acquisition leaves no key behind.
    pub fn acquire(&self, timeout: Option<Duration>) -> Result<Guard> {
        self.acquire_with(Wait::from_timeout(timeout), None)
    }

    /// Acquires as [`Lock::acquire`] does, calling `hook` at least every
    /// `every` while it waits in etcd's queue — without giving up its place:
    /// its key stays, so it keeps its turn and whoever queued after it stays
    /// behind it, across the calls. (The hook is not called when the lock is
    /// had at once, nor for a try; it runs while the wait watches its
    /// predecessor's key, not during a request to etcd, which its own bound
    /// limits.) If the hook returns an error, the acquisition withdraws
    /// exactly as on a timeout — its key deleted, nothing held — and returns
    /// that error. The hook runs on the waiting thread. `InvalidArgument`
    /// if `every` is zero.
    pub fn acquire_interruptible(
        &self,
        timeout: Option<Duration>,
        every: Duration,
        hook: &mut dyn FnMut() -> Result<()>,
    ) -> Result<Guard> {
        let mut hook = Hook::new(&self.h.name, every, hook)?;
        self.acquire_with(Wait::from_timeout(timeout), Some(&mut hook))
    }

    /// Takes the lock only if nobody holds it or waits for it before this
    /// call; `WouldBlock` otherwise. Other errors as [`Lock::acquire`].
    pub fn try_acquire(&self) -> Result<Guard> {
        self.acquire_with(Wait::Try, None)
    }

    pub(super) fn acquire_with(&self, wait: Wait, hook: Option<&mut Hook<'_>>) -> Result<Guard> {
        self.enter(|| self.attempt(wait, hook))
    }

    /// Runs the acquisition `f` with the handle marked busy (`Deadlock` if
    /// it is already), unmarking it if `f` fails.
    pub(super) fn enter<T>(&self, f: impl FnOnce() -> Result<T>) -> Result<T> {
        self.session().check_process()?;
        if self.h.busy.swap(true, AcqRel) {
            return Err(Error::new(
                ErrorKind::Deadlock,
                format!(
                    "this handle on lock {:?} already holds it or is acquiring it",
                    self.h.name
                ),
            ));
        }
        let result = f();
        if result.is_err() {
            self.h.busy.store(false, Relaxed);
        }
        result
    }

    pub(super) fn session(&self) -> &Session {
        &self.h.client.session
    }

    fn attempt(&self, wait: Wait, hook: Option<&mut Hook<'_>>) -> Result<Guard> {
        let s = self.session();
        let lease = s.lease(s.call_deadline(wait.until()))?;
        let attempt = self.h.attempts.fetch_add(1, Relaxed);
        let key = self.h.key(lease.id, attempt);
        let value =
            json!({"pid": std::process::id(), "host": self.h.client.host, "since_ms": now_ms()});
        // One round trip when nobody holds or waits: put the own key and
        // record the hold in `~owner` at once (its token is then the
        // revision of that write: see `owner_token`), the put of `~owner`
        // returning the record it replaced. Otherwise a second request (the
        // queue's transaction): put the own key unless a first try of this
        // very request did already; read, as of that put, the oldest key
        // and `~owner`.
        let h = &self.h;
        let value = value.to_string();
        let owner = json!({"pid": std::process::id(), "host": h.client.host});
        // (The own key lies in the queue's range: no key there means it was
        // not put yet.)
        let fast = codec::txn(
            vec![codec::none_in(&h.prefix, &h.end())],
            vec![
                codec::put(&key, value.as_bytes(), lease.id),
                codec::put_prev(&h.meta("owner"), owner.to_string().as_bytes(), 0),
            ],
            Vec::new(),
        );
        let outer = match self.txn(&fast, s.call_deadline(wait.until())) {
            Ok(a) => a,
            Err(e) => {
                s.orphan(key, None);
                return Err(e);
            }
        };
        if flag(&outer, "succeeded") {
            let token = codec::revision(&outer)?;
            let previous = codec::txn_put_prev(&outer, 1)?;
            if !s.alive(lease.id) {
                self.h.delete_own(key, token);
                return Err(h.lost_waiting(lease.id));
            }
            return Ok(self.guard(key, token, lease, died(&previous)));
        }
        let mut oldest = codec::by_creation(&h.prefix, &h.end());
        oldest["limit"] = json!("1");
        oldest["keys_only"] = json!(true);
        let queued = codec::txn(
            vec![codec::created_at(&key, 0)],
            vec![
                codec::put(&key, value.as_bytes(), lease.id),
                codec::op_range(oldest),
                codec::op_range(codec::range(&h.meta("owner"), b"")),
            ],
            vec![codec::op_range(codec::range(&key, b""))],
        );
        let answer = match self.txn(&queued, s.call_deadline(wait.until())) {
            Ok(a) => a,
            Err(e) => {
                s.orphan(key, None);
                return Err(e);
            }
        };
        let token = if flag(&answer, "succeeded") {
            codec::revision(&answer)?
        } else {
            match codec::txn_range(&answer, 0)?.first() {
                Some(kv) => kv.create_revision,
                None => {
                    return Err(Error::corrupt(
                        "etcd said the new key exists and returned no key",
                    ))
                }
            }
        };
        let mut first = false;
        if flag(&answer, "succeeded") {
            first = codec::txn_range(&answer, 1)?
                .first()
                .is_some_and(|kv| kv.key == key);
        }
        let result = if first {
            let owner = codec::txn_range(&answer, 2)?;
            self.confirm(&key, token, lease, died(&owner))
        } else {
            self.wait_turn(&key, token, lease, wait, hook)
        };
        match result {
            Ok(guard) => Ok(guard),
            Err(e) => {
                self.h.delete_own(key, token);
                Err(e)
            }
        }
    }

    /// Waits until the own key is the oldest, then confirms the hold.
    fn wait_turn(
        &self,
        key: &[u8],
        token: i64,
        lease: Lease,
        wait: Wait,
        mut hook: Option<&mut Hook<'_>>,
    ) -> Result<Guard> {
        let s = self.session();
        let h = &self.h;
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
                vec![codec::created_at(key, token)],
                vec![
                    codec::op_range(codec::last_created_before(&h.prefix, &h.end(), token)),
                    codec::op_range(codec::range(&h.meta("owner"), b"")),
                ],
                Vec::new(),
            );
            let answer = self.txn(&txn, s.call_deadline(wait.until()))?;
            if !flag(&answer, "succeeded") {
                return Err(h.lost_waiting(lease.id));
            }
            let before = codec::txn_range(&answer, 0)?;
            let Some(predecessor) = before.first() else {
                let owner = codec::txn_range(&answer, 1)?;
                return self.confirm(key, token, lease, died(&owner));
            };
            let watch_until = match wait {
                Wait::Try => {
                    return Err(Error::new(
                        ErrorKind::WouldBlock,
                        format!("lock {:?} is held", h.name),
                    ))
                }
                Wait::Until(t) if Instant::now() >= t => return Err(h.timed_out()),
                Wait::Until(t) => t.min(Instant::now() + lease.ttl),
                Wait::Forever => Instant::now() + lease.ttl,
            };
            let from = codec::revision(&answer)? + 1;
            self.wait_for_delete(
                &predecessor.key,
                key,
                from,
                watch_until,
                hook.as_deref_mut(),
            )?;
            watched = true;
        }
    }

    /// Watches the predecessor's key and the own key from revision `from`
    /// until one of them is deleted, the stream ends, or `until`. With a
    /// hook, each watch also ends when the hook is due: the hook runs, and
    /// the watch is opened again from the same revision (no deletion in
    /// between is missed; the own key stays put); the hook's error ends the
    /// wait. A stream that ends before its deadline (etcd restarting, a
    /// compaction) returns, for the caller to look at the queue again.
    pub(super) fn wait_for_delete(
        &self,
        predecessor: &[u8],
        own: &[u8],
        from: i64,
        until: Instant,
        mut hook: Option<&mut Hook<'_>>,
    ) -> Result<()> {
        let requests = [
            codec::watch_deletes(predecessor, from),
            codec::watch_deletes(own, from),
        ];
        loop {
            let started = Instant::now();
            let end = hook.as_deref_mut().map_or(until, |h| h.due().min(until));
            if let Ok(mut stream) = self.session().transport.watch(&requests, end) {
                while let Some(msg) = stream.next() {
                    let compacted = int(&msg, "compact_revision").unwrap_or(1) != 0;
                    if codec::has_events(&msg) || flag(&msg, "canceled") || compacted {
                        return Ok(());
                    }
                }
            }
            if started.elapsed() < WATCH_PAUSE {
                let left = end.saturating_duration_since(Instant::now());
                std::thread::sleep(WATCH_PAUSE.min(left));
            }
            let Some(h) = hook.as_deref_mut() else {
                return Ok(());
            };
            let now = Instant::now();
            if now < end || now >= until {
                // broken before its time, or the wait's own bound: back
                // to the caller (the hook stays due: it runs in the
                // next watch, if any)
                return Ok(());
            }
            h.run_if_due()?;
        }
    }

    /// Records the hold in `~owner` (guarded by the own key) and returns it.
    fn confirm(&self, key: &[u8], token: i64, lease: Lease, died: bool) -> Result<Guard> {
        let s = self.session();
        let h = &self.h;
        let owner = json!({"token": token, "pid": std::process::id(), "host": h.client.host});
        let txn = codec::txn(
            vec![codec::created_at(key, token)],
            vec![codec::put(
                &h.meta("owner"),
                owner.to_string().as_bytes(),
                0,
            )],
            Vec::new(),
        );
        let answer = self.txn(&txn, s.call_deadline(None))?;
        if !flag(&answer, "succeeded") || !s.alive(lease.id) {
            return Err(h.lost_waiting(lease.id));
        }
        Ok(self.guard(key.to_vec(), token, lease, died))
    }

    fn guard(&self, key: Vec<u8>, token: i64, lease: Lease, died: bool) -> Guard {
        Guard {
            h: Arc::clone(&self.h),
            key,
            token,
            lease: lease.id,
            died,
            lost: AtomicBool::new(false),
            done: false,
        }
    }

    pub(super) fn txn(&self, txn: &Value, deadline: Instant) -> Result<Value> {
        self.session().transport.call("/v3/kv/txn", txn, deadline)
    }

    /// The holder and the waiters, in order, with their leases' time left.
    pub fn status(&self) -> Result<LockStatus> {
        let (token, entries) = self.queue()?;
        let mut entries = entries.into_iter().map(|(_, e)| e);
        Ok(LockStatus {
            token,
            holder: entries.next(),
            waiters: entries.collect(),
        })
    }

    /// The token of the last confirmed exclusive hold (0: none) and the
    /// queue's keys in the order they were created, each with its entry.
    pub(super) fn queue(&self) -> Result<(u64, Vec<Queued>)> {
        let s = self.session();
        s.check_process()?;
        let h = &self.h;
        let deadline = s.call_deadline(None);
        let txn = codec::txn(
            Vec::new(),
            vec![
                codec::op_range(codec::by_creation(&h.prefix, &h.end())),
                codec::op_range(codec::range(&h.meta("owner"), b"")),
            ],
            Vec::new(),
        );
        let answer = self.txn(&txn, deadline)?;
        let token = codec::txn_range(&answer, 1)?
            .first()
            .and_then(owner_token)
            .unwrap_or(0);
        let mut entries = Vec::new();
        let mut leases: Vec<(i64, Option<Duration>)> = Vec::new();
        for kv in codec::txn_range(&answer, 0)? {
            let left = match leases.iter().find(|(id, _)| *id == kv.lease) {
                Some(&(_, left)) => left,
                None => {
                    let left = self.lease_left(kv.lease, deadline)?;
                    leases.push((kv.lease, left));
                    left
                }
            };
            entries.push((kv.key.clone(), entry(&kv, left)));
        }
        Ok((token, entries))
    }

    fn lease_left(&self, lease: i64, deadline: Instant) -> Result<Option<Duration>> {
        let answer = self.session().transport.call(
            "/v3/lease/timetolive",
            &json!({"ID": lease.to_string()}),
            deadline,
        )?;
        let ttl = int(&answer, "TTL")?;
        Ok((ttl >= 0).then(|| Duration::from_secs(ttl.unsigned_abs())))
    }
}

/// The hook of an interruptible wait: called at least every `every` while
/// the wait watches the queue.
pub(super) struct Hook<'a> {
    call: &'a mut dyn FnMut() -> Result<()>,
    every: Duration,
    /// When the hook is due; set when the wait first watches.
    next: Option<Instant>,
}

impl<'a> Hook<'a> {
    /// `InvalidArgument` if `every` is zero.
    pub(super) fn new(
        name: &str,
        every: Duration,
        call: &'a mut dyn FnMut() -> Result<()>,
    ) -> Result<Hook<'a>> {
        if every.is_zero() {
            return Err(Error::invalid(format!(
                "lock {name:?}: the interval between calls of the hook must not be zero"
            )));
        }
        Ok(Hook {
            call,
            every,
            next: None,
        })
    }

    /// When the hook is next due (`every` after the first question).
    fn due(&mut self) -> Instant {
        let every = self.every;
        *self.next.get_or_insert_with(|| later(every))
    }

    /// Calls the hook if it is due; `every` from its return it is due again.
    fn run_if_due(&mut self) -> Result<()> {
        if self.next.is_some_and(|n| Instant::now() >= n) {
            (self.call)()?;
            // measured after the hook: a slow hook does not make the next
            // call due at once
            self.next = Some(later(self.every));
        }
        Ok(())
    }
}

/// Now plus `d`, or far ahead (a duration too long for an `Instant`).
fn later(d: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(d)
        .unwrap_or_else(|| now + Duration::from_secs(1 << 32))
}

impl Handle {
    pub(super) fn key(&self, lease: i64, attempt: u64) -> Vec<u8> {
        let mut key = self.prefix.clone();
        key.extend_from_slice(format!("{lease:016x}-{:x}-{attempt:x}", self.id).as_bytes());
        key
    }

    /// The end of the waiters' range: `<ns>/<name>/~`.
    pub(super) fn end(&self) -> Vec<u8> {
        let mut end = self.prefix.clone();
        end.push(b'~');
        end
    }

    /// A persistent key, `<ns>/<name>/~<what>`.
    pub(super) fn meta(&self, what: &str) -> Vec<u8> {
        let mut key = self.end();
        key.extend_from_slice(what.as_bytes());
        key
    }

    pub(super) fn timed_out(&self) -> Error {
        Error::new(
            ErrorKind::Timeout,
            format!("lock {:?} is still held by another", self.name),
        )
    }

    pub(super) fn lost_waiting(&self, lease: i64) -> Error {
        Error::new(
            ErrorKind::Lost,
            format!(
                "the lease {lease:x} of this process expired while it waited for lock {:?} \
                 (keep-alive failed, or the process was paused past its TTL): it does not \
                 hold the lock",
                self.name
            ),
        )
    }

    /// `Ok` while the hold whose key `key` was created at `rev` under
    /// `lease` is intact (see [`Guard::check`]); remembers a loss in `lost`.
    pub(super) fn check_hold(
        &self,
        key: &[u8],
        rev: i64,
        lease: i64,
        lost: &AtomicBool,
        lost_error: &dyn Fn(&str) -> Error,
    ) -> Result<()> {
        let s = &self.client.session;
        s.check_process()?;
        if lost.load(Relaxed) {
            return Err(lost_error("was lost before"));
        }
        if !s.alive(lease) {
            lost.store(true, Relaxed);
            return Err(lost_error("its lease's deadline passed"));
        }
        let answer = s.transport.call(
            "/v3/kv/range",
            &codec::range(key, b""),
            s.call_deadline(None),
        )?;
        let intact = codec::kvs(&answer)?
            .first()
            .is_some_and(|kv| kv.create_revision == rev && kv.lease == lease);
        if !intact {
            lost.store(true, Relaxed);
            return Err(lost_error("its key is gone from etcd"));
        }
        if !s.alive(lease) {
            lost.store(true, Relaxed);
            return Err(lost_error("its lease's deadline passed"));
        }
        Ok(())
    }

    /// Deletes the own key of a failed acquisition (or leaves it to the
    /// keep-alive thread when etcd does not answer).
    pub(super) fn delete_own(&self, key: Vec<u8>, token: i64) {
        let s = &self.client.session;
        let txn = codec::txn(
            vec![codec::created_at(&key, token)],
            vec![codec::delete(&key)],
            Vec::new(),
        );
        let deadline = Instant::now() + CLEANUP_TIMEOUT.min(s.request_timeout);
        if s.transport.call("/v3/kv/txn", &txn, deadline).is_err() {
            s.orphan(key, Some(token));
        }
    }
}

impl Guard {
    /// The fencing token: the create revision of this hold's key, greater
    /// than every token before it for this lock.
    pub fn token(&self) -> u64 {
        self.token.unsigned_abs()
    }

    /// The previous exclusive holder's lease expired (it died, hung, or lost
    /// etcd) instead of releasing.
    pub fn previous_owner_died(&self) -> bool {
        self.died
    }

    /// The lease this hold is attached to.
    pub fn lease_id(&self) -> i64 {
        self.lease
    }

    /// `Ok` while the hold is intact: the lease's local deadline has not
    /// passed and the hold's key still exists in etcd. `Lost` otherwise (for
    /// good: another holder may have taken the lock), `Unavailable` when etcd
    /// does not answer within the client's `request_timeout`.
    pub fn check(&self) -> Result<()> {
        self.h
            .check_hold(&self.key, self.token, self.lease, &self.lost, &|why| {
                self.lost_error(why)
            })
    }

    /// Releases the hold. `Lost` if the hold was lost before (its lease
    /// expired, its key is gone: another may have held the lock meanwhile);
    /// `Unavailable` if etcd did not answer (the key is deleted later, or
    /// expires with the lease); `InvalidArgument` in a forked child.
    pub fn release(mut self) -> Result<()> {
        self.h.client.session.check_process()?;
        self.release_now()
    }

    fn release_now(&mut self) -> Result<()> {
        self.done = true;
        let s = &self.h.client.session;
        let expired = self.lost.load(Relaxed) || !s.alive(self.lease);
        let released = json!({"token": self.token, "clean": true});
        let txn = codec::txn(
            vec![codec::created_at(&self.key, self.token)],
            vec![
                codec::put(&self.h.meta("owner"), released.to_string().as_bytes(), 0),
                codec::delete(&self.key),
            ],
            vec![codec::op_range(codec::range(&self.h.meta("owner"), b""))],
        );
        let answer = s.transport.call("/v3/kv/txn", &txn, s.call_deadline(None));
        self.h.busy.store(false, Relaxed);
        let answer = match answer {
            Ok(a) => a,
            Err(e) => {
                s.orphan(self.key.clone(), Some(self.token));
                if expired {
                    return Err(self.lost_error("its lease's deadline passed"));
                }
                return Err(e);
            }
        };
        let released = flag(&answer, "succeeded")
            || codec::txn_range(&answer, 0)?
                .first()
                .is_some_and(|kv| released_by(kv) == Some(self.token.unsigned_abs()));
        if !released {
            return Err(self.lost_error("its key was gone from etcd"));
        }
        if expired {
            return Err(self.lost_error("its lease's deadline passed"));
        }
        Ok(())
    }

    fn lost_error(&self, why: &str) -> Error {
        Error::new(
            ErrorKind::Lost,
            format!(
                "the hold of lock {:?} with token {} was lost: {why} (another may have held \
                 the lock since)",
                self.h.name, self.token
            ),
        )
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if !self.done && self.h.client.session.in_own_process() {
            let _ = self.release_now();
        }
    }
}

impl std::fmt::Debug for Guard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guard")
            .field("lock", &self.h.name)
            .field("token", &self.token)
            .field("previous_owner_died", &self.died)
            .finish()
    }
}

/// Whether the last confirmed exclusive holder, as `~owner` records it,
/// did not release cleanly (its lease expired, or its key was deleted,
/// instead). No record: never held.
pub(super) fn died(owner: &[Kv]) -> bool {
    // A record that does not parse counts as a holder that died.
    owner.first().is_some_and(|kv| released_by(kv).is_none())
}

/// The token of the hold `~owner` records: its `token`, or, when it has
/// none (written in the same transaction as the holder's key, whose create
/// revision was not known yet), the revision of that write. `None` when the
/// value is not a JSON object.
pub(super) fn owner_token(owner: &Kv) -> Option<u64> {
    let v: Value = serde_json::from_slice(&owner.value).ok()?;
    match v.get("token") {
        Some(t) => t.as_u64(),
        None => v.is_object().then_some(owner.mod_revision.unsigned_abs()),
    }
}

/// The token of the hold whose clean release `~owner` records (`"clean":
/// true`, written by the release), `None` while it records a hold.
fn released_by(owner: &Kv) -> Option<u64> {
    let v: Value = serde_json::from_slice(&owner.value).ok()?;
    if v.get("clean").and_then(Value::as_bool) != Some(true) {
        return None;
    }
    v.get("token")?.as_u64()
}

fn entry(kv: &Kv, lease_left: Option<Duration>) -> Entry {
    let v: Value = serde_json::from_slice(&kv.value).unwrap_or(Value::Null);
    let num = |f: &str| v.get(f).and_then(Value::as_u64).unwrap_or(0);
    Entry {
        pid: u32::try_from(num("pid")).unwrap_or(0),
        host: v
            .get("host")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        token: kv.create_revision.unsigned_abs(),
        since_ms: num("since_ms"),
        lease: kv.lease,
        lease_left,
    }
}

pub(super) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(value: &str) -> Kv {
        Kv {
            key: Vec::new(),
            value: value.as_bytes().to_vec(),
            create_revision: 1,
            mod_revision: 7,
            lease: 0,
        }
    }

    #[test]
    fn previous_owner_died_when_the_last_owner_did_not_release() {
        assert!(!died(&[]));
        assert!(!died(&[kv(r#"{"token":5,"clean":true}"#)]));
        assert!(died(&[kv(r#"{"token":7,"pid":1,"host":"h"}"#)]));
        assert!(died(&[kv("garbage")]));
        assert!(died(&[kv(r#"{"token":5,"clean":false}"#)]));
        // written with the holder's key: a hold whose token is its revision (7)
        assert!(died(&[kv(r#"{"pid":1,"host":"h"}"#)]));
        assert_eq!(owner_token(&kv(r#"{"pid":1}"#)), Some(7));
        assert_eq!(owner_token(&kv(r#"{"token":5,"clean":true}"#)), Some(5));
        assert_eq!(released_by(&kv(r#"{"token":5,"clean":true}"#)), Some(5));
        assert_eq!(released_by(&kv(r#"{"token":5,"pid":1}"#)), None);
    }
}
