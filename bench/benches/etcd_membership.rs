//! Membership over etcd: the time from a change of members to every
//! watcher's new ring, on one local etcd started for the run.
//!
//! Three `Watcher`s (ketama) follow one ring in this process; a node joins
//! (`Member::join`: connect, lease grant, put), then goes, alternately by
//! `leave()` (a guarded delete and the lease's revoke) and by its lease
//! being revoked from outside, which is the path etcd's lessor takes when a
//! lease expires (it revokes the lease, deleting its keys). Timed from the
//! call to the moment the last of the three watchers holds the new ring
//! (each waits with `wait_newer`, no polling), with the default coalescing
//! window (10 ms) and with none. Beside it, the floor of any watch-based
//! membership: the same revoke seen by a raw etcd watch stream (the first
//! event line over HTTP/1.1) with no ring built.
//!
//!   cargo bench --bench etcd_membership [-- ROUNDS]   (default 20 per event)
//!
//! A benchmark, not a test: it prints what it measures and exits 0.

#[path = "../../core/tests/common/etcd.rs"]
#[allow(dead_code)]
mod etcd_server;
#[path = "common/table.rs"]
mod table;

use base64::{engine::general_purpose::STANDARD, Engine};
use ringlock::etcd::{ClientOptions, Member, WatchOptions, Watcher};
use ringlock::Algorithm;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};
use table::Table;

const RING: &str = "bench";
const NS: &str = "bench";
const WITHIN: Duration = Duration::from_secs(5);

/// Waits until every watcher's ring holds `node` (or not, `present`); the
/// watchers follow etcd on threads of their own, so waiting on them one
/// after the other ends when the slowest has swapped.
fn wait_all(watchers: &[Watcher], node: &str, present: bool) {
    for w in watchers {
        let mut p = w.current();
        while p.ring().nodes().any(|(n, _)| n == node) != present {
            p = w
                .wait_newer(p.revision(), Some(WITHIN))
                .unwrap_or_else(|| panic!("no new ring within {WITHIN:?}"));
        }
    }
}

/// The floor: a raw watch on the ring's prefix over its own connection; the
/// time from the call to the first event line.
struct RawWatch {
    reader: BufReader<TcpStream>,
}

impl RawWatch {
    fn open(endpoint: &str, prefix: &str) -> RawWatch {
        let host = endpoint.trim_start_matches("http://");
        let mut stream = TcpStream::connect(host).expect("connect to etcd");
        let key = STANDARD.encode(prefix);
        let mut end = prefix.as_bytes().to_vec();
        *end.last_mut().expect("a prefix") += 1;
        let body = format!(
            r#"{{"create_request":{{"key":"{key}","range_end":"{}"}}}}"#,
            STANDARD.encode(end)
        );
        write!(
            stream,
            "POST /v3/watch HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .expect("send the watch");
        let mut w = RawWatch {
            reader: BufReader::new(stream),
        };
        w.next_event(); // the "created" answer
        w
    }

    /// The next JSON line of the chunked stream that carries a result.
    fn next_event(&mut self) -> String {
        let mut line = String::new();
        loop {
            line.clear();
            let n = self.reader.read_line(&mut line).expect("read the watch");
            assert!(n > 0, "etcd closed the watch");
            if line.starts_with('{') {
                return line;
            }
        }
    }
}

fn revoke(server: &etcd_server::Etcd, lease: i64) {
    server
        .http(
            0,
            "POST",
            "/v3/lease/revoke",
            &format!(r#"{{"ID":"{lease}"}}"#),
        )
        .expect("revoke");
}

fn main() {
    let rounds = std::env::args()
        .filter_map(|a| a.parse::<usize>().ok())
        .next()
        .unwrap_or(20)
        .max(2);
    let Some(server) = etcd_server::Etcd::start("bench etcd membership") else {
        return;
    };
    let endpoints = server.endpoints();
    let client = ClientOptions {
        ttl: Duration::from_secs(10),
        namespace: NS.into(),
        request_timeout: Duration::from_secs(5),
    };
    let _stay = Member::join(&endpoints, &client, RING, "stay", 1, "").expect("join");
    let table = Table::new(
        &server,
        &format!("membership: a change to every one of 3 watchers' new ring, us, {rounds} rounds per event"),
        "event",
        52,
    );
    let mut revoked_p50 = 0.0;
    for coalesce in [Duration::from_millis(10), Duration::ZERO] {
        let options = WatchOptions {
            algorithm: Algorithm::Ketama,
            namespace: NS.into(),
            request_timeout: Duration::from_secs(5),
            coalesce,
            ..WatchOptions::default()
        };
        let watchers: Vec<Watcher> = (0..3)
            .map(|_| Watcher::start(&endpoints, RING, &options).expect("watch"))
            .collect();
        let (mut joins, mut leaves, mut revokes) = (Vec::new(), Vec::new(), Vec::new());
        for round in 0..2 * rounds {
            let node = format!("n{round}");
            let t = Instant::now();
            let m = Member::join(&endpoints, &client, RING, &node, 1, "").expect("join");
            wait_all(&watchers, &node, true);
            joins.push(t.elapsed().as_secs_f64() * 1e6);
            let t = Instant::now();
            if round % 2 == 0 {
                m.leave().expect("leave");
                wait_all(&watchers, &node, false);
                leaves.push(t.elapsed().as_secs_f64() * 1e6);
            } else {
                revoke(&server, m.lease_id());
                wait_all(&watchers, &node, false);
                revokes.push(t.elapsed().as_secs_f64() * 1e6);
            }
        }
        let c = coalesce.as_millis();
        table.row(&format!("join() (coalesce {c} ms)"), &mut joins);
        table.row(&format!("leave() (coalesce {c} ms)"), &mut leaves);
        revoked_p50 = table.row(&format!("lease revoked (coalesce {c} ms)"), &mut revokes);
    }

    // the floor: a raw watch sees a revoke; no ring, one watcher
    let prefix = format!("{NS}/~ring/{RING}/");
    let mut raw = RawWatch::open(&endpoints[0], &prefix);
    let mut floor = Vec::new();
    for round in 0..rounds {
        let m = Member::join(&endpoints, &client, RING, &format!("f{round}"), 1, "").expect("join");
        raw.next_event(); // the put
        let t = Instant::now();
        revoke(&server, m.lease_id());
        raw.next_event(); // the delete
        floor.push(t.elapsed().as_secs_f64() * 1e6);
    }
    let floor_p50 = table.row(
        "floor: lease revoked, seen by a raw watch stream",
        &mut floor,
    );
    println!(
        "lease revoked -> 3 watchers' new rings (coalesce 0) beside the raw watch: {:.2}x of its p50",
        revoked_p50 / floor_p50
    );
}
