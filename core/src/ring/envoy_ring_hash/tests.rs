//! Envoy's own expectations for its ring, from its unit test
//! `test/extensions/load_balancing_policies/ring_hash/ring_hash_lb_test.cc`
//! (envoyproxy/envoy at 39a8cf0ebd17c3055298d5686aa1fdf7aa070a4f): the ring
//! positions its comments list, the host each request hash goes to, the
//! entries per host and the per-host counts of evenly spread hashes. Those
//! tests give the request hash directly, so these look hashes up on the
//! continuum the profile builds. The tests of locality weights, retries and
//! murmur2 are not reproduced (the profile models none of them).

use super::*;

fn nodes(names: &[&str], weights: &[u32]) -> Vec<Node> {
    names
        .iter()
        .zip(weights)
        .map(|(n, &weight)| Node {
            name: (*n).into(),
            weight,
        })
        .collect()
}

fn hosts(ports: std::ops::RangeInclusive<u32>) -> Vec<String> {
    ports.map(|p| format!("127.0.0.1:{p}")).collect()
}

fn ring(nodes: &[Node], min: u64, max: u64) -> Continuum {
    Continuum::build(points(nodes, min, max).unwrap()).unwrap()
}

/// The sorted (position, owner) pairs of a ring.
fn sorted(nodes: &[Node], min: u64, max: u64) -> Vec<(u64, u32)> {
    let mut p = points(nodes, min, max).unwrap();
    p.sort_unstable();
    p
}

/// Envoy's `chooseHost` search (libketama's), as its source writes it, over
/// sorted positions: the index it picks.
fn envoy_search(ring: &[u64], h: u64) -> usize {
    let (mut lowp, mut highp) = (0i64, ring.len() as i64);
    loop {
        let midp = (lowp + highp) / 2;
        if midp == ring.len() as i64 {
            return 0;
        }
        let midval = ring[midp as usize];
        let midval1 = if midp == 0 {
            0
        } else {
            ring[midp as usize - 1]
        };
        if h <= midval && h > midval1 {
            return midp as usize;
        }
        if midval < h {
            lowp = midp + 1;
        } else {
            highp = midp - 1;
        }
        if lowp > highp {
            return 0;
        }
    }
}

#[test]
fn basic_six_hosts_ring_of_twelve() {
    let names = hosts(90..=95);
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let n = nodes(&names, &[1; 6]);
    assert_eq!(entries(&[1; 6], 12, MAX_RING_SIZE), [2; 6]);
    // "hash ring: port | position" (owner = port - 90)
    let expected = [
        (833437586790550860, 4),
        (928266305478181108, 2),
        (1033482794131418490, 0),
        (3551244743356806947, 5),
        (3851675632748031481, 3),
        (5583722120771150861, 1),
        (6311230543546372928, 1),
        (7700377290971790572, 3),
        (13144177310400110813, 5),
        (13444792449719432967, 2),
        (15516499411664133160, 4),
        (16117243373044804889, 0),
    ];
    assert_eq!(sorted(&n, 12, MAX_RING_SIZE), expected);
    let c = ring(&n, 12, MAX_RING_SIZE);
    for (h, host) in [
        (0, 4),
        (u64::MAX, 4),
        (3551244743356806947, 5),
        (3551244743356806948, 3),
        (16117243373044804880, 0),
    ] {
        assert_eq!(c.owner_at(h), Some(host), "hash {h}");
    }
}

#[test]
fn hostnames_as_names() {
    let n = nodes(&["90", "91", "92", "93", "94", "95"], &[1; 6]);
    let expected = [
        (1975508444536362413, 5),
        (2376063919839173711, 5),
        (2386806903309390596, 3),
        (6749904478991551885, 4),
        (6803900775736438537, 3),
        (7225015537174310577, 2),
        (8787465352164086522, 0),
        (11282020843382717940, 2),
        (13723418369486627818, 1),
        (13776502110861797421, 0),
        (14338313586354474791, 1),
        (15364271037087512980, 4),
    ];
    assert_eq!(sorted(&n, 12, MAX_RING_SIZE), expected);
    let c = ring(&n, 12, MAX_RING_SIZE);
    for (h, host) in [
        (0, 5),
        (u64::MAX, 5),
        (7225015537174310577, 2),
        (6803900775736438537, 3),
    ] {
        assert_eq!(c.owner_at(h), Some(host), "hash {h}");
    }
}

#[test]
fn uneven_hosts_round_the_ring_up() {
    let n = nodes(&["127.0.0.1:80", "127.0.0.1:81"], &[1, 1]);
    assert_eq!(entries(&[1, 1], 3, MAX_RING_SIZE), [2, 2]);
    assert_eq!(
        sorted(&n, 3, MAX_RING_SIZE),
        [
            (5454692015285649509, 0),
            (7859399908942313493, 1),
            (13838424394637650569, 0),
            (16064866803292627174, 1)
        ]
    );
    assert_eq!(ring(&n, 3, MAX_RING_SIZE).owner_at(0), Some(0));
    let n = nodes(&["127.0.0.1:81", "127.0.0.1:82"], &[1, 1]);
    assert_eq!(
        sorted(&n, 3, MAX_RING_SIZE),
        [
            (7859399908942313493, 0),
            (8241336090459785962, 1),
            (12882406409176325258, 1),
            (16064866803292627174, 0)
        ]
    );
    assert_eq!(ring(&n, 3, MAX_RING_SIZE).owner_at(0), Some(0));
}

#[test]
fn host_weights_on_a_tiny_ring() {
    let names = hosts(90..=92);
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let n = nodes(&names, &[1, 2, 3]);
    // Envoy sets minimum and maximum to 6; the default maximum gives the same
    for max in [6, MAX_RING_SIZE] {
        assert_eq!(entries(&[1, 2, 3], 6, max), [1, 2, 3]);
        let c = ring(&n, 6, max);
        for (h, host) in [
            (928266305478181108, 2),
            (4443673547860492590, 2),
            (5583722120771150861, 1),
            (6311230543546372928, 1),
            (13444792449719432967, 2),
            (16117243373044804889, 0),
        ] {
            assert_eq!(c.owner_at(h), Some(host), "hash {h}");
        }
    }
}

/// How many of `spread` evenly spaced hashes (`i * (u64::MAX / spread)`)
/// each node gets.
fn counts(c: &Continuum, nodes: usize, spread: u64) -> Vec<u32> {
    let mut out = vec![0; nodes];
    for i in 0..spread {
        out[c.owner_at(i * (u64::MAX / spread)).unwrap() as usize] += 1;
    }
    out
}

#[test]
fn host_weights_on_a_large_ring() {
    let names = hosts(90..=92);
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let n = nodes(&names, &[1, 2, 3]);
    assert_eq!(entries(&[1, 2, 3], 6144, MAX_RING_SIZE), [1024, 2048, 3072]);
    let c = ring(&n, 6144, MAX_RING_SIZE);
    assert_eq!(counts(&c, 3, 6000), [987, 1932, 3081]);
}

#[test]
fn fractional_scales_with_a_lower_maximum() {
    // SmallFractionalScale: four hosts, ring size exactly 2
    let names = hosts(90..=93);
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let e = entries(&[1; 4], 2, 2);
    assert_eq!(e.iter().sum::<u64>(), 2);
    assert_eq!(e.iter().filter(|&&k| k == 0).count(), 2);
    let c = ring(&nodes(&names, &[1; 4]), 2, 2);
    let got = counts(&c, 4, 1024);
    assert_eq!(got.iter().filter(|&&k| k == 0).count(), 2);
    // LargeFractionalScale: two hosts, ring size exactly 1023
    let n = nodes(&["127.0.0.1:90", "127.0.0.1:91"], &[1, 1]);
    let e = entries(&[1, 1], 1023, 1023);
    assert_eq!((e.iter().min(), e.iter().max()), (Some(&511), Some(&512)));
    assert_eq!(counts(&ring(&n, 1023, 1023), 2, 1023), [526, 497]);
    // with the default maximum the scale is 1024: 512 each
    assert_eq!(entries(&[1, 1], 1023, MAX_RING_SIZE), [512, 512]);
}

#[test]
fn the_lookup_is_envoys_search() {
    let names: Vec<String> = (0..37).map(|i| format!("10.0.0.{i}:8080")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let weights: Vec<u32> = (0..37).map(|i| 1 + i % 4).collect();
    let n = nodes(&names, &weights);
    let s = sorted(&n, 1024, MAX_RING_SIZE);
    let positions: Vec<u64> = s.iter().map(|p| p.0).collect();
    let c = ring(&n, 1024, MAX_RING_SIZE);
    let mut probes = vec![0, 1, u64::MAX];
    for &p in &positions {
        probes.extend([p - 1, p, p + 1]);
    }
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..20_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        probes.push(x);
    }
    for h in probes {
        assert_eq!(
            c.owner_at(h),
            Some(s[envoy_search(&positions, h)].1),
            "hash {h}"
        );
    }
}

#[test]
fn ring_sizes_and_their_limits() {
    assert!(validate_min_ring_size(0).is_err());
    assert!(validate_min_ring_size(8_388_609).is_err());
    assert!(validate_min_ring_size(1).is_ok() && validate_min_ring_size(8_388_608).is_ok());
    // the default: 1,024 entries over equal hosts
    assert_eq!(entries(&[1; 3], 1024, MAX_RING_SIZE), [342, 342, 342]);
    // a tiny weight among large ones: the scale stops at the maximum
    let e = entries(&[1, 10_000_000], 1024, MAX_RING_SIZE);
    assert_eq!(e.iter().sum::<u64>(), MAX_RING_SIZE);
}

#[test]
fn the_profile_places_keys_at_their_xxh64() {
    use crate::ring::{Algorithm, Ring};
    let mut r = Ring::with_config(Algorithm::EnvoyRingHash, 0, 12).unwrap();
    for p in 90..=95 {
        r.add(&format!("127.0.0.1:{p}"), 1).unwrap();
    }
    let names = hosts(90..=95);
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let c = ring(&nodes(&names, &[1; 6]), 12, MAX_RING_SIZE);
    for i in 0..2000 {
        let k = format!("key-{i}");
        let owner = c.owner_at(xxh64(k.as_bytes(), 0)).map(|o| o as usize);
        assert_eq!(r.get_id(k.as_bytes()), owner, "{k}");
    }
    assert_eq!(r.position(b"x").unwrap(), xxh64(b"x", 0));
    assert_eq!(Ring::new(Algorithm::EnvoyRingHash).table_size(), 1024);
}
