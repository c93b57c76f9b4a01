"""ringlock.jump_hash against published values and the PyPI package
jump-consistent-hash (``jump.hash(key, buckets)``)."""

from __future__ import annotations

import random

import pytest

import ringlock

jump = pytest.importorskip("jump")

# Guava's and dgryski/go-jump's published vectors
REFERENCE = [
    (1, 1, 0),
    (42, 57, 43),
    (0xDEAD10CC, 1, 0),
    (0xDEAD10CC, 666, 361),
    (256, 1024, 520),
    (10863919174838991, 11, 6),
    (2016238256797177309, 11, 3),
    (1673758223894951030, 11, 5),
]


@pytest.mark.parametrize("key,buckets,bucket", REFERENCE)
def test_reference_values(key: int, buckets: int, bucket: int) -> None:
    assert ringlock.jump_hash(key, buckets) == bucket
    assert jump.hash(key, buckets) == bucket


def test_agrees_with_jump_consistent_hash() -> None:
    rng = random.Random(20240601)
    keys = [0, 1, 2**63 - 1, 2**63, 2**64 - 1] + [rng.getrandbits(64) for _ in range(1500)]
    counts = list(range(1, 130)) + [1000, 4096, 65_535, 1_000_003, 2**31 - 1]
    checked = 0
    for key in keys:
        for buckets in counts:
            assert ringlock.jump_hash(key, buckets) == jump.hash(key, buckets), (key, buckets)
            checked += 1
    assert checked > 200_000


def test_range_and_monotone_moves() -> None:
    rng = random.Random(7)
    for _ in range(2000):
        key = rng.getrandbits(64)
        prev = 0
        for buckets in range(1, 60):
            b = ringlock.jump_hash(key, buckets)
            assert 0 <= b < buckets
            assert b == prev or b == buckets - 1  # only moves to the new bucket
            prev = b


@pytest.mark.parametrize(
    "key,buckets",
    [(-1, 10), (2**64, 10), (2**100, 10), (1, 0), (1, -3), (1, 2**31), (1, 2**64)],
)
def test_out_of_range_is_invalid(key: int, buckets: int) -> None:
    with pytest.raises(ringlock.InvalidArgumentError):
        ringlock.jump_hash(key, buckets)
    with pytest.raises(ValueError):
        ringlock.jump_hash(key, buckets)


@pytest.mark.parametrize("key,buckets", [(1.0, 10), ("1", 10), (1, 10.0), (None, 1)])
def test_non_integers_are_type_errors(key: object, buckets: object) -> None:
    with pytest.raises(TypeError):
        ringlock.jump_hash(key, buckets)  # type: ignore[arg-type]


def test_int_likes() -> None:
    np = pytest.importorskip("numpy")
    assert ringlock.jump_hash(np.uint64(2**64 - 1), np.int32(100)) == jump.hash(2**64 - 1, 100)
    assert ringlock.jump_hash(True, 1) == 0


def test_docstring() -> None:
    assert ringlock.jump_hash.__doc__ and "jump consistent hash" in ringlock.jump_hash.__doc__
