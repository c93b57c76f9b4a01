//! kill -9 stress. Each round starts a victim that uses the lock, kills it
//! with SIGKILL and takes the lock back: victims killed while holding
//! (exclusive and shared), while blocked in acquire, at a random point of an
//! acquire/release loop (so in acquire, in the hold or in release), and just
//! after forking (the forked child killed too); every other round leaves the
//! victim a zombie until the lock has recovered. With `make stress` the
//! victims include C and Python processes too (lock_c and lock.py churning,
//! a Python holder). Meanwhile two Rust counter processes (and, with `make
//! stress`, a C and a Python one, started again after each 1,000
//! increments) increment one file under the lock.
//!
//! Checks: every round recovers within 10 s; each process's exclusive tokens
//! strictly increase, and the victims' tokens never go below what was handed
//! out before; a holder that died holding is reported to an acquirer (the
//! Rust acquirers log each report with its token, so the round finds the one
//! that follows its death; reports that went to a C or Python counter are
//! matched against their totals); no two exclusive holders: the Rust holders
//! create a guard file with O_EXCL inside each hold, and the counter file
//! ends exact.
//!
//! `make stress` runs the ignored `stress` test, 1,000 rounds per backend
//! (`RINGLOCK_STRESS_ROUNDS`), and prints the table docs/locks.md shows.
//! `fifty_kill_rounds_per_backend_recover` is the short Rust-only version
//! that `make test` runs.

mod common;

use common::{options, read_until, scratch, spawn, wait_ready, BOTH};
use ringlock::{Backend, Hold, Lock, Mode};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const NAME: &str = "s";
const RECOVERY: Duration = Duration::from_secs(10);

/// What a Rust holder does inside every exclusive hold: log a death report
/// and take the guard that no other holder may have.
fn enter(d: &Path, h: &Hold) {
    if h.previous_owner_died {
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(d.join("died"))
            .unwrap();
        writeln!(f, "{}", h.token).unwrap();
    }
    if let Err(e) = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(d.join("guard"))
    {
        panic!("two exclusive holders at token {}: guard: {e}", h.token);
    }
}

fn leave(d: &Path) {
    std::fs::remove_file(d.join("guard")).unwrap();
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
    // handles and guards both: the victims and counters below take some
    // holds through the handle, some as guards
    let lock = std::sync::Arc::new(Lock::open(NAME, &options(&dir, backend)).unwrap());
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
                if i % 2 == 0 {
                    lock.acquire(mode, None).unwrap();
                    lock.release().unwrap();
                } else {
                    lock.guard(mode, None).unwrap().release().unwrap();
                }
            }
        }
        "fork" => {
            // a guard: its description must be closed in the forked child
            let g = lock.guard(Mode::Exclusive, None).unwrap();
            let h = g.hold();
            // SAFETY: the forked child only calls pause (async-signal-safe)
            // until it is killed; it touches nothing of this process's state.
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
                let t = Some(Duration::from_secs(30));
                let g = if n % 2 == 1 {
                    Some(lock.guard(Mode::Exclusive, t).unwrap())
                } else {
                    None
                };
                let h = match &g {
                    Some(g) => g.hold(),
                    None => lock.acquire(Mode::Exclusive, t).unwrap(),
                };
                enter(&dir, &h);
                assert!(h.token > last, "token {} after {last}", h.token);
                last = h.token;
                let v: u64 = std::fs::read_to_string(&file)
                    .map(|s| s.trim().parse().unwrap())
                    .unwrap_or(0);
                std::fs::write(&file, (v + 1).to_string()).unwrap();
                leave(&dir);
                match g {
                    Some(g) => g.release().unwrap(),
                    None => lock.release().unwrap(),
                }
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
    /// killed while blocked in acquire (shm: every other one as a writer
    /// that owns the lock word and waits for a reader to drain)
    Acquiring,
    /// killed at a random moment of an acquire/release loop
    Churning,
    /// killed holding, just after it forked (the forked child killed too)
    AfterFork,
    /// examples/c/lock.c killed at a random moment of its increments
    CChurning,
    /// a Python process killed while holding exclusive
    PyHolding,
    /// examples/python/lock.py killed at a random moment of its increments
    PyChurning,
}

const RUST: [Scenario; 5] = [
    Scenario::Holding,
    Scenario::HoldingShared,
    Scenario::Acquiring,
    Scenario::Churning,
    Scenario::AfterFork,
];

/// The C and Python programs (`make stress` names them).
struct Foreign {
    lock_c: String,
    python: String,
}

impl Foreign {
    fn from_env() -> Option<Foreign> {
        Some(Foreign {
            lock_c: std::env::var("RINGLOCK_STRESS_C").ok()?,
            python: std::env::var("RINGLOCK_STRESS_PYTHON").ok()?,
        })
    }

    fn lock_py() -> String {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../examples/python/lock.py")
            .to_string_lossy()
            .into_owned()
    }

    /// `argv` with lock.c's arguments: increments of `counter` under the
    /// stress lock.
    fn counter(argv: &[String], counter: &Path, n: u64, d: &Path, b: Backend) -> Child {
        Command::new(&argv[0])
            .args(&argv[1..])
            .args([
                NAME,
                &counter.to_string_lossy(),
                &n.to_string(),
                b.name(),
                &d.to_string_lossy(),
            ])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{argv:?}: {e}"))
    }
}

const PY_HOLD: &str = "\
import sys, time, ringlock
name, backend, d = sys.argv[1:4]
lock = ringlock.Lock(name, backend=backend, dir=d)
lock.acquire()
print('ready', lock.hold.token, flush=True)
time.sleep(3600)
";

#[derive(Default)]
struct Tally {
    rounds: u32,
    /// rounds whose victim died holding exclusive, and of them those whose
    /// report a Rust acquirer logged
    must_report: u32,
    reported: u32,
    zombies: u32,
    waits: Vec<Duration>,
}

/// Tokens that Rust acquirers were told "the previous owner died" with.
fn death_reports(d: &Path) -> Vec<u64> {
    std::fs::read_to_string(d.join("died"))
        .unwrap_or_default()
        .lines()
        .map(|l| l.parse().unwrap())
        .collect()
}

/// The state of one backend's run.
struct Run<'a> {
    lock: Lock,
    d: PathBuf,
    b: Backend,
    foreign: Option<&'a Foreign>,
    /// the highest exclusive token seen so far
    last: u64,
}

impl Run<'_> {
    /// An exclusive acquisition by this process, with the guard.
    fn take(&mut self, ctx: &str) -> Result<Hold, String> {
        let h = self
            .lock
            .acquire(Mode::Exclusive, Some(RECOVERY))
            .map_err(|e| format!("{ctx}: the lock did not recover: {e}"))?;
        enter(&self.d, &h);
        if h.token <= self.last {
            return Err(format!("{ctx}: token {} after {}", h.token, self.last));
        }
        self.last = h.token;
        Ok(h)
    }

    fn give(&self, ctx: &str) -> Result<(), String> {
        leave(&self.d);
        self.lock.release().map_err(|e| format!("{ctx}: {e}"))
    }

    /// Waits until a churning C or Python victim has done an increment,
    /// then a pseudo-random 0 to 3 ms more.
    fn until_in_its_loop(&self, junk: &Path, r: u32) {
        let t = Instant::now();
        while std::fs::metadata(junk).map_or(true, |m| m.len() == 0) && t.elapsed() < RECOVERY {
            std::thread::sleep(Duration::from_micros(200));
        }
        std::thread::sleep(jitter(r));
    }

    /// One round. Returns an error instead of panicking so that the table
    /// still shows what happened; after a recovery failure the run stops.
    fn round(&mut self, s: Scenario, r: u32, zombie: bool, t: &mut Tally) -> Result<(), String> {
        let (d, b) = (self.d.clone(), self.b);
        let ctx = format!("{b:?} round {r} {s:?}");
        let mut extra_pid = None;
        let mut pre_hold = None;
        // the token the victim died holding, when it died holding exclusive
        let mut died_at = None;
        let junk = d.join("junk");
        let _ = std::fs::remove_file(&junk);
        let mut k: Child = match s {
            Scenario::Holding | Scenario::HoldingShared | Scenario::PyHolding => {
                let mut k = match s {
                    Scenario::Holding => spawn("hold", &d, b, &[]),
                    Scenario::HoldingShared => spawn("hold_shared", &d, b, &[]),
                    _ => Command::new(&self.foreign.unwrap().python)
                        .args(["-c", PY_HOLD, NAME, b.name(), &d.to_string_lossy()])
                        .stdout(Stdio::piped())
                        .spawn()
                        .unwrap(),
                };
                let token = wait_ready(&mut k);
                if s == Scenario::HoldingShared {
                    if token < self.last {
                        return Err(format!("{ctx}: shared token {token} < {}", self.last));
                    }
                } else {
                    if token <= self.last {
                        return Err(format!("{ctx}: token {token} after {}", self.last));
                    }
                    self.last = token;
                    died_at = Some(token);
                }
                k
            }
            Scenario::Acquiring => {
                let mode = if b == Backend::Shm && r % 2 == 1 {
                    Mode::Shared
                } else {
                    Mode::Exclusive
                };
                if mode == Mode::Exclusive {
                    self.take(&ctx)?;
                } else {
                    self.lock
                        .acquire(mode, Some(RECOVERY))
                        .map_err(|e| format!("{ctx}: {e}"))?;
                }
                pre_hold = Some(mode);
                let mut k = spawn("wait", &d, b, &[]);
                wait_ready(&mut k);
                std::thread::sleep(Duration::from_millis(3)); // into the wait
                k
            }
            Scenario::Churning => {
                let mut k = spawn("churn", &d, b, &[]);
                wait_ready(&mut k);
                std::thread::sleep(jitter(r));
                k
            }
            Scenario::AfterFork => {
                let mut k = spawn("fork", &d, b, &[]);
                let line = read_until(&mut k, "ready").expect("fork child ready");
                let mut w = line.split_whitespace().skip(1);
                let token: u64 = w.next().unwrap().parse().unwrap();
                extra_pid = Some(w.next().unwrap().parse::<i32>().unwrap());
                if token <= self.last {
                    return Err(format!("{ctx}: token {token} after {}", self.last));
                }
                self.last = token;
                died_at = Some(token);
                k
            }
            Scenario::CChurning | Scenario::PyChurning => {
                let f = self.foreign.unwrap();
                let argv = if s == Scenario::CChurning {
                    vec![f.lock_c.clone()]
                } else {
                    vec![f.python.clone(), Foreign::lock_py()]
                };
                let k = Foreign::counter(&argv, &junk, 1 << 40, &d, b);
                self.until_in_its_loop(&junk, r);
                k
            }
        };
        let start = Instant::now();
        k.kill().unwrap();
        if let Some(pid) = extra_pid {
            // SAFETY: SIGKILL to the grandchild that our child just forked.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        if zombie {
            t.zombies += 1;
        } else {
            k.wait().unwrap();
        }
        match pre_hold {
            Some(Mode::Exclusive) => self.give(&ctx)?,
            Some(Mode::Shared) => self.lock.release().map_err(|e| format!("{ctx}: {e}"))?,
            None => {}
        }
        let h = self.take(&ctx)?;
        t.waits.push(start.elapsed());
        if let Some(dead) = died_at {
            t.must_report += 1;
            // the first exclusive acquisition after the death is told
            if death_reports(&d).iter().any(|&x| x > dead && x <= h.token) {
                t.reported += 1;
            }
        }
        t.rounds += 1;
        self.give(&ctx)?;
        if zombie {
            k.wait().unwrap();
        }
        Ok(())
    }
}

/// 0 to 3 ms, pseudo-random by round: the kill lands anywhere in a loop.
fn jitter(r: u32) -> Duration {
    Duration::from_micros((u64::from(r).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 40) % 3000)
}

/// The increments of one run of a C or Python counter; each is started
/// again when it ends, until the rounds are over.
const PEER_INCREMENTS: u64 = 1000;

/// A C or Python counter (lock_c, lock.py) and what its finished runs did.
struct Peer {
    argv: Vec<String>,
    label: &'static str,
    child: Option<Child>,
    runs: u64,
    /// acquisitions that were told the previous owner died
    told: u32,
}

impl Peer {
    fn start(&mut self, counter: &Path, d: &Path, b: Backend) {
        self.child = Some(Foreign::counter(&self.argv, counter, PEER_INCREMENTS, d, b));
    }

    /// Collects a run that ended (waits for it if `finish`); starts the next
    /// unless `finish`.
    fn poll(
        &mut self,
        finish: bool,
        counter: &Path,
        d: &Path,
        b: Backend,
        failures: &mut Vec<String>,
    ) {
        let Some(c) = self.child.as_mut() else { return };
        if !finish && c.try_wait().unwrap().is_none() {
            return;
        }
        let out = self.child.take().unwrap().wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let field = |k: &str| {
            text.split_whitespace()
                .find_map(|w| w.strip_prefix(k))
                .and_then(|v| v.parse::<u64>().ok())
        };
        if !out.status.success() || field("increments=") != Some(PEER_INCREMENTS) {
            failures.push(format!("{b:?}: the {} counter failed: {text}", self.label));
            return;
        }
        self.runs += 1;
        self.told += field("died_seen=").unwrap_or(0) as u32;
        if !finish {
            self.start(counter, d, b);
        }
    }
}

fn run(rounds: u32, foreign: Option<&Foreign>) -> String {
    let mut report = String::from(
        "| backend | victim | rounds | recovered | died holding | reported to Rust \
         | zombies | recovery median | p99 | max |\n|---|---|---|---|---|---|---|---|---|---|\n",
    );
    let mut failures = Vec::new();
    let mut summary = String::new();
    let scenarios: Vec<Scenario> = if foreign.is_some() {
        let mut v = RUST.to_vec();
        v.extend([
            Scenario::CChurning,
            Scenario::PyHolding,
            Scenario::PyChurning,
        ]);
        v
    } else {
        RUST.to_vec()
    };
    for b in BOTH {
        let d = scratch(&format!("stress-{}", b.name()));
        let mut run = Run {
            lock: Lock::open(NAME, &options(&d, b)).unwrap(),
            d: d.clone(),
            b,
            foreign,
            last: 0,
        };
        let counter = d.join("counter");
        let rust: Vec<Child> = (0..2).map(|_| spawn("counter", &d, b, &[])).collect();
        let mut peers: Vec<Peer> = match foreign {
            Some(f) => vec![
                (vec![f.lock_c.clone()], "c"),
                (vec![f.python.clone(), Foreign::lock_py()], "python"),
            ],
            None => Vec::new(),
        }
        .into_iter()
        .map(|(argv, label)| Peer {
            argv,
            label,
            child: None,
            runs: 0,
            told: 0,
        })
        .collect();
        for p in &mut peers {
            p.start(&counter, &d, b);
        }
        let mut tallies: Vec<Tally> = scenarios.iter().map(|_| Tally::default()).collect();
        let began = Instant::now();
        for r in 0..rounds {
            let i = (r as usize) % scenarios.len();
            let zombie = (r as usize / scenarios.len()) % 2 == 1;
            if let Err(e) = run.round(scenarios[i], r, zombie, &mut tallies[i]) {
                let fatal = e.contains("did not recover");
                failures.push(e);
                if fatal {
                    break;
                }
            }
            for p in &mut peers {
                p.poll(false, &counter, &d, b, &mut failures);
            }
        }
        let took = began.elapsed();
        std::fs::write(d.join("stop"), b"").unwrap();
        let mut total = 0u64;
        let mut parts = Vec::new();
        let mut rust_counted = 0u64;
        for mut k in rust {
            let line = read_until(&mut k, "counted");
            let ok = k.wait().unwrap().success();
            match line {
                Some(l) if ok => rust_counted += l["counted ".len()..].parse::<u64>().unwrap(),
                _ => failures.push(format!("{b:?}: a Rust counter failed")),
            }
        }
        total += rust_counted;
        parts.push(format!("rust {rust_counted}"));
        // reports that went to a C or Python counter
        let mut foreign_told = 0u32;
        for p in &mut peers {
            p.poll(true, &counter, &d, b, &mut failures);
            foreign_told += p.told;
            total += p.runs * PEER_INCREMENTS;
            parts.push(format!("{} {} x {PEER_INCREMENTS}", p.label, p.runs));
        }
        let file: u64 = std::fs::read_to_string(&counter)
            .map(|s| s.trim().parse().unwrap())
            .unwrap_or(0);
        if file != total {
            failures.push(format!(
                "{b:?}: the counter is {file}, not {total} ({parts:?})"
            ));
        }
        let (must, told) = tallies
            .iter()
            .fold((0, 0), |(m, r), t| (m + t.must_report, r + t.reported));
        if must - told > foreign_told {
            failures.push(format!(
                "{b:?}: {must} victims died holding, {told} reports reached Rust \
                 acquirers and {foreign_told} C or Python ones"
            ));
        }
        summary += &format!(
            "{}: {} rounds in {:.1} s; counter {file} = {} ({}); {must} victims died \
             holding exclusive: {told} deaths reported to a Rust acquirer, the other {} \
             within the {foreign_told} reports that C/Python acquirers saw\n",
            b.name(),
            tallies.iter().map(|t| t.rounds).sum::<u32>(),
            took.as_secs_f64(),
            parts.join(" + "),
            if file == total { "exact" } else { "WRONG" },
            must - told,
        );
        for (s, t) in scenarios.iter().zip(&mut tallies) {
            t.waits.sort();
            let q = |p: f64| {
                t.waits
                    .get(((t.waits.len().max(1) - 1) as f64 * p).round() as usize)
                    .map_or(f64::NAN, |w| w.as_secs_f64() * 1e3)
            };
            let died = if t.must_report > 0 {
                format!("{} | {}", t.must_report, t.reported)
            } else {
                "- | -".into()
            };
            report += &format!(
                "| {} | {s:?} | {} | {} | {died} | {} | {:.1} ms | {:.1} ms | {:.1} ms |\n",
                b.name(),
                t.rounds,
                t.waits.len(),
                t.zombies,
                q(0.5),
                q(0.99),
                q(1.0),
            );
        }
        drop(run);
        std::fs::remove_dir_all(&d).unwrap();
    }
    let report = format!(
        "{report}\n{summary}failures: {}\n",
        if failures.is_empty() {
            "0".to_string()
        } else {
            failures.join("\n")
        }
    );
    eprintln!("{report}");
    assert!(failures.is_empty(), "{report}");
    report
}

#[test]
fn fifty_kill_rounds_per_backend_recover() {
    run(50, None);
}

#[test]
#[ignore]
fn stress() {
    let rounds = std::env::var("RINGLOCK_STRESS_ROUNDS")
        .map(|s| s.parse().unwrap())
        .unwrap_or(1000);
    let foreign = Foreign::from_env();
    let report = run(rounds, foreign.as_ref());
    if let Ok(path) = std::env::var("RINGLOCK_STRESS_REPORT") {
        std::fs::write(path, &report).unwrap();
    }
}
