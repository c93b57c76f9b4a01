//! The etcd lock beside its floor, on one local etcd started for the run.
//!
//! - ringlock: `etcd::Lock::acquire` + `Guard::release`, uncontended, one
//!   handle, the client (and its lease) made once.
//! - floor: what any lease lock over etcd must send, raw: one transaction
//!   that puts the key under the lease if it does not exist
//!   (`create_revision == 0`), and one that deletes it guarded by its create
//!   revision — JSON over one kept-alive HTTP/1.1 connection, through the
//!   same HTTP client (ureq) and JSON library (serde_json) as ringlock, so
//!   the difference is the recipe, not the stack.
//!
//! Rounds interleave the two (order swapped each round); every pair is timed
//! on its own; p50 and p99 of each side over all rounds, and the ratio of the
//! p50s. Needs `etcd` on PATH (`make bench-etcd` runs tests/lib/need-etcd.sh
//! first).
//!
//!   cargo bench --bench etcd [-- PAIRS ROUNDS]   (defaults 300 and 9)
//!
//! A benchmark, not a test: it prints PASS/MISS and exits 0 whatever it
//! measures.

#[path = "../../core/tests/common/etcd.rs"]
#[allow(dead_code)]
mod etcd_server;
#[path = "common/table.rs"]
mod table;

use base64::{engine::general_purpose::STANDARD, Engine};
use ringlock::etcd::{Client, ClientOptions, Lock};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use table::Table;

/// The raw floor: an HTTP/1.1 agent (one kept-alive connection) and a lease.
struct Floor {
    agent: ureq::Agent,
    endpoint: String,
    lease: String,
}

impl Floor {
    fn new(endpoint: &str) -> Floor {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .new_agent();
        let mut f = Floor {
            agent,
            endpoint: endpoint.to_owned(),
            lease: String::new(),
        };
        let granted = f.post("/v3/lease/grant", &json!({"TTL": "3600"}));
        f.lease = granted["ID"].as_str().expect("a lease id").to_owned();
        f
    }

    fn post(&self, path: &str, body: &Value) -> Value {
        let text = self
            .agent
            .post(&format!("{}{path}", self.endpoint))
            .content_type("application/json")
            .send(body.to_string())
            .expect("etcd answers")
            .body_mut()
            .read_to_string()
            .expect("a body");
        serde_json::from_str(&text).expect("JSON")
    }

    /// Put-if-absent under the lease, then the guarded delete.
    fn pair(&self, key: &str) {
        let k = STANDARD.encode(key);
        let put = json!({
            "compare": [{"key": k, "target": "CREATE", "result": "EQUAL", "create_revision": "0"}],
            "success": [{"request_put": {"key": k, "value": STANDARD.encode("x"), "lease": self.lease}}],
        });
        let answer = self.post("/v3/kv/txn", &put);
        assert_eq!(
            answer["succeeded"],
            json!(true),
            "the key was free: {answer}"
        );
        let rev = answer["header"]["revision"]
            .as_str()
            .expect("a revision")
            .to_owned();
        let delete = json!({
            "compare": [{"key": k, "target": "CREATE", "result": "EQUAL", "create_revision": rev}],
            "success": [{"request_delete_range": {"key": k}}],
        });
        let answer = self.post("/v3/kv/txn", &delete);
        assert_eq!(
            answer["succeeded"],
            json!(true),
            "the key was ours: {answer}"
        );
    }
}

fn timed(pairs: usize, mut f: impl FnMut()) -> Vec<f64> {
    (0..pairs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e6
        })
        .collect()
}

fn main() {
    let nums: Vec<usize> = std::env::args().filter_map(|a| a.parse().ok()).collect();
    let pairs = nums.first().copied().unwrap_or(300).max(1);
    let rounds = nums.get(1).copied().unwrap_or(9).max(1);
    let Some(server) = etcd_server::Etcd::start("bench etcd") else {
        return;
    };
    let endpoint = server.endpoint(0);
    let client = Client::connect(&[&endpoint], &ClientOptions::default()).expect("connect");
    let lock = Lock::new(&client, "bench-etcd").expect("lock");
    let floor = Floor::new(&endpoint);
    let mut ours = Vec::new();
    let mut raw = Vec::new();
    let ringlock_side = |v: &mut Vec<f64>| {
        v.extend(timed(pairs, || {
            lock.acquire(Some(Duration::from_secs(5)))
                .expect("acquire")
                .release()
                .expect("release")
        }))
    };
    // warm both connections
    ringlock_side(&mut Vec::new());
    timed(pairs / 10 + 1, || floor.pair("bench-floor"));
    for round in 0..rounds {
        if round % 2 == 0 {
            ringlock_side(&mut ours);
            raw.extend(timed(pairs, || floor.pair("bench-floor")));
        } else {
            raw.extend(timed(pairs, || floor.pair("bench-floor")));
            ringlock_side(&mut ours);
        }
    }
    let table = Table::new(
        &server,
        &format!(
            "etcd lock: uncontended acquire + release, us, {rounds} interleaved rounds of {pairs}"
        ),
        "mechanism",
        44,
    );
    let ours_p50 = table.row("ringlock etcd Lock acquire + release", &mut ours);
    let raw_p50 = table.row("floor: raw put-if-absent txn + guarded delete", &mut raw);
    let ratio = ours_p50 / raw_p50;
    let verdict = if ratio <= 1.5 { "PASS" } else { "MISS" };
    println!("target acquire + release p50 within 1.5x of the floor: {ratio:.2}x {verdict}");
}
