//! Maglev through the public `Ring` API: table size rules, fair shares of the
//! table, disruption when a node leaves, lookups that never fail.
//! `cargo test -p ringlock --test maglev -- --nocapture` prints the measured
//! disruption quoted in docs/placement.md.

use ringlock::{Algorithm, ErrorKind, Ring};

fn names(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("node-{i:04}")).collect()
}

fn maglev(size: u32, nodes: &[(String, u32)]) -> Ring {
    let mut r = Ring::with_config(Algorithm::Maglev, 0, size).unwrap();
    r.add_many(nodes.iter().map(|(n, w)| (n, *w))).unwrap();
    r
}

/// The owner ids of `keys` sample keys.
fn owners(r: &Ring, keys: usize) -> Vec<usize> {
    (0..keys)
        .map(|i| r.get_id(format!("key:{i}").as_bytes()).unwrap())
        .collect()
}

/// The smallest prime >= n.
fn prime_at_least(n: u32) -> u32 {
    (n..).find(|&p| is_prime(p)).unwrap()
}

fn is_prime(n: u32) -> bool {
    n >= 2 && (2..).take_while(|d| d * d <= n).all(|d| n % d != 0)
}

/// One key per table entry: `slot_keys(M)[e]` is a key whose slot
/// `XXH3_64(key) mod M` is `e`, so looking these keys up reads the table.
fn slot_keys(size: u32) -> Vec<Vec<u8>> {
    let mut keys: Vec<Option<Vec<u8>>> = vec![None; size as usize];
    let mut left = size as usize;
    let mut i = 0u64;
    while left > 0 {
        let k = i.to_le_bytes().to_vec();
        let slot = (xxhash_rust_xxh3(&k) % u64::from(size)) as usize;
        if keys[slot].is_none() {
            keys[slot] = Some(k);
            left -= 1;
        }
        i += 1;
    }
    keys.into_iter().map(Option::unwrap).collect()
}

/// XXH3-64, seed 0: the key hash of docs/placement.md.
fn xxhash_rust_xxh3(k: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(k)
}

fn entry_owners(r: &Ring, keys: &[Vec<u8>]) -> Vec<usize> {
    keys.iter().map(|k| r.get_id(k).unwrap()).collect()
}

#[test]
fn table_size_rules_and_errors_change_nothing() {
    let r = Ring::new(Algorithm::Maglev);
    assert_eq!(r.table_size(), 65_537);
    assert_eq!(Ring::new(Algorithm::Xxh3).table_size(), 0);
    for (a, v, t, what) in [
        (Algorithm::Maglev, 0, 65_536, "not prime"),
        (Algorithm::Maglev, 0, 1, "not prime"),
        (Algorithm::Maglev, 0, 67_108_879, "larger"),
        (Algorithm::Maglev, 160, 0, "vnodes"),
        (Algorithm::Xxh3, 0, 101, "only maglev"),
        (Algorithm::Jump, 0, 65_537, "only maglev"),
    ] {
        let e = Ring::with_config(a, v, t).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        assert!(e.message().contains(what), "{a} {v} {t}: {e}");
    }
    let mut small = Ring::with_config(Algorithm::Maglev, 0, 3).unwrap();
    small.add_many([("a", 1), ("b", 1), ("c", 1)]).unwrap();
    let before = small.clone();
    let e = small.add("d", 1).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(e.message().contains("at most 3 nodes"), "{e}");
    assert_eq!(small, before);
    assert!(small.add("a", 1).is_err() && small.set_weight("a", 0).is_err());
    assert_eq!(small, before);
    // every node of a full table owns exactly one entry
    let mut seen = [false; 3];
    for k in slot_keys(3) {
        seen[small.get_id(&k).unwrap()] = true;
    }
    assert_eq!(seen, [true; 3]);
}

#[test]
fn every_node_owns_its_fair_share_within_one_percent() {
    for n in [1usize, 3, 10, 100, 600] {
        for weighted in [false, true] {
            let nodes: Vec<(String, u32)> = names(n)
                .into_iter()
                .enumerate()
                .map(|(i, s)| (s, if weighted { 1 + (i % 3) as u32 } else { 1 }))
                .collect();
            let total: u32 = nodes.iter().map(|x| x.1).sum();
            // at least 100 entries per unit of weight: M >= 100 x nodes, and
            // the lightest node's fair share is >= 100 entries
            let size = prime_at_least(100 * total);
            let r = maglev(size, &nodes);
            assert_eq!(r.point_count(), size as usize);
            let mut count = vec![0usize; n];
            for id in entry_owners(&r, &slot_keys(size)) {
                count[id] += 1;
            }
            for (id, &c) in count.iter().enumerate() {
                let w = r.node(id).unwrap().1;
                let fair = f64::from(size) * f64::from(w) / f64::from(total);
                let err = (c as f64 - fair).abs() / fair;
                assert!(
                    err <= 0.01,
                    "{n} nodes, M {size}: node {id} has {c}, fair {fair:.1}"
                );
            }
        }
    }
}

#[test]
fn lookups_never_fail_on_a_non_empty_table() {
    for size in [2u32, 3, 101, 65_537] {
        let mut r = Ring::with_config(Algorithm::Maglev, 0, size).unwrap();
        assert_eq!(r.get(b"k").unwrap_err().kind(), ErrorKind::EmptyRing);
        r.add("solo", 5).unwrap();
        for i in 0..2000u32 {
            assert_eq!(r.get(&i.to_le_bytes()).unwrap(), "solo");
        }
        r.add("duo", 1).unwrap();
        for i in 0..2000u32 {
            let k = i.to_le_bytes();
            assert!(r.get(&k).is_ok());
            assert_eq!(r.get_n(&k, 5).unwrap().len(), 2);
        }
        assert!(r.get(b"").is_ok());
    }
}

/// Removing a node: its entries all go to other nodes; the other entries
/// that change owner are measured here and bounded (docs/placement.md).
#[test]
fn removing_a_node_moves_its_entries_and_few_others() {
    const BOUND: f64 = 0.01;
    for (n, size) in [
        (10usize, 65_537u32),
        (100, 65_537),
        (1000, 65_537),
        (100, 1_000_003),
    ] {
        let nodes: Vec<(String, u32)> = names(n).into_iter().map(|s| (s, 1)).collect();
        let mut r = maglev(size, &nodes);
        let keys = slot_keys(size);
        let before: Vec<String> = keys.iter().map(|k| r.get(k).unwrap().to_owned()).collect();
        let mut worst = 0f64;
        let mut sum = 0f64;
        let trials = 5;
        for t in 0..trials {
            let gone = &nodes[(t * 7919) % n].0;
            r.remove(gone).unwrap();
            let (mut others, mut moved) = (0usize, 0usize);
            for (k, b) in keys.iter().zip(&before) {
                let now = r.get(k).unwrap();
                assert_ne!(now, gone);
                if b != gone {
                    others += 1;
                    moved += usize::from(now != b);
                }
            }
            let f = moved as f64 / others as f64;
            worst = worst.max(f);
            sum += f;
            r.add(gone, 1).unwrap();
            assert_eq!(entry_owners(&r, &keys[..1000]), {
                let fresh = maglev(size, &nodes);
                entry_owners(&fresh, &keys[..1000])
            });
        }
        println!(
            "maglev N={n} M={size}: other entries moved on removal: mean {:.3}%, worst {:.3}%",
            100.0 * sum / trials as f64,
            100.0 * worst
        );
        assert!(
            worst <= BOUND,
            "{n} nodes, M {size}: {worst:.4} of other entries moved"
        );
    }
}

#[test]
fn owners_do_not_depend_on_insertion_order() {
    let nodes: Vec<(String, u32)> = names(50)
        .into_iter()
        .enumerate()
        .map(|(i, s)| (s, 1 + (i % 4) as u32))
        .collect();
    let a = maglev(10_007, &nodes);
    let mut rev = nodes.clone();
    rev.reverse();
    let mut b = Ring::with_config(Algorithm::Maglev, 0, 10_007).unwrap();
    for (n, w) in &rev {
        b.add(n, *w).unwrap();
    }
    assert_eq!(owners(&a, 5000), owners(&b, 5000));
    assert_eq!(a, b);
    assert_eq!(a.to_bytes(), b.to_bytes());
}
