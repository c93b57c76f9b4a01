#!/usr/bin/env python3
"""Lock hand-off over etcd from Python: ringlock's etcd Lock beside tooz
(its etcd3gw driver), on one local etcd started for the run.

Two processes (multiprocessing, spawn), fixed roles, for each mechanism:
the holder acquires, tells the waiter, and waits until the waiter says it is
about to acquire; it then holds HOLD_S more (so that the waiter is blocked in
acquire: watching its predecessor for ringlock, between retries for tooz),
writes t_release = time.monotonic_ns() to the pipe, and releases. The
waiter's acquire returns; it records time.monotonic_ns() - t_release (one
monotonic clock for the whole host), releases and tells the holder. p50 and
p99 over the rounds.

tooz's etcd3gw lock does not wait for a release: a failed attempt is retried
after tenacity's exponential wait (capped at 1 s), so its hand-off is set by
that back-off, not by etcd. ringlock's waiter watches the key before its own
and returns when etcd reports it deleted.

Needs `etcd` on PATH (tests/lib/need-etcd.sh) and the bench requirements
(tooz, etcd3gw). A benchmark, not a test: the target (ringlock at least 20x
faster at p50) is printed PASS/MISS and never fails the run.

usage: bench_etcd.py [--quick]
"""

from __future__ import annotations

import multiprocessing as mp
import os
import shutil
import statistics
import sys
import time
import urllib.request
from collections.abc import Callable

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "lib"))
import etcd_server  # noqa: E402  (tests/lib/etcd_server.py)

HOLD_S = 0.05
TARGET = 20.0


# ---- the two mechanisms: make(url, tag) -> (acquire, release) ----------------


def ringlock_lock(url: str, tag: str) -> tuple[Callable[[], object], Callable[[], object]]:
    import ringlock

    lock = ringlock.Lock("bench-handoff", backend="etcd", endpoints=[url], ttl=10,
                         namespace="bench")
    return lock.acquire, lock.release


def tooz_lock(url: str, tag: str) -> tuple[Callable[[], object], Callable[[], object]]:
    from tooz import coordination

    host_port = url.removeprefix("http://")
    coord = coordination.get_coordinator(f"etcd3+http://{host_port}", tag.encode())
    coord.start()
    lock = coord.get_lock(b"bench-handoff")
    return (lambda: lock.acquire(blocking=True)), lock.release


MECHANISMS = {"ringlock etcd Lock": ringlock_lock, "tooz etcd3gw": tooz_lock}


def holder(name: str, url: str, rounds: int, pipe) -> None:  # type: ignore[no-untyped-def]
    acquire, release = MECHANISMS[name](url, "holder")
    pipe.send("ready")
    for _ in range(rounds):
        acquire()
        pipe.send("held")
        assert pipe.recv() == "waiting"
        time.sleep(HOLD_S)
        pipe.send(time.monotonic_ns())
        release()
        assert pipe.recv() == "done"


def waiter(name: str, url: str, rounds: int, pipe) -> None:  # type: ignore[no-untyped-def]
    acquire, release = MECHANISMS[name](url, "waiter")
    pipe.send("ready")
    samples = []
    for _ in range(rounds):
        assert pipe.recv() == "held"
        pipe.send("waiting")
        acquire()
        got = time.monotonic_ns()
        samples.append(got - pipe.recv())
        release()
        pipe.send("done")
    pipe.send(samples)


def hand_offs(name: str, url: str, rounds: int) -> list[int]:
    ctx = mp.get_context("spawn")
    h_end, h_child = ctx.Pipe()
    w_end, w_child = ctx.Pipe()
    h = ctx.Process(target=holder, args=(name, url, rounds, h_child))
    w = ctx.Process(target=waiter, args=(name, url, rounds, w_child))
    h.start()
    w.start()
    try:
        assert h_end.recv() == "ready" and w_end.recv() == "ready"
        for _ in range(rounds):
            w_end.send(h_end.recv())          # held
            h_end.send(w_end.recv())          # waiting
            w_end.send(h_end.recv())          # t_release
            h_end.send(w_end.recv())          # done
        samples = w_end.recv()
    finally:
        for p in (h, w):
            p.join(timeout=30)
            if p.is_alive():
                p.kill()
    return samples


def pct(v: list[int], p: float) -> float:
    s = sorted(v)
    return s[round((len(s) - 1) * p)] / 1e3


def main() -> None:
    quick = "--quick" in sys.argv
    rounds = {"ringlock etcd Lock": 20 if quick else 100, "tooz etcd3gw": 5 if quick else 20}
    if shutil.which("etcd") is None:
        raise SystemExit("bench_etcd: no etcd on PATH (bash tests/lib/need-etcd.sh)")
    with etcd_server.running(prefix="ringlock-bench-etcd-") as [url]:
        version = urllib.request.urlopen(f"{url}/version", timeout=2).read().decode().strip()
        print(f"== etcd lock hand-off from Python, release -> the blocked waiter's return, us "
              f"(etcd {version}, hold {HOLD_S * 1e3:.0f} ms) ==")
        print(f"{'mechanism':<22} {'p50 us':>10} {'p99 us':>10} {'samples':>8}")
        p50 = {}
        for name in MECHANISMS:
            v = hand_offs(name, url, rounds[name])
            p50[name] = pct(v, 0.5)
            print(f"{name:<22} {pct(v, 0.5):>10.0f} {pct(v, 0.99):>10.0f} {len(v):>8}")
        ratio = p50["tooz etcd3gw"] / p50["ringlock etcd Lock"]
        verdict = "PASS" if ratio >= TARGET else "MISS"
        print(f"target: ringlock's p50 at least {TARGET:.0f}x faster than tooz's: "
              f"{ratio:.0f}x {verdict}")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
