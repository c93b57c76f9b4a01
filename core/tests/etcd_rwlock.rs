//! The etcd read-write lock against real etcd servers (tests/common/etcd.rs
//! starts them): readers that share, writers that exclude and go first in
//! queue order, tokens, a `Lock` of the same name being the exclusive mode,
//! a killed writer, a waiter whose lease expired, and processes counting
//! under the write lock while readers check that the value stays put.
//!
//! Each test starts its own etcd; they run one at a time (they measure
//! hand-off times). The child processes are this binary again (the ignored
//! test `child`, by RINGLOCK_ROLE).
#![cfg(feature = "etcd")]

mod common;

use common::etcd::Etcd;
use common::etcd_agent::{
    answer, ask, connect, kill, kind_word, scratch, send, serial, signal, spawn, Store, TTL,
};
use ringlock::etcd::{Lock, RWGuard, RWLock, RWLockStatus};
use ringlock::{ErrorKind, Mode};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

/// How long after TTL a dead holder's lock may take to pass on: etcd
/// expires a lease at most TTL after its last renewal, on a 500 ms tick;
/// the rest for the hand-off on a loaded 2-core machine.
const HAND_OFF: Duration = Duration::from_secs(1);
// ---- the store -------------------------------------------------------------------
// ---- children ----------------------------------------------------------------------/// An agent child, connected.
fn agent(dir: &Path, endpoints: &str) -> Child {
    let mut c = spawn("agent", dir, endpoints, &[]);
    answer(&mut c, "connected");
    c
}
/// `ok <token> <died>` → (token, died)
fn held(answer: &str) -> (u64, bool) {
    let mut words = answer.split(' ');
    assert_eq!(words.next(), Some("ok"), "acquisition failed: {answer}");
    let token = words.next().unwrap().parse().unwrap();
    let died = words.next().unwrap() == "true";
    (token, died)
}
/// The modes of the holders and of the waiters.
fn modes(status: &RWLockStatus) -> (Vec<Mode>, Vec<Mode>) {
    (
        status.holders.iter().map(|e| e.mode).collect(),
        status.waiters.iter().map(|e| e.mode).collect(),
    )
}

/// Waits until `lock`'s waiters have exactly these modes, in this order.
fn wait_waiters(lock: &RWLock, want: &[Mode]) -> RWLockStatus {
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let status = lock.status().unwrap();
        if !status.holders.is_empty() && modes(&status).1 == want {
            return status;
        }
        assert!(Instant::now() < until, "never waiters {want:?}: {status:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
}
fn acquired(r: ringlock::Result<RWGuard>, guard: &mut Option<RWGuard>) -> String {
    match r {
        Ok(g) => {
            let a = format!("ok {} {}", g.token(), g.previous_owner_died());
            *guard = Some(g);
            a
        }
        Err(e) => format!("{} {e}", kind_word(&e)),
    }
}

/// The child side.
#[test]
#[ignore]
fn child() {
    let Ok(role) = std::env::var("RINGLOCK_ROLE") else {
        return;
    };
    let endpoints: Vec<String> = std::env::var("RINGLOCK_ETCD")
        .unwrap()
        .split(',')
        .map(str::to_owned)
        .collect();
    let dir = PathBuf::from(std::env::var("RINGLOCK_DIR").unwrap());
    let client = connect(&endpoints);
    let lock = RWLock::new(&client, "l").unwrap();
    let mut out = std::io::stdout();
    match role.as_str() {
        // RINGLOCK_N operations, every RINGLOCK_EVERY-th a write (the
        // others reads): writers increment the store; readers check that
        // the value does not change while they read and that their token is
        // the last writer's. Both keep the occupancy record.
        "counter" => {
            let n: u64 = std::env::var("RINGLOCK_N").unwrap().parse().unwrap();
            let every: u64 = std::env::var("RINGLOCK_EVERY").unwrap().parse().unwrap();
            let store = Store(dir.join("store"));
            let occupancy = Store(dir.join("occupancy"));
            let pause = Duration::from_millis(3);
            let (mut writes, mut reads, mut rejected, mut changed, mut mismatched, mut errors) =
                (0, 0, 0, 0, 0, 0);
            for i in 0..n {
                let mode = if i % every == 0 {
                    Mode::Exclusive
                } else {
                    Mode::Shared
                };
                let guard = match lock.acquire(mode, Some(Duration::from_secs(20))) {
                    Ok(g) => g,
                    Err(e) => {
                        eprintln!("counter {}: acquire: {e}", std::process::id());
                        errors += 1;
                        continue;
                    }
                };
                if mode == Mode::Exclusive {
                    occupancy.with(|v| v[2] += u64::from(v[0] != 0));
                    if store.increment(guard.token()) {
                        writes += 1;
                    } else {
                        rejected += 1;
                    }
                    occupancy.with(|v| v[2] += u64::from(v[0] != 0));
                } else {
                    occupancy.with(|v| {
                        v[0] += 1;
                        v[1] = v[1].max(v[0]);
                    });
                    let (before, token, _) = store.read();
                    std::thread::sleep(pause);
                    let (after, _, _) = store.read();
                    occupancy.with(|v| v[0] -= 1);
                    changed += u64::from(before != after);
                    mismatched += u64::from(token != guard.token());
                    reads += 1;
                }
                if let Err(e) = guard.release() {
                    eprintln!("counter {}: release: {e}", std::process::id());
                    errors += 1;
                }
            }
            writeln!(
                out,
                "done {writes} {reads} {rejected} {changed} {mismatched} {errors}"
            )
            .unwrap();
        }
        // commands on stdin, one answer line each
        "agent" => {
            writeln!(out, "connected").unwrap();
            out.flush().unwrap();
            let mut guard: Option<RWGuard> = None;
            for line in std::io::stdin().lock().lines() {
                let line = line.unwrap();
                let mut words = line.split(' ');
                let command = words.next().unwrap();
                let mut ms = || Duration::from_millis(words.next().unwrap().parse().unwrap());
                let answer = match command {
                    "read" => acquired(lock.read(Some(ms())), &mut guard),
                    "write" => acquired(lock.write(Some(ms())), &mut guard),
                    "check" => match guard.as_ref().unwrap().check() {
                        Ok(()) => "ok".into(),
                        Err(e) => format!("{} {e}", kind_word(&e)),
                    },
                    "release" => match guard.take().unwrap().release() {
                        Ok(()) => "ok".into(),
                        Err(e) => format!("{} {e}", kind_word(&e)),
                    },
                    other => panic!("unknown command {other:?}"),
                };
                writeln!(out, "{command} {answer}").unwrap();
                out.flush().unwrap();
            }
        }
        other => panic!("unknown role {other}"),
    }
    out.flush().unwrap();
}

// ---- the tests ---------------------------------------------------------------------

/// Two reader processes hold at once; a writer is refused meanwhile; a
/// writer that waits goes before a reader that comes after it (which waits
/// though readers hold); the holders and waiters are reported in order with
/// their modes; shared holds carry the last write's token.
#[test]
fn readers_share_and_writers_go_first_in_queue_order() {
    let _serial = serial();
    let Some(etcd) = Etcd::start("readers_share_and_writers_go_first_in_queue_order") else {
        return;
    };
    let dir = scratch("share");
    let eps = etcd.endpoint_list();
    let client = connect(&etcd.endpoints());
    let watcher = RWLock::new(&client, "l").unwrap();
    let mut r1 = agent(&dir, &eps);
    let mut r2 = agent(&dir, &eps);
    assert_eq!(held(&ask(&mut r1, "read 5000")), (0, false));
    assert_eq!(held(&ask(&mut r2, "read 5000")), (0, false));
    let status = watcher.status().unwrap();
    assert_eq!(modes(&status), (vec![Mode::Shared; 2], vec![]));
    let pids: Vec<u32> = status.holders.iter().map(|e| e.entry.pid).collect();
    assert_eq!(pids, [r1.id(), r2.id()]);
    assert_eq!(status.token, 0);

    // a writer is refused while readers hold, and leaves no key behind
    let w = RWLock::new(&client, "l").unwrap();
    assert_eq!(w.try_write().unwrap_err().kind(), ErrorKind::WouldBlock);
    let t = Instant::now();
    let e = w.write(Some(Duration::from_millis(300))).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout);
    assert!(
        t.elapsed() < Duration::from_millis(800),
        "{:?}",
        t.elapsed()
    );
    assert!(watcher.status().unwrap().waiters.is_empty());
    // a third reader joins them
    let r3 = RWLock::new(&client, "l").unwrap();
    let g = r3.try_read().unwrap();
    assert_eq!(g.mode(), Mode::Shared);
    assert_eq!(watcher.status().unwrap().holders.len(), 3);
    g.release().unwrap();

    // a waiting writer: a reader after it does not jump it
    let mut wp = agent(&dir, &eps);
    send(&mut wp, "write 10000");
    wait_waiters(&watcher, &[Mode::Exclusive]);
    assert_eq!(r3.try_read().unwrap_err().kind(), ErrorKind::WouldBlock);
    let e = r3.read(Some(Duration::from_millis(300))).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout);
    let mut r4 = agent(&dir, &eps);
    send(&mut r4, "read 10000");
    let status = wait_waiters(&watcher, &[Mode::Exclusive, Mode::Shared]);
    let waiting: Vec<u32> = status.waiters.iter().map(|e| e.entry.pid).collect();
    assert_eq!(waiting, [wp.id(), r4.id()]);

    // the writer holds once both readers are gone, and only then
    assert_eq!(ask(&mut r1, "release"), "ok");
    std::thread::sleep(Duration::from_millis(200));
    let status = watcher.status().unwrap();
    assert_eq!(
        modes(&status),
        (vec![Mode::Shared], vec![Mode::Exclusive, Mode::Shared])
    );
    assert_eq!(status.holders[0].entry.pid, r2.id());
    assert_eq!(ask(&mut r2, "release"), "ok");
    let (tw, died) = held(&answer(&mut wp, "write"));
    assert!(tw > 0 && !died, "{tw} {died}");
    let status = watcher.status().unwrap();
    assert_eq!(modes(&status), (vec![Mode::Exclusive], vec![Mode::Shared]));
    assert_eq!(status.holders[0].entry.token, tw);
    assert_eq!(status.token, tw);
    // the reader behind it holds after it, with its token
    assert_eq!(ask(&mut wp, "release"), "ok");
    assert_eq!(held(&answer(&mut r4, "read")), (tw, false));
    assert_eq!(ask(&mut r4, "release"), "ok");
    let status = watcher.status().unwrap();
    assert!(
        status.holders.is_empty() && status.waiters.is_empty(),
        "{status:?}"
    );
    for c in [r1, r2, wp, r4] {
        kill(c);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Tokens: a write's grows, a read carries the last write's (0 before any);
/// a `Lock` of the same name is the exclusive mode (it excludes readers and
/// is excluded by them, on the same token sequence); a handle that holds is
/// `Deadlock` in either mode; a dropped guard releases; bad names.
#[test]
fn tokens_and_a_lock_of_the_same_name() {
    let _serial = serial();
    let Some(etcd) = Etcd::start("tokens_and_a_lock_of_the_same_name") else {
        return;
    };
    let client = connect(&etcd.endpoints());
    for bad in ["", "a/b", "..", &"x".repeat(201), "é", "a~"] {
        let e = RWLock::new(&client, bad).err().unwrap();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{bad:?}");
    }
    let rw = RWLock::new(&client, "t").unwrap();
    assert_eq!(rw.name(), "t");
    let g = rw.read(None).unwrap();
    assert_eq!((g.token(), g.previous_owner_died()), (0, false));
    g.release().unwrap();
    let g = rw.write(None).unwrap();
    assert_eq!(g.mode(), Mode::Exclusive);
    let t1 = g.token();
    assert!(t1 > 0);
    g.check().unwrap();
    g.release().unwrap();
    let g = rw
        .acquire(Mode::Exclusive, Some(Duration::from_secs(1)))
        .unwrap();
    let t2 = g.token();
    assert!(t2 > t1, "{t2} after {t1}");
    // through the same handle: Deadlock in either mode
    assert_eq!(rw.try_read().unwrap_err().kind(), ErrorKind::Deadlock);
    assert_eq!(rw.try_write().unwrap_err().kind(), ErrorKind::Deadlock);
    drop(g);
    let g = rw.try_acquire(Mode::Shared).unwrap();
    assert_eq!(g.token(), t2);
    g.check().unwrap();

    // a Lock of the same name: excluded by the reader, then excludes readers
    let lock = Lock::new(&client, "t").unwrap();
    assert_eq!(
        lock.try_acquire().unwrap_err().kind(),
        ErrorKind::WouldBlock
    );
    let status = lock.status().unwrap();
    assert!(
        status.holder.is_some() && status.waiters.is_empty(),
        "{status:?}"
    );
    drop(g);
    let held = lock.try_acquire().unwrap();
    let t3 = held.token();
    assert!(t3 > t2, "{t3} after {t2}");
    let other = RWLock::new(&client, "t").unwrap();
    assert_eq!(other.try_read().unwrap_err().kind(), ErrorKind::WouldBlock);
    let status = other.status().unwrap();
    assert_eq!(modes(&status), (vec![Mode::Exclusive], vec![]));
    assert_eq!(status.holders[0].entry.token, t3);
    held.release().unwrap();
    let g = other.read(Some(Duration::from_secs(1))).unwrap();
    assert_eq!((g.token(), g.previous_owner_died()), (t3, false));
    let g2 = rw.try_read().unwrap();
    assert_eq!(g2.token(), t3);
    assert_eq!(other.status().unwrap().holders.len(), 2);
    drop((g, g2));
    // other names are other locks
    let elsewhere = RWLock::new(&client, "t2").unwrap();
    assert!(elsewhere.try_write().unwrap().token() > t3);
}

/// A writer killed with SIGKILL: the writer waiting behind it holds within
/// TTL + 1 s and is told the previous owner died; the reader behind that
/// one holds after it with its token. A reader waiting right behind a
/// killed writer holds within TTL + 1 s, with the dead writer's token and
/// `previous_owner_died`.
#[test]
fn killed_writer_is_replaced_within_ttl() {
    let _serial = serial();
    let Some(etcd) = Etcd::start("killed_writer_is_replaced_within_ttl") else {
        return;
    };
    let dir = scratch("kill");
    let eps = etcd.endpoint_list();
    let client = connect(&etcd.endpoints());
    let watcher = RWLock::new(&client, "l").unwrap();

    let mut w1 = agent(&dir, &eps);
    let (t1, died) = held(&ask(&mut w1, "write 5000"));
    assert!(!died);
    let mut w2 = agent(&dir, &eps);
    send(&mut w2, "write 10000");
    wait_waiters(&watcher, &[Mode::Exclusive]);
    let mut r = agent(&dir, &eps);
    send(&mut r, "read 15000");
    wait_waiters(&watcher, &[Mode::Exclusive, Mode::Shared]);
    let killed = Instant::now();
    kill(w1);
    let (t2, died) = held(&answer(&mut w2, "write"));
    let took = killed.elapsed();
    eprintln!("etcd rwlock kill -9 of a writer: the next writer held {took:?} after");
    assert!(took <= TTL + HAND_OFF, "{took:?}");
    assert!(died && t2 > t1, "{t2} after {t1}, died {died}");
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(modes(&watcher.status().unwrap()).1, [Mode::Shared]);
    assert_eq!(ask(&mut w2, "release"), "ok");
    assert_eq!(held(&answer(&mut r, "read")), (t2, false));
    assert_eq!(ask(&mut r, "release"), "ok");

    // a reader right behind the killed writer
    let mut w3 = agent(&dir, &eps);
    let (t3, _) = held(&ask(&mut w3, "write 5000"));
    send(&mut r, "read 10000");
    wait_waiters(&watcher, &[Mode::Shared]);
    let killed = Instant::now();
    kill(w3);
    let (token, died) = held(&answer(&mut r, "read"));
    let took = killed.elapsed();
    eprintln!("etcd rwlock kill -9 of a writer: the reader held {took:?} after");
    assert!(took <= TTL + HAND_OFF, "{took:?}");
    assert_eq!((token, died), (t3, true));
    assert_eq!(ask(&mut r, "check"), "ok");
    assert_eq!(ask(&mut r, "release"), "ok");
    kill(w2);
    kill(r);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A reader whose lease expires while it waits (stopped past its TTL) is
/// never told it holds; a reader stopped past its TTL while holding loses
/// the hold to a writer (who is not told an owner died: readers are not
/// owners) and learns it from `check` and `release`.
#[test]
fn readers_whose_lease_expired_do_not_hold() {
    let _serial = serial();
    let Some(etcd) = Etcd::start("readers_whose_lease_expired_do_not_hold") else {
        return;
    };
    let dir = scratch("expired");
    let eps = etcd.endpoint_list();
    let client = connect(&etcd.endpoints());
    let watcher = RWLock::new(&client, "l").unwrap();
    let mut w = agent(&dir, &eps);
    let (tw, _) = held(&ask(&mut w, "write 5000"));
    let mut r = agent(&dir, &eps);
    send(&mut r, "read 20000");
    wait_waiters(&watcher, &[Mode::Shared]);
    signal(&r, libc::SIGSTOP);
    let until = Instant::now() + TTL + Duration::from_secs(2);
    while !watcher.status().unwrap().waiters.is_empty() {
        assert!(Instant::now() < until, "the stopped reader's key stayed");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(ask(&mut w, "release"), "ok");
    signal(&r, libc::SIGCONT);
    let told = answer(&mut r, "read");
    assert!(
        told.starts_with("Lost "),
        "the expired reader was told: {told}"
    );
    let status = watcher.status().unwrap();
    assert!(
        status.holders.is_empty() && status.waiters.is_empty(),
        "{status:?}"
    );

    // it reads again under a new lease, then is stopped while holding
    assert_eq!(held(&ask(&mut r, "read 5000")), (tw, false));
    send(&mut w, "write 10000");
    wait_waiters(&watcher, &[Mode::Exclusive]);
    signal(&r, libc::SIGSTOP);
    let stopped = Instant::now();
    let (tw2, died) = held(&answer(&mut w, "write"));
    let took = stopped.elapsed();
    assert!(took <= TTL + HAND_OFF, "{took:?}");
    assert!(tw2 > tw && !died, "{tw2} after {tw}, died {died}");
    signal(&r, libc::SIGCONT);
    assert!(ask(&mut r, "check").starts_with("Lost "));
    assert!(ask(&mut r, "release").starts_with("Lost "));
    assert_eq!(ask(&mut w, "release"), "ok");
    kill(w);
    kill(r);
    let _ = std::fs::remove_dir_all(&dir);
}

/// 4 processes × 90 operations, every third a write: the writes' total is
/// exact with no write rejected, no reader saw the value change while it
/// read or a token other than the last write's, no writer held alongside a
/// reader, and readers did hold together.
#[test]
fn counter_under_the_write_lock_stays_put_for_readers() {
    let _serial = serial();
    let Some(etcd) = Etcd::start("counter_under_the_write_lock_stays_put_for_readers") else {
        return;
    };
    let dir = scratch("counter");
    let store = Store::create(dir.join("store"));
    let occupancy = Store::create(dir.join("occupancy"));
    let (procs, n, every) = (4u64, 90u64, 3u64);
    let t = Instant::now();
    let mut children: Vec<Child> = (0..procs)
        .map(|_| {
            spawn(
                "counter",
                &dir,
                &etcd.endpoint_list(),
                &[("RINGLOCK_N", "90"), ("RINGLOCK_EVERY", "3")],
            )
        })
        .collect();
    let writes_each = n.div_ceil(every);
    for c in &mut children {
        let done = answer(c, "done");
        assert!(c.wait().unwrap().success());
        let words: Vec<u64> = done.split(' ').map(|w| w.parse().unwrap()).collect();
        assert_eq!(
            words,
            [writes_each, n - writes_each, 0, 0, 0, 0],
            "writes, reads, rejected, changed, mismatched tokens, errors"
        );
    }
    let (value, _, rejected) = store.read();
    let (now, most, violations) = occupancy.read();
    eprintln!(
        "etcd rwlock counter: {procs} x {n} operations in {:.2} s, at most {most} readers at once",
        t.elapsed().as_secs_f64()
    );
    assert_eq!(value, procs * writes_each);
    assert_eq!(rejected, 0);
    assert_eq!((now, violations), (0, 0), "a writer held alongside readers");
    assert!(most >= 2, "readers never held together");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `acquire_interruptible` in both modes: a waiting writer's hook runs
/// again and again while its key stays (the same token) and a reader that
/// came after it keeps waiting behind it; the writer holds, with that token,
/// when the readers before it release, the hook having run. A waiting
/// reader's hook error ends its wait with that error and no key left, as
/// does a writer's; a zero interval is refused.
#[test]
fn interruptible_writer_keeps_readers_behind_it() {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
    use std::sync::Arc;
    let _serial = serial();
    let Some(etcd) = Etcd::start("interruptible_writer_keeps_readers_behind_it") else {
        return;
    };
    let client = connect(&etcd.endpoints());
    let watcher = RWLock::new(&client, "hook").unwrap();
    let every = Duration::from_millis(50);
    for mode in [Mode::Shared, Mode::Exclusive] {
        let e = watcher
            .acquire_interruptible(mode, None, Duration::ZERO, &mut || Ok(()))
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    }

    let reader = RWLock::new(&client, "hook").unwrap();
    let read = reader.read(Some(Duration::from_secs(5))).unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let writer = {
        let (client, calls) = (client.clone(), Arc::clone(&calls));
        std::thread::spawn(move || {
            let w = RWLock::new(&client, "hook").unwrap();
            let g = w.acquire_interruptible(
                Mode::Exclusive,
                Some(Duration::from_secs(30)),
                every,
                &mut || {
                    calls.fetch_add(1, SeqCst);
                    Ok(())
                },
            )?;
            let (token, mode, n) = (g.token(), g.mode(), calls.load(SeqCst));
            g.release()?;
            Ok::<_, ringlock::Error>((token, mode, n))
        })
    };
    let status = wait_waiters(&watcher, &[Mode::Exclusive]);
    let first = status.waiters[0].entry.token;
    let later = {
        let client = client.clone();
        std::thread::spawn(move || {
            let r = RWLock::new(&client, "hook").unwrap();
            r.read(Some(Duration::from_secs(30)))
                .and_then(|g| g.release())
        })
    };
    wait_waiters(&watcher, &[Mode::Exclusive, Mode::Shared]);
    let from = calls.load(SeqCst);
    let until = Instant::now() + Duration::from_secs(10);
    while calls.load(SeqCst) < from + 10 {
        assert!(
            Instant::now() < until,
            "the hook ran {} times",
            calls.load(SeqCst)
        );
        let status = watcher.status().unwrap();
        assert_eq!(
            modes(&status),
            (vec![Mode::Shared], vec![Mode::Exclusive, Mode::Shared]),
            "{status:?}"
        );
        assert_eq!(status.waiters[0].entry.token, first, "{status:?}");
        // a new reader does not jump the waiting writer either
        assert_eq!(
            watcher.try_read().unwrap_err().kind(),
            ErrorKind::WouldBlock
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!later.is_finished(), "the later reader jumped the writer");
    read.release().unwrap();
    let (token, mode, n) = writer.join().unwrap().unwrap();
    assert_eq!((token, mode), (first, Mode::Exclusive));
    assert!(n >= from + 10, "{n}");
    later.join().unwrap().unwrap();

    // the hook's error, in either mode: that error, no key left
    for mode in [Mode::Shared, Mode::Exclusive] {
        let held = reader.write(Some(Duration::from_secs(5))).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let waiter = {
            let (client, stop) = (client.clone(), Arc::clone(&stop));
            std::thread::spawn(move || {
                let w = RWLock::new(&client, "hook").unwrap();
                let r = w.acquire_interruptible(mode, None, every, &mut || {
                    if stop.load(SeqCst) {
                        return Err(ringlock::Error::new(ErrorKind::Internal, "told to stop"));
                    }
                    Ok(())
                });
                (r.map(|g| g.token()), w.status().unwrap())
            })
        };
        wait_waiters(&watcher, &[mode]);
        std::thread::sleep(Duration::from_millis(200));
        stop.store(true, SeqCst);
        let (r, status) = waiter.join().unwrap();
        let e = r.unwrap_err();
        assert_eq!(
            (e.kind(), e.message()),
            (ErrorKind::Internal, "told to stop"),
            "{mode:?}"
        );
        assert!(
            status.waiters.is_empty(),
            "{mode:?}: a key was left: {status:?}"
        );
        assert_eq!(status.holders.len(), 1, "{status:?}");
        held.release().unwrap();
    }
}
