//! How evenly keys spread and how many move when a node leaves, for each
//! algorithm: `cargo run --release -p ringlock --example balance [-- --sweep]`.
//! `make demo` prints the default table; `--sweep` adds peak/mean load for
//! 40 to 1,000 virtual nodes (docs/placement.md quotes it). The "size"
//! column is the vnodes per node, or maglev's table size.

use ringlock::{Algorithm, Ring};
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
