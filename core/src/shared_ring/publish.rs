//! Publishing a generation.
//!
//! Under the publishers' lock (`F.publish`, exclusive): the next generation
//! is one more than the larger of the generation word and the ring file's
//! own; the new file is written whole under a temporary name in the same
//! directory (0600, `O_EXCL`, no symlink followed) and renamed over `F`;
//! then the generation word is raised to it. A reader therefore finds at
//! `F` either the previous complete file or the new complete one, never a
//! part of one. A publisher killed before the rename leaves only a temporary
//! file, which the next publisher removes (under the lock, every temporary
//! file of `F` belongs to a dead publisher); killed between the rename and
//! the word, it leaves a complete file that readers take at their next
//! switch, and the next publisher counts past it. Nothing is fsync'ed: a
//! generation survives the death of its publisher, not a power cut (the
//! default directory is tmpfs anyway).

use super::control::{open_file, ControlMut};
use super::paths::Paths;
use crate::error::{Error, Result};
use crate::lock::{dir, Lock, LockOptions, Mode};
use crate::ring::shared::encode;
use crate::ring::Ring;
use std::io::{Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::sync::atomic::{AtomicU64, Ordering};

static TEMP: AtomicU64 = AtomicU64::new(0);

fn io(what: &str, path: &std::path::Path, e: std::io::Error) -> Error {
    Error::io(format_args!("{what} {}", path.display()), &e)
}

/// Publishes `ring` at `paths`; returns the new generation.
pub(crate) fn publish(ring: &Ring, paths: &Paths) -> Result<u64> {
    let dir = dir::prepare(&paths.dir, paths.is_default)?;
    let lock = Lock::open(
        &paths.lock_name(),
        &LockOptions {
            dir: paths.lock_dir(),
            ..LockOptions::default()
        },
    )?;
    let _hold = lock.acquire(Mode::Exclusive, None)?;
    let result = publish_locked(ring, paths, &dir);
    lock.release()?;
    result
}

fn publish_locked(ring: &Ring, paths: &Paths, dir: &dir::Dir) -> Result<u64> {
    remove_stale_temporaries(paths);
    let control = ControlMut::open_or_create(dir, &format!("{}.gen", paths.file))?;
    let next = control
        .generation()
        .max(file_generation(paths))
        .checked_add(1)
        .ok_or_else(|| Error::corrupt("the generation is already 2^64 - 1"))?;
    let bytes = encode::encode(ring, next);
    let n = TEMP.fetch_add(1, Ordering::Relaxed);
    let tmp = paths
        .dir
        .join(format!(".{}.{}.{n}.tmp", paths.file, std::process::id()));
    let written = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&tmp)
            .map_err(|e| io("cannot create", &tmp, e))?;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))
            .and_then(|()| f.write_all(&bytes))
            .map_err(|e| io("cannot write", &tmp, e))?;
        std::fs::rename(&tmp, &paths.ring).map_err(|e| io("cannot rename into", &paths.ring, e))
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    control.announce(next);
    Ok(next)
}

/// The generation in the ring file's header, 0 if there is no readable one.
fn file_generation(paths: &Paths) -> u64 {
    let Ok(mut f) = open_file(&paths.ring, false) else {
        return 0;
    };
    let mut head = vec![0u8; crate::ring::shared::layout::HEADER_LEN];
    if f.read_exact(&mut head).is_err() || head[..8] != crate::ring::shared::layout::MAGIC {
        return 0;
    }
    // The header alone (the checksum needs the whole file): trust only the
    // generation, and only to count past it.
    u64::from_le_bytes(head[16..24].try_into().expect("8 bytes"))
}

/// Removes `.F.<pid>.<n>.tmp` files left by publishers that died.
fn remove_stale_temporaries(paths: &Paths) {
    let prefix = format!(".{}.", paths.file);
    let Ok(entries) = std::fs::read_dir(&paths.dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(rest) = name
            .strip_prefix(&prefix)
            .and_then(|r| r.strip_suffix(".tmp"))
        {
            if rest.split('.').count() == 2 && rest.split('.').all(|p| p.parse::<u64>().is_ok()) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}
