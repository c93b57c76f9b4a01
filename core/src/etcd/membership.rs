//! Ring membership in etcd: a [`Member`] is one node registered in a ring
//! under its own lease; a [`Watcher`](super::Watcher) follows the ring's
//! members (watch.rs).
//!
//! Keys of ring `<ring>` (under the namespace `<ns>`):
//!
//! - `<ns>/~ring/<ring>/<node>`: one per member, attached to the member's
//!   lease, its value `{"weight","addr","pid","host","since_ms"}`. The ring's
//!   members are the range `[<ns>/~ring/<ring>/, <ns>/~ring/<ring>0)`.
//!
//! `~` is not allowed in lock names, so no lock's keys fall in a ring's
//! range; ring names follow the lock names' rules, so no ring's prefix
//! contains another's.

use super::codec::{self, flag};
use super::{Client, ClientOptions};
use crate::error::{Error, ErrorKind, Result};
use crate::ring::validate_name;
use parking_lot::{Condvar, Mutex};
use serde_json::{json, Value};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The longest node id and address, in bytes.
pub const MAX_MEMBER_FIELD: usize = 1024;

/// One node registered in a ring. It stays registered while this process
/// keeps its lease alive: [`Member::leave`] deletes its key and revokes the
/// lease; dropping it revokes the lease (which deletes the key; a forked
/// child's drop does nothing). A process that dies, hangs or loses etcd
/// drops out of the ring when the lease expires (TTL later at most, plus
/// etcd's 500 ms tick). A member whose lease was lost while its process
/// lives (stopped, cut off past TTL) joins again by itself, under a new
/// lease, once etcd answers ([`Member::rejoins`]).
pub struct Member {
    reg: Arc<Registration>,
    keeper: Option<JoinHandle<()>>,
}

/// What the member's thread shares with the handle.
struct Registration {
    client: Client,
    ring: String,
    node: String,
    key: Vec<u8>,
    value: Vec<u8>,
    /// How often the thread looks at the lease.
    period: Duration,
    state: Mutex<State>,
    wake: Condvar,
}

struct State {
    /// The key's create revision.
    revision: i64,
    lease: i64,
    rejoins: u64,
    stop: bool,
    /// Another member took the node id while this one was out.
    taken: Option<String>,
}

impl Member {
    /// Registers `node` (a ring node name: non-empty UTF-8 without NUL, at
    /// most 1024 bytes) with `weight` (>= 1) and `addr` (free text for the
    /// users of the ring, e.g. `host:port`; at most 1024 bytes, no NUL) in
    /// ring `ring` (`[A-Za-z0-9._-]{1,200}`), under a lease of its own with
    /// `options.ttl`, kept alive by a background thread. Errors:
    /// `InvalidArgument` (a bad name, weight, address or option),
    /// `AlreadyExists` (another live member has this node id in this ring),
    /// `Unavailable` (etcd did not answer within `options.request_timeout`).
    pub fn join<S: AsRef<str>>(
        endpoints: &[S],
        options: &ClientOptions,
        ring: &str,
        node: &str,
        weight: u32,
        addr: &str,
    ) -> Result<Member> {
        validate_ring_name(ring)?;
        validate_member(node, weight, addr)?;
        let client = Client::connect(endpoints, options)?;
        let inner = client.inner();
        let value = json!({
            "weight": weight,
            "addr": addr,
            "pid": std::process::id(),
            "host": inner.host,
            "since_ms": now_ms(),
        });
        let reg = Registration {
            key: member_key(&inner.namespace, ring, node),
            value: value.to_string().into_bytes(),
            client: client.clone(),
            ring: ring.to_owned(),
            node: node.to_owned(),
            period: (options.ttl / 3).max(Duration::from_millis(100)),
            state: Mutex::new(State {
                revision: 0,
                lease: 0,
                rejoins: 0,
                stop: false,
                taken: None,
            }),
            wake: Condvar::new(),
        };
        drop(client);
        let (revision, lease) = reg.register(0)?;
        {
            let mut state = reg.state.lock();
            state.revision = revision;
            state.lease = lease;
        }
        let reg = Arc::new(reg);
        let keeper = {
            let reg = Arc::clone(&reg);
            std::thread::Builder::new()
                .name("ringlock-etcd-member".into())
                .spawn(move || reg.keep())
                .map_err(|e| Error::io("cannot start the member's thread", &e))?
        };
        Ok(Member {
            reg,
            keeper: Some(keeper),
        })
    }

    /// The ring's name.
    pub fn ring(&self) -> &str {
        &self.reg.ring
    }

    /// The node id.
    pub fn node(&self) -> &str {
        &self.reg.node
    }

    /// The etcd revision at which the member (last) joined: its key's
    /// create revision, the placement version of the first ring that holds
    /// it.
    pub fn revision(&self) -> u64 {
        self.reg.state.lock().revision.unsigned_abs()
    }

    /// The member's lease (a new one after each rejoin).
    pub fn lease_id(&self) -> i64 {
        self.reg.state.lock().lease
    }

    /// How many times the member joined again by itself after its lease
    /// was lost.
    pub fn rejoins(&self) -> u64 {
        self.reg.state.lock().rejoins
    }

    /// `Ok` while the member is registered: its lease's local deadline has
    /// not passed and its key still exists. `Lost` otherwise (the watchers
    /// have dropped it, or will; the member joins again by itself once etcd
    /// answers, unless another member took its node id meanwhile),
    /// `Unavailable` when etcd does not answer.
    pub fn check(&self) -> Result<()> {
        let reg = &self.reg;
        let s = &reg.client.inner().session;
        s.check_process()?;
        let (revision, lease, taken) = {
            let state = reg.state.lock();
            (state.revision, state.lease, state.taken.clone())
        };
        if let Some(why) = taken {
            return Err(reg.lost(&why));
        }
        if !s.alive(lease) {
            return Err(reg.lost("its lease's deadline passed"));
        }
        let answer = s.transport.call(
            "/v3/kv/range",
            &codec::range(&reg.key, b""),
            s.call_deadline(None),
        )?;
        let intact = codec::kvs(&answer)?
            .first()
            .is_some_and(|kv| kv.create_revision == revision && kv.lease == lease);
        if !intact {
            return Err(reg.lost("its key is gone from etcd"));
        }
        Ok(())
    }

    /// Leaves the ring: stops rejoining, deletes the member's key (guarded
    /// by its create revision, so a newer member of the same id is never
    /// deleted) and revokes its lease. `Lost` if the key was gone already
    /// (the lease had expired); `Unavailable` if etcd did not answer (the
    /// key then expires with the lease); `InvalidArgument` in a forked
    /// child.
    pub fn leave(mut self) -> Result<()> {
        let reg = Arc::clone(&self.reg);
        let s = &reg.client.inner().session;
        s.check_process()?;
        self.stop();
        let revision = reg.state.lock().revision;
        let txn = codec::txn(
            vec![codec::created_at(&reg.key, revision)],
            vec![codec::delete(&reg.key)],
            Vec::new(),
        );
        let answer = s.transport.call("/v3/kv/txn", &txn, s.call_deadline(None));
        s.revoke(Instant::now() + s.request_timeout);
        if !flag(&answer?, "succeeded") {
            return Err(reg.lost("its key was gone from etcd"));
        }
        Ok(())
    }

    /// Stops the member's thread (in the process that joined).
    fn stop(&mut self) {
        self.reg.state.lock().stop = true;
        self.reg.wake.notify_all();
        if let Some(keeper) = self.keeper.take() {
            let _ = keeper.join();
        }
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        if self.reg.client.inner().session.in_own_process() {
            self.stop();
        } else {
            // A forked child: the thread is the parent's; leave it be.
            std::mem::forget(self.keeper.take());
        }
        // The client's own drop revokes the lease (which deletes the key)
        // in the process that joined, and leaves it alone in a child.
    }
}

impl std::fmt::Debug for Member {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Member")
            .field("ring", &self.reg.ring)
            .field("node", &self.reg.node)
            .field("revision", &self.revision())
            .finish()
    }
}

impl Registration {
    /// Puts the member's key under the session's live lease (a new one if
    /// the last is dead): (create revision, lease). `previous` is the lease
    /// of an earlier registration: a key still attached to it is this
    /// member's and moves to the new lease.
    fn register(&self, previous: i64) -> Result<(i64, i64)> {
        let s = &self.client.inner().session;
        let deadline = s.call_deadline(None);
        let lease = s.lease(deadline)?.id;
        let key = &self.key;
        // Put unless the key exists; if it does, read it: a first try of
        // this very request (same lease) counts as joined.
        let txn = codec::txn(
            vec![codec::created_at(key, 0)],
            vec![codec::put(key, &self.value, lease)],
            vec![codec::op_range(codec::range(key, b""))],
        );
        let answer = s.transport.call("/v3/kv/txn", &txn, deadline)?;
        if flag(&answer, "succeeded") {
            return Ok((codec::revision(&answer)?, lease));
        }
        let existing = codec::txn_range(&answer, 0)?;
        let Some(kv) = existing.first() else {
            return Err(Error::corrupt("etcd said the key exists and returned none"));
        };
        if kv.lease == lease {
            return Ok((kv.create_revision, lease));
        }
        if previous != 0 && kv.lease == previous {
            // still ours, on the lease this process gave up: move it
            let txn = codec::txn(
                vec![codec::created_at(key, kv.create_revision)],
                vec![codec::put(key, &self.value, lease)],
                Vec::new(),
            );
            if flag(
                &s.transport.call("/v3/kv/txn", &txn, deadline)?,
                "succeeded",
            ) {
                return Ok((kv.create_revision, lease));
            }
        }
        Err(Error::new(
            ErrorKind::AlreadyExists,
            format!(
                "node {:?} is already a member of ring {:?} (since revision {}, lease {:x})",
                self.node, self.ring, kv.create_revision, kv.lease
            ),
        ))
    }

    /// The member's thread: every TTL/3, if the lease is no longer alive,
    /// joins again under a new one.
    fn keep(self: Arc<Self>) {
        let s = &self.client.inner().session;
        let mut state = self.state.lock();
        loop {
            if state.stop || state.taken.is_some() {
                return;
            }
            self.wake.wait_for(&mut state, self.period);
            if state.stop {
                return;
            }
            let lease = state.lease;
            if s.alive(lease) {
                continue;
            }
            drop(state);
            let registered = self.register(lease);
            state = self.state.lock();
            match registered {
                Ok((revision, lease)) => {
                    state.revision = revision;
                    state.lease = lease;
                    state.rejoins += 1;
                }
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                    state.taken = Some(format!("another member took its node id ({e})"));
                }
                Err(_) => {} // etcd unreachable: the next round tries again
            }
        }
    }

    fn lost(&self, why: &str) -> Error {
        Error::new(
            ErrorKind::Lost,
            format!(
                "node {:?} is no longer a member of ring {:?}: {why}",
                self.node, self.ring
            ),
        )
    }
}

/// A ring name follows the lock names' rules: `[A-Za-z0-9._-]{1,200}`.
pub(crate) fn validate_ring_name(ring: &str) -> Result<()> {
    crate::lock::validate_lock_name(ring).map_err(|e| {
        Error::invalid(format!(
            "ring name {ring:?}: {} (ring names follow the lock names' rules)",
            e.message()
        ))
    })
}

fn validate_member(node: &str, weight: u32, addr: &str) -> Result<()> {
    validate_name(node)?;
    crate::ring::validate_weight(node, weight)?;
    if node.len() > MAX_MEMBER_FIELD || addr.len() > MAX_MEMBER_FIELD {
        return Err(Error::invalid(format!(
            "node ids and addresses are at most {MAX_MEMBER_FIELD} bytes (node {} bytes, \
             address {} bytes)",
            node.len(),
            addr.len()
        )));
    }
    if addr.as_bytes().contains(&0) {
        return Err(Error::invalid(format!(
            "address {addr:?} contains a NUL byte"
        )));
    }
    Ok(())
}

/// `<ns>/~ring/<ring>/`: the prefix of a ring's member keys.
pub(crate) fn ring_prefix(namespace: &str, ring: &str) -> Vec<u8> {
    format!("{namespace}/~ring/{ring}/").into_bytes()
}

/// The end of a ring's member range: the prefix with its last `/` made `0`.
pub(crate) fn ring_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    if let Some(last) = end.last_mut() {
        *last += 1;
    }
    end
}

fn member_key(namespace: &str, ring: &str, node: &str) -> Vec<u8> {
    let mut key = ring_prefix(namespace, ring);
    key.extend_from_slice(node.as_bytes());
    key
}

/// What a member key's value says; `None` when it is not a member record
/// (the watcher skips it).
pub(crate) fn parse_member(value: &[u8]) -> Option<(u32, String)> {
    let v: Value = serde_json::from_slice(value).ok()?;
    let weight = u32::try_from(v.get("weight")?.as_u64()?).ok()?;
    let addr = v.get("addr").and_then(Value::as_str).unwrap_or_default();
    (weight >= 1 && addr.len() <= MAX_MEMBER_FIELD && !addr.contains('\0'))
        .then(|| (weight, addr.to_owned()))
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_layout() {
        let p = ring_prefix("ringlock", "cache");
        assert_eq!(p, b"ringlock/~ring/cache/");
        assert_eq!(ring_end(&p), b"ringlock/~ring/cache0");
        assert_eq!(member_key("ns", "r", "h:1"), b"ns/~ring/r/h:1");
    }

    #[test]
    fn bad_members_are_refused() {
        for ring in ["", "a/b", "a b", "~r"] {
            assert_eq!(
                validate_ring_name(ring).unwrap_err().kind(),
                ErrorKind::InvalidArgument
            );
        }
        validate_ring_name("cache-1.eu").unwrap();
        assert!(validate_member("", 1, "").is_err());
        assert!(validate_member("n", 0, "").is_err());
        assert!(validate_member("n\0", 1, "").is_err());
        assert!(validate_member("n", 1, "a\0").is_err());
        assert!(validate_member(&"x".repeat(1025), 1, "").is_err());
        validate_member("n/with/slashes é", 3, "10.0.0.1:11211").unwrap();
    }

    #[test]
    fn member_values() {
        assert_eq!(
            parse_member(br#"{"weight":2,"addr":"h:1","pid":5}"#),
            Some((2, "h:1".to_owned()))
        );
        assert_eq!(parse_member(br#"{"weight":3}"#), Some((3, String::new())));
        for bad in [
            &br#"{"weight":0}"#[..],
            br#"{"weight":4294967296}"#,
            br#"{"weight":"2"}"#,
            br#"{}"#,
            b"garbage",
        ] {
            assert_eq!(parse_member(bad), None, "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn join_refuses_bad_arguments_before_any_network() {
        let o = ClientOptions::default();
        for (ring, node, weight) in [("a b", "n", 1), ("r", "", 1), ("r", "n", 0)] {
            let e = Member::join(&["127.0.0.1:1"], &o, ring, node, weight, "")
                .err()
                .unwrap();
            assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
        }
    }
}
