//! One generation of a shared ring: the ring file mapped read-only, its
//! header parsed and its contents validated once, its sections read in place
//! as typed arrays.

use super::control::open_file;
use crate::error::{Error, Result};
use crate::ring::shared::layout::{Header, HEADER_LEN, MAX_FILE_LEN, SENTINELS};
use crate::ring::shared::view::Tables;
use memmap2::{Mmap, MmapOptions};
use std::path::Path;

/// Bytes the tables can be read from: a mapping, or (tests) an aligned buffer.
enum Bytes {
    Map(Mmap),
    Owned(Vec<u64>),
}

impl Bytes {
    fn as_slice(&self) -> &[u8] {
        match self {
            Bytes::Map(m) => m,
            Bytes::Owned(v) => {
                // SAFETY: a u64 buffer is readable as its bytes (u8 has no
                // alignment and every bit pattern is valid).
                unsafe { std::slice::from_raw_parts(v.as_ptr().cast::<u8>(), v.len() * 8) }
            }
        }
    }
}

/// A validated generation.
pub(crate) struct Generation {
    /// Borrows `bytes`: declared first so it is dropped first; never handed
    /// out with a lifetime longer than a borrow of `self`.
    tables: Tables<'static>,
    /// Each node's name, in the mapping, by id: made once at open so that a
    /// lookup's answer costs one bounds check, as `Ring`'s does (reading
    /// (offset, length) from the records costs three). Private memory: 16
    /// bytes per node. Borrows `bytes` as `tables` does.
    names: Box<[&'static str]>,
    header: Header,
    _bytes: Bytes,
}

/// `count` values of `T` at byte `at` of `bytes`.
///
/// # Safety
/// `T` is `u32` or `u64`; `bytes` is aligned to 8 (a mapping or a `u64`
/// buffer), `at` is a multiple of 8 and `at + count * size_of::<T>() <=
/// bytes.len()` — checked here, panicking otherwise.
unsafe fn cast<T>(bytes: &[u8], at: u64, count: u64) -> &[T] {
    let size = std::mem::size_of::<T>() as u64;
    let end = count.checked_mul(size).and_then(|n| n.checked_add(at));
    assert!(end.is_some_and(|e| e <= bytes.len() as u64) && at % 8 == 0);
    let p = bytes.as_ptr().wrapping_add(at as usize);
    assert_eq!(p as usize % std::mem::align_of::<T>(), 0);
    // SAFETY: in bounds and aligned (asserted above); T is a plain integer,
    // valid for every bit pattern; the slice borrows `bytes`.
    unsafe { std::slice::from_raw_parts(p.cast::<T>(), count as usize) }
}

impl Generation {
    /// Opens, maps and validates the ring file at `path`. Errors: `NotFound`,
    /// `InvalidArgument` (a symlink), `Corrupt`, `Io`.
    pub fn open(path: &Path) -> Result<Generation> {
        let f = open_file(path, false)?;
        let len = f.metadata().map_err(Error::from)?.len();
        if len < HEADER_LEN as u64 || len > MAX_FILE_LEN {
            return Err(Error::corrupt(format!(
                "{} is {len} bytes: not a ring file",
                path.display()
            )));
        }
        // SAFETY: a read-only shared mapping of a ring file. Publishers never
        // write into a published file (they write a new one and rename it
        // into place), so its bytes do not change under us; a file truncated
        // by someone else is the one case outside this contract (SIGBUS).
        let map = unsafe { MmapOptions::new().len(len as usize).map(&f) }
            .map_err(|e| Error::io(format_args!("cannot map {}", path.display()), &e))?;
        Generation::from_bytes(Bytes::Map(map))
            .map_err(|e| Error::new(e.kind(), format!("{}: {}", path.display(), e.message())))
    }

    /// Validates a file held in memory (copied into an aligned buffer).
    pub fn from_vec(file: &[u8]) -> Result<Generation> {
        let mut v = vec![0u64; file.len().div_ceil(8)];
        // SAFETY: as in `Bytes::as_slice`, and `v` has room for `file`.
        let dst =
            unsafe { std::slice::from_raw_parts_mut(v.as_mut_ptr().cast::<u8>(), v.len() * 8) };
        dst[..file.len()].copy_from_slice(file);
        if file.len() % 8 != 0 {
            // the header must see the true length
            return Generation::from_bytes_len(Bytes::Owned(v), file.len());
        }
        Generation::from_bytes(Bytes::Owned(v))
    }

    fn from_bytes(bytes: Bytes) -> Result<Generation> {
        let len = bytes.as_slice().len();
        Generation::from_bytes_len(bytes, len)
    }

    fn from_bytes_len(bytes: Bytes, len: usize) -> Result<Generation> {
        if cfg!(target_endian = "big") {
            return Err(Error::invalid(
                "shared rings are read in place and need a little-endian machine",
            ));
        }
        let all = &bytes.as_slice()[..len];
        let header = Header::parse(all)?;
        let s = header.sections;
        let n = u64::from(header.node_count);
        let points = crate::ring::shared::layout::has_points(header.algorithm);
        let slots = header.entry_count + if points { SENTINELS as u64 } else { 0 };
        // SAFETY (each cast): Header::parse checked that the sections lie
        // where the counts put them, at multiples of 8, inside the file; the
        // bytes are a mapping or a u64 buffer (aligned to 8); `cast` asserts
        // the bounds again. The 'static lifetime is never exposed: the slices
        // live in `tables` (and `names`, made from them), which are dropped
        // before `_bytes` and only lent out for borrows of the Generation.
        let tables = unsafe {
            let all: &'static [u8] = std::slice::from_raw_parts(all.as_ptr(), all.len());
            let names = &all[s.names as usize..(s.names + s.names_len) as usize];
            let records = cast::<u32>(all, s.nodes, n * 4);
            let owner = cast::<u32>(all, s.owner, slots);
            let (pos, index) = if points {
                (
                    cast::<u64>(all, s.pos, slots),
                    cast::<u32>(all, s.index, 1u64 << header.index_bits),
                )
            } else {
                (&[][..], &[][..])
            };
            Tables::new(&header, records, names, pos, owner, index)
        };
        tables.validate(&header)?;
        let names = (0..tables.len())
            .map(|id| {
                std::str::from_utf8(tables.name(id))
                    .map_err(|_| Error::corrupt(format!("node {id}'s name is not UTF-8")))
            })
            .collect::<Result<Box<[&'static str]>>>()?;
        Ok(Generation {
            tables,
            names,
            header,
            _bytes: bytes,
        })
    }

    /// The tables, borrowed from the mapping.
    #[inline]
    pub fn tables(&self) -> &Tables<'_> {
        &self.tables
    }

    /// The header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Node `id`'s name (checked UTF-8 at open). Panics when `id` is not a
    /// node's (callers pass ids from the tables, validated at open).
    #[inline]
    pub fn name(&self, id: usize) -> &str {
        self.names[id]
    }

    /// Node `id`'s name, `None` when there is no such node.
    #[inline]
    pub fn try_name(&self, id: usize) -> Option<&str> {
        self.names.get(id).copied()
    }
}
