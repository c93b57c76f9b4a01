//! The placement algorithms: [`Algorithm`] names them, and its registry
//! ([`Algorithm::spec`]) gives what each one's own file declares.
//!
//! An algorithm is its file (a `SPEC` and the functions it names), its
//! `Algorithm` variant with its entry in [`Algorithm::ALL`], and its line in
//! the registry. A point ring (positions on a circle, like ketama and xxh3)
//! needs nothing else: the ring, its limits, serialisation, `get_n`, bounded
//! loads and migration plans work through the spec and the shared
//! continuum. A new kind of lookup table is also a `Table` variant with its
//! lookups in `mod.rs`. The shared ring (`shared/`) validates and reads its
//! own mapped layout per algorithm.

use super::nodes::{Node, NodeSet};
use super::Table;
use crate::error::{Error, Result};
use std::fmt;
use std::str::FromStr;

/// A placement algorithm. See docs/placement.md for each exact function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Algorithm {
    /// libketama-compatible MD5 continuum.
    Ketama,
    /// Virtual-node ring on XXH3-64: the fast default.
    #[default]
    Xxh3,
    /// Jump consistent hash over buckets numbered in name order.
    Jump,
    /// Maglev lookup table (Eisenbud et al., NSDI 2016) of a prime size.
    Maglev,
    /// libmemcached's weighted ketama continuum (a client profile: every key
    /// on the server libmemcached 1.1.4 picks).
    Libmemcached,
    /// nginx's `hash $key consistent` continuum (a client profile: every
    /// key on the upstream server nginx 1.22 picks).
    Nginx,
    /// twemproxy's ketama with its default key hash, fnv1a_64 (a client
    /// profile; the other `Twemproxy*` variants name their key hash).
    Twemproxy,
    /// twemproxy's ketama, `hash: md5`.
    TwemproxyMd5,
    /// twemproxy's ketama, `hash: one_at_a_time`.
    TwemproxyOneAtATime,
    /// twemproxy's ketama, `hash: murmur`.
    TwemproxyMurmur,
    /// twemproxy's ketama, `hash: crc32` (its 15-bit crc32).
    TwemproxyCrc32,
    /// twemproxy's ketama, `hash: crc32a`.
    TwemproxyCrc32a,
    /// HAProxy's `hash-type consistent` tree (a client profile: every key
    /// on the server HAProxy 2.6 picks).
    Haproxy,
    /// libmemcached's plain ketama (`MEMCACHED_BEHAVIOR_KETAMA`: 100 points
    /// per server, one per hash) with its default key hash, one-at-a-time.
    LibmemcachedConsistent,
    /// libmemcached's plain ketama with `MEMCACHED_HASH_MD5`.
    LibmemcachedConsistentMd5,
    /// spymemcached's `KetamaNodeLocator` with `KETAMA_HASH` (a client
    /// profile: every key on the server spymemcached 2.12.3 picks).
    Spymemcached,
    /// Envoy's `ring_hash` load balancer (a client profile: every hash on
    /// the host Envoy's ring picks; the table size is its
    /// `minimum_ring_size`).
    EnvoyRingHash,
}

/// What one algorithm is, declared in its own file (`ketama.rs`, `xxh3.rs`,
/// `jump.rs`, `maglev.rs`) and found through [`Algorithm::spec`], the
/// registry: its names, its one parameter, how many points a ring of it
/// holds, how it builds its lookup table and where a key sits. The ring,
/// its serialisation and its migration plans ask the spec instead of
/// matching on the algorithm, so that an algorithm is one file, one
/// [`Algorithm`] variant and one registry line.
#[derive(Debug)]
pub(super) struct Spec {
    /// The lower-case name (`"ketama"`).
    pub name: &'static str,
    /// The stable numeric code (serialisation, the C ABI).
    pub code: u8,
    /// The algorithm's one parameter, if any.
    pub parameter: Parameter,
    /// The points a ring of `nodes` holds, the quantity [`Limits`] bound
    /// (`vnodes` and `table_size` resolved).
    ///
    /// [`Limits`]: super::Limits
    pub points: fn(nodes: &NodeSet, vnodes: u32, table_size: u32) -> u64,
    /// Whether `nodes` nodes fit (maglev: at most one per table entry).
    pub check_nodes: fn(table_size: u32, nodes: usize) -> Result<()>,
    /// The lookup table of `nodes`, already checked against the limits;
    /// `Io` if an allocation fails.
    pub build: fn(nodes: &[Node], vnodes: u32, table_size: u32) -> Result<Table>,
    /// The point a key is looked up at on a continuum (ketama, xxh3). The
    /// other tables hash keys themselves, in their own files.
    pub key_hash: fn(key: &[u8]) -> u64,
    /// Public positions are `key_hash >> point_shift` on point rings
    /// (ketama keeps its 32-bit points in the top half of a u64).
    pub point_shift: u32,
    /// The size of the position space of [`Ring::position`] and
    /// [`Ring::diff`]; `None` without positions (jump).
    ///
    /// [`Ring::position`]: super::Ring::position
    /// [`Ring::diff`]: super::Ring::diff
    pub space: fn(table_size: u32) -> Option<u128>,
    /// Whether the table is a continuum of points (`Table::Points`: sorted
    /// positions, a key goes to the first at or after it).
    pub continuum: bool,
}

/// An algorithm's one parameter: what `vnodes` and `table_size` may be, and
/// which of them a serialisation stores.
#[derive(Debug)]
pub(super) enum Parameter {
    /// None (jump): both must be 0.
    None,
    /// Virtual nodes per unit of weight: 0 means `default`; others must be a
    /// multiple of `multiple_of` (`why` says why, when it is not 1).
    Vnodes {
        default: u32,
        multiple_of: u32,
        why: &'static str,
    },
    /// A table size: 0 means `default`; others must pass `validate`.
    TableSize {
        default: u32,
        validate: fn(u32) -> Result<()>,
    },
}

impl Algorithm {
    /// Every algorithm, in code order.
    pub const ALL: [Algorithm; 17] = [
        Algorithm::Ketama,
        Algorithm::Xxh3,
        Algorithm::Jump,
        Algorithm::Maglev,
        Algorithm::Libmemcached,
        Algorithm::Nginx,
        Algorithm::Twemproxy,
        Algorithm::TwemproxyMd5,
        Algorithm::TwemproxyOneAtATime,
        Algorithm::TwemproxyMurmur,
        Algorithm::TwemproxyCrc32,
        Algorithm::TwemproxyCrc32a,
        Algorithm::Haproxy,
        Algorithm::LibmemcachedConsistent,
        Algorithm::LibmemcachedConsistentMd5,
        Algorithm::Spymemcached,
        Algorithm::EnvoyRingHash,
    ];

    /// The registry: each algorithm's [`Spec`], from its own file.
    pub(super) fn spec(self) -> &'static Spec {
        match self {
            Algorithm::Ketama => &super::ketama::SPEC,
            Algorithm::Xxh3 => &super::xxh3::SPEC,
            Algorithm::Jump => &super::jump::SPEC,
            Algorithm::Maglev => &super::maglev::SPEC,
            Algorithm::Libmemcached => &super::libmemcached::SPEC,
            Algorithm::Nginx => &super::nginx::SPEC,
            Algorithm::Twemproxy => &super::twemproxy::SPEC,
            Algorithm::TwemproxyMd5 => &super::twemproxy::MD5,
            Algorithm::TwemproxyOneAtATime => &super::twemproxy::ONE_AT_A_TIME,
            Algorithm::TwemproxyMurmur => &super::twemproxy::MURMUR,
            Algorithm::TwemproxyCrc32 => &super::twemproxy::CRC32,
            Algorithm::TwemproxyCrc32a => &super::twemproxy::CRC32A,
            Algorithm::Haproxy => &super::haproxy::SPEC,
            Algorithm::LibmemcachedConsistent => &super::libmemcached_consistent::SPEC,
            Algorithm::LibmemcachedConsistentMd5 => &super::libmemcached_consistent::MD5,
            Algorithm::Spymemcached => &super::spymemcached::SPEC,
            Algorithm::EnvoyRingHash => &super::envoy_ring_hash::SPEC,
        }
    }

    /// The lower-case name: `"ketama"`, `"xxh3"`, `"jump"`, `"maglev"`,
    /// `"libmemcached"`, `"nginx"`, `"twemproxy"`, `"twemproxy-md5"`, ...
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// The stable numeric code (used by serialisation and the C ABI).
    pub fn code(self) -> u8 {
        self.spec().code
    }

    /// The algorithm of a numeric code.
    pub fn from_code(code: u32) -> Option<Algorithm> {
        Algorithm::ALL
            .into_iter()
            .find(|a| u32::from(a.code()) == code)
    }

    /// The number of virtual nodes used when the caller passes 0.
    pub fn default_vnodes(self) -> u32 {
        match self.spec().parameter {
            Parameter::Vnodes { default, .. } => default,
            _ => 0,
        }
    }

    /// The table size used when the caller passes 0: 65,537 for maglev,
    /// 1,024 (Envoy's minimum ring size) for envoy-ring-hash, 0 (no table
    /// size) for the others.
    pub fn default_table_size(self) -> u32 {
        match self.spec().parameter {
            Parameter::TableSize { default, .. } => default,
            _ => 0,
        }
    }

    /// Resolves `table_size` (0 = default) or says why it does not fit:
    /// maglev takes a prime up to 2^26, envoy-ring-hash a minimum ring size
    /// up to 2^23; the others take only 0.
    pub(crate) fn resolve_table_size(self, table_size: u32) -> Result<u32> {
        match (&self.spec().parameter, table_size) {
            (Parameter::TableSize { default, .. }, 0) => Ok(*default),
            (Parameter::TableSize { validate, .. }, t) => validate(t).map(|()| t),
            (_, 0) => Ok(0),
            (_, t) => Err(Error::invalid(format!(
                "{self} has no table size (only {} take one); it must be 0, not {t}",
                Algorithm::with_table_size()
            ))),
        }
    }

    /// Resolves `vnodes` (0 = default) or says why it does not fit.
    pub(crate) fn resolve_vnodes(self, vnodes: u32) -> Result<u32> {
        match (&self.spec().parameter, vnodes) {
            (Parameter::Vnodes { default, .. }, 0) => Ok(*default),
            (
                Parameter::Vnodes {
                    multiple_of, why, ..
                },
                v,
            ) if v % multiple_of != 0 => Err(Error::invalid(format!(
                "{self} vnodes must be a multiple of {multiple_of}{why}, not {v}"
            ))),
            (Parameter::Vnodes { .. }, v) => Ok(v),
            (_, 0) => Ok(0),
            (_, v) => Err(Error::invalid(format!(
                "{self} has no virtual nodes; vnodes must be 0, not {v}"
            ))),
        }
    }

    /// The names of the algorithms that take a table size, for messages.
    fn with_table_size() -> String {
        let names: Vec<&str> = Algorithm::ALL
            .into_iter()
            .filter(|a| matches!(a.spec().parameter, Parameter::TableSize { .. }))
            .map(Algorithm::name)
            .collect();
        names.join(", ")
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Algorithm {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Algorithm::ALL
            .into_iter()
            .find(|a| a.name() == s)
            .ok_or_else(|| {
                let names: Vec<String> = Algorithm::ALL
                    .into_iter()
                    .map(|a| format!("{:?}", a.name()))
                    .collect();
                Error::invalid(format!(
                    "unknown algorithm {s:?}; expected one of {}",
                    names.join(", ")
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_registry_gives_each_algorithm_its_own_code_and_name() {
        let codes: Vec<u8> = Algorithm::ALL.into_iter().map(Algorithm::code).collect();
        assert_eq!(
            codes,
            [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17],
            "ALL is in code order, codes are stable"
        );
        let names: Vec<&str> = Algorithm::ALL.into_iter().map(Algorithm::name).collect();
        assert_eq!(
            names,
            [
                "ketama",
                "xxh3",
                "jump",
                "maglev",
                "libmemcached",
                "nginx",
                "twemproxy",
                "twemproxy-md5",
                "twemproxy-one_at_a_time",
                "twemproxy-murmur",
                "twemproxy-crc32",
                "twemproxy-crc32a",
                "haproxy",
                "libmemcached-consistent",
                "libmemcached-consistent-md5",
                "spymemcached",
                "envoy-ring-hash"
            ]
        );
        let e = "md5".parse::<Algorithm>().unwrap_err();
        assert!(
            e.message().ends_with(
                "expected one of \"ketama\", \"xxh3\", \"jump\", \"maglev\", \"libmemcached\", \"nginx\", \"twemproxy\", \"twemproxy-md5\", \"twemproxy-one_at_a_time\", \"twemproxy-murmur\", \"twemproxy-crc32\", \"twemproxy-crc32a\", \"haproxy\", \"libmemcached-consistent\", \"libmemcached-consistent-md5\", \"spymemcached\", \"envoy-ring-hash\""
            ),
            "{e}"
        );
        let e = Algorithm::Xxh3.resolve_table_size(101).unwrap_err();
        assert!(
            e.message()
                .contains("(only maglev, envoy-ring-hash take one)"),
            "{e}"
        );
        let e = Algorithm::Ketama.resolve_vnodes(161).unwrap_err();
        assert!(
            e.message()
                .contains("multiple of 4 (each MD5 digest gives 4 points)"),
            "{e}"
        );
    }

    #[test]
    fn names_and_codes_round_trip() {
        for a in Algorithm::ALL {
            assert_eq!(a.name().parse::<Algorithm>().unwrap(), a);
            assert_eq!(Algorithm::from_code(u32::from(a.code())), Some(a));
        }
        assert!("md5".parse::<Algorithm>().is_err());
        assert_eq!(Algorithm::from_code(0), None);
    }

    #[test]
    fn vnodes_rules() {
        assert_eq!(Algorithm::Ketama.resolve_vnodes(0).unwrap(), 160);
        assert!(Algorithm::Ketama.resolve_vnodes(161).is_err());
        assert_eq!(Algorithm::Xxh3.resolve_vnodes(7).unwrap(), 7);
        assert!(Algorithm::Jump.resolve_vnodes(7).is_err());
        assert!(Algorithm::Maglev.resolve_vnodes(7).is_err());
        assert_eq!(Algorithm::Maglev.resolve_vnodes(0).unwrap(), 0);
    }

    #[test]
    fn table_size_rules() {
        assert_eq!(Algorithm::Maglev.resolve_table_size(0).unwrap(), 65_537);
        assert_eq!(Algorithm::Maglev.resolve_table_size(101).unwrap(), 101);
        assert!(Algorithm::Maglev.resolve_table_size(100).is_err());
        assert!(Algorithm::Maglev.resolve_table_size(67_108_879).is_err());
        for a in [Algorithm::Ketama, Algorithm::Xxh3, Algorithm::Jump] {
            assert_eq!(a.resolve_table_size(0).unwrap(), 0);
            assert!(a.resolve_table_size(101).is_err());
        }
    }
}
