"""Migration plans: Ring.position and Ring.diff. The plan is exact (a key
moves iff its position lies in a range, from the range's old owner to its new
one) and well formed; bad pairs raise; the example runs and says so."""

from __future__ import annotations

import bisect
import math
import subprocess
import sys
from pathlib import Path

import pytest

import ringlock
from conftest import NODES

REPO = Path(__file__).resolve().parents[2]
POINT_RINGS = ("ketama", "xxh3")
POSITIONED = (*POINT_RINGS, "maglev")  # maglev: positions are table entries
SPACE = {"ketama": 2**32, "xxh3": 2**64, "maglev": 65537}


def random_keys(n: int, seed: int) -> list[bytes]:
    return [(seed * 1_000_003 + i).to_bytes(8, "little") + b":k" for i in range(n)]


def check_shape(plan: ringlock.Diff, space: int) -> None:
    assert plan.space == space
    total = 0
    for i, m in enumerate(plan.moves):
        assert isinstance(m, ringlock.Move)
        assert 0 <= m.start < m.end <= space, m
        assert m.old != m.new, m
        if i:
            prev = plan.moves[i - 1]
            assert prev.end <= m.start, (prev, m)
            assert not (prev.end == m.start and (prev.old, prev.new) == (m.old, m.new)), (prev, m)
        total += m.end - m.start
    assert total == plan.moved
    assert plan.fraction == pytest.approx(plan.moved / space, rel=1e-12, abs=0)


def check_exact(before: ringlock.Ring, after: ringlock.Ring, keys: list[bytes]) -> float:
    """The share of `keys` that moved; asserts the plan predicts each one."""
    plan = before.diff(after)
    check_shape(plan, SPACE[before.algorithm])
    starts = [m.start for m in plan.moves]
    old_owners, new_owners = before.get_many(keys), after.get_many(keys)
    moved = 0
    for key, old, new in zip(keys, old_owners, new_owners):
        pos = before.position(key)
        assert pos == after.position(key)
        i = bisect.bisect_right(starts, pos) - 1
        if i >= 0 and pos < plan.moves[i].end:
            assert (plan.moves[i].old, plan.moves[i].new) == (old, new), key
            moved += 1
        else:
            assert old == new, f"{key!r} moved outside every range"
    seen = moved / len(keys)
    sigma = math.sqrt(plan.fraction * (1 - plan.fraction) / len(keys))
    assert abs(seen - plan.fraction) <= 5 * sigma + 1e-12
    return seen


@pytest.mark.parametrize("algorithm", POSITIONED)
def test_200k_keys_move_iff_in_a_range(algorithm: str) -> None:
    before = ringlock.Ring([(f"10.0.0.{i}:11211", 1 + i % 3) for i in range(12)], algorithm=algorithm)  # type: ignore[arg-type]
    after = before.copy()
    after.add("new-a", 2)
    after.add("new-b")
    after.remove("10.0.0.4:11211")
    after.set_weight("10.0.0.7:11211", 5)
    seen = check_exact(before, after, random_keys(200_000, 1))
    assert 0.05 < seen < 0.6


@pytest.mark.parametrize("algorithm", POINT_RINGS)
def test_adding_a_node_moves_keys_only_to_it(algorithm: str) -> None:
    # Equal weights: ketama re-shares points by weight, so with unequal
    # weights an addition also moves keys between the old nodes.
    before = ringlock.Ring([name for name, _ in NODES], algorithm=algorithm)  # type: ignore[arg-type]
    after = before.copy()
    after.add("epsilon")
    plan = before.diff(after)
    assert plan.moves and all(m.new == "epsilon" and m.old in before for m in plan.moves)
    check_exact(before, after, random_keys(20_000, 2))


def test_different_vnodes_and_str_keys() -> None:
    a = ringlock.Ring(NODES, vnodes=20)
    b = ringlock.Ring(NODES, vnodes=300)
    check_exact(a, b, random_keys(20_000, 3))
    assert a.position("käse") == a.position("käse".encode())


@pytest.mark.parametrize("algorithm", POSITIONED)
def test_edges(algorithm: str) -> None:
    space = SPACE[algorithm]
    ring = ringlock.Ring(NODES, algorithm=algorithm)  # type: ignore[arg-type]
    empty = ringlock.Ring(algorithm=algorithm)  # type: ignore[arg-type]
    same = ring.diff(ring.copy())
    assert (same.moves, same.moved, same.fraction) == ([], 0, 0.0)
    assert empty.diff(empty).moves == []
    grow = empty.diff(ring)
    check_shape(grow, space)
    assert grow.fraction == 1.0 and grow.moves[0].start == 0 and grow.moves[-1].end == space
    assert all(m.old is None and m.new is not None for m in grow.moves)
    shrink = ring.diff(empty)
    check_shape(shrink, space)
    assert all(m.old is not None and m.new is None for m in shrink.moves)
    swap = ringlock.Ring(["x"], algorithm=algorithm).diff(ringlock.Ring(["y"], algorithm=algorithm))  # type: ignore[arg-type]
    assert swap.moves == [ringlock.Move(0, space, "x", "y")]
    assert repr(swap).startswith("<ringlock.Diff: 1 ranges")


def test_maglev_positions_are_entries_and_sizes_must_match() -> None:
    small = ringlock.Ring(NODES, algorithm="maglev", table_size=101)
    assert all(0 <= small.position(k) < 101 for k in random_keys(1000, 9))
    with pytest.raises(ringlock.InvalidArgumentError, match="table size"):
        small.diff(ringlock.Ring(NODES, algorithm="maglev"))


def test_positions() -> None:
    # ketama: libketama's 32-bit hash (MD5("") starts d41d8cd9, read little-endian).
    assert ringlock.Ring(algorithm="ketama").position(b"") == 0xD98C1DD4
    x = ringlock.Ring(algorithm="xxh3")
    assert x.position(b"") == 0x2D06800538D394C2  # XXH3-64 of "" (seed 0)
    with pytest.raises(TypeError):
        x.position(42)  # type: ignore[arg-type]


def test_bad_pairs_raise_invalid_argument() -> None:
    k = ringlock.Ring(NODES, algorithm="ketama")
    x = ringlock.Ring(NODES, algorithm="xxh3")
    j = ringlock.Ring(NODES, algorithm="jump")
    with pytest.raises(ringlock.InvalidArgumentError, match="same algorithm"):
        k.diff(x)
    with pytest.raises(ringlock.InvalidArgumentError, match="jump"):
        j.diff(j)
    with pytest.raises(ringlock.InvalidArgumentError, match="jump"):
        j.position("k")
    with pytest.raises(TypeError):
        x.diff("not a ring")  # type: ignore[arg-type]


def test_move_and_diff_are_public_types() -> None:
    m = ringlock.Move(1, 2, "a", None)
    assert m._fields == ("start", "end", "old", "new")
    assert (m.start, m.end, m.old, m.new) == (1, 2, "a", None)
    assert ringlock.Move.__module__ == ringlock.Diff.__module__ == "ringlock"


def test_migrate_example_runs() -> None:
    out = subprocess.run(
        [sys.executable, str(REPO / "examples" / "python" / "migrate.py")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "adding 10.0.1.11:11211 to a xxh3 ring of 10 nodes"
    ranges = int(lines[1].removeprefix("ranges: "))
    assert ranges > 10
    fraction = float(lines[2].split()[1])
    assert 0.05 < fraction < 0.15  # about 1/11
    shares = [ln for ln in lines if "-> 10.0.1.11:11211:" in ln and not ln.startswith("  [")]
    assert len(shares) == 10
    assert sum(float(s.rsplit(" ", 1)[1]) for s in shares) == pytest.approx(fraction, abs=1e-5)
    assert lines[-1].endswith("all as planned")
