//! One ring, one encoding: every buffer that loads is the ring's own
//! serialisation (`to_bytes(from_bytes(b)) == b`), for buffers built field by
//! field (valid checksums, fields from the edges of what is allowed) and for
//! valid ones with one byte changed.

use proptest::prelude::*;
use ringlock::ring::Limits;
use ringlock::{Algorithm, Ring};

/// Small limits keep each case fast (limits are not part of the encoding).
const SMALL: Limits = Limits {
    max_points: 1 << 16,
    max_nodes: 0,
};
use xxhash_rust::xxh3::xxh3_64;

fn seal(mut body: Vec<u8>) -> Vec<u8> {
    let sum = xxh3_64(&body);
    body.extend_from_slice(&sum.to_le_bytes());
    body
}

#[derive(Debug, Clone)]
struct Fields {
    version: u16,
    algorithm: u8,
    reserved: u8,
    vnodes: u32,
    nodes: Vec<(Vec<u8>, u32)>,
    trailer: Vec<u8>,
}

fn encode(f: &Fields) -> Vec<u8> {
    let mut b = b"RLRING\0\n".to_vec();
    b.extend_from_slice(&f.version.to_le_bytes());
    b.extend_from_slice(&[f.algorithm, f.reserved]);
    b.extend_from_slice(&f.vnodes.to_le_bytes());
    b.extend_from_slice(&(f.nodes.len() as u32).to_le_bytes());
    for (name, weight) in &f.nodes {
        b.extend_from_slice(&(name.len() as u32).to_le_bytes());
        b.extend_from_slice(name);
        b.extend_from_slice(&weight.to_le_bytes());
    }
    b.extend_from_slice(&f.trailer);
    seal(b)
}

fn fields() -> impl Strategy<Value = Fields> {
    let name = prop_oneof![
        "[a-c]{1,3}".prop_map(String::into_bytes),
        Just(Vec::new()),
        Just(b"a\0".to_vec()),
        Just(vec![0xff]),
    ];
    (
        prop_oneof![9 => Just(1u16), 1 => Just(2u16)],
        0u8..6,
        prop_oneof![9 => Just(0u8), 1 => Just(1u8)],
        prop_oneof![
            Just(0u32),
            Just(1),
            Just(3),
            Just(4),
            Just(160),
            Just(101),
            Just(65_537),
            Just(1 << 24),
            any::<u32>()
        ],
        prop::collection::vec((name, prop_oneof![Just(0u32), 1u32..4]), 0..5),
        prop_oneof![9 => Just(Vec::new()), 1 => prop::collection::vec(any::<u8>(), 1..3)],
    )
        .prop_map(
            |(version, algorithm, reserved, vnodes, mut nodes, trailer)| {
                // Mostly sorted, so that many buffers load.
                if vnodes % 2 == 0 {
                    nodes.sort();
                }
                Fields {
                    version,
                    algorithm,
                    reserved,
                    vnodes,
                    nodes,
                    trailer,
                }
            },
        )
}

fn ring_bytes() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::sample::select(Algorithm::ALL.to_vec()),
        prop::collection::btree_map("[a-z]{1,4}", 1u32..5, 0..6),
    )
        .prop_map(|(a, nodes)| {
            let mut r = match a {
                Algorithm::Maglev => Ring::with_config(a, 0, 101).unwrap(),
                _ => Ring::new(a),
            };
            r.add_many(nodes).unwrap();
            r.to_bytes()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn a_buffer_that_loads_is_its_rings_only_encoding(f in fields()) {
        let b = encode(&f);
        if let Ok(ring) = Ring::from_bytes_with_limits(&b, SMALL) {
            prop_assert_eq!(ring.to_bytes(), b, "{:?}", f);
        }
    }

    #[test]
    fn a_changed_byte_resealed_loads_only_as_its_own_encoding(
        b in ring_bytes(),
        at in any::<prop::sample::Index>(),
        value in any::<u8>(),
    ) {
        let body_len = b.len() - 8;
        let mut body = b[..body_len].to_vec();
        body[at.index(body_len)] = value;
        let changed = seal(body);
        if let Ok(ring) = Ring::from_bytes_with_limits(&changed, SMALL) {
            prop_assert_eq!(ring.to_bytes(), changed);
        }
    }
}

#[test]
fn default_vnodes_have_one_encoding() {
    for (code, algorithm) in [(1u8, Algorithm::Ketama), (2, Algorithm::Xxh3)] {
        let f = Fields {
            version: 1,
            algorithm: code,
            reserved: 0,
            vnodes: 0,
            nodes: vec![(b"a".to_vec(), 1)],
            trailer: Vec::new(),
        };
        let e = Ring::from_bytes(&encode(&f)).unwrap_err();
        assert_eq!(e.kind(), ringlock::ErrorKind::Corrupt, "{algorithm}: {e}");
        let written = Ring::with_nodes(algorithm, 0, [("a", 1)])
            .unwrap()
            .to_bytes();
        assert_eq!(&written[12..16], &160u32.to_le_bytes());
    }
}
