//! Custom lock directories are vetted (docs/locks.md, "Names and where locks
//! live"): another user's lock file, a directory others can write to without
//! the sticky bit, and a symlink anywhere in the path are refused, and a
//! refusal creates and changes nothing.

mod common;

use common::{options, scratch, BOTH};
use ringlock::{ErrorKind, Lock, LockOptions};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

const NOBODY: u32 = 65534;

fn listing(d: &Path) -> Vec<(String, u32, u32, u64)> {
    let mut v: Vec<_> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let md = std::fs::symlink_metadata(e.path()).unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            (name, md.uid(), md.mode(), md.len())
        })
        .collect();
    v.sort();
    v
}

fn chmod(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn a_lock_file_planted_by_another_user_in_a_sticky_directory_is_refused() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("not root: cannot plant a file owned by another user; skipped");
        return;
    }
    for b in BOTH {
        let d = scratch(&format!("planted-{}", b.name()));
        chmod(&d, 0o1777);
        // an intact lock file, then handed to another user, 0666
        let path = Lock::open("jobs", &options(&d, b))
            .unwrap()
            .path()
            .to_owned();
        std::os::unix::fs::lchown(&path, Some(NOBODY), Some(NOBODY)).unwrap();
        chmod(&path, 0o666);
        let before = listing(&d);
        let bytes = std::fs::read(&path).unwrap();
        let e = Lock::open("jobs", &options(&d, b)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{b:?}: {e}");
        assert!(e.message().contains(&*path.to_string_lossy()), "{e}");
        assert!(e.message().contains("belongs to uid 65534"), "{e}");
        assert_eq!(listing(&d), before, "{b:?}: a refusal changes nothing");
        assert_eq!(std::fs::read(&path).unwrap(), bytes);
        // a caller that shares its locks with the group or others uses it
        let shared = LockOptions {
            file_mode: 0o660,
            ..options(&d, b)
        };
        let l = Lock::open("jobs", &shared).unwrap();
        l.acquire(ringlock::Mode::Exclusive, None).unwrap();
        l.release().unwrap();
        drop(l);
        std::fs::remove_dir_all(&d).unwrap();
    }
}

#[test]
fn a_directory_others_can_write_to_without_the_sticky_bit_is_refused() {
    for b in BOTH {
        let d = scratch(&format!("worldw-{}", b.name()));
        chmod(&d, 0o777);
        let e = Lock::open("jobs", &options(&d, b)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{b:?}: {e}");
        assert!(e.message().contains("not sticky"), "{e}");
        assert!(listing(&d).is_empty(), "{b:?}: nothing created");
        // under such a directory neither (it could swap the child for its own)
        let e = Lock::open("jobs", &options(&d.join("locks"), b)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{b:?}: {e}");
        assert!(listing(&d).is_empty(), "{b:?}: nothing created");
        chmod(&d, 0o1777);
        Lock::open("jobs", &options(&d.join("locks"), b)).unwrap();
        std::fs::remove_dir_all(&d).unwrap();
    }
}

#[test]
fn a_symlink_in_a_parent_component_is_not_followed() {
    for b in BOTH {
        let real = scratch(&format!("real-{}", b.name()));
        std::fs::create_dir(real.join("sub")).unwrap();
        let link = real.with_file_name(format!(
            "{}-link",
            real.file_name().unwrap().to_string_lossy()
        ));
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(&real, &link).unwrap();
        for dir in [link.join("sub"), link.join("sub").join("locks")] {
            let e = Lock::open("jobs", &options(&dir, b)).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{b:?}: {e}");
            assert!(e.message().contains("symbolic link"), "{e}");
            assert!(e.message().contains(&*link.to_string_lossy()), "{e}");
        }
        assert!(
            listing(&real.join("sub")).is_empty(),
            "{b:?}: nothing created"
        );
        std::fs::remove_file(&link).unwrap();
        std::fs::remove_dir_all(&real).unwrap();
    }
}
