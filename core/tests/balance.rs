//! Balance: how evenly keys spread. The numbers for 40 to 1,000 virtual nodes
//! are in docs/placement.md (`cargo run --release -p ringlock --example balance -- --sweep`).

use ringlock::{Algorithm, Ring};

/// Every algorithm but `twemproxy-crc32`, whose 15-bit key hash (twemproxy's,
/// reproduced exactly) puts every key in the first 2^15 of 2^32 positions:
/// one or two nodes own everything; and `haproxy`, whose 16 points per unit
/// of weight (HAProxy's, reproduced exactly) balance less evenly (its own
/// bounds below); and `envoy-ring-hash`, whose default ring of 1,024
/// entries gives 100 nodes about 11 each (Envoy's default; with a larger
/// minimum ring size below).
fn balanced() -> impl Iterator<Item = Algorithm> {
    Algorithm::ALL.into_iter().filter(|&a| {
        a != Algorithm::TwemproxyCrc32 && a != Algorithm::Haproxy && a != Algorithm::EnvoyRingHash
    })
}

fn loads(ring: &Ring, keys: usize) -> Vec<usize> {
    let mut count = vec![0usize; ring.len()];
    for i in 0..keys {
        count[ring.get_id(format!("key:{i}").as_bytes()).unwrap()] += 1;
    }
    count
}

#[test]
fn default_vnodes_keep_peak_over_mean_at_most_1_30() {
    const KEYS: usize = 1_000_000;
    // libmemcached's plain ketama has 100 points per server, not 160
    let fewer_points = [
        Algorithm::LibmemcachedConsistent,
        Algorithm::LibmemcachedConsistentMd5,
    ];
    for algorithm in balanced() {
        let bound = if fewer_points.contains(&algorithm) {
            1.40
        } else {
            1.30
        };
        let nodes = (0..100).map(|i| (format!("node-{i:03}"), 1));
        let ring = Ring::with_nodes(algorithm, 0, nodes).unwrap();
        let count = loads(&ring, KEYS);
        let peak = *count.iter().max().unwrap() as f64 / (KEYS as f64 / 100.0);
        assert!(peak <= bound, "{algorithm}: peak/mean {peak:.3}");
        assert!(
            count.iter().all(|&c| c > 0),
            "{algorithm}: a node owns nothing"
        );
    }
}

#[test]
fn weights_one_to_two_give_loads_within_10_percent_of_one_to_two() {
    const KEYS: usize = 600_000;
    for algorithm in balanced() {
        // 50 nodes of weight 1 and 50 of weight 2: the weight-2 nodes together
        // must take twice what the weight-1 nodes take, within 10%.
        let nodes = (0..100).map(|i| (format!("node-{i:03}"), 1 + (i % 2)));
        let ring = Ring::with_nodes(algorithm, 0, nodes).unwrap();
        let count = loads(&ring, KEYS);
        let (mut one, mut two) = (0usize, 0usize);
        for (id, c) in count.iter().enumerate() {
            match ring.node(id).unwrap().1 {
                1 => one += c,
                _ => two += c,
            }
        }
        let ratio = two as f64 / one as f64;
        assert!(
            (1.8..=2.2).contains(&ratio),
            "{algorithm}: 2:1 ratio is {ratio:.3}"
        );
        // and a single pair: "a" weight 1, "b" weight 2
        let pair = Ring::with_nodes(algorithm, 0, [("a", 1), ("b", 2)]).unwrap();
        let c = loads(&pair, KEYS);
        let ratio = c[1] as f64 / c[0] as f64;
        assert!(
            (1.8..=2.2).contains(&ratio),
            "{algorithm}: pair ratio is {ratio:.3}"
        );
    }
}

#[test]
fn haproxy_sixteen_points_per_weight_balance_within_its_bounds() {
    const KEYS: usize = 600_000;
    let nodes = (0..100).map(|i| (format!("node-{i:03}"), 1));
    let ring = Ring::with_nodes(Algorithm::Haproxy, 0, nodes).unwrap();
    let count = loads(&ring, KEYS);
    let peak = *count.iter().max().unwrap() as f64 / (KEYS as f64 / 100.0);
    assert!((1.1..=1.7).contains(&peak), "peak/mean {peak:.3}");
    assert!(count.iter().all(|&c| c > 0), "a node owns nothing");
    // weight w is 16 w points: 2:1 within 25%
    let pair = Ring::with_nodes(Algorithm::Haproxy, 0, [("a", 1), ("b", 2)]).unwrap();
    let c = loads(&pair, KEYS);
    let ratio = c[1] as f64 / c[0] as f64;
    assert!((1.5..=2.5).contains(&ratio), "pair ratio is {ratio:.3}");
}

#[test]
fn envoy_ring_hash_balances_as_its_ring_size_allows() {
    const KEYS: usize = 600_000;
    let peak = |min_ring: u32| {
        let mut ring = Ring::with_config(Algorithm::EnvoyRingHash, 0, min_ring).unwrap();
        ring.add_many((0..100).map(|i| (format!("10.0.0.{i}:80"), 1)))
            .unwrap();
        let count = loads(&ring, KEYS);
        *count.iter().max().unwrap() as f64 / (KEYS as f64 / 100.0)
    };
    // the default, 1,024 entries: about 11 per node
    let small = peak(0);
    assert!((1.3..=3.0).contains(&small), "peak/mean {small:.3}");
    // 160 entries per node, as ketama has
    let large = peak(16_000);
    assert!(large <= 1.30, "peak/mean {large:.3}");
}
