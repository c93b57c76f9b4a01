//! Real etcd servers for the tests: one member, or a cluster of several, on
//! free 127.0.0.1 ports, data in a fresh directory under /dev/shm, healthy
//! (GET /health) before use, killed by pid when dropped.
//!
//! Without an `etcd` binary on PATH the tests that need one are skipped
//! with a message on stderr, unless RINGLOCK_REQUIRE_ETCD is set (as
//! `make test-etcd` does, after tests/lib/need-etcd.sh): then they fail.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
use std::time::{Duration, Instant};

static CLUSTERS: AtomicU32 = AtomicU32::new(0);

struct Member {
    name: String,
    client: u16,
    peer: u16,
    dir: PathBuf,
    child: Option<Child>,
}

/// A running etcd cluster (one member or more).
pub struct Etcd {
    members: Vec<Member>,
    initial_cluster: String,
    token: String,
    root: PathBuf,
}

/// Whether etcd is on PATH. When it is not: panics if RINGLOCK_REQUIRE_ETCD
/// is set, else says on stderr that `test` is skipped and returns false.
/// RINGLOCK_SKIP_ETCD (set by `make test-rust`, which leaves them to `make
/// test-etcd`) skips the etcd tests, saying so.
pub fn available(test: &str) -> bool {
    if std::env::var_os("RINGLOCK_SKIP_ETCD").is_some_and(|v| !v.is_empty()) {
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED {test} here: RINGLOCK_SKIP_ETCD is set (make test-etcd runs it)"
        );
        return false;
    }
    let found = std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|d| d.join("etcd").is_file()));
    if found {
        return true;
    }
    if std::env::var_os("RINGLOCK_REQUIRE_ETCD").is_some_and(|v| !v.is_empty()) {
        panic!("RINGLOCK_REQUIRE_ETCD is set but no etcd is on PATH (tests/lib/need-etcd.sh installs it)");
    }
    // Straight to the file descriptor: the test harness does not capture it,
    // so the skip shows even when the test passes.
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {test}: etcd is not installed (apt-get install etcd-server, or set RINGLOCK_REQUIRE_ETCD=1 to fail instead)"
    );
    false
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Etcd {
    /// A healthy one-member etcd, or `None` (skipped) without etcd.
    pub fn start(test: &str) -> Option<Etcd> {
        Etcd::cluster(test, 1)
    }

    /// A healthy `n`-member cluster, or `None` (skipped) without etcd.
    pub fn cluster(test: &str, n: usize) -> Option<Etcd> {
        if !available(test) {
            return None;
        }
        for _ in 0..3 {
            if let Some(etcd) = Etcd::try_cluster(n) {
                return Some(etcd);
            }
        }
        panic!("etcd did not become healthy (three tries); see its log under /dev/shm");
    }

    fn try_cluster(n: usize) -> Option<Etcd> {
        let id = CLUSTERS.fetch_add(1, Relaxed);
        let token = format!("ringlock-test-{}-{id}", std::process::id());
        let root = PathBuf::from("/dev/shm").join(&token);
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        let members: Vec<Member> = (0..n)
            .map(|i| Member {
                name: format!("m{i}"),
                client: free_port(),
                peer: free_port(),
                dir: root.join(format!("m{i}")),
                child: None,
            })
            .collect();
        let initial_cluster = members
            .iter()
            .map(|m| format!("{}=http://127.0.0.1:{}", m.name, m.peer))
            .collect::<Vec<_>>()
            .join(",");
        let mut etcd = Etcd {
            members,
            initial_cluster,
            token,
            root,
        };
        for i in 0..n {
            etcd.spawn(i);
        }
        let healthy = (0..n).all(|i| etcd.wait_healthy(i, Duration::from_secs(15)));
        healthy.then_some(etcd)
    }

    fn spawn(&mut self, i: usize) {
        let m = &self.members[i];
        let client = format!("http://127.0.0.1:{}", m.client);
        let peer = format!("http://127.0.0.1:{}", m.peer);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.root.join(format!("{}.log", m.name)))
            .unwrap();
        let child = Command::new("etcd")
            .args(["--name", &m.name])
            .arg("--data-dir")
            .arg(&m.dir)
            .args(["--listen-client-urls", &client])
            .args(["--advertise-client-urls", &client])
            .args(["--listen-peer-urls", &peer])
            .args(["--initial-advertise-peer-urls", &peer])
            .args(["--initial-cluster", &self.initial_cluster])
            .args(["--initial-cluster-token", &self.token])
            .args(["--initial-cluster-state", "new"])
            .args(["--heartbeat-interval", "50", "--election-timeout", "500"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("cannot start etcd");
        self.members[i].child = Some(child);
    }

    fn wait_healthy(&mut self, i: usize, within: Duration) -> bool {
        let until = Instant::now() + within;
        while Instant::now() < until {
            if let Some(child) = self.members[i].child.as_mut() {
                if child.try_wait().unwrap().is_some() {
                    return false; // exited (a port taken?)
                }
            }
            if self
                .http(i, "GET", "/health", "")
                .is_some_and(|body| body.contains("\"health\":\"true\""))
            {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// A plain HTTP/1.0 request to member `i`: the body of the answer.
    pub fn http(&self, i: usize, method: &str, path: &str, body: &str) -> Option<String> {
        let addr = format!("127.0.0.1:{}", self.members[i].client);
        let mut s =
            TcpStream::connect_timeout(&addr.parse().unwrap(), Duration::from_secs(1)).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
        write!(
            s,
            "{method} {path} HTTP/1.0\r\nHost: {addr}\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .ok()?;
        let mut answer = String::new();
        s.read_to_string(&mut answer).ok()?;
        answer.split_once("\r\n\r\n").map(|(_, b)| b.to_owned())
    }

    /// The client URL of member `i`.
    pub fn endpoint(&self, i: usize) -> String {
        format!("http://127.0.0.1:{}", self.members[i].client)
    }

    /// Every member's client URL.
    pub fn endpoints(&self) -> Vec<String> {
        (0..self.members.len()).map(|i| self.endpoint(i)).collect()
    }

    /// Every member's client URL, comma-separated (for a child's env).
    pub fn endpoint_list(&self) -> String {
        self.endpoints().join(",")
    }

    /// Kills member `i` (SIGKILL) and reaps it.
    pub fn kill(&mut self, i: usize) {
        if let Some(mut child) = self.members[i].child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts member `i` again on its data and waits until it is healthy.
    pub fn restart(&mut self, i: usize) {
        self.kill(i);
        self.spawn(i);
        assert!(
            self.wait_healthy(i, Duration::from_secs(15)),
            "etcd member {i} did not come back"
        );
    }

    /// The member that leads the cluster now (asked of member `ask`).
    pub fn leader(&self, ask: usize) -> Option<usize> {
        let status = self.http(ask, "POST", "/v3/maintenance/status", "{}")?;
        let leader = json_field(&status, "leader")?;
        (0..self.members.len()).find(|&i| {
            self.http(i, "POST", "/v3/maintenance/status", "{}")
                .and_then(|s| json_field(&s, "member_id"))
                .is_some_and(|id| id == leader)
        })
    }
}

/// The string value of `"field":"..."` in a JSON text.
fn json_field(text: &str, field: &str) -> Option<String> {
    let pat = format!("\"{field}\":\"");
    let start = text.find(&pat)? + pat.len();
    let end = text[start..].find('"')? + start;
    Some(text[start..end].to_owned())
}

impl Drop for Etcd {
    fn drop(&mut self) {
        for i in 0..self.members.len() {
            self.kill(i);
        }
        let _ = std::fs::remove_dir_all(&self.root);
    }
}
