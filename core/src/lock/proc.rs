//! Process identity and liveness: our pid (cached, kept right across fork),
//! a process's start time, and whether a recorded holder is still there.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Once;

static PID: AtomicU32 = AtomicU32::new(0);
static START: AtomicU64 = AtomicU64::new(0);
static REGISTER: Once = Once::new();

extern "C" fn after_fork_in_child() {
    // SAFETY: getpid is async-signal-safe and has no preconditions.
    let pid = unsafe { libc::getpid() } as u32;
    PID.store(pid, Ordering::SeqCst);
    START.store(0, Ordering::SeqCst);
    super::image::after_fork_in_child();
}

/// This process's pid, without a syscall on the fast path (glibc no longer
/// caches getpid); a `pthread_atfork` child handler refreshes it.
#[inline]
pub fn current_pid() -> u32 {
    let pid = PID.load(Ordering::Relaxed);
    if pid != 0 {
        return pid;
    }
    REGISTER.call_once(|| {
        // SAFETY: registers a plain extern "C" function with no captured
        // state; the handler only calls getpid and stores atomics.
        unsafe { libc::pthread_atfork(None, None, Some(after_fork_in_child)) };
    });
    // SAFETY: getpid has no preconditions.
    let pid = unsafe { libc::getpid() } as u32;
    PID.store(pid, Ordering::SeqCst);
    pid
}

/// This process image's identity as ringlock stores it beside its pid: the
/// start time (clock ticks after boot, /proc/self/stat field 22) with the
/// tag of the image's mark in the top 16 bits (see `image.rs`; 0 when no
/// mark could be made). Made once per image (again in a forked child).
pub fn current_start() -> u64 {
    let s = START.load(Ordering::Acquire);
    if s != 0 {
        return s;
    }
    let pid = current_pid();
    let start = stat(pid).map(|s| s.start).unwrap_or(0);
    // the image's mark, made once (a test may forget the start time)
    let (mark, tag) = match super::image::current_tag() {
        Some(tag) => (None, tag),
        None => {
            let m = super::image::make(pid, start);
            let tag = m.as_ref().map_or(0, |m| m.tag());
            (m, tag)
        }
    };
    let id = super::image::pack(start, tag);
    match START.compare_exchange(0, id, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => {
            if let Some(m) = mark {
                m.adopt();
            }
            id
        }
        // another thread made the image's identity first; ours is dropped
        Err(theirs) => theirs,
    }
}

/// Forgets the cached start time, so that the next use reads /proc again, as
/// the first acquisition of a process (or of a forked child) does.
#[cfg(test)]
pub(crate) fn forget_start() {
    START.store(0, Ordering::SeqCst);
}

/// What /proc says of a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    /// The state letter (R, S, D, T, t, Z, X, ...).
    pub state: u8,
    /// Start time in clock ticks after boot.
    pub start: u64,
}

/// Reads /proc/<pid>/stat; `None` if the process does not exist.
pub fn stat(pid: u32) -> Option<Stat> {
    let text = std::fs::read(format!("/proc/{pid}/stat")).ok()?;
    // "pid (comm) S ppid ...": comm may hold spaces and parentheses.
    let close = text.iter().rposition(|&b| b == b')')?;
    let rest = std::str::from_utf8(&text[close + 1..]).ok()?;
    let mut fields = rest.split_ascii_whitespace();
    let state = fields.next()?.bytes().next()?;
    // after the state come ppid (4) ... starttime (22): 18 more fields
    let start = fields.nth(18)?.parse().ok()?;
    Some(Stat { state, start })
}

/// How a recorded holder is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Liveness {
    /// Running or sleeping.
    Alive,
    /// Stopped (SIGSTOP, ptrace): alive, but will not release.
    Stopped,
    /// Gone, every thread a zombie, or its pid now belongs to another process
    /// (another start time). A zombie leader whose other threads run is alive.
    Dead,
}

/// Whether the process image `pid` with identity `identity` (as
/// [`current_start`] gives it: start time and image tag; 0 if unknown) is
/// alive: the pid exists with that start time, some thread of it is not a
/// zombie, and the image has not exec'd since (its mark is held).
pub fn liveness(pid: u32, identity: u64) -> Liveness {
    let (start, tag) = super::image::unpack(identity);
    match process_liveness(pid, start) {
        Liveness::Dead => Liveness::Dead,
        _ if super::image::released(pid, start, tag) => Liveness::Dead,
        l => l,
    }
}

/// [`liveness`] by pid and start time only.
fn process_liveness(pid: u32, start: u64) -> Liveness {
    if pid == 0 || pid > i32::MAX as u32 {
        return Liveness::Dead;
    }
    match stat(pid) {
        Some(s) if start != 0 && s.start != start => Liveness::Dead,
        // The leader is a zombie, but the process lives while any of its
        // threads does (the main thread may have called pthread_exit).
        Some(s) if s.state == b'Z' || s.state == b'X' => other_threads(pid),
        Some(s) if s.state == b'T' || s.state == b't' => Liveness::Stopped,
        Some(_) => Liveness::Alive,
        None => {
            // No /proc entry: ask the kernel (a /proc-less container).
            // SAFETY: kill with signal 0 only checks for existence.
            let r = unsafe { libc::kill(pid as libc::pid_t, 0) };
            if r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM) {
                Liveness::Alive
            } else {
                Liveness::Dead
            }
        }
    }
}

/// The liveness of a process whose leader thread is a zombie: that of its
/// other threads (in /proc/<pid>/task), `Dead` if none is left.
fn other_threads(pid: u32) -> Liveness {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Liveness::Dead;
    };
    let mut seen = Liveness::Dead;
    for t in tasks.flatten() {
        let Some(tid) = t.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        if tid == pid {
            continue;
        }
        let Ok(text) = std::fs::read(format!("/proc/{pid}/task/{tid}/stat")) else {
            continue; // exited meanwhile
        };
        let state = text
            .iter()
            .rposition(|&b| b == b')')
            .and_then(|c| text.get(c + 2).copied());
        match state {
            Some(b'Z' | b'X') | None => {}
            Some(b'T' | b't') => seen = Liveness::Stopped,
            Some(_) => return Liveness::Alive,
        }
    }
    seen
}

static NEXT_THREAD: AtomicU64 = AtomicU64::new(1);

thread_local! {
    // const-initialised: no lazy-initialisation check on each access
    static THREAD: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// A number naming the calling thread, never 0, never reused in a process.
#[inline]
pub fn thread_token() -> u64 {
    THREAD.with(|t| match t.get() {
        0 => {
            let id = NEXT_THREAD.fetch_add(1, Ordering::Relaxed);
            t.set(id);
            id
        }
        id => id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn we_are_alive_and_our_start_time_is_known() {
        let pid = current_pid();
        assert_eq!(pid, std::process::id());
        let start = current_start();
        assert!(start > 0);
        assert_eq!(
            super::super::image::unpack(start).0,
            stat(pid).unwrap().start
        );
        assert_eq!(liveness(pid, start), Liveness::Alive);
        assert_eq!(
            liveness(pid, start + 1),
            Liveness::Dead,
            "pid reuse is detected"
        );
        assert_eq!(liveness(0, 0), Liveness::Dead);
    }

    #[test]
    fn a_reaped_child_is_dead_and_a_zombie_too() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let pid = child.id();
        let start = stat(pid).unwrap().start;
        assert_eq!(liveness(pid, start), Liveness::Alive);
        child.kill().unwrap();
        // not yet reaped: a zombie
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert_eq!(liveness(pid, start), Liveness::Dead);
        child.wait().unwrap();
        assert_eq!(liveness(pid, start), Liveness::Dead);
    }

    #[test]
    fn thread_tokens_differ() {
        let here = thread_token();
        let there = std::thread::spawn(thread_token).join().unwrap();
        assert_ne!(here, there);
        assert_ne!(here, 0);
        assert_eq!(here, thread_token());
    }
}
