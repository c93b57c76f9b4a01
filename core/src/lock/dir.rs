//! The lock directory and the safe creation of lock files in it.
//!
//! The directory is opened one path component at a time, each with
//! `openat(O_PATH | O_DIRECTORY | O_NOFOLLOW)` relative to the one before, so
//! a symlink anywhere in the path is refused, and every component is vetted
//! as it is opened: it must belong to root or to the caller, and if group or
//! others may write to it, it must be sticky (so nobody else can rename or
//! replace what is in it). The lock file is then opened or created relative
//! to the directory's descriptor, never by path.
//!
//! Default directory: `/dev/shm/ringlock-<uid>/` (per user, on tmpfs), created
//! 0700 and required to be owned by the caller and private. A directory the
//! caller names is created 0700 if missing (its parent must exist). Lock files
//! are opened with O_NOFOLLOW | O_CLOEXEC, created 0600 unless the caller asks
//! for another mode, and appear fully initialised (written under a temporary
//! name, then hard-linked into place). An existing lock file must belong to the
//! caller, unless the caller asked for a mode that shares it with the group or
//! others (see [`open_or_create`]). A refusal creates and changes nothing.

use crate::error::{Error, ErrorKind, Result};
use std::ffi::{CString, OsStr};
use std::fs::File;
use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// The default lock directory of the calling user.
pub fn default_dir() -> PathBuf {
    default_dir_of(euid())
}

/// The default lock directory of user `uid`.
pub fn default_dir_of(uid: u32) -> PathBuf {
    PathBuf::from(format!("/dev/shm/ringlock-{uid}"))
}

fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

fn io_err(what: &str, path: &Path, e: std::io::Error) -> Error {
    Error::io(format_args!("{what} {}", path.display()), &e)
}

fn c_name(name: &OsStr, path: &Path) -> Result<CString> {
    CString::new(name.as_bytes())
        .map_err(|_| Error::invalid(format!("path {} contains a NUL byte", path.display())))
}

/// An opened, vetted lock directory.
#[derive(Debug)]
pub struct Dir {
    fd: OwnedFd,
    path: PathBuf,
}

impl Dir {
    /// The directory's path (for messages).
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// `openat(at, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)`.
fn open_dir_at(at: RawFd, name: &CString) -> std::io::Result<OwnedFd> {
    // SAFETY: `name` is a NUL-terminated string that outlives the call; `at`
    // is a directory descriptor we own (or AT_FDCWD); the result is checked.
    let fd = unsafe {
        libc::openat(
            at,
            name.as_ptr(),
            libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `fd` was just returned by openat and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `fstatat(at, name, AT_SYMLINK_NOFOLLOW)` (`name` empty: `at` itself).
fn stat_at(at: RawFd, name: &CString) -> std::io::Result<libc::stat> {
    // SAFETY: an all-zero `stat` is a valid value of this plain C struct.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    let flags = if name.as_bytes().is_empty() {
        libc::AT_EMPTY_PATH
    } else {
        libc::AT_SYMLINK_NOFOLLOW
    };
    // SAFETY: `name` is NUL-terminated, `st` is a valid out-pointer for the
    // duration of the call, `at` is a descriptor we own.
    let r = unsafe { libc::fstatat(at, name.as_ptr(), &mut st, flags) };
    if r != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(st)
}

/// Whether a directory with this owner and mode is safe to keep locks in (or
/// under): another user must not be able to rename or replace its entries.
fn unsafe_reason(st: &libc::stat) -> Option<String> {
    let me = euid();
    let mode = st.st_mode & 0o7777;
    if st.st_uid != 0 && st.st_uid != me {
        return Some(format!(
            "belongs to uid {} (neither root nor the caller, uid {me})",
            st.st_uid
        ));
    }
    if mode & 0o022 != 0 && mode & libc::S_ISVTX == 0 {
        return Some(format!(
            "has mode {mode:04o}: other users can write to it and it is not sticky"
        ));
    }
    None
}

/// Opens `dir` component by component without following symlinks, vetting
/// each component (see the module docs), and creates the last one (0700) if
/// it is missing. `is_default` adds the checks of the default location:
/// owned by the caller and private (no group or other bits).
pub fn prepare(dir: &Path, is_default: bool) -> Result<Dir> {
    let abs = if dir.is_absolute() {
        dir.to_owned()
    } else {
        std::env::current_dir()
            .map_err(|e| io_err("cannot resolve lock directory", dir, e))?
            .join(dir)
    };
    let root = CString::new("/").expect("no NUL");
    let mut fd = open_dir_at(libc::AT_FDCWD, &root).map_err(|e| io_err("cannot open", dir, e))?;
    let mut at = PathBuf::from("/");
    let comps: Vec<&OsStr> = abs
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s),
            Component::ParentDir => Some(OsStr::new("..")),
            _ => None,
        })
        .collect();
    vet(&fd, &at, dir)?;
    for (i, name) in comps.iter().enumerate() {
        let last = i + 1 == comps.len();
        let cname = c_name(name, dir)?;
        at.push(name);
        let next = match open_dir_at(fd.as_raw_fd(), &cname) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && last => {
                make_dir(&fd, &cname, &at, is_default)?
            }
            Err(e)
                if e.raw_os_error() == Some(libc::ENOTDIR)
                    || e.raw_os_error() == Some(libc::ELOOP) =>
            {
                let link = stat_at(fd.as_raw_fd(), &cname)
                    .map(|st| st.st_mode & libc::S_IFMT == libc::S_IFLNK)
                    .unwrap_or(false);
                let what = if link {
                    "is a symbolic link; symlinks are not followed"
                } else {
                    "is not a directory"
                };
                return Err(Error::invalid(format!(
                    "lock directory {}: {} {what}",
                    dir.display(),
                    at.display()
                )));
            }
            Err(e) => return Err(io_err("cannot open lock directory", &at, e)),
        };
        fd = next;
        vet(&fd, &at, dir)?;
    }
    if is_default {
        let st = stat_at(fd.as_raw_fd(), &CString::default())
            .map_err(|e| io_err("cannot examine", dir, e))?;
        let uid = euid();
        if st.st_uid != uid || st.st_mode & 0o077 != 0 {
            return Err(Error::new(
                ErrorKind::Io,
                format!(
                    "default lock directory {} belongs to uid {} with mode {:o}; \
                     it must be ours (uid {uid}) and private (0700)",
                    dir.display(),
                    st.st_uid,
                    st.st_mode & 0o7777
                ),
            ));
        }
    }
    Ok(Dir {
        fd,
        path: dir.to_owned(),
    })
}

fn vet(fd: &OwnedFd, at: &Path, dir: &Path) -> Result<()> {
    let st = stat_at(fd.as_raw_fd(), &CString::default())
        .map_err(|e| io_err("cannot examine", at, e))?;
    match unsafe_reason(&st) {
        None => Ok(()),
        Some(why) => Err(Error::invalid(format!(
            "lock directory {}: {} {why}; refusing it (another user could replace the locks)",
            dir.display(),
            at.display()
        ))),
    }
}

/// Creates the missing last component `name` (0700) in `parent` and opens it.
fn make_dir(parent: &OwnedFd, name: &CString, at: &Path, is_default: bool) -> Result<OwnedFd> {
    // SAFETY: `name` is NUL-terminated and outlives the call; `parent` is an
    // open directory descriptor.
    let r = unsafe { libc::mkdirat(parent.as_raw_fd(), name.as_ptr(), 0o700) };
    if r != 0 {
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::AlreadyExists {
            return Err(io_err("cannot create lock directory", at, e));
        }
    }
    let fd = open_dir_at(parent.as_raw_fd(), name)
        .map_err(|e| io_err("cannot open lock directory", at, e))?;
    if is_default && r == 0 {
        // mkdir's mode is filtered by the umask; 0700 is what we promise.
        // SAFETY: as for mkdirat; fchmodat follows no symlink here since the
        // entry is the directory we just created (and opened without
        // following links).
        let r = unsafe { libc::fchmodat(parent.as_raw_fd(), name.as_ptr(), 0o700, 0) };
        if r != 0 {
            return Err(io_err(
                "cannot set mode 0700 on",
                at,
                std::io::Error::last_os_error(),
            ));
        }
    }
    Ok(fd)
}

static TEMP: AtomicU64 = AtomicU64::new(0);

/// `openat(dir, name, flags, mode)` as a `File`.
fn open_file_at(dir: &Dir, name: &CString, flags: libc::c_int, mode: u32) -> std::io::Result<File> {
    // SAFETY: `name` is NUL-terminated and outlives the call; the directory
    // descriptor is open; the mode is passed as the variadic unsigned int
    // that openat reads when O_CREAT is set.
    let fd = unsafe {
        libc::openat(
            dir.fd.as_raw_fd(),
            name.as_ptr(),
            flags | libc::O_NOFOLLOW | libc::O_CLOEXEC,
            mode as libc::c_uint,
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `fd` was just returned by openat and is owned by nobody else.
    Ok(unsafe { File::from_raw_fd(fd) })
}

fn unlink_at(dir: &Dir, name: &CString) {
    // SAFETY: `name` is NUL-terminated; removing our own temporary entry.
    unsafe { libc::unlinkat(dir.fd.as_raw_fd(), name.as_ptr(), 0) };
}

/// Opens `file` in `dir`, creating it with `mode` and the contents
/// `init(inode number)` if it does not exist. A file that exists is opened as
/// it is (the caller validates its contents); it must be a regular file and
/// belong to the caller — or, when `mode` gives the group or others access
/// (the caller shares the lock between users), to anyone. Never follows a
/// symlink. Returns the file and whether we created it.
pub fn open_or_create(
    dir: &Dir,
    file: &str,
    mode: u32,
    init: &dyn Fn(u64) -> Vec<u8>,
) -> Result<(File, bool)> {
    let path = dir.path.join(file);
    let cfile = c_name(OsStr::new(file), &path)?;
    loop {
        match open_file_at(dir, &cfile, libc::O_RDWR, 0) {
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
                let me = euid();
                if md.uid() != me && mode & 0o066 == 0 {
                    return Err(Error::invalid(format!(
                        "lock file {} belongs to uid {}, not to the caller (uid {me}); \
                         another user's lock file is used only when the lock is opened \
                         with a file mode shared with the group or others (such as 0660)",
                        path.display(),
                        md.uid()
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
        let tmp_name = format!(".{file}.{}.{n}.tmp", super::proc::current_pid());
        let tmp = dir.path.join(&tmp_name);
        let ctmp = c_name(OsStr::new(&tmp_name), &tmp)?;
        let mut f = open_file_at(
            dir,
            &ctmp,
            libc::O_RDWR | libc::O_CREAT | libc::O_EXCL,
            mode,
        )
        .map_err(|e| io_err("cannot create lock file", &tmp, e))?;
        let written = f
            .set_permissions(std::fs::Permissions::from_mode(mode))
            .and_then(|()| f.metadata())
            .and_then(|md| f.write_all(&init(md.ino())));
        let linked = written.and_then(|()| {
            // SAFETY: both names are NUL-terminated, both relative to our
            // open directory descriptor; flags 0: the entry itself, no links
            // followed.
            let r = unsafe {
                libc::linkat(
                    dir.fd.as_raw_fd(),
                    ctmp.as_ptr(),
                    dir.fd.as_raw_fd(),
                    cfile.as_ptr(),
                    0,
                )
            };
            if r == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
        unlink_at(dir, &ctmp);
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

    fn bytes(b: &'static [u8]) -> impl Fn(u64) -> Vec<u8> {
        move |_| b.to_vec()
    }

    /// Whether we may chown files to another user (we run as root).
    fn can_chown() -> bool {
        if euid() == 0 {
            return true;
        }
        eprintln!("not root: cannot make files owned by another user; ownership cases skipped");
        false
    }

    const NOBODY: u32 = 65534;

    fn chown(p: &Path, uid: u32) {
        std::os::unix::fs::lchown(p, Some(uid), None).unwrap();
    }

    fn listing(d: &Path) -> Vec<(String, u32, u32)> {
        let mut v: Vec<_> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let md = std::fs::symlink_metadata(e.path()).unwrap();
                (
                    e.file_name().to_string_lossy().into_owned(),
                    md.uid(),
                    md.mode(),
                )
            })
            .collect();
        v.sort();
        v
    }

    #[test]
    fn creates_private_dir_and_files() {
        let d = scratch("mk");
        let dir = prepare(&d, false).unwrap();
        assert!(d.is_dir());
        let (_, created) = open_or_create(&dir, "x.lock", 0o600, &bytes(b"hello")).unwrap();
        assert!(created);
        let md = std::fs::metadata(d.join("x.lock")).unwrap();
        assert_eq!(md.mode() & 0o777, 0o600);
        assert_eq!(std::fs::read(d.join("x.lock")).unwrap(), b"hello");
        let (_, created) = open_or_create(&dir, "x.lock", 0o600, &bytes(b"other")).unwrap();
        assert!(!created);
        assert_eq!(std::fs::read(d.join("x.lock")).unwrap(), b"hello");
        // no temporary files left behind
        assert_eq!(std::fs::read_dir(&d).unwrap().count(), 1);
        // the contents are made for the file's own inode
        let (_, _) =
            open_or_create(&dir, "i.lock", 0o600, &|ino| ino.to_le_bytes().to_vec()).unwrap();
        let ino = std::fs::metadata(d.join("i.lock")).unwrap().ino();
        assert_eq!(std::fs::read(d.join("i.lock")).unwrap(), ino.to_le_bytes());
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_relative_directory_is_opened_from_the_working_directory() {
        let d = scratch("rel");
        std::fs::create_dir_all(&d).unwrap();
        let rel = d.strip_prefix("/").unwrap();
        let cwd = std::env::current_dir().unwrap();
        let up: PathBuf = cwd.components().skip(1).map(|_| "..").collect();
        let dir = prepare(&up.join(rel), false).unwrap();
        open_or_create(&dir, "r.lock", 0o600, &bytes(b"r")).unwrap();
        assert!(d.join("r.lock").is_file());
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn wider_mode_on_request_despite_umask() {
        let d = scratch("mode");
        let dir = prepare(&d, false).unwrap();
        open_or_create(&dir, "w.lock", 0o666, &bytes(b"")).unwrap();
        let md = std::fs::metadata(d.join("w.lock")).unwrap();
        assert_eq!(md.mode() & 0o777, 0o666);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn symlinks_are_refused() {
        let d = scratch("ln");
        let dir = prepare(&d, false).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", d.join("evil.lock")).unwrap();
        let e = open_or_create(&dir, "evil.lock", 0o600, &bytes(b"")).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
        let link = scratch("lndir");
        std::os::unix::fs::symlink(&d, &link).unwrap();
        let e = prepare(&link, false).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
        std::fs::remove_file(&link).unwrap();
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_symlink_in_a_parent_component_is_refused_and_nothing_is_created() {
        let real = scratch("parent-real");
        std::fs::create_dir_all(real.join("sub")).unwrap();
        let link = scratch("parent-link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        // the missing last component would be created under the link's target
        let e = prepare(&link.join("sub").join("locks"), false).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
        assert!(e.message().contains("symbolic link"), "{e}");
        assert!(e.message().contains(&*link.to_string_lossy()), "{e}");
        assert!(
            !real.join("sub").join("locks").exists(),
            "created through the link"
        );
        std::fs::remove_file(&link).unwrap();
        std::fs::remove_dir_all(&real).unwrap();
    }

    #[test]
    fn a_directory_others_can_write_without_the_sticky_bit_is_refused() {
        let d = scratch("ww");
        std::fs::create_dir_all(&d).unwrap();
        for (mode, ok) in [
            (0o777, false),
            (0o770, false),
            (0o1777, true),
            (0o755, true),
        ] {
            std::fs::set_permissions(&d, std::fs::Permissions::from_mode(mode)).unwrap();
            let r = prepare(&d, false);
            assert_eq!(r.is_ok(), ok, "mode {mode:o}: {:?}", r.err());
            if let Err(e) = r {
                assert_eq!(e.kind(), ErrorKind::InvalidArgument);
                assert!(e.message().contains("not sticky"), "{e}");
            }
            // nor under it: a parent others can write lets them swap the child
            let r = prepare(&d.join("child"), false);
            assert_eq!(r.is_ok(), ok, "parent mode {mode:o}: {:?}", r.err());
            if !ok {
                assert!(!d.join("child").exists(), "created under a refused parent");
            }
            let _ = std::fs::remove_dir(d.join("child"));
        }
        if can_chown() {
            std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755)).unwrap();
            chown(&d, NOBODY);
            let e = prepare(&d, false).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidArgument);
            assert!(e.message().contains("belongs to uid 65534"), "{e}");
        }
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn another_users_lock_file_is_refused_unless_the_mode_shares_it() {
        if !can_chown() {
            return;
        }
        // the attack: a 0666 file planted in a sticky world-writable directory
        let d = scratch("planted");
        std::fs::create_dir_all(&d).unwrap();
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o1777)).unwrap();
        let planted = d.join("jobs.lock");
        std::fs::write(&planted, b"planted").unwrap();
        std::fs::set_permissions(&planted, std::fs::Permissions::from_mode(0o666)).unwrap();
        chown(&planted, NOBODY);
        let before = listing(&d);
        let dir = prepare(&d, false).unwrap();
        for mode in [0o600, 0o700] {
            let e = open_or_create(&dir, "jobs.lock", mode, &bytes(b"x")).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
            assert!(e.message().contains("belongs to uid 65534"), "{e}");
            assert!(e.message().contains(&*planted.to_string_lossy()), "{e}");
        }
        assert_eq!(listing(&d), before, "a refusal changes nothing");
        assert_eq!(std::fs::read(&planted).unwrap(), b"planted");
        // a caller that shares its locks with other users accepts it
        for mode in [0o660, 0o606, 0o666] {
            let (_, created) = open_or_create(&dir, "jobs.lock", mode, &bytes(b"x")).unwrap();
            assert!(!created);
        }
        std::fs::remove_dir_all(&d).unwrap();
    }
}
