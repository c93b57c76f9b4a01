"""A shared ring from Python: publish one, add a node to it, and read it the
way examples/c/shared_ring.c does (same modes, same lines).

    python shared_ring.py publish PATH [ALGORITHM]      nodes cache-a..cache-d
    python shared_ring.py add     PATH NODE             republish with NODE added
    python shared_ring.py show    PATH KEY...
    python shared_ring.py watch   PATH GEN KEY...
    python shared_ring.py read    PATH UNTIL OUT [MAX]
    python shared_ring.py hold    PATH

Placement lines are "generation G: KEY -> NODE". ``read`` writes samples
"g1 g2 key node" (the generation before and after each lookup) and exits 2
if a generation ever went backwards. Run it as
``.venv/bin/python examples/python/shared_ring.py`` after ``make python``.
"""

from __future__ import annotations

import sys
import time

import ringlock

NODES = [("cache-a", 1), ("cache-b", 2), ("cache-c", 1), ("cache-d", 1)]


def show(ring: ringlock.SharedRing, keys: list[str]) -> None:
    g = ring.generation
    for key in keys:
        print(f"generation {g}: {key} -> {ring.get(key)}")
    sys.stdout.flush()


def read_loop(ring: ringlock.SharedRing, until: int, out: str, most: int) -> int:
    last = 0
    written = 0
    lookups = 0
    i = 0
    with open(out, "w") as f:
        while True:
            key = f"k{i % 1000}"
            g1 = ring.generation
            node = ring.get(key)
            g2 = ring.generation
            lookups += 1
            if g1 < last or g2 < g1:
                print(f"shared_ring.py: generation went backwards: {last} then {g1} {g2}", file=sys.stderr)
                return 2
            last = g2
            if written < most and (i % 7 == 0 or g1 != g2):
                f.write(f"{g1} {g2} {key} {node}\n")
                written += 1
            i += 1
            if g2 >= until:
                break
    print(f"python reader: {lookups} lookups, last generation {last}")
    return 0


def main(argv: list[str]) -> int:
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 1
    mode, path = argv[1], argv[2]
    if mode == "publish":
        algorithm = argv[3] if len(argv) > 3 else "xxh3"
        g = ringlock.SharedRing.publish(ringlock.Ring(NODES, algorithm=algorithm), path)
        print(f"published generation {g}: {', '.join(n for n, _ in NODES)} ({algorithm})")
        return 0
    shared = ringlock.SharedRing(path)
    if mode == "add":
        ring = ringlock.Ring(shared.nodes, algorithm=shared.algorithm)
        ring.add(argv[3])
        g = ringlock.SharedRing.publish(ring, path)
        print(f"published generation {g}: {argv[3]} added")
    elif mode == "show":
        show(shared, argv[3:])
    elif mode == "watch":
        want = int(argv[3])
        show(shared, argv[4:])
        deadline = time.monotonic() + 30
        while shared.generation < want:
            if time.monotonic() > deadline:
                print(f"shared_ring.py: generation {want} never came", file=sys.stderr)
                return 1
            time.sleep(0.001)
        show(shared, argv[4:])
    elif mode == "read":
        most = int(argv[5]) if len(argv) > 5 else 50_000
        return read_loop(shared, int(argv[3]), argv[4], most)
    elif mode == "hold":
        for i in range(200_000):
            shared.get(f"m{i}")
        print("ready", flush=True)
        sys.stdin.read()
    else:
        print(f"shared_ring.py: unknown mode {mode!r}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except ringlock.Error as e:
        print(f"shared_ring.py: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
