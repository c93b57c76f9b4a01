//! What the etcd lock tests share (etcd_lock.rs, etcd_rwlock.rs): one test
//! at a time, the client options, the fencing store, and agent children
//! (this test binary again, by role) driven by command lines.

use super::{read_until, scratch as common_scratch, spawn as common_spawn};
use ringlock::etcd::{Client, ClientOptions};
use ringlock::Backend;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

pub const TTL: Duration = Duration::from_secs(2);

static SERIAL: Mutex<()> = Mutex::new(());

/// One etcd test at a time (they measure hand-off times).
pub fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

pub fn options() -> ClientOptions {
    ClientOptions {
        ttl: TTL,
        namespace: "test".into(),
        request_timeout: Duration::from_secs(3),
    }
}

pub fn connect(endpoints: &[String]) -> Client {
    Client::connect(endpoints, &options()).unwrap()
}

/// Three numbers in a file, read and written under flock (the store's own
/// serialisation, not the lock's: reading the value and writing it back are
/// two separate requests). As the fencing store, `value max_token rejected`:
/// a write whose token is lower than the highest seen is rejected and
/// counted. Other uses keep other triples (etcd_rwlock.rs's occupancy
/// record).
pub struct Store(pub PathBuf);

impl Store {
    pub fn create(path: PathBuf) -> Store {
        std::fs::write(&path, "0 0 0\n").unwrap();
        Store(path)
    }

    pub fn with<T>(&self, f: impl FnOnce(&mut [u64; 3]) -> T) -> T {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&self.0)
            .unwrap();
        // SAFETY: flock on a descriptor we own; released when `file` closes.
        assert_eq!(unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) }, 0);
        let text = std::fs::read_to_string(&self.0).unwrap();
        let mut v = [0u64; 3];
        for (slot, word) in v.iter_mut().zip(text.split_whitespace()) {
            *slot = word.parse().unwrap();
        }
        let out = f(&mut v);
        std::fs::write(&self.0, format!("{} {} {}\n", v[0], v[1], v[2])).unwrap();
        out
    }

    pub fn read(&self) -> (u64, u64, u64) {
        self.with(|v| (v[0], v[1], v[2]))
    }

    /// Writes `value` with `token`; false if the token is stale.
    pub fn write(&self, token: u64, value: u64) -> bool {
        self.with(|v| {
            if token < v[1] {
                v[2] += 1;
                false
            } else {
                v[0] = value;
                v[1] = token;
                true
            }
        })
    }

    /// One increment under a hold: read, then a fenced write of value + 1.
    pub fn increment(&self, token: u64) -> bool {
        let (value, _, _) = self.read();
        self.write(token, value + 1)
    }
}

pub fn scratch(tag: &str) -> PathBuf {
    common_scratch(&format!("etcd-{tag}"))
}

/// A child in `role` with the endpoints and `<dir>/store` in its environment.
pub fn spawn(role: &str, dir: &Path, endpoints: &str, extra: &[(&str, &str)]) -> Child {
    let store = dir.join("store");
    let mut env = vec![
        ("RINGLOCK_ETCD", endpoints),
        ("RINGLOCK_STORE", store.to_str().unwrap()),
    ];
    env.extend_from_slice(extra);
    common_spawn(role, dir, Backend::Shm, &env)
}

/// Sends one command line to an agent child.
pub fn send(child: &mut Child, line: &str) {
    let stdin = child.stdin.as_mut().unwrap();
    writeln!(stdin, "{line}").unwrap();
    stdin.flush().unwrap();
}

/// Sends `command` and returns the rest of the agent's answer line.
pub fn ask(child: &mut Child, command: &str) -> String {
    send(child, command);
    answer(child, command.split(' ').next().unwrap())
}

/// The rest of the next line starting with `word`.
pub fn answer(child: &mut Child, word: &str) -> String {
    let line =
        read_until(child, word).unwrap_or_else(|| panic!("child ended before answering {word:?}"));
    line[word.len()..].trim().to_owned()
}

pub fn signal(child: &Child, sig: i32) {
    // SAFETY: sending a signal to our own child's pid.
    assert_eq!(unsafe { libc::kill(child.id() as i32, sig) }, 0);
}

pub fn kill(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

pub fn kind_word(e: &ringlock::Error) -> String {
    format!("{:?}", e.kind())
}
