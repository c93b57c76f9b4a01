//! The data behind docs/img/balance.svg, moved.svg and lookup.svg, as TSV on
//! stdout: `cargo run --release -p ringlock --example plot_data [-- --keys N]`
//! (`make plots` runs it and draws the pictures with bench/plots/).
//!
//! One row per (algorithm, node count): every algorithm of
//! [`Algorithm::ALL`] at its default vnodes / table size, plus the reference
//! `hash%n` (`xxh3_64(key) % n`: uniform placement without a ring, whose
//! balance is the sampling floor of `--keys` keys and which moves almost
//! every key on any change). Nodes are named `10.0.<i/250>.<i%250+1>:11211`,
//! weight 1. Columns:
//!
//! - `peak_mean`, `cv`: the most loaded node's keys over the mean, and the
//!   standard deviation of keys per node over the mean, for `--keys` keys
//!   `"key:<i>"` (default 500,000);
//! - `moved_add`: the fraction of those keys whose owner changes when one
//!   node is added (`10.0.9.1:11211`, which sorts after every other name);
//!   `ideal_add` = 1/(n+1), the least that must move;
//! - `moved_remove`: the same when the node in the middle of the name order
//!   leaves; `ideal_remove` = 1/n;
//! - `get_ns`: ns per `get` over 4,096 keys `"user:<6 digits>"`, cycling,
//!   `black_box` on key and answer, in a plain timing loop on the thread's
//!   CPU time (`CLOCK_THREAD_CPUTIME_ID`: time lost to neighbours on a shared
//!   machine does not count): the median of 7 runs of at least 4 ms,
//!   interleaved (each round times every algorithm once at that node count).

use ringlock::{Algorithm, Ring};
use std::hint::black_box;
use xxhash_rust::xxh3::xxh3_64;

const NODE_COUNTS: [usize; 7] = [10, 20, 50, 100, 200, 500, 1000];
const LOOKUP_KEYS: usize = 4096;
const RUNS: usize = 7;
const RUN_NS: u128 = 4_000_000;
const ADDED: &str = "10.0.9.1:11211";

fn name(i: usize) -> String {
    format!("10.0.{}.{}:11211", i / 250, i % 250 + 1)
}

/// Where a key goes: a ring, or the `hash % n` reference over `names`.
enum Placer {
    Ring(Ring),
    Modulo(Vec<String>),
}

impl Placer {
    fn build(algorithm: Option<Algorithm>, names: &[String]) -> Placer {
        match algorithm {
            Some(a) => {
                let mut r = Ring::new(a);
                r.add_many(names.iter().map(|n| (n.as_str(), 1)))
                    .expect("valid nodes");
                Placer::Ring(r)
            }
            None => Placer::Modulo(names.to_vec()),
        }
    }

    fn get(&self, key: &[u8]) -> &str {
        match self {
            Placer::Ring(r) => r.get(key).expect("non-empty"),
            Placer::Modulo(n) => &n[(xxh3_64(key) % n.len() as u64) as usize],
        }
    }
}

/// Peak over mean and standard deviation over mean of keys per node, from
/// the owner of every key.
fn balance(names: &[String], owners: &[&str]) -> (f64, f64) {
    let index: std::collections::HashMap<&str, usize> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i))
        .collect();
    let mut count = vec![0u64; names.len()];
    for o in owners {
        count[index[o]] += 1;
    }
    let mean = owners.len() as f64 / names.len() as f64;
    let peak = *count.iter().max().unwrap() as f64;
    let var = count
        .iter()
        .map(|&c| (c as f64 - mean).powi(2))
        .sum::<f64>()
        / names.len() as f64;
    (peak / mean, var.sqrt() / mean)
}

/// Fraction of `keys` whose owner on `b` differs from `owners`.
fn moved(owners: &[&str], b: &Placer, keys: &[Vec<u8>]) -> f64 {
    let n = keys
        .iter()
        .zip(owners)
        .filter(|(k, o)| b.get(k) != **o)
        .count();
    n as f64 / keys.len() as f64
}

/// This thread's CPU time, ns: time spent descheduled (the machine is
/// shared) does not count, as wall-clock time would.
fn cpu_ns() -> u128 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid clock id and a pointer to a timespec we own.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    ts.tv_sec as u128 * 1_000_000_000 + ts.tv_nsec as u128
}

/// ns per get over `keys`, cycling: one run of at least `RUN_NS` of CPU
/// time.
fn get_run(p: &Placer, keys: &[Vec<u8>]) -> f64 {
    let pass = || {
        for k in keys {
            black_box(p.get(black_box(k)));
        }
    };
    pass();
    let t = cpu_ns();
    let mut passes = 0u64;
    while cpu_ns() - t < RUN_NS {
        pass();
        passes += 1;
    }
    (cpu_ns() - t) as f64 / (passes as f64 * keys.len() as f64)
}

/// The median ns per get of each placer over `RUNS` interleaved rounds
/// (each round times every placer once, so a neighbour's burst of load
/// lands on all of them alike).
fn get_ns(placers: &[Placer], keys: &[Vec<u8>]) -> Vec<f64> {
    let mut runs = vec![Vec::with_capacity(RUNS); placers.len()];
    for _ in 0..RUNS {
        for (p, r) in placers.iter().zip(&mut runs) {
            r.push(get_run(p, keys));
        }
    }
    runs.into_iter()
        .map(|mut r| {
            r.sort_by(f64::total_cmp);
            r[RUNS / 2]
        })
        .collect()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut n_keys = 500_000usize;
    while let Some(a) = args.next() {
        match (a.as_str(), args.next()) {
            ("--keys", Some(v)) => n_keys = v.parse().expect("--keys N"),
            _ => panic!("usage: plot_data [--keys N]"),
        }
    }
    let keys: Vec<Vec<u8>> = (0..n_keys)
        .map(|i| format!("key:{i}").into_bytes())
        .collect();
    let lookup: Vec<Vec<u8>> = (0..LOOKUP_KEYS)
        .map(|i| format!("user:{:06}", (i * 7919 + 12345) % 1_000_000).into_bytes())
        .collect();
    println!("# ringlock {} plot data, {n_keys} keys", ringlock::VERSION);
    println!(
        "algorithm\tnodes\tpeak_mean\tcv\tmoved_add\tideal_add\tmoved_remove\tideal_remove\tget_ns"
    );
    let algorithms: Vec<Option<Algorithm>> =
        Algorithm::ALL.into_iter().map(Some).chain([None]).collect();
    for n in NODE_COUNTS {
        let names: Vec<String> = (0..n).map(name).collect();
        let placers: Vec<Placer> = algorithms
            .iter()
            .map(|&a| Placer::build(a, &names))
            .collect();
        let ns = get_ns(&placers, &lookup);
        for ((&algorithm, p), ns) in algorithms.iter().zip(&placers).zip(ns) {
            let label = algorithm.map_or("hash%n", Algorithm::name);
            let owners: Vec<&str> = keys.iter().map(|k| p.get(k)).collect();
            let (peak, cv) = balance(&names, &owners);
            let mut grown = names.clone();
            grown.push(ADDED.to_owned());
            let add = moved(&owners, &Placer::build(algorithm, &grown), &keys);
            let mut sorted = names.clone();
            sorted.sort();
            let middle = sorted[n / 2].clone();
            let shrunk: Vec<String> = names.iter().filter(|&s| *s != middle).cloned().collect();
            let remove = moved(&owners, &Placer::build(algorithm, &shrunk), &keys);
            println!(
                "{label}\t{n}\t{peak:.4}\t{cv:.4}\t{add:.5}\t{:.5}\t{remove:.5}\t{:.5}\t{ns:.2}",
                1.0 / (n + 1) as f64,
                1.0 / n as f64,
            );
        }
    }
}
