//! How evenly keys spread and how many move when a node leaves, for each
//! algorithm: `cargo run --release -p ringlock --example balance [-- --sweep]`.
//! `make demo` prints the default table; `--sweep` adds peak/mean load for
//! 40 to 1,000 virtual nodes (docs/placement.md quotes it). The "size"
//! column is the vnodes per node, or maglev's table size. The second table
//! replays a skewed stream (Zipf) of requests that each keep a slot, placed
//! by `get` alone and by bounded loads (a `LoadTracker`, c = 1.25).

use ringlock::{Algorithm, LoadTracker, Ring};
use std::time::Instant;

const NODES: usize = 100;
const KEYS: usize = 1_000_000;

fn keys() -> Vec<Vec<u8>> {
    (0..KEYS).map(|i| format!("key:{i}").into_bytes()).collect()
}

fn ring(algorithm: Algorithm, vnodes: u32) -> Ring {
    sized(algorithm, vnodes, 0)
}

fn sized(algorithm: Algorithm, vnodes: u32, table_size: u32) -> Ring {
    let mut r = Ring::with_config(algorithm, vnodes, table_size).expect("valid ring");
    r.add_many((0..NODES).map(|i| (format!("node-{i:03}"), 1)))
        .expect("valid nodes");
    r
}

/// Peak/mean load and the owner id of every key.
fn loads(ring: &Ring, keys: &[Vec<u8>]) -> (f64, Vec<usize>) {
    let mut ids = vec![0usize; keys.len()];
    ring.get_many_ids(keys, &mut ids).expect("non-empty");
    let mut count = vec![0usize; ring.len()];
    for &id in &ids {
        count[id] += 1;
    }
    let peak = *count.iter().max().unwrap() as f64;
    (peak / (keys.len() as f64 / ring.len() as f64), ids)
}

/// Fraction of keys whose owner changes when `node` leaves.
fn moved_when_leaving(ring: &Ring, keys: &[Vec<u8>], before: &[usize], node: &str) -> f64 {
    let mut after = ring.clone();
    after.remove(node).expect("node exists");
    let mut moved = 0usize;
    for (k, &id) in keys.iter().zip(before) {
        if ring.node(id).unwrap().0 != after.get(k).unwrap() {
            moved += 1;
        }
    }
    moved as f64 / keys.len() as f64
}

fn main() {
    let keys = keys();
    println!(
        "== balance and disruption: {KEYS} keys over {NODES} equal nodes (ideal move on leave: {:.2}%) ==",
        100.0 / NODES as f64
    );
    println!(
        "{:<8} {:>7} {:>10} {:>15} {:>17} {:>12} {:>9} {:>8}",
        "algo",
        "size",
        "peak/mean",
        "moved (last)",
        "moved (middle)",
        "bytes/point",
        "build ms",
        "get ns"
    );
    let configs = Algorithm::ALL
        .into_iter()
        .map(|a| (a, 0))
        .chain([(Algorithm::Maglev, 1_000_003)]);
    for (algorithm, table_size) in configs {
        let t = Instant::now();
        let r = sized(algorithm, 0, table_size);
        let build = t.elapsed().as_secs_f64() * 1e3;
        let t = Instant::now();
        let (peak, ids) = loads(&r, &keys);
        let get_ns = t.elapsed().as_secs_f64() * 1e9 / KEYS as f64;
        let last = moved_when_leaving(&r, &keys, &ids, "node-099");
        let middle = moved_when_leaving(&r, &keys, &ids, "node-050");
        println!(
            "{:<8} {:>7} {:>10.3} {:>14.2}% {:>16.2}% {:>12.1} {:>9.1} {:>8.1}",
            algorithm.name(),
            r.vnodes().max(r.table_size()),
            peak,
            last * 100.0,
            middle * 100.0,
            r.table_bytes() as f64 / r.point_count() as f64,
            build,
            get_ns,
        );
    }
    bounded_table();
    if std::env::args().any(|a| a == "--sweep") {
        println!("\n== peak/mean load by virtual nodes per node ({KEYS} keys, {NODES} nodes) ==");
        println!("{:>7} {:>10} {:>10}", "vnodes", "ketama", "xxh3");
        for v in [40u32, 80, 160, 320, 640, 1000] {
            let k = loads(&ring(Algorithm::Ketama, v), &keys).0;
            let x = loads(&ring(Algorithm::Xxh3, v), &keys).0;
            println!("{v:>7} {k:>10.3} {x:>10.3}");
        }
    }
}

/// Distinct keys of the skewed stream, and its length.
const HOT_KEYS: usize = 100_000;
const REQUESTS: usize = 1_000_000;
/// Zipf exponent: the hottest key takes about 8% of the requests.
const ZIPF_S: f64 = 1.0;

/// `REQUESTS` key indices drawn from Zipf(`ZIPF_S`) over `HOT_KEYS` keys
/// (inverse CDF over a fixed xorshift sequence: the same stream every run).
fn zipf_stream() -> Vec<usize> {
    let mut cdf = Vec::with_capacity(HOT_KEYS);
    let mut sum = 0.0;
    for k in 1..=HOT_KEYS {
        sum += 1.0 / (k as f64).powf(ZIPF_S);
        cdf.push(sum);
    }
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    (0..REQUESTS)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let u = (x >> 11) as f64 / (1u64 << 53) as f64 * sum;
            cdf.partition_point(|&c| c < u).min(HOT_KEYS - 1)
        })
        .collect()
}

/// Peak/mean of per-node request counts.
fn peak_over_mean(counts: &[u64]) -> f64 {
    let total: u64 = counts.iter().sum();
    *counts.iter().max().unwrap() as f64 / (total as f64 / counts.len() as f64)
}

/// Places every request of `stream` through a tracker (each keeps its slot):
/// the node of each request and the ns per acquisition.
fn place_bounded(ring: &Ring, keys: &[Vec<u8>], stream: &[usize]) -> (Vec<String>, f64) {
    let tracker = LoadTracker::new(ring, ringlock::ring::DEFAULT_BALANCE).expect("valid");
    let t = Instant::now();
    let ids: Vec<usize> = stream
        .iter()
        .map(|&k| tracker.acquire_id(&keys[k]).expect("a node below the cap"))
        .collect();
    let ns = t.elapsed().as_secs_f64() * 1e9 / stream.len() as f64;
    let names = ids.iter().map(|&id| ring.node(id).unwrap().0.to_owned());
    (names.collect(), ns)
}

fn bounded_table() {
    let keys: Vec<Vec<u8>> = (0..HOT_KEYS)
        .map(|i| format!("hot:{i}").into_bytes())
        .collect();
    let stream = zipf_stream();
    println!(
        "\n== bounded loads: {REQUESTS} requests over {HOT_KEYS} keys, Zipf s={ZIPF_S}, \
         each keeps its slot; {NODES} equal nodes, c = {} ==",
        ringlock::ring::DEFAULT_BALANCE
    );
    println!(
        "{:<8} {:>16} {:>19} {:>22} {:>14}",
        "algo", "peak/mean (get)", "peak/mean (bounded)", "moved (middle leaves)", "bounded ns"
    );
    for algorithm in Algorithm::ALL {
        let r = ring(algorithm, 0);
        let mut plain = vec![0u64; r.len()];
        for &k in &stream {
            plain[r.get_id(&keys[k]).expect("non-empty")] += 1;
        }
        let (before, ns) = place_bounded(&r, &keys, &stream);
        let mut counts = vec![0u64; r.len()];
        for name in &before {
            counts[r.id_of(name).unwrap()] += 1;
        }
        let mut smaller = r.clone();
        smaller.remove("node-050").expect("node exists");
        let (after, _) = place_bounded(&smaller, &keys, &stream);
        let moved = before.iter().zip(&after).filter(|(a, b)| a != b).count();
        println!(
            "{:<8} {:>16.3} {:>19.3} {:>21.2}% {:>14.1}",
            algorithm.name(),
            peak_over_mean(&plain),
            peak_over_mean(&counts),
            moved as f64 * 100.0 / stream.len() as f64,
            ns,
        );
    }
}
