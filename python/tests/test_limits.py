"""Size limits: a few bytes cannot ask for a huge ring."""

from __future__ import annotations

import pickle
import struct
import subprocess
import sys
import textwrap

import pytest

import ringlock


def xxh3_64(data: bytes) -> int:
    # an xxh3 ring's position of a key is the key's XXH3-64 (seed 0)
    return ringlock.Ring(["x"]).position(data)


def serialised(vnodes: int, algorithm_code: int = 2) -> bytes:
    """A valid serialised ring: one node "a" of weight 1 and ``vnodes``."""
    body = b"RLRING\0\n" + struct.pack("<HBBII", 1, algorithm_code, 0, vnodes, 1)
    body += struct.pack("<I", 1) + b"a" + struct.pack("<I", 1)
    return body + struct.pack("<Q", xxh3_64(body))


def test_the_crafted_serialisation_is_the_real_format() -> None:
    ring = ringlock.Ring([("a", 1)], vnodes=100)
    assert serialised(100) == ring.to_bytes()
    assert ringlock.Ring.from_bytes(serialised(100)) == ring


def test_a_tiny_serialisation_of_a_huge_ring_is_refused() -> None:
    data = serialised(1 << 26)
    assert len(data) == 37
    with pytest.raises(ringlock.CorruptError, match="limit"):
        ringlock.Ring.from_bytes(data)
    with pytest.raises(ValueError, match="limit"):
        pickle.loads(
            pickle.dumps(ringlock.Ring(["a"])).replace(
                ringlock.Ring(["a"]).to_bytes(), data
            )
        )


def test_limits_can_be_lowered_and_raised() -> None:
    data = serialised(1000)
    ringlock.Ring.from_bytes(data)
    with pytest.raises(ringlock.CorruptError, match="limit"):
        ringlock.Ring.from_bytes(data, max_points=999)
    ring = ringlock.Ring.from_bytes(data, max_points=1000, max_nodes=1)
    assert (ring.max_points, ring.max_nodes) == (1000, 1)
    with pytest.raises(ringlock.InvalidArgumentError, match="limit"):
        ring.add("b")
    with pytest.raises(ringlock.InvalidArgumentError, match="limit"):
        ringlock.Ring(["a"], vnodes=1000, max_points=999)
    with pytest.raises(ringlock.InvalidArgumentError, match="limit"):
        ringlock.Ring(["a", "b"], max_nodes=1)
    for bad in (0, -1, (1 << 26) + 1):
        with pytest.raises(ringlock.InvalidArgumentError):
            ringlock.Ring(max_points=bad)
    with pytest.raises(TypeError):
        ringlock.Ring(max_nodes="many")  # type: ignore[arg-type]


def test_the_defaults_and_a_raised_limit_survive_copies_and_pickles() -> None:
    default = ringlock.Ring(["a"])
    assert (default.max_points, default.max_nodes) == (1 << 24, 1 << 20)
    big = ringlock.Ring(["a"], vnodes=2000, max_points=1 << 25)
    for again in (big.copy(), pickle.loads(pickle.dumps(big))):
        assert again == big and again.max_points == 1 << 25
    assert pickle.loads(pickle.dumps(default)).max_points == 1 << 24


def test_a_raised_limit_allows_it_and_running_out_of_memory_is_memory_error() -> None:
    # in a child with little address space: a 2^26-point table cannot fit
    script = textwrap.dedent(
        f"""
        import resource, ringlock
        data = {serialised(1 << 26)!r}
        with open("/proc/self/status") as f:
            vm = [int(l.split()[1]) for l in f if l.startswith("VmSize")][0] * 1024
        resource.setrlimit(resource.RLIMIT_AS, (vm + (256 << 20), resource.RLIM_INFINITY))
        try:
            ringlock.Ring.from_bytes(data, max_points=1 << 26)
        except MemoryError as e:
            print("MemoryError", e)
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("MemoryError"), proc.stdout + proc.stderr
