#!/usr/bin/env python3
"""Checks the SVG writer and the committed pictures (`make test-plots`;
standard library only, also runs under pytest):

- the same data give byte-identical SVG, which parses as XML (xml.etree)
  with one <g><title> per series and the legend's names;
- docs/img/*.svg are exactly what make_plots.py draws from
  docs/img/data/*.tsv (redrawn into a temporary directory and compared).
"""

import filecmp
import os
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

import svg  # noqa: E402

NS = "{http://www.w3.org/2000/svg}"


def parse(doc):
    root = ET.fromstring(doc)
    assert root.tag == NS + "svg", root.tag
    return root


def series_titles(root):
    return [g.find(NS + "title").text for g in root.iter(NS + "g")]


def texts(root):
    return [t.text for t in root.iter(NS + "text")]


def sample_line():
    return svg.line_chart(
        "Lookup <time> & more", "nodes", "ns per get",
        [svg.Series("a", [(10, 5.0), (100, 7.5), (1000, 12.25)]),
         svg.Series("b & c", [(10, 50.0), (100, 60.0), (1000, 90.0)], svg.PALETTE[1], "5 4")],
        x_log=True, y_log=True, subtitle="sub")


def sample_dots():
    return svg.dot_chart(
        "Balance", "peak / mean", ["ketama", "xxh3", "jump"],
        [svg.Series("100 nodes", [("ketama", 1.22), ("xxh3", 1.18), ("jump", 1.04)]),
         svg.Series("1,000 nodes", [("ketama", 1.34), ("jump", 1.15)], svg.PALETTE[1],
                    marker="square")])


def test_deterministic_and_well_formed():
    for make, names in ((sample_line, ["a", "b & c"]), (sample_dots, ["100 nodes", "1,000 nodes"])):
        one, two = make(), make()
        assert one == two, "same data, different SVG"
        root = parse(one)
        assert series_titles(root) == names, series_titles(root)
        for name in names:
            assert name in texts(root), f"{name!r} not in the legend"
    root = parse(sample_line())
    assert root.find(NS + "title").text == "Lookup <time> & more"
    assert len(list(root.iter(NS + "polyline"))) == 2
    root = parse(sample_dots())
    # one dot per value: 3 + 2, plus one legend marker per series
    dots = list(root.iter(NS + "circle")) + list(root.iter(NS + "rect"))
    assert len(dots) == 3 + 2 + 2 + 1, len(dots)  # + the white background rect


def test_ticks():
    s = svg.Scale([4.0, 171.0], 0, 100, log=True)
    assert (s.lo, s.hi) == (2, 200), (s.lo, s.hi)
    labelled = [v for v, lab in s.ticks() if lab]
    assert labelled == [2, 5, 10, 20, 50, 100, 200], labelled
    s = svg.Scale([1.0, 1.58], 0, 100)
    assert [v for v, _ in s.ticks()] == [1.0, 1.2, 1.4, 1.6], s.ticks()
    assert svg.label(1000) == "1,000" and svg.label(0.5) == "0.5" and svg.label(1.2) == "1.2"


def test_committed_pictures_match_their_data():
    img = os.path.join(ROOT, "docs", "img")
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(os.path.join(img, "data"), os.path.join(tmp, "data"))
        subprocess.run([sys.executable, os.path.join(HERE, "make_plots.py"), "--from-data",
                        "--out", tmp], check=True, stdout=subprocess.DEVNULL)
        drawn = sorted(f for f in os.listdir(tmp) if f.endswith(".svg"))
        committed = sorted(f for f in os.listdir(img) if f.endswith(".svg"))
        assert drawn == committed, (drawn, committed)
        for f in drawn:
            assert filecmp.cmp(os.path.join(tmp, f), os.path.join(img, f), shallow=False), \
                f"docs/img/{f} differs from what make_plots.py draws of docs/img/data"
            with open(os.path.join(img, f), encoding="utf-8") as fh:
                names = series_titles(parse(fh.read()))
            assert names, f"{f}: no series"
            if f in ("balance.svg", "lookup.svg"):
                assert names[:4] == ["ketama", "xxh3", "jump", "maglev"], (f, names)
            if f == "handoff.svg":
                assert names == ["gated p50", "gated p90", "gated p99", "free-running p50"], names


if __name__ == "__main__":
    tests = [v for k, v in sorted(globals().items()) if k.startswith("test_")]
    for t in tests:
        t()
    print(f"bench/plots: {len(tests)} tests passed")
