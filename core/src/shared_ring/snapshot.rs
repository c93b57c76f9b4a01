//! [`Snapshot`]: the generation a [`SharedRing`](super::SharedRing) holds,
//! looked up without looking for a newer one — for callers that take up new
//! generations at a moment of their own (one `refresh`, then a batch).

use super::generation::Generation;
use crate::error::Result;
use crate::Algorithm;

/// A borrow of one generation: every answer comes from it.
#[derive(Clone, Copy)]
pub struct Snapshot<'a> {
    pub(super) g: &'a Generation,
}

impl<'a> Snapshot<'a> {
    /// The generation number.
    pub fn generation(&self) -> u64 {
        self.g.header().generation
    }

    /// The algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.g.tables().algorithm
    }

    /// The number of nodes.
    pub fn len(&self) -> usize {
        self.g.tables().len()
    }

    /// Whether there is no node.
    pub fn is_empty(&self) -> bool {
        self.g.tables().is_empty()
    }

    /// Node `id`'s name, if there is such a node.
    pub fn name(&self, id: usize) -> Option<&'a str> {
        self.g.try_name(id)
    }

    /// As [`Ring::get_id`](crate::Ring::get_id).
    #[inline]
    pub fn get_id(&self, key: &[u8]) -> Option<usize> {
        self.g.tables().get_id(key)
    }

    /// As [`Ring::get_n_ids`](crate::Ring::get_n_ids).
    pub fn get_n_ids(&self, key: &[u8], out: &mut [usize]) -> usize {
        self.g.tables().get_n_ids(key, out)
    }

    /// As [`Ring::get_many_ids`](crate::Ring::get_many_ids).
    pub fn get_many_ids<K: AsRef<[u8]>>(&self, keys: &[K], out: &mut [usize]) -> Result<()> {
        self.g.tables().get_many_ids(keys, out)
    }

    /// As [`Ring::get_bounded_id`](crate::Ring::get_bounded_id).
    pub fn get_bounded_id(&self, key: &[u8], loads: &[u64], factor: f64) -> Result<usize> {
        self.g.tables().get_bounded_id(key, loads, factor)
    }
}
