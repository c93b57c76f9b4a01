"""SharedRing from Python: publish and open, answers equal to Ring's for
every algorithm (get, [], get_n, get_many, get_bounded), generations taken up
by the next lookup, corrupt and missing files, bad arguments, repr."""

from __future__ import annotations

import os
import pathlib
import struct

import pytest

import ringlock

ALGORITHMS = ["ketama", "xxh3", "jump", "maglev"]
NODES = ["alpha", ("beta", 3), ("gamma", 2), "δέλτα", "epsilon"]


@pytest.fixture
def path(tmp_path: pathlib.Path) -> pathlib.Path:
    return tmp_path / "ring"


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_answers_are_the_rings(algorithm: str, path: pathlib.Path) -> None:
    ring = ringlock.Ring(NODES, algorithm=algorithm)
    assert ringlock.SharedRing.publish(ring, path) == 1
    shared = ringlock.SharedRing(path)
    assert shared.generation == 1
    assert len(shared) == len(ring) == 5
    assert shared.algorithm == algorithm
    assert shared.nodes == ring.nodes
    assert "beta" in shared and "zeta" not in shared and 3 not in shared
    keys = [f"user:{i}" for i in range(20_000)]
    assert [shared.get(k) for k in keys] == ring.get_many(keys)
    assert shared.get_many(keys) == ring.get_many(keys)
    assert shared.get_many(k.encode() for k in keys[:100]) == ring.get_many(keys[:100])
    assert [shared[k] for k in keys[:100]] == ring.get_many(keys[:100])
    assert shared.get(bytearray(b"k")) == ring.get(b"k")
    assert shared.get(memoryview(b"k")) == ring.get(b"k")
    loads = {"alpha": 3, "beta": 0, "gamma": 1}
    for k in keys[:500]:
        assert shared.get_n(k, 3) == ring.get_n(k, 3)
        assert shared.get_bounded(k, loads) == ring.get_bounded(k, loads)
        assert shared.get_bounded(k, loads, 1.5) == ring.get_bounded(k, loads, 1.5)


def test_a_new_generation_is_seen_by_the_next_lookup(path: pathlib.Path) -> None:
    ring = ringlock.Ring(NODES)
    ringlock.SharedRing.publish(ring, str(path))
    shared = ringlock.SharedRing(str(path))
    keys = [f"k{i}" for i in range(2000)]
    for g in range(2, 12):
        ring.add(f"added-{g}", g % 3 + 1)
        if g % 4 == 0:
            ring = ringlock.Ring(ring.nodes, algorithm="maglev" if g % 8 == 0 else "ketama")
        assert ringlock.SharedRing.publish(ring, path) == g
        # no reopen, no refresh call: the next get answers from generation g
        assert [shared.get(k) for k in keys] == ring.get_many(keys)
        assert shared.generation == g
        assert len(shared) == len(ring)
        assert shared.algorithm == ring.algorithm


def test_repr_names_path_generation_algorithm_and_size(path: pathlib.Path) -> None:
    ringlock.SharedRing.publish(ringlock.Ring(NODES, algorithm="jump"), path)
    ringlock.SharedRing.publish(ringlock.Ring(NODES, algorithm="jump"), path)
    shared = ringlock.SharedRing(path)
    assert repr(shared) == (
        f"ringlock.SharedRing({str(path)!r}, generation=2, algorithm='jump', nodes=5)"
    )
    assert shared.path == str(path)


def test_empty_ring(path: pathlib.Path) -> None:
    ringlock.SharedRing.publish(ringlock.Ring(), path)
    shared = ringlock.SharedRing(path)
    assert len(shared) == 0
    for call in (
        lambda: shared.get("k"),
        lambda: shared["k"],
        lambda: shared.get_n("k", 2),
        lambda: shared.get_many(["k"]),
        lambda: shared.get_bounded("k", {}),
    ):
        with pytest.raises(ringlock.EmptyRingError):
            call()


def damaged(path: pathlib.Path, data: bytes) -> pathlib.Path:
    bad = path.with_name("bad")
    bad.write_bytes(data)
    bad.with_name("bad.gen").write_bytes(path.with_name(path.name + ".gen").read_bytes())
    return bad


def test_corrupt_files_raise_corrupt_error(path: pathlib.Path) -> None:
    ringlock.SharedRing.publish(ringlock.Ring(NODES, algorithm="ketama"), path)
    good = path.read_bytes()
    cases = {
        "empty": b"",
        "short": good[:100],
        "truncated": good[:-8],
        "garbage": bytes((i * 37 + 11) % 256 for i in range(len(good))),
        "magic": b"X" + good[1:],
        "version": good[:8] + struct.pack("<I", 2) + good[12:],
        "checksum": good[:-3] + bytes([good[-3] ^ 0x5A]) + good[-2:],
        "counts": good[:44] + struct.pack("<I", 2**32 - 1) + good[48:],
    }
    for what, data in cases.items():
        with pytest.raises(ringlock.CorruptError):
            ringlock.SharedRing(damaged(path, data))
        assert isinstance(ringlock.CorruptError("x"), ValueError), what


def test_a_damaged_new_generation_fails_at_the_switch_then_recovers(path: pathlib.Path) -> None:
    ring = ringlock.Ring(NODES)
    ringlock.SharedRing.publish(ring, path)
    shared = ringlock.SharedRing(path)
    assert shared.get("k") == ring.get("k")
    tmp = path.with_name(".tmp")
    tmp.write_bytes(b"not a ring")
    os.replace(tmp, path)
    gen = path.with_name("ring.gen")
    data = bytearray(gen.read_bytes())
    word = struct.unpack_from("<Q", data, 16)[0]
    struct.pack_into("<Q", data, 16, word + 1)
    gen.write_bytes(bytes(data))
    with pytest.raises(ringlock.CorruptError):
        shared.get("k")
    with pytest.raises(ringlock.CorruptError):
        _ = shared.generation
    ring.add("zeta")
    assert ringlock.SharedRing.publish(ring, path) == word + 2
    assert shared.get("k") == ring.get("k")
    assert shared.generation == word + 2


def test_missing_symlinked_and_bad_paths(tmp_path: pathlib.Path) -> None:
    with pytest.raises(FileNotFoundError):
        ringlock.SharedRing(tmp_path / "nothing")
    ring = ringlock.Ring(NODES)
    real = tmp_path / "real"
    ringlock.SharedRing.publish(ring, real)
    (tmp_path / "link").symlink_to(real)
    (tmp_path / "link.gen").symlink_to(tmp_path / "real.gen")
    with pytest.raises(ringlock.InvalidArgumentError):
        ringlock.SharedRing(tmp_path / "link")
    with pytest.raises(ringlock.InvalidArgumentError):
        ringlock.SharedRing("bad name")
    with pytest.raises(ringlock.InvalidArgumentError):
        ringlock.SharedRing.publish(ring, "bad name")
    with pytest.raises(TypeError):
        ringlock.SharedRing.publish("not a ring", real)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        ringlock.SharedRing(42)  # type: ignore[arg-type]


def test_bad_lookup_arguments(path: pathlib.Path) -> None:
    ringlock.SharedRing.publish(ringlock.Ring(NODES), path)
    shared = ringlock.SharedRing(path)
    with pytest.raises(TypeError):
        shared.get(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        shared.get_many("abc")
    with pytest.raises(TypeError):
        shared.get_many([b"a", 3])  # type: ignore[list-item]
    with pytest.raises(ringlock.InvalidArgumentError):
        shared.get_n("k", -1)
    with pytest.raises(ringlock.NodeNotFoundError):
        shared.get_bounded("k", {"zeta": 1})
    with pytest.raises(ringlock.InvalidArgumentError):
        shared.get_bounded("k", {"alpha": -1})
    with pytest.raises(ringlock.InvalidArgumentError):
        shared.get_bounded("k", {}, 1.0)


def test_files_are_private(path: pathlib.Path) -> None:
    ringlock.SharedRing.publish(ringlock.Ring(NODES), path)
    for p in (path, path.with_name("ring.gen")):
        assert p.stat().st_mode & 0o777 == 0o600
