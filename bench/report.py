#!/usr/bin/env python3
"""Tables of the Rust benchmarks: medians and ratios, from criterion's JSON.

Ring benches (benches/ring.rs): reads
<criterion dir>/<group>/<impl>/<nodes>/new/{benchmark,estimates}.json (the
median's point estimate, in ns) and <criterion dir>/ringlock-memory.tsv
(written by the bench). Lock benches (benches/lock.rs): the groups
lock_exclusive, lock_shared and lock_parts (<group>/<impl>/new/...).
Standard library only. Prints PASS/MISS beside the targets but always exits 0
when there are results: benchmarks are not timed tests.

usage: report.py [--ring | --lock] [CRITERION_DIR]   (default: bench/target/criterion;
       --ring / --lock: only that part)
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "python"))
from benchfmt import fmt_x as fmt_ratio, ratio, table, verdict  # noqa: E402
DEFAULT_DIR = os.path.join(HERE, "target", "criterion")

# display order; anything else found is appended
ORDER = [
    "ringlock-xxh3",
    "ringlock-ketama",
    "ringlock-jump",
    "ringlock-maglev",
    "maglev-crate",
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


def fmt_ns(v):
    return "-" if v is None else (f"{v:.1f}" if v < 100 else f"{v:.0f}")


def fmt_x(v):
    return fmt_ratio(v, places=2)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    only = {a for a in sys.argv[1:] if a in ("--ring", "--lock")}
    root = args[0] if args else DEFAULT_DIR
    res = load(root)
    if only == {"--ring"}:
        res.pop("lock_exclusive", None)
    elif only == {"--lock"}:
        res.pop("get", None)
    if not res.get("get") and not res.get("lock_exclusive"):
        print(f"no criterion results under {root}: run the Rust benches first")
        return 1
    if res.get("get"):
        ring_report(res, root)
    if res.get("lock_exclusive"):
        if res.get("get"):
            print()
        lock_report(res, root)
    return 0


# display order of the lock rows; anything else found is appended
LOCK_ORDER = [
    "ringlock-shm",
    "ringlock-file",
    "raw-robust-mutex",
    "raw-flock",
    "raw-flock-sh",
    "raw-rwlock-rd",
]
LOCK_PARTS = ["rmw-2", "rmw-3", "rmw-7", "clock-realtime-coarse"]


def load_paired(root):
    """{pair: (ratio, a_ns, b_ns, rounds)} from lock-paired.tsv, if any."""
    path = os.path.join(root, "lock-paired.tsv")
    out = {}
    try:
        with open(path) as f:
            for line in list(f)[1:]:
                r = line.rstrip("\n").split("\t")
                if len(r) == 5:
                    out[r[0]] = (float(r[1]), float(r[2]), float(r[3]), int(r[4]))
    except (OSError, ValueError):
        pass
    return out


def lock_report(res, root):
    ex = {i: v.get(0) for i, v in res.get("lock_exclusive", {}).items()}
    sh = {i: v.get(0) for i, v in res.get("lock_shared", {}).items()}
    impls = [i for i in LOCK_ORDER if i in ex or i in sh]
    impls += sorted(i for i in set(ex) | set(sh) if i not in LOCK_ORDER)

    print("== Rust: uncontended acquire + release, ns per pair, median (criterion), one thread ==")
    table(["implementation", "exclusive", "shared"],
          [[i, fmt_ns(ex.get(i)), fmt_ns(sh.get(i))] for i in impls])

    print()
    print("== Rust: lock ratios (ringlock / its raw baseline: lower = closer to the raw mechanism) ==")
    pairs = [
        ("ringlock-shm / raw-robust-mutex", ex, "ringlock-shm", "raw-robust-mutex"),
        ("ringlock-file / raw-flock", ex, "ringlock-file", "raw-flock"),
        ("ringlock-file shared / raw-flock-sh", sh, "ringlock-file", "raw-flock-sh"),
        ("ringlock-shm shared / raw-rwlock-rd (not robust)", sh, "ringlock-shm", "raw-rwlock-rd"),
        ("ringlock-shm shared / ringlock-shm exclusive", None, "ringlock-shm", "ringlock-shm"),
    ]
    rows = []
    for text, grp, a, b in pairs:
        r = ratio(sh.get(a), ex.get(b)) if grp is None else ratio(grp.get(a), grp.get(b))
        if r is not None:
            rows.append([text, fmt_x(r)])
    table(["ratio", "median"], rows)

    parts = res.get("lock_parts", {})
    if parts:
        print()
        print("== Rust: lock parts (informative): what the pieces of a fast path cost here ==")
        names = [p for p in LOCK_PARTS if p in parts] + sorted(p for p in parts if p not in LOCK_PARTS)
        table(["part", "ns"], [[p, fmt_ns(parts[p].get(0))] for p in names])

    paired = load_paired(root)
    if paired:
        print()
        print("== Rust: the target ratios again, interleaved rounds (both sides timed back to back) ==")
        table(["ratio", "median", "a ns", "b ns", "rounds"],
              [[k.replace("/", " / "), fmt_x(v[0]), fmt_ns(v[1]), fmt_ns(v[2]), v[3]]
               for k, v in paired.items()])

    print()
    print("== targets (Rust locks) — reported, never enforced ==")
    chk = [
        ("ringlock-shm exclusive acquire+release within 1.5x of a raw robust pthread mutex",
         ratio(ex.get("ringlock-shm"), ex.get("raw-robust-mutex")),
         paired.get("ringlock-shm/raw-robust-mutex"), 1.5),
        ("ringlock-file exclusive acquire+release within 1.2x of raw flock(LOCK_EX)+flock(LOCK_UN)",
         ratio(ex.get("ringlock-file"), ex.get("raw-flock")),
         paired.get("ringlock-file/raw-flock"), 1.2),
    ]
    for text, r, p, limit in chk:
        for how, v in (("criterion medians", r), ("interleaved rounds", p[0] if p else None)):
            print(f"  {verdict(v, lambda x: x <= limit)}  {text} ({how}): {fmt_x(v)}")


def maglev_rows(grp, sizes):
    """Ratio rows of ringlock-maglev: to the floor, and the maglev crate to it."""
    mg = grp.get("ringlock-maglev")
    if not mg:
        return []
    rows = []
    if FLOOR in grp:
        rows.append([f"ringlock-maglev / {FLOOR}"] + [fmt_x(ratio(mg.get(n), grp[FLOOR].get(n))) for n in sizes])
    if "maglev-crate" in grp:
        rows.append(["maglev-crate / ringlock-maglev"] + [fmt_x(ratio(grp["maglev-crate"].get(n), mg.get(n))) for n in sizes])
    return rows


def ring_report(res, root):
    get = res["get"]
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
    rows += maglev_rows(get, sizes)
    table(["ratio"] + [f"{n} nodes" for n in sizes], rows)

    if spread:
        sb = spread.get(BASE, {})
        rows = [[f"{p} / {BASE}"] + [fmt_x(ratio(spread[p].get(n), sb.get(n))) for n in ssizes]
                for p in PEERS if p in spread]
        if FLOOR in spread:
            rows.append([f"{BASE} / {FLOOR}"] + [fmt_x(ratio(sb.get(n), spread[FLOOR].get(n))) for n in ssizes])
        rows += maglev_rows(spread, ssizes)
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
    mg = get.get("ringlock-maglev", {})
    if mg:
        chk += [
            (f"ringlock-maglev get at {big} nodes within 2x of the floor xxh3_64(key) % n",
             ratio(mg.get(big), get.get(FLOOR, {}).get(big)), lambda r: r <= 2.0),
            (f"  ringlock-maglev get at {big} nodes vs the maglev crate (crate / ringlock, informative)",
             ratio(get.get("maglev-crate", {}).get(big), mg.get(big)), lambda r: r >= 1.0),
        ]
    for text, r, ok in chk:
        print(f"  {verdict(r, ok)}  {text}: {fmt_x(r)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
