//! Locks across hosts on etcd v3 (feature `etcd`, on by default).
//!
//! A [`Client`] holds one lease for the process, granted at connect and kept
//! alive by one background thread. A [`Lock`] runs the mutex recipe in the
//! client, over etcd's plain key-value API (not etcd's Lock RPC): each
//! acquisition puts its own key under the lock's prefix, attached to the
//! lease; the holder is the key with the smallest create revision; a waiter
//! watches only the key created just before its own; the hold is confirmed by
//! a transaction guarded by the own key's create revision, and released by
//! another with the same guard. The [`Guard::token`] is that create revision:
//! it grows with every holder, across processes, hosts and crashes, and a
//! store that rejects writes with a smaller token than one it has seen
//! (fencing) stays safe even when a hold is lost. docs/distributed.md says why
//! the token is needed and how the keys are laid out.
//!
//! ```no_run
//! use ringlock::etcd::{Client, ClientOptions, Lock};
//! use std::time::Duration;
//! let client = Client::connect(&["http://127.0.0.1:2379"], &ClientOptions::default())?;
//! let lock = Lock::new(&client, "jobs")?;
//! let guard = lock.acquire(Some(Duration::from_secs(5)))?;
//! println!("token {}", guard.token());
//! guard.check()?; // Lost if the lease expired meanwhile
//! guard.release()?;
//! # Ok::<(), ringlock::Error>(())
//! ```
//!
//! An [`RWLock`] adds the shared mode: readers hold together while no
//! writer holds or waits before them; its exclusive mode is the `Lock` of
//! the same name (one lock, one token sequence). A shared hold carries the
//! token of the last exclusive one.
//!
//! ```no_run
//! use ringlock::etcd::{Client, ClientOptions, RWLock};
//! use std::time::Duration;
//! let client = Client::connect(&["http://127.0.0.1:2379"], &ClientOptions::default())?;
//! let config = RWLock::new(&client, "config")?;
//! let read = config.read(Some(Duration::from_secs(5)))?;
//! println!("reading what token {} wrote", read.token());
//! read.release()?;
//! let write = config.write(Some(Duration::from_secs(5)))?;
//! println!("writing with token {}", write.token());
//! # Ok::<(), ringlock::Error>(())
//! ```
//!
//! Rings that follow membership: a [`Member`] registers a node in a ring
//! under a lease of its own; a [`Watcher`] follows the ring's members into
//! [`Ring`](crate::Ring)s stamped with their etcd revision, with the
//! migration plan of each change (docs/distributed.md, "Membership").
//!
//! ```no_run
//! use ringlock::etcd::{ClientOptions, Member, WatchOptions, Watcher};
//! let endpoints = ["http://127.0.0.1:2379"];
//! let me = Member::join(&endpoints, &ClientOptions::default(), "cache", "node-1", 1, "10.0.0.1:11211")?;
//! let watcher = Watcher::with_callback(&endpoints, "cache", &WatchOptions::default(), |change| {
//!     println!("revision {}: {} nodes", change.after.revision(), change.after.ring().len());
//! })?;
//! let placement = watcher.current();
//! println!("{:?} owns user:42", placement.ring().get(b"user:42")?);
//! me.leave()?;
//! # Ok::<(), ringlock::Error>(())
//! ```

mod codec;
mod lock;
mod membership;
mod resolve;
mod rwlock;
mod session;
mod shared;
mod transport;
mod watch;

pub use lock::{Entry, Guard, Lock, LockStatus};
pub use membership::{Member, MAX_MEMBER_FIELD};
pub use rwlock::{RWEntry, RWGuard, RWLock, RWLockStatus};
pub use watch::{Change, MemberInfo, Placement, WatchOptions, WatchStats, Watcher};

use crate::error::{Error, Result};
use session::Session;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use transport::{Http, Transport};

/// etcd's smallest lease TTL.
pub const MIN_TTL: Duration = Duration::from_secs(2);

/// How to connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientOptions {
    /// The lease's time to live (at least 2 s, whole seconds; a fraction is
    /// rounded up): how long after this process stops renewing its lease
    /// (it died, hangs, or lost etcd) its holds end. Default 10 s.
    pub ttl: Duration,
    /// The prefix of every key (default `ringlock`): `A-Z a-z 0-9 . _ - /`,
    /// 1 to 200 bytes, not beginning or ending with `/`.
    pub namespace: String,
    /// The bound of each request that has no deadline of its own (connect,
    /// release, check, status, and the steps of an acquisition without a
    /// timeout). Default 5 s.
    pub request_timeout: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            ttl: Duration::from_secs(10),
            namespace: "ringlock".to_owned(),
            request_timeout: Duration::from_secs(5),
        }
    }
}

/// A connection to an etcd cluster with this process's lease. Cheap to
/// clone (the clones share the lease); safe to share between threads.
///
/// The lease lives as long as the client, its clones and the locks made
/// from it: when the last is dropped, the keep-alive thread stops and the
/// lease is revoked (which deletes every key of it). A forked child cannot use
/// the parent's client (calls fail with `InvalidArgument`), does not keep its
/// lease alive, and does not revoke it or release its holds when it drops it.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    session: Arc<Session>,
    namespace: String,
    host: String,
    endpoints: Vec<String>,
    keeper: Option<JoinHandle<()>>,
}

impl Client {
    /// Connects to the etcd cluster at `endpoints` (`http://host:port`; the
    /// next is tried when one cannot be reached) and grants the process's
    /// lease. Errors: `InvalidArgument` (no endpoint, a malformed one, a TTL
    /// below 2 s, a bad namespace), `Unavailable` (no endpoint answered as
    /// etcd within `request_timeout`; the message says what each answered).
    pub fn connect<S: AsRef<str>>(endpoints: &[S], options: &ClientOptions) -> Result<Client> {
        let ttl_secs = ttl_seconds(options.ttl)?;
        validate_namespace(&options.namespace)?;
        if options.request_timeout.is_zero() {
            return Err(Error::invalid("request_timeout must be more than 0"));
        }
        let http = Http::new(endpoints)?;
        let endpoints = http.endpoints().to_vec();
        let transport: Arc<dyn Transport> = Arc::new(http);
        let deadline = Instant::now() + options.request_timeout;
        let session = Session::start(transport, ttl_secs, options.request_timeout, deadline)?;
        let keeper = {
            let session = Arc::clone(&session);
            std::thread::Builder::new()
                .name("ringlock-etcd-keepalive".into())
                .spawn(move || session.keep_alive())
                .map_err(|e| Error::io("cannot start the lease keep-alive thread", &e))?
        };
        Ok(Client {
            inner: Arc::new(Inner {
                session,
                namespace: options.namespace.clone(),
                host: host_name(),
                endpoints,
                keeper: Some(keeper),
            }),
        })
    }

    /// The endpoints, normalised (`http://host:port`).
    pub fn endpoints(&self) -> &[String] {
        &self.inner.endpoints
    }

    /// The key prefix.
    pub fn namespace(&self) -> &str {
        &self.inner.namespace
    }

    pub(crate) fn inner(&self) -> &Arc<Inner> {
        &self.inner
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        if !self.session.in_own_process() {
            // A forked child: the thread is the parent's; leave the lease be.
            std::mem::forget(self.keeper.take());
            return;
        }
        self.session.stop();
        if let Some(keeper) = self.keeper.take() {
            let _ = keeper.join();
        }
        let bound = self.session.request_timeout.min(Duration::from_secs(1));
        self.session.revoke(Instant::now() + bound);
    }
}

/// The TTL in whole seconds (a fraction rounds up); below 2 s is refused.
fn ttl_seconds(ttl: Duration) -> Result<i64> {
    if ttl < MIN_TTL {
        return Err(Error::invalid(format!(
            "etcd lease TTL {:.3} s is below etcd's minimum of 2 s",
            ttl.as_secs_f64()
        )));
    }
    let secs = ttl.as_secs() + u64::from(ttl.subsec_nanos() > 0);
    i64::try_from(secs)
        .ok()
        .filter(|&s| s <= i64::from(i32::MAX))
        .ok_or_else(|| Error::invalid(format!("etcd lease TTL {secs} s is too long")))
}

fn validate_namespace(ns: &str) -> Result<()> {
    let ok = !ns.is_empty()
        && ns.len() <= 200
        && !ns.starts_with('/')
        && !ns.ends_with('/')
        && !ns.contains("//")
        && ns
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/'));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "etcd namespace {ns:?}: use 1 to 200 of A-Z a-z 0-9 . _ - /, \
             not beginning or ending with / (nor //)"
        )))
    }
}

/// This host's name (for `status`); empty if it cannot be read.
fn host_name() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is writable for its whole length, and gethostname
    // writes at most that many bytes.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return String::new();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn ttl_below_two_seconds_is_refused() {
        for bad in [0, 1, 1999] {
            let e = ttl_seconds(Duration::from_millis(bad)).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        }
        assert_eq!(ttl_seconds(Duration::from_secs(2)).unwrap(), 2);
        assert_eq!(ttl_seconds(Duration::from_millis(2001)).unwrap(), 3);
        assert!(ttl_seconds(Duration::from_secs(u64::MAX)).is_err());
    }

    #[test]
    fn namespaces() {
        for ok in ["ringlock", "a/b", "prod.locks-1_x"] {
            validate_namespace(ok).unwrap();
        }
        for bad in ["", "/a", "a/", "a//b", "a b", "é", &"x".repeat(201)] {
            assert!(validate_namespace(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn connect_refuses_bad_options_before_any_network() {
        let o = ClientOptions {
            ttl: Duration::from_secs(1),
            ..Default::default()
        };
        let e = Client::connect(&["127.0.0.1:1"], &o).err().unwrap();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        let e = Client::connect::<&str>(&[], &ClientOptions::default())
            .err()
            .unwrap();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        let e = Client::connect(&["https://h:1"], &ClientOptions::default())
            .err()
            .unwrap();
        assert!(e.message().contains("TLS"), "{e}");
    }

    #[test]
    fn host_name_is_readable() {
        assert!(!host_name().is_empty());
    }
}
