//! One ring for every process on a host: [`SharedRing::publish`] writes a
//! [`Ring`] into a file as a new generation; [`SharedRing::open`] maps it
//! read-only and looks keys up in place, with the answers of the `Ring`.
//!
//! - Readers never see a torn ring: a generation is a whole file renamed
//!   into place (see `publish.rs`); a reader maps one file and keeps it.
//! - Generations only grow: 1 for the first publish to a path, then one more
//!   each time, whoever publishes (publishers are serialised by a ringlock
//!   lock).
//! - A lookup that starts after `publish` returned sees that generation or a
//!   newer one: every lookup first loads the generation word (`F.gen`, one
//!   atomic load from a mapped page, no syscall); when it changed, the
//!   reader reopens, validates and maps the new file once, then answers.
//! - A handle's generation never goes backwards.
//! - A corrupt file is `Corrupt` at `open` or at the switch; validation
//!   runs once per generation, never per lookup.
//!
//! The layout is in `crate::ring::shared::layout` and docs/shared-ring.md.

mod control;
mod generation;
mod paths;
mod publish;
mod snapshot;

pub use snapshot::Snapshot;

pub use crate::ring::shared::layout::{MAGIC, VERSION};
pub use control::CONTROL_MAGIC;

use crate::error::{Error, Result};
use crate::ring::{Algorithm, Ring};
use control::Control;
use generation::Generation;
use paths::Paths;
use std::path::{Path, PathBuf};

/// A handle on a published ring. Lookups take `&mut self`: each may switch
/// the handle to a newer generation, which ends the borrow of the names a
/// previous lookup returned. One handle per thread (handles are `Send`;
/// every handle of a host maps the same pages).
pub struct SharedRing {
    paths: Paths,
    control: Control,
    /// The generation word as last seen.
    seen: u64,
    current: Generation,
}

impl std::fmt::Debug for SharedRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedRing")
            .field("path", &self.paths.ring)
            .field("generation", &self.current.header().generation)
            .field("nodes", &self.current.tables().len())
            .finish()
    }
}

impl SharedRing {
    /// Publishes `ring` at `path` as a new generation and returns its number.
    /// `path` without a `/` is a name in the default directory
    /// (`/dev/shm/ringlock-<uid>/`); otherwise the ring file itself (its
    /// directory is created 0700 if missing). Writes `path`, `path.gen` and
    /// the lock `path.publish.shm`, all 0600. Blocks while another publisher
    /// of `path` publishes. Errors: `InvalidArgument` (a bad name, a
    /// symlink), `Corrupt` (`path.gen` is not a generation file), `Io`.
    pub fn publish(ring: &Ring, path: impl AsRef<Path>) -> Result<u64> {
        publish::publish(ring, &Paths::resolve(path.as_ref())?)
    }

    /// Opens the ring published at `path` (as for [`SharedRing::publish`]).
    /// Errors: `NotFound` (nothing published there), `InvalidArgument`
    /// (a symlink, a bad name), `Corrupt`, `Io`.
    pub fn open(path: impl AsRef<Path>) -> Result<SharedRing> {
        let paths = Paths::resolve(path.as_ref())?;
        let control = Control::open(&paths.control)?;
        let seen = control.generation();
        let current = Generation::open(&paths.ring)?;
        if current.header().generation < seen {
            return Err(stale(&paths, current.header().generation, seen));
        }
        Ok(SharedRing {
            paths,
            control,
            seen,
            current,
        })
    }

    /// Takes up a newer generation if one was announced. Errors (the handle
    /// keeps its generation): `Corrupt`, `Io`, `NotFound` from the new file.
    #[inline]
    pub fn refresh(&mut self) -> Result<()> {
        let g = self.control.generation();
        if g != self.seen {
            self.switch(g)?;
        }
        Ok(())
    }

    /// Whether the generation held is the newest announced (one atomic
    /// load): when true, a lookup will not switch.
    #[inline]
    pub fn is_current(&self) -> bool {
        self.control.generation() == self.seen
    }

    #[cold]
    #[inline(never)]
    fn switch(&mut self, announced: u64) -> Result<()> {
        if announced <= self.current.header().generation {
            self.seen = announced;
            return Ok(());
        }
        let next = Generation::open(&self.paths.ring)?;
        let g = next.header().generation;
        if g < announced {
            return Err(stale(&self.paths, g, announced));
        }
        self.current = next;
        self.seen = announced;
        Ok(())
    }

    #[inline]
    fn now(&mut self) -> Result<&Generation> {
        self.refresh()?;
        Ok(&self.current)
    }

    /// The generation the next lookup answers from (after a refresh).
    pub fn generation(&mut self) -> Result<u64> {
        Ok(self.now()?.header().generation)
    }

    /// The generation of the mapping held, without looking for a newer one.
    pub fn held_generation(&self) -> u64 {
        self.current.header().generation
    }

    /// The number of nodes (after a refresh).
    pub fn node_count(&mut self) -> Result<usize> {
        Ok(self.now()?.tables().len())
    }

    /// The algorithm of the generation held.
    pub fn algorithm(&self) -> Algorithm {
        self.current.tables().algorithm
    }

    /// The ring file's path.
    pub fn path(&self) -> &PathBuf {
        &self.paths.ring
    }

    /// The nodes (name, weight) of the generation held, in name order (a
    /// node's id is its index).
    pub fn nodes(&self) -> impl ExactSizeIterator<Item = (&str, u32)> + '_ {
        let g = &self.current;
        (0..g.tables().len()).map(move |id| (g.name(id), g.tables().weight(id)))
    }

    /// Node `id` (name, weight) of the generation held.
    pub fn node(&self, id: usize) -> Option<(&str, u32)> {
        let t = self.current.tables();
        (id < t.len()).then(|| (self.current.name(id), t.weight(id)))
    }

    /// The generation held, for lookups that must not switch (a batch
    /// answered from one generation after one [`SharedRing::refresh`]).
    pub fn snapshot(&self) -> Snapshot<'_> {
        Snapshot { g: &self.current }
    }

    /// The id of node `name` in the generation held, if it is one.
    pub fn id_of(&self, name: &str) -> Option<usize> {
        let t = self.current.tables();
        let (mut lo, mut hi) = (0, t.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            match t.name(mid).cmp(name.as_bytes()) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(mid),
            }
        }
        None
    }

    /// As [`Ring::get_id`] on the generation held, without looking for a
    /// newer one (for batches answered from one generation).
    #[inline]
    pub fn held_id(&self, key: &[u8]) -> Option<usize> {
        self.current.tables().get_id(key)
    }

    /// As [`Ring::get_id`], after a refresh.
    #[inline]
    pub fn get_id(&mut self, key: &[u8]) -> Result<Option<usize>> {
        Ok(self.now()?.tables().get_id(key))
    }

    /// As [`Ring::get`]. Errors: `EmptyRing`, or a failed switch.
    #[inline]
    pub fn get(&mut self, key: &[u8]) -> Result<&str> {
        let g = self.now()?;
        match g.tables().get_id(key) {
            Some(id) => Ok(g.name(id)),
            None => Err(empty_ring()),
        }
    }

    /// As [`Ring::get_n_ids`], after a refresh.
    pub fn get_n_ids(&mut self, key: &[u8], out: &mut [usize]) -> Result<usize> {
        Ok(self.now()?.tables().get_n_ids(key, out))
    }

    /// As [`Ring::get_n`].
    pub fn get_n(&mut self, key: &[u8], n: usize) -> Result<Vec<&str>> {
        let g = self.now()?;
        let t = g.tables();
        if t.is_empty() {
            return Err(empty_ring());
        }
        let mut ids = vec![0usize; n.min(t.len())];
        let k = t.get_n_ids(key, &mut ids);
        Ok(ids[..k].iter().map(|&id| g.name(id)).collect())
    }

    /// As [`Ring::get_many_ids`], after a refresh.
    pub fn get_many_ids<K: AsRef<[u8]>>(&mut self, keys: &[K], out: &mut [usize]) -> Result<()> {
        self.now()?.tables().get_many_ids(keys, out)
    }

    /// As [`Ring::get_many`]: every key answered from one generation.
    pub fn get_many<K: AsRef<[u8]>>(&mut self, keys: &[K]) -> Result<Vec<&str>> {
        let g = self.now()?;
        let mut ids = vec![0usize; keys.len()];
        g.tables().get_many_ids(keys, &mut ids)?;
        Ok(ids.into_iter().map(|id| g.name(id)).collect())
    }

    /// As [`Ring::get_bounded_id`], after a refresh.
    pub fn get_bounded_id(&mut self, key: &[u8], loads: &[u64], factor: f64) -> Result<usize> {
        self.now()?.tables().get_bounded_id(key, loads, factor)
    }

    /// As [`Ring::get_bounded`].
    pub fn get_bounded(&mut self, key: &[u8], loads: &[u64], factor: f64) -> Result<&str> {
        let g = self.now()?;
        let id = g.tables().get_bounded_id(key, loads, factor)?;
        Ok(g.name(id))
    }

    /// Where node `id`'s name starts in the mapping held; the name is
    /// followed by its NUL there (validated at open), so this is a C string
    /// valid for as long as the handle holds this generation (the C face).
    #[doc(hidden)]
    #[inline]
    pub fn name_ptr(&self, id: usize) -> Option<*const u8> {
        self.current.try_name(id).map(str::as_ptr)
    }
}

/// Checks the bytes of a ring file as a reader does when it opens one (the
/// header, the checksum, every section); returns its generation. Errors:
/// `Corrupt`. The fuzz harness's entry point; also a way to check a copy.
pub fn validate(file: &[u8]) -> Result<u64> {
    Generation::from_vec(file).map(|g| g.header().generation)
}

/// The bytes a publisher writes for `ring` as generation `generation` (>= 1),
/// without touching any file: for tests and tools that write elsewhere.
pub fn encode(ring: &Ring, generation: u64) -> Vec<u8> {
    crate::ring::shared::encode::encode(ring, generation.max(1))
}

fn empty_ring() -> Error {
    Error::empty_ring()
}

fn stale(paths: &Paths, file: u64, announced: u64) -> Error {
    Error::corrupt(format!(
        "{} holds generation {file} but {} announces {announced}: \
         the file was replaced by something other than a publisher",
        paths.ring.display(),
        paths.control.display()
    ))
}

#[cfg(test)]
mod tests;
