"""`jump_hash` is a METH_FASTCALL function installed by
python/src/capi/jump_hash.rs: two positional ints take the fast path; anything else
goes to the PyO3 function. Both paths must agree, answer and error alike."""

import random
import sys

import pytest

import ringlock


class Index:
    def __init__(self, v: int) -> None:
        self.v = v

    def __index__(self) -> int:
        return self.v


def test_fast_and_generic_paths_agree() -> None:
    rng = random.Random(7)
    for _ in range(20_000):
        key = rng.getrandbits(64)
        buckets = rng.randrange(1, 2**31)
        fast = ringlock.jump_hash(key, buckets)
        assert 0 <= fast < buckets
        assert fast == ringlock.jump_hash(key=key, buckets=buckets)  # keywords: generic path
        assert fast == ringlock.jump_hash(Index(key), Index(buckets))  # __index__: generic path


@pytest.mark.parametrize(
    "args",
    [(0, 1), (2**64 - 1, 1), (2**64 - 1, 2**31 - 1), (True, 3), (12345, 1)],
)
def test_edges(args: tuple[int, int]) -> None:
    assert ringlock.jump_hash(*args) == ringlock.jump_hash(key=args[0], buckets=args[1])


@pytest.mark.parametrize(
    "args, error",
    [
        ((-1, 5), ringlock.InvalidArgumentError),
        ((2**64, 5), ringlock.InvalidArgumentError),
        ((1, 0), ringlock.InvalidArgumentError),
        ((1, -1), ringlock.InvalidArgumentError),
        ((1, 2**31), ringlock.InvalidArgumentError),
        ((1, 2**100), ringlock.InvalidArgumentError),
        (("a", 5), TypeError),
        ((1.5, 5), TypeError),
        ((1,), TypeError),
        ((1, 2, 3), TypeError),
    ],
)
def test_errors_leave_no_exception_behind(args: tuple, error: type) -> None:
    with pytest.raises(error):
        ringlock.jump_hash(*args)
    # the fast path clears what the C API raised before taking the slow one:
    # the next call must succeed and see no stale exception
    assert ringlock.jump_hash(1, 2) in (0, 1)


def test_signature_and_no_leaks() -> None:
    assert ringlock.jump_hash.__text_signature__ == "(key, buckets)"
    assert "jump consistent" in ringlock.jump_hash.__doc__
    with pytest.raises(TypeError):
        ringlock.jump_hash(1, buckets=2, extra=3)
    big = 2**63 + 12345
    before = sys.getrefcount(big)
    for _ in range(10_000):
        ringlock.jump_hash(big, 1000)
        try:
            ringlock.jump_hash(big, 0)
        except ringlock.InvalidArgumentError:
            pass
    assert sys.getrefcount(big) == before
