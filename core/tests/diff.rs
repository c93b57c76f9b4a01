//! Migration plans: `Ring::diff` is exact (a key moves if and only if its
//! position lies in a reported range, and to the reported owner), its ranges
//! are well formed, and `fraction` matches the share of keys that move.

use proptest::prelude::*;
use ringlock::ring::Diff;
use ringlock::{Algorithm, ErrorKind, Ring};
use std::time::Instant;

/// Deterministic random keys (xorshift64*), 8 to 23 bytes each.
fn random_keys(n: usize, seed: u64) -> Vec<Vec<u8>> {
    let mut x = seed | 1;
    let mut next = move || {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    };
    (0..n)
        .map(|_| {
            let a = next();
            let len = 8 + (a % 16) as usize;
            let mut k = a.to_le_bytes().to_vec();
            k.extend_from_slice(&next().to_le_bytes());
            k.extend_from_slice(&next().to_le_bytes());
            k.truncate(len);
            k
        })
        .collect()
}

/// Checks the shape of a diff: sorted, disjoint, inside the space, runs with
/// the same (old, new) not touching, `moved` the sum of the lengths.
fn check_shape(d: &Diff) {
    let mut sum = 0u128;
    for (i, m) in d.moves.iter().enumerate() {
        assert!(m.first <= m.last, "{m:?}");
        assert!(u128::from(m.last) < d.space, "{m:?} outside {}", d.space);
        assert_ne!(m.old, m.new, "{m:?} is not a move");
        if i > 0 {
            let p = &d.moves[i - 1];
            assert!(p.last < m.first, "{p:?} and {m:?} overlap or are unsorted");
            let touching = p.last + 1 == m.first;
            assert!(
                !(touching && p.old == m.old && p.new == m.new),
                "{p:?} and {m:?} should be merged"
            );
        }
        sum += m.len();
    }
    assert_eq!(sum, d.moved);
    assert!(d.moved <= d.space);
    assert_eq!(d.fraction(), d.moved as f64 / d.space as f64);
}

/// The number of keys that moved; panics unless each key moved exactly when
/// its position lies in a range, and then from the range's old to its new.
fn check_iff(before: &Ring, after: &Ring, d: &Diff, keys: &[Vec<u8>]) -> usize {
    let mut moved = 0;
    for k in keys {
        let pos = before.position(k).unwrap();
        assert_eq!(pos, after.position(k).unwrap());
        let i = d.moves.partition_point(|m| m.first <= pos);
        let range = i
            .checked_sub(1)
            .map(|i| &d.moves[i])
            .filter(|m| m.last >= pos);
        let (old, new) = (before.get(k).ok(), after.get(k).ok());
        match range {
            Some(m) => {
                assert_eq!(m.old.as_deref(), old, "key {k:?} at {pos}");
                assert_eq!(m.new.as_deref(), new, "key {k:?} at {pos}");
                moved += 1;
            }
            None => assert_eq!(old, new, "key {k:?} at {pos} moved outside every range"),
        }
    }
    moved
}

fn nodes(n: usize) -> Vec<(String, u32)> {
    (0..n).map(|i| (format!("10.0.0.{i}:11211"), 1)).collect()
}

/// Diffs, checks exactness on `keys` keys, and that the fraction is within
/// five standard deviations of the share of keys that moved.
fn exact(before: &Ring, after: &Ring, keys: usize, seed: u64) -> Diff {
    let d = before.diff(after).unwrap();
    check_shape(&d);
    let ks = random_keys(keys, seed);
    let moved = check_iff(before, after, &d, &ks);
    let seen = moved as f64 / keys as f64;
    let f = d.fraction();
    let sigma = (f * (1.0 - f) / keys as f64).sqrt();
    assert!(
        (seen - f).abs() <= 5.0 * sigma + 1e-9,
        "{}: fraction {f} but {seen} of the keys moved",
        before.algorithm()
    );
    d
}

const POINT_RINGS: [Algorithm; 2] = [Algorithm::Ketama, Algorithm::Xxh3];

#[test]
fn a_million_random_keys_move_iff_in_a_range_after_add_remove_and_reweight() {
    for (n, a) in POINT_RINGS.into_iter().enumerate() {
        let before = Ring::with_nodes(a, 0, nodes(20)).unwrap();
        let mut after = before.clone();
        after.add("10.0.1.1:11211", 2).unwrap();
        after.add("10.0.1.2:11211", 1).unwrap();
        after.remove("10.0.0.3:11211").unwrap();
        after.set_weight("10.0.0.7:11211", 3).unwrap();
        after.set_weight("10.0.0.8:11211", 2).unwrap();
        let d = exact(&before, &after, 1_000_000, 0xfeed + n as u64);
        assert!(
            d.fraction() > 0.05 && d.fraction() < 0.5,
            "{a}: {}",
            d.fraction()
        );
    }
}

#[test]
fn each_change_alone_is_exact() {
    for (n, a) in POINT_RINGS.into_iter().enumerate() {
        let before = Ring::with_nodes(a, 0, nodes(10)).unwrap();
        let mut add = before.clone();
        add.add("new", 1).unwrap();
        let d = exact(&before, &add, 200_000, 1 + n as u64);
        // Minimal disruption: every range moves to the new node.
        assert!(d.moves.iter().all(|m| m.new.as_deref() == Some("new")));
        assert!(
            (d.fraction() - 1.0 / 11.0).abs() < 0.05,
            "{a} add: {}",
            d.fraction()
        );

        let mut rm = before.clone();
        rm.remove("10.0.0.4:11211").unwrap();
        let d = exact(&before, &rm, 200_000, 2 + n as u64);
        assert!(d
            .moves
            .iter()
            .all(|m| m.old.as_deref() == Some("10.0.0.4:11211")));

        let mut heavy = before.clone();
        heavy.set_weight("10.0.0.2:11211", 4).unwrap();
        exact(&before, &heavy, 200_000, 3 + n as u64);
    }
}

#[test]
fn rings_with_different_vnodes_diff_exactly() {
    let a = Ring::with_nodes(Algorithm::Xxh3, 40, nodes(8)).unwrap();
    let b = Ring::with_nodes(Algorithm::Xxh3, 200, nodes(8)).unwrap();
    exact(&a, &b, 200_000, 11);
    let a = Ring::with_nodes(Algorithm::Ketama, 80, nodes(8)).unwrap();
    let b = Ring::with_nodes(Algorithm::Ketama, 160, [("x", 1), ("10.0.0.1:11211", 3)]).unwrap();
    exact(&a, &b, 200_000, 12);
}

#[test]
fn identical_rings_move_nothing() {
    for a in POINT_RINGS {
        let r = Ring::with_nodes(a, 0, nodes(5)).unwrap();
        let d = r.diff(&r.clone()).unwrap();
        assert!(d.moves.is_empty());
        assert_eq!((d.moved, d.fraction()), (0, 0.0));
        // Built in another order: the same placement, no moves.
        let mut rev = nodes(5);
        rev.reverse();
        let r2 = Ring::with_nodes(a, 0, rev).unwrap();
        assert!(r.diff(&r2).unwrap().moves.is_empty());
    }
}

#[test]
fn empty_rings_on_either_side() {
    for a in POINT_RINGS {
        let empty = Ring::new(a);
        let full = Ring::with_nodes(a, 0, nodes(3)).unwrap();
        let space = full.position_space().unwrap();

        let d = empty.diff(&empty.clone()).unwrap();
        assert!(d.moves.is_empty());

        let d = empty.diff(&full).unwrap();
        check_shape(&d);
        assert_eq!(d.moved, space);
        assert!(d.moves.iter().all(|m| m.old.is_none() && m.new.is_some()));
        assert_eq!(d.moves[0].first, 0);
        assert_eq!(u128::from(d.moves.last().unwrap().last), space - 1);

        let d = full.diff(&empty).unwrap();
        check_shape(&d);
        assert!(d.moves.iter().all(|m| m.old.is_some() && m.new.is_none()));
        assert_eq!(d.moved, space);
    }
}

#[test]
fn full_to_empty_reports_every_old_owner() {
    let full = Ring::with_nodes(Algorithm::Xxh3, 4, nodes(3)).unwrap();
    let d = full.diff(&Ring::new(Algorithm::Xxh3)).unwrap();
    check_shape(&d);
    assert_eq!(d.moved, 1u128 << 64);
    // 12 points, so up to 13 segments (the wrap split), at least 3 owners.
    assert!(
        d.moves.len() >= 3 && d.moves.len() <= 13,
        "{}",
        d.moves.len()
    );
    assert_eq!(d.moves[0].first, 0);
    assert_eq!(d.moves.last().unwrap().last, u64::MAX);
    exact(&full, &Ring::new(Algorithm::Xxh3), 20_000, 5);
}

#[test]
fn one_node_replaced_by_another_moves_the_whole_space_split_at_the_top() {
    for a in POINT_RINGS {
        let x = Ring::with_nodes(a, 0, [("x", 1)]).unwrap();
        let y = Ring::with_nodes(a, 0, [("y", 1)]).unwrap();
        let d = x.diff(&y).unwrap();
        check_shape(&d);
        assert_eq!(d.fraction(), 1.0);
        // The segments all read x -> y, so they merge into one range.
        assert_eq!(d.moves.len(), 1);
        assert_eq!(d.moves[0].first, 0);
        assert_eq!(u128::from(d.moves[0].last), d.space - 1);
    }
}

#[test]
fn ketama_positions_are_32_bit() {
    let r = Ring::with_nodes(Algorithm::Ketama, 0, nodes(4)).unwrap();
    assert_eq!(r.position_space(), Some(1 << 32));
    // libketama's hash of "" is the first little-endian word of its MD5.
    assert_eq!(r.position(b"").unwrap(), 0xd98c_1dd4);
    let mut s = r.clone();
    s.add("n", 1).unwrap();
    let d = r.diff(&s).unwrap();
    assert!(d.moves.iter().all(|m| m.last <= u64::from(u32::MAX)));
    let x = Ring::new(Algorithm::Xxh3);
    assert_eq!(x.position_space(), Some(1 << 64));
    assert_eq!(
        x.position(b"abc").unwrap(),
        xxhash_rust::xxh3::xxh3_64(b"abc")
    );
}

#[test]
fn bad_pairs_are_invalid_arguments() {
    let k = Ring::with_nodes(Algorithm::Ketama, 0, nodes(2)).unwrap();
    let x = Ring::with_nodes(Algorithm::Xxh3, 0, nodes(2)).unwrap();
    let j = Ring::with_nodes(Algorithm::Jump, 0, nodes(2)).unwrap();
    let e = k.diff(&x).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(
        e.message().contains("ketama") && e.message().contains("xxh3"),
        "{e}"
    );
    let e = j.diff(&j.clone()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(e.message().contains("jump"), "{e}");
    assert_eq!(
        j.position(b"k").unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    assert_eq!(j.position_space(), None);
    assert_eq!(x.diff(&j).unwrap_err().kind(), ErrorKind::InvalidArgument);
}

/// A Maglev ring over `nodes(n)` with a table of `size` entries.
fn maglev(n: usize, size: u32) -> Ring {
    let mut r = Ring::with_config(Algorithm::Maglev, 0, size).unwrap();
    r.add_many(nodes(n)).unwrap();
    r
}

#[test]
fn maglev_keys_move_iff_their_entry_is_in_a_range() {
    let before = maglev(20, 65537);
    let mut after = before.clone();
    after.add("10.0.1.1:11211", 2).unwrap();
    after.add("10.0.1.2:11211", 1).unwrap();
    after.remove("10.0.0.3:11211").unwrap();
    after.set_weight("10.0.0.7:11211", 3).unwrap();
    // about 15 keys per entry: every entry is checked many times over
    let d = exact(&before, &after, 1_000_000, 0xbeef);
    assert_eq!(d.space, 65537);
    assert!(
        d.fraction() > 0.05 && d.fraction() < 0.5,
        "{}",
        d.fraction()
    );

    // each change alone, and the minimal-disruption bound of the algorithm:
    // removing a node moves its entries and at most 1% of the others
    let mut rm = before.clone();
    rm.remove("10.0.0.4:11211").unwrap();
    let d = exact(&before, &rm, 200_000, 0xbee1);
    let own: u128 = d
        .moves
        .iter()
        .filter(|m| m.old.as_deref() == Some("10.0.0.4:11211"))
        .map(|m| m.len())
        .sum();
    assert!(
        d.moved - own <= d.space / 100,
        "{} of {}",
        d.moved - own,
        d.moved
    );
    let mut add = before.clone();
    add.add("new", 1).unwrap();
    exact(&before, &add, 200_000, 0xbee2);
    for m in &maglev(3, 101).diff(&maglev(4, 101)).unwrap().moves {
        assert!(m.last < 101, "{m:?}");
    }
}

#[test]
fn maglev_tables_of_different_sizes_do_not_diff() {
    let e = maglev(3, 65537).diff(&maglev(3, 101)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(
        e.message().contains("65537") && e.message().contains("101"),
        "{e}"
    );
    let r = maglev(3, 101);
    assert_eq!(r.position_space(), Some(101));
    for k in random_keys(1000, 5) {
        assert!(r.position(&k).unwrap() < 101);
    }
    // empty tables: everything moves to the new owners, or from the old
    let d = Ring::with_config(Algorithm::Maglev, 0, 101)
        .unwrap()
        .diff(&r)
        .unwrap();
    assert_eq!((d.moved, d.space), (101, 101));
    assert!(d.moves.iter().all(|m| m.old.is_none() && m.new.is_some()));
}

#[test]
fn a_thousand_nodes_of_160_vnodes_diff_quickly() {
    for a in POINT_RINGS {
        let before = Ring::with_nodes(a, 160, nodes(1000)).unwrap();
        let mut after = before.clone();
        after.add("new", 1).unwrap();
        let t = Instant::now();
        let d = before.diff(&after).unwrap();
        let ms = t.elapsed().as_secs_f64() * 1e3;
        eprintln!(
            "{a}: diff of {} + {} points: {ms:.1} ms, {} ranges",
            before.point_count(),
            after.point_count(),
            d.moves.len()
        );
        check_shape(&d);
        check_iff(&before, &after, &d, &random_keys(100_000, 99));
        // Debug build of this crate; release is ~10x faster (docs/placement.md).
        assert!(ms < 2000.0, "{a}: {ms} ms");
    }
}

fn weighted() -> impl Strategy<Value = Vec<(String, u32)>> {
    prop::collection::btree_map("[a-z0-9]{1,6}", 1u32..4, 0..8)
        .prop_map(|m| m.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn small_random_rings_diff_exactly(
        ketama in any::<bool>(),
        a in weighted(),
        b in weighted(),
        va in 1u32..6,
        vb in 1u32..6,
        seed in any::<u64>(),
    ) {
        let (alg, va, vb) = if ketama {
            (Algorithm::Ketama, 4 * va, 4 * vb)
        } else {
            (Algorithm::Xxh3, va, vb)
        };
        let before = Ring::with_nodes(alg, va, a).unwrap();
        let after = Ring::with_nodes(alg, vb, b).unwrap();
        let d = before.diff(&after).unwrap();
        check_shape(&d);
        check_iff(&before, &after, &d, &random_keys(3000, seed));
    }
}
