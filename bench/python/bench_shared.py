#!/usr/bin/env python3
"""SharedRing from Python beside the in-process Ring, and the time a new
generation takes to reach busy readers in other processes.

- `SharedRing.get` beside `Ring.get` on the same nodes and the same 4,096
  keys (bench_ring.py's), every algorithm, 10, 100 and 1,000 nodes: the
  same `for k in keys: get(k)` loop, interleaved timeit rounds, MEDIANS in
  ns per get (the loop included alike), and the ratio shared / ring.
- `SharedRing.publish` of a 1,000-node ring per algorithm (ms, median).
- publish -> notice: 1, then 4 forked reader processes look keys up in a loop
  (`get`, then `generation`), each stamping `time.monotonic_ns()` into a
  shared anonymous mapping when it first sees a new generation; the publisher
  stamps the moment `publish` returned. Latency = reader stamp - publisher
  stamp (negative: the reader saw the generation before `publish` returned,
  which it may, the word being raised just before). p50 and p99 over every
  (publish, reader) pair. With more busy readers than spare cores this
  includes waiting for the scheduler to run the reader at all.

Targets are printed PASS/MISS and never fail the run (benchmarks are not
timed tests).

usage: bench_shared.py [--quick]
"""

import mmap
import os
import statistics
import struct
import sys
import tempfile
import time
import timeit

import ringlock
from bench_ring import fmt_ns, interleaved, loop_get, make_keys, node_names
from benchfmt import fmt_x, ratio, table, verdict

QUICK = "--quick" in sys.argv
SIZES = (10, 100, 1000)
ALGORITHMS = ("xxh3", "ketama", "jump", "maglev")
ROUNDS = 3 if QUICK else 9
READER_COUNTS = (1, 4)  # one reader per spare core, then more readers than cores
PUBLISHES = 50 if QUICK else 300


def lookups(dirname):
    keys = make_keys(4096)
    rows = []
    worst = {}
    for n in SIZES:
        cases = {}
        for a in ALGORITHMS:
            ring = ringlock.Ring([(name, 1) for name in node_names(n)], algorithm=a)
            path = os.path.join(dirname, f"{a}-{n}")
            ringlock.SharedRing.publish(ring, path)
            shared = ringlock.SharedRing(path)
            assert shared.get_many(keys) == ring.get_many(keys)
            cases[f"ring {a}"] = (loop_get(ring.get, keys), len(keys), 3)
            cases[f"shared {a}"] = (loop_get(shared.get, keys), len(keys), 3)
        res = interleaved(cases, ROUNDS)
        for a in ALGORITHMS:
            r = ratio(res[f"shared {a}"], res[f"ring {a}"])
            worst[a] = max(worst.get(a, 0), r)
            rows.append([f"{a} {n}", fmt_ns(res[f"ring {a}"]), fmt_ns(res[f"shared {a}"]), fmt_x(r, 2)])
    print("== Python: ns per get, median, same 4,096 keys ==")
    table(["algorithm nodes", "Ring.get", "SharedRing.get", "shared/ring"], rows)
    for a in ("xxh3", "maglev"):
        print(f"target SharedRing.get within 1.1x of Ring.get ({a}, worst size): "
              f"{fmt_x(worst[a], 2)} {verdict(worst[a], lambda v: v <= 1.1)}")


def publishes(dirname):
    rows = []
    for a in ALGORITHMS:
        ring = ringlock.Ring([(name, 1) for name in node_names(1000)], algorithm=a)
        path = os.path.join(dirname, f"publish-{a}")
        times = timeit.repeat(lambda: ringlock.SharedRing.publish(ring, path), number=1,
                              repeat=5 if QUICK else 21)
        rows.append([a, f"{os.path.getsize(path) / 1024:,.0f}", f"{statistics.median(times) * 1e3:.2f}"])
    print("== Python: SharedRing.publish of a 1,000-node ring, median ==")
    table(["algorithm", "file kB", "ms"], rows)


def reader(path, slot, stamps, final):
    shared = ringlock.SharedRing(path)
    last = shared.generation
    i = 0
    while True:
        shared.get(f"key-{i & 1023}")
        g = shared.generation
        if g != last:
            struct.pack_into("<Q", stamps, 16 * slot + 8, time.monotonic_ns())
            struct.pack_into("<Q", stamps, 16 * slot, g)
            last = g
            if g >= final:
                return
        i += 1


def notice(dirname, READERS):
    path = os.path.join(dirname, f"notice-{READERS}")
    ring = ringlock.Ring([(name, 1) for name in node_names(100)], algorithm="xxh3")
    first = ringlock.SharedRing.publish(ring, path)
    final = first + PUBLISHES
    stamps = mmap.mmap(-1, 16 * READERS)
    pids = []
    for slot in range(READERS):
        pid = os.fork()
        if pid == 0:
            try:
                reader(path, slot, stamps, final)
            finally:
                os._exit(0)
        pids.append(pid)
    time.sleep(0.5)  # the readers are looking up
    lat = []
    for k in range(PUBLISHES):
        ring.add(f"extra-{k}") if k % 2 == 0 else ring.remove(f"extra-{k - 1}")
        g = ringlock.SharedRing.publish(ring, path)
        done = time.monotonic_ns()
        pending = set(range(READERS))
        while pending:
            for slot in list(pending):
                if struct.unpack_from("<Q", stamps, 16 * slot)[0] >= g:
                    lat.append(struct.unpack_from("<Q", stamps, 16 * slot + 8)[0] - done)
                    pending.discard(slot)
            if pending:
                time.sleep(0.0002)
        time.sleep(0.002)
    for pid in pids:
        os.waitpid(pid, 0)
    lat.sort()
    p50 = lat[len(lat) // 2] / 1e3
    p99 = lat[min(len(lat) - 1, len(lat) * 99 // 100)] / 1e3
    print(f"== publish -> first lookup that sees it: {READERS} busy Python reader processes, "
          f"{PUBLISHES} publishes of a 100-node xxh3 ring, {os.cpu_count()} CPUs ==")
    table(["p50 us", "p99 us", "max us", "pairs"],
          [[f"{p50:.1f}", f"{p99:.1f}", f"{lat[-1] / 1e3:.1f}", str(len(lat))]])


def main():
    base = "/dev/shm" if os.path.isdir("/dev/shm") else None
    with tempfile.TemporaryDirectory(prefix="ringlock-bench-shared-", dir=base) as d:
        lookups(d)
        print()
        publishes(d)
        for readers in READER_COUNTS:
            print()
            notice(d, readers)


if __name__ == "__main__":
    main()
