"""The cross-language placement check, Python edition.

Prints the same lines as core/examples/ring.rs (and the C, C++ and dlopen
examples); `make test` compares them byte for byte. Run it as
`.venv/bin/python examples/python/ring.py` after `make python`.
"""

import sys

import ringlock

NODES = [
    ("10.0.1.1:11211", 1),
    ("10.0.1.2:11211", 2),
    ("10.0.1.3:11211", 1),
    ("cache-α", 1),
    ("node-with-a-rather-long-name-01", 3),
]

KEYS = [f"key-{i}" for i in range(10_000)]


def digest(ring: ringlock.Ring) -> int:
    """FNV-1a 64 over each owner of "key-0".."key-9999", each followed by '\\n'."""
    h = 0xCBF29CE484222325
    for owner in ring.get_many(KEYS):
        for b in owner.encode() + b"\n":
            h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def main() -> None:
    out = []
    out.append(f"# ringlock {ringlock.__version__} placement check")
    for name, algorithm, table_size in [
        ("ketama", "ketama", None),
        ("xxh3", "xxh3", None),
        ("jump", "jump", None),
        ("maglev", "maglev", None),
        ("maglev-1009", "maglev", 1009),
        ("libmemcached", "libmemcached", None),
        ("nginx", "nginx", None),
        ("haproxy", "haproxy", None),
        ("libmemcached-consistent", "libmemcached-consistent", None),
        ("spymemcached", "spymemcached", None),
        ("envoy-ring-hash", "envoy-ring-hash", None),
    ]:
        if table_size is None:
            ring = ringlock.Ring(algorithm=algorithm)
        else:
            ring = ringlock.Ring(algorithm=algorithm, table_size=table_size)
        for node, weight in NODES:
            ring.add(node, weight)
        for i in range(8):
            key = f"user:{i}"
            owner = ring.get(key)
            replicas = ring.get_n(key, 3)
            out.append(f"{name} {key} {owner} {','.join(replicas)}")
        out.append(f"{name} digest keys=10000 fnv1a64={digest(ring):016x}")
        ring.remove("10.0.1.2:11211")
        ring.set_weight("10.0.1.3:11211", 2)
        out.append(f"{name} digest-after keys=10000 fnv1a64={digest(ring):016x}")
    out.append(f"jump_hash 42 57 {ringlock.jump_hash(42, 57)}")
    out.append(f"jump_hash 3735883980 666 {ringlock.jump_hash(0xDEAD10CC, 666)}")
    # UTF-8 and "\n" whatever the locale, like the Rust example.
    sys.stdout.buffer.write("".join(line + "\n" for line in out).encode())


if __name__ == "__main__":
    main()
