//! Bounded-load lookups and the load tracker, end to end: a stream of
//! 1,000,000 assignments and releases over Zipf-skewed keys never puts a node
//! above the cap; with no load the answer is `get`'s; bad arguments are
//! refused; the tracker holds the cap under 8 threads.

use ringlock::ring::bounded_cap;
use ringlock::{Algorithm, ErrorKind, LoadTracker, Ring};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Zipf(s) over `n` ranks by inverse transform on the cumulative weights.
struct Zipf(Vec<f64>);

impl Zipf {
    fn new(n: usize, s: f64) -> Zipf {
        let mut acc = 0.0;
        let mut cdf: Vec<f64> = (1..=n)
            .map(|k| {
                acc += 1.0 / (k as f64).powf(s);
                acc
            })
            .collect();
        for c in &mut cdf {
            *c /= acc;
        }
        Zipf(cdf)
    }

    fn sample(&self, rng: &mut Rng) -> usize {
        let u = (rng.next() >> 11) as f64 / (1u64 << 53) as f64;
        self.0.partition_point(|&c| c < u).min(self.0.len() - 1)
    }
}

fn names(n: usize) -> Vec<(String, u32)> {
    (0..n)
        .map(|i| (format!("node-{i:03}"), 1 + (i % 3) as u32))
        .collect()
}

/// The reference: the first node of `get_n`'s order below the cap.
fn naive(r: &Ring, key: &[u8], loads: &[u64], factor: f64) -> usize {
    let total: u64 = loads.iter().sum();
    let cap = bounded_cap(total, r.len(), factor).unwrap();
    let order = r.get_n(key, r.len()).unwrap();
    order
        .iter()
        .map(|n| r.id_of(n).unwrap())
        .chain(0..r.len())
        .find(|&id| loads[id] < cap)
        .unwrap()
}

#[test]
fn zipf_steps_never_exceed_the_cap() {
    const STEPS: usize = 150_000; // per algorithm
    const KEYS: usize = 10_000;
    const TARGET_ACTIVE: usize = 2_000;
    let factor = 1.25;
    let keys: Vec<Vec<u8>> = (0..KEYS).map(|i| format!("key:{i}").into_bytes()).collect();
    let zipf = Zipf::new(KEYS, 1.1);
    // every table builder once (the twemproxy profiles other than the
    // default differ from it in the key hash only)
    let builders = Algorithm::ALL
        .into_iter()
        .filter(|a| !a.name().starts_with("twemproxy-"));
    for (round, a) in builders.enumerate() {
        let r = Ring::with_nodes(a, 0, names(20)).unwrap();
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 + round as u64);
        let mut loads = vec![0u64; r.len()];
        let mut total = 0u64;
        let mut active: Vec<usize> = Vec::new();
        let (mut assigned, mut diverted) = (0usize, 0usize);
        for step in 0..STEPS {
            let release = !active.is_empty()
                && (active.len() >= TARGET_ACTIVE || rng.below(2 * TARGET_ACTIVE) < active.len());
            if release {
                let i = rng.below(active.len());
                let id = active.swap_remove(i);
                loads[id] -= 1;
                total -= 1;
                continue;
            }
            let key = &keys[zipf.sample(&mut rng)];
            let cap = bounded_cap(total, r.len(), factor).unwrap();
            let id = r.get_bounded_id(key, &loads, factor).unwrap();
            if step % 101 == 0 {
                assert_eq!(id, naive(&r, key, &loads, factor), "{a} step {step}");
            }
            diverted += usize::from(id != r.get_id(key).unwrap());
            loads[id] += 1;
            total += 1;
            assert!(
                loads[id] <= cap,
                "{a} step {step}: load {} > cap {cap}",
                loads[id]
            );
            active.push(id);
            assigned += 1;
        }
        // the skew made the cap bind, or the test proved nothing
        assert!(assigned > STEPS / 4, "{a}: {assigned} assignments");
        assert!(
            diverted > assigned / 100,
            "{a}: only {diverted} of {assigned} diverted"
        );
    }
}

#[test]
fn with_no_load_the_answer_is_get() {
    for a in Algorithm::ALL {
        for n in [1usize, 2, 7, 100] {
            let r = Ring::with_nodes(a, 0, names(n)).unwrap();
            let zero = vec![0u64; n];
            for i in 0..2_000 {
                let key = format!("k{i}");
                for factor in [1.0001, 1.25, 3.0] {
                    assert_eq!(
                        r.get_bounded(key.as_bytes(), &zero, factor).unwrap(),
                        r.get(key.as_bytes()).unwrap(),
                        "{a} {n} nodes"
                    );
                }
            }
        }
    }
}

#[test]
fn ketama_nodes_without_points_are_reached() {
    // ketama gives a node of tiny relative weight no point at all
    let r = Ring::with_nodes(Algorithm::Ketama, 0, [("big", 100_000u32), ("tiny", 1)]).unwrap();
    let tiny = r.id_of("tiny").unwrap();
    let big = r.id_of("big").unwrap();
    assert!(r.get_n(b"x", 2).unwrap() == vec!["big"], "tiny has points");
    let mut loads = vec![0u64; 2];
    loads[big] = 10; // total 10, cap ceil(1.25 * 11 / 2) = 7
    assert_eq!(r.get_bounded_id(b"x", &loads, 1.25).unwrap(), tiny);
}

#[test]
fn bad_arguments_are_refused() {
    let r = Ring::with_nodes(Algorithm::Xxh3, 0, names(3)).unwrap();
    let kind = |res: ringlock::Result<&str>| res.unwrap_err().kind();
    for c in [1.0, 0.99, 0.0, -1.25, f64::NAN, f64::INFINITY] {
        assert_eq!(
            kind(r.get_bounded(b"k", &[0; 3], c)),
            ErrorKind::InvalidArgument
        );
    }
    assert_eq!(
        kind(r.get_bounded(b"k", &[0; 2], 1.25)),
        ErrorKind::InvalidArgument
    );
    assert_eq!(
        kind(r.get_bounded(b"k", &[0; 4], 1.25)),
        ErrorKind::InvalidArgument
    );
    let e = r.get_bounded(b"k", &[u64::MAX, 1, 0], 1.25).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(e.message().contains("sum"), "{e}");
    let empty = Ring::new(Algorithm::Jump);
    assert_eq!(
        kind(empty.get_bounded(b"k", &[], 1.25)),
        ErrorKind::EmptyRing
    );
    // a single node takes everything, however loaded
    let one = Ring::with_nodes(Algorithm::Jump, 0, [("only", 1)]).unwrap();
    assert_eq!(
        one.get_bounded(b"k", &[u64::MAX - 1], 1.25).unwrap(),
        "only"
    );
}

/// 8 threads acquire at once (a hot Zipf head, so they fight over the same
/// nodes). While only acquisitions happen the total only grows, and the cap
/// with it: a node's last slot was taken at a total below the snapshot's, so
/// every snapshot must show each load <= cap(total - 1). A choice and a count
/// not made atomically would let two threads fill the same last place. Then
/// all threads release concurrently with others' acquisitions (a mixed phase)
/// and every count must come back to 0.
#[test]
fn the_tracker_holds_the_cap_under_8_threads() {
    const THREADS: usize = 8;
    const ROUNDS: usize = 10;
    const PER_ROUND: usize = 300;
    for a in Algorithm::ALL {
        let r = Ring::with_nodes(a, 0, names(10)).unwrap();
        let t = Arc::new(LoadTracker::new(&r, 1.25).unwrap());
        let sync = Arc::new(Barrier::new(THREADS));
        let broken = Arc::new(AtomicBool::new(false));
        let workers: Vec<_> = (0..THREADS)
            .map(|w| {
                let (t, sync, broken) = (t.clone(), sync.clone(), broken.clone());
                std::thread::spawn(move || {
                    let zipf = Zipf::new(1_000, 1.2);
                    let mut rng = Rng(w as u64 + 1);
                    for round in 0..ROUNDS {
                        let mut held: Vec<usize> = Vec::new();
                        sync.wait();
                        for _ in 0..PER_ROUND {
                            let key = format!("key:{}", zipf.sample(&mut rng));
                            held.push(t.acquire_id(key.as_bytes()).unwrap());
                            let loads = t.loads();
                            let total: u64 = loads.iter().sum();
                            let cap = bounded_cap(total - 1, loads.len(), 1.25).unwrap();
                            if loads.iter().any(|&l| l > cap) {
                                broken.store(true, Ordering::Relaxed);
                            }
                        }
                        sync.wait();
                        // mixed: half the threads release while the others
                        // acquire more, then everyone releases
                        if (w + round) % 2 == 0 {
                            for _ in 0..PER_ROUND {
                                let key = format!("key:{}", zipf.sample(&mut rng));
                                held.push(t.acquire_id(key.as_bytes()).unwrap());
                            }
                        }
                        for id in held {
                            t.release_id(id).unwrap();
                        }
                        sync.wait();
                        if w == 0 && t.total() != 0 {
                            broken.store(true, Ordering::Relaxed);
                        }
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().unwrap();
        }
        assert!(
            !broken.load(Ordering::Relaxed),
            "{a}: a load passed the cap"
        );
        assert_eq!(t.total(), 0, "{a}");
        assert!(t.loads().iter().all(|&l| l == 0));
    }
}
