//! Lock behaviour with real processes: this test binary re-runs itself as the
//! child processes (the ignored test `child` dispatches on RINGLOCK_ROLE).

use ringlock::lock::Liveness;
use ringlock::{Backend, ErrorKind, Lock, LockOptions, Mode};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BOTH: [Backend; 2] = [Backend::Shm, Backend::File];

fn scratch(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ringlock-proc-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn options(dir: &Path, backend: Backend) -> LockOptions {
    LockOptions {
        backend,
        dir: Some(dir.to_owned()),
        file_mode: 0,
    }
}

fn backend_of(s: &str) -> Backend {
    s.parse().unwrap()
}

/// Starts this binary as a child playing `role`.
fn spawn(role: &str, dir: &Path, backend: Backend, extra: &[(&str, &str)]) -> Child {
    let mut c = Command::new(std::env::current_exe().unwrap());
    c.args([
        "--exact",
        "child",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
        "-q",
    ])
    .env("RINGLOCK_ROLE", role)
    .env("RINGLOCK_DIR", dir)
    .env("RINGLOCK_BACKEND", backend.name())
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::inherit());
    for (k, v) in extra {
        c.env(k, v);
    }
    c.spawn().unwrap()
}

/// Reads the child's stdout up to a line starting with "ready".
fn wait_ready(child: &mut Child) -> String {
    let out = child.stdout.as_mut().unwrap();
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        assert_eq!(
            out.read(&mut byte).unwrap(),
            1,
            "child ended before it was ready"
        );
        if byte[0] == b'\n' {
            let s = String::from_utf8_lossy(&line).to_string();
            if s.starts_with("ready") {
                return s;
            }
            line.clear();
        } else {
            line.push(byte[0]);
        }
    }
}

fn signal(child: &Child, sig: i32) {
    // SAFETY: sending a signal to our own child's pid.
    assert_eq!(unsafe { libc::kill(child.id() as i32, sig) }, 0);
}

/// The child side.
#[test]
#[ignore]
fn child() {
    let Ok(role) = std::env::var("RINGLOCK_ROLE") else {
        return;
    };
    let dir = PathBuf::from(std::env::var("RINGLOCK_DIR").unwrap());
    let backend = backend_of(&std::env::var("RINGLOCK_BACKEND").unwrap());
    let name = std::env::var("RINGLOCK_NAME").unwrap_or_else(|_| "l".into());
    let lock = Lock::open(&name, &options(&dir, backend)).unwrap();
    let mode = match std::env::var("RINGLOCK_MODE").as_deref() {
        Ok("shared") => Mode::Shared,
        _ => Mode::Exclusive,
    };
    let mut stdout = std::io::stdout();
    match role.as_str() {
        "counter" => {
            let n: u32 = std::env::var("RINGLOCK_N").unwrap().parse().unwrap();
            let file = dir.join("counter");
            for _ in 0..n {
                lock.acquire(Mode::Exclusive, None).unwrap();
                let v: u64 = std::fs::read_to_string(&file)
                    .map(|s| s.trim().parse().unwrap())
                    .unwrap_or(0);
                std::fs::write(&file, format!("{}\n", v + 1)).unwrap();
                lock.release().unwrap();
            }
        }
        "hold" => {
            let h = lock.acquire(mode, None).unwrap();
            writeln!(stdout, "ready {}", h.token).unwrap();
            stdout.flush().unwrap();
            loop {
                std::thread::sleep(Duration::from_secs(60));
            }
        }
        "open_race" => {
            lock.acquire(Mode::Exclusive, None).unwrap();
            lock.release().unwrap();
        }
        "fork" => {
            lock.acquire(Mode::Exclusive, None).unwrap();
            // SAFETY: the child only uses the lock (atomics, open, flock) and
            // then leaves with _exit; this process is single-threaded here
            // apart from the test harness's idle main thread.
            let pid = unsafe { libc::fork() };
            if pid == 0 {
                let ok = !lock.is_held()
                    && lock.release().unwrap_err().kind() == ErrorKind::InvalidArgument
                    && lock
                        .acquire(Mode::Exclusive, Some(Duration::ZERO))
                        .unwrap_err()
                        .kind()
                        == ErrorKind::WouldBlock;
                drop(lock); // must not release the parent's hold
                            // SAFETY: leaving the forked child without running atexit handlers.
                unsafe { libc::_exit(if ok { 0 } else { 3 }) };
            }
            let mut status = 0;
            // SAFETY: waiting for the child we just forked.
            unsafe { libc::waitpid(pid, &mut status, 0) };
            assert!(
                libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
                "fork child failed"
            );
            let other = Lock::open(&name, &options(&dir, backend)).unwrap();
            let still = other
                .acquire(Mode::Exclusive, Some(Duration::ZERO))
                .unwrap_err();
            assert_eq!(
                still.kind(),
                ErrorKind::WouldBlock,
                "the child's exit released our lock"
            );
            assert!(lock.is_held());
            lock.release().unwrap();
            other
                .acquire(Mode::Exclusive, Some(Duration::ZERO))
                .unwrap();
            writeln!(stdout, "ready fork-ok").unwrap();
        }
        "leak" => {
            drop(lock);
            let o = options(&dir, backend);
            // one cycle first: a process's first acquisition opens the one
            // descriptor it keeps for life (its image mark, image.rs)
            let l = Lock::open(&name, &o).unwrap();
            l.acquire(Mode::Exclusive, None).unwrap();
            l.release().unwrap();
            drop(l);
            let fds = std::fs::read_dir("/proc/self/fd").unwrap().count();
            let maps = count_lines("/proc/self/maps");
            // 100,000 open/acquire/release/close cycles, alternating modes;
            // every other one closes while holding (the drop releases)
            for i in 0..100_000 {
                let l = Lock::open(&name, &o).unwrap();
                let mode = if i % 2 == 0 {
                    Mode::Exclusive
                } else {
                    Mode::Shared
                };
                l.acquire(mode, None).unwrap();
                if i % 4 < 2 {
                    l.release().unwrap();
                }
                drop(l);
            }
            let fds_after = std::fs::read_dir("/proc/self/fd").unwrap().count();
            let maps_after = count_lines("/proc/self/maps");
            assert_eq!(fds_after, fds, "descriptors");
            assert_eq!(maps_after, maps, "mappings");
            let l = Lock::open(&name, &o).unwrap();
            assert!(l.status().holders.is_empty());
            assert_eq!(l.status().token, 50_001);
            writeln!(stdout, "ready leak-ok").unwrap();
        }
        r => panic!("unknown role {r}"),
    }
}

#[test]
fn eight_processes_count_exactly() {
    for b in BOTH {
        let d = scratch(&format!("count-{}", b.name()));
        let kids: Vec<Child> = (0..8)
            .map(|_| spawn("counter", &d, b, &[("RINGLOCK_N", "1000")]))
            .collect();
        for mut k in kids {
            assert!(k.wait().unwrap().success());
        }
        let total = std::fs::read_to_string(d.join("counter")).unwrap();
        assert_eq!(total.trim(), "8000", "{b:?}");
        std::fs::remove_dir_all(&d).unwrap();
    }
}

#[test]
fn a_holder_killed_with_sigkill_is_recovered_from_50_times() {
    for b in BOTH {
        let d = scratch(&format!("kill-{}", b.name()));
        let lock = Lock::open("l", &options(&d, b)).unwrap();
        let mut last = 0u64;
        let mut waits = Vec::new();
        for round in 0..50 {
            let mut k = spawn("hold", &d, b, &[]);
            let token: u64 = wait_ready(&mut k)["ready ".len()..].parse().unwrap();
            assert!(
                token > last,
                "{b:?} round {round}: token {token} after {last}"
            );
            let t = Instant::now();
            k.kill().unwrap();
            if round % 2 == 0 {
                k.wait().unwrap(); // reaped; odd rounds leave a zombie meanwhile
            }
            let h = lock
                .acquire(Mode::Exclusive, Some(Duration::from_secs(10)))
                .unwrap();
            waits.push(t.elapsed());
            assert!(h.previous_owner_died, "{b:?} round {round}");
            assert!(h.token > token);
            last = h.token;
            lock.release().unwrap();
            k.wait().unwrap();
        }
        waits.sort();
        let median = waits[waits.len() / 2];
        eprintln!(
            "{b:?}: recovery after SIGKILL: median {median:?}, max {:?}",
            waits[49]
        );
        assert!(
            median < Duration::from_millis(100),
            "{b:?}: median {median:?}"
        );
        std::fs::remove_dir_all(&d).unwrap();
    }
}

#[test]
fn shared_holders_coexist_and_a_dead_reader_blocks_a_writer_under_a_second() {
    for b in BOTH {
        let d = scratch(&format!("rw-{}", b.name()));
        let mut r1 = spawn("hold", &d, b, &[("RINGLOCK_MODE", "shared")]);
        let mut r2 = spawn("hold", &d, b, &[("RINGLOCK_MODE", "shared")]);
        wait_ready(&mut r1);
        wait_ready(&mut r2);
        let lock = Lock::open("l", &options(&d, b)).unwrap();
        let st = lock.status();
        let mut pids: Vec<u32> = st.holders.iter().map(|h| h.pid).collect();
        pids.sort();
        let mut want = vec![r1.id(), r2.id()];
        want.sort();
        assert_eq!(pids, want, "{b:?}: two shared holders at once");
        assert!(st.holders.iter().all(|h| h.mode == Mode::Shared));
        // a third reader gets in, a writer does not
        let reader = Lock::open("l", &options(&d, b)).unwrap();
        reader.acquire(Mode::Shared, Some(Duration::ZERO)).unwrap();
        reader.release().unwrap();
        let e = lock
            .acquire(Mode::Exclusive, Some(Duration::ZERO))
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::WouldBlock);
        // readers die holding: the writer gets in within a second
        r1.kill().unwrap();
        r2.kill().unwrap();
        let t = Instant::now();
        let h = lock
            .acquire(Mode::Exclusive, Some(Duration::from_secs(5)))
            .unwrap();
        let took = t.elapsed();
        assert!(
            took < Duration::from_secs(1),
            "{b:?}: writer waited {took:?}"
        );
        assert!(h.previous_owner_died);
        // and the writer excludes readers
        let e = reader
            .acquire(Mode::Shared, Some(Duration::ZERO))
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::WouldBlock);
        lock.release().unwrap();
        r1.wait().unwrap();
        r2.wait().unwrap();
        // the dead readers' records went with that writer: the next one is
        // told nothing, and the status shows nobody
        let h = lock.acquire(Mode::Exclusive, Some(Duration::ZERO)).unwrap();
        assert!(!h.previous_owner_died, "{b:?}: a death is told once");
        lock.release().unwrap();
        let st = lock.status();
        assert!(st.holders.is_empty(), "{b:?}: {st:?}");
        // a reader that dies after a writer looked is seen by the next one
        let mut r3 = spawn("hold", &d, b, &[("RINGLOCK_MODE", "shared")]);
        wait_ready(&mut r3);
        r3.kill().unwrap();
        r3.wait().unwrap();
        let h = lock
            .acquire(Mode::Exclusive, Some(Duration::from_secs(5)))
            .unwrap();
        assert!(
            h.previous_owner_died,
            "{b:?}: the third reader died holding"
        );
        lock.release().unwrap();
        std::fs::remove_dir_all(&d).unwrap();
    }
}

#[test]
fn a_stopped_holder_is_not_dead() {
    for b in BOTH {
        let d = scratch(&format!("stop-{}", b.name()));
        let mut k = spawn("hold", &d, b, &[]);
        wait_ready(&mut k);
        signal(&k, libc::SIGSTOP);
        std::thread::sleep(Duration::from_millis(50));
        let lock = Lock::open("l", &options(&d, b)).unwrap();
        let e = lock
            .acquire(Mode::Exclusive, Some(Duration::from_millis(200)))
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Timeout, "{b:?}");
        let st = lock.status();
        assert_eq!(st.holders.len(), 1);
        assert_eq!(st.holders[0].pid, k.id());
        assert_eq!(st.holders[0].liveness, Liveness::Stopped);
        signal(&k, libc::SIGCONT);
        k.kill().unwrap();
        k.wait().unwrap();
        std::fs::remove_dir_all(&d).unwrap();
    }
}

#[test]
fn a_forked_child_neither_holds_nor_releases_the_parents_lock() {
    for b in BOTH {
        let d = scratch(&format!("fork-{}", b.name()));
        let mut k = spawn("fork", &d, b, &[]);
        let mut out = String::new();
        k.stdout.take().unwrap().read_to_string(&mut out).unwrap();
        assert!(k.wait().unwrap().success(), "{b:?}");
        assert!(out.contains("ready fork-ok"), "{b:?}: {out}");
        std::fs::remove_dir_all(&d).unwrap();
    }
}

#[test]
fn many_processes_opening_a_new_lock_at_once_initialise_it_once() {
    for b in BOTH {
        let d = scratch(&format!("race-{}", b.name()));
        let kids: Vec<Child> = (0..16).map(|_| spawn("open_race", &d, b, &[])).collect();
        for mut k in kids {
            assert!(k.wait().unwrap().success());
        }
        let lock = Lock::open("l", &options(&d, b)).unwrap();
        assert_eq!(
            lock.status().token,
            16,
            "{b:?}: every acquisition counted once"
        );
        let files: Vec<_> = std::fs::read_dir(&d).unwrap().collect();
        assert_eq!(files.len(), 1, "{b:?}: one lock file, no temporaries");
        std::fs::remove_dir_all(&d).unwrap();
    }
}

fn count_lines(path: &str) -> usize {
    BufReader::new(std::fs::File::open(path).unwrap())
        .lines()
        .count()
}

/// Runs in a child process of its own, so that other tests' threads and pipes
/// do not move the counts.
#[test]
fn a_hundred_thousand_cycles_leak_no_descriptor_or_mapping() {
    // (the work is in the child role "leak")
    for b in BOTH {
        let d = scratch(&format!("leak-{}", b.name()));
        let mut k = spawn("leak", &d, b, &[]);
        let mut out = String::new();
        k.stdout.take().unwrap().read_to_string(&mut out).unwrap();
        assert!(k.wait().unwrap().success(), "{b:?}: {out}");
        assert!(out.contains("ready leak-ok"), "{b:?}: {out}");
        std::fs::remove_dir_all(&d).unwrap();
    }
}

#[test]
fn a_stream_of_readers_does_not_starve_a_writer() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    for b in BOTH {
        let d = scratch(&format!("starve-{}", b.name()));
        let stop = Arc::new(AtomicBool::new(false));
        let readers: Vec<_> = (0..4)
            .map(|_| {
                let o = options(&d, b);
                let stop = stop.clone();
                std::thread::spawn(move || {
                    let l = Lock::open("l", &o).unwrap();
                    while !stop.load(Ordering::Relaxed) {
                        if l.acquire(Mode::Shared, Some(Duration::from_millis(100)))
                            .is_ok()
                        {
                            std::thread::sleep(Duration::from_millis(2));
                            l.release().unwrap();
                        }
                    }
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(50));
        let w = Lock::open("l", &options(&d, b)).unwrap();
        for _ in 0..5 {
            let r = w.acquire(Mode::Exclusive, Some(Duration::from_secs(10)));
            assert!(r.is_ok(), "{b:?}: writer starved: {r:?}");
            w.release().unwrap();
        }
        stop.store(true, Ordering::Relaxed);
        for r in readers {
            r.join().unwrap();
        }
        std::fs::remove_dir_all(&d).unwrap();
    }
}

#[test]
fn the_default_directory_is_private() {
    let name = format!("ringlock-test-perm-{}", std::process::id());
    for b in BOTH {
        let l = Lock::open(
            &name,
            &LockOptions {
                backend: b,
                ..Default::default()
            },
        )
        .unwrap();
        let dir = l.path().parent().unwrap().to_owned();
        let dmode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
        let fmode = std::fs::metadata(l.path()).unwrap().permissions().mode() & 0o777;
        assert_eq!(dmode, 0o700, "{}", dir.display());
        assert_eq!(fmode, 0o600, "{}", l.path().display());
        std::fs::remove_file(l.path()).unwrap();
    }
}
