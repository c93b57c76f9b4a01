//! A ring as a published file: the bytes of one generation.

use super::layout::{self, Header, Sections, HEADER_LEN, NODE_RECORD_LEN};
use crate::ring::{Ring, Table};

/// The file of generation `generation` of `ring`.
pub fn encode(ring: &Ring, generation: u64) -> Vec<u8> {
    let nodes = ring.nodes.as_slice();
    let names_len: u64 = nodes.iter().map(|n| n.name.len() as u64 + 1).sum();
    let (entry_count, index_bits) = match &ring.table {
        Table::Points(c) => {
            let (_, _, _, shift) = c.raw_parts();
            (c.len() as u64, 64 - shift)
        }
        Table::Buckets(b) => (b.len() as u64, 0),
        Table::Maglev(t) => (t.entries().len() as u64, 0),
    };
    let algorithm = u32::from(ring.algorithm.code());
    // A ring holds at most MAX_POINTS (2^26) points: its file fits.
    let (sections, file_len) = Sections::canonical(
        algorithm,
        nodes.len() as u32,
        names_len,
        entry_count,
        index_bits,
    )
    .expect("a ring's file fits the layout");
    let mut out = vec![0u8; file_len as usize];
    Header {
        generation,
        file_len,
        algorithm,
        vnodes: ring.vnodes,
        table_size: ring.table_size,
        node_count: nodes.len() as u32,
        entry_count,
        index_bits,
        sections,
    }
    .write(&mut out[..HEADER_LEN]);
    let mut name_off = 0u32;
    let mut names_at = sections.names as usize;
    for (i, n) in nodes.iter().enumerate() {
        let rec = sections.nodes as usize + i * NODE_RECORD_LEN;
        let len = n.name.len() as u32;
        for (k, v) in [name_off, len, n.weight, 0].into_iter().enumerate() {
            out[rec + 4 * k..rec + 4 * k + 4].copy_from_slice(&v.to_le_bytes());
        }
        out[names_at..names_at + n.name.len()].copy_from_slice(n.name.as_bytes());
        names_at += n.name.len() + 1; // the NUL is already there
        name_off += len + 1;
    }
    let put_u32s = |out: &mut [u8], at: u64, vs: &[u32]| {
        for (i, v) in vs.iter().enumerate() {
            let a = at as usize + 4 * i;
            out[a..a + 4].copy_from_slice(&v.to_le_bytes());
        }
    };
    match &ring.table {
        Table::Points(c) => {
            let (pos, owner, index, _) = c.raw_parts();
            debug_assert_eq!(pos.len(), c.len() + layout::SENTINELS);
            for (i, p) in pos.iter().enumerate() {
                let a = sections.pos as usize + 8 * i;
                out[a..a + 8].copy_from_slice(&p.to_le_bytes());
            }
            put_u32s(&mut out, sections.owner, owner);
            put_u32s(&mut out, sections.index, index);
        }
        Table::Buckets(b) => put_u32s(&mut out, sections.owner, b),
        Table::Maglev(t) => put_u32s(&mut out, sections.owner, t.entries()),
    }
    layout::seal(&mut out);
    out
}
