//! A lock file tampered with while in use — truncated, or rewritten in place
//! with a fresh page — kills no process and yields no second holder: every
//! handle that meets it fails with `Corrupt` (docs/locks.md, "Tampering").

mod common;

use common::{options, read_until, scratch, spawn, wait_ready, BOTH};
use ringlock::{Backend, ErrorKind, Lock, Mode};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::time::Duration;

fn kind(r: ringlock::Result<impl Sized>) -> String {
    match r {
        Ok(_) => "ok".into(),
        Err(e) => e.kind().as_str().to_string(),
    }
}

/// The child side.
#[test]
#[ignore]
fn child() {
    let Ok(role) = std::env::var("RINGLOCK_ROLE") else {
        return;
    };
    let dir = PathBuf::from(std::env::var("RINGLOCK_DIR").unwrap());
    let backend: Backend = std::env::var("RINGLOCK_BACKEND").unwrap().parse().unwrap();
    let lock = Lock::open("l", &options(&dir, backend)).unwrap();
    let mut stdout = std::io::stdout();
    match role.as_str() {
        // holds the lock until a line arrives on stdin, then releases and
        // tries once more, printing what each step gave
        "hold_until_told" => {
            let h = lock.acquire(Mode::Exclusive, None).unwrap();
            writeln!(stdout, "ready {}", h.token).unwrap();
            stdout.flush().unwrap();
            let mut line = String::new();
            std::io::stdin().read_line(&mut line).unwrap();
            writeln!(stdout, "release {}", kind(lock.release())).unwrap();
            let again = lock.acquire(Mode::Exclusive, Some(Duration::ZERO));
            writeln!(stdout, "acquire {}", kind(again)).unwrap();
            writeln!(stdout, "status {}", lock.status().holders.len()).unwrap();
            stdout.flush().unwrap();
        }
        r => panic!("unknown role {r}"),
    }
}

/// Tells the "hold_until_told" child to go on; returns its report lines and
/// checks that it exited normally (no SIGBUS).
fn finish(mut k: std::process::Child, b: Backend) -> (String, String) {
    writeln!(k.stdin.as_mut().unwrap(), "go").unwrap();
    let release = read_until(&mut k, "release").unwrap_or_default();
    let acquire = read_until(&mut k, "acquire").unwrap_or_default();
    let st = k.wait().unwrap();
    assert!(
        st.success(),
        "{b:?}: the holder did not survive: {st:?} (signal {:?})",
        st.signal()
    );
    (release, acquire)
}

#[test]
fn a_lock_file_truncated_while_held_kills_nobody_and_is_corrupt_from_then_on() {
    for b in BOTH {
        let d = scratch(&format!("trunc-{}", b.name()));
        // this process has the page mapped too, through a handle opened before
        let mine = Lock::open("l", &options(&d, b)).unwrap();
        mine.acquire(Mode::Exclusive, None).unwrap();
        mine.release().unwrap();
        let mut k = spawn("hold_until_told", &d, b, &[]);
        let token = wait_ready(&mut k);
        assert!(token >= 2);
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(mine.path())
            .unwrap();
        f.set_len(0).unwrap();
        let _ = mine.status(); // reads the page: must not kill us
        let (release, acquire) = finish(k, b);
        assert_eq!(release, "release corrupt data", "{b:?}");
        assert_eq!(acquire, "acquire corrupt data", "{b:?}");
        for _ in 0..2 {
            let e = mine
                .acquire(Mode::Exclusive, Some(Duration::ZERO))
                .unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Corrupt, "{b:?}: {e}");
            assert!(e.message().contains("truncated while in use"), "{e}");
            let e = mine
                .acquire(Mode::Shared, Some(Duration::ZERO))
                .unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Corrupt, "{b:?}: {e}");
        }
        assert!(!mine.is_held());
        // a new handle refuses the file, shrunk or grown back with zeros
        let e = Lock::open("l", &options(&d, b)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Corrupt, "{b:?}: {e}");
        f.set_len(4096).unwrap();
        let e = Lock::open("l", &options(&d, b)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Corrupt, "{b:?}: {e}");
        let e = mine.acquire(Mode::Exclusive, None).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Corrupt, "{b:?}: {e}");
        drop(mine);
        std::fs::remove_dir_all(&d).unwrap();
    }
}

#[test]
fn a_page_rewritten_in_place_while_held_gives_no_second_holder() {
    for b in BOTH {
        let d = scratch(&format!("rewrite-{}", b.name()));
        let fresh_dir = scratch(&format!("rewrite-fresh-{}", b.name()));
        let mine = Lock::open("l", &options(&d, b)).unwrap();
        for _ in 0..3 {
            mine.acquire(Mode::Exclusive, None).unwrap();
            mine.release().unwrap();
        }
        let mut k = spawn("hold_until_told", &d, b, &[]);
        assert_eq!(wait_ready(&mut k), 4);
        // a fresh header: the page of a brand-new lock of the same name,
        // written over the one in use (no truncation)
        drop(Lock::open("l", &options(&fresh_dir, b)).unwrap());
        let fresh = std::fs::read(fresh_dir.join(mine.path().file_name().unwrap())).unwrap();
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(mine.path())
            .unwrap();
        f.write_all_at(&fresh, 0).unwrap();
        // a handle opened before: no hold with the token restarted at 1
        let r = mine.acquire(Mode::Exclusive, Some(Duration::ZERO));
        match (b, &r) {
            (_, Err(e)) if e.kind() == ErrorKind::Corrupt => {}
            // the file backend's flock (on the inode) still excludes
            (Backend::File, Err(e)) if e.kind() == ErrorKind::WouldBlock => {}
            _ => panic!("{b:?}: a second holder: {r:?}"),
        }
        // a handle opened after: the page was made for another file
        let e = Lock::open("l", &options(&d, b)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Corrupt, "{b:?}: {e}");
        assert!(e.message().contains("made for another file"), "{e}");
        // the holder learns it too, and survives
        let (release, acquire) = finish(k, b);
        assert_eq!(release, "release corrupt data", "{b:?}");
        assert_eq!(acquire, "acquire corrupt data", "{b:?}");
        let e = mine
            .acquire(Mode::Exclusive, Some(Duration::ZERO))
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Corrupt, "{b:?}: {e}");
        assert!(e.message().contains("rewritten while in use"), "{e}");
        std::fs::remove_dir_all(&d).unwrap();
        std::fs::remove_dir_all(&fresh_dir).unwrap();
    }
}

#[test]
fn a_page_reset_to_an_old_copy_of_itself_is_caught_by_handles_that_saw_more() {
    for b in BOTH {
        let d = scratch(&format!("reset-{}", b.name()));
        let mine = Lock::open("l", &options(&d, b)).unwrap();
        let young = std::fs::read(mine.path()).unwrap();
        for _ in 0..3 {
            mine.acquire(Mode::Exclusive, None).unwrap();
            mine.release().unwrap();
        }
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(mine.path())
            .unwrap();
        f.write_all_at(&young, 0).unwrap();
        for mode in [Mode::Exclusive, Mode::Shared] {
            let e = mine.acquire(mode, Some(Duration::ZERO)).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Corrupt, "{b:?}: {e}");
            assert!(e.message().contains("went back from 2 to 0"), "{e}");
        }
        std::fs::remove_dir_all(&d).unwrap();
    }
}
