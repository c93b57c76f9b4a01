//! ringlock: consistent-hashing placement ([`ring`]), robust named locks
//! between processes on one host ([`lock`]), and locks across hosts on etcd
//! (`etcd`, cargo feature `etcd`, on by default).
//!
//! ```
//! use ringlock::{Algorithm, Ring};
//! let mut ring = Ring::with_nodes(Algorithm::Xxh3, 0, [("cache-a", 1), ("cache-b", 2)])?;
//! let owner = ring.get(b"user:42")?;
//! assert!(owner == "cache-a" || owner == "cache-b");
//! ring.add("cache-c", 1)?;
//! let replicas = ring.get_n(b"user:42", 2)?;
//! assert_eq!(replicas.len(), 2);
//! # Ok::<(), ringlock::Error>(())
//! ```

#![warn(missing_docs)]

mod errno;
mod error;
#[cfg(feature = "etcd")]
pub mod etcd;
pub mod lock;
pub mod ring;
pub mod shared_ring;

pub use error::{Error, ErrorKind, Result};
pub use lock::{Backend, Guard, Hold, Lock, LockOptions, LockStatus, Mode};
pub use ring::{jump_hash, Algorithm, LoadTracker, Ring};
pub use shared_ring::SharedRing;

/// The library version, from Cargo.toml.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
