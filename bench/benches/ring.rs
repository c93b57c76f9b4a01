//! `get` of ringlock (xxh3, ketama, jump) beside the peer crates and beside
//! the floor no ring can beat (`xxh3_64(key) % n`; also with a multiply-shift
//! in place of the division, and the bare hash), at 10, 100 and 1,000
//! nodes, all on the same 4,096 keys. Criterion ids: `get/<impl>/<nodes>`.
//!
//! Virtual points per node, all 160:
//! - ringlock xxh3: vnodes 0 = default 160 points per unit of weight;
//! - ringlock ketama: libketama's 40 MD5 digests x 4 points = 160;
//! - consistent_hash_ring: `RingBuilder::vnodes(160)` (FNV-1a 64, its default);
//! - hashring: no vnode notion of its own; 160 entries `(name, replica)` per
//!   node, as its documentation suggests (SipHash-2-4, its default);
//! - conhash: `add(node, 160)` replicas (MD5, its default).
//!
//! ringlock jump has no points: one bucket per unit of weight.
//!
//! Maglev: ringlock maglev (65,537 entries, its default) beside the `maglev`
//! crate (0.2, `Maglev::with_capacity(nodes, 65_537)`: the same table size,
//! SipHash-1-3 from std, its default hasher).

use std::hint::black_box;
use std::io::Write;
use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use maglev::ConsistentHasher;
use ringlock::{Algorithm, Ring};
use ringlock_bench::{keys, keys_n, node_names, Cursor, SIZES, SPREAD_KEY_COUNT, VNODES};
use xxhash_rust::xxh3::xxh3_64;

#[derive(Hash, Clone)]
struct HrVNode<'a> {
    name: &'a str,
    replica: u32,
}

#[derive(Clone)]
struct ChNode(String);

impl conhash::Node for ChNode {
    fn name(&self) -> String {
        self.0.clone()
    }
}

fn ringlock_ring(a: Algorithm, names: &[String]) -> Ring {
    Ring::with_nodes(a, 0, names.iter().map(|n| (n.as_str(), 1))).expect("valid ring")
}

/// The `maglev` crate's table over `names`, 65,537 entries like ringlock's
/// default. (It builds an N x M permutation first: 0.5 GB at 1,000 nodes.)
fn maglev_crate(names: &[String]) -> maglev::Maglev<String> {
    let m = maglev::Maglev::with_capacity(names.to_vec(), 65_537);
    assert_eq!(m.capacity(), 65_537);
    m
}

/// Prints (and saves for the report) ringlock's lookup-table memory per point.
fn memory_report() {
    let dir = std::env::var_os("CRITERION_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target/criterion"));
    let _ = std::fs::create_dir_all(&dir);
    let mut out = String::from("algorithm\tnodes\tpoints\ttable_bytes\tbytes_per_point\n");
    println!("ringlock lookup table memory:");
    for &n in &SIZES {
        let names = node_names(n);
        for a in [
            Algorithm::Xxh3,
            Algorithm::Ketama,
            Algorithm::Jump,
            Algorithm::Maglev,
        ] {
            let r = ringlock_ring(a, &names);
            let per = r.table_bytes() as f64 / r.point_count() as f64;
            println!(
                "  {a:<6} {n:>5} nodes: {:>7} points, {:>9} bytes, {per:.2} bytes/point",
                r.point_count(),
                r.table_bytes()
            );
            out += &format!(
                "{a}\t{n}\t{}\t{}\t{per:.3}\n",
                r.point_count(),
                r.table_bytes()
            );
        }
    }
    if let Ok(mut f) = std::fs::File::create(dir.join("ringlock-memory.tsv")) {
        let _ = f.write_all(out.as_bytes());
    }
}

fn bench_get(c: &mut Criterion) {
    memory_report();
    let keys = keys();
    let mut g = c.benchmark_group("get");
    for &n in &SIZES {
        let names = node_names(n);

        for (id, a) in [
            ("ringlock-xxh3", Algorithm::Xxh3),
            ("ringlock-ketama", Algorithm::Ketama),
            ("ringlock-jump", Algorithm::Jump),
            ("ringlock-maglev", Algorithm::Maglev),
        ] {
            let ring = ringlock_ring(a, &names);
            g.bench_with_input(BenchmarkId::new(id, n), &ring, |b, ring| {
                let mut cur = Cursor::new(&keys);
                b.iter(|| black_box(ring.get(black_box(cur.next().as_bytes()))).is_ok())
            });
        }

        let mg = maglev_crate(&names);
        g.bench_with_input(BenchmarkId::new("maglev-crate", n), &mg, |b, mg| {
            let mut cur = Cursor::new(&keys);
            b.iter(|| black_box(mg.get(black_box(cur.next()))).is_some())
        });
        drop(mg);

        let chr = consistent_hash_ring::RingBuilder::default()
            .vnodes(VNODES)
            .nodes_iter(names.iter().cloned())
            .build();
        g.bench_with_input(
            BenchmarkId::new("consistent_hash_ring", n),
            &chr,
            |b, ring| {
                let mut cur = Cursor::new(&keys);
                b.iter(|| black_box(ring.get(black_box(cur.next()))).len())
            },
        );

        let mut hr = hashring::HashRing::new();
        hr.batch_add(
            names
                .iter()
                .flat_map(|name| (0..VNODES as u32).map(move |replica| HrVNode { name, replica }))
                .collect(),
        );
        g.bench_with_input(BenchmarkId::new("hashring", n), &hr, |b, ring| {
            let mut cur = Cursor::new(&keys);
            b.iter(|| black_box(ring.get(&black_box(cur.next())).map(|v| v.name)).is_some())
        });

        let mut ch = conhash::ConsistentHash::new();
        for name in &names {
            ch.add(&ChNode(name.clone()), VNODES);
        }
        g.bench_with_input(BenchmarkId::new("conhash", n), &ch, |b, ring| {
            let mut cur = Cursor::new(&keys);
            b.iter(|| black_box(ring.get(black_box(cur.next().as_bytes()))).is_some())
        });

        let nodes = n as u64;
        g.bench_with_input(
            BenchmarkId::new("floor-xxh3-mod", n),
            &nodes,
            |b, &nodes| {
                let mut cur = Cursor::new(&keys);
                b.iter(|| black_box(xxh3_64(black_box(cur.next().as_bytes())) % black_box(nodes)))
            },
        );
        // the same floor with the division replaced by a multiply-shift
        // ("fastrange"): the cheapest map of a hash onto n buckets
        g.bench_with_input(
            BenchmarkId::new("floor-xxh3-fastrange", n),
            &nodes,
            |b, &nodes| {
                let mut cur = Cursor::new(&keys);
                b.iter(|| {
                    let h = xxh3_64(black_box(cur.next().as_bytes()));
                    black_box(((u128::from(h) * u128::from(black_box(nodes))) >> 64) as u64)
                })
            },
        );
        // not a placement at all: the hash alone, to split the floor's cost
        // between hashing and the 64-bit division
        g.bench_with_input(BenchmarkId::new("xxh3-hash-only", n), &nodes, |b, _| {
            let mut cur = Cursor::new(&keys);
            b.iter(|| black_box(xxh3_64(black_box(cur.next().as_bytes()))))
        });
    }
    g.finish();

    // Spread keys: the same lookups at 1,000 nodes over 262,144 keys
    // instead of 4,096. Cycling through 4,096 keys lets the branch predictor
    // learn the search branches and keeps the touched table lines in cache,
    // which flatters every branchy lookup; here neither helps.
    let spread = keys_n(SPREAD_KEY_COUNT);
    let mut g = c.benchmark_group("get_spread");
    let n = *SIZES.last().unwrap();
    let names = node_names(n);
    for (id, a) in [
        ("ringlock-xxh3", Algorithm::Xxh3),
        ("ringlock-maglev", Algorithm::Maglev),
    ] {
        let ring = ringlock_ring(a, &names);
        g.bench_with_input(BenchmarkId::new(id, n), &ring, |b, ring| {
            let mut cur = Cursor::new(&spread);
            b.iter(|| black_box(ring.get(black_box(cur.next().as_bytes()))).is_ok())
        });
    }
    let mg = maglev_crate(&names);
    g.bench_with_input(BenchmarkId::new("maglev-crate", n), &mg, |b, mg| {
        let mut cur = Cursor::new(&spread);
        b.iter(|| black_box(mg.get(black_box(cur.next()))).is_some())
    });
    drop(mg);
    let chr = consistent_hash_ring::RingBuilder::default()
        .vnodes(VNODES)
        .nodes_iter(names.iter().cloned())
        .build();
    g.bench_with_input(
        BenchmarkId::new("consistent_hash_ring", n),
        &chr,
        |b, ring| {
            let mut cur = Cursor::new(&spread);
            b.iter(|| black_box(ring.get(black_box(cur.next()))).len())
        },
    );
    let nodes = n as u64;
    g.bench_with_input(
        BenchmarkId::new("floor-xxh3-mod", n),
        &nodes,
        |b, &nodes| {
            let mut cur = Cursor::new(&spread);
            b.iter(|| black_box(xxh3_64(black_box(cur.next().as_bytes())) % black_box(nodes)))
        },
    );
    g.finish();
    drop(spread);

    // Batch lookups: ringlock get_many_ids over all 4,096 keys (no allocation);
    // the report divides by 4,096 for a per-key cost.
    let mut g = c.benchmark_group("get_many_ids");
    g.throughput(Throughput::Elements(keys.len() as u64));
    for &n in &SIZES {
        let ring = ringlock_ring(Algorithm::Xxh3, &node_names(n));
        let mut out = vec![0usize; keys.len()];
        g.bench_with_input(BenchmarkId::new("ringlock-xxh3", n), &ring, |b, ring| {
            b.iter(|| {
                ring.get_many_ids(black_box(&keys), &mut out).unwrap();
                black_box(out[0])
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench_get);
criterion_main!(benches);
