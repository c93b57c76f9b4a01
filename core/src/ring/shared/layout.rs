//! The published ring file, version 1: a fixed 128-byte header, then the
//! node records, the names, and the lookup table, each at an offset the
//! counts fix (docs/shared-ring.md writes the layout down for other readers).
//!
//! Every integer is little-endian. Sections start at multiples of 8, so a
//! mapping (page-aligned) can be read as arrays of `u64` and `u32` in place.
//! The offsets in the header must equal the canonical ones computed from the
//! counts: sections never overlap and nothing lies between them but padding.
//!
//! The checksum is XXH3-64 (seed 0) of the whole file with the 8 checksum
//! bytes left out (bytes `0..112` then `120..file_len`).

use crate::error::{Error, Result};
use xxhash_rust::xxh3::Xxh3;

/// The first 8 bytes of a ring file.
pub const MAGIC: [u8; 8] = *b"RLSHRING";
/// The layout version this code writes and reads.
pub const VERSION: u32 = 1;
/// Bytes of the header.
pub const HEADER_LEN: usize = 128;
/// Bytes of one node record: name offset, name length, weight, reserved (u32 each).
pub const NODE_RECORD_LEN: usize = 16;
/// Sentinel positions after the points of a continuum (ketama, xxh3).
pub const SENTINELS: usize = 4;
/// Where the checksum sits in the header.
pub const CHECKSUM_AT: usize = 112;
/// The largest file accepted: 4 GiB (2^26 points need about 1 GiB).
pub const MAX_FILE_LEN: u64 = 1 << 32;

/// What the header says, checked against the file's length and layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// The generation: 1 for the first publish to a path, then one more each time.
    pub generation: u64,
    /// The total length of the file.
    pub file_len: u64,
    /// The algorithm's code (`Algorithm::code`).
    pub algorithm: u32,
    /// Virtual nodes per unit of weight (0 for jump and maglev).
    pub vnodes: u32,
    /// Maglev's table size (0 for the others).
    pub table_size: u32,
    /// The number of nodes.
    pub node_count: u32,
    /// Points (ketama, xxh3; without the sentinels), buckets (jump) or
    /// table entries (maglev; 0 while the ring is empty).
    pub entry_count: u64,
    /// Continuum index bits (2^bits index entries; 0 for jump and maglev).
    pub index_bits: u32,
    /// The sections' offsets and lengths.
    pub sections: Sections,
}

/// Byte offsets of the sections (and the names' length).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sections {
    /// Node records.
    pub nodes: u64,
    /// Names, each followed by a NUL.
    pub names: u64,
    /// Length of the names section.
    pub names_len: u64,
    /// Positions (`entry_count + SENTINELS` u64; 0 when the algorithm has none).
    pub pos: u64,
    /// Owners (u32: per point and sentinel, per bucket or per maglev entry).
    pub owner: u64,
    /// Continuum index (`2^index_bits` u32; 0 when the algorithm has none).
    pub index: u64,
}

fn align8(x: u64) -> Option<u64> {
    x.checked_add(7).map(|v| v & !7)
}

/// Whether an algorithm code has a continuum (positions and an index).
pub fn has_points(algorithm: u32) -> bool {
    crate::ring::Algorithm::from_code(algorithm).is_some_and(|a| a.spec().continuum)
}

impl Sections {
    /// The canonical layout for these counts, and the file length; `None`
    /// when it would not fit in `MAX_FILE_LEN`.
    pub fn canonical(
        algorithm: u32,
        node_count: u32,
        names_len: u64,
        entry_count: u64,
        index_bits: u32,
    ) -> Option<(Sections, u64)> {
        let nodes = HEADER_LEN as u64;
        let names = nodes.checked_add(u64::from(node_count) * NODE_RECORD_LEN as u64)?;
        let after_names = align8(names.checked_add(names_len)?)?;
        let (pos, owner, index, end) = if has_points(algorithm) {
            if index_bits > 31 {
                return None;
            }
            let slots = entry_count.checked_add(SENTINELS as u64)?;
            let pos = after_names;
            let owner = pos.checked_add(slots.checked_mul(8)?)?;
            let index = align8(owner.checked_add(slots.checked_mul(4)?)?)?;
            let end = index.checked_add((1u64 << index_bits) * 4)?;
            (pos, owner, index, end)
        } else {
            let owner = after_names;
            let end = owner.checked_add(entry_count.checked_mul(4)?)?;
            (0, owner, 0, end)
        };
        let file_len = align8(end)?;
        if file_len > MAX_FILE_LEN {
            return None;
        }
        Some((
            Sections {
                nodes,
                names,
                names_len,
                pos,
                owner,
                index,
            },
            file_len,
        ))
    }
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

/// The checksum of a whole file (`file.len() >= HEADER_LEN`).
pub fn checksum(file: &[u8]) -> u64 {
    let mut h = Xxh3::new();
    h.update(&file[..CHECKSUM_AT]);
    h.update(&file[CHECKSUM_AT + 8..]);
    h.digest()
}

impl Header {
    /// Writes the header into `out[..HEADER_LEN]` (checksum 0: see [`seal`]).
    pub fn write(&self, out: &mut [u8]) {
        let s = &self.sections;
        let h = &mut out[..HEADER_LEN];
        h.fill(0);
        h[0..8].copy_from_slice(&MAGIC);
        h[8..12].copy_from_slice(&VERSION.to_le_bytes());
        h[12..16].copy_from_slice(&(HEADER_LEN as u32).to_le_bytes());
        for (at, v) in [(16, self.generation), (24, self.file_len)] {
            h[at..at + 8].copy_from_slice(&v.to_le_bytes());
        }
        for (at, v) in [
            (32, self.algorithm),
            (36, self.vnodes),
            (40, self.table_size),
            (44, self.node_count),
            (56, self.index_bits),
        ] {
            h[at..at + 4].copy_from_slice(&v.to_le_bytes());
        }
        for (at, v) in [
            (48, self.entry_count),
            (64, s.nodes),
            (72, s.names),
            (80, s.names_len),
            (88, s.pos),
            (96, s.owner),
            (104, s.index),
        ] {
            h[at..at + 8].copy_from_slice(&v.to_le_bytes());
        }
    }

    /// Reads and checks the header of `file` (the whole file): magic,
    /// version, lengths, canonical offsets and checksum. The contents of the
    /// sections are checked by the view.
    pub fn parse(file: &[u8]) -> Result<Header> {
        if file.len() < HEADER_LEN {
            return Err(Error::corrupt(format!(
                "ring file of {} bytes is shorter than its {HEADER_LEN}-byte header",
                file.len()
            )));
        }
        if file[0..8] != MAGIC {
            return Err(Error::corrupt("not a ringlock ring file (bad magic)"));
        }
        let version = u32_at(file, 8);
        if version != VERSION {
            return Err(Error::corrupt(format!(
                "ring file layout version {version}; this library reads version {VERSION}"
            )));
        }
        if u32_at(file, 12) as usize != HEADER_LEN
            || u32_at(file, 60) != 0
            || u64_at(file, 120) != 0
        {
            return Err(Error::corrupt(
                "ring file header has a bad length or reserved field",
            ));
        }
        let h = Header {
            generation: u64_at(file, 16),
            file_len: u64_at(file, 24),
            algorithm: u32_at(file, 32),
            vnodes: u32_at(file, 36),
            table_size: u32_at(file, 40),
            node_count: u32_at(file, 44),
            entry_count: u64_at(file, 48),
            index_bits: u32_at(file, 56),
            sections: Sections {
                nodes: u64_at(file, 64),
                names: u64_at(file, 72),
                names_len: u64_at(file, 80),
                pos: u64_at(file, 88),
                owner: u64_at(file, 96),
                index: u64_at(file, 104),
            },
        };
        if h.file_len != file.len() as u64 {
            return Err(Error::corrupt(format!(
                "ring file is {} bytes but its header says {} (truncated or extended)",
                file.len(),
                h.file_len
            )));
        }
        let sum = u64_at(file, CHECKSUM_AT);
        if checksum(file) != sum {
            return Err(Error::corrupt(
                "ring file checksum does not match its contents",
            ));
        }
        if crate::ring::Algorithm::from_code(h.algorithm).is_none() {
            return Err(Error::corrupt(format!(
                "ring file names unknown algorithm code {}",
                h.algorithm
            )));
        }
        if h.generation == 0 {
            return Err(Error::corrupt("ring file generation is 0"));
        }
        match Sections::canonical(
            h.algorithm,
            h.node_count,
            h.sections.names_len,
            h.entry_count,
            h.index_bits,
        ) {
            Some((s, len)) if s == h.sections && len == h.file_len => Ok(h),
            _ => Err(Error::corrupt(
                "ring file sections are not where its counts put them",
            )),
        }
    }
}

/// Writes the checksum of `file` into its header.
pub fn seal(file: &mut [u8]) {
    let sum = checksum(file);
    file[CHECKSUM_AT..CHECKSUM_AT + 8].copy_from_slice(&sum.to_le_bytes());
}
