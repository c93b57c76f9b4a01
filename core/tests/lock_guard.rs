//! Holds as values: guards of one `Lock` share (shared mode) and exclude
//! (exclusive) as separate handles do, across threads, without leaking
//! descriptors, and release on drop.

mod common;

use common::{options, scratch, BOTH};
use ringlock::{Backend, ErrorKind, Lock, Mode};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn open(d: &std::path::Path, b: Backend) -> Arc<Lock> {
    Arc::new(Lock::open("g", &options(d, b)).unwrap())
}

const NOW: Option<Duration> = Some(Duration::ZERO);

#[test]
fn guards_of_one_lock_share_and_exclude() {
    for b in BOTH {
        let d = scratch(&format!("guard-share-{}", b.name()));
        let lock = open(&d, b);
        let other = Lock::open("g", &options(&d, b)).unwrap();
        let readers: Vec<_> = (0..3)
            .map(|_| lock.guard(Mode::Shared, NOW).unwrap())
            .collect();
        assert_eq!(lock.status().holders.len(), 3, "{b:?}");
        assert!(readers
            .iter()
            .all(|g| g.is_held() && g.mode() == Mode::Shared));
        let e = lock.guard(Mode::Exclusive, NOW).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::WouldBlock, "{b:?}");
        let e = other.acquire(Mode::Exclusive, NOW).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::WouldBlock, "{b:?}");
        // the handle's own hold and the guards are independent
        other.acquire(Mode::Shared, NOW).unwrap();
        other.release().unwrap();
        drop(readers);
        assert!(lock.status().holders.is_empty(), "{b:?}: drop released");

        let w = lock.guard(Mode::Exclusive, NOW).unwrap();
        assert!(w.token() >= 1);
        let st = lock.status();
        assert_eq!(st.holders.len(), 1);
        assert_eq!(st.holders[0].mode, Mode::Exclusive);
        assert_eq!(st.holders[0].token, w.token());
        for mode in [Mode::Exclusive, Mode::Shared] {
            let e = lock.guard(mode, NOW).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::WouldBlock, "{b:?} {mode:?}");
            let e = other.acquire(mode, NOW).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::WouldBlock, "{b:?} {mode:?}");
        }
        let t = Instant::now();
        let e = lock
            .guard(Mode::Shared, Some(Duration::from_millis(50)))
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Timeout);
        assert!(t.elapsed() >= Duration::from_millis(50));
        let first = w.token();
        w.release().unwrap();
        let h = other.acquire(Mode::Exclusive, NOW).unwrap();
        assert!(
            h.token > first,
            "{b:?}: tokens grow across guards and handles"
        );
        assert!(
            !h.previous_owner_died,
            "{b:?}: a released guard did not die"
        );
        other.release().unwrap();
        std::fs::remove_dir_all(&d).unwrap();
    }
}

/// Threads taking guards of one shared `Lock` exclude each other: a
/// non-atomic increment under the lock ends at the exact total. (With the
/// file backend this fails if two guards share one open file description:
/// flock would let both through.)
#[test]
fn threads_exclude_each_other_with_guards_of_one_lock() {
    for b in BOTH {
        let d = scratch(&format!("guard-threads-{}", b.name()));
        let lock = open(&d, b);
        let counter = Arc::new(AtomicU64::new(0));
        let ts: Vec<_> = (0..8)
            .map(|_| {
                let (lock, counter) = (lock.clone(), counter.clone());
                std::thread::spawn(move || {
                    for _ in 0..1500 {
                        let g = lock.guard(Mode::Exclusive, None).unwrap();
                        let v = counter.load(Relaxed);
                        std::thread::yield_now();
                        counter.store(v + 1, Relaxed);
                        drop(g);
                    }
                })
            })
            .collect();
        for t in ts {
            t.join().unwrap();
        }
        assert_eq!(counter.load(Relaxed), 12_000, "{b:?}");
        std::fs::remove_dir_all(&d).unwrap();
    }
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// A file guard's description goes back to the lock for the next guard:
/// many acquisitions open a bounded number of descriptors, and dropping the
/// lock closes them all.
#[test]
fn file_guards_reuse_their_descriptors() {
    let d = scratch("guard-fds");
    let before = open_fds();
    let lock = open(&d, Backend::File);
    for _ in 0..500 {
        let a = lock.guard(Mode::Shared, NOW).unwrap();
        let b = lock.guard(Mode::Shared, NOW).unwrap();
        drop((a, b));
        lock.guard(Mode::Exclusive, NOW).unwrap().release().unwrap();
    }
    // the lock's own two descriptors and the two guards' (other tests of
    // this binary run in parallel and open their own: allow some slack)
    let during = open_fds();
    assert!(
        during <= before + 4 + 16,
        "{before} -> {during} descriptors"
    );
    drop(lock);
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn an_interrupted_guard_wait_keeps_its_place_then_withdraws() {
    for b in BOTH {
        let d = scratch(&format!("guard-hook-{}", b.name()));
        let lock = open(&d, b);
        let holder = Lock::open("g", &options(&d, b)).unwrap();
        holder.acquire(Mode::Shared, None).unwrap();
        let calls = std::cell::Cell::new(0);
        let reader_held_back = std::cell::Cell::new(true);
        let e = lock
            .guard_interruptible(
                Mode::Exclusive,
                Some(Duration::from_secs(10)),
                Duration::from_millis(10),
                &mut || {
                    calls.set(calls.get() + 1);
                    // the waiting writer keeps new readers out meanwhile
                    let probe = Lock::open("g", &options(&d, b)).unwrap();
                    if probe.acquire(Mode::Shared, NOW).is_ok() {
                        reader_held_back.set(false);
                    }
                    if calls.get() == 5 {
                        return Err(ringlock::Error::new(ErrorKind::Internal, "stop"));
                    }
                    Ok(())
                },
            )
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "internal error: stop",
            "{b:?}: the hook's error"
        );
        assert_eq!(calls.get(), 5, "{b:?}");
        assert!(
            reader_held_back.get(),
            "{b:?}: a reader got past the waiting writer"
        );
        // withdrawn: a new reader gets in at once
        let r = lock.guard(Mode::Shared, NOW).unwrap();
        drop(r);
        holder.release().unwrap();
        let e = lock
            .guard_interruptible(Mode::Shared, None, Duration::ZERO, &mut || Ok(()))
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        std::fs::remove_dir_all(&d).unwrap();
    }
}
