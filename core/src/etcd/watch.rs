//! Following a ring's members: a [`Watcher`] lists the members at revision
//! R (one range over the ring's prefix), builds the [`Ring`], then watches the
//! prefix from R + 1 and swaps in a new ring after each change.
//!
//! - **One ring from one set of members.** The ring is built from the
//!   members sorted by node id (byte order), with the watcher's algorithm
//!   and parameters, so every watcher on every host that has seen the same
//!   members holds an identical ring.
//! - **Placement version = etcd revision.** A ring is stamped with the
//!   revision of the last event it reflects (or of the range that listed
//!   its members): the members are exactly those in etcd at that revision,
//!   so two watchers that report the same revision hold the same ring.
//! - **Bursts coalesce.** After an event the watcher takes the events that
//!   follow within [`WatchOptions::coalesce`] (10 ms) of each other, for at
//!   most 10 such windows, before it builds one new ring.
//! - **Nothing is missed.** A watch stream is re-opened (every 10 s, and
//!   whenever it breaks) from the revision after the last one applied; when
//!   etcd has compacted that history away it says so (`compact_revision`),
//!   and the watcher lists the members again. A watcher that cannot reach
//!   etcd keeps its last ring and retries.
//! - **Swaps are atomic.** [`Watcher::current`] returns an `Arc` of the
//!   whole [`Placement`]; a new one replaces it under a lock held only for
//!   the pointer swap. The optional callback gets each [`Change`] with its
//!   migration plan ([`Ring::diff`] of the old ring against the new one).

use super::codec::{self, flag, int};
use super::membership::{parse_member, ring_end, ring_prefix, validate_ring_name};
use super::transport::{Http, Transport};
use crate::error::{Error, Result};
use crate::ring::{validate_name, Algorithm, Diff, Ring};
use parking_lot::{Condvar, Mutex};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A burst coalesces for at most this many quiet windows.
const COALESCE_ROUNDS: u32 = 10;
/// ... and for at most this many watch messages.
const MAX_BATCH: usize = 1000;
/// A watch stream is re-opened at least this often.
const WINDOW: Duration = Duration::from_secs(10);
/// How often the watcher's thread looks at its stop flag.
const POLL: Duration = Duration::from_millis(100);
const FIRST_RETRY: Duration = Duration::from_millis(50);
const MAX_RETRY: Duration = Duration::from_secs(1);

/// How a [`Watcher`] builds its rings and reaches etcd.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchOptions {
    /// The ring's algorithm (default xxh3).
    pub algorithm: Algorithm,
    /// Virtual nodes per unit of weight, as [`Ring::with_config`] (0: the
    /// algorithm's default).
    pub vnodes: u32,
    /// Maglev's table size, as [`Ring::with_config`] (0: the default).
    pub table_size: u32,
    /// The key prefix the members registered under (default `ringlock`).
    pub namespace: String,
    /// The bound of each list request. Default 5 s.
    pub request_timeout: Duration,
    /// Watch events that follow each other within this build one ring
    /// (for at most 10 times this after the first). Default 10 ms; 0 takes
    /// only the events that have arrived already.
    pub coalesce: Duration,
}

impl Default for WatchOptions {
    fn default() -> Self {
        WatchOptions {
            algorithm: Algorithm::Xxh3,
            vnodes: 0,
            table_size: 0,
            namespace: "ringlock".to_owned(),
            request_timeout: Duration::from_secs(5),
            coalesce: Duration::from_millis(10),
        }
    }
}

/// One member as the watcher read it from etcd.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberInfo {
    /// The node id: the ring's node name.
    pub node: String,
    /// Its weight.
    pub weight: u32,
    /// The address it registered.
    pub addr: String,
    /// Its lease.
    pub lease: i64,
    /// The revision at which it joined (its key's create revision).
    pub joined: u64,
}

/// A ring built from the members in etcd at one revision.
#[derive(Debug)]
pub struct Placement {
    revision: u64,
    ring: Ring,
    members: Vec<MemberInfo>,
}

impl Placement {
    /// The placement version: the etcd revision whose members built the ring.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// The ring.
    pub fn ring(&self) -> &Ring {
        &self.ring
    }

    /// The members, sorted by node id.
    pub fn members(&self) -> &[MemberInfo] {
        &self.members
    }

    /// The address that `node` registered.
    pub fn addr(&self, node: &str) -> Option<&str> {
        self.members
            .binary_search_by(|m| m.node.as_bytes().cmp(node.as_bytes()))
            .ok()
            .map(|i| self.members[i].addr.as_str())
    }
}

/// One change of a watched ring, as the callback gets it.
#[derive(Debug)]
pub struct Change {
    /// The placement before.
    pub before: Arc<Placement>,
    /// The placement now current.
    pub after: Arc<Placement>,
    /// The migration plan, `before.ring().diff(after.ring())`; `None` for
    /// jump, which has no key positions.
    pub plan: Option<Diff>,
    /// Whether the change was found by listing the members again (after a
    /// compaction) rather than from watch events.
    pub relisted: bool,
}

/// What a watcher has done so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WatchStats {
    /// Lists of the members (1 at start, one more per compaction).
    pub lists: u64,
    /// New placements swapped in after the first.
    pub changes: u64,
    /// Watches that etcd refused as compacted.
    pub compactions: u64,
    /// Watch streams that could not be opened.
    pub failures: u64,
    /// Keys under the ring's prefix that are not member records.
    pub skipped: u64,
    /// The last failure (etcd unreachable, a ring that could not be built,
    /// a callback that panicked).
    pub last_error: Option<String>,
}

type Callback = Box<dyn FnMut(&Change) + Send>;

struct Shared {
    current: Mutex<Arc<Placement>>,
    changed: Condvar,
    stats: Mutex<WatchStats>,
    stop: AtomicBool,
}

/// Follows one ring's members in etcd (see the module docs). Dropping it
/// stops its thread (within 100 ms, or the list request under way); the
/// callback is never called after the drop returns. Safe to share between
/// threads. A forked child's copy does not follow (the thread is the
/// parent's): it keeps the placement it had at the fork.
pub struct Watcher {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    /// The process that started it (a forked child has no such thread).
    pid: u32,
}

impl Watcher {
    /// Lists the members of ring `ring` (a name as for
    /// [`Member::join`](super::Member::join)) and starts following them.
    /// When this returns, [`Watcher::current`] holds the ring of the
    /// members at the list's revision. Errors: `InvalidArgument` (a bad
    /// name, endpoint or option: the algorithm's parameters are checked as
    /// [`Ring::with_config`] does), `Unavailable` (etcd did not answer the
    /// list within `request_timeout`).
    pub fn start<S: AsRef<str>>(
        endpoints: &[S],
        ring: &str,
        options: &WatchOptions,
    ) -> Result<Watcher> {
        Watcher::launch(endpoints, ring, options, None)
    }

    /// [`Watcher::start`], calling `on_change` on the watcher's thread after
    /// each swap (not for the first ring): when it runs, [`Watcher::current`]
    /// returns the new placement already. The watcher waits for it, so a
    /// slow callback delays the next ring (the events meanwhile coalesce). A callback that panics is
    /// recorded in [`WatchStats::last_error`]; the watcher goes on.
    pub fn with_callback<S, F>(
        endpoints: &[S],
        ring: &str,
        options: &WatchOptions,
        on_change: F,
    ) -> Result<Watcher>
    where
        S: AsRef<str>,
        F: FnMut(&Change) + Send + 'static,
    {
        Watcher::launch(endpoints, ring, options, Some(Box::new(on_change)))
    }

    fn launch<S: AsRef<str>>(
        endpoints: &[S],
        ring: &str,
        options: &WatchOptions,
        callback: Option<Callback>,
    ) -> Result<Watcher> {
        validate_ring_name(ring)?;
        super::validate_namespace(&options.namespace)?;
        if options.request_timeout.is_zero() {
            return Err(Error::invalid("request_timeout must be more than 0"));
        }
        let empty = Ring::with_config(options.algorithm, options.vnodes, options.table_size)?;
        let transport: Arc<dyn Transport> = Arc::new(Http::new(endpoints)?);
        let shared = Arc::new(Shared {
            current: Mutex::new(Arc::new(Placement {
                revision: 0,
                ring: empty,
                members: Vec::new(),
            })),
            changed: Condvar::new(),
            stats: Mutex::new(WatchStats::default()),
            stop: AtomicBool::new(false),
        });
        let prefix = ring_prefix(&options.namespace, ring);
        let mut follower = Follower {
            transport,
            end: ring_end(&prefix),
            prefix,
            options: options.clone(),
            members: BTreeMap::new(),
            seen: 0,
            shared: Arc::clone(&shared),
            callback: None,
        };
        follower.list()?;
        follower.callback = callback;
        let thread = std::thread::Builder::new()
            .name("ringlock-etcd-watch".into())
            .spawn(move || follower.run())
            .map_err(|e| Error::io("cannot start the membership watch thread", &e))?;
        Ok(Watcher {
            shared,
            thread: Some(thread),
            pid: std::process::id(),
        })
    }

    /// The current placement (one pointer copy under a short lock).
    pub fn current(&self) -> Arc<Placement> {
        Arc::clone(&self.shared.current.lock())
    }

    /// Waits until the placement's revision is above `revision` and returns
    /// it; `None` when `timeout` passed first (`None`: no limit).
    pub fn wait_newer(&self, revision: u64, timeout: Option<Duration>) -> Option<Arc<Placement>> {
        let until = timeout.map(|t| Instant::now() + t);
        let mut current = self.shared.current.lock();
        loop {
            if current.revision > revision {
                return Some(Arc::clone(&current));
            }
            match until {
                Some(u) => {
                    if self.shared.changed.wait_until(&mut current, u).timed_out()
                        && current.revision <= revision
                    {
                        return None;
                    }
                }
                None => self.shared.changed.wait(&mut current),
            }
        }
    }

    /// What the watcher has done so far.
    pub fn stats(&self) -> WatchStats {
        self.shared.stats.lock().clone()
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        if std::process::id() != self.pid {
            // A forked child: the thread is the parent's; leave it be.
            std::mem::forget(self.thread.take());
            return;
        }
        self.shared.stop.store(true, Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// What a watch stream's reader thread hands on.
enum Msg {
    Data(Value),
    Failed(Error),
}

/// How a batch of watch messages ended.
#[derive(PartialEq, Eq)]
enum Next {
    /// Keep reading this stream.
    Read,
    /// The stream ended: re-open it from the last revision seen.
    Reopen,
    /// etcd no longer has the history: list again.
    Relist,
}

/// The watcher's thread state.
struct Follower {
    transport: Arc<dyn Transport>,
    prefix: Vec<u8>,
    end: Vec<u8>,
    options: WatchOptions,
    /// The members as of revision `seen`.
    members: BTreeMap<String, MemberInfo>,
    seen: i64,
    shared: Arc<Shared>,
    callback: Option<Callback>,
}

impl Follower {
    fn stopped(&self) -> bool {
        self.shared.stop.load(Relaxed)
    }

    fn run(mut self) {
        let mut retry = FIRST_RETRY;
        let mut relist = false;
        while !self.stopped() {
            if relist {
                if let Err(e) = self.list() {
                    self.failed(&e);
                    self.pause(&mut retry);
                    continue;
                }
                relist = false;
            }
            let opened = Instant::now();
            let (rx, got) = self.open();
            match self.follow(&rx) {
                Next::Relist => relist = true,
                Next::Reopen | Next::Read => {}
            }
            if !got.load(Relaxed) && opened.elapsed() < POLL {
                self.pause(&mut retry); // a stream that ends at once
            } else {
                retry = FIRST_RETRY;
            }
        }
    }

    /// Sleeps `retry` (in slices, watching the stop flag) and doubles it.
    fn pause(&self, retry: &mut Duration) {
        let until = Instant::now() + *retry;
        while !self.stopped() && Instant::now() < until {
            std::thread::sleep(POLL.min(until.saturating_duration_since(Instant::now())));
        }
        *retry = (*retry * 2).min(MAX_RETRY);
    }

    fn failed(&self, e: &Error) {
        let mut stats = self.shared.stats.lock();
        stats.last_error = Some(e.to_string());
    }

    /// Opens a watch of the prefix from `seen + 1` on a reader thread.
    fn open(&self) -> (Receiver<Msg>, Arc<AtomicBool>) {
        let (tx, rx) = mpsc::channel();
        let got = Arc::new(AtomicBool::new(false));
        let request = json!({"create_request": {
            "key": codec::b64(&self.prefix),
            "range_end": codec::b64(&self.end),
            "start_revision": (self.seen + 1).to_string(),
        }});
        let transport = Arc::clone(&self.transport);
        let flag = Arc::clone(&got);
        let spawned = std::thread::Builder::new()
            .name("ringlock-etcd-watch-stream".into())
            .spawn(move || read_stream(&*transport, &request, &tx, &flag));
        if let Err(e) = spawned {
            self.failed(&Error::io("cannot start a watch stream thread", &e));
        }
        (rx, got)
    }

    /// Reads one stream until it ends or asks for a list.
    fn follow(&mut self, rx: &Receiver<Msg>) -> Next {
        loop {
            let msg = match rx.recv_timeout(POLL) {
                Err(RecvTimeoutError::Timeout) if self.stopped() => return Next::Reopen,
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => return Next::Reopen,
                Ok(Msg::Failed(e)) => {
                    self.shared.stats.lock().failures += 1;
                    self.failed(&e);
                    return Next::Reopen;
                }
                Ok(Msg::Data(msg)) => msg,
            };
            let mut next = self.take(&msg);
            if next == Next::Read && codec::has_events(&msg) {
                next = self.coalesce(rx);
                // a ring that cannot be built is recorded; the next event
                // tries again
                let _ = self.swap(self.seen, false);
            }
            if next != Next::Read {
                return next;
            }
        }
    }

    /// Takes the messages that follow closely (those already queued, then
    /// those that come within the quiet window), then returns.
    fn coalesce(&mut self, rx: &Receiver<Msg>) -> Next {
        let quiet = self.options.coalesce;
        let until = Instant::now() + quiet * COALESCE_ROUNDS;
        for _ in 0..MAX_BATCH {
            let left = until.saturating_duration_since(Instant::now());
            let msg = match rx.try_recv() {
                Ok(msg) => Ok(msg),
                Err(mpsc::TryRecvError::Disconnected) => Err(RecvTimeoutError::Disconnected),
                Err(mpsc::TryRecvError::Empty) if left.is_zero() => return Next::Read,
                Err(mpsc::TryRecvError::Empty) => rx.recv_timeout(quiet.min(left)),
            };
            match msg {
                Err(RecvTimeoutError::Timeout) => return Next::Read,
                Err(RecvTimeoutError::Disconnected) | Ok(Msg::Failed(_)) => return Next::Reopen,
                Ok(Msg::Data(msg)) => {
                    let next = self.take(&msg);
                    if next != Next::Read {
                        return next;
                    }
                }
            }
        }
        Next::Read
    }

    /// Applies one watch message to the members.
    fn take(&mut self, msg: &Value) -> Next {
        if int(msg, "compact_revision").unwrap_or(1) != 0 {
            self.shared.stats.lock().compactions += 1;
            return Next::Relist;
        }
        if flag(msg, "canceled") {
            return Next::Relist;
        }
        let Some(events) = msg.get("events").and_then(Value::as_array) else {
            return Next::Read;
        };
        for event in events {
            if let Err(e) = self.apply(event) {
                self.failed(&e);
                return Next::Relist;
            }
        }
        Next::Read
    }

    fn apply(&mut self, event: &Value) -> Result<()> {
        let kv = event
            .get("kv")
            .ok_or_else(|| Error::corrupt("etcd's watch event has no kv"))?;
        let revision = int(kv, "mod_revision")?;
        let parsed = codec::kvs(&json!({ "kvs": [kv] }))?;
        let kv_read = parsed
            .first()
            .ok_or_else(|| Error::corrupt("etcd's watch event has an empty kv"))?;
        let deleted = event.get("type").and_then(Value::as_str) == Some("DELETE");
        self.seen = self.seen.max(revision);
        let Some(node) = self.node_of(&kv_read.key) else {
            self.shared.stats.lock().skipped += 1;
            return Ok(());
        };
        if deleted {
            self.members.remove(&node);
            return Ok(());
        }
        match self.member(node.clone(), kv_read) {
            Some(m) => {
                self.members.insert(node, m);
            }
            None => {
                self.members.remove(&node);
                self.shared.stats.lock().skipped += 1;
            }
        }
        Ok(())
    }

    fn node_of(&self, key: &[u8]) -> Option<String> {
        let rest = key.strip_prefix(self.prefix.as_slice())?;
        let node = std::str::from_utf8(rest).ok()?;
        validate_name(node).ok()?;
        Some(node.to_owned())
    }

    fn member(&self, node: String, kv: &codec::Kv) -> Option<MemberInfo> {
        let (weight, addr) = parse_member(&kv.value)?;
        Some(MemberInfo {
            node,
            weight,
            addr,
            lease: kv.lease,
            joined: kv.create_revision.unsigned_abs(),
        })
    }

    /// Lists the members at the current revision and swaps in their ring.
    fn list(&mut self) -> Result<()> {
        let deadline = Instant::now() + self.options.request_timeout;
        let answer = self.transport.call(
            "/v3/kv/range",
            &codec::range(&self.prefix, &self.end),
            deadline,
        )?;
        let revision = codec::revision(&answer)?;
        let mut members = BTreeMap::new();
        let mut skipped = 0;
        for kv in codec::kvs(&answer)? {
            match self
                .node_of(&kv.key)
                .and_then(|node| self.member(node, &kv))
            {
                Some(m) => {
                    members.insert(m.node.clone(), m);
                }
                None => skipped += 1,
            }
        }
        {
            let mut stats = self.shared.stats.lock();
            stats.lists += 1;
            stats.skipped += skipped;
        }
        self.members = members;
        self.seen = revision;
        self.swap(revision, true)
    }

    /// Builds the ring of the members and swaps it in, stamped `revision`,
    /// unless the members are those of the current placement. A ring that
    /// cannot be built (past the ring's limits) is an error, also recorded
    /// in the stats; the current placement stays.
    fn swap(&mut self, revision: i64, relisted: bool) -> Result<()> {
        let members: Vec<MemberInfo> = self.members.values().cloned().collect();
        let before = Arc::clone(&self.shared.current.lock());
        if before.revision > 0 && before.members == members {
            return Ok(());
        }
        let built = Ring::with_config(
            self.options.algorithm,
            self.options.vnodes,
            self.options.table_size,
        )
        .and_then(|mut ring| {
            ring.add_many(members.iter().map(|m| (m.node.as_str(), m.weight)))?;
            Ok(ring)
        });
        let ring = match built {
            Ok(ring) => ring,
            Err(e) => {
                let e = Error::new(
                    e.kind(),
                    format!("the ring of revision {revision} cannot be built: {e}"),
                );
                self.failed(&e);
                return Err(e);
            }
        };
        let after = Arc::new(Placement {
            revision: revision.unsigned_abs(),
            ring,
            members,
        });
        // revision 0: the empty placeholder before the first list
        let first = before.revision == 0;
        *self.shared.current.lock() = Arc::clone(&after);
        self.shared.changed.notify_all();
        if first {
            return Ok(());
        }
        self.shared.stats.lock().changes += 1;
        let Some(callback) = self.callback.as_mut() else {
            return Ok(());
        };
        if self.shared.stop.load(Relaxed) {
            return Ok(());
        }
        let change = Change {
            plan: before.ring.diff(&after.ring).ok(),
            before,
            after,
            relisted,
        };
        if catch_unwind(AssertUnwindSafe(|| callback(&change))).is_err() {
            self.shared.stats.lock().last_error = Some(format!(
                "the change callback panicked at revision {revision}"
            ));
        }
        Ok(())
    }
}

/// A reader thread's body: opens the watch and hands each message on until
/// the stream ends (at the window's end at the latest) or nobody listens.
fn read_stream(transport: &dyn Transport, request: &Value, tx: &Sender<Msg>, got: &AtomicBool) {
    let deadline = Instant::now() + WINDOW;
    match transport.watch(std::slice::from_ref(request), deadline) {
        Err(e) => {
            let _ = tx.send(Msg::Failed(e));
        }
        Ok(mut stream) => {
            while let Some(msg) = stream.next() {
                got.store(true, Relaxed);
                if tx.send(Msg::Data(msg)).is_err() {
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::transport::WatchStream;
    use super::*;
    use std::collections::VecDeque;

    /// Scripted answers: ranges in order, and watch streams in order (each
    /// a list of messages, then its end); no stream left is `Unavailable`.
    #[derive(Default)]
    struct Script {
        ranges: Mutex<VecDeque<Value>>,
        streams: Mutex<VecDeque<Vec<Value>>>,
        watched_from: Mutex<Vec<String>>,
    }

    struct Scripted(VecDeque<Value>);

    impl WatchStream for Scripted {
        fn next(&mut self) -> Option<Value> {
            self.0.pop_front()
        }
    }

    impl Transport for Script {
        fn call(&self, path: &str, _: &Value, _: Instant) -> Result<Value> {
            assert_eq!(path, "/v3/kv/range");
            self.ranges
                .lock()
                .pop_front()
                .ok_or_else(|| Error::new(crate::ErrorKind::Unavailable, "no range left"))
        }

        fn watch(&self, requests: &[Value], _: Instant) -> Result<Box<dyn WatchStream>> {
            let from = requests[0]["create_request"]["start_revision"]
                .as_str()
                .unwrap();
            self.watched_from.lock().push(from.to_owned());
            match self.streams.lock().pop_front() {
                Some(msgs) => Ok(Box::new(Scripted(msgs.into()))),
                None => Err(Error::new(crate::ErrorKind::Unavailable, "no stream left")),
            }
        }
    }

    fn kv(node: &str, weight: u32, rev: i64) -> Value {
        let value = json!({ "weight": weight, "addr": format!("{node}:1") }).to_string();
        json!({
            "key": codec::b64(format!("ns/~ring/r/{node}").as_bytes()),
            "value": codec::b64(value.as_bytes()),
            "create_revision": rev.to_string(),
            "mod_revision": rev.to_string(),
        })
    }

    fn range(rev: i64, kvs: Vec<Value>) -> Value {
        json!({"header": {"revision": rev.to_string()}, "kvs": kvs})
    }

    fn put(node: &str, weight: u32, rev: i64) -> Value {
        json!({"header": {"revision": rev.to_string()}, "events": [{"kv": kv(node, weight, rev)}]})
    }

    fn delete(node: &str, rev: i64) -> Value {
        let key = codec::b64(format!("ns/~ring/r/{node}").as_bytes());
        json!({"header": {"revision": rev.to_string()},
               "events": [{"type": "DELETE", "kv": {"key": key, "mod_revision": rev.to_string()}}]})
    }

    fn follower(script: Arc<Script>, options: WatchOptions) -> (Follower, Arc<Shared>) {
        let shared = Arc::new(Shared {
            current: Mutex::new(Arc::new(Placement {
                revision: 0,
                ring: Ring::new(options.algorithm),
                members: Vec::new(),
            })),
            changed: Condvar::new(),
            stats: Mutex::new(WatchStats::default()),
            stop: AtomicBool::new(false),
        });
        let prefix = ring_prefix("ns", "r");
        let f = Follower {
            transport: script,
            end: ring_end(&prefix),
            prefix,
            options,
            members: BTreeMap::new(),
            seen: 0,
            shared: Arc::clone(&shared),
            callback: None,
        };
        (f, shared)
    }

    fn nodes(p: &Placement) -> Vec<(String, u32)> {
        p.ring().nodes().map(|(n, w)| (n.to_owned(), w)).collect()
    }

    #[test]
    fn follows_events_coalesces_and_relists_after_a_compaction() {
        let script = Arc::new(Script::default());
        let stray = json!({"key": codec::b64(b"ns/~ring/r/bad"), "value": codec::b64(b"x"),
                           "create_revision": "4", "mod_revision": "4"});
        script.ranges.lock().extend([
            range(5, vec![kv("a", 1, 3), kv("b", 2, 4), stray]),
            range(20, vec![kv("b", 2, 4), kv("c", 1, 6), kv("d", 3, 15)]),
        ]);
        script.streams.lock().extend([
            vec![
                json!({"header": {"revision": "5"}, "created": true}),
                put("c", 1, 6),
                delete("a", 7),
            ],
            vec![json!({"canceled": true, "compact_revision": "12"})],
        ]);
        let (mut f, shared) = follower(Arc::clone(&script), WatchOptions::default());
        f.list().unwrap();
        let first = Arc::clone(&shared.current.lock());
        assert_eq!(first.revision(), 5);
        assert_eq!(nodes(&first), [("a".into(), 1), ("b".into(), 2)]);
        assert_eq!(first.addr("b"), Some("b:1"));

        let changes = Arc::new(Mutex::new(Vec::new()));
        let c = Arc::clone(&changes);
        f.callback = Some(Box::new(move |ch: &Change| {
            c.lock()
                .push((ch.after.revision(), ch.relisted, ch.plan.clone()));
        }));
        let waiter = {
            let shared = Arc::clone(&shared);
            std::thread::spawn(move || {
                let until = Instant::now() + Duration::from_secs(10);
                while shared.current.lock().revision != 20 && Instant::now() < until {
                    std::thread::sleep(Duration::from_millis(5));
                }
                shared.stop.store(true, Relaxed);
            })
        };
        f.run();
        waiter.join().unwrap();

        let changes = changes.lock();
        // the put and the delete came together: one ring, at the delete's revision
        assert_eq!(changes.len(), 2, "{changes:?}");
        assert_eq!((changes[0].0, changes[0].1), (7, false));
        let ab = Ring::with_nodes(Algorithm::Xxh3, 0, [("a", 1), ("b", 2)]).unwrap();
        let bc = Ring::with_nodes(Algorithm::Xxh3, 0, [("b", 2), ("c", 1)]).unwrap();
        assert_eq!(changes[0].2, Some(ab.diff(&bc).unwrap()));
        assert_eq!((changes[1].0, changes[1].1), (20, true));
        let now = Arc::clone(&shared.current.lock());
        assert_eq!(
            nodes(&now),
            [("b".into(), 2), ("c".into(), 1), ("d".into(), 3)]
        );
        // the second stream resumed after the last event; the third after
        // the list
        let from = script.watched_from.lock();
        assert_eq!(from[..3], ["6", "8", "21"]);
        let stats = shared.stats.lock();
        assert_eq!((stats.lists, stats.compactions, stats.skipped), (2, 1, 1));
    }

    #[test]
    fn an_unbuildable_ring_keeps_the_last_one() {
        // maglev's table of 7 entries cannot hold 8 nodes
        let script = Arc::new(Script::default());
        let many: Vec<Value> = (0..8).map(|i| kv(&format!("n{i}"), 1, 3 + i)).collect();
        script.ranges.lock().push_back(range(11, many));
        let options = WatchOptions {
            algorithm: Algorithm::Maglev,
            table_size: 7,
            ..WatchOptions::default()
        };
        let (mut f, shared) = follower(script, options);
        assert!(f.list().is_err());
        assert_eq!(shared.current.lock().revision(), 0);
        assert!(shared.stats.lock().last_error.is_some());
    }
}
