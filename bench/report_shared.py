#!/usr/bin/env python3
"""The Rust SharedRing table from criterion's JSON (benches/shared.rs):
`get` from the mapping beside `Ring::get` on the same nodes and keys (the
ratio shared / ring), per algorithm and size, and one publish at 1,000
nodes. Standard library only; always exits 0 when there are results:
benchmarks are not timed tests. The rows are measured one after the other,
so their ratio carries the machine's noise; the 1.2x target (Rust
`SharedRing::get` within 1.2x of `Ring::get`) is printed PASS/MISS by the
interleaved bench benches/shared_pair.rs instead.

usage: report_shared.py [CRITERION_DIR]   (default: bench/target/criterion)
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "python"))
sys.path.insert(0, HERE)
from benchfmt import fmt_x, ratio, table  # noqa: E402
from report import DEFAULT_DIR, fmt_ns, load  # noqa: E402

ALGORITHMS = ("xxh3", "ketama", "jump", "maglev")
SIZES = (10, 100, 1000)


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_DIR
    res = load(root)
    get = res.get("shared-get", {})
    pub = res.get("shared-publish", {})
    if not get and not pub:
        print(f"no shared-ring results under {root}: run `make bench-shared`")
        return 1
    rows = []
    for a in ALGORITHMS:
        for n in SIZES:
            r = get.get(f"ring-{a}", {}).get(n)
            s = get.get(f"shared-{a}", {}).get(n)
            x = ratio(s, r)
            rows.append([f"{a} {n}", fmt_ns(r), fmt_ns(s), fmt_x(x, 2)])
    print("== Rust: ns per get, median (criterion), same 4,096 keys ==")
    table(["algorithm nodes", "Ring::get", "SharedRing::get", "shared/ring"], rows)
    print("(each row measured on its own, one after the other: absolute times; the 1.2x")
    print(" target is judged on the interleaved shared_pair bench that follows)")
    print()
    print("== Rust: SharedRing::publish of a 1,000-node ring, median (criterion) ==")
    table(["algorithm", "ms"],
          [[a, "-" if pub.get(a, {}).get(1000) is None else f"{pub[a][1000] / 1e6:.2f}"]
           for a in ALGORITHMS])
    return 0


if __name__ == "__main__":
    sys.exit(main())
