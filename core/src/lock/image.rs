//! The identity of a process *image*: what `exec(2)` ends. A holder that
//! execs keeps its pid and start time, so those alone would keep its holds
//! alive in the eyes of every waiter until the new program exits. Holds end
//! at exec instead (close-on-exec semantics, both backends alike): each
//! process image that takes a lock first makes an image mark.
//!
//! - The mark is a file `.image-<pid>-<start>-<tag>` in the user's default
//!   lock directory (`/dev/shm/ringlock-<uid>/`, 0700), `tag` 16 random bits,
//!   on which the image holds an exclusive `flock` through an `O_CLOEXEC`
//!   descriptor. Exec closes the descriptor and so releases the flock; a
//!   forked child closes its inherited copy at once (a `pthread_atfork` child
//!   handler; closing a copy never releases the parent's flock) and makes its
//!   own mark when it first takes a lock.
//! - Every pid ringlock stores carries the start time with the tag in its top
//!   16 bits ([`pack`]). [`released`] tells whether the image that made a mark
//!   is gone: the mark is missing, or its flock is free (then the caller also
//!   removes it).
//! - A mark is made under a temporary name, locked, then hard-linked into
//!   place: a mark under its final name is always locked by its image or
//!   stale. Making a mark also removes the marks of processes that are gone.
//! - Where no mark can be made (no writable default directory) the tag is 0
//!   and liveness falls back to pid and start time; a holder of another user
//!   is judged the same way when its mark cannot be read.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI32, AtomicU16, Ordering};

/// Bits of a packed identity that hold the start time.
pub const START_BITS: u32 = 48;
const START_MASK: u64 = (1 << START_BITS) - 1;

/// The descriptor holding this image's mark, -1 if none.
static FD: AtomicI32 = AtomicI32::new(-1);
/// The tag of that mark (meaningful while FD >= 0).
static TAG: AtomicU16 = AtomicU16::new(0);

/// The tag of this image's adopted mark, if it has one.
pub fn current_tag() -> Option<u16> {
    (FD.load(Ordering::SeqCst) >= 0).then(|| TAG.load(Ordering::SeqCst))
}

/// The start time and tag of a packed identity.
#[inline]
pub fn unpack(identity: u64) -> (u64, u16) {
    (identity & START_MASK, (identity >> START_BITS) as u16)
}

/// A start time and a tag as one u64 (start times are clock ticks after
/// boot: far below 2^48).
#[inline]
pub fn pack(start: u64, tag: u16) -> u64 {
    (start & START_MASK) | (u64::from(tag) << START_BITS)
}

fn mark_path(dir: &Path, pid: u32, start: u64, tag: u16) -> PathBuf {
    dir.join(format!(".image-{pid}-{start}-{tag:04x}"))
}

fn c_path(p: &Path) -> Option<CString> {
    CString::new(p.as_os_str().as_bytes()).ok()
}

/// The child's side of fork: forget the parent's mark without releasing it.
/// Async-signal-safe (close and atomics only).
pub fn after_fork_in_child() {
    let fd = FD.swap(-1, Ordering::SeqCst);
    if fd >= 0 {
        // SAFETY: `fd` is the child's copy of the mark's descriptor, which
        // nothing else in the child uses; closing a copy leaves the flock of
        // the shared open file description to the parent.
        unsafe { libc::close(fd) };
    }
}

/// A mark made by [`make`], not yet adopted.
pub struct Mark {
    tag: u16,
    fd: i32,
    path: CString,
    adopted: bool,
}

impl Mark {
    /// The mark's tag.
    pub fn tag(&self) -> u16 {
        self.tag
    }

    /// Makes this the image's mark, for as long as the image lives.
    pub fn adopt(mut self) {
        TAG.store(self.tag, Ordering::SeqCst);
        let old = FD.swap(self.fd, Ordering::SeqCst);
        debug_assert!(old < 0, "an image adopts one mark");
        self.adopted = true;
    }
}

impl Drop for Mark {
    /// A mark not adopted (another thread's won): removed.
    fn drop(&mut self) {
        if self.adopted {
            return; // the image keeps its descriptor; only the path is freed
        }
        // SAFETY: our own descriptor and a NUL-terminated path.
        unsafe {
            libc::unlink(self.path.as_ptr());
            libc::close(self.fd);
        }
    }
}

/// Makes a mark for this image (`pid`, `start`); `None` when none can be
/// made. The caller adopts it (once per image) or drops it.
pub fn make(pid: u32, start: u64) -> Option<Mark> {
    let dir = super::dir::default_dir();
    super::dir::prepare(&dir, true).ok()?;
    sweep(&dir);
    for _ in 0..8 {
        let tag = (super::page::random_identity() as u16).max(1);
        let tmp = dir.join(format!(
            ".image-tmp-{pid}-{:016x}",
            super::page::random_identity()
        ));
        let ctmp = c_path(&tmp)?;
        let cfinal = c_path(&mark_path(&dir, pid, start, tag))?;
        // SAFETY: `ctmp` is a NUL-terminated path that outlives the call;
        // the flags create a new file, never following a symlink.
        let fd = unsafe {
            libc::open(
                ctmp.as_ptr(),
                libc::O_RDONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW | libc::O_CLOEXEC,
                0o600 as libc::c_uint,
            )
        };
        if fd < 0 {
            return None;
        }
        // SAFETY: `fd` is the descriptor just opened; the paths are
        // NUL-terminated strings that outlive the calls.
        let linked = unsafe {
            libc::flock(fd, libc::LOCK_EX | libc::LOCK_NB) == 0
                && libc::link(ctmp.as_ptr(), cfinal.as_ptr()) == 0
        };
        // SAFETY: as above.
        unsafe { libc::unlink(ctmp.as_ptr()) };
        if linked {
            return Some(Mark {
                tag,
                fd,
                path: cfinal,
                adopted: false,
            });
        }
        // SAFETY: our own descriptor, used by nothing else.
        unsafe { libc::close(fd) };
    }
    None
}

/// Whether the image that made the mark (`pid`, `start`, `tag`) is gone
/// (it exec'd or exited): the mark is missing, or its flock is free. A stale
/// mark is removed. `false` when it cannot be told (no tag, no access).
pub fn released(pid: u32, start: u64, tag: u16) -> bool {
    if tag == 0 {
        return false;
    }
    let Ok(md) = std::fs::metadata(format!("/proc/{pid}")) else {
        return false;
    };
    use std::os::unix::fs::MetadataExt;
    let dir = super::dir::default_dir_of(md.uid());
    let path = mark_path(&dir, pid, start, tag);
    let Some(c) = c_path(&path) else {
        return false;
    };
    // SAFETY: `c` is a NUL-terminated path that outlives the call.
    let fd = unsafe {
        libc::open(
            c.as_ptr(),
            libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return std::io::Error::last_os_error().raw_os_error() == Some(libc::ENOENT);
    }
    // SAFETY: `fd` is the descriptor just opened, closed below; `c` as above.
    unsafe {
        let free = libc::flock(fd, libc::LOCK_EX | libc::LOCK_NB) == 0;
        if free {
            libc::unlink(c.as_ptr());
        }
        libc::close(fd);
        free
    }
}

/// Removes the marks (and leftover temporary marks) of processes that are
/// gone or whose pid now names another process. At most 4,096 entries are
/// looked at per call.
fn sweep(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten().take(4096) {
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        let (pid, start) = if let Some(rest) = name.strip_prefix(".image-tmp-") {
            (
                rest.split('-').next().and_then(|p| p.parse::<u32>().ok()),
                None,
            )
        } else if let Some(rest) = name.strip_prefix(".image-") {
            let mut f = rest.split('-');
            let pid = f.next().and_then(|p| p.parse::<u32>().ok());
            (pid, f.next().and_then(|s| s.parse::<u64>().ok()))
        } else {
            continue;
        };
        let Some(pid) = pid else { continue };
        let gone = match super::proc::stat(pid) {
            None => true,
            Some(s) => start.is_some_and(|st| st != s.start),
        };
        if gone {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pack_and_unpack() {
        let p = pack(123_456_789, 0xbeef);
        assert_eq!(unpack(p), (123_456_789, 0xbeef));
        assert_eq!(unpack(pack(7, 0)), (7, 0));
    }

    #[test]
    fn our_mark_is_held_and_a_missing_one_is_released() {
        let pid = std::process::id();
        let start = super::super::proc::current_start();
        let (s, tag) = unpack(start);
        assert!(tag != 0, "a mark is made in the default directory");
        assert!(!released(pid, s, tag), "our own mark is held");
        let other = if tag == 1 { 2 } else { 1 };
        assert!(released(pid, s, other), "no such mark: released");
        assert!(!released(pid, s, 0), "no tag: cannot tell");
    }
}
