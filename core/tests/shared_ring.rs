//! SharedRing: byte-identical answers to Ring for every algorithm (1M keys),
//! generations, publishers serialised, publish/open round trips.

use proptest::prelude::*;
use ringlock::{Algorithm, ErrorKind, Ring, SharedRing};
use std::path::PathBuf;

fn scratch(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ringlock-sr-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn ring(a: Algorithm, n: usize) -> Ring {
    let nodes: Vec<(String, u32)> = (0..n)
        .map(|i| {
            (
                format!("10.0.{}.{}:11211", i / 250, i % 250),
                1 + (i as u32 * 7) % 4,
            )
        })
        .collect();
    Ring::with_nodes(a, 0, nodes).unwrap()
}

#[test]
fn a_million_keys_answer_as_the_ring_does_for_every_algorithm() {
    let dir = scratch("million");
    for a in Algorithm::ALL {
        let r = ring(a, 61);
        let path = dir.join(a.name());
        assert_eq!(SharedRing::publish(&r, &path).unwrap(), 1);
        let mut s = SharedRing::open(&path).unwrap();
        assert_eq!(s.node_count().unwrap(), r.len());
        assert_eq!(s.algorithm(), a);
        assert!(s.nodes().eq(r.nodes()));
        let loads: Vec<u64> = (0..r.len() as u64).map(|i| (i * 13) % 9).collect();
        let mut keys = Vec::with_capacity(1000);
        for i in 0..1_000_000u32 {
            let key = format!("user:{i}");
            assert_eq!(
                s.get(key.as_bytes()).unwrap(),
                r.get(key.as_bytes()).unwrap(),
                "{a} {key}"
            );
            if i % 50 == 0 {
                let n = 1 + (i as usize / 50) % 5;
                assert_eq!(
                    s.get_n(key.as_bytes(), n).unwrap(),
                    r.get_n(key.as_bytes(), n).unwrap()
                );
                assert_eq!(
                    s.get_bounded(key.as_bytes(), &loads, 1.25).unwrap(),
                    r.get_bounded(key.as_bytes(), &loads, 1.25).unwrap(),
                );
            }
            keys.push(key);
            if keys.len() == 1000 {
                assert_eq!(s.get_many(&keys).unwrap(), r.get_many(&keys).unwrap());
                keys.clear();
            }
        }
        // keys that hash exactly onto points (xxh3: name ++ le32(j); ketama:
        // "name-k", whose digest's first word is a point): the ties
        for (name, w) in r.nodes() {
            for j in 0..160 * w {
                let mut k = name.as_bytes().to_vec();
                k.extend_from_slice(&j.to_le_bytes());
                let t = format!("{name}-{j}");
                for key in [&k[..], t.as_bytes()] {
                    assert_eq!(s.get(key).unwrap(), r.get(key).unwrap(), "{a} tie {key:?}");
                    assert_eq!(s.get_n(key, 2).unwrap(), r.get_n(key, 2).unwrap());
                }
            }
        }
        assert_eq!(s.get_n(b"k", 1000).unwrap(), r.get_n(b"k", 1000).unwrap());
        assert_eq!(
            s.get_bounded(b"k", &loads[1..], 1.25).unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
        assert_eq!(
            s.get_bounded(b"k", &loads, 1.0).unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_empty_ring_publishes_and_answers_empty() {
    let dir = scratch("empty");
    for a in Algorithm::ALL {
        let path = dir.join(a.name());
        SharedRing::publish(&Ring::new(a), &path).unwrap();
        let mut s = SharedRing::open(&path).unwrap();
        assert_eq!(s.get(b"k").unwrap_err().kind(), ErrorKind::EmptyRing);
        assert_eq!(s.get_n(b"k", 2).unwrap_err().kind(), ErrorKind::EmptyRing);
        assert_eq!(
            s.get_many(&[b"k"]).unwrap_err().kind(),
            ErrorKind::EmptyRing
        );
        assert_eq!(
            s.get_bounded(b"k", &[], 1.25).unwrap_err().kind(),
            ErrorKind::EmptyRing
        );
        assert_eq!(s.node_count().unwrap(), 0);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_open_reader_takes_each_new_generation_at_its_next_lookup() {
    let dir = scratch("gens");
    let path = dir.join("ring");
    let mut r = ring(Algorithm::Xxh3, 3);
    SharedRing::publish(&r, &path).unwrap();
    let mut s = SharedRing::open(&path).unwrap();
    assert_eq!(s.generation().unwrap(), 1);
    for g in 2..=20u64 {
        r.add(&format!("extra-{g}"), 1).unwrap();
        if g % 5 == 0 {
            r = {
                let a = if g % 10 == 0 {
                    Algorithm::Maglev
                } else {
                    Algorithm::Ketama
                };
                Ring::with_nodes(
                    a,
                    0,
                    r.nodes()
                        .map(|(n, w)| (n.to_owned(), w))
                        .collect::<Vec<_>>(),
                )
                .unwrap()
            };
        }
        assert_eq!(SharedRing::publish(&r, &path).unwrap(), g);
        // no refresh call: the lookup itself sees the new generation
        for i in 0..200 {
            let k = format!("k{i}");
            assert_eq!(s.get(k.as_bytes()).unwrap(), r.get(k.as_bytes()).unwrap());
        }
        assert_eq!(s.held_generation(), g);
        assert_eq!(s.algorithm(), r.algorithm());
        assert_eq!(s.node_count().unwrap(), r.len());
    }
    // a second reader opened late starts at the newest
    assert_eq!(SharedRing::open(&path).unwrap().generation().unwrap(), 20);
    // a corrupt new generation is an error at the switch; the handle keeps
    // its generation and recovers with the next good publish
    std::fs::write(dir.join(".tmp-bad"), b"not a ring").unwrap();
    std::fs::rename(dir.join(".tmp-bad"), &path).unwrap();
    bump(&dir.join("ring.gen"));
    assert_eq!(s.get(b"k").unwrap_err().kind(), ErrorKind::Corrupt);
    assert_eq!(s.held_generation(), 20);
    assert_eq!(SharedRing::publish(&r, &path).unwrap(), 22);
    assert_eq!(s.get(b"k").unwrap(), r.get(b"k").unwrap());
    assert_eq!(s.held_generation(), 22);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Raises the generation word by one, as a publisher that renamed a file would.
fn bump(control: &std::path::Path) {
    let mut b = std::fs::read(control).unwrap();
    let g = u64::from_le_bytes(b[16..24].try_into().unwrap()) + 1;
    b[16..24].copy_from_slice(&g.to_le_bytes());
    std::fs::write(control, b).unwrap();
}

#[test]
fn concurrent_publishers_are_serialised_and_lose_no_generation() {
    let dir = scratch("pubs");
    let path = dir.join("ring");
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let path = path.clone();
            std::thread::spawn(move || {
                let r = ring(Algorithm::Jump, 2 + t);
                (0..25)
                    .map(|_| SharedRing::publish(&r, &path).unwrap())
                    .collect::<Vec<u64>>()
            })
        })
        .collect();
    let mut all: Vec<u64> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    all.sort_unstable();
    assert_eq!(all, (1..=100).collect::<Vec<u64>>());
    assert_eq!(SharedRing::open(&path).unwrap().generation().unwrap(), 100);
    // no temporary file left behind
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn files_are_private_and_bare_names_use_the_default_dir() {
    use std::os::unix::fs::PermissionsExt;
    let dir = scratch("modes");
    let path = dir.join("sub").join("ring");
    SharedRing::publish(&ring(Algorithm::Ketama, 2), &path).unwrap();
    for (p, mode) in [
        (dir.join("sub"), 0o700),
        (path.clone(), 0o600),
        (dir.join("sub/ring.gen"), 0o600),
    ] {
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            mode,
            "{p:?}"
        );
    }
    let name = format!("sr-test-{}", std::process::id());
    SharedRing::publish(&ring(Algorithm::Xxh3, 2), &name).unwrap();
    let s = SharedRing::open(&name).unwrap();
    assert!(s.path().starts_with("/dev/shm"), "{:?}", s.path());
    for suffix in ["", ".gen", ".publish.shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", s.path().display()));
    }
    assert_eq!(
        SharedRing::open("no/such/dir/ring").unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        SharedRing::open("bad name").unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

fn nodes_strategy() -> impl Strategy<Value = Vec<(String, u32)>> {
    prop::collection::btree_map("[a-zA-Z0-9.:_-]{1,24}|\\PC{1,8}", 1u32..5, 0..40)
        .prop_map(|m| m.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn publish_open_round_trips(nodes in nodes_strategy(), algo in 0usize..4, vn in 0u32..3) {
        let a = Algorithm::ALL[algo];
        let vnodes = match a { Algorithm::Ketama => vn * 4 * 10, Algorithm::Xxh3 => vn * 7, _ => 0 };
        let mut r = Ring::with_vnodes(a, vnodes).unwrap();
        r.add_many(nodes.iter().map(|(n, w)| (n.as_str(), *w))).unwrap();
        let bytes = ringlock::shared_ring::encode(&r, 5);
        prop_assert_eq!(ringlock::shared_ring::validate(&bytes).unwrap(), 5);
        let dir = scratch("prop");
        let path = dir.join("r");
        SharedRing::publish(&r, &path).unwrap();
        let mut s = SharedRing::open(&path).unwrap();
        prop_assert!(s.nodes().eq(r.nodes()));
        for i in 0..300 {
            let k = format!("{i}");
            match r.get(k.as_bytes()) {
                Ok(o) => prop_assert_eq!(s.get(k.as_bytes()).unwrap(), o),
                Err(e) => prop_assert_eq!(s.get(k.as_bytes()).unwrap_err().kind(), e.kind()),
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

/// `get_n` for every node walks the table once (O(entries + nodes)): a
/// 200,000-node ring answers all its nodes within the deadline (the walk
/// that checked each candidate against those found took minutes here), and
/// as the in-process ring does, below, at and above the scan limit.
#[test]
fn get_n_of_every_node_is_linear_and_answers_as_the_ring() {
    let dir = scratch("getn");
    for (a, n) in [
        (Algorithm::Xxh3, 30),
        (Algorithm::Xxh3, 100),
        (Algorithm::Maglev, 5_000),
        (Algorithm::Jump, 200_000),
    ] {
        let names: Vec<(String, u32)> = (0..n).map(|i| (format!("n{i}"), 1)).collect();
        let table = if a == Algorithm::Maglev { 50_021 } else { 0 };
        let mut r = Ring::with_config(a, 0, table).unwrap();
        r.add_many(names).unwrap();
        let path = dir.join(format!("{a}-{n}"));
        SharedRing::publish(&r, &path).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let p = path.clone();
        std::thread::spawn(move || {
            let mut s = SharedRing::open(&p).unwrap();
            let all: Vec<String> = s
                .get_n(b"key", n)
                .unwrap()
                .into_iter()
                .map(str::to_owned)
                .collect();
            let _ = tx.send(all);
        });
        let all = rx
            .recv_timeout(std::time::Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("{a}: get_n of {n} nodes did not finish in 60 s"));
        assert_eq!(all.len(), n);
        assert_eq!(all, r.get_n(b"key", n).unwrap(), "{a} {n}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
