//! The spymemcached profile against vectors from the real spymemcached
//! 2.12.3 (`tests/profiles/spymemcached/vectors.txt`, written by
//! `tests/profiles/spymemcached/gen.sh` with the library's own
//! `KetamaNodeLocator`): 32 server lists of 1 to 200 servers, unweighted and
//! weighted, IP addresses and 40-byte host names, ports 11211 to 11300,
//! 128,100 keys, every owner equal. ringlock's ketama, the negative control,
//! must disagree where spymemcached differs from libketama (long names,
//! weight maps, shared positions).

use ringlock::{Algorithm, Ring};

const VECTORS: &str = include_str!("../../tests/profiles/spymemcached/vectors.txt");

struct List<'a> {
    label: &'a str,
    nodes: Vec<(&'a str, u32)>,
    keys: Vec<String>,
    owners: Vec<usize>,
}

/// The lists of the file; key `j` of list `l` is `key-l-j`, `clé-l-j` when
/// `j % 10 == 9`, then the list's `tie` keys.
fn lists() -> Vec<List<'static>> {
    let mut out: Vec<List> = Vec::new();
    for line in VECTORS.lines().filter(|l| !l.starts_with('#')) {
        let (kind, rest) = line.split_once(' ').expect("a line is a kind and fields");
        match kind {
            "list" => {
                let f: Vec<&str> = rest.split(' ').collect();
                let l = out.len();
                let n: usize = f[2].parse().unwrap();
                let keys = (0..n)
                    .map(|j| format!("{}-{l}-{j}", if j % 10 == 9 { "clé" } else { "key" }))
                    .collect();
                out.push(List {
                    label: f[0],
                    nodes: Vec::new(),
                    keys,
                    owners: Vec::new(),
                });
            }
            "node" => {
                let (name, weight) = rest.rsplit_once(' ').unwrap();
                out.last_mut()
                    .unwrap()
                    .nodes
                    .push((name, weight.parse().unwrap()));
            }
            "tie" => out.last_mut().unwrap().keys.push(rest.to_owned()),
            "owners" => {
                out.last_mut().unwrap().owners =
                    rest.split(' ').map(|o| o.parse().unwrap()).collect();
            }
            other => panic!("unknown line kind {other:?}"),
        }
    }
    out
}

/// How many keys of `list` a ring of `algorithm` places elsewhere than
/// spymemcached.
fn differences(algorithm: Algorithm, list: &List) -> usize {
    let ring = Ring::with_nodes(algorithm, 0, list.nodes.iter().copied()).unwrap();
    let names: Vec<&str> = ring.nodes().map(|(name, _)| name).collect();
    let expected: Vec<&str> = list.nodes.iter().map(|n| n.0).collect();
    assert_eq!(names, expected, "{}: nodes in name order", list.label);
    let got = ring.get_many(&list.keys).unwrap();
    got.iter()
        .zip(&list.owners)
        .filter(|(g, &o)| **g != list.nodes[o].0)
        .count()
}

#[test]
fn every_key_goes_where_spymemcached_puts_it() {
    let lists = lists();
    assert_eq!(lists.len(), 32);
    let keys: usize = lists.iter().map(|l| l.keys.len()).sum();
    assert!(keys >= 100_000, "{keys} keys");
    for list in &lists {
        assert_eq!(list.keys.len(), list.owners.len(), "{}", list.label);
        assert_eq!(
            differences(Algorithm::Spymemcached, list),
            0,
            "{}: keys placed elsewhere",
            list.label
        );
    }
}

#[test]
fn ketama_the_negative_control_disagrees() {
    let mut differ = Vec::new();
    for list in lists().iter().filter(|l| l.nodes.len() > 1) {
        let d = differences(Algorithm::Ketama, list);
        // libketama cuts the 40-byte names: most keys move
        if list.label.starts_with("host-") || list.label.starts_with("unresolved-") {
            assert!(d > list.keys.len() / 2, "{}: {d} differ", list.label);
        }
        if d > 0 {
            differ.push(list.label);
        }
    }
    for label in ["tie", "tie-weighted", "weighted-25", "equal-weights-25"] {
        assert!(differ.contains(&label), "ketama agrees on {label}");
    }
}

#[test]
fn shared_positions_go_to_the_last_server() {
    let lists = lists();
    let tie = lists.iter().find(|l| l.label == "tie").unwrap();
    let ring = Ring::with_nodes(Algorithm::Spymemcached, 0, tie.nodes.iter().copied()).unwrap();
    let extra = &tie.keys[tie.keys.len() - 50..];
    let owners = &tie.owners[tie.owners.len() - 50..];
    for (key, &o) in extra.iter().zip(owners) {
        assert_eq!(ring.get(key.as_bytes()).unwrap(), tie.nodes[o].0, "{key}");
        // the other owner of the shared position is the first node
        assert_eq!(o, 1, "{key}: the later of the two servers wins");
    }
}
