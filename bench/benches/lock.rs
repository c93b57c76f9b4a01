//! Uncontended acquire + release of a ringlock lock, beside the raw
//! mechanisms its backends are measured against, in one process, one thread:
//!
//! - `lock_exclusive/<impl>`: exclusive acquire + release, ns per pair;
//!   - `ringlock-shm`, `ringlock-file`: `Lock::acquire(Mode::Exclusive,
//!     None)` + `Lock::release()` (both backends, the same tmpfs directory);
//!   - `raw-robust-mutex`: `pthread_mutex_lock` + `pthread_mutex_unlock` of a
//!     process-shared, robust mutex (`PTHREAD_PROCESS_SHARED`,
//!     `PTHREAD_MUTEX_ROBUST`) in a `MAP_SHARED` mapping of a file in that
//!     directory: the baseline of the shm backend;
//!   - `raw-flock`: `flock(LOCK_EX)` + `flock(LOCK_UN)` on a file in that
//!     directory: the baseline of the file backend;
//! - `lock_shared/<impl>`: shared acquire + release, ns per pair;
//!   `ringlock-shm`, `ringlock-file`, `raw-flock-sh` (`LOCK_SH` +
//!   `LOCK_UN`), `raw-rwlock-rd` (informative: `pthread_rwlock_rdlock` +
//!   `unlock` of a process-shared rwlock; pthreads has no robust rwlock).
//! - `lock_parts/<part>` (informative, to account for the above): `rmw-2`,
//!   `rmw-3`, `rmw-7`: that many atomic read-modify-write operations
//!   (compare-and-swaps; for 3 and 7 the last one a swap) alternating
//!   between two words of a shared mapping: a robust mutex's fast path does
//!   2 (the least any lock can do), ringlock shm's exclusive one 3 and its
//!   shared one 7 (counted in docs/benchmarks.md); `clock-realtime-coarse`:
//!   one `clock_gettime(CLOCK_REALTIME_COARSE)`, which ringlock calls on
//!   every acquisition to record since when the holder holds.
//!
//! After the criterion groups, the two target ratios are measured once more
//! in interleaved rounds (each round times both sides back to back, so load
//! from a neighbour hits both alike): `lock-paired.tsv` in CRITERION_HOME.
//!
//! The directory is a fresh one on /dev/shm (tmpfs; the temp dir if there is
//! no /dev/shm), removed at the end. bench/report.py prints the table and the
//! ratios shm / raw-robust-mutex and file / raw-flock.

use std::ffi::CString;
use std::hint::black_box;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Instant;

use criterion::Criterion;
use ringlock::{Backend, Lock, LockOptions, Mode};

/// A fresh lock directory on tmpfs.
fn lock_dir() -> PathBuf {
    let base = if Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    let d = base.join(format!("ringlock-bench-lock-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn open(dir: &Path, backend: Backend) -> Lock {
    let o = LockOptions {
        backend,
        dir: Some(dir.to_owned()),
        file_mode: 0,
    };
    Lock::open("bench", &o).expect("open lock")
}

/// A page of a file in `dir`, mapped `MAP_SHARED`, as ringlock maps its lock
/// files. Unmapped on drop.
struct SharedPage {
    ptr: *mut libc::c_void,
}

impl SharedPage {
    fn new(dir: &Path, name: &str) -> SharedPage {
        let path = CString::new(dir.join(name).into_os_string().into_encoded_bytes()).unwrap();
        // SAFETY: plain syscalls on a path we own; the mapping is checked.
        unsafe {
            let fd = libc::open(
                path.as_ptr(),
                libc::O_RDWR | libc::O_CREAT | libc::O_CLOEXEC,
                0o600,
            );
            assert!(fd >= 0, "open {path:?}");
            assert_eq!(libc::ftruncate(fd, 4096), 0);
            let ptr = libc::mmap(
                std::ptr::null_mut(),
                4096,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd,
                0,
            );
            assert_ne!(ptr, libc::MAP_FAILED);
            libc::close(fd);
            SharedPage { ptr }
        }
    }
}

impl Drop for SharedPage {
    fn drop(&mut self) {
        // SAFETY: our mapping of 4096 bytes.
        unsafe { libc::munmap(self.ptr, 4096) };
    }
}

/// A process-shared robust mutex at the start of a shared page.
struct RobustMutex {
    page: SharedPage,
}

impl RobustMutex {
    fn new(dir: &Path) -> RobustMutex {
        let page = SharedPage::new(dir, "robust-mutex");
        // SAFETY: the page is zeroed, large enough and aligned for a
        // pthread_mutex_t; the attribute object lives on our stack.
        unsafe {
            let mut a: libc::pthread_mutexattr_t = std::mem::zeroed();
            assert_eq!(libc::pthread_mutexattr_init(&mut a), 0);
            assert_eq!(
                libc::pthread_mutexattr_setpshared(&mut a, libc::PTHREAD_PROCESS_SHARED),
                0
            );
            assert_eq!(
                libc::pthread_mutexattr_setrobust(&mut a, libc::PTHREAD_MUTEX_ROBUST),
                0
            );
            assert_eq!(libc::pthread_mutex_init(page.ptr.cast(), &a), 0);
            libc::pthread_mutexattr_destroy(&mut a);
        }
        RobustMutex { page }
    }

    #[inline]
    fn lock_unlock(&self) {
        let m: *mut libc::pthread_mutex_t = self.page.ptr.cast();
        // SAFETY: an initialised mutex in a live mapping.
        unsafe {
            let r = libc::pthread_mutex_lock(m);
            if r == libc::EOWNERDEAD {
                libc::pthread_mutex_consistent(m);
            } else {
                debug_assert_eq!(r, 0);
            }
            libc::pthread_mutex_unlock(m);
        }
    }
}

/// A process-shared (not robust: pthreads has none) rwlock.
struct SharedRwLock {
    page: SharedPage,
}

impl SharedRwLock {
    fn new(dir: &Path) -> SharedRwLock {
        let page = SharedPage::new(dir, "rwlock");
        // SAFETY: as for RobustMutex.
        unsafe {
            let mut a: libc::pthread_rwlockattr_t = std::mem::zeroed();
            assert_eq!(libc::pthread_rwlockattr_init(&mut a), 0);
            assert_eq!(
                libc::pthread_rwlockattr_setpshared(&mut a, libc::PTHREAD_PROCESS_SHARED),
                0
            );
            assert_eq!(libc::pthread_rwlock_init(page.ptr.cast(), &a), 0);
            libc::pthread_rwlockattr_destroy(&mut a);
        }
        SharedRwLock { page }
    }

    #[inline]
    fn read_unlock(&self) {
        let l: *mut libc::pthread_rwlock_t = self.page.ptr.cast();
        // SAFETY: an initialised rwlock in a live mapping.
        unsafe {
            libc::pthread_rwlock_rdlock(l);
            libc::pthread_rwlock_unlock(l);
        }
    }
}

fn raw_flock_file(dir: &Path) -> std::fs::File {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(dir.join("raw.flock"))
        .expect("open flock file")
}

#[inline]
fn flock(fd: i32, op: libc::c_int) {
    // SAFETY: flock on a descriptor we own.
    let r = unsafe { libc::flock(fd, op) };
    debug_assert_eq!(r, 0);
}

fn bench_locks(c: &mut Criterion, dir: &Path) {
    let shm = open(dir, Backend::Shm);
    let file = open(dir, Backend::File);
    let mutex = RobustMutex::new(dir);
    let rw = SharedRwLock::new(dir);
    let flock_file = raw_flock_file(dir);
    let fd = flock_file.as_raw_fd();
    let cas_page = SharedPage::new(dir, "cas-word");

    let mut g = c.benchmark_group("lock_exclusive");
    for (id, lock) in [("ringlock-shm", &shm), ("ringlock-file", &file)] {
        g.bench_function(id, |b| {
            b.iter(|| {
                black_box(lock.acquire(Mode::Exclusive, None).unwrap().token);
                lock.release().unwrap();
            })
        });
    }
    g.bench_function("raw-robust-mutex", |b| b.iter(|| mutex.lock_unlock()));
    g.bench_function("raw-flock", |b| {
        b.iter(|| {
            flock(black_box(fd), libc::LOCK_EX);
            flock(fd, libc::LOCK_UN);
        })
    });
    g.finish();

    let mut g = c.benchmark_group("lock_shared");
    for (id, lock) in [("ringlock-shm", &shm), ("ringlock-file", &file)] {
        g.bench_function(id, |b| {
            b.iter(|| {
                black_box(lock.acquire(Mode::Shared, None).unwrap().token);
                lock.release().unwrap();
            })
        });
    }
    g.bench_function("raw-flock-sh", |b| {
        b.iter(|| {
            flock(black_box(fd), libc::LOCK_SH);
            flock(fd, libc::LOCK_UN);
        })
    });
    g.bench_function("raw-rwlock-rd", |b| b.iter(|| rw.read_unlock()));
    g.finish();

    if !std::env::args().any(|a| a == "--list") {
        paired_ratios(&shm, &file, &mutex, fd);
    }

    // SAFETY: the page outlives both words, they are aligned, and they are
    // only accessed atomically.
    let word: &AtomicU32 = unsafe { &*(cas_page.ptr as *const AtomicU32) };
    let word2: &AtomicU32 = unsafe { &*((cas_page.ptr as *const AtomicU32).add(16)) };
    let mut g = c.benchmark_group("lock_parts");
    g.bench_function("rmw-2", |b| b.iter(|| rmw(word, word2, 2)));
    g.bench_function("rmw-3", |b| b.iter(|| rmw(word, word2, 3)));
    g.bench_function("rmw-7", |b| b.iter(|| rmw(word, word2, 7)));
    g.bench_function("clock-realtime-coarse", |b| {
        b.iter(|| {
            let mut ts = libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            // SAFETY: a valid, writable timespec.
            unsafe { libc::clock_gettime(libc::CLOCK_REALTIME_COARSE, &mut ts) };
            black_box(ts.tv_nsec)
        })
    });
    g.finish();
}

/// `n` atomic read-modify-write operations, alternately on `a` and `b`:
/// compare-and-swaps 0 -> 1 -> 0, the last one a swap when n > 2.
#[inline(always)]
fn rmw(a: &AtomicU32, b: &AtomicU32, n: u32) {
    let cas = n - u32::from(n > 2);
    for i in 0..black_box(cas) {
        let w = if i % 4 < 2 { a } else { b };
        let (from, to) = if i % 2 == 0 { (0, 1) } else { (1, 0) };
        let _ = w.compare_exchange(from, to, Ordering::SeqCst, Ordering::Relaxed);
    }
    if n > 2 {
        black_box(b.swap(0, Ordering::SeqCst));
    }
}

/// Rounds of the interleaved ratio measurement.
const PAIRED_ROUNDS: usize = 41;

fn per_op<F: FnMut()>(n: u32, f: &mut F) -> f64 {
    let t = Instant::now();
    for _ in 0..n {
        f();
    }
    t.elapsed().as_nanos() as f64 / f64::from(n)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// `a` and `b` timed alternately, `n` operations per batch, in
/// [`PAIRED_ROUNDS`] rounds (the order swapped every round): the median of
/// the per-round ratios a / b, and the medians of a and b in ns per op.
fn paired<A: FnMut(), B: FnMut()>(n: u32, mut a: A, mut b: B) -> (f64, f64, f64) {
    per_op(n, &mut a); // warm-up
    per_op(n, &mut b);
    let (mut ra, mut rb, mut q) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..PAIRED_ROUNDS {
        let (x, y) = if i % 2 == 0 {
            let x = per_op(n, &mut a);
            (x, per_op(n, &mut b))
        } else {
            let y = per_op(n, &mut b);
            (per_op(n, &mut a), y)
        };
        ra.push(x);
        rb.push(y);
        q.push(x / y);
    }
    (median(q), median(ra), median(rb))
}

/// The two target ratios once more, measured in interleaved rounds rather
/// than one benchmark after the other: criterion measures each row for a few
/// seconds in turn, so a burst of load from a neighbour (this machine is
/// shared) lands on one side of a ratio only; here each round times both
/// sides back to back within a millisecond or so. Printed, and saved for the
/// report as `<CRITERION_HOME>/lock-paired.tsv`.
fn paired_ratios(shm: &Lock, file: &Lock, mutex: &RobustMutex, fd: i32) {
    let excl = |l: &Lock| {
        black_box(l.acquire(Mode::Exclusive, None).unwrap().token);
        l.release().unwrap();
    };
    let flock_pair = || {
        flock(black_box(fd), libc::LOCK_EX);
        flock(fd, libc::LOCK_UN);
    };
    let rows = [
        (
            "ringlock-shm/raw-robust-mutex",
            paired(20_000, || excl(shm), || mutex.lock_unlock()),
        ),
        (
            "ringlock-file/raw-flock",
            paired(1_000, || excl(file), flock_pair),
        ),
    ];
    let mut out = String::from("pair\tratio\ta_ns\tb_ns\trounds\n");
    println!("interleaved ratios ({PAIRED_ROUNDS} rounds, medians):");
    for (name, (r, a, b)) in rows {
        println!("  {name:<30} {r:.2}x  ({a:.1} ns / {b:.1} ns)");
        out += &format!("{name}\t{r:.4}\t{a:.2}\t{b:.2}\t{PAIRED_ROUNDS}\n");
    }
    let dir = std::env::var_os("CRITERION_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target/criterion"));
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::write(dir.join("lock-paired.tsv"), out);
}

fn main() {
    let dir = lock_dir();
    std::fs::create_dir_all(&dir).expect("create the lock directory");
    let mut c = Criterion::default().configure_from_args();
    bench_locks(&mut c, &dir);
    c.final_summary();
    let _ = std::fs::remove_dir_all(&dir);
}
