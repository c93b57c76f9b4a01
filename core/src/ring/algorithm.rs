//! The placement algorithms and their names.

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
}

impl Algorithm {
    /// Every algorithm, in code order.
    pub const ALL: [Algorithm; 4] = [
        Algorithm::Ketama,
        Algorithm::Xxh3,
        Algorithm::Jump,
        Algorithm::Maglev,
    ];

    /// The lower-case name: `"ketama"`, `"xxh3"`, `"jump"`, `"maglev"`.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Ketama => "ketama",
            Algorithm::Xxh3 => "xxh3",
            Algorithm::Jump => "jump",
            Algorithm::Maglev => "maglev",
        }
    }

    /// The stable numeric code (used by serialisation and the C ABI).
    pub fn code(self) -> u8 {
        match self {
            Algorithm::Ketama => 1,
            Algorithm::Xxh3 => 2,
            Algorithm::Jump => 3,
            Algorithm::Maglev => 4,
        }
    }

    /// The algorithm of a numeric code.
    pub fn from_code(code: u32) -> Option<Algorithm> {
        Algorithm::ALL
            .into_iter()
            .find(|a| u32::from(a.code()) == code)
    }

    /// The number of virtual nodes used when the caller passes 0.
    pub fn default_vnodes(self) -> u32 {
        match self {
            Algorithm::Ketama => super::ketama::DEFAULT_VNODES,
            Algorithm::Xxh3 => super::xxh3::DEFAULT_VNODES,
            Algorithm::Jump | Algorithm::Maglev => 0,
        }
    }

    /// The table size used when the caller passes 0: 65,537 for maglev, 0
    /// (no table size) for the others.
    pub fn default_table_size(self) -> u32 {
        match self {
            Algorithm::Maglev => super::maglev::DEFAULT_TABLE_SIZE,
            _ => 0,
        }
    }

    /// Resolves `table_size` (0 = default) or says why it does not fit:
    /// maglev takes a prime up to 2^26; the others take only 0.
    pub(crate) fn resolve_table_size(self, table_size: u32) -> Result<u32> {
        match (self, table_size) {
            (Algorithm::Maglev, 0) => Ok(super::maglev::DEFAULT_TABLE_SIZE),
            (Algorithm::Maglev, t) => super::maglev::validate_table_size(t).map(|()| t),
            (_, 0) => Ok(0),
            (a, t) => Err(Error::invalid(format!(
                "only maglev has a table size; for {a} it must be 0, not {t}"
            ))),
        }
    }

    /// Resolves `vnodes` (0 = default) or says why it does not fit.
    pub(crate) fn resolve_vnodes(self, vnodes: u32) -> Result<u32> {
        match (self, vnodes) {
            (Algorithm::Jump | Algorithm::Maglev, 0) => Ok(0),
            (a @ (Algorithm::Jump | Algorithm::Maglev), v) => Err(Error::invalid(format!(
                "{a} has no virtual nodes; vnodes must be 0, not {v}"
            ))),
            (a, 0) => Ok(a.default_vnodes()),
            (Algorithm::Ketama, v) if v % 4 != 0 => Err(Error::invalid(format!(
                "ketama vnodes must be a multiple of 4 (each MD5 digest gives 4 points), not {v}"
            ))),
            (_, v) => Ok(v),
        }
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
                Error::invalid(format!(
                    "unknown algorithm {s:?}; expected one of \"ketama\", \"xxh3\", \"jump\", \"maglev\""
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
