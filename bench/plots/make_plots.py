#!/usr/bin/env python3
"""Draws the pictures of docs/benchmarks.md: runs the data generators, keeps
their TSV under docs/img/data/, writes docs/img/*.svg (`make plots`).

    make_plots.py --plot-data EXE --handoff EXE [--out DIR]   run, then draw
    make_plots.py --from-data [--out DIR]                     redraw only

EXE: target/release/examples/plot_data (core/examples/plot_data.rs: balance,
keys moved, ns per get for every algorithm at 10 to 1,000 nodes) and
build/bench/handoff (bench/c/handoff.c -t: lock hand-off latency, pinned and
not). The pictures are a pure function of the TSV: the same data give
byte-identical SVG (test_plots.py checks the committed ones).
"""

import argparse
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from svg import GREY, PALETTE, Series, dot_chart, line_chart  # noqa: E402

CORE = ["ketama", "xxh3", "jump", "maglev"]
REFERENCE = "hash%n"
REFERENCE_LABEL = "xxh3(key) % n"
# twemproxy's 15-bit crc32 on a 32-bit continuum, as twemproxy does: most
# keys on one node, off every scale; said in the subtitles instead
DEGENERATE = "twemproxy-crc32"


def read_tsv(path):
    """(comment lines, rows as dicts; numbers as float where they parse)."""
    comments, rows, header = [], [], None
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            if line.startswith("#"):
                comments.append(line[1:].strip())
                continue
            cells = line.split("\t")
            if header is None:
                header = cells
                continue
            row = {}
            for k, v in zip(header, cells):
                try:
                    row[k] = float(v)
                except ValueError:
                    row[k] = v
            rows.append(row)
    return comments, rows


def by_algorithm(rows):
    out = {}
    for r in rows:
        out.setdefault(r["algorithm"], []).append(r)
    return out


def core_series(algos, y, names=CORE, dash="", suffix=""):
    out = [Series(a + suffix, [(r["nodes"], y(r)) for r in algos[a]], PALETTE[i], dash,
                  ["circle", "square", "diamond", "triangle"][i])
           for i, a in enumerate(names)]
    return out


def reference(algos, y, name):
    return Series(name, [(r["nodes"], y(r)) for r in algos[REFERENCE]], GREY, "5 4", "circle")


def at(algos, nodes):
    """{algorithm: row} at a node count."""
    return {a: r for a, rs in algos.items() for r in rs if r["nodes"] == nodes}


def header(comments):
    """The generator's own first comment line ("ringlock 0.1.0 ...")."""
    return next((c for c in comments if c.startswith("ringlock ")), "ringlock ?, ?")


def loadavg(comments):
    """The load average the driver noted before the run, or ""."""
    for c in comments:
        if c.startswith("load average before the run:"):
            return "; load average " + c.split(":", 1)[1].split()[0] + " at the start"
    return ""


def ring_charts(comments, rows):
    algos = by_algorithm(rows)
    keys = header(comments).rsplit(",", 1)[-1].split()[0]
    keys = f"{int(keys):,} keys" if keys.isdigit() else keys
    src = f"{keys} \"key:<i>\", equal weights; make plots (core/examples/plot_data.rs)"
    listed = [a for a in algos if a != DEGENERATE]
    charts = {}

    charts["balance"] = line_chart(
        "Balance: the most loaded node against the mean", "nodes (log scale)",
        "peak / mean keys per node",
        core_series(algos, lambda r: r["peak_mean"])
        + [reference(algos, lambda r: r["peak_mean"], "xxh3(key) % n (sampling floor)")],
        x_log=True, subtitle=src)

    listed = [REFERENCE_LABEL if a == REFERENCE else a for a in listed]
    algos[REFERENCE_LABEL] = algos[REFERENCE]
    rows_all = listed
    charts["balance-all"] = dot_chart(
        "Balance of every algorithm and profile", "peak / mean keys per node (log scale)",
        rows_all,
        [Series(f"{n:,} nodes", [(a, at(algos, n)[a]["peak_mean"]) for a in rows_all],
                PALETTE[i], marker=m)
         for i, (n, m) in enumerate([(100, "circle"), (1000, "square")])],
        x_log=True, subtitle=f"{src}; {DEGENERATE} left out: most keys on one node")

    def ratio_add(r):
        return r["moved_add"] / r["ideal_add"]

    def ratio_remove(r):
        return r["moved_remove"] / r["ideal_remove"]

    charts["moved"] = line_chart(
        "Keys moved by one membership change, against the least possible",
        "nodes (log scale)", "keys moved / ideal (log scale)",
        core_series(algos, ratio_add, suffix=", node added")
        + [Series(s.name, s.points, s.colour, "6 3", s.marker)
           for s in core_series(algos, ratio_remove, suffix=", middle node leaves")]
        + [reference(algos, ratio_add, "xxh3(key) % n, node added")],
        x_log=True, y_log=True,
        subtitle=f"ideal: 1/(n+1) of the keys when a node joins, 1/n when one leaves; {keys}")

    rows_moved = [a for a in listed if a != REFERENCE_LABEL]
    charts["moved-all"] = dot_chart(
        "Keys moved by one membership change, every algorithm and profile",
        "keys moved / ideal (log scale)", rows_moved,
        [Series(label, [(a, f(at(algos, n)[a])) for a in rows_moved], PALETTE[i], marker=m)
         for i, (label, f, n, m) in enumerate([
             ("100 nodes, one added", ratio_add, 100, "circle"),
             ("100, middle one leaves", ratio_remove, 100, "square"),
             ("1,000, one added", ratio_add, 1000, "diamond"),
             ("1,000, middle leaves", ratio_remove, 1000, "triangle")])],
        x_log=True,
        subtitle=f"the added node sorts last; {keys}; {DEGENERATE} left out (most keys on one node)")

    lookup_src = ("Rust Ring::get, 4,096 keys cycling, median of 7 interleaved runs"
                  f"{loadavg(comments)}; make plots")
    charts["lookup"] = line_chart(
        "Lookup time against node count", "nodes (log scale)", "ns per get (log scale)",
        core_series(algos, lambda r: r["get_ns"])
        + [reference(algos, lambda r: r["get_ns"], "xxh3(key) % n (no ring)")],
        x_log=True, y_log=True,
        subtitle=lookup_src)

    charts["lookup-all"] = dot_chart(
        "Lookup time of every algorithm and profile", "ns per get (log scale)", listed,
        [Series(f"{n:,} nodes", [(a, at(algos, n)[a]["get_ns"]) for a in listed],
                PALETTE[i], marker=m)
         for i, (n, m) in enumerate([(10, "circle"), (1000, "square")])],
        x_log=True,
        subtitle=lookup_src)
    return charts


def handoff_chart(comments, rows):
    labels, points = [], {"gated p50": [], "gated p90": [], "gated p99": [], "free-running p50": []}
    for r in rows:
        row = f"{r['mechanism']}, {'pinned' if r['pinned'] == 'yes' else 'not pinned'}"
        if row not in labels:
            labels.append(row)
        if r["phase"] == "gated":
            for q in ("p50", "p90", "p99"):
                points[f"gated {q}"].append((row, r[f"{q}_us"]))
        else:
            points["free-running p50"].append((row, r["p50_us"]))
    markers = ["circle", "square", "diamond", "triangle"]
    colours = [PALETTE[0], PALETTE[4], PALETTE[1], GREY]
    series = [Series(k, points[k], colours[i], marker=markers[i]) for i, k in enumerate(points)]
    rounds = header(comments).split(",")[1].strip()
    return {"handoff": dot_chart(
        "Lock hand-off between two processes: release to the waiter's return",
        "microseconds (log scale)", labels, series, x_log=True,
        subtitle=f"C, bench/c/handoff.c -t, {rounds}{loadavg(comments)}; gated: the waiter "
                 "verified asleep in the kernel")}


def run(cmd, path):
    """cmd's output, after a comment line with the load average before it ran."""
    print("+", " ".join(cmd), ">", path, flush=True)
    with open("/proc/loadavg", encoding="ascii") as f:
        load = " ".join(f.read().split()[:3])
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout
    return f"# load average before the run: {load}\n" + out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="docs/img")
    ap.add_argument("--from-data", action="store_true", help="redraw from OUT/data/*.tsv")
    ap.add_argument("--plot-data", help="the plot_data example binary")
    ap.add_argument("--handoff", help="the C hand-off bench binary")
    ap.add_argument("--keys", default="500000")
    ap.add_argument("--handoff-args", default="-r 5")
    a = ap.parse_args()
    data = os.path.join(a.out, "data")
    os.makedirs(data, exist_ok=True)
    ring_tsv, handoff_tsv = os.path.join(data, "ring.tsv"), os.path.join(data, "handoff.tsv")
    if not a.from_data:
        if not a.plot_data or not a.handoff:
            ap.error("--plot-data and --handoff (or --from-data)")
        text = run([a.plot_data, "--keys", a.keys], ring_tsv)
        with open(ring_tsv, "w", encoding="utf-8") as f:
            f.write(text)
        args = a.handoff_args.split()
        text = run([a.handoff, "-t", *args], handoff_tsv)
        unpinned = run([a.handoff, "-t", "-u", *args], handoff_tsv)
        # one header line for both
        text += "".join(l + "\n" for l in unpinned.splitlines() if not l.startswith("mechanism\t"))
        with open(handoff_tsv, "w", encoding="utf-8") as f:
            f.write(text)
    charts = ring_charts(*read_tsv(ring_tsv))
    charts.update(handoff_chart(*read_tsv(handoff_tsv)))
    for name, svg in sorted(charts.items()):
        path = os.path.join(a.out, f"{name}.svg")
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write(svg)
        print("wrote", path)


if __name__ == "__main__":
    main()
