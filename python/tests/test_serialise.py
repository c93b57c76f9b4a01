"""to_bytes / from_bytes, pickling and copies."""

from __future__ import annotations

import pickle

import pytest

import ringlock
from conftest import NODES

KEYS = [f"key-{i}" for i in range(1000)]


def test_round_trip(ring: ringlock.Ring) -> None:
    data = ring.to_bytes()
    assert isinstance(data, bytes)
    assert data.startswith(b"RLRING\x00\n")
    for form in (data, bytearray(data), memoryview(data)):
        back = ringlock.Ring.from_bytes(form)
        assert back == ring
        assert back.to_bytes() == data
        assert back.algorithm == ring.algorithm and back.vnodes == ring.vnodes
        assert back.get_many(KEYS) == ring.get_many(KEYS)


def test_equal_rings_give_equal_bytes(algorithm: str) -> None:
    a = ringlock.Ring(NODES, algorithm=algorithm)
    b = ringlock.Ring(list(reversed(NODES)), algorithm=algorithm)
    assert a.to_bytes() == b.to_bytes()
    assert a.to_bytes() != ringlock.Ring(NODES[:-1], algorithm=algorithm).to_bytes()


def test_empty_ring_round_trips() -> None:
    empty = ringlock.Ring(algorithm="ketama", vnodes=40)
    back = ringlock.Ring.from_bytes(empty.to_bytes())
    assert back == empty and len(back) == 0 and back.vnodes == 40


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_pickle(ring: ringlock.Ring, protocol: int) -> None:
    back = pickle.loads(pickle.dumps(ring, protocol=protocol))
    assert type(back) is ringlock.Ring
    assert back == ring
    assert back.get_many(KEYS) == ring.get_many(KEYS)
    back.add("only-in-the-copy")
    assert "only-in-the-copy" not in ring


def test_reduce_uses_bytes(ring: ringlock.Ring) -> None:
    func, args = ring.__reduce__()
    assert func == ringlock.Ring.from_bytes
    assert args == (ring.to_bytes(),)


def test_truncated_bytes_are_corrupt() -> None:
    data = ringlock.Ring(NODES).to_bytes()
    for cut in range(len(data)):
        with pytest.raises(ringlock.CorruptError):
            ringlock.Ring.from_bytes(data[:cut])
    with pytest.raises(ringlock.CorruptError):
        ringlock.Ring.from_bytes(data + b"\x00")


def test_every_flipped_bit_is_corrupt() -> None:
    data = ringlock.Ring(NODES, algorithm="ketama").to_bytes()
    for i in range(len(data)):
        for bit in range(8):
            damaged = bytearray(data)
            damaged[i] ^= 1 << bit
            with pytest.raises(ringlock.CorruptError) as info:
                ringlock.Ring.from_bytes(damaged)
            assert isinstance(info.value, ValueError)


def test_garbage_is_corrupt() -> None:
    for junk in (b"", b"hello", b"\x00" * 100, b"RLRING\x00\n" + b"\xff" * 40):
        with pytest.raises(ringlock.CorruptError):
            ringlock.Ring.from_bytes(junk)


def test_from_bytes_wants_bytes() -> None:
    data = ringlock.Ring(NODES).to_bytes()
    with pytest.raises(TypeError, match="bytes"):
        ringlock.Ring.from_bytes(data.decode("latin-1"))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        ringlock.Ring.from_bytes(list(data))  # type: ignore[arg-type]
