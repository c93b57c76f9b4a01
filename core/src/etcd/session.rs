//! The process's lease: granted at connect, kept alive by one background
//! thread (every TTL/3), and known dead when etcd says so or when its local
//! deadline passes.
//!
//! The local deadline is the monotonic time at which the last successful
//! keep-alive was *sent* plus the TTL etcd granted: etcd cannot have expired
//! the lease before it. Past it, this process no longer trusts the lease,
//! whatever the reason (keep-alives failing, the process stopped with
//! SIGSTOP, a long pause): its holds are lost, and the next acquisition gets
//! a new lease. A forked child has no keep-alive thread, and the session
//! refuses to act in it: only the process that connected keeps the lease
//! alive or uses it.
//!
//! Keys that could not be deleted (an acquisition that failed while etcd was
//! unreachable, a release on drop that failed) are remembered as orphans and
//! deleted by the keep-alive thread when etcd answers again, so that no key of
//! a live lease is left behind to block the lock.

use super::codec::{self, int};
use super::transport::Transport;
use crate::error::{Error, ErrorKind, Result};
use parking_lot::{Condvar, Mutex};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How soon a failed keep-alive is tried again.
const RETRY: Duration = Duration::from_millis(100);
/// The time allowed to delete an orphan key.
const ORPHAN_TIMEOUT: Duration = Duration::from_millis(500);

/// A lease this process holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Lease {
    pub id: i64,
    /// The TTL etcd granted.
    pub ttl: Duration,
    /// Before this instant etcd cannot have expired the lease.
    pub deadline: Instant,
}

/// A key to delete once etcd answers (guarded by its create revision when
/// known).
struct Orphan {
    key: Vec<u8>,
    token: Option<i64>,
}

struct State {
    lease: Option<Lease>,
    /// When the next keep-alive is due.
    renew_at: Instant,
    stop: bool,
}

/// The lease of one client and what keeps it alive.
pub(crate) struct Session {
    pub transport: Arc<dyn Transport>,
    /// The TTL asked for, in whole seconds.
    ttl_secs: i64,
    /// The bound of a call that has no deadline of its own.
    pub request_timeout: Duration,
    /// The process that connected.
    pid: u32,
    state: Mutex<State>,
    wake: Condvar,
    orphans: Mutex<Vec<Orphan>>,
}

impl Session {
    /// A session whose first lease is granted now (bounded by `deadline`).
    pub(crate) fn start(
        transport: Arc<dyn Transport>,
        ttl_secs: i64,
        request_timeout: Duration,
        deadline: Instant,
    ) -> Result<Arc<Session>> {
        let session = Session {
            transport,
            ttl_secs,
            request_timeout,
            pid: std::process::id(),
            state: Mutex::new(State {
                lease: None,
                renew_at: Instant::now(),
                stop: false,
            }),
            wake: Condvar::new(),
            orphans: Mutex::new(Vec::new()),
        };
        let lease = session.grant(deadline)?;
        let mut state = session.state.lock();
        state.lease = Some(lease);
        state.renew_at = Instant::now() + session.period(&lease);
        drop(state);
        Ok(Arc::new(session))
    }

    /// `InvalidArgument` in a process other than the one that connected (a
    /// forked child): nothing of the session may be used there.
    pub(crate) fn check_process(&self) -> Result<()> {
        let pid = std::process::id();
        if pid == self.pid {
            Ok(())
        } else {
            Err(Error::invalid(format!(
                "this etcd client was connected by process {} and cannot be used in process {pid} \
                 (after fork, connect a new client)",
                self.pid
            )))
        }
    }

    /// Whether this is the process that connected.
    pub(crate) fn in_own_process(&self) -> bool {
        std::process::id() == self.pid
    }

    /// The deadline for a call made now that has no deadline of its own,
    /// or `until` when that comes first.
    pub(crate) fn call_deadline(&self, until: Option<Instant>) -> Instant {
        let bound = Instant::now() + self.request_timeout;
        until.map_or(bound, |u| u.min(bound))
    }

    /// The live lease, granting a new one if the last one is dead.
    pub(crate) fn lease(&self, deadline: Instant) -> Result<Lease> {
        let mut state = self.state.lock();
        if let Some(lease) = state.lease {
            if Instant::now() < lease.deadline {
                return Ok(lease);
            }
            state.lease = None;
        }
        let lease = self.grant(deadline)?;
        state.lease = Some(lease);
        state.renew_at = Instant::now() + self.period(&lease);
        self.wake.notify_all();
        Ok(lease)
    }

    /// Whether lease `id` is this session's lease and its deadline has not
    /// passed.
    pub(crate) fn alive(&self, id: i64) -> bool {
        let state = self.state.lock();
        state
            .lease
            .is_some_and(|l| l.id == id && Instant::now() < l.deadline)
    }

    /// Remembers a key to delete when etcd answers again.
    pub(crate) fn orphan(&self, key: Vec<u8>, token: Option<i64>) {
        self.orphans.lock().push(Orphan { key, token });
        self.wake.notify_all();
    }

    fn period(&self, lease: &Lease) -> Duration {
        lease.ttl / 3
    }

    fn grant(&self, deadline: Instant) -> Result<Lease> {
        let sent = Instant::now();
        let answer = self.transport.call(
            "/v3/lease/grant",
            &json!({"TTL": self.ttl_secs.to_string()}),
            deadline,
        )?;
        if answer.get("header").is_none() {
            return Err(Error::new(
                ErrorKind::Unavailable,
                "the endpoint answered a lease grant without etcd's header: is it etcd?",
            ));
        }
        if let Some(e) = answer.get("error").and_then(|e| e.as_str()) {
            if !e.is_empty() {
                return Err(Error::new(
                    ErrorKind::Io,
                    format!("etcd refused a lease: {e}"),
                ));
            }
        }
        let id = int(&answer, "ID")?;
        let ttl = int(&answer, "TTL")?;
        if id == 0 || ttl <= 0 {
            return Err(Error::corrupt(format!(
                "etcd granted lease {id} with TTL {ttl}"
            )));
        }
        let ttl = Duration::from_secs(ttl.unsigned_abs());
        Ok(Lease {
            id,
            ttl,
            deadline: sent + ttl,
        })
    }

    /// Asks etcd to drop the current lease (and with it every key of it).
    pub(crate) fn revoke(&self, deadline: Instant) {
        let lease = self.state.lock().lease.take();
        if let Some(lease) = lease {
            let _ = self.transport.call(
                "/v3/lease/revoke",
                &json!({"ID": lease.id.to_string()}),
                deadline,
            );
        }
    }

    /// Stops the keep-alive thread.
    pub(crate) fn stop(&self) {
        self.state.lock().stop = true;
        self.wake.notify_all();
    }

    /// The keep-alive thread's body: renews the lease every TTL/3, retries a
    /// failed renewal soon, drops the lease when etcd says it is gone or when
    /// its deadline passes, and deletes orphan keys.
    pub(crate) fn keep_alive(self: Arc<Self>) {
        let mut state = self.state.lock();
        loop {
            if state.stop {
                return;
            }
            let now = Instant::now();
            let Some(lease) = state.lease else {
                self.wake.wait(&mut state);
                continue;
            };
            if now >= lease.deadline {
                state.lease = None;
                continue;
            }
            let has_orphans = !self.orphans.lock().is_empty();
            if now < state.renew_at && !has_orphans {
                let until = state.renew_at.min(lease.deadline);
                self.wake.wait_until(&mut state, until);
                continue;
            }
            let due = now >= state.renew_at;
            drop(state);
            let renewed = due.then(|| self.renew(&lease));
            self.delete_orphans();
            state = self.state.lock();
            if state.lease.map(|l| l.id) != Some(lease.id) {
                continue; // replaced meanwhile
            }
            match renewed {
                None => {
                    // orphans remain (etcd still unreachable): not before the
                    // next renewal or a short pause
                    let until = state.renew_at.min(Instant::now() + RETRY * 5);
                    self.wake.wait_until(&mut state, until);
                }
                Some(Ok(Some(l))) => {
                    state.lease = Some(l);
                    state.renew_at = Instant::now() + self.period(&l);
                }
                Some(Ok(None)) => state.lease = None,
                Some(Err(_)) => state.renew_at = Instant::now() + RETRY,
            }
        }
    }

    /// One keep-alive: the renewed lease, `None` if etcd no longer has it.
    fn renew(&self, lease: &Lease) -> Result<Option<Lease>> {
        let sent = Instant::now();
        let deadline = (sent + self.period(lease)).min(lease.deadline);
        let answer = self.transport.call(
            "/v3/lease/keepalive",
            &json!({"ID": lease.id.to_string()}),
            deadline,
        )?;
        let result = answer
            .get("result")
            .ok_or_else(|| Error::corrupt("etcd's keep-alive answer has no result"))?;
        let ttl = int(result, "TTL")?;
        if ttl <= 0 {
            return Ok(None);
        }
        let ttl = Duration::from_secs(ttl.unsigned_abs());
        Ok(Some(Lease {
            id: lease.id,
            ttl,
            deadline: sent + ttl,
        }))
    }

    fn delete_orphans(&self) {
        let mut orphans = self.orphans.lock();
        let deadline = Instant::now() + ORPHAN_TIMEOUT;
        orphans.retain(|o| {
            let compare = match o.token {
                Some(t) => vec![codec::created_at(&o.key, t)],
                None => Vec::new(),
            };
            let txn = codec::txn(compare, vec![codec::delete(&o.key)], Vec::new());
            self.transport.call("/v3/kv/txn", &txn, deadline).is_err()
        });
    }
}
