//! kill -9 stress: holders killed while holding (exclusive and shared),
//! while waiting to acquire, while churning through acquire/release (so the
//! kill lands in either), and just after fork (with the forked child), half
//! of them left as zombies until the lock has recovered; meanwhile counter
//! processes (Rust, and C and Python when `make stress` provides them)
//! increment one file under the same lock. After each round the lock must
//! recover within 10 s with a token above every earlier one; at the end the
//! counter must be exact.
//!
//! `make stress` runs the ignored `stress` test: 1,000 rounds per backend
//! (`RINGLOCK_STRESS_ROUNDS`), and prints the table that docs/locks.md
//! shows. `fifty_kill_rounds_per_backend_recover` is the short version that
//! `make test` runs.

mod common;

use common::{options, read_until, scratch, spawn, wait_ready, BOTH};
use ringlock::{Backend, Lock, Mode};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const NAME: &str = "s";

/// The child side.
#[test]
#[ignore]
fn child() {
    let Ok(role) = std::env::var("RINGLOCK_ROLE") else {
        return;
    };
    let dir = PathBuf::from(std::env::var("RINGLOCK_DIR").unwrap());
    let backend: Backend = std::env::var("RINGLOCK_BACKEND").unwrap().parse().unwrap();
    let lock = Lock::open(NAME, &options(&dir, backend)).unwrap();
    let mut out = std::io::stdout();
    let forever = || loop {
        std::thread::sleep(Duration::from_secs(60));
    };
    match role.as_str() {
        "hold" | "hold_shared" => {
            let mode = if role == "hold" {
                Mode::Exclusive
            } else {
                Mode::Shared
            };
            let h = lock.acquire(mode, None).unwrap();
            writeln!(out, "ready {}", h.token).unwrap();
            out.flush().unwrap();
            forever();
        }
        "wait" => {
            writeln!(out, "ready 0").unwrap();
            out.flush().unwrap();
            lock.acquire(Mode::Exclusive, None).unwrap();
            forever();
        }
        "churn" => {
            writeln!(out, "ready 0").unwrap();
            out.flush().unwrap();
            for i in 0u64.. {
                let mode = if i % 3 == 2 {
                    Mode::Shared
                } else {
                    Mode::Exclusive
                };
                lock.acquire(mode, None).unwrap();
                lock.release().unwrap();
            }
        }
        "fork" => {
            let h = lock.acquire(Mode::Exclusive, None).unwrap();
            // SAFETY: the forked child only sleeps (async-signal-safe) until
            // it is killed; it touches nothing of this process's state.
            let pid = unsafe { libc::fork() };
            if pid == 0 {
                loop {
                    // SAFETY: pause has no preconditions.
                    unsafe { libc::pause() };
                }
            }
            writeln!(out, "ready {} {pid}", h.token).unwrap();
            out.flush().unwrap();
            forever();
        }
        "counter" => {
            let file = dir.join("counter");
            let stop = dir.join("stop");
            let (mut n, mut last) = (0u64, 0u64);
            while !stop.exists() {
                let h = lock
                    .acquire(Mode::Exclusive, Some(Duration::from_secs(30)))
                    .unwrap();
                assert!(h.token > last, "token {} after {last}", h.token);
                last = h.token;
                let v: u64 = std::fs::read_to_string(&file)
                    .map(|s| s.trim().parse().unwrap())
                    .unwrap_or(0);
                std::fs::write(&file, (v + 1).to_string()).unwrap();
                lock.release().unwrap();
                n += 1;
                std::thread::sleep(Duration::from_micros(300));
            }
            writeln!(out, "counted {n}").unwrap();
        }
        r => panic!("unknown role {r}"),
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Scenario {
    /// killed while holding exclusive
    Holding,
    /// killed while holding shared
    HoldingShared,
    /// killed while blocked in acquire (shm: half of them as a writer that
    /// owns the lock word and waits for a reader to drain)
    Acquiring,
    /// killed at a random moment of an acquire/release loop
    Churning,
    /// killed holding, just after it forked (the forked child killed too)
    AfterFork,
}

const SCENARIOS: [Scenario; 5] = [
    Scenario::Holding,
    Scenario::HoldingShared,
    Scenario::Acquiring,
    Scenario::Churning,
    Scenario::AfterFork,
];

#[derive(Default)]
struct Tally {
    rounds: u32,
    died_reported: u32,
    zombies: u32,
    waits: Vec<Duration>,
}

/// One round: start a victim, kill it, recover the lock. Returns whether the
/// recovering acquisition was told that the previous owner died.
fn round(
    lock: &Lock,
    d: &Path,
    b: Backend,
    s: Scenario,
    r: u32,
    last: &mut u64,
    zombie: bool,
    t: &mut Tally,
) {
    let ctx = format!("{b:?} round {r} {s:?}");
    let mut extra_pid = None;
    let mut pre_hold = false;
    let mut k: Child = match s {
        Scenario::Holding | Scenario::HoldingShared => {
            let role = if s == Scenario::Holding {
                "hold"
            } else {
                "hold_shared"
            };
            let mut k = spawn(role, d, b, &[]);
            let token = wait_ready(&mut k);
            assert!(token >= *last, "{ctx}: token {token} after {last}");
            k
        }
        Scenario::Acquiring => {
            let mode = if b == Backend::Shm && r % 2 == 1 {
                Mode::Shared
            } else {
                Mode::Exclusive
            };
            let h = lock
                .acquire(mode, Some(Duration::from_secs(10)))
                .unwrap_or_else(|e| panic!("{ctx}: {e}"));
            if mode == Mode::Exclusive {
                assert!(h.token > *last, "{ctx}");
                *last = h.token;
            }
            pre_hold = true;
            let mut k = spawn("wait", d, b, &[]);
            wait_ready(&mut k);
            std::thread::sleep(Duration::from_millis(3)); // into the wait
            k
        }
        Scenario::Churning => {
            let mut k = spawn("churn", d, b, &[]);
            wait_ready(&mut k);
            // 0 to 3 ms into the loop: the kill lands anywhere in it
            let x = (u64::from(r).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 40) % 3000;
            std::thread::sleep(Duration::from_micros(x));
            k
        }
        Scenario::AfterFork => {
            let mut k = spawn("fork", d, b, &[]);
            let line = read_until(&mut k, "ready").expect("fork child ready");
            let pid: i32 = line.split_whitespace().nth(2).unwrap().parse().unwrap();
            extra_pid = Some(pid);
            k
        }
    };
    let start = Instant::now();
    k.kill().unwrap();
    if let Some(pid) = extra_pid {
        // SAFETY: SIGKILL to the grandchild that our child just forked.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    if !zombie {
        k.wait().unwrap();
    } else {
        t.zombies += 1;
    }
    if pre_hold {
        lock.release().unwrap_or_else(|e| panic!("{ctx}: {e}"));
    }
    let h = lock
        .acquire(Mode::Exclusive, Some(Duration::from_secs(10)))
        .unwrap_or_else(|e| panic!("{ctx}: the lock did not recover: {e}"));
    t.waits.push(start.elapsed());
    assert!(h.token > *last, "{ctx}: token {} after {last}", h.token);
    *last = h.token;
    if matches!(s, Scenario::Holding | Scenario::AfterFork) {
        assert!(h.previous_owner_died, "{ctx}: the death was not reported");
    }
    t.died_reported += u32::from(h.previous_owner_died);
    t.rounds += 1;
    lock.release().unwrap_or_else(|e| panic!("{ctx}: {e}"));
    if zombie {
        k.wait().unwrap();
    }
}

/// Counter processes of other languages: (program + arguments before the
/// lock name, label), from `make stress`.
fn peers() -> Vec<(Vec<String>, &'static str)> {
    let mut v = Vec::new();
    if let Ok(c) = std::env::var("RINGLOCK_STRESS_C") {
        v.push((vec![c], "c"));
    }
    if let Ok(py) = std::env::var("RINGLOCK_STRESS_PYTHON") {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/python/lock.py");
        v.push((vec![py, script.to_string_lossy().into_owned()], "python"));
    }
    v
}

const PEER_INCREMENTS: u64 = 2000;

fn run(rounds: u32, with_peers: bool) -> String {
    let mut report = String::from(
        "| backend | killed | rounds | recovered | told the owner died | left as zombies \
         | recovery median | p99 | max |\n|---|---|---|---|---|---|---|---|---|\n",
    );
    let mut counters_line = String::new();
    for b in BOTH {
        let d = scratch(&format!("stress-{}", b.name()));
        let lock = Lock::open(NAME, &options(&d, b)).unwrap();
        let rust: Vec<Child> = (0..2).map(|_| spawn("counter", &d, b, &[])).collect();
        let peers: Vec<(Child, &str)> = if with_peers { peers() } else { Vec::new() }
            .into_iter()
            .map(|(argv, label)| {
                let c = Command::new(&argv[0])
                    .args(&argv[1..])
                    .args([
                        NAME,
                        &d.join("counter").to_string_lossy(),
                        &PEER_INCREMENTS.to_string(),
                        b.name(),
                        &d.to_string_lossy(),
                    ])
                    .stdout(Stdio::piped())
                    .spawn()
                    .unwrap_or_else(|e| panic!("{argv:?}: {e}"));
                (c, label)
            })
            .collect();
        let mut tallies: Vec<Tally> = SCENARIOS.iter().map(|_| Tally::default()).collect();
        let mut last = 0u64;
        for r in 0..rounds {
            let i = (r as usize) % SCENARIOS.len();
            let zombie = (r as usize / SCENARIOS.len()) % 2 == 1;
            round(
                &lock,
                &d,
                b,
                SCENARIOS[i],
                r,
                &mut last,
                zombie,
                &mut tallies[i],
            );
        }
        std::fs::write(d.join("stop"), b"").unwrap();
        let mut total = 0u64;
        let mut parts = Vec::new();
        for mut k in rust {
            let line = read_until(&mut k, "counted").expect("counter report");
            assert!(k.wait().unwrap().success());
            total += line["counted ".len()..].parse::<u64>().unwrap();
        }
        parts.push(format!("rust {total}"));
        for (c, label) in peers {
            let out = c.wait_with_output().unwrap();
            assert!(out.status.success(), "{label} counter failed");
            assert!(
                String::from_utf8_lossy(&out.stdout)
                    .contains(&format!("increments={PEER_INCREMENTS}")),
                "{label}"
            );
            total += PEER_INCREMENTS;
            parts.push(format!("{label} {PEER_INCREMENTS}"));
        }
        let file: u64 = std::fs::read_to_string(d.join("counter"))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        assert_eq!(file, total, "{b:?}: the counter is not exact ({parts:?})");
        counters_line += &format!(
            "{}: counter {file} = {} (exact)\n",
            b.name(),
            parts.join(" + ")
        );
        for (s, t) in SCENARIOS.iter().zip(&mut tallies) {
            t.waits.sort();
            let q = |p: f64| t.waits[((t.waits.len() - 1) as f64 * p).round() as usize];
            report += &format!(
                "| {} | {s:?} | {} | {} | {} | {} | {:.1} ms | {:.1} ms | {:.1} ms |\n",
                b.name(),
                t.rounds,
                t.waits.len(),
                t.died_reported,
                t.zombies,
                q(0.5).as_secs_f64() * 1e3,
                q(0.99).as_secs_f64() * 1e3,
                q(1.0).as_secs_f64() * 1e3,
            );
        }
        drop(lock);
        std::fs::remove_dir_all(&d).unwrap();
    }
    report + "\n" + &counters_line
}

#[test]
fn fifty_kill_rounds_per_backend_recover() {
    let report = run(50, false);
    eprintln!("{report}");
}

#[test]
#[ignore]
fn stress() {
    let rounds = std::env::var("RINGLOCK_STRESS_ROUNDS")
        .map(|s| s.parse().unwrap())
        .unwrap_or(1000);
    let t = Instant::now();
    let report = run(rounds, true);
    let report = format!(
        "{report}\n{rounds} rounds per backend in {:.0} s\n",
        t.elapsed().as_secs_f64()
    );
    println!("{report}");
    if let Ok(path) = std::env::var("RINGLOCK_STRESS_REPORT") {
        std::fs::write(path, &report).unwrap();
    }
}
