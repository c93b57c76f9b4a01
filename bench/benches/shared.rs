//! SharedRing beside the in-process Ring: `get` from the mapping and from the
//! ring built from the same nodes, every algorithm, at 10, 100 and 1,000
//! nodes, on the same 4,096 keys (criterion ids `shared-get/ring-<algo>/<n>`
//! and `shared-get/shared-<algo>/<n>`); and the cost of one publish at
//! 1,000 nodes (`shared-publish/<algo>/1000`: encode, write the file, rename
//! it into place, announce, under the publishers' lock). The files live in a
//! scratch directory on tmpfs (/dev/shm) when there is one. The table with
//! the ratios: `python3 bench/report_shared.py` (run by `make bench-shared`).

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use ringlock::{Algorithm, Ring, SharedRing};
use ringlock_bench::{keys, node_names, Cursor, SIZES};

fn scratch() -> PathBuf {
    let base = if std::path::Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    let d = base.join(format!("ringlock-bench-shared-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch dir");
    d
}

fn ring(a: Algorithm, n: usize) -> Ring {
    Ring::with_nodes(a, 0, node_names(n).iter().map(|s| (s.as_str(), 1))).expect("valid ring")
}

fn bench_shared(c: &mut Criterion) {
    let dir = scratch();
    let keys = keys();
    let mut g = c.benchmark_group("shared-get");
    for &n in &SIZES {
        for a in Algorithm::ALL {
            let r = ring(a, n);
            let path = dir.join(format!("{a}-{n}"));
            SharedRing::publish(&r, &path).expect("publish");
            let mut s = SharedRing::open(&path).expect("open");
            for k in &keys {
                assert_eq!(s.get(k.as_bytes()).unwrap(), r.get(k.as_bytes()).unwrap());
            }
            g.bench_with_input(BenchmarkId::new(format!("ring-{a}"), n), &r, |b, r| {
                let mut cur = Cursor::new(&keys);
                b.iter(|| black_box(r.get(black_box(cur.next().as_bytes()))).is_ok())
            });
            g.bench_function(BenchmarkId::new(format!("shared-{a}"), n), |b| {
                let mut cur = Cursor::new(&keys);
                b.iter(|| black_box(s.get(black_box(cur.next().as_bytes()))).is_ok())
            });
        }
    }
    g.finish();

    let mut g = c.benchmark_group("shared-publish");
    g.sample_size(20);
    for a in Algorithm::ALL {
        let r = ring(a, 1000);
        let path = dir.join(format!("publish-{a}"));
        g.bench_with_input(BenchmarkId::new(a.name(), 1000), &r, |b, r| {
            b.iter(|| SharedRing::publish(black_box(r), &path).expect("publish"))
        });
    }
    g.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench_shared);
criterion_main!(benches);
