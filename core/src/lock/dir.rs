//! The lock directory and the safe creation of lock files in it.
//!
//! Default directory: `/dev/shm/ringlock-<uid>/` (per user, on tmpfs), created
//! 0700 and required to be a real directory owned by the caller. A directory
//! the caller names is created 0700 if missing; it must not be a symlink.
//! Lock files are opened with O_NOFOLLOW | O_CLOEXEC and created 0600 unless
//! the caller asks for another mode; they appear fully initialised (written
//! under a temporary name, then hard-linked into place).

use crate::error::{Error, ErrorKind, Result};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// The default lock directory of the calling user.
pub fn default_dir() -> PathBuf {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let uid = unsafe { libc::geteuid() };
    PathBuf::from(format!("/dev/shm/ringlock-{uid}"))
}

fn io_err(what: &str, path: &Path, e: std::io::Error) -> Error {
    Error::new(ErrorKind::Io, format!("{what} {}: {e}", path.display()))
}

/// Makes sure `dir` exists and is usable; `is_default` adds the ownership
/// and permission checks of the shared default location.
pub fn prepare(dir: &Path, is_default: bool) -> Result<()> {
    match std::fs::symlink_metadata(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut b = std::fs::DirBuilder::new();
            b.mode(0o700);
            match b.create(dir) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(io_err("cannot create lock directory", dir, e)),
            }
            // mkdir's mode is filtered by the umask; 0700 is what we promise.
            if is_default {
                std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
                    .map_err(|e| io_err("cannot set mode 0700 on", dir, e))?;
            }
            check(dir, is_default)
        }
        Err(e) => Err(io_err("cannot examine lock directory", dir, e)),
        Ok(_) => check(dir, is_default),
    }
}

fn check(dir: &Path, is_default: bool) -> Result<()> {
    let md = std::fs::symlink_metadata(dir).map_err(|e| io_err("cannot examine", dir, e))?;
    if md.file_type().is_symlink() {
        return Err(Error::invalid(format!(
            "lock directory {} is a symbolic link; symlinks are not followed",
            dir.display()
        )));
    }
    if !md.is_dir() {
        return Err(Error::invalid(format!(
            "lock directory {} is not a directory",
            dir.display()
        )));
    }
    if is_default {
        // SAFETY: geteuid has no preconditions.
        let uid = unsafe { libc::geteuid() };
        if md.uid() != uid || md.mode() & 0o077 != 0 {
            return Err(Error::new(
                ErrorKind::Io,
                format!(
                    "default lock directory {} belongs to uid {} with mode {:o}; \
                     it must be ours (uid {uid}) and private (0700)",
                    dir.display(),
                    md.uid(),
                    md.mode() & 0o7777
                ),
            ));
        }
    }
    Ok(())
}

static TEMP: AtomicU64 = AtomicU64::new(0);

/// Opens `dir/file`, creating it with `mode` and contents `init` if it does
/// not exist. A file that exists is opened as it is (the caller validates
/// it). Never follows a symlink. Returns the file and whether we created it.
pub fn open_or_create(dir: &Path, file: &str, mode: u32, init: &[u8]) -> Result<(File, bool)> {
    let path = dir.join(file);
    loop {
        match OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&path)
        {
            Ok(f) => {
                let md = f
                    .metadata()
                    .map_err(|e| io_err("cannot examine", &path, e))?;
                if !md.file_type().is_file() {
                    return Err(Error::corrupt(format!(
                        "{} is not a regular file",
                        path.display()
                    )));
                }
                return Ok((f, false));
            }
            Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
                return Err(Error::invalid(format!(
                    "{} is a symbolic link; symlinks are not followed",
                    path.display()
                )))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err("cannot open lock file", &path, e)),
        }
        // Write a complete file under a unique temporary name, then link it
        // into place: other openers see no file or a whole one, never a torn
        // initialisation; exactly one creator wins the link.
        let n = TEMP.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(".{file}.{}.{n}.tmp", super::proc::current_pid()));
        let mut f = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(mode)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&tmp)
            .map_err(|e| io_err("cannot create lock file", &tmp, e))?;
        let written = f
            .set_permissions(std::fs::Permissions::from_mode(mode))
            .and_then(|()| f.write_all(init));
        let linked = written.and_then(|()| std::fs::hard_link(&tmp, &path));
        let _ = std::fs::remove_file(&tmp);
        match linked {
            Ok(()) => return Ok((f, true)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(io_err("cannot create lock file", &path, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("ringlock-dir-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn creates_private_dir_and_files() {
        let d = scratch("mk");
        prepare(&d, false).unwrap();
        assert!(d.is_dir());
        let (_, created) = open_or_create(&d, "x.lock", 0o600, b"hello").unwrap();
        assert!(created);
        let md = std::fs::metadata(d.join("x.lock")).unwrap();
        assert_eq!(md.mode() & 0o777, 0o600);
        assert_eq!(std::fs::read(d.join("x.lock")).unwrap(), b"hello");
        let (_, created) = open_or_create(&d, "x.lock", 0o600, b"other").unwrap();
        assert!(!created);
        assert_eq!(std::fs::read(d.join("x.lock")).unwrap(), b"hello");
        // no temporary files left behind
        assert_eq!(std::fs::read_dir(&d).unwrap().count(), 1);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn wider_mode_on_request_despite_umask() {
        let d = scratch("mode");
        prepare(&d, false).unwrap();
        open_or_create(&d, "w.lock", 0o666, b"").unwrap();
        let md = std::fs::metadata(d.join("w.lock")).unwrap();
        assert_eq!(md.mode() & 0o777, 0o666);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn symlinks_are_refused() {
        let d = scratch("ln");
        prepare(&d, false).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", d.join("evil.lock")).unwrap();
        let e = open_or_create(&d, "evil.lock", 0o600, b"").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
        let link = scratch("lndir");
        std::os::unix::fs::symlink(&d, &link).unwrap();
        assert!(prepare(&link, false).is_err());
        std::fs::remove_file(&link).unwrap();
        std::fs::remove_dir_all(&d).unwrap();
    }
}
