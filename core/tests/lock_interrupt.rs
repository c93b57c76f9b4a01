//! `Lock::acquire_interruptible`: the hook is called again and again while
//! the acquisition waits, the waiter keeps its place between the calls, and
//! the hook's error ends the wait as a timeout would, leaving no claim and
//! nothing held. Separate handles contend exactly as processes do; the
//! holders here are other handles, in other threads.

mod common;

use common::{options, scratch, BOTH};
use ringlock::{Backend, Error, ErrorKind, Lock, Mode};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn open(d: &Path, b: Backend) -> Lock {
    Lock::open("l", &options(d, b)).unwrap()
}

fn stop() -> Error {
    Error::new(ErrorKind::Unavailable, "stopped by the hook")
}

#[test]
fn a_waiting_writer_keeps_its_claim_across_the_hook_and_its_error_withdraws_it() {
    for b in BOTH {
        let d = scratch(&format!("intr-w-{}", b.name()));
        let reader = open(&d, b);
        reader.acquire(Mode::Shared, None).unwrap();
        let writer = open(&d, b);
        let probe = open(&d, b);
        let mut calls = Vec::new();
        let mut probes = Vec::new();
        let began = Instant::now();
        let e = writer
            .acquire_interruptible(
                Mode::Exclusive,
                None,
                Duration::from_millis(20),
                &mut || {
                    calls.push(Instant::now());
                    // while the writer waits, a new reader is held back: the
                    // claim was not withdrawn for the call
                    let r = probe.acquire(Mode::Shared, Some(Duration::ZERO));
                    probes.push(r.as_ref().map(|_| ()).map_err(|e| e.kind()));
                    if r.is_ok() {
                        probe.release().unwrap();
                    }
                    if calls.len() == 6 {
                        return Err(stop());
                    }
                    Ok(())
                },
            )
            .unwrap_err();
        let took = began.elapsed();
        assert_eq!(e.kind(), ErrorKind::Unavailable, "{b:?}: {e}");
        assert_eq!(e.message(), "stopped by the hook");
        assert_eq!(calls.len(), 6, "{b:?}");
        assert!(
            probes.iter().all(|p| *p == Err(ErrorKind::WouldBlock)),
            "{b:?}: a reader got in while the writer waited: {probes:?}"
        );
        // at least every 20 ms (a loaded machine may add a little)
        let mut last = began;
        for t in &calls {
            let gap = t.duration_since(last);
            assert!(gap < Duration::from_millis(200), "{b:?}: gap {gap:?}");
            last = *t;
        }
        assert!(took >= Duration::from_millis(100), "{b:?}: {took:?}");
        // withdrawn: nothing held, no claim left (a new reader gets in at
        // once beside the one that holds)
        assert!(!writer.is_held());
        probe
            .acquire(Mode::Shared, Some(Duration::ZERO))
            .unwrap_or_else(|e| panic!("{b:?}: a claim was left: {e}"));
        let st = writer.status();
        assert_eq!(st.holders.len(), 2, "{b:?}: {st:?}");
        assert!(st.holders.iter().all(|h| h.mode == Mode::Shared));
        probe.release().unwrap();
        reader.release().unwrap();
        // and the writer's next acquisition is an ordinary one
        let h = writer
            .acquire(Mode::Exclusive, Some(Duration::ZERO))
            .unwrap();
        assert!(h.token >= 1);
        writer.release().unwrap();
        std::fs::remove_dir_all(&d).unwrap();
    }
}

#[test]
fn a_waiting_reader_stopped_by_the_hook_leaves_nothing_behind() {
    for b in BOTH {
        let d = scratch(&format!("intr-r-{}", b.name()));
        let holder = open(&d, b);
        holder.acquire(Mode::Exclusive, None).unwrap();
        let reader = open(&d, b);
        let mut calls = 0;
        let e = reader
            .acquire_interruptible(Mode::Shared, None, Duration::from_millis(10), &mut || {
                calls += 1;
                if calls == 4 {
                    Err(stop())
                } else {
                    Ok(())
                }
            })
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unavailable, "{b:?}: {e}");
        assert_eq!(calls, 4);
        assert!(!reader.is_held());
        let st = reader.status();
        assert_eq!(st.holders.len(), 1, "{b:?}: {st:?}");
        assert_eq!(st.holders[0].mode, Mode::Exclusive);
        holder.release().unwrap();
        // nothing left: another handle gets the lock at once, either way
        let other = open(&d, b);
        other
            .acquire(Mode::Exclusive, Some(Duration::ZERO))
            .unwrap();
        other.release().unwrap();
        other.acquire(Mode::Shared, Some(Duration::ZERO)).unwrap();
        assert_eq!(other.status().holders.len(), 1);
        other.release().unwrap();
        assert!(other.status().holders.is_empty());
        std::fs::remove_dir_all(&d).unwrap();
    }
}

#[test]
fn the_hook_runs_until_a_timeout_or_the_release() {
    for b in BOTH {
        for mode in [Mode::Exclusive, Mode::Shared] {
            let d = scratch(&format!("intr-t-{}-{mode:?}", b.name()));
            let holder = open(&d, b);
            holder.acquire(Mode::Exclusive, None).unwrap();
            let waiter = open(&d, b);
            // a timeout: the hook was called meanwhile, the error is Timeout
            let mut calls = 0;
            let began = Instant::now();
            let e = waiter
                .acquire_interruptible(
                    mode,
                    Some(Duration::from_millis(300)),
                    Duration::from_millis(20),
                    &mut || {
                        calls += 1;
                        Ok(())
                    },
                )
                .unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Timeout, "{b:?} {mode:?}: {e}");
            assert!(began.elapsed() >= Duration::from_millis(300));
            assert!(calls >= 5, "{b:?} {mode:?}: {calls} calls in 300 ms");
            // released while waiting with no timeout: acquired
            let holder = Arc::new(holder);
            let h2 = holder.clone();
            let t = std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(150));
                h2.release().unwrap();
            });
            let mut calls = 0;
            let hold = waiter
                .acquire_interruptible(mode, None, Duration::from_millis(20), &mut || {
                    calls += 1;
                    Ok(())
                })
                .unwrap();
            t.join().unwrap();
            assert_eq!(hold.mode, mode);
            assert!(calls >= 2, "{b:?} {mode:?}: {calls}");
            assert!(waiter.is_held());
            waiter.release().unwrap();
            // a lock had at once does not call the hook; a zero interval is
            // refused
            let mut called = false;
            waiter
                .acquire_interruptible(mode, None, Duration::from_millis(1), &mut || {
                    called = true;
                    Ok(())
                })
                .unwrap();
            assert!(!called);
            waiter.release().unwrap();
            let e = waiter
                .acquire_interruptible(mode, None, Duration::ZERO, &mut || Ok(()))
                .unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidArgument);
            std::fs::remove_dir_all(&d).unwrap();
        }
    }
}

#[test]
fn a_thread_waiting_for_the_handle_calls_the_hook_too() {
    for b in BOTH {
        let d = scratch(&format!("intr-h-{}", b.name()));
        let shared = Arc::new(open(&d, b));
        shared.acquire(Mode::Shared, None).unwrap();
        let s2 = shared.clone();
        let (calls, e) = std::thread::spawn(move || {
            let mut calls = 0;
            let e = s2
                .acquire_interruptible(Mode::Shared, None, Duration::from_millis(10), &mut || {
                    calls += 1;
                    if calls == 3 {
                        Err(stop())
                    } else {
                        Ok(())
                    }
                })
                .unwrap_err();
            (calls, e)
        })
        .join()
        .unwrap();
        assert_eq!(calls, 3);
        assert_eq!(e.kind(), ErrorKind::Unavailable, "{b:?}: {e}");
        // the first thread's hold is untouched
        assert!(shared.is_held());
        shared.release().unwrap();
        std::fs::remove_dir_all(&d).unwrap();
    }
}
