#!/usr/bin/env python3
"""Python placement benchmarks: ringlock beside its peer packages.

- `ringlock.Ring.get` (xxh3, ketama) beside uhashring's `HashRing.get_node`
  (hash_fn="ketama", and its default), at 10, 100 and 1,000 nodes;
- `ring.get_many(keys)` on a 100,000-key list, per key;
- `ringlock.jump_hash` beside `jump.hash` (PyPI jump-consistent-hash).

Every get is timed in a plain `for k in keys: get(k)` loop over the same
4,096 keys (the Rust benches' keys), `get` bound beforehand. The loop's own
cost ("loop overhead": `for k in keys: pass`) is included in every row alike;
"floor: dict.get" is the same loop calling a C method of one argument, the
least a call from Python can cost. timeit with repeats; MEDIANS of the
repeats, ns per op. Ratios are of the raw medians (loop included, which
understates ringlock's lead); the target lines also give them net of the
loop. Targets are printed PASS/MISS and never fail the run: benchmarks are not
timed tests.

usage: bench_ring.py [--quick]
"""

import gc
import statistics
import sys
import timeit

from benchfmt import fmt_x, ratio, table, verdict

SIZES = (10, 100, 1000)
KEY_COUNT = 4096  # as bench/src/lib.rs
MANY_KEYS = 100_000
BIG = 1000  # targets are judged at this size

QUICK = "--quick" in sys.argv
# Measurements are interleaved: each round times every case of a section once
# (the fast ones FAST_SAMPLES times), so a burst of load from a neighbour hits
# ringlock and its peer alike and the ratios stay meaningful.
ROUNDS = 3 if QUICK else 9
FAST_SAMPLES = 1 if QUICK else 3
ROUNDS_BATCH = 1 if QUICK else 5  # the 100,000-key section (~0.3 s per uhashring run)


def xorshift(seed):
    x = seed
    mask = (1 << 64) - 1
    while True:
        x ^= (x << 13) & mask
        x ^= x >> 7
        x ^= (x << 17) & mask
        yield x


def make_keys(n, seed=0x2545F4914F6CDD1D):
    """The same keys as the Rust benches ("user:123456"), first n of them."""
    g = xorshift(seed)
    return [f"user:{next(g) % 1_000_000:06d}" for _ in range(n)]


def node_names(n):
    return [f"10.0.{i // 256}.{i % 256}:11211" for i in range(n)]


def interleaved(cases, rounds):
    """cases: {label: (fn, ops, samples_per_round)}. Runs `rounds` rounds,
    each timing every case `samples_per_round` times (timeit, one call of fn
    doing `ops` operations) after one untimed call that brings its data back
    into the caches the previous case evicted it from (the same warm state for
    ringlock and its peers); returns {label: median ns per op}."""
    samples = {label: [] for label in cases}
    for _ in range(rounds):
        for label, (fn, ops, per_round) in cases.items():
            fn()
            samples[label] += timeit.repeat(fn, number=1, repeat=per_round)
    return {
        label: statistics.median(samples[label]) / cases[label][1] * 1e9 for label in cases
    }


def loop_get(get, keys):
    def run():
        for k in keys:
            get(k)

    return run


def loop_empty(keys):
    def run():
        for _k in keys:
            pass

    return run


def fmt_ns(v):
    if v is None:
        return "-"
    return f"{v:.1f}" if v < 100 else f"{v:,.0f}"


def main():
    try:
        import ringlock
    except ImportError as e:
        print(f"cannot import ringlock ({e}): run `make python` first")
        return 1
    try:
        import uhashring
    except ImportError:
        uhashring = None
        print("uhashring not installed: its rows are skipped (pip install -r bench/requirements.txt)")
    try:
        import jump
    except ImportError:
        jump = None
        print("jump-consistent-hash not installed: its row is skipped")

    print(
        f"Python {sys.version.split()[0]}, ringlock {getattr(ringlock, '__version__', '?')}"
        f"{', uhashring ' + getattr(uhashring, '__version__', '?') if uhashring else ''}; "
        f"interleaved rounds: {ROUNDS} ({ROUNDS_BATCH} for 100,000 keys), medians, ns per op"
    )
    keys = make_keys(KEY_COUNT)

    # ---- get -------------------------------------------------------------
    impls = ["ringlock xxh3 get", "ringlock ketama get", "ringlock jump get"]
    if uhashring:
        impls += ["uhashring ketama get_node", "uhashring default get_node"]
    impls += ["floor: dict.get (a C call)", "loop overhead"]
    res = {i: {} for i in impls}
    agree = {}
    for n in SIZES:
        names = node_names(n)
        rings = {a: ringlock.Ring(names, algorithm=a) for a in ("xxh3", "ketama", "jump")}
        cases = {
            f"ringlock {a} get": (loop_get(ring.get, keys), len(keys), FAST_SAMPLES)
            for a, ring in rings.items()
        }
        if uhashring:
            hk = uhashring.HashRing(names, hash_fn="ketama")
            hd = uhashring.HashRing(names)
            cases["uhashring ketama get_node"] = (loop_get(hk.get_node, keys), len(keys), 1)
            cases["uhashring default get_node"] = (loop_get(hd.get_node, keys), len(keys), 1)
            # same placement as libketama: a sanity check, not a test
            agree[n] = sum(rings["ketama"].get(k) == hk.get_node(k) for k in keys)
        d = {k: names[0] for k in keys}
        cases["floor: dict.get (a C call)"] = (loop_get(d.get, keys), len(keys), FAST_SAMPLES)
        cases["loop overhead"] = (loop_empty(keys), len(keys), FAST_SAMPLES)
        for label, v in interleaved(cases, ROUNDS).items():
            res[label][n] = v
        gc.collect()

    print()
    print(f"== Python: ns per get, median, same {KEY_COUNT:,} keys (loop included) ==")
    table(
        ["implementation"] + [f"{n} nodes" for n in SIZES],
        [[i] + [fmt_ns(res[i].get(n)) for n in SIZES] for i in impls],
    )
    if agree:
        print(
            "ringlock ketama == uhashring ketama on "
            + ", ".join(f"{agree[n]}/{len(keys)} keys at {n} nodes" for n in SIZES)
        )
        if any(v != len(keys) for v in agree.values()):
            print(
                "  (a key whose hash equals a point exactly: libketama and ringlock give that\n"
                "   point's node, uhashring's bisect_right the next one; see docs/benchmarks.md)"
            )

    # ---- get_many ----------------------------------------------------------
    # Every per-key cost here is over the same 100,000 keys, so the key
    # objects and the ring's table are as cold for the loops as for get_many.
    many = make_keys(MANY_KEYS, seed=0x9E3779B97F4A7C15)
    names = node_names(BIG)
    cases = {}
    for a in ("xxh3", "ketama"):
        ring = ringlock.Ring(names, algorithm=a)
        out = ring.get_many(many)
        assert len(out) == len(many) and out[0] == ring.get(many[0])
        cases[f"ringlock {a} get_many"] = (lambda r=ring: r.get_many(many), len(many), FAST_SAMPLES)
        cases[f"ringlock {a} get (loop)"] = (loop_get(ring.get, many), len(many), FAST_SAMPLES)
        if a == "xxh3":
            cases["warm"] = (lambda r=ring: r.get_many(keys), len(keys), 3 * FAST_SAMPLES)
    if uhashring:
        for label, kw in (("default", {}), ("ketama", {"hash_fn": "ketama"})):
            h = uhashring.HashRing(names, **kw)
            cases[f"uhashring {label} get_node (loop)"] = (loop_get(h.get_node, many), len(many), 1)
    cases["loop overhead"] = (loop_empty(many), len(many), FAST_SAMPLES)
    gm = interleaved(cases, ROUNDS_BATCH)  # label -> ns per key
    warm = gm.pop("warm")
    print()
    print(f"== Python: per key over the same {MANY_KEYS:,}-key list at {BIG} nodes, median ==")
    table(["implementation", "ns/key"], [[k, fmt_ns(v)] for k, v in gm.items()])
    print(f"(ringlock xxh3 get_many on the {KEY_COUNT:,}-key list, cache-warm: {fmt_ns(warm)} ns/key)")

    # ---- jump ----------------------------------------------------------------
    g = xorshift(0xD1B54A32D192ED03)
    ikeys = [next(g) >> 1 for _ in range(KEY_COUNT)]  # non-negative 63-bit ints

    def loop_jump(f, buckets):
        def run():
            for k in ikeys:
                f(k, buckets)

        return run

    cases = {"ringlock.jump_hash": (loop_jump(ringlock.jump_hash, BIG), len(ikeys), FAST_SAMPLES)}
    jagree = None
    if jump:
        cases["jump.hash"] = (loop_jump(jump.hash, BIG), len(ikeys), FAST_SAMPLES)
        jagree = sum(ringlock.jump_hash(k, BIG) == jump.hash(k, BIG) for k in ikeys)
    jres = interleaved(cases, ROUNDS)
    jres["loop overhead"] = res["loop overhead"][BIG]
    print()
    print(f"== Python: jump hash, {BIG} buckets, ns per call, median, {KEY_COUNT:,} int keys ==")
    table(["implementation", "ns/call"], [[k, fmt_ns(v)] for k, v in jres.items()])
    if jagree is not None:
        print(f"ringlock.jump_hash == jump.hash on {jagree}/{len(ikeys)} keys")

    # ---- ratios and targets ------------------------------------------------------
    pairs = [
        ("uhashring default get_node", "ringlock xxh3 get"),
        ("uhashring ketama get_node", "ringlock ketama get"),
        ("uhashring ketama get_node", "ringlock xxh3 get"),
    ]
    print()
    print("== Python: ratios (peer / ringlock: higher = ringlock faster) ==")
    rows = []
    if uhashring:
        for peer, mine in pairs:
            rows.append(
                [f"{peer} / {mine}"]
                + [fmt_x(ratio(res[peer].get(n), res[mine].get(n))) for n in SIZES]
            )
    if rows:
        table(["ratio (4,096 keys)"] + [f"{n} nodes" for n in SIZES], rows)
    rows = []
    many_pairs = [
        ("uhashring default get_node (loop)", "ringlock xxh3 get_many"),
        ("uhashring ketama get_node (loop)", "ringlock ketama get_many"),
        ("uhashring default get_node (loop)", "ringlock xxh3 get (loop)"),
        ("uhashring ketama get_node (loop)", "ringlock ketama get (loop)"),
    ]
    if uhashring:
        for peer, mine in many_pairs:
            rows.append([f"{peer} / {mine}", fmt_x(ratio(gm[peer], gm[mine]))])
    if "jump.hash" in jres:
        rows.append(["jump.hash / ringlock.jump_hash",
                     fmt_x(ratio(jres["jump.hash"], jres["ringlock.jump_hash"]))])
    if rows:
        print()
        table([f"ratio ({MANY_KEYS:,} keys; jump: {KEY_COUNT:,})", f"{BIG} nodes"], rows)

    print()
    print("== targets (Python) — reported, never enforced ==")
    # The targets are about the default algorithm (xxh3) against uhashring's
    # default; the ketama-against-ketama lines are like-for-like information
    # (ketama's MD5 alone costs more than the whole xxh3 budget).
    checks = []
    if uhashring:
        loop = res["loop overhead"][BIG]
        for (peer, mine), kind in zip(pairs[:2], ("target", "ketama, informative")):
            checks.append((kind, f"{mine} >= 30x faster than {peer} at {BIG} nodes",
                           ratio(res[peer][BIG], res[mine][BIG]), 30.0,
                           ("both net of the loop",
                            ratio(res[peer][BIG] - loop, res[mine][BIG] - loop))))
        loop = gm["loop overhead"]
        for (peer, mine), kind in zip(many_pairs[:2], ("target", "ketama, informative")):
            checks.append((kind, f"{mine} per key >= 100x faster than {peer} per key, "
                           f"{MANY_KEYS:,} keys, {BIG} nodes",
                           ratio(gm[peer], gm[mine]), 100.0,
                           ("peer net of its loop", ratio(gm[peer] - loop, gm[mine]))))
    for kind, text, r, need, net in sorted(checks, key=lambda c: c[0] != "target"):
        extra = f" ({net[0]}: {fmt_x(net[1])})" if net and net[1] else ""
        print(f"  {verdict(r, lambda x: x >= need)}  [{kind}] {text}: {fmt_x(r)}{extra}")
    if not checks:
        print("  n/a   uhashring not installed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
