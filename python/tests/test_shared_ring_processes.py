"""SharedRing between real processes: C and Python readers looking keys up
while a publisher republishes (every answer is the answer of the generation
the reader saw, generations never go backwards), publishers killed with
SIGKILL at random points, two publisher processes at once, and 32 readers
sharing the ring's pages (no private copy in /proc/<pid>/smaps).

Sizes for `make test` keep the file under a minute on 2 cores; longer
runs: RINGLOCK_SR_GENERATIONS (1000), RINGLOCK_SR_KILL_ROUNDS (200),
RINGLOCK_SR_PUBLISHES (100 per publisher of the two)."""

from __future__ import annotations

import os
import random
import re
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import pytest

import ringlock

REPO = Path(__file__).resolve().parents[2]
SHARED_C = REPO / "build" / "examples" / "shared_ring_c"
SHARED_PY = REPO / "examples" / "python" / "shared_ring.py"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

GENERATIONS = int(os.environ.get("RINGLOCK_SR_GENERATIONS", "1000"))
KILL_ROUNDS = int(os.environ.get("RINGLOCK_SR_KILL_ROUNDS", "200"))
PUBLISHES = int(os.environ.get("RINGLOCK_SR_PUBLISHES", "100"))
Algorithm = Literal["ketama", "xxh3", "jump", "maglev"]
ALGORITHMS: tuple[Algorithm, ...] = ("ketama", "xxh3", "jump", "maglev")
KEYS = [f"k{i}" for i in range(1000)]  # the keys the example readers look up


def reader_programs(count: int) -> list[list[str]]:
    """`count` reader commands, C and Python alternating when the C example
    is built (Python only otherwise, failing in CI)."""
    python = [sys.executable, str(SHARED_PY)]
    if SHARED_C.exists():
        return [[str(SHARED_C)] if i % 2 == 0 else python for i in range(count)]
    if IN_CI:
        pytest.fail(f"{SHARED_C} is missing: `make c-examples` builds it (test-python depends on it)")
    return [python] * count


def membership_changes(count: int, seed: int) -> list[ringlock.Ring]:
    """`count` rings, each one change from the one before: a node added or
    removed, a weight changed, or the algorithm switched (never empty)."""
    rng = random.Random(seed)
    nodes = {f"10.0.0.{i}:11211": 1 for i in range(5)}
    algorithm: Algorithm = "xxh3"
    fresh = 5
    rings = []
    for _ in range(count):
        op = rng.randrange(4)
        if op == 0 or len(nodes) < 3:
            nodes[f"10.0.{fresh // 250}.{fresh % 250}:11211"] = rng.randint(1, 3)
            fresh += 1
        elif op == 1 and len(nodes) > 3:
            del nodes[rng.choice(sorted(nodes))]
        elif op == 2:
            nodes[rng.choice(sorted(nodes))] = rng.randint(1, 4)
        else:
            algorithm = rng.choice([a for a in ALGORITHMS if a != algorithm])
        if len(nodes) > 24:
            del nodes[rng.choice(sorted(nodes))]
        rings.append(ringlock.Ring(sorted(nodes.items()), algorithm=algorithm))
    return rings


def wait_for(what: str, done: Callable[[], bool], procs: list[subprocess.Popen[str]]) -> None:
    """Polls `done` until it holds; fails if a process exits first."""
    deadline = time.monotonic() + 120
    while not done():
        for p in procs:
            if p.poll() is not None:
                raise AssertionError(f"{p.args!r} exited with {p.returncode} before {what}: {p.communicate()[1]!r}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)


# ---- readers while a publisher republishes --------------------------------------------


def test_sixteen_readers_answer_from_the_generation_they_see(tmp_path: Path) -> None:
    path = tmp_path / "ring"
    rings = membership_changes(GENERATIONS, seed=10)
    # what each generation answers for the readers' keys (generation g is rings[g - 1])
    answers = [dict(zip(KEYS, r.get_many(KEYS))) for r in rings]
    assert ringlock.SharedRing.publish(rings[0], path) == 1
    programs = reader_programs(16)
    outs = [tmp_path / f"reader{i}.txt" for i in range(len(programs))]
    procs = [
        subprocess.Popen(
            [*prog, "read", str(path), str(GENERATIONS), str(out)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for prog, out in zip(programs, outs)
    ]
    try:
        # a reader creates its output file once it has the ring open
        wait_for("every reader opened the ring", lambda: all(o.exists() for o in outs), procs)
        for g, r in enumerate(rings[1:], start=2):
            assert ringlock.SharedRing.publish(r, path) == g
        results = [p.communicate(timeout=300) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.communicate()
    seen_switches = 0
    for prog, p, (out, err), sample in zip(programs, procs, results, outs):
        assert p.returncode == 0, f"{prog}: {err}"  # 2: a generation went backwards
        assert re.fullmatch(r"(c|python) reader: \d+ lookups, last generation (\d+)\n", out), out
        assert int(out.split()[-1]) == GENERATIONS
        last = 0
        lines = sample.read_text().splitlines()
        assert lines, f"{prog} wrote no sample"
        gens = set()
        for line in lines:
            g1, g2, key, node = line.split(" ", 3)
            lo, hi = int(g1), int(g2)
            assert last <= lo <= hi <= GENERATIONS, (prog, line)
            last = hi
            # the answer is the one of a generation between the two looks
            assert any(answers[g - 1][key] == node for g in range(lo, hi + 1)), (prog, line)
            gens.add(lo)
        seen_switches += len(gens)
    # the readers ran while generations changed (not only after the last one)
    assert seen_switches > 2 * len(programs)


# ---- publishers killed with SIGKILL ----------------------------------------------------


def ring_for(generation: int) -> ringlock.Ring:
    """The ring published as `generation` in the kill test: its node names
    carry the generation, so an answer tells which file it came from."""
    algorithm = ALGORITHMS[generation % 4]
    n = 3 + generation % 5
    return ringlock.Ring([(f"g{generation}-n{i}", 1 + i % 3) for i in range(n)], algorithm=algorithm)


def publish_forever(path: Path, fd: int) -> None:
    """In a forked child: publish ring_for(next generation) in a loop,
    writing each generation number published to `fd`."""
    try:
        while True:
            want = ringlock.SharedRing(path).generation + 1
            got = ringlock.SharedRing.publish(ring_for(want), path)
            os.write(fd, f"{got if got == want else -got}\n".encode())
    finally:
        os._exit(1)


def read_all(fd: int) -> str:
    chunks = []
    while select.select([fd], [], [], 0)[0]:
        b = os.read(fd, 65536)
        if not b:
            break
        chunks.append(b)
    return b"".join(chunks).decode()


def check_reader(shared: ringlock.SharedRing, at_least: int) -> int:
    g = shared.generation
    assert g >= at_least
    want = ring_for(g)
    keys = [f"x{i}" for i in range(64)]
    assert shared.get_many(keys) == want.get_many(keys)
    assert shared.generation == g
    return g


def test_a_publisher_killed_anywhere_leaves_the_last_generation_readable(tmp_path: Path) -> None:
    path = tmp_path / "ring"
    assert ringlock.SharedRing.publish(ring_for(1), path) == 1
    reader = ringlock.SharedRing(path)
    rng = random.Random(11)
    last = 1
    killed_mid_publish = 0
    for _ in range(KILL_ROUNDS):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            publish_forever(path, w)
        os.close(w)
        # kill it after 0-3 complete publishes and a random pause: in the
        # lock, writing the file, between the rename and the generation word
        for _ in range(rng.randrange(4)):
            select.select([r], [], [], 30)
        time.sleep(rng.random() * 0.002)
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, status
        told = [int(x) for x in read_all(r).split()]
        os.close(r)
        assert all(g > 0 for g in told), f"a publisher got an unexpected generation: {told}"
        if told:
            assert told == list(range(last + 1, told[-1] + 1)), (last, told)
            last = told[-1]
        # the open reader and a new one answer from a complete generation:
        # the last one the child told of, or one or two more (announced
        # before it could tell, or renamed into place before the kill but
        # not yet announced, which a new reader opens and an old one has not
        # been told of)
        g_old = check_reader(reader, last)
        g = check_reader(ringlock.SharedRing(path), last)
        assert last <= g_old <= g <= last + 2, (last, g_old, g)
        killed_mid_publish += g != last
        # the next publisher succeeds, counting past whatever was left
        assert ringlock.SharedRing.publish(ring_for(g + 1), path) == g + 1
        last = g + 1
        assert check_reader(reader, last) == last
    # no temporary file of a killed publisher survives the next publish
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ring", "ring.gen", "ring.publish.shm"]
    print(f"{KILL_ROUNDS} kills, {killed_mid_publish} left a generation nobody was told of")


# ---- two publishers at once ------------------------------------------------------------


def ring_of(publisher: int, i: int) -> ringlock.Ring:
    algorithm = ALGORITHMS[(publisher + i) % 4]
    return ringlock.Ring([(f"p{publisher}-i{i}-n{j}", 1 + j % 2) for j in range(2 + i % 4)], algorithm=algorithm)


def test_two_publisher_processes_lose_and_tear_no_generation(tmp_path: Path) -> None:
    path = tmp_path / "ring"
    assert ringlock.SharedRing.publish(ring_of(9, 0), path) == 1
    code = (
        "import sys, ringlock\n"
        "sys.path.insert(0, sys.argv[3])\n"
        "from test_shared_ring_processes import ring_of\n"
        "p = int(sys.argv[2])\n"
        "sys.stdin.readline()\n"
        "for i in range(int(sys.argv[4])):\n"
        "    print(i, ringlock.SharedRing.publish(ring_of(p, i), sys.argv[1]), flush=True)\n"
    )
    here = str(Path(__file__).parent)
    go_r, go_w = os.pipe()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(path), str(p), here, str(PUBLISHES)],
            stdin=go_r,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for p in (0, 1)
    ]
    os.close(go_r)
    os.close(go_w)  # both start together, at the end of their stdin
    # a reader samples while they publish: (generation, answers) when the
    # generation did not change across the lookups
    reader = ringlock.SharedRing(path)
    keys = [f"y{i}" for i in range(32)]
    samples = []
    while any(p.poll() is None for p in procs):
        g1 = reader.generation
        got = reader.get_many(keys)
        if reader.generation == g1:
            samples.append((g1, got))
    published: dict[int, tuple[int, int]] = {1: (9, 0)}
    for n, p in enumerate(procs):
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
        lines = out.split()
        assert len(lines) == 2 * PUBLISHES
        gens = [int(g) for g in lines[1::2]]
        assert gens == sorted(gens), "one publisher's generations grow"
        for i, g in zip(map(int, lines[0::2]), gens):
            assert g not in published, f"generation {g} published twice"
            published[g] = (n, i)
    total = 2 * PUBLISHES + 1
    assert sorted(published) == list(range(1, total + 1)), "a generation was lost"
    assert len(samples) > 0
    expected: dict[int, list[str]] = {}
    for g, got in samples:
        if g not in expected:
            expected[g] = ring_of(*published[g]).get_many(keys)
        assert got == expected[g], f"generation {g} torn"
    final = ringlock.SharedRing(path)
    assert final.generation == total
    assert final.get_many(keys) == ring_of(*published[total]).get_many(keys)


# ---- memory: 32 readers, one copy -----------------------------------------------------


def ring_mappings(pid: int, path: Path) -> list[dict[str, int]]:
    """The smaps fields (kB) of each mapping of `path` in process `pid`."""
    found: list[dict[str, int]] = []
    current: dict[str, int] | None = None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            head = line.split()
            if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                current = None
                if len(head) >= 6 and head[5] == str(path):
                    current = {}
                    found.append(current)
            elif current is not None and len(head) == 3 and head[2] == "kB":
                current[head[0].rstrip(":")] = int(head[1])
    return found


def test_thirty_two_readers_share_the_rings_pages(tmp_path: Path) -> None:
    path = tmp_path / "ring"
    ring = ringlock.Ring([(f"10.1.{i // 250}.{i % 250}:11211", 1) for i in range(1000)], algorithm="xxh3")
    ringlock.SharedRing.publish(ring, path)
    size_kb = path.stat().st_size // 1024
    programs = reader_programs(32)
    # they hold the ring until their stdin ends
    hold_r, hold_w = os.pipe()
    procs = [
        subprocess.Popen(
            [*prog, "hold", str(path)],
            stdin=hold_r,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for prog in programs
    ]
    try:
        t0 = time.monotonic()
        for p in procs:
            assert p.stdout is not None
            line = p.stdout.readline()
            assert line == "ready\n", f"{p.args!r}: {line!r} {p.communicate()[1]!r}"
        maps = {p.pid: ring_mappings(p.pid, path) for p in procs}
        print(f"readers ready after {time.monotonic() - t0:.1f} s")
    finally:
        os.close(hold_r)
        os.close(hold_w)
        for p in procs:
            p.communicate(timeout=60)
    private_dirty = rss = pss = 0
    for pid, ms in maps.items():
        assert len(ms) == 1, f"pid {pid} maps the ring {len(ms)} times"
        m = ms[0]
        assert m["Rss"] > 0, f"pid {pid} touched no page of the ring"
        private_dirty += m["Private_Dirty"]
        rss += m["Rss"]
        pss += m["Pss"]
    # no reader holds a private copy of a page: all of them map the same ones
    assert private_dirty == 0, maps
    # together they account for about one copy of the touched pages, not 32
    assert pss <= size_kb + 4 * len(procs), (pss, size_kb)
    print(f"32 readers of a {size_kb} kB ring: Rss {rss} kB, Pss {pss} kB, Private_Dirty {private_dirty} kB")
