//! The etcd lock against real etcd servers (tests/common/etcd.rs starts
//! them): processes that count under the lock through a fencing store,
//! holders killed, stopped past their TTL, waiters whose lease expires,
//! etcd stopped or wrong, and the leader of a 3-member cluster killed.
//!
//! Each test starts its own etcd; they run one at a time (they measure
//! hand-off times). The child processes are this binary again (the ignored
//! test `child`, by RINGLOCK_ROLE).
#![cfg(feature = "etcd")]

mod common;

use common::etcd::Etcd;
use common::etcd_agent::{
    answer, ask, connect, kill, kind_word, options, scratch, send, serial, signal, spawn, Store,
    TTL,
};
use ringlock::etcd::{Client, ClientOptions, Guard, Lock};
use ringlock::ErrorKind;
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::Child;
use std::time::{Duration, Instant};

/// How long after TTL a dead holder's lock may take to pass on: etcd
/// expires a lease at most TTL after its last renewal, on a 500 ms tick;
/// 100 ms more for the hand-off itself (watch event, two transactions, the
/// child's answer) on a loaded 2-core machine.
const HAND_OFF: Duration = Duration::from_millis(600);
// ---- the fencing store ------------------------------------------------------------
// ---- children ----------------------------------------------------------------------/// Sends one command line to an agent child./// Sends `command` and returns the rest of the agent's answer line./// The rest of the next line starting with `word`./// `acquired <token> <died>` → (token, died)
fn acquired(answer: &str) -> (u64, bool) {
    let mut words = answer.split(' ');
    assert_eq!(words.next(), Some("ok"), "acquisition failed: {answer}");
    let token = words.next().unwrap().parse().unwrap();
    let died = words.next().unwrap() == "true";
    (token, died)
}
/// Waits until `lock` has `n` waiters behind its holder.
fn wait_waiters(lock: &Lock, n: usize) {
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let status = lock.status().unwrap();
        if status.holder.is_some() && status.waiters.len() == n {
            return;
        }
        assert!(Instant::now() < until, "never {n} waiters: {status:?}");
        std::thread::sleep(Duration::from_millis(10));
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
    let store = Store(PathBuf::from(std::env::var("RINGLOCK_STORE").unwrap()));
    let name = std::env::var("RINGLOCK_NAME").unwrap_or_else(|_| "l".into());
    let client = connect(&endpoints);
    let lock = Lock::new(&client, &name).unwrap();
    let mut out = std::io::stdout();
    match role.as_str() {
        // N accepted increments; errors (etcd failing over) are retried
        "counter" => {
            let n: u64 = std::env::var("RINGLOCK_N").unwrap().parse().unwrap();
            let (mut done, mut rejected, mut errors) = (0, 0, 0);
            while done < n {
                let guard = match lock.acquire(Some(Duration::from_secs(20))) {
                    Ok(g) => g,
                    Err(e) => {
                        eprintln!("counter {}: acquire: {e}", std::process::id());
                        errors += 1;
                        continue;
                    }
                };
                if store.increment(guard.token()) {
                    done += 1;
                } else {
                    rejected += 1;
                }
                if let Err(e) = guard.release() {
                    eprintln!("counter {}: release: {e}", std::process::id());
                    errors += 1;
                }
            }
            writeln!(out, "done {done} {rejected} {errors}").unwrap();
        }
        // commands on stdin, one answer line each
        "agent" => {
            writeln!(out, "connected").unwrap();
            out.flush().unwrap();
            let mut guard: Option<Guard> = None;
            for line in std::io::stdin().lock().lines() {
                let line = line.unwrap();
                let mut words = line.split(' ');
                let command = words.next().unwrap();
                let answer = match command {
                    "acquire" => {
                        let ms: u64 = words.next().unwrap().parse().unwrap();
                        match lock.acquire(Some(Duration::from_millis(ms))) {
                            Ok(g) => {
                                let a = format!("ok {} {}", g.token(), g.previous_owner_died());
                                guard = Some(g);
                                a
                            }
                            Err(e) => format!("{} {e}", kind_word(&e)),
                        }
                    }
                    "check" => match guard.as_ref().unwrap().check() {
                        Ok(()) => "ok".into(),
                        Err(e) => format!("{} {e}", kind_word(&e)),
                    },
                    "write" => {
                        let token = guard.as_ref().unwrap().token();
                        if store.increment(token) {
                            "accepted".into()
                        } else {
                            "rejected".into()
                        }
                    }
                    "release" => match guard.take().unwrap().release() {
                        Ok(()) => "ok".into(),
                        Err(e) => format!("{} {e}", kind_word(&e)),
                    },
                    "fork" => fork_and_drop(&client, &lock, guard.as_ref().unwrap()),
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

/// Forks; the child tries to use the lock (refused), drops its copies of the
/// guard, lock and client, and exits. Returns what the child reported.
fn fork_and_drop(client: &Client, lock: &Lock, guard: &Guard) -> String {
    let mut fds = [0; 2];
    // SAFETY: a two-int array for pipe(2).
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: the child only calls into ringlock's fork-aware paths, writes
    // one byte to the pipe and leaves with _exit.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        let refused =
            |r: ringlock::Result<()>| r.is_err_and(|e| e.kind() == ErrorKind::InvalidArgument);
        let ok = refused(lock.try_acquire().map(drop))
            && refused(guard.check())
            && refused(lock.status().map(drop));
        // SAFETY: bitwise copies of the parent's guard, lock and client,
        // each dropped once here and never used again in this child: their
        // Drop (the last one ends the client) must do nothing in a child.
        unsafe {
            drop(std::ptr::read(guard));
            drop(std::ptr::read(lock));
            drop(std::ptr::read(client));
        }
        let byte = [u8::from(ok)];
        // SAFETY: writing one byte to our pipe, then leaving without atexit
        // handlers.
        unsafe {
            libc::write(fds[1], byte.as_ptr().cast(), 1);
            libc::_exit(0);
        }
    }
    let mut byte = [0u8; 1];
    // SAFETY: reading one byte from our pipe; then reaping our child.
    unsafe {
        libc::close(fds[1]);
        libc::read(fds[0], byte.as_mut_ptr().cast(), 1);
        libc::close(fds[0]);
        libc::waitpid(pid, std::ptr::null_mut(), 0);
    }
    if byte[0] == 1 { "refused" } else { "used" }.into()
}

// ---- the tests ---------------------------------------------------------------------

/// 8 processes × 500 increments through the fencing store: the total is exact
/// and no write is rejected.
#[test]
fn counter_is_exact_across_processes() {
    let _serial = serial();
    let Some(etcd) = Etcd::start("counter_is_exact_across_processes") else {
        return;
    };
    let dir = scratch("counter");
    let store = Store::create(dir.join("store"));
    let (procs, n) = (8, 500);
    let t = Instant::now();
    let mut children: Vec<Child> = (0..procs)
        .map(|_| {
            spawn(
                "counter",
                &dir,
                &etcd.endpoint_list(),
                &[("RINGLOCK_N", "500")],
            )
        })
        .collect();
    for c in &mut children {
        let done = answer(c, "done");
        assert!(c.wait().unwrap().success());
        let words: Vec<u64> = done.split(' ').map(|w| w.parse().unwrap()).collect();
        assert_eq!(words, [n, 0, 0], "done, rejected, errors");
    }
    let (value, _, rejected) = store.read();
    eprintln!(
        "etcd counter: {procs} x {n} increments in {:.2} s",
        t.elapsed().as_secs_f64()
    );
    assert_eq!(value, procs * n);
    assert_eq!(rejected, 0);
    let _ = std::fs::remove_dir_all(&dir);
}

/// kill -9 of the holder, 10 rounds: the waiter holds within TTL + 0.5 s,
/// is told the previous owner died, and has a larger token.
#[test]
fn killed_holder_is_replaced_within_ttl() {
    let _serial = serial();
    let Some(etcd) = Etcd::start("killed_holder_is_replaced_within_ttl") else {
        return;
    };
    let dir = scratch("kill");
    Store::create(dir.join("store"));
    let eps = etcd.endpoint_list();
    let watcher = connect(&etcd.endpoints());
    let lock = Lock::new(&watcher, "l").unwrap();
    let mut holder = spawn("agent", &dir, &eps, &[]);
    let (mut token, died) = acquired(&ask(&mut holder, "acquire 5000"));
    assert!(!died);
    let mut worst = Duration::ZERO;
    for round in 0..10 {
        let mut waiter = spawn("agent", &dir, &eps, &[]);
        answer(&mut waiter, "connected");
        send(&mut waiter, "acquire 10000");
        wait_waiters(&lock, 1);
        let killed = Instant::now();
        kill(holder);
        let (next, died) = acquired(&answer(&mut waiter, "acquire"));
        let took = killed.elapsed();
        worst = worst.max(took);
        assert!(took <= TTL + HAND_OFF, "round {round}: {took:?}");
        assert!(died, "round {round}: previous_owner_died not reported");
        assert!(next > token, "round {round}: token {next} after {token}");
        token = next;
        holder = waiter;
    }
    eprintln!(
        "etcd kill -9: worst hand-off {:.3} s after the kill (TTL 2 s)",
        worst.as_secs_f64()
    );
    assert_eq!(ask(&mut holder, "release"), "ok");
    kill(holder);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A holder stopped (SIGSTOP) past its TTL: another process takes over; the
/// resumed holder's fenced write is rejected and its check and release report
/// the hold lost.
#[test]
fn stopped_holder_learns_it_lost_the_lock() {
    let _serial = serial();
    let Some(etcd) = Etcd::start("stopped_holder_learns_it_lost_the_lock") else {
        return;
    };
    let dir = scratch("stop");
    let store = Store::create(dir.join("store"));
    let eps = etcd.endpoint_list();
    let watcher = connect(&etcd.endpoints());
    let lock = Lock::new(&watcher, "l").unwrap();
    let mut a = spawn("agent", &dir, &eps, &[]);
    let (ta, _) = acquired(&ask(&mut a, "acquire 5000"));
    assert_eq!(ask(&mut a, "write"), "accepted");
    let mut b = spawn("agent", &dir, &eps, &[]);
    answer(&mut b, "connected");
    send(&mut b, "acquire 10000");
    wait_waiters(&lock, 1);
    signal(&a, libc::SIGSTOP);
    let stopped = Instant::now();
    let (tb, died) = acquired(&answer(&mut b, "acquire"));
    let took = stopped.elapsed();
    assert!(took <= TTL + HAND_OFF, "{took:?}");
    assert!(died && tb > ta, "{tb} after {ta}, died {died}");
    assert_eq!(ask(&mut b, "write"), "accepted");
    signal(&a, libc::SIGCONT);
    assert!(ask(&mut a, "check").starts_with("Lost "));
    assert_eq!(ask(&mut a, "write"), "rejected");
    assert!(ask(&mut a, "release").starts_with("Lost "));
    assert_eq!(ask(&mut b, "check"), "ok");
    assert_eq!(ask(&mut b, "release"), "ok");
    assert_eq!(store.read(), (2, tb, 1));
    // the resumed process gets a new lease and can take the lock again
    let (again, died) = acquired(&ask(&mut a, "acquire 5000"));
    assert!(again > tb && !died);
    assert_eq!(ask(&mut a, "release"), "ok");
    kill(a);
    kill(b);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A waiter whose own lease expires while it waits (stopped past its TTL)
/// does not believe it holds the lock when the holder releases (etcd#11456).
#[test]
fn waiter_whose_lease_expired_does_not_hold() {
    let _serial = serial();
    let Some(etcd) = Etcd::start("waiter_whose_lease_expired_does_not_hold") else {
        return;
    };
    let dir = scratch("waiter");
    Store::create(dir.join("store"));
    let eps = etcd.endpoint_list();
    let watcher = connect(&etcd.endpoints());
    let lock = Lock::new(&watcher, "l").unwrap();
    let mut a = spawn("agent", &dir, &eps, &[]);
    let (ta, _) = acquired(&ask(&mut a, "acquire 5000"));
    let mut b = spawn("agent", &dir, &eps, &[]);
    answer(&mut b, "connected");
    send(&mut b, "acquire 20000");
    wait_waiters(&lock, 1);
    signal(&b, libc::SIGSTOP);
    // B's lease expires: its key goes
    let until = Instant::now() + TTL + Duration::from_secs(2);
    while !lock.status().unwrap().waiters.is_empty() {
        assert!(Instant::now() < until, "the stopped waiter's key stayed");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(ask(&mut a, "release"), "ok");
    signal(&b, libc::SIGCONT);
    let told = answer(&mut b, "acquire");
    assert!(
        told.starts_with("Lost "),
        "the expired waiter was told: {told}"
    );
    // nothing of it is left, and it can wait again with a new lease
    let status = lock.status().unwrap();
    assert!(
        status.holder.is_none() && status.waiters.is_empty(),
        "{status:?}"
    );
    let (tb, died) = acquired(&ask(&mut b, "acquire 5000"));
    assert!(tb > ta && !died, "{tb} after {ta}, died {died}");
    assert_eq!(ask(&mut b, "check"), "ok");
    assert_eq!(ask(&mut b, "release"), "ok");
    kill(a);
    kill(b);
    let _ = std::fs::remove_dir_all(&dir);
}

/// etcd stopped: acquisitions, checks and releases end with `Unavailable`
/// within their time; a dead endpoint, an endpoint that is not etcd and one
/// that never answers give clear errors; bad arguments are refused.
#[test]
fn unavailable_and_wrong_endpoints_fail_cleanly() {
    let _serial = serial();
    let Some(mut etcd) = Etcd::start("unavailable_and_wrong_endpoints_fail_cleanly") else {
        return;
    };
    let quick = ClientOptions {
        request_timeout: Duration::from_secs(1),
        ..options()
    };
    let client = Client::connect(&etcd.endpoints(), &quick).unwrap();
    for bad in ["", "a/b", "..", &"x".repeat(201), "é"] {
        let e = Lock::new(&client, bad).err().unwrap();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{bad:?}");
    }
    let lock = Lock::new(&client, "l").unwrap();
    let other = Lock::new(&client, "l").unwrap();
    let guard = lock.acquire(Some(Duration::from_secs(1))).unwrap();
    // a second handle of the same process contends like another process
    let e = other.try_acquire().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::WouldBlock);
    let t = Instant::now();
    let e = other.acquire(Some(Duration::from_millis(300))).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout);
    assert!(
        t.elapsed() < Duration::from_millis(800),
        "{:?}",
        t.elapsed()
    );
    // through the same handle: Deadlock, not a hang
    assert_eq!(lock.try_acquire().unwrap_err().kind(), ErrorKind::Deadlock);
    let status = lock.status().unwrap();
    assert_eq!(status.holder.as_ref().unwrap().token, guard.token());
    assert_eq!(status.holder.as_ref().unwrap().pid, std::process::id());
    assert!(
        status.waiters.is_empty(),
        "the timed-out waiter's key stayed: {status:?}"
    );
    let left = status.holder.unwrap().lease_left.unwrap();
    assert!(left <= TTL && left >= Duration::from_secs(1), "{left:?}");

    etcd.kill(0);
    let t = Instant::now();
    assert_eq!(guard.check().unwrap_err().kind(), ErrorKind::Unavailable);
    assert!(
        t.elapsed() < Duration::from_millis(1300),
        "{:?}",
        t.elapsed()
    );
    for (what, timeout) in [("acquire", Some(Duration::from_millis(700))), ("try", None)] {
        let t = Instant::now();
        let e = match timeout {
            Some(t) => other.acquire(Some(t)),
            None => other.try_acquire(),
        }
        .unwrap_err();
        let took = t.elapsed();
        assert_eq!(e.kind(), ErrorKind::Unavailable, "{what}: {e}");
        let bound = timeout.unwrap_or(quick.request_timeout) + Duration::from_millis(300);
        assert!(took <= bound, "{what} took {took:?}");
    }
    // by now the lease's deadline has passed without a renewal: lost
    let t = Instant::now();
    assert_eq!(guard.release().unwrap_err().kind(), ErrorKind::Lost);
    assert!(
        t.elapsed() < Duration::from_millis(1300),
        "{:?}",
        t.elapsed()
    );

    // a dead endpoint
    let t = Instant::now();
    let e = Client::connect(&etcd.endpoints(), &quick).err().unwrap();
    assert_eq!(e.kind(), ErrorKind::Unavailable);
    assert!(e.message().contains(&etcd.endpoint(0)), "{e}");
    assert!(t.elapsed() < Duration::from_millis(1500));
    // something that is not etcd: refused at once, and said so
    let not_etcd =
        serve(|_| b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nNot Found".to_vec());
    let t = Instant::now();
    let e = Client::connect(&[&not_etcd], &quick).err().unwrap();
    assert_eq!(e.kind(), ErrorKind::Unavailable);
    assert!(e.message().contains("not etcd"), "{e}");
    assert!(
        t.elapsed() < Duration::from_millis(500),
        "{:?}",
        t.elapsed()
    );
    let html = serve(|_| b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n<html>".to_vec());
    let e = Client::connect(&[&html], &quick).err().unwrap();
    assert!(e.message().contains("not JSON"), "{e}");
    // an endpoint that never answers: Unavailable by the request timeout
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_ep = format!("http://{}", silent.local_addr().unwrap());
    let t = Instant::now();
    let e = Client::connect(&[&silent_ep], &quick).err().unwrap();
    assert_eq!(e.kind(), ErrorKind::Unavailable);
    let took = t.elapsed();
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_millis(1500),
        "{took:?}"
    );
    // a TTL below etcd's minimum
    let short = ClientOptions {
        ttl: Duration::from_millis(1500),
        ..options()
    };
    let e = Client::connect(&[&not_etcd], &short).err().unwrap();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
}

/// A tiny HTTP server on 127.0.0.1 answering every connection with `reply`.
fn serve(reply: fn(&[u8]) -> Vec<u8>) -> String {
    use std::io::Read;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            let mut buf = [0u8; 4096];
            let n = conn.read(&mut buf).unwrap_or(0);
            let _ = conn.write_all(&reply(&buf[..n]));
        }
    });
    format!("http://{addr}")
}

/// The leader of a 3-member cluster killed (and restarted) while 4 processes
/// count under the lock: the total is still exact, no write rejected.
#[test]
fn leader_killed_during_contention() {
    let _serial = serial();
    let Some(mut etcd) = Etcd::cluster("leader_killed_during_contention", 3) else {
        return;
    };
    let dir = scratch("leader");
    let store = Store::create(dir.join("store"));
    let eps = etcd.endpoints();
    let (procs, n) = (4u64, 150u64);
    let mut children: Vec<Child> = (0..procs as usize)
        .map(|i| {
            // each child starts on another member
            let mut mine = eps.clone();
            mine.rotate_left(i % eps.len());
            spawn("counter", &dir, &mine.join(","), &[("RINGLOCK_N", "150")])
        })
        .collect();
    let until = Instant::now() + Duration::from_secs(30);
    while store.read().0 < procs * n / 3 {
        assert!(Instant::now() < until, "no progress: {:?}", store.read());
        std::thread::sleep(Duration::from_millis(20));
    }
    let leader = (0..3).find_map(|i| etcd.leader(i)).expect("no leader");
    let at = store.read().0;
    etcd.kill(leader);
    std::thread::sleep(Duration::from_secs(1));
    etcd.restart(leader);
    for c in &mut children {
        let done = answer(c, "done");
        assert!(c.wait().unwrap().success());
        let words: Vec<u64> = done.split(' ').map(|w| w.parse().unwrap()).collect();
        assert_eq!(words[..2], [n, 0], "done, rejected (errors {})", words[2]);
    }
    let (value, _, rejected) = store.read();
    eprintln!("etcd leader {leader} killed at count {at}; total {value}");
    assert_eq!(value, procs * n);
    assert_eq!(rejected, 0);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A forked child cannot use the parent's client, and dropping its copies
/// neither releases the parent's hold nor ends its lease.
#[test]
fn forked_child_leaves_the_hold_alone() {
    let _serial = serial();
    let Some(etcd) = Etcd::start("forked_child_leaves_the_hold_alone") else {
        return;
    };
    let dir = scratch("fork");
    Store::create(dir.join("store"));
    let mut a = spawn("agent", &dir, &etcd.endpoint_list(), &[]);
    acquired(&ask(&mut a, "acquire 5000"));
    assert_eq!(ask(&mut a, "fork"), "refused");
    std::thread::sleep(TTL + Duration::from_millis(700));
    assert_eq!(ask(&mut a, "check"), "ok");
    assert_eq!(ask(&mut a, "release"), "ok");
    kill(a);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `Client::shared`: the same endpoints and options give one lease; other
/// options another; the lease is revoked once the last sharer is gone.
#[test]
fn shared_clients_share_one_lease() {
    let _serial = serial();
    let Some(etcd) = Etcd::start("shared_clients_share_one_lease") else {
        return;
    };
    let eps = etcd.endpoints();
    let a = Client::shared(&eps, &options()).unwrap();
    let b = Client::shared(&eps, &options()).unwrap();
    let other = ClientOptions {
        namespace: "test-other".into(),
        ..options()
    };
    let c = Client::shared(&eps, &other).unwrap();
    let lease_of = |client: &Client, name: &str| {
        let lock = Lock::new(client, name).unwrap();
        let g = lock.try_acquire().unwrap();
        let lease = g.lease_id();
        g.release().unwrap();
        lease
    };
    let (la, lb, lc) = (
        lease_of(&a, "sh-a"),
        lease_of(&b, "sh-b"),
        lease_of(&c, "sh-c"),
    );
    assert_eq!(la, lb, "same options, one lease");
    assert_ne!(la, lc, "another namespace, another client");
    // a lock keeps the client alive after every Client value is dropped
    let lock = Lock::new(&a, "sh-keep").unwrap();
    drop((a, b));
    let d = Client::shared(&eps, &options()).unwrap();
    assert_eq!(lease_of(&d, "sh-d"), la, "the lock kept the shared client");
    drop((lock, d));
    let e = Client::shared(&eps, &options()).unwrap();
    assert_ne!(
        lease_of(&e, "sh-e"),
        la,
        "the last sharer gone, a new lease"
    );
    drop((c, e));
}

/// `acquire_interruptible`: while it waits, the hook runs again and again
/// and the waiter's key stays (the same token, a later waiter still behind
/// it); it holds, with that token, once the holder releases. A hook's error
/// ends the wait with that error and no key left; the hook is not called
/// for a lock had at once nor for a try; a zero interval is refused.
#[test]
fn interruptible_wait_keeps_its_place_and_withdraws_on_the_hooks_error() {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
    use std::sync::Arc;
    let _serial = serial();
    let Some(etcd) = Etcd::start("interruptible_wait_keeps_its_place") else {
        return;
    };
    let client = connect(&etcd.endpoints());
    let watcher = Lock::new(&client, "hook").unwrap();
    let every = Duration::from_millis(50);

    // refused at once, and not marked busy
    let lock = Lock::new(&client, "hook").unwrap();
    let e = lock
        .acquire_interruptible(None, Duration::ZERO, &mut || Ok(()))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    // had at once, and a try: no call
    let mut calls = 0;
    let g = lock
        .acquire_interruptible(Some(Duration::from_secs(5)), every, &mut || {
            calls += 1;
            Ok(())
        })
        .unwrap();
    let holder = Lock::new(&client, "hook").unwrap();
    let t = Instant::now();
    let e = holder
        .acquire_interruptible(Some(Duration::ZERO), every, &mut || {
            calls += 1;
            Ok(())
        })
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::WouldBlock, "{e}");
    assert_eq!(calls, 0, "the hook ran without a wait");
    assert!(t.elapsed() < Duration::from_secs(1));
    g.release().unwrap();

    // the waiter keeps its key across many calls
    let held = holder.acquire(Some(Duration::from_secs(5))).unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let waiter = {
        let client = client.clone();
        let calls = Arc::clone(&calls);
        std::thread::spawn(move || {
            let lock = Lock::new(&client, "hook").unwrap();
            let g =
                lock.acquire_interruptible(Some(Duration::from_secs(30)), every, &mut || {
                    calls.fetch_add(1, SeqCst);
                    Ok(())
                })?;
            let token = g.token();
            g.release()?;
            Ok::<u64, ringlock::Error>(token)
        })
    };
    wait_waiters(&watcher, 1);
    let first = watcher.status().unwrap().waiters[0].token;
    let later = {
        let client = client.clone();
        std::thread::spawn(move || {
            let lock = Lock::new(&client, "hook").unwrap();
            lock.acquire(Some(Duration::from_secs(30)))
                .and_then(|g| g.release())
        })
    };
    wait_waiters(&watcher, 2);
    let from = calls.load(SeqCst);
    let until = Instant::now() + Duration::from_secs(10);
    while calls.load(SeqCst) < from + 10 {
        assert!(
            Instant::now() < until,
            "the hook ran {} times",
            calls.load(SeqCst)
        );
        let status = watcher.status().unwrap();
        let tokens: Vec<u64> = status.waiters.iter().map(|e| e.token).collect();
        assert_eq!(tokens.len(), 2, "{status:?}");
        assert_eq!(tokens[0], first, "the waiter's key changed: {status:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!later.is_finished());
    held.release().unwrap();
    let token = waiter.join().unwrap().unwrap();
    assert_eq!(token, first, "it held with the key it waited with");
    later.join().unwrap().unwrap();

    // the hook's error: that error, no key left
    let held = holder.acquire(Some(Duration::from_secs(5))).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let calls = Arc::new(AtomicUsize::new(0));
    let waiter = {
        let (client, stop, calls) = (client.clone(), Arc::clone(&stop), Arc::clone(&calls));
        std::thread::spawn(move || {
            let lock = Lock::new(&client, "hook").unwrap();
            let r = lock.acquire_interruptible(None, every, &mut || {
                calls.fetch_add(1, SeqCst);
                if stop.load(SeqCst) {
                    return Err(ringlock::Error::new(ErrorKind::Internal, "told to stop"));
                }
                Ok(())
            });
            // what the queue looks like right as the acquisition returns
            (r.map(|g| g.token()), lock.status().unwrap())
        })
    };
    wait_waiters(&watcher, 1);
    std::thread::sleep(Duration::from_millis(300));
    let t = Instant::now();
    stop.store(true, SeqCst);
    let (r, status) = waiter.join().unwrap();
    let e = r.unwrap_err();
    assert!(
        t.elapsed() < Duration::from_millis(600),
        "{:?}",
        t.elapsed()
    );
    assert_eq!(
        (e.kind(), e.message()),
        (ErrorKind::Internal, "told to stop")
    );
    assert!(calls.load(SeqCst) >= 2, "{}", calls.load(SeqCst));
    assert!(status.waiters.is_empty(), "a key was left: {status:?}");
    assert_eq!(status.holder.map(|e| e.token), Some(held.token()));
    // the handle is free again
    held.release().unwrap();
}
