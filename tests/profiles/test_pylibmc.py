"""The libmemcached profiles against pylibmc (make test-profiles).

pylibmc's ``Client.hash(key)`` is libmemcached's ``memcached_generate_hash``:
the index of the server a key goes to, with no server running. For server
lists of 1 to 200 servers (plain ketama: up to 100, libmemcached aborts
above), equal and unequal weights, port 11211 and others, short and 40-byte
host names (weights 1 to 5 with ketama_weighted), every key goes to the same server in pylibmc (servers given in
name order) and in ringlock's profile; ringlock's ``ketama`` (the negative
control) must disagree. Prints the libmemcached version pylibmc runs on.

Usage: test_pylibmc.py [KEYS_PER_LIST]
"""

from __future__ import annotations

import sys

import _pylibmc
import pylibmc

import ringlock

# pylibmc behaviours, the ringlock profile that must match them and the most
# servers. Plain ketama gets weights of 1 only: pylibmc's wheel bundles
# libmemcached 1.0.16, which crashes building a plain ketama continuum with a
# weight above 1 (libmemcached 1.1.4, checked in test_libmemcached.c, does not)
MODES = [
    ("ketama_weighted", {"ketama_weighted": True}, "libmemcached", 200),
    ("ketama", {"ketama": True}, "libmemcached-consistent", 100),
    ("ketama, md5", {"ketama": True, "hash": "md5"}, "libmemcached-consistent-md5", 100),
]
COUNTS = [1, 3, 8, 25, 61, 200]
LONG = "memcached-{:03d}.cluster-a.example.internal"  # 40 bytes


def servers(shape: str, n: int, weighted: bool) -> list[tuple[str, int, int]]:
    """(host, port, weight) of a list, in ringlock's name order."""
    out = []
    for i in range(n):
        if shape == "long names, ports 11211-11213":
            out.append((LONG.format(i), 11211 + i % 3, 1))
        elif shape == "short names, ports 11211 and 11300, weights 1-5":
            weight = 1 + i % 5 if weighted else 1
            out.append((f"10.1.{i // 100}.{i % 100 + 1}", 11211 if i % 2 else 11300, weight))
        else:
            out.append((f"10.1.{i // 100}.{i % 100 + 1}", 11211, 1))
    return sorted(out, key=lambda s: node(s).encode())


def node(s: tuple[str, int, int]) -> str:
    return f"{s[0]}:{s[1]}"


def differences(algorithm: str, behaviors: dict, spec: list, keys: list[str]) -> int:
    client = pylibmc.Client([f"{h}:{p}:{w}" for h, p, w in spec], behaviors=behaviors)
    ring = ringlock.Ring({node(s): s[2] for s in spec}, algorithm=algorithm)
    names = [node(s) for s in spec]
    assert [name for name, _ in ring.nodes] == names
    owners = ring.get_many(keys)
    return sum(names[client.hash(k)] != o for k, o in zip(keys, owners))


def main() -> int:
    per_list = int(sys.argv[1]) if len(sys.argv) > 1 else 2500
    shapes = [
        "short names, port 11211",
        "long names, ports 11211-11213",
        "short names, ports 11211 and 11300, weights 1-5",
    ]
    failed = lists = keys_total = 0
    control_differ = control_lists = 0
    for label, behaviors, algorithm, most in MODES:
        for n in [c if c <= most else most for c in COUNTS]:
            for shape in shapes:
                spec = servers(shape, n, label == "ketama_weighted")
                keys = [f"key-{lists}-{j}" for j in range(per_list)]
                lists += 1
                keys_total += len(keys)
                d = differences(algorithm, behaviors, spec, keys)
                if d:
                    failed += 1
                    print(f"FAIL: pylibmc {label}, {shape}, n={n}: {d} of {len(keys)} keys differ")
                if n > 1:
                    control_lists += 1
                    control_differ += differences("ketama", behaviors, spec, keys) > 0
    version = _pylibmc.libmemcached_version
    print(
        f"pylibmc {pylibmc.__version__} (libmemcached {version}): {lists - failed} of {lists} "
        f"server lists agree, {keys_total} keys"
    )
    if control_differ == 0:
        print("FAIL: the negative control (ketama against pylibmc) agreed everywhere")
        return 1
    print(
        f"negative control: ketama disagrees with pylibmc on {control_differ} of "
        f"{control_lists} server lists"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
