#!/usr/bin/env python3
"""Table of the Rust ring benchmarks: medians and ratios, from criterion's JSON.

Reads <criterion dir>/<group>/<impl>/<nodes>/new/{benchmark,estimates}.json
(the median's point estimate, in ns) and <criterion dir>/ringlock-memory.tsv
(written by the bench). Standard library only. Prints PASS/MISS beside the
targets but always exits 0 when there are results: benchmarks are not timed
tests.

usage: report.py [CRITERION_DIR]   (default: bench/target/criterion)
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DIR = os.path.join(HERE, "target", "criterion")

# display order; anything else found is appended
ORDER = [
    "ringlock-xxh3",
    "ringlock-ketama",
    "ringlock-jump",
    "consistent_hash_ring",
    "hashring",
    "conhash",
    "floor-xxh3-mod",
    "floor-xxh3-fastrange",
    "xxh3-hash-only",
]
PEERS = ["consistent_hash_ring", "hashring", "conhash"]
BASE = "ringlock-xxh3"
FLOOR = "floor-xxh3-mod"
BATCH_KEYS = 4096  # keys per get_many_ids iteration (bench/src/lib.rs KEY_COUNT)


def load(root):
    """{group: {impl: {nodes: median_ns}}}"""
    res = {}
    for dirpath, _dirs, files in os.walk(root):
        if os.path.basename(dirpath) != "new" or "benchmark.json" not in files:
            continue
        try:
            with open(os.path.join(dirpath, "benchmark.json")) as f:
                meta = json.load(f)
            with open(os.path.join(dirpath, "estimates.json")) as f:
                est = json.load(f)
        except (OSError, ValueError):
            continue
        try:
            nodes = int(meta.get("value_str") or 0)
        except ValueError:
            continue
        res.setdefault(meta["group_id"], {}).setdefault(meta["function_id"], {})[
            nodes
        ] = est["median"]["point_estimate"]
    return res


def ordered(impls):
    return [i for i in ORDER if i in impls] + sorted(i for i in impls if i not in ORDER)


def table(header, rows):
    widths = [max(len(str(r[c])) for r in [header] + rows) for c in range(len(header))]
    line = lambda r: "  ".join(
        str(v).ljust(w) if c == 0 else str(v).rjust(w)
        for c, (v, w) in enumerate(zip(r, widths))
    )
    print(line(header))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print(line(r))


def fmt_ns(v):
    return "-" if v is None else (f"{v:.1f}" if v < 100 else f"{v:.0f}")


def fmt_x(v):
    return "-" if v is None else f"{v:.2f}x"


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_DIR
    res = load(root)
    get = res.get("get")
    if not get:
        print(f"no criterion results under {root}: run the Rust benches first")
        return 1
    sizes = sorted({n for per in get.values() for n in per})

    print("== Rust: ns per get, median (criterion), same 4,096 keys ==")
    rows = [[i] + [fmt_ns(get[i].get(n)) for n in sizes] for i in ordered(get)]
    table(["implementation"] + [f"{n} nodes" for n in sizes], rows)

    batch = res.get("get_many_ids", {}).get(BASE)
    if batch:
        print()
        print("== Rust: ringlock-xxh3 get_many_ids, ns per key (median / 4096) ==")
        table(
            ["implementation"] + [f"{n} nodes" for n in sizes],
            [["ringlock-xxh3 batch"] + [fmt_ns(batch[n] / BATCH_KEYS if n in batch else None) for n in sizes]],
        )

    spread = res.get("get_spread")
    if spread:
        ssizes = sorted({n for per in spread.values() for n in per})
        print()
        print("== Rust: spread keys: ns per get, median, 262,144 keys instead of 4,096 ==")
        table(["implementation"] + [f"{n} nodes" for n in ssizes],
              [[i] + [fmt_ns(spread[i].get(n)) for n in ssizes] for i in ordered(spread)])

    print()
    print("== Rust: ratios (higher peer/ringlock = ringlock faster; lower ringlock/floor = closer to the floor) ==")
    base = get.get(BASE, {})
    rows = []
    for p in [p for p in PEERS if p in get] + [i for i in ordered(get) if i.startswith("ringlock-") and i != BASE]:
        rows.append([f"{p} / {BASE}"] + [fmt_x(ratio(get[p].get(n), base.get(n))) for n in sizes])
    for fl in (FLOOR, "floor-xxh3-fastrange"):
        if fl in get:
            rows.append([f"{BASE} / {fl}"] + [fmt_x(ratio(base.get(n), get[fl].get(n))) for n in sizes])
    table(["ratio"] + [f"{n} nodes" for n in sizes], rows)

    if spread:
        sb = spread.get(BASE, {})
        rows = [[f"{p} / {BASE}"] + [fmt_x(ratio(spread[p].get(n), sb.get(n))) for n in ssizes]
                for p in PEERS if p in spread]
        if FLOOR in spread:
            rows.append([f"{BASE} / {FLOOR}"] + [fmt_x(ratio(sb.get(n), spread[FLOOR].get(n))) for n in ssizes])
        print()
        table(["ratio, spread keys"] + [f"{n} nodes" for n in ssizes], rows)

    mem = os.path.join(root, "ringlock-memory.tsv")
    if os.path.exists(mem):
        print()
        print("== ringlock lookup table memory (table_bytes / point_count) ==")
        with open(mem) as f:
            lines = [l.rstrip("\n").split("\t") for l in f if l.strip()]
        head, body = lines[0], lines[1:]
        table(["algorithm", "nodes", "points", "table bytes", "bytes/point"],
              [[r[0], r[1], r[2], r[3], f"{float(r[4]):.2f}"] for r in body])

    print()
    print("== targets (Rust) — reported, never enforced ==")
    big = max(sizes)
    chk = [
        (f"ringlock-xxh3 get at {big} nodes >= 2x faster than consistent_hash_ring",
         ratio(get.get("consistent_hash_ring", {}).get(big), base.get(big)), lambda r: r >= 2.0),
        (f"ringlock-xxh3 get at {big} nodes within 3x of the floor xxh3_64(key) % n",
         ratio(base.get(big), get.get(FLOOR, {}).get(big)), lambda r: r <= 3.0),
    ]
    if spread and big in spread.get(BASE, {}):
        sb = spread[BASE][big]
        chk += [
            (f"  same, spread keys (informative): >= 2x faster than consistent_hash_ring",
             ratio(spread.get("consistent_hash_ring", {}).get(big), sb), lambda r: r >= 2.0),
            (f"  same, spread keys (informative): within 3x of the floor",
             ratio(sb, spread.get(FLOOR, {}).get(big)), lambda r: r <= 3.0),
        ]
    for text, r, ok in chk:
        verdict = "n/a " if r is None else ("PASS" if ok(r) else "MISS")
        print(f"  {verdict}  {text}: {fmt_x(r)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
