//! The cross-language placement check, Rust edition. examples/c/ring.c,
//! examples/cpp/ring.cpp, examples/dlopen/ring_dlopen.c and
//! examples/python/ring.py print the same lines; `make test` compares them.

use ringlock::{Algorithm, Ring};

const NODES: [(&str, u32); 5] = [
    ("10.0.1.1:11211", 1),
    ("10.0.1.2:11211", 2),
    ("10.0.1.3:11211", 1),
    ("cache-α", 1),
    ("node-with-a-rather-long-name-01", 3),
];

/// FNV-1a 64 over each owner of "key-0".."key-9999", each followed by '\n'.
fn digest(ring: &Ring) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for i in 0..10_000 {
        let owner = ring.get(format!("key-{i}").as_bytes()).expect("non-empty");
        for &b in owner.as_bytes().iter().chain(b"\n") {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

fn main() -> Result<(), ringlock::Error> {
    println!("# ringlock {} placement check", ringlock::VERSION);
    // (label, algorithm, table size): maglev twice, default and 1009 entries
    for (name, algorithm, table_size) in [
        ("ketama", Algorithm::Ketama, 0),
        ("xxh3", Algorithm::Xxh3, 0),
        ("jump", Algorithm::Jump, 0),
        ("maglev", Algorithm::Maglev, 0),
        ("maglev-1009", Algorithm::Maglev, 1009),
        ("libmemcached", Algorithm::Libmemcached, 0),
        ("nginx", Algorithm::Nginx, 0),
        ("haproxy", Algorithm::Haproxy, 0),
        (
            "libmemcached-consistent",
            Algorithm::LibmemcachedConsistent,
            0,
        ),
        ("spymemcached", Algorithm::Spymemcached, 0),
        ("envoy-ring-hash", Algorithm::EnvoyRingHash, 0),
    ] {
        let mut ring = Ring::with_config(algorithm, 0, table_size)?;
        for (node, weight) in NODES {
            ring.add(node, weight)?;
        }
        for i in 0..8 {
            let key = format!("user:{i}");
            let owner = ring.get(key.as_bytes())?;
            let replicas = ring.get_n(key.as_bytes(), 3)?;
            println!("{name} {key} {owner} {}", replicas.join(","));
        }
        println!("{name} digest keys=10000 fnv1a64={:016x}", digest(&ring));
        ring.remove("10.0.1.2:11211")?;
        ring.set_weight("10.0.1.3:11211", 2)?;
        println!(
            "{name} digest-after keys=10000 fnv1a64={:016x}",
            digest(&ring)
        );
    }
    println!("jump_hash 42 57 {}", ringlock::jump_hash(42, 57));
    println!(
        "jump_hash 3735883980 666 {}",
        ringlock::jump_hash(0xDEAD10CC, 666)
    );
    Ok(())
}
