//! Helpers for the tests that run real processes: the test binary re-runs
//! itself as the child processes (its ignored test `child` dispatches on
//! RINGLOCK_ROLE).
#![allow(dead_code)] // each test binary uses its own part

use ringlock::{Backend, LockOptions};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub const BOTH: [Backend; 2] = [Backend::Shm, Backend::File];

/// A fresh, empty directory for one test.
pub fn scratch(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ringlock-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

pub fn options(dir: &Path, backend: Backend) -> LockOptions {
    LockOptions {
        backend,
        dir: Some(dir.to_owned()),
        file_mode: 0,
    }
}

/// Starts this binary as a child playing `role`, stdin and stdout piped.
pub fn spawn(role: &str, dir: &Path, backend: Backend, extra: &[(&str, &str)]) -> Child {
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
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::inherit());
    for (k, v) in extra {
        c.env(k, v);
    }
    c.spawn().unwrap()
}

/// Reads the child's stdout up to a line starting with `prefix`; returns
/// that line (`None` if the child's stdout ended first).
pub fn read_until(child: &mut Child, prefix: &str) -> Option<String> {
    let out = child.stdout.as_mut().unwrap();
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        if out.read(&mut byte).ok()? != 1 {
            return None;
        }
        if byte[0] == b'\n' {
            let s = String::from_utf8_lossy(&line).to_string();
            if s.starts_with(prefix) {
                return Some(s);
            }
            line.clear();
        } else {
            line.push(byte[0]);
        }
    }
}

/// The token in the child's "ready <token>" line.
pub fn wait_ready(child: &mut Child) -> u64 {
    let line = read_until(child, "ready").expect("child ended before it was ready");
    line["ready".len()..].trim().parse().unwrap_or(0)
}

pub mod etcd;
#[cfg(feature = "etcd")]
pub mod etcd_agent;
