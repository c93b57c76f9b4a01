//! Who holds a lock, with real processes made by fork(2): a holder whose main
//! thread exited is alive, a forked child does not inherit the handle's wait
//! state, and a forked child that does not use a lock does not keep it alive.
//! Each child is watched with a deadline, so that a hang fails the test.

mod common;

use common::{options, scratch, BOTH};
use ringlock::lock::Liveness;
use ringlock::{Backend, ErrorKind, Lock, Mode};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A pipe; each end is closed on drop.
struct Pipe {
    r: i32,
    w: i32,
}

impl Pipe {
    fn new() -> Pipe {
        let mut fds = [0i32; 2];
        // SAFETY: `fds` is an array of two ints, as pipe2 requires.
        assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
        Pipe {
            r: fds[0],
            w: fds[1],
        }
    }

    fn send(&self, b: u8) {
        // SAFETY: writes one byte from a live local.
        assert_eq!(
            unsafe { libc::write(self.w, (&b as *const u8).cast(), 1) },
            1
        );
    }

    /// One byte, or `None` at end of file.
    fn recv(&self) -> Option<u8> {
        let mut b = 0u8;
        loop {
            // SAFETY: reads at most one byte into a live local.
            let n = unsafe { libc::read(self.r, (&mut b as *mut u8).cast(), 1) };
            if n == 1 {
                return Some(b);
            }
            if n == 0 {
                return None;
            }
            assert_eq!(
                std::io::Error::last_os_error().kind(),
                std::io::ErrorKind::Interrupted
            );
        }
    }
}

impl Drop for Pipe {
    fn drop(&mut self) {
        // SAFETY: both descriptors are ours.
        unsafe {
            libc::close(self.r);
            libc::close(self.w);
        }
    }
}

/// Forks; the child runs `f` and leaves with its result as exit status,
/// without running atexit handlers or destructors of the parent's state.
fn fork(f: impl FnOnce() -> i32) -> i32 {
    // SAFETY: the child only runs `f` (which uses the lock, pipes, threads
    // and the allocator, all of which glibc makes usable after fork) and
    // then leaves with _exit.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or(101);
        // SAFETY: leaving the forked child at once.
        unsafe { libc::_exit(code) };
    }
    pid
}

/// Waits for `pid` to exit, at most `limit`; a child still running then is
/// killed and reported as hung. Returns the exit status (128 + the signal
/// for a child ended by a signal).
fn reap(pid: i32, limit: Duration, what: &str) -> i32 {
    let until = Instant::now() + limit;
    loop {
        let mut status = 0;
        // SAFETY: waiting for our own child, without blocking.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if r == pid {
            if libc::WIFSIGNALED(status) {
                return 128 + libc::WTERMSIG(status);
            }
            return libc::WEXITSTATUS(status);
        }
        assert_eq!(r, 0, "{what}: waitpid failed");
        if Instant::now() > until {
            // SAFETY: killing and reaping our own child.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                libc::waitpid(pid, &mut status, 0);
            }
            panic!("{what}: the child hung (killed after {limit:?})");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Kills and reaps a forked child on drop (when a test fails half way), so
/// that no child outlives the test.
struct Reaper(i32);

impl Drop for Reaper {
    fn drop(&mut self) {
        let mut status = 0;
        // SAFETY: killing and reaping our own child; harmless if it is gone.
        unsafe {
            if libc::waitpid(self.0, &mut status, libc::WNOHANG) == 0 {
                libc::kill(self.0, libc::SIGKILL);
                libc::waitpid(self.0, &mut status, 0);
            }
        }
    }
}

/// Kills a process that is not our child (an orphaned grandchild) on drop.
struct Killer(i32);

impl Drop for Killer {
    fn drop(&mut self) {
        // SAFETY: the pid is a grandchild of ours that nobody else knows;
        // init reaps it.
        unsafe { libc::kill(self.0, libc::SIGKILL) };
    }
}

/// The state letter of /proc/<pid>/stat.
fn state_of(pid: i32) -> Option<u8> {
    let s = std::fs::read(format!("/proc/{pid}/stat")).ok()?;
    let close = s.iter().rposition(|&b| b == b')')?;
    s.get(close + 2).copied()
}

/// The state letter of thread `tid` of this process.
fn thread_state(tid: i32) -> Option<u8> {
    let s = std::fs::read(format!("/proc/self/task/{tid}/stat")).ok()?;
    let close = s.iter().rposition(|&b| b == b')')?;
    s.get(close + 2).copied()
}

fn gettid() -> i32 {
    // SAFETY: gettid has no preconditions.
    unsafe { libc::gettid() }
}

/// Finding 1 of issue 8: a process takes the lock in a worker thread and its
/// main thread calls pthread_exit; /proc shows the leader as a zombie while
/// the worker holds the lock. Nobody else may take the lock then, status
/// must call the holder alive, and the holder's release must succeed.
#[test]
fn a_holder_whose_main_thread_exited_is_alive() {
    for b in BOTH {
        let d = scratch(&format!("live-leader-{}", b.name()));
        let o = options(&d, b);
        let to_child = Arc::new(Pipe::new());
        let from_child = Arc::new(Pipe::new());
        let (to, from) = (to_child.clone(), from_child.clone());
        let oc = o.clone();
        let pid = fork(move || {
            let lock = Arc::new(Lock::open("l", &oc).unwrap());
            let (held_tx, held_rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                lock.acquire(Mode::Exclusive, None).unwrap();
                held_tx.send(()).unwrap();
                // wait for the leader to be a zombie, then tell the parent
                // SAFETY: getpid has no preconditions.
                let me = unsafe { libc::getpid() };
                while state_of(me) != Some(b'Z') {
                    std::thread::sleep(Duration::from_millis(1));
                }
                from.send(b'h');
                to.recv();
                let ok = lock.release().is_ok();
                from.send(if ok { b'r' } else { b'x' });
                // SAFETY: ends the whole process from its last thread.
                unsafe { libc::_exit(0) };
            });
            held_rx.recv().unwrap();
            // End the leader thread only (what pthread_exit does in C,
            // without unwinding these frames); the worker goes on.
            // SAFETY: the exit syscall ends the calling thread; nothing of
            // this thread is used afterwards.
            unsafe { libc::syscall(libc::SYS_exit, 0) };
            unreachable!()
        });
        let _reaper = Reaper(pid);
        assert_eq!(from_child.recv(), Some(b'h'), "{b:?}: child did not hold");
        assert_eq!(state_of(pid), Some(b'Z'), "the leader is a zombie");
        let other = Lock::open("l", &o).unwrap();
        let st = other.status();
        assert_eq!(st.holders.len(), 1, "{b:?}");
        assert_eq!(st.holders[0].pid, pid as u32);
        assert_eq!(
            st.holders[0].liveness,
            Liveness::Alive,
            "{b:?}: the holder's worker thread runs"
        );
        let got = other.acquire(Mode::Exclusive, Some(Duration::from_millis(100)));
        match got {
            Err(e) => assert_eq!(e.kind(), ErrorKind::Timeout, "{b:?}: {e}"),
            Ok(h) => panic!(
                "{b:?}: acquired a lock held by a live process (previous_owner_died={})",
                h.previous_owner_died
            ),
        }
        to_child.send(b'g');
        assert_eq!(
            from_child.recv(),
            Some(b'r'),
            "{b:?}: the holder's release failed"
        );
        assert_eq!(reap(pid, Duration::from_secs(20), "leader"), 0);
        let h = other
            .acquire(Mode::Exclusive, Some(Duration::ZERO))
            .unwrap();
        assert!(!h.previous_owner_died, "{b:?}: the holder released");
        other.release().unwrap();
        std::fs::remove_dir_all(&d).unwrap();
    }
}

/// Finding 3 of issue 8: fork() while another thread waits on the same
/// handle. The child inherits the handle's in-process wait state (a waiter
/// count, a queue entry of a thread the child does not have); its releases
/// and failed tries must not hang on it.
#[test]
fn a_child_forked_while_a_thread_waits_on_the_handle_does_not_hang() {
    for (b, mode) in [
        (Backend::File, Mode::Exclusive),
        (Backend::File, Mode::Shared),
        (Backend::Shm, Mode::Shared),
    ] {
        let what = format!("{b:?} {mode:?}");
        let d = scratch(&format!("live-forkwait-{}-{mode:?}", b.name()));
        let lock = Arc::new(Lock::open("l", &options(&d, b)).unwrap());
        lock.acquire(mode, None).unwrap();
        let (tid_tx, tid_rx) = std::sync::mpsc::channel();
        let waiter = {
            let lock = lock.clone();
            std::thread::spawn(move || {
                tid_tx.send(gettid()).unwrap();
                // waits for the handle, which this process's main thread holds
                lock.acquire(mode, Some(Duration::from_secs(60))).unwrap();
                lock.release().unwrap();
            })
        };
        let tid = tid_rx.recv().unwrap();
        // until the waiter sleeps (in its wait for the handle)
        while thread_state(tid) != Some(b'S') {
            std::thread::sleep(Duration::from_millis(1));
        }
        let child_lock = lock.clone();
        let pid = fork(move || {
            for _ in 0..5 {
                match mode {
                    Mode::Exclusive => {
                        // the parent holds it: each try and timed wait fails
                        let e = child_lock.acquire(mode, Some(Duration::ZERO)).unwrap_err();
                        if e.kind() != ErrorKind::WouldBlock {
                            return 2;
                        }
                        let e = child_lock
                            .acquire(mode, Some(Duration::from_millis(5)))
                            .unwrap_err();
                        if e.kind() != ErrorKind::Timeout {
                            return 3;
                        }
                    }
                    Mode::Shared => {
                        if child_lock.acquire(mode, Some(Duration::ZERO)).is_err() {
                            return 4;
                        }
                        if child_lock.release().is_err() {
                            return 5;
                        }
                    }
                }
            }
            0
        });
        let _reaper = Reaper(pid);
        assert_eq!(reap(pid, Duration::from_secs(20), &what), 0, "{what}");
        lock.release().unwrap();
        waiter.join().unwrap();
        drop(lock);
        std::fs::remove_dir_all(&d).unwrap();
    }
}

/// Finding 2 of issue 8: a file-backend holder forked a worker that never
/// touches the lock (before it acquired, or while holding), then died of
/// SIGKILL. The worker must not keep the flock alive: the next acquirer gets
/// the lock, told that the previous owner died.
#[test]
fn a_forked_child_that_does_not_use_the_lock_does_not_keep_it_alive() {
    for (fork_while_holding, by_guard) in
        [(false, false), (true, false), (false, true), (true, true)]
    {
        let what = format!(
            "{} (held {})",
            if fork_while_holding {
                "forked while holding"
            } else {
                "forked before acquiring"
            },
            if by_guard {
                "by a guard"
            } else {
                "by the handle"
            }
        );
        let what = what.as_str();
        let d = scratch(&format!("live-forkkeep-{fork_while_holding}-{by_guard}"));
        let o = options(&d, Backend::File);
        let from_holder = Arc::new(Pipe::new());
        let from = from_holder.clone();
        let oc = o.clone();
        let holder = fork(move || {
            let lock = Arc::new(Lock::open("l", &oc).unwrap());
            let mut guard = None;
            let mut take = || {
                if by_guard {
                    guard = Some(lock.guard(Mode::Exclusive, None).unwrap());
                } else {
                    lock.acquire(Mode::Exclusive, None).unwrap();
                }
            };
            let spawn_worker = || {
                // a worker that never uses the lock: it waits to be killed
                fork(|| loop {
                    // SAFETY: pause has no preconditions.
                    unsafe { libc::pause() };
                })
            };
            let worker = if fork_while_holding {
                take();
                spawn_worker()
            } else {
                let w = spawn_worker();
                take();
                w
            };
            for b in worker.to_le_bytes() {
                from.send(b);
            }
            loop {
                // SAFETY: pause has no preconditions.
                unsafe { libc::pause() };
            }
        });
        let _reaper = Reaper(holder);
        let mut worker = [0u8; 4];
        for b in &mut worker {
            *b = from_holder.recv().expect("the holder did not get ready");
        }
        let worker = Killer(i32::from_le_bytes(worker));
        // SAFETY: killing our own child, the holder.
        unsafe { libc::kill(holder, libc::SIGKILL) };
        assert_eq!(reap(holder, Duration::from_secs(20), what), 128 + 9);
        let other = Lock::open("l", &o).unwrap();
        let got = other.acquire(Mode::Exclusive, Some(Duration::from_secs(5)));
        drop(worker);
        let h = got.unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(h.previous_owner_died, "{what}");
        other.release().unwrap();
        std::fs::remove_dir_all(&d).unwrap();
    }
}

/// Finding 5 of issue 8: the file backend's waiting-writer field names a
/// writer that died waiting, and its pid now belongs to an unrelated live
/// process. The field carries the writer's start time, so the stranger is
/// not taken for the writer and new readers are not held back.
#[test]
fn a_dead_waiting_writers_reused_pid_does_not_block_readers() {
    use std::os::unix::fs::FileExt;
    // the page's writer_waiting pid (u32) and its start time (u64)
    const WAITING_PID: u64 = 2152;
    const WAITING_START: u64 = 2160;
    let d = scratch("waitpid");
    let lock = Lock::open("l", &options(&d, Backend::File)).unwrap();
    let mut stranger = std::process::Command::new("sleep")
        .arg("60")
        .spawn()
        .unwrap();
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(lock.path())
        .unwrap();
    // what a writer that waited and died leaves, its pid reused since: the
    // start time recorded is not the stranger's (1 tick after boot)
    f.write_all_at(&1u64.to_le_bytes(), WAITING_START).unwrap();
    f.write_all_at(&stranger.id().to_le_bytes(), WAITING_PID)
        .unwrap();
    let got = lock.acquire(Mode::Shared, Some(Duration::from_millis(200)));
    stranger.kill().unwrap();
    stranger.wait().unwrap();
    got.unwrap_or_else(|e| panic!("a reader was held back by a stranger: {e}"));
    lock.release().unwrap();
    drop(lock);
    std::fs::remove_dir_all(&d).unwrap();
}

/// Finding 6 of issue 8: at the top of the token range an exclusive
/// acquisition fails with `Corrupt` (and holds nothing) instead of handing
/// out a wrapped token (0 means "never acquired").
#[test]
fn the_fencing_token_does_not_wrap() {
    use std::os::unix::fs::FileExt;
    const TOKEN: u64 = 64; // the page's last token handed out
    for b in BOTH {
        let d = scratch(&format!("wrap-{}", b.name()));
        let o = options(&d, b);
        let path = Lock::open("l", &o).unwrap().path().to_owned();
        let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        f.write_all_at(&(u64::MAX - 1).to_le_bytes(), TOKEN)
            .unwrap();
        let lock = Lock::open("l", &o).unwrap();
        let h = lock.acquire(Mode::Exclusive, None).unwrap();
        assert_eq!(h.token, u64::MAX, "{b:?}");
        lock.release().unwrap();
        let e = lock.acquire(Mode::Exclusive, None).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Corrupt, "{b:?}: {e}");
        assert!(!lock.is_held(), "{b:?}");
        assert_eq!(lock.status().token, u64::MAX, "{b:?}");
        // nothing is held: a shared acquisition still works
        let h = lock.acquire(Mode::Shared, Some(Duration::ZERO)).unwrap();
        assert_eq!(h.token, u64::MAX, "{b:?}");
        lock.release().unwrap();
        drop(lock);
        std::fs::remove_dir_all(&d).unwrap();
    }
}

/// The comm of `pid` (what exec changes), if it exists.
fn comm_of(pid: i32) -> Option<String> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
    Some(s.trim_end().to_owned())
}

/// Replaces the calling (forked) process with `argv`, keeping the
/// environment; returns only if exec failed.
fn exec(argv: &[&str]) {
    let args: Vec<std::ffi::CString> = argv
        .iter()
        .map(|a| std::ffi::CString::new(*a).unwrap())
        .collect();
    let mut ptrs: Vec<*const libc::c_char> = args.iter().map(|a| a.as_ptr()).collect();
    ptrs.push(std::ptr::null());
    // SAFETY: `ptrs` is a NULL-terminated array of NUL-terminated strings
    // that outlive the call (which does not return on success).
    unsafe { libc::execvp(ptrs[0], ptrs.as_ptr()) };
}

/// Finding 7 of issue 8: a holder that execs. Holds end at exec (as a
/// close-on-exec descriptor would), in both backends alike: status calls the
/// holder dead at once, and the next acquirer gets the lock within its
/// timeout, told that the previous owner died, with a larger token. The
/// exec'd program keeps the pid and start time; `program` says what it is:
/// `sleep` (no ringlock), or this test binary taking another lock (so the
/// same pid and start time make a new image mark, which must not revive the
/// old holds).
fn exec_case(b: Backend, program: &str) {
    let d = scratch(&format!("exec-{program}-{}", b.name()));
    let o = options(&d, b);
    let from_child = Arc::new(Pipe::new());
    let from = from_child.clone();
    let oc = o.clone();
    let dir = d.to_str().unwrap().to_owned();
    let exe = std::env::current_exe().unwrap();
    let exe = exe.to_str().unwrap().to_owned();
    let pid = fork(move || {
        let lock = Lock::open("l", &oc).unwrap();
        let h = lock.acquire(Mode::Exclusive, None).unwrap();
        from.send(h.token as u8);
        if program == "sleep" {
            exec(&["sleep", "30"]);
        } else {
            std::env::set_var("RINGLOCK_EXEC_DIR", &dir);
            std::env::set_var("RINGLOCK_EXEC_BACKEND", oc.backend.name());
            exec(&[
                &exe,
                "--exact",
                "exec_reuser",
                "--ignored",
                "--nocapture",
                "-q",
            ]);
        }
        97
    });
    let _reaper = Reaper(pid);
    let token = from_child.recv().expect("child took the lock") as u64;
    let want = if program == "sleep" {
        "sleep"
    } else {
        "lock_liveness-"
    };
    let until = Instant::now() + Duration::from_secs(20);
    while !comm_of(pid).is_some_and(|c| c.starts_with(want)) {
        assert!(Instant::now() < until, "{b:?}: the child did not exec");
        std::thread::sleep(Duration::from_millis(2));
    }
    if program != "sleep" {
        // the exec'd program holds another lock: its own image mark
        let other = Lock::open("other", &o).unwrap();
        let until = Instant::now() + Duration::from_secs(20);
        while other.status().holders.is_empty() {
            assert!(
                Instant::now() < until,
                "{b:?}: the exec'd program took no lock"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        let s = other.status();
        assert_eq!(s.holders[0].pid, pid as u32);
        assert_eq!(
            s.holders[0].liveness,
            Liveness::Alive,
            "{b:?}: the new image is alive"
        );
    }
    let lock = Lock::open("l", &o).unwrap();
    // The new comm shows while exec runs; the image mark's flock goes with
    // the last reference to its description, which the kernel drops when the
    // exec returns to user space: a moment later (longer on a loaded host).
    let until = Instant::now() + Duration::from_secs(5);
    let mut s = lock.status();
    while !s.holders.iter().all(|h| h.liveness == Liveness::Dead) {
        assert!(
            Instant::now() < until,
            "{b:?} after exec into {program}: status still shows a live holder: {s:?}"
        );
        std::thread::sleep(Duration::from_millis(2));
        s = lock.status();
    }
    let t = Instant::now();
    let h = lock
        .acquire(Mode::Exclusive, Some(Duration::from_secs(5)))
        .unwrap_or_else(|e| panic!("{b:?} after exec into {program}: {e}"));
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "{b:?}: took {:?}",
        t.elapsed()
    );
    assert!(
        h.previous_owner_died,
        "{b:?}: the exec ended the hold: the owner died"
    );
    assert!(h.token > token, "{b:?}: token {} after {token}", h.token);
    lock.release().unwrap();
    // SAFETY: our own child.
    unsafe { libc::kill(pid, libc::SIGKILL) };
    reap(pid, Duration::from_secs(10), "exec'd holder");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn a_holder_that_execs_releases_its_hold() {
    for b in BOTH {
        exec_case(b, "sleep");
    }
}

#[test]
fn an_exec_into_a_ringlock_program_does_not_revive_the_old_hold() {
    for b in BOTH {
        exec_case(b, "self");
    }
}

/// The program an exec'ing holder becomes in
/// `an_exec_into_a_ringlock_program_does_not_revive_the_old_hold`: takes the
/// lock "other" and sleeps until killed. Does nothing when run directly.
#[test]
#[ignore]
fn exec_reuser() {
    let (Ok(dir), Ok(backend)) = (
        std::env::var("RINGLOCK_EXEC_DIR"),
        std::env::var("RINGLOCK_EXEC_BACKEND"),
    ) else {
        return;
    };
    let b = if backend == Backend::Shm.name() {
        Backend::Shm
    } else {
        Backend::File
    };
    let lock = Lock::open("other", &options(std::path::Path::new(&dir), b)).unwrap();
    lock.acquire(Mode::Exclusive, None).unwrap();
    std::thread::sleep(Duration::from_secs(30));
}

/// A guard belongs to the process that acquired it: in a forked child it
/// holds nothing, and releasing or dropping it there changes nothing — the
/// parent still holds, and its own release works.
#[test]
fn a_guard_inherited_across_fork_holds_nothing_in_the_child() {
    for b in BOTH {
        for mode in [Mode::Exclusive, Mode::Shared] {
            let what = format!("{b:?} {mode:?}");
            let d = scratch(&format!("live-guardfork-{}-{mode:?}", b.name()));
            let o = options(&d, b);
            let lock = Arc::new(Lock::open("l", &o).unwrap());
            let g = Arc::new(std::sync::Mutex::new(Some(lock.guard(mode, None).unwrap())));
            let (gc, lc) = (g.clone(), lock.clone());
            let child = fork(move || {
                let g = gc.lock().unwrap().take().unwrap();
                if g.is_held() {
                    return 1;
                }
                match g.release() {
                    Err(e) if e.kind() == ErrorKind::InvalidArgument => {}
                    _ => return 2,
                }
                // the parent's hold stands: an exclusive try fails here
                match lc.guard(Mode::Exclusive, Some(Duration::ZERO)) {
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                    _ => return 3,
                }
                0
            });
            assert_eq!(reap(child, Duration::from_secs(20), &what), 0, "{what}");
            let other = Lock::open("l", &o).unwrap();
            let e = other
                .acquire(Mode::Exclusive, Some(Duration::ZERO))
                .unwrap_err();
            assert_eq!(
                e.kind(),
                ErrorKind::WouldBlock,
                "{what}: the parent still holds"
            );
            let g = g.lock().unwrap().take().unwrap();
            assert!(g.is_held(), "{what}");
            g.release().unwrap();
            let h = other
                .acquire(Mode::Exclusive, Some(Duration::ZERO))
                .unwrap();
            assert!(!h.previous_owner_died, "{what}");
            other.release().unwrap();
            std::fs::remove_dir_all(&d).unwrap();
        }
    }
}
