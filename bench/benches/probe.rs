//! Where the time of a ringlock xxh3 `get` goes: a micro-experiment, not part
//! of `make bench` (run it with `make bench-probe`).
//!
//! At 1,000 nodes the lookup table is 2.4 MB (160,000 points), larger than
//! this machine's per-core L2; at 10 nodes it is 23 KB. The same ring is
//! looked up with key sets of growing size: few keys keep the touched table
//! lines hot in L1 and the branch predictor trained, many keys make each
//! lookup a cache miss and its search branches unpredictable. `hash` is XXH3
//! alone on the same keys, `md5` the hash of ketama alone (beside ketama's
//! get); consistent_hash_ring is measured alike at 1,000
//! nodes to see whether the ratio holds when keys are spread.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use md5::{Digest, Md5};
use ringlock::{Algorithm, Ring};
use ringlock_bench::{node_names, VNODES};
use xxhash_rust::xxh3::xxh3_64;

const KEY_LEN: usize = 11; // "user:123456"

/// `n` keys like "user:123456", packed back to back in one buffer, so that
/// reading them is a sequential stream the prefetcher hides: what grows with
/// the key count is then the spread of the lookups over the ring's table.
fn keys(n: usize) -> Vec<u8> {
    // (any n for the batch group; powers of two for the cycling cursor)
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let mut out = Vec::with_capacity(n * KEY_LEN);
    for _ in 0..n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(format!("user:{:06}", x % 1_000_000).as_bytes());
    }
    out
}

struct Flat<'a> {
    keys: &'a [u8],
    mask: usize,
    i: usize,
}

impl<'a> Flat<'a> {
    fn new(keys: &'a [u8]) -> Self {
        let n = keys.len() / KEY_LEN;
        assert!(n.is_power_of_two());
        Flat {
            keys,
            mask: n - 1,
            i: 0,
        }
    }

    #[inline(always)]
    fn next(&mut self) -> &'a [u8] {
        let at = (self.i & self.mask) * KEY_LEN;
        self.i = self.i.wrapping_add(1);
        &self.keys[at..at + KEY_LEN]
    }
}

fn probe(c: &mut Criterion) {
    let mut g = c.benchmark_group("probe");
    for nodes in [10usize, 1000] {
        let ring = Ring::with_nodes(
            Algorithm::Xxh3,
            0,
            node_names(nodes).iter().map(|n| (n.as_str(), 1)),
        )
        .unwrap();
        for nkeys in [16usize, 4096, 1 << 18] {
            let ks = keys(nkeys);
            let id = format!("{nodes}-nodes/{nkeys}-keys");
            g.bench_with_input(BenchmarkId::new("get", &id), &ring, |b, r| {
                let mut cur = Flat::new(&ks);
                b.iter(|| black_box(r.get(black_box(cur.next()))).is_ok())
            });
            if nodes == 1000 {
                let chr = consistent_hash_ring::RingBuilder::default()
                    .vnodes(VNODES)
                    .nodes_iter(node_names(nodes))
                    .build();
                g.bench_with_input(
                    BenchmarkId::new("consistent_hash_ring", &id),
                    &chr,
                    |b, r| {
                        let mut cur = Flat::new(&ks);
                        b.iter(|| black_box(r.get(black_box(cur.next()))).len())
                    },
                );
                let ketama = Ring::with_nodes(
                    Algorithm::Ketama,
                    0,
                    node_names(nodes).iter().map(|n| (n.as_str(), 1)),
                )
                .unwrap();
                g.bench_with_input(BenchmarkId::new("ketama-get", &id), &ketama, |b, r| {
                    let mut cur = Flat::new(&ks);
                    b.iter(|| black_box(r.get(black_box(cur.next()))).is_ok())
                });
                g.bench_with_input(BenchmarkId::new("md5", &id), &(), |b, _| {
                    let mut cur = Flat::new(&ks);
                    b.iter(|| black_box(Md5::digest(black_box(cur.next()))))
                });
                g.bench_with_input(BenchmarkId::new("hash", &id), &(), |b, _| {
                    let mut cur = Flat::new(&ks);
                    b.iter(|| black_box(xxh3_64(black_box(cur.next()))))
                });
            }
        }
    }
    g.finish();

    // Batch: get_many_ids per key over 4,096 and 100,000 keys (the Python
    // get_many list size), at 10 and 1,000 nodes.
    let mut g = c.benchmark_group("probe_batch");
    for nodes in [10usize, 1000] {
        let ring = Ring::with_nodes(
            Algorithm::Xxh3,
            0,
            node_names(nodes).iter().map(|n| (n.as_str(), 1)),
        )
        .unwrap();
        for nkeys in [4096usize, 100_000] {
            let flat = keys(nkeys);
            let ks: Vec<&[u8]> = flat.chunks(KEY_LEN).collect();
            let mut out = vec![0usize; nkeys];
            g.throughput(Throughput::Elements(nkeys as u64));
            let id = format!("{nodes}-nodes/{nkeys}-keys");
            g.bench_with_input(BenchmarkId::new("get_many_ids", &id), &ring, |b, r| {
                b.iter(|| {
                    r.get_many_ids(black_box(&ks), &mut out).unwrap();
                    black_box(out[0])
                })
            });
        }
    }
    g.finish();
}

criterion_group!(benches, probe);
criterion_main!(benches);
