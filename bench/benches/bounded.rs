//! Bounded-load lookups (`Ring::get_bounded_id`) beside plain `get_id` on the
//! same ring and keys, at 100 and 1,000 nodes, for each algorithm; and a
//! `LoadTracker` acquire + release pair. Criterion ids:
//! `bounded/<algorithm>-<get|bounded|tracker>/<nodes>`.
//!
//! Loads are a steady state of a Zipf stream: a tracker (factor 1.25) runs
//! 200,000 steps of acquire / release over Zipf(1.1) keys with about 10 slots
//! per node in flight; its loads are then frozen and every bounded lookup
//! uses them. The cost of a bounded lookup is the hash, the sum of the loads
//! (O(nodes)) and the walk to the first node below the cap.
//!
//! At the end a plain timing loop prints the bounded / get ratio per case.

use std::hint::black_box;
use std::time::Instant;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ringlock::{Algorithm, LoadTracker, Ring};
use ringlock_bench::{keys, node_names, Cursor};

const SIZES: [usize; 2] = [100, 1000];
const FACTOR: f64 = 1.25;

fn ring(a: Algorithm, n: usize) -> Ring {
    Ring::with_nodes(a, 0, node_names(n).iter().map(|s| (s.as_str(), 1))).expect("valid ring")
}

/// xorshift64*, then Zipf(1.1) by inverse transform over `cdf`.
fn zipf_keys(count: usize, universe: usize) -> Vec<String> {
    let mut acc = 0.0;
    let cdf: Vec<f64> = (1..=universe)
        .map(|k| {
            acc += 1.0 / (k as f64).powf(1.1);
            acc
        })
        .collect();
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    (0..count)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            let u = (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64;
            let r = cdf.partition_point(|&c| c < u * acc);
            format!("user:{r:06}")
        })
        .collect()
}

/// The tracker after a Zipf stream in steady state (about 10 slots a node).
fn steady_tracker(r: &Ring) -> LoadTracker {
    let t = LoadTracker::new(r, FACTOR).expect("tracker");
    let target = 10 * r.len();
    let mut held: Vec<usize> = Vec::with_capacity(target);
    let mut x = 1u64;
    for key in zipf_keys(200_000, 100_000) {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        if held.len() >= target
            || (!held.is_empty() && (x >> 33) as usize % (2 * target) < held.len())
        {
            let i = (x >> 20) as usize % held.len();
            t.release_id(held.swap_remove(i)).expect("held");
        }
        held.push(t.acquire_id(key.as_bytes()).expect("acquire"));
    }
    t
}

fn bench_bounded(c: &mut Criterion) {
    let keys = keys();
    let mut g = c.benchmark_group("bounded");
    g.throughput(Throughput::Elements(1));
    let mut ratios = Vec::new();
    for &n in &SIZES {
        for a in [Algorithm::Xxh3, Algorithm::Ketama, Algorithm::Jump] {
            let r = ring(a, n);
            let t = steady_tracker(&r);
            let loads = t.loads();
            g.bench_with_input(BenchmarkId::new(format!("{a}-get"), n), &n, |b, _| {
                let mut cur = Cursor::new(&keys);
                b.iter(|| black_box(r.get_id(black_box(cur.next().as_bytes()))))
            });
            g.bench_with_input(BenchmarkId::new(format!("{a}-bounded"), n), &n, |b, _| {
                let mut cur = Cursor::new(&keys);
                b.iter(|| {
                    black_box(r.get_bounded_id(black_box(cur.next().as_bytes()), &loads, FACTOR))
                })
            });
            g.bench_with_input(BenchmarkId::new(format!("{a}-tracker"), n), &n, |b, _| {
                let mut cur = Cursor::new(&keys);
                b.iter(|| {
                    let id = t
                        .acquire_id(black_box(cur.next().as_bytes()))
                        .expect("acquire");
                    t.release_id(id).expect("release");
                })
            });
            ratios.push((a, n, time_ratio(&r, &keys, &loads)));
        }
    }
    g.finish();
    println!("bounded / get, same ring and keys, Zipf steady-state loads (plain timing loop):");
    for (a, n, (get, bounded)) in ratios {
        println!(
            "  {:<6} {n:>5} nodes: get {get:6.1} ns, get_bounded {bounded:7.1} ns, ratio {:5.2}x",
            a.name(),
            bounded / get
        );
    }
}

/// (ns per get, ns per bounded lookup) over a few passes of the keys.
fn time_ratio(r: &Ring, keys: &[String], loads: &[u64]) -> (f64, f64) {
    const PASSES: usize = 100;
    let per = |f: &dyn Fn(&[u8]) -> usize| {
        let start = Instant::now();
        for _ in 0..PASSES {
            for k in keys {
                black_box(f(black_box(k.as_bytes())));
            }
        }
        start.elapsed().as_nanos() as f64 / (PASSES * keys.len()) as f64
    };
    let get = per(&|k| r.get_id(k).expect("non-empty"));
    let bounded = per(&|k| r.get_bounded_id(k, loads, FACTOR).expect("bounded"));
    (get, bounded)
}

criterion_group!(benches, bench_bounded);
criterion_main!(benches);
