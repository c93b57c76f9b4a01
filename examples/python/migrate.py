"""What adding a node to a ring moves: a migration plan from ``Ring.diff``.

Builds a ring of ten cache servers, adds an eleventh, and prints the plan:
how many ranges of key positions change owner, the share of the key space
that moves, how that share splits between the (old -> new) pairs, and the
first few ranges. Then it checks the plan on sample keys: a key moves iff its
position (``Ring.position``) falls in a range. Run it as
``.venv/bin/python examples/python/migrate.py [ketama|xxh3]`` after
``make python``.
"""

from __future__ import annotations

import bisect
import sys
from collections import defaultdict

import ringlock


def main(algorithm: str = "xxh3") -> None:
    servers = [f"10.0.1.{i}:11211" for i in range(1, 11)]
    before = ringlock.Ring(servers, algorithm=algorithm)  # type: ignore[arg-type]
    after = before.copy()
    after.add("10.0.1.11:11211")

    plan = before.diff(after)
    print(f"adding 10.0.1.11:11211 to a {algorithm} ring of {len(before)} nodes")
    print(f"ranges: {len(plan.moves)}")
    print(f"fraction: {plan.fraction:.6f} of the key space ({plan.moved} of {plan.space} positions)")

    share: dict[tuple[str | None, str | None], int] = defaultdict(int)
    for m in plan.moves:
        share[(m.old, m.new)] += m.end - m.start
    for (old, new), size in sorted(share.items(), key=lambda kv: -kv[1]):
        print(f"  {old} -> {new}: {size / plan.space:.6f}")

    print("first ranges [start, end):")
    for m in plan.moves[:5]:
        print(f"  [{m.start:#018x}, {m.end:#018x}) {m.old} -> {m.new}")

    # The plan is exact: check it on sample keys.
    starts = [m.start for m in plan.moves]
    keys = [f"user:{i}" for i in range(20_000)]
    moved = 0
    for key in keys:
        pos = before.position(key)
        i = bisect.bisect_right(starts, pos) - 1
        in_range = i >= 0 and pos < plan.moves[i].end
        if in_range != (before[key] != after[key]):
            raise SystemExit(f"key {key!r} disagrees with the plan")
        moved += in_range
    print(f"sample: {moved} of {len(keys)} keys moved ({moved / len(keys):.4f}), all as planned")


if __name__ == "__main__":
    main(*sys.argv[1:2])
