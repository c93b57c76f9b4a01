#!/usr/bin/env python3
"""Python lock benchmarks: ringlock.Lock beside its peer packages and a raw
fcntl.flock.

1. Uncontended, one process: ns per acquire + release of
   - `with ringlock.Lock(name, backend="shm" | "file", dir=d): pass` (the
     handle opened once; also `lock.acquire(); lock.release()`),
   - `with filelock.FileLock(path): pass` (its defaults),
   - `with portalocker.Lock(path): pass` (its defaults: opens the file on
     every acquisition), and portalocker's lowest level,
     `portalocker.lock(f, LOCK_EX)` + `portalocker.unlock(f)` on a file kept
     open (informative),
   - `with fasteners.InterProcessLock(path): pass`,
   - `fcntl.flock(fd, LOCK_EX)` + `fcntl.flock(fd, LOCK_UN)` on a descriptor
     kept open: the least a file lock costs from Python,
   - "floor: with threading.Lock()": the least a `with` of a C lock costs.
   Every lock object is made once; the loop is
   `for _ in range(n): with lock: pass`. All files live in one fresh
   directory on /dev/shm (tmpfs).
2. Hand-off between two processes (multiprocessing, fork): the waiter sets
   its "about to acquire" flag in a shared mmap and blocks in acquire; the
   holder waits for the flag and until the waiter sleeps in the kernel in
   futex or flock (/proc/<pid>/stat state S, /proc/<pid>/syscall), writes t_release = time.monotonic_ns() to the
   mmap just before release, releases, and becomes the waiter. The waiter's
   acquire returns; it records time.monotonic_ns() - t_release. p50 and p99,
   for ringlock shm, ringlock file and raw fcntl.flock (each process opens
   its own lock). The same protocol as bench/c/handoff.c's gated phase; the
   processes are not pinned (as handoff -u).

Measurements are interleaved (each round times every case once), MEDIANS of
the rounds, ns per op; hand-off samples pooled over the rounds. Targets are
printed PASS/MISS and never fail the run: benchmarks are not timed tests.

usage: bench_lock.py [--quick]
"""

import fcntl
import gc
import mmap
import multiprocessing
import os
import platform
import shutil
import statistics
import sys
import tempfile
import threading
import time
import timeit

from benchfmt import fmt_x, ratio, table, verdict

QUICK = "--quick" in sys.argv
ROUNDS = 3 if QUICK else 9
FAST_OPS = 20_000 if QUICK else 50_000  # ops per sample, the sub-microsecond cases
SLOW_OPS = 500 if QUICK else 2_000  # ops per sample, the peers (~20-70 us each)
HANDOFF_ROUNDS = 3 if QUICK else 5
HANDOFFS_PER_ROUND = 200 if QUICK else 400

# from bench_ring.py's conventions: same table and number formats


def fmt_ns(v):
    if v is None:
        return "-"
    return f"{v:.1f}" if v < 100 else f"{v:,.0f}"


def fmt_us(v):
    return "-" if v is None else f"{v / 1e3:,.2f}"


def interleaved(cases, rounds):
    """cases: {label: (fn, ops)}; each round times every case once (one
    untimed call first, to warm it back up); returns {label: median ns/op}."""
    samples = {label: [] for label in cases}
    for _ in range(rounds):
        for label, (fn, ops) in cases.items():
            fn(max(1, ops // 20))
            t = time.perf_counter_ns()
            fn(ops)
            samples[label].append((time.perf_counter_ns() - t) / ops)
    return {label: statistics.median(v) for label, v in samples.items()}


def with_loop(lock):
    def run(n):
        for _ in range(n):
            with lock:
                pass

    return run


def acquire_release_loop(lock):
    acquire, release = lock.acquire, lock.release

    def run(n):
        for _ in range(n):
            acquire()
            release()

    return run


def flock_loop(fd):
    flock, ex, un = fcntl.flock, fcntl.LOCK_EX, fcntl.LOCK_UN

    def run(n):
        for _ in range(n):
            flock(fd, ex)
            flock(fd, un)

    return run


def empty_loop(n):
    for _ in range(n):
        pass


# ---- hand-off ---------------------------------------------------------------

# int64 slots of the shared mapping
T_RELEASE, READY0, READY1, TURNS, DONE, STARTED0, STARTED1 = range(7)
SAMPLES = 16  # latencies from here on, one per hand-off


def open_lock(mech, d):
    """(acquire, release, close) for one process's own handle."""
    import ringlock

    if mech == "raw fcntl.flock":
        fd = os.open(os.path.join(d, "raw.flock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        return (
            lambda: fcntl.flock(fd, fcntl.LOCK_EX),
            lambda: fcntl.flock(fd, fcntl.LOCK_UN),
            lambda: os.close(fd),
        )
    lock = ringlock.Lock("handoff", backend=mech.split()[1], dir=d)
    return lock.acquire, lock.release, lock.close


def spin_while(mv, slot, value):
    """Busy-waits while mv[slot] == value, yielding the CPU now and then."""
    spins = 0
    while mv[slot] == value:
        spins += 1
        if spins % 256 == 0:
            os.sched_yield()  # two shared cores: do not starve the other side


# syscall numbers of futex and flock, to tell from /proc/<pid>/syscall that a
# process sleeps in the lock's own blocking call (elsewhere: the state alone)
LOCK_SYSCALLS = {"x86_64": (202, 73), "aarch64": (98, 32)}.get(platform.machine())


def asleep(stat_fd, syscall_fd):
    """Whether the process whose /proc/<pid>/stat and /proc/<pid>/syscall are
    open as these descriptors sleeps in the kernel in futex or flock (not,
    say, in the read of a /proc file: ringlock's shm waiter checks the
    holder's liveness first)."""
    b = os.pread(stat_fd, 512, 0)
    i = b.rfind(b")")
    if b[i + 2 : i + 3] != b"S":
        return False
    if LOCK_SYSCALLS is None:
        return True
    nr = os.pread(syscall_fd, 64, 0).split(b" ", 1)[0]
    return nr.isdigit() and int(nr) in LOCK_SYSCALLS


def play(mv, mech, d, me, other_pid, handoffs):
    """One process's side of the hand-off protocol of the module docstring;
    `me` 0 (the parent) starts as the holder."""
    acquire, release, close = open_lock(mech, d)
    if me == 0:
        acquire()  # the parent holds first
    mv[STARTED0 + me] = 1
    spin_while(mv, STARTED0 + 1 - me, 0)
    stat = os.open(f"/proc/{other_pid}/stat", os.O_RDONLY | os.O_CLOEXEC)
    sysc = os.open(f"/proc/{other_pid}/syscall", os.O_RDONLY | os.O_CLOEXEC)
    mine, theirs = READY0 + me, READY0 + 1 - me
    holding = me == 0
    while True:
        if not holding:
            mv[mine] = 1
            acquire()
            t = time.monotonic_ns()
            if mv[DONE]:  # the other gave us the lock to quit
                release()
                break
            k = mv[TURNS]
            mv[SAMPLES + k] = t - mv[T_RELEASE]
            mv[TURNS] = k + 1
            if k + 1 >= handoffs:
                mv[DONE] = 1
                spin_while(mv, theirs, 0)
                mv[theirs] = 0
                release()
                break
        holding = False
        spin_while(mv, theirs, 0)  # the other is about to acquire
        while not asleep(stat, sysc):  # ... and now sleeps in the kernel
            pass
        mv[theirs] = 0
        seen = mv[TURNS]
        mv[T_RELEASE] = time.monotonic_ns()
        release()
        # strict turns: acquire again only once the other holds the lock
        spin_while(mv, TURNS, seen)
    os.close(stat)
    os.close(sysc)
    close()


def handoff_round(mech, d, handoffs):
    """Latencies (ns) of `handoffs` hand-offs between this process and a
    forked one, the first 5% dropped."""
    size = 8 * (SAMPLES + handoffs)
    mm = mmap.mmap(-1, (size + 4095) // 4096 * 4096)
    mv = memoryview(mm).cast("q")
    ctx = multiprocessing.get_context("fork")
    child = ctx.Process(target=play, args=(mv, mech, d, 1, os.getpid(), handoffs))
    child.start()
    play(mv, mech, d, 0, child.pid, handoffs)
    child.join()
    if child.exitcode != 0:
        raise RuntimeError(f"{mech}: the partner process failed ({child.exitcode})")
    lat = list(mv[SAMPLES : SAMPLES + handoffs])
    mv.release()
    mm.close()
    return lat[handoffs // 20 :]


def bench_handoff(d, mechs):
    pooled = {m: [] for m in mechs}
    for _ in range(HANDOFF_ROUNDS):
        for m in mechs:
            pooled[m] += handoff_round(m, d, HANDOFFS_PER_ROUND)
    out = {}
    for m, v in pooled.items():
        v.sort()
        out[m] = (v[len(v) // 2], v[min(len(v) - 1, round(0.99 * (len(v) - 1)))], len(v))
    return out


def main():
    try:
        import ringlock

        ringlock.Lock
    except (ImportError, AttributeError) as e:
        print(f"ringlock.Lock is not available ({e}): run `make python` first")
        return 1
    peers = {}
    for mod in ("filelock", "portalocker", "fasteners"):
        try:
            peers[mod] = __import__(mod)
        except ImportError:
            print(f"{mod} not installed: its rows are skipped (pip install -r bench/requirements.txt)")

    def version(name):
        try:
            from importlib.metadata import version as v

            return v(name)
        except Exception:  # noqa: BLE001 - informative only
            return "?"

    print(
        f"Python {sys.version.split()[0]}, ringlock {getattr(ringlock, '__version__', '?')}, "
        + ", ".join(f"{m} {version(m)}" for m in peers)
        + f"; interleaved rounds: {ROUNDS}, medians, ns per acquire+release"
    )

    d = tempfile.mkdtemp(prefix="ringlock-bench-lock-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    try:
        # ---- uncontended -----------------------------------------------------
        shm = ringlock.Lock("bench", backend="shm", dir=d)
        file = ringlock.Lock("bench", backend="file", dir=d)
        fd = os.open(os.path.join(d, "raw.flock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        cases = {
            "ringlock shm: with lock": (with_loop(shm), FAST_OPS),
            "ringlock shm: acquire()+release()": (acquire_release_loop(shm), FAST_OPS),
            "ringlock file: with lock": (with_loop(file), FAST_OPS // 5),
            "ringlock file: acquire()+release()": (acquire_release_loop(file), FAST_OPS // 5),
            "raw fcntl.flock EX+UN": (flock_loop(fd), FAST_OPS // 5),
        }
        if "filelock" in peers:
            cases["filelock.FileLock"] = (
                with_loop(peers["filelock"].FileLock(os.path.join(d, "filelock.lock"))),
                SLOW_OPS,
            )
        if "portalocker" in peers:
            pl = peers["portalocker"]
            cases["portalocker.Lock"] = (with_loop(pl.Lock(os.path.join(d, "portalocker.lock"))), SLOW_OPS)
            f = open(os.path.join(d, "portalocker-low.lock"), "a")  # noqa: SIM115 - kept open

            def pl_low(n, f=f, lock=pl.lock, unlock=pl.unlock, ex=pl.LOCK_EX):
                for _ in range(n):
                    lock(f, ex)
                    unlock(f)

            cases["portalocker.lock/unlock (open file)"] = (pl_low, FAST_OPS // 5)
        if "fasteners" in peers:
            cases["fasteners.InterProcessLock"] = (
                with_loop(peers["fasteners"].InterProcessLock(os.path.join(d, "fasteners.lock"))),
                SLOW_OPS,
            )
        cases["floor: with threading.Lock()"] = (with_loop(threading.Lock()), FAST_OPS)
        cases["loop overhead"] = (empty_loop, FAST_OPS)
        gc.collect()
        res = interleaved(cases, ROUNDS)
        os.close(fd)
        del shm, file

        print()
        print("== Python: uncontended acquire + release, ns per op, median (loop included) ==")
        base = res["ringlock shm: with lock"]
        table(
            ["implementation", "ns/op", "/ ringlock shm"],
            [[k, fmt_ns(v), fmt_x(ratio(v, base))] for k, v in res.items()],
        )

        # ---- hand-off ----------------------------------------------------------
        mechs = ["ringlock shm", "ringlock file", "raw fcntl.flock"]
        ho = bench_handoff(d, mechs)
        print()
        print(
            f"== Python: two-process hand-off, release -> blocked waiter's return "
            f"({HANDOFF_ROUNDS} interleaved rounds x {HANDOFFS_PER_ROUND}, first 5% dropped) =="
        )
        flock50 = ho["raw fcntl.flock"][0]
        table(
            ["mechanism", "p50 us", "p99 us", "samples", "p50 / raw flock"],
            [[m, fmt_us(p50), fmt_us(p99), n, fmt_x(ratio(p50, flock50))] for m, (p50, p99, n) in ho.items()],
        )
    finally:
        shutil.rmtree(d, ignore_errors=True)

    # ---- ratios and targets --------------------------------------------------
    print()
    print("== Python: ratios (peer / ringlock: higher = ringlock faster) ==")
    rows = []
    for peer in ("filelock.FileLock", "portalocker.Lock", "portalocker.lock/unlock (open file)",
                 "fasteners.InterProcessLock", "raw fcntl.flock EX+UN"):
        if peer in res:
            rows.append([peer, fmt_x(ratio(res[peer], res["ringlock shm: with lock"])),
                         fmt_x(ratio(res[peer], res["ringlock file: with lock"]))])
    table(["peer", "/ ringlock shm", "/ ringlock file"], rows)

    print()
    print("== targets (Python locks) — reported, never enforced ==")
    shm_ns = res["ringlock shm: with lock"]
    checks = []
    if "filelock.FileLock" in res:
        checks.append(("ringlock shm `with` >= 100x faster than filelock.FileLock",
                       ratio(res["filelock.FileLock"], shm_ns), lambda r: r >= 100))
    if "portalocker.Lock" in res:
        checks.append(("ringlock shm `with` >= 20x faster than portalocker.Lock",
                       ratio(res["portalocker.Lock"], shm_ns), lambda r: r >= 20))
    for m in ("ringlock shm", "ringlock file"):
        checks.append((f"{m} hand-off p50 within 2x of the raw fcntl.flock hand-off",
                       ratio(ho[m][0], flock50), lambda r: r <= 2))
    for text, r, ok in checks:
        print(f"  {verdict(r, ok)}  {text}: {fmt_x(r)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
