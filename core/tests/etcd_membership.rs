//! Membership against a real etcd (tests/common/etcd.rs starts it): members
//! in child processes join a ring, one is killed with SIGKILL, and every
//! watcher's ring drops it within TTL + 1 s, all watchers agreeing at every
//! revision; the migration plan is the diff of the two rings; a compaction
//! while a watcher is cut off forces it to list again; the host watcher
//! (`ringlock-watch`) keeps a SharedRing file that answers as the watchers'
//! ring; leave() reaches every watcher quickly (the p50 is printed).
//!
//! The child processes are this binary again (the ignored test `child`, by
//! RINGLOCK_ROLE).
#![cfg(feature = "etcd")]

mod common;

use common::etcd::Etcd;
use ringlock::etcd::{Change, ClientOptions, Member, Placement, WatchOptions, Watcher};
use ringlock::{Algorithm, Backend, ErrorKind, Ring, SharedRing};
use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

const TTL: Duration = Duration::from_secs(2);
const RING: &str = "cache";

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn client_options() -> ClientOptions {
    ClientOptions {
        ttl: TTL,
        namespace: "test".into(),
        request_timeout: Duration::from_secs(3),
    }
}

fn watch_options(algorithm: Algorithm) -> WatchOptions {
    WatchOptions {
        algorithm,
        namespace: "test".into(),
        request_timeout: Duration::from_secs(3),
        ..WatchOptions::default()
    }
}

/// The child side: a member that joins, says so, and waits for `leave` on
/// stdin (or is killed).
#[test]
#[ignore]
fn child() {
    let Ok(role) = std::env::var("RINGLOCK_ROLE") else {
        return;
    };
    assert_eq!(role, "member");
    let endpoints: Vec<String> = std::env::var("RINGLOCK_ETCD")
        .unwrap()
        .split(',')
        .map(str::to_owned)
        .collect();
    let node = std::env::var("RINGLOCK_NODE").unwrap();
    let weight: u32 = std::env::var("RINGLOCK_WEIGHT").unwrap().parse().unwrap();
    let addr = format!("10.0.0.{weight}:11211");
    let member = Member::join(&endpoints, &client_options(), RING, &node, weight, &addr).unwrap();
    let mut out = std::io::stdout();
    writeln!(out, "joined {}", member.revision()).unwrap();
    out.flush().unwrap();
    for line in std::io::stdin().lock().lines() {
        match line.unwrap().as_str() {
            "leave" => {
                member.leave().unwrap();
                writeln!(out, "left").unwrap();
                out.flush().unwrap();
                return;
            }
            "check" => match member.check() {
                Ok(()) => writeln!(out, "check ok {}", member.rejoins()).unwrap(),
                Err(e) => writeln!(out, "check {:?} {}", e.kind(), member.rejoins()).unwrap(),
            },
            other => panic!("unknown command {other:?}"),
        }
        out.flush().unwrap();
    }
}

/// Sends `command` to a member child and returns the rest of its answer.
fn ask(child: &mut Child, command: &str) -> String {
    let stdin = child.stdin.as_mut().unwrap();
    writeln!(stdin, "{command}").unwrap();
    stdin.flush().unwrap();
    let line = common::read_until(child, command).expect("member ended");
    line[command.len()..].trim().to_owned()
}

fn spawn_member(etcd: &Etcd, node: &str, weight: u32) -> Child {
    let dir = common::scratch(&format!("membership-{node}"));
    let w = weight.to_string();
    let env = [
        ("RINGLOCK_ETCD", etcd.endpoint_list()),
        ("RINGLOCK_NODE", node.to_owned()),
        ("RINGLOCK_WEIGHT", w),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut child = common::spawn("member", &dir, Backend::Shm, &env);
    common::read_until(&mut child, "joined").expect("member did not join");
    child
}

/// Everything a watcher reported: its first placement and every change.
#[derive(Default)]
struct History {
    placements: Vec<Arc<Placement>>,
    changes: Vec<Change>,
}

fn watch(endpoints: &[String], algorithm: Algorithm) -> (Watcher, Arc<Mutex<History>>) {
    watch_with(endpoints, &watch_options(algorithm))
}

fn watch_with(endpoints: &[String], options: &WatchOptions) -> (Watcher, Arc<Mutex<History>>) {
    let history = Arc::new(Mutex::new(History::default()));
    let h = Arc::clone(&history);
    let watcher = Watcher::with_callback(endpoints, RING, options, move |c| {
        let mut h = h.lock().unwrap();
        h.placements.push(Arc::clone(&c.after));
        h.changes.push(Change {
            before: Arc::clone(&c.before),
            after: Arc::clone(&c.after),
            plan: c.plan.clone(),
            relisted: c.relisted,
        });
    })
    .unwrap();
    history
        .lock()
        .unwrap()
        .placements
        .insert(0, watcher.current());
    (watcher, history)
}

/// Waits until the callback has recorded the change to `revision` (the
/// watcher swaps the placement in before it calls the callback).
fn recorded(history: &Mutex<History>, revision: u64) -> MutexGuard<'_, History> {
    let until = Instant::now() + Duration::from_secs(5);
    loop {
        let h = history.lock().unwrap();
        if h.changes
            .last()
            .is_some_and(|c| c.after.revision() == revision)
        {
            return h;
        }
        drop(h);
        assert!(
            Instant::now() < until,
            "no change to revision {revision} recorded"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Waits until `watcher`'s ring holds exactly `nodes`; the time it took.
fn wait_nodes(watcher: &Watcher, nodes: &[&str], within: Duration) -> Duration {
    let t = Instant::now();
    loop {
        let p = watcher.current();
        let have: Vec<&str> = p.ring().nodes().map(|(n, _)| n).collect();
        if have == nodes {
            return t.elapsed();
        }
        assert!(
            t.elapsed() < within,
            "after {:?} the ring holds {have:?}, not {nodes:?} (revision {}, {:?})",
            t.elapsed(),
            p.revision(),
            watcher.stats()
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn ring_of(algorithm: Algorithm, nodes: &[(&str, u32)]) -> Ring {
    Ring::with_nodes(algorithm, 0, nodes.iter().copied()).unwrap()
}

/// Every revision that two watchers both report carries byte-identical rings.
fn assert_agree(histories: &[Arc<Mutex<History>>]) {
    let mut seen: BTreeMap<u64, Vec<u8>> = BTreeMap::new();
    for h in histories {
        for p in &h.lock().unwrap().placements {
            let bytes = p.ring().to_bytes();
            let prior = seen.entry(p.revision()).or_insert_with(|| bytes.clone());
            assert!(
                *prior == bytes,
                "two watchers hold different rings at revision {}",
                p.revision()
            );
        }
    }
}

/// The host watcher, its stdout read line by line.
struct HostWatcher {
    child: Child,
    lines: std::io::Lines<std::io::BufReader<std::process::ChildStdout>>,
}

impl HostWatcher {
    fn start(endpoints: &str, output: &std::path::Path, algorithm: Algorithm) -> HostWatcher {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ringlock-watch"))
            .args([
                "--endpoints",
                endpoints,
                "--ring",
                RING,
                "--namespace",
                "test",
            ])
            .args(["--algorithm", algorithm.name()])
            .arg("--output")
            .arg(output)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        HostWatcher {
            child,
            lines: std::io::BufReader::new(out).lines(),
        }
    }

    /// Reads `published revision=R generation=G nodes=N` lines until one
    /// with `nodes` nodes: (R, G).
    fn until_nodes(&mut self, nodes: usize) -> (u64, u64) {
        for line in self.lines.by_ref() {
            let line = line.unwrap();
            let field = |name: &str| -> u64 {
                line.split(' ')
                    .find_map(|w| w.strip_prefix(name))
                    .unwrap()
                    .parse()
                    .unwrap()
            };
            if field("nodes=") == nodes as u64 {
                return (field("revision="), field("generation="));
            }
        }
        panic!("the host watcher ended before publishing {nodes} nodes");
    }
}

impl Drop for HostWatcher {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn keys() -> Vec<Vec<u8>> {
    (0..5000)
        .map(|i| format!("user:{i}").into_bytes())
        .collect()
}

fn assert_same_answers(shared: &mut SharedRing, ring: &Ring) {
    for key in keys() {
        assert_eq!(shared.get(&key).unwrap(), ring.get(&key).unwrap());
    }
}

/// 5 members join (child processes), one is killed: every watcher's ring
/// drops it within TTL + 1 s; the watchers agree at every revision; the
/// change's plan is the diff of the two rings and moves only the dead
/// member's keys; the host watcher's SharedRing answers as the watchers.
#[test]
fn a_killed_member_leaves_every_ring() {
    let _serial = serial();
    let Some(etcd) = Etcd::start("a_killed_member_leaves_every_ring") else {
        return;
    };
    let alg = Algorithm::Xxh3;
    let endpoints = etcd.endpoints();
    let watchers: Vec<_> = (0..3).map(|_| watch(&endpoints, alg)).collect();
    let (jump, jump_history) = watch(&endpoints, Algorithm::Jump);
    let out = common::scratch("membership-host").join("ring");
    let mut host = HostWatcher::start(&etcd.endpoint_list(), &out, alg);
    host.until_nodes(0);

    let nodes = [
        ("node-a", 1),
        ("node-b", 2),
        ("node-c", 1),
        ("node-d", 3),
        ("node-e", 1),
    ];
    let mut children: Vec<Child> = nodes
        .iter()
        .map(|&(n, w)| spawn_member(&etcd, n, w))
        .collect();
    let all: Vec<&str> = nodes.iter().map(|(n, _)| *n).collect();
    for (w, _) in &watchers {
        wait_nodes(w, &all, Duration::from_secs(5));
    }
    let five = ring_of(alg, &nodes);
    let p = watchers[0].0.current();
    assert_eq!(p.ring().to_bytes(), five.to_bytes());
    assert_eq!(p.addr("node-d"), Some("10.0.0.3:11211"));

    // the same node id twice is refused while the first is alive
    let e = Member::join(&endpoints, &client_options(), RING, "node-a", 1, "")
        .err()
        .unwrap();
    assert_eq!(e.kind(), ErrorKind::AlreadyExists, "{e}");

    host.until_nodes(5);
    let mut shared = SharedRing::open(&out).unwrap();
    assert_same_answers(&mut shared, &five);

    // SIGKILL node-c: its lease expires, etcd deletes its key
    let victim = children.remove(2);
    let t0 = Instant::now();
    // SAFETY: signalling our own child.
    assert_eq!(unsafe { libc::kill(victim.id() as i32, libc::SIGKILL) }, 0);
    let left: Vec<&str> = all.iter().copied().filter(|&n| n != "node-c").collect();
    let mut worst = Duration::ZERO;
    for (w, _) in &watchers {
        wait_nodes(w, &left, TTL + Duration::from_secs(3));
        worst = worst.max(t0.elapsed());
    }
    assert!(worst <= TTL + Duration::from_secs(1), "{worst:?}");
    eprintln!("killed member gone from every watcher's ring after {worst:?} (TTL {TTL:?})");
    let four_nodes: Vec<(&str, u32)> = nodes
        .iter()
        .copied()
        .filter(|(n, _)| *n != "node-c")
        .collect();
    let four = ring_of(alg, &four_nodes);

    // every watcher saw the removal as one change at one revision
    let revision = watchers[0].0.current().revision();
    for (w, h) in &watchers {
        assert_eq!(w.current().revision(), revision);
        let h = recorded(h, revision);
        let last = h.changes.last().unwrap();
        assert_eq!(last.before.ring().to_bytes(), five.to_bytes());
        assert_eq!(last.after.ring().to_bytes(), four.to_bytes());
        assert!(!last.relisted);
        let plan = last.plan.as_ref().unwrap();
        assert_eq!(*plan, five.diff(&four).unwrap());
        assert!(plan.moved > 0);
        for m in &plan.moves {
            assert_eq!(m.old.as_deref(), Some("node-c"), "{m:?}");
        }
    }
    // keys move exactly when the plan says, and only node-c's
    let plan = five.diff(&four).unwrap();
    for key in keys() {
        let pos = five.position(&key).unwrap();
        let moves = plan.moves.iter().any(|m| m.first <= pos && pos <= m.last);
        let (old, new) = (five.get(&key).unwrap(), four.get(&key).unwrap());
        assert_eq!(moves, old != new);
        assert!(old == new || old == "node-c");
    }
    assert_agree(
        &watchers
            .iter()
            .map(|(_, h)| Arc::clone(h))
            .collect::<Vec<_>>(),
    );

    // a jump watcher builds its own ring from the same members, with no plan
    wait_nodes(&jump, &left, Duration::from_secs(1));
    assert_eq!(jump.current().revision(), revision);
    assert_eq!(
        jump.current().ring().to_bytes(),
        ring_of(Algorithm::Jump, &four_nodes).to_bytes()
    );
    assert!(jump_history
        .lock()
        .unwrap()
        .changes
        .last()
        .unwrap()
        .plan
        .is_none());

    // the host watcher published the new ring; an open handle follows it
    let (host_revision, _) = host.until_nodes(4);
    assert_eq!(host_revision, revision);
    assert_same_answers(&mut shared, &four);
    assert_same_answers(
        &mut SharedRing::open(&out).unwrap(),
        &watchers[1].0.current().ring().clone(),
    );

    for mut c in children {
        let _ = c.kill();
        let _ = c.wait();
    }
    let mut victim = victim;
    let _ = victim.wait();
}

// ---- a TCP proxy that can cut the watcher off ------------------------------------

struct Proxy {
    port: u16,
    blocked: Arc<AtomicBool>,
    open: Arc<Mutex<Vec<TcpStream>>>,
}

impl Proxy {
    fn start(target: &str) -> Proxy {
        let target = target.trim_start_matches("http://").to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let blocked = Arc::new(AtomicBool::new(false));
        let open = Arc::new(Mutex::new(Vec::new()));
        let (b, o) = (Arc::clone(&blocked), Arc::clone(&open));
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                if b.load(Relaxed) {
                    continue; // dropped: closed at once
                }
                let Ok(server) = TcpStream::connect(&target) else {
                    continue;
                };
                {
                    let mut o = o.lock().unwrap();
                    o.push(client.try_clone().unwrap());
                    o.push(server.try_clone().unwrap());
                }
                for (mut from, mut to) in [
                    (client.try_clone().unwrap(), server.try_clone().unwrap()),
                    (server, client),
                ] {
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(Shutdown::Both);
                        let _ = from.shutdown(Shutdown::Both);
                    });
                }
            }
        });
        Proxy {
            port,
            blocked,
            open,
        }
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Cuts every open connection and refuses new ones.
    fn block(&self) {
        self.blocked.store(true, Relaxed);
        for s in self.open.lock().unwrap().drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
    }

    fn unblock(&self) {
        self.blocked.store(false, Relaxed);
    }
}

/// A member stopped (SIGSTOP) past its TTL drops out of every ring; resumed,
/// it joins again by itself under a new lease and is back in the ring.
#[test]
fn a_stopped_member_drops_out_and_rejoins() {
    let _serial = serial();
    let Some(etcd) = Etcd::start("a_stopped_member_drops_out_and_rejoins") else {
        return;
    };
    let endpoints = etcd.endpoints();
    let (watcher, _) = watch(&endpoints, Algorithm::Xxh3);
    let mut a = spawn_member(&etcd, "a", 1);
    let b = spawn_member(&etcd, "b", 1);
    wait_nodes(&watcher, &["a", "b"], Duration::from_secs(5));
    assert_eq!(ask(&mut a, "check"), "ok 0");
    let joined = watcher.current().members()[0].lease;

    // SAFETY: signalling our own child.
    assert_eq!(unsafe { libc::kill(a.id() as i32, libc::SIGSTOP) }, 0);
    wait_nodes(&watcher, &["b"], TTL + Duration::from_secs(3));
    // SAFETY: as above.
    assert_eq!(unsafe { libc::kill(a.id() as i32, libc::SIGCONT) }, 0);
    // back within TTL/3 (its thread's round) and a join
    let back = wait_nodes(&watcher, &["a", "b"], Duration::from_secs(3));
    eprintln!("a resumed member is back in the ring after {back:?}");
    assert_eq!(ask(&mut a, "check"), "ok 1");
    let p = watcher.current();
    assert_ne!(p.members()[0].lease, joined, "rejoined under a new lease");
    let stdin = a.stdin.as_mut().unwrap();
    writeln!(stdin, "leave").unwrap();
    stdin.flush().unwrap();
    common::read_until(&mut a, "left").expect("member ended before leaving");
    wait_nodes(&watcher, &["b"], Duration::from_secs(2));
    for mut c in [a, b] {
        let _ = c.kill();
        let _ = c.wait();
    }
}

fn current_revision(etcd: &Etcd) -> u64 {
    let answer = etcd
        .http(0, "POST", "/v3/kv/range", r#"{"key":"AA=="}"#)
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&answer).unwrap();
    v["header"]["revision"].as_str().unwrap().parse().unwrap()
}

/// The watcher is cut off from etcd while members change and etcd compacts
/// past the watcher's revision: when it reconnects, its watch from the old
/// revision is refused as compacted, it lists again, and converges.
#[test]
fn a_compaction_forces_a_relist() {
    let _serial = serial();
    let Some(etcd) = Etcd::start("a_compaction_forces_a_relist") else {
        return;
    };
    let alg = Algorithm::Maglev;
    let endpoints = etcd.endpoints();
    let proxy = Proxy::start(&endpoints[0]);
    let (watcher, history) = watch(&[proxy.endpoint()], alg);
    let o = client_options();
    let a = Member::join(&endpoints, &o, RING, "a", 1, "").unwrap();
    let b = Member::join(&endpoints, &o, RING, "b", 1, "").unwrap();
    wait_nodes(&watcher, &["a", "b"], Duration::from_secs(5));
    let before = watcher.current().revision();
    let lists = watcher.stats().lists;

    proxy.block();
    let c = Member::join(&endpoints, &o, RING, "c", 2, "").unwrap();
    a.leave().unwrap();
    let compact_at = current_revision(&etcd);
    assert!(compact_at > before);
    let answer = etcd
        .http(
            0,
            "POST",
            "/v3/kv/compaction",
            &format!(r#"{{"revision":"{compact_at}","physical":true}}"#),
        )
        .unwrap();
    assert!(answer.contains("header"), "compaction: {answer}");
    // the watcher is cut off: it still holds the old ring
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(watcher.current().revision(), before);
    proxy.unblock();

    wait_nodes(&watcher, &["b", "c"], Duration::from_secs(15));
    let stats = watcher.stats();
    assert!(stats.compactions >= 1, "{stats:?}");
    assert_eq!(stats.lists, lists + 1, "{stats:?}");
    let p = watcher.current();
    assert!(
        p.revision() >= compact_at,
        "{} < {compact_at}",
        p.revision()
    );
    assert_eq!(
        p.ring().to_bytes(),
        ring_of(alg, &[("b", 1), ("c", 2)]).to_bytes()
    );
    let h = recorded(&history, p.revision());
    let last = h.changes.last().unwrap();
    let seen: Vec<(u64, bool, usize)> = h
        .changes
        .iter()
        .map(|c| (c.after.revision(), c.relisted, c.after.ring().len()))
        .collect();
    assert!(
        last.relisted,
        "{seen:?} {stats:?} compacted at {compact_at}"
    );
    assert_eq!(
        last.plan,
        Some(last.before.ring().diff(last.after.ring()).unwrap())
    );
    drop(h);

    // and it follows events again after the list
    let d = Member::join(&endpoints, &o, RING, "d", 1, "").unwrap();
    wait_nodes(&watcher, &["b", "c", "d"], Duration::from_secs(5));
    for m in [b, c, d] {
        m.leave().unwrap();
    }
    wait_nodes(&watcher, &[], Duration::from_secs(5));
}

/// leave() to every watcher's new ring, over a few rounds: the p50 and the
/// worst are printed (docs/distributed.md quotes them); each round must stay
/// below 1 s. Also: check() and a leave after the lease is gone.
#[test]
fn leave_reaches_every_watcher() {
    let _serial = serial();
    let Some(etcd) = Etcd::start("leave_reaches_every_watcher") else {
        return;
    };
    let endpoints = etcd.endpoints();
    let o = client_options();
    let _stay = Member::join(&endpoints, &o, RING, "stay", 1, "").unwrap();
    for coalesce in [Duration::from_millis(10), Duration::ZERO] {
        let options = WatchOptions {
            coalesce,
            ..watch_options(Algorithm::Ketama)
        };
        let watchers: Vec<_> = (0..3).map(|_| watch_with(&endpoints, &options)).collect();
        let (mut joins, mut leaves, mut revokes) = (Vec::new(), Vec::new(), Vec::new());
        for round in 0..14 {
            let node = format!("n{round}");
            let t = Instant::now();
            let m = Member::join(&endpoints, &o, RING, &node, 1, "").unwrap();
            let mut nodes = vec![node.as_str(), "stay"];
            nodes.sort_unstable();
            for (w, _) in &watchers {
                wait_nodes(w, &nodes, Duration::from_secs(1));
            }
            joins.push(t.elapsed());
            m.check().unwrap();
            // even rounds leave(); odd ones revoke the lease as etcd does
            // when it expires (the lessor's revoke deletes its keys)
            let t = Instant::now();
            let kept = if round % 2 == 0 {
                m.leave().unwrap();
                None
            } else {
                let body = format!(r#"{{"ID":"{}"}}"#, m.lease_id());
                etcd.http(0, "POST", "/v3/lease/revoke", &body).unwrap();
                Some(m)
            };
            for (w, _) in &watchers {
                wait_nodes(w, &["stay"], Duration::from_secs(1));
            }
            match kept {
                None => leaves.push(t.elapsed()),
                Some(m) => {
                    revokes.push(t.elapsed());
                    assert_eq!(m.check().unwrap_err().kind(), ErrorKind::Lost);
                }
            }
        }
        assert_agree(
            &watchers
                .iter()
                .map(|(_, h)| Arc::clone(h))
                .collect::<Vec<_>>(),
        );
        let p50 = |v: &mut Vec<Duration>| {
            v.sort_unstable();
            (v[v.len() / 2], *v.last().unwrap())
        };
        eprintln!(
            "coalesce {coalesce:?}, 3 watchers, time to every watcher's new ring (p50, worst): \
             join() {:?}, leave() {:?}, lease revoked {:?} (7 rounds each)",
            p50(&mut joins),
            p50(&mut leaves),
            p50(&mut revokes),
        );
    }

    // a member whose key is gone is told so
    let m = Member::join(&endpoints, &o, RING, "gone", 1, "").unwrap();
    let key = base64_key(&format!("test/~ring/{RING}/gone"));
    etcd.http(
        0,
        "POST",
        "/v3/kv/deleterange",
        &format!(r#"{{"key":"{key}"}}"#),
    )
    .unwrap();
    assert_eq!(m.check().unwrap_err().kind(), ErrorKind::Lost);
    assert_eq!(m.leave().unwrap_err().kind(), ErrorKind::Lost);
}

fn base64_key(key: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(key)
}
