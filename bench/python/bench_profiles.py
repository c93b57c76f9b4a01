"""The libmemcached profiles' get in Python beside pylibmc's ``Client.hash``
(libmemcached's ``memcached_generate_hash``: the server index of a key):
the same keys, the same servers (8 and 100, ``10.0.0.<i>:11211``), ROUNDS
interleaved rounds, the median ns per key of each and the ratio. Run by
``make bench-profiles`` (and ``make bench``); pylibmc is installed into the
venv if missing.

Usage: bench_profiles.py [KEYS] [ROUNDS]
"""

from __future__ import annotations

import statistics
import sys
import time

import _pylibmc
import pylibmc

import ringlock
from benchfmt import table

MODES = [
    ("weighted", {"ketama_weighted": True}, "libmemcached"),
    ("ketama", {"ketama": True}, "libmemcached-consistent"),
    ("ketama md5", {"ketama": True, "hash": "md5"}, "libmemcached-consistent-md5"),
]


def per_key(fn, keys) -> float:
    t0 = time.perf_counter_ns()
    for k in keys:
        fn(k)
    return (time.perf_counter_ns() - t0) / len(keys)


def batch(fn, keys) -> float:
    t0 = time.perf_counter_ns()
    fn(keys)
    return (time.perf_counter_ns() - t0) / len(keys)


def main() -> None:
    n_keys = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    keys = [f"key:{i}" for i in range(n_keys)]
    contenders = []  # (label, servers, pylibmc?, timer)
    for servers in (8, 100):
        names = sorted(f"10.0.0.{i + 1}:11211" for i in range(servers))
        for label, behaviors, algorithm in MODES:
            client = pylibmc.Client(names, behaviors=behaviors)
            ring = ringlock.Ring(names, algorithm=algorithm)
            base = len(contenders)
            contenders.append((f"pylibmc Client.hash, {label}", servers, None,
                               lambda ks, c=client: per_key(c.hash, ks)))
            contenders.append((f"ringlock {algorithm} get", servers, base,
                               lambda ks, r=ring: per_key(r.get, ks)))
            contenders.append((f"ringlock {algorithm} get_many", servers, base,
                               lambda ks, r=ring: batch(r.get_many, ks)))
    samples = [[] for _ in contenders]
    for _ in range(rounds):
        for i, (_, _, _, timer) in enumerate(contenders):
            samples[i].append(timer(keys))
    medians = [statistics.median(s) for s in samples]
    rows = []
    for i, (label, servers, base, _) in enumerate(contenders):
        ratio = "" if base is None else f"{medians[i] / medians[base]:.2f}x"
        rows.append([label, servers, f"{medians[i]:,.0f}", ratio])
    print(
        f"# Python: libmemcached profiles beside pylibmc {pylibmc.__version__} "
        f"(libmemcached {_pylibmc.libmemcached_version}), {n_keys:,} keys, "
        f"median of {rounds} interleaved rounds"
    )
    table(["lookup", "servers", "ns/key", "vs pylibmc"], rows)
    print("(below 1x: ringlock faster)")


if __name__ == "__main__":
    main()
