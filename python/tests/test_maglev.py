"""Maglev from Python: ``Ring(nodes, algorithm="maglev", table_size=...)``,
the ``table_size`` property, errors, lookups, pickling, copies, equality and
the balance the algorithm promises."""

from __future__ import annotations

import copy
import pickle

import pytest

import ringlock
from conftest import NODES, unchanged

KEYS = [f"key:{i}" for i in range(5000)]


def test_default_and_chosen_table_size() -> None:
    assert ringlock.Ring(algorithm="maglev").table_size == 65537
    assert ringlock.Ring(algorithm="maglev", table_size=None).table_size == 65537
    assert ringlock.Ring(algorithm="maglev", table_size=0).table_size == 65537
    ring = ringlock.Ring(NODES, algorithm="maglev", table_size=101)
    assert ring.table_size == 101
    assert ring.algorithm == "maglev"
    assert ring.vnodes == 0
    for other in ("ketama", "xxh3", "jump"):
        assert ringlock.Ring(algorithm=other).table_size == 0
    assert "table_size=101" in repr(ring)
    assert "table_size" not in repr(ringlock.Ring(NODES))


@pytest.mark.parametrize(
    ("kwargs", "error", "says"),
    [
        ({"table_size": 65536}, ringlock.InvalidArgumentError, "not prime"),
        ({"table_size": 1}, ringlock.InvalidArgumentError, "not prime"),
        ({"table_size": 67108879}, ringlock.InvalidArgumentError, "larger"),
        ({"table_size": 2**32}, ringlock.InvalidArgumentError, "table_size"),
        ({"table_size": -1}, ringlock.InvalidArgumentError, "table_size"),
        ({"table_size": 101.0}, TypeError, None),
        ({"vnodes": 160}, ringlock.InvalidArgumentError, "vnodes"),
        ({"algorithm": "xxh3", "table_size": 101}, ringlock.InvalidArgumentError, "only maglev"),
        ({"algorithm": "jump", "table_size": 65537}, ringlock.InvalidArgumentError, "only maglev"),
        ({"nodes": ["a", "b", "c"], "table_size": 2}, ringlock.InvalidArgumentError, "at most 2"),
    ],
)
def test_bad_arguments(kwargs: dict[str, object], error: type[Exception], says: str | None) -> None:
    args: dict[str, object] = {"algorithm": "maglev", **kwargs}
    with pytest.raises(error) as info:
        ringlock.Ring(**args)  # type: ignore[arg-type]
    if says is not None:
        assert says in str(info.value)
    if error is ringlock.InvalidArgumentError:
        assert isinstance(info.value, ValueError)


def test_a_full_table_refuses_a_node_and_stays_unchanged() -> None:
    ring = ringlock.Ring(["a", "b", "c"], algorithm="maglev", table_size=3)
    with unchanged(ring), pytest.raises(ringlock.InvalidArgumentError, match="at most 3 nodes"):
        ring.add("d")
    with unchanged(ring), pytest.raises(ringlock.NodeExistsError):
        ring.add("a")


def test_lookups() -> None:
    ring = ringlock.Ring(NODES, algorithm="maglev")
    owners = ring.get_many(KEYS)
    names = {n for n, _ in NODES}
    assert set(owners) == names
    for key, owner in zip(KEYS[:500], owners):
        assert ring.get(key) == owner == ring[key.encode()]
        replicas = ring.get_n(key, 10)
        assert replicas[0] == owner
        assert sorted(replicas) == sorted(names)
        assert ring.get_n(key, 2) == replicas[:2]
    with pytest.raises(ringlock.EmptyRingError):
        ringlock.Ring(algorithm="maglev").get("k")


def test_weights_are_honoured() -> None:
    # 1:2:3 weights: shares of the keys within 5% of 1/6, 2/6, 3/6
    ring = ringlock.Ring([("a", 1), ("b", 2), ("c", 3)], algorithm="maglev")
    keys = [f"k{i}" for i in range(60_000)]
    owners = ring.get_many(keys)
    for name, weight in (("a", 1), ("b", 2), ("c", 3)):
        share = owners.count(name) / len(keys)
        assert abs(share - weight / 6) / (weight / 6) < 0.05, (name, share)


def test_mutations_and_placement_is_a_function_of_the_node_set() -> None:
    ring = ringlock.Ring(algorithm="maglev", table_size=4099)
    for name, weight in reversed(NODES):
        ring.add(name, weight)
    assert ring == ringlock.Ring(NODES, algorithm="maglev", table_size=4099)
    before = ring.get_many(KEYS)
    ring.remove("beta")
    after = ring.get_many(KEYS)
    assert "beta" not in after
    # keys of the other nodes mostly stay (maglev is not strictly minimal)
    kept = sum(b == a for b, a in zip(before, after) if b != "beta")
    assert kept / sum(b != "beta" for b in before) > 0.95
    ring.add("beta", 3)
    assert ring.get_many(KEYS) == before
    ring.set_weight("beta", 1)
    assert ring == ringlock.Ring([(n, 1 if n == "beta" else w) for n, w in NODES],
                                 algorithm="maglev", table_size=4099)


def test_pickle_copy_equality_carry_the_table_size() -> None:
    ring = ringlock.Ring(NODES, algorithm="maglev", table_size=101)
    for other in (pickle.loads(pickle.dumps(ring)), copy.copy(ring), copy.deepcopy(ring),
                  ring.copy(), ringlock.Ring.from_bytes(ring.to_bytes())):
        assert other == ring
        assert other.table_size == 101
        assert other.get_many(KEYS) == ring.get_many(KEYS)
    assert ring != ringlock.Ring(NODES, algorithm="maglev")
    assert ring != ringlock.Ring(NODES, algorithm="maglev", table_size=103)
    data = bytearray(ring.to_bytes())
    data[12] ^= 1  # the table size field: the checksum no longer matches
    with pytest.raises(ringlock.CorruptError):
        ringlock.Ring.from_bytes(bytes(data))


def test_table_size_has_a_docstring() -> None:
    doc = ringlock.Ring.table_size.__doc__
    assert doc and "prime" in doc
