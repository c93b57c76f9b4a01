"""Behaviour of ringlock.Ring: construction, changes, lookups, introspection."""

from __future__ import annotations

import copy
from collections import OrderedDict
from types import MappingProxyType

import pytest

import ringlock
from conftest import ALGORITHMS, NODES

KEYS = [f"key-{i}" for i in range(2000)]


def test_constructor_forms_agree(algorithm: str) -> None:
    pairs = ringlock.Ring(NODES, algorithm=algorithm)
    as_dict = ringlock.Ring(dict(NODES), algorithm=algorithm)
    as_lists = ringlock.Ring([list(p) for p in NODES], algorithm=algorithm)
    as_proxy = ringlock.Ring(MappingProxyType(dict(NODES)), algorithm=algorithm)
    reversed_order = ringlock.Ring(OrderedDict(reversed(NODES)), algorithm=algorithm)
    generator = ringlock.Ring((p for p in NODES), algorithm=algorithm)
    built = ringlock.Ring(algorithm=algorithm)
    for name, weight in NODES:
        built.add(name, weight)
    for other in (as_dict, as_lists, as_proxy, reversed_order, generator, built):
        assert other == pairs
        assert other.get_many(KEYS) == pairs.get_many(KEYS)


def test_names_alone_have_weight_one() -> None:
    ring = ringlock.Ring(["b", "a", ("c", 5)])
    assert ring.nodes == [("a", 1), ("b", 1), ("c", 5)]
    assert ring.weights == {"a": 1, "b": 1, "c": 5}
    assert list(ring.weights) == ["a", "b", "c"]


def test_defaults() -> None:
    ring = ringlock.Ring()
    assert ring.algorithm == "xxh3"
    assert ring.vnodes == 160
    assert len(ring) == 0
    assert not ring
    assert ring.nodes == []
    assert ringlock.Ring(algorithm="ketama").vnodes == 160
    assert ringlock.Ring(algorithm="jump").vnodes == 0
    assert ringlock.Ring(algorithm="xxh3", vnodes=7).vnodes == 7
    assert ringlock.Ring(algorithm="ketama", vnodes=8).vnodes == 8
    # vnodes 0 is the default, the same ring as 160
    assert ringlock.Ring(NODES, vnodes=0) == ringlock.Ring(NODES, vnodes=160)


def test_introspection(ring: ringlock.Ring, algorithm: str) -> None:
    names = sorted(n for n, _ in NODES)
    assert len(ring) == 4
    assert list(ring) == names
    assert ring.nodes == sorted(NODES)
    assert ring.weights == dict(sorted(NODES))
    assert ring.algorithm == algorithm
    assert "alpha" in ring and "δέλτα" in ring
    assert "omega" not in ring and b"alpha" not in ring and 3 not in ring
    assert bool(ring)


def test_iteration_is_over_a_snapshot(ring: ringlock.Ring) -> None:
    seen = []
    for name in ring:
        seen.append(name)
        if name == "alpha":
            ring.add("zzz")
            ring.remove("beta")
    assert seen == ["alpha", "beta", "gamma", "δέλτα"]
    assert list(ring) == ["alpha", "gamma", "zzz", "δέλτα"]


def test_get_and_subscript(ring: ringlock.Ring) -> None:
    names = {n for n, _ in NODES}
    owners = [ring.get(k) for k in KEYS]
    assert set(owners) == names
    assert [ring[k] for k in KEYS] == owners
    # the same str object is handed out for a node
    assert ring.get(KEYS[0]) is ring.get(KEYS[0])


def test_get_many_matches_get(ring: ringlock.Ring) -> None:
    expected = [ring.get(k) for k in KEYS]
    assert ring.get_many(KEYS) == expected
    assert ring.get_many(tuple(KEYS)) == expected
    assert ring.get_many(k for k in KEYS) == expected
    assert ring.get_many(iter(KEYS)) == expected
    assert ring.get_many([k.encode() for k in KEYS]) == expected
    mixed = [k if i % 2 else k.encode() for i, k in enumerate(KEYS)]
    assert ring.get_many(mixed) == expected
    assert ring.get_many([]) == []
    assert ring.get_many(()) == []


def test_get_many_numpy(ring: ringlock.Ring) -> None:
    np = pytest.importorskip("numpy")
    expected = ring.get_many(KEYS)
    assert ring.get_many(np.array(KEYS)) == expected  # dtype '<U...'
    assert ring.get_many(np.array(KEYS, dtype=object)) == expected
    assert ring.get_many(np.array([k.encode() for k in KEYS])) == expected  # 'S...'


def test_get_many_rejects_a_single_key(ring: ringlock.Ring) -> None:
    with pytest.raises(TypeError, match="single key"):
        ring.get_many("key-1")
    with pytest.raises(TypeError, match="single key"):
        ring.get_many(b"key-1")


def test_get_n(ring: ringlock.Ring) -> None:
    for key in KEYS[:300]:
        every = ring.get_n(key, 10)
        assert len(every) == 4
        assert len(set(every)) == 4
        assert every[0] == ring.get(key)
        for n in range(5):
            assert ring.get_n(key, n) == every[:n]
        assert ring.get_n(key, 2**80) == every
        assert ring.get_n(key.encode(), 3) == every[:3]


def test_get_n_beyond_eight_nodes(algorithm: str) -> None:
    ring = ringlock.Ring([f"n{i:02}" for i in range(20)], algorithm=algorithm)
    for key in KEYS[:50]:
        every = ring.get_n(key, 20)
        assert len(set(every)) == 20
        assert ring.get_n(key, 9) == every[:9]


def moves(before: list[str], after: list[str]) -> list[tuple[str, str]]:
    return [(b, a) for b, a in zip(before, after) if b != a]


# ketama is minimal only while every server's share of points stays put
# (libketama recomputes shares from the total weight): equal weights here.
# jump is minimal only when the new name sorts last.
MINIMAL = {"xxh3": NODES, "ketama": [(n, 1) for n, _ in NODES], "jump": NODES}


def test_adding_moves_keys_only_to_the_new_node(algorithm: str) -> None:
    ring = ringlock.Ring(MINIMAL[algorithm], algorithm=algorithm)
    before = ring.get_many(KEYS)
    ring.add("ωmega-last", 1)
    moved = moves(before, ring.get_many(KEYS))
    assert moved, "some keys should move to the new node"
    assert all(a == "ωmega-last" for _, a in moved)


def test_removing_moves_only_the_removed_nodes_keys(algorithm: str) -> None:
    ring = ringlock.Ring(MINIMAL[algorithm], algorithm=algorithm)
    last = list(ring)[-1]
    before = ring.get_many(KEYS)
    ring.remove(last)
    moved = moves(before, ring.get_many(KEYS))
    assert moved
    assert all(b == last for b, _ in moved)


def test_set_weight(ring: ringlock.Ring) -> None:
    ring.set_weight("alpha", 7)
    assert ring.weights["alpha"] == 7
    again = ringlock.Ring({**dict(NODES), "alpha": 7}, algorithm=ring.algorithm)
    assert ring == again
    assert ring.get_many(KEYS) == again.get_many(KEYS)


def test_int_like_weights() -> None:
    class Two:
        def __index__(self) -> int:
            return 2

    ring = ringlock.Ring([("a", Two())])
    ring.add("b", Two())
    ring.set_weight("a", True)
    assert ring.weights == {"a": 1, "b": 2}
    np = pytest.importorskip("numpy")
    ring.add("c", np.uint32(3))
    assert ring.weights["c"] == 3


def test_equality() -> None:
    a = ringlock.Ring(NODES)
    assert a == ringlock.Ring(reversed(NODES))
    assert not (a != ringlock.Ring(NODES))
    assert a != ringlock.Ring(NODES, algorithm="ketama")
    assert a != ringlock.Ring(NODES, vnodes=100)
    assert a != ringlock.Ring(NODES[:-1])
    assert a != ringlock.Ring({**dict(NODES), "alpha": 2})
    assert a != "not a ring"
    assert a != None  # noqa: E711
    with pytest.raises(TypeError):
        hash(a)


def test_copy_is_independent(ring: ringlock.Ring) -> None:
    for dup in (ring.copy(), copy.copy(ring), copy.deepcopy(ring)):
        assert dup == ring and dup is not ring
        dup.add("extra")
        assert "extra" not in ring
        assert dup != ring


def test_repr() -> None:
    ring = ringlock.Ring([("a", 1), ("b'\"", 2)], algorithm="ketama")
    text = repr(ring)
    assert text == "Ring({'a': 1, 'b\\'\"': 2}, algorithm='ketama', vnodes=160)"
    assert eval(text, {"Ring": ringlock.Ring}) == ring
    big = ringlock.Ring([f"n{i:03}" for i in range(100)])
    assert repr(big).startswith("Ring({'n000': 1, 'n001': 1,")
    assert "...(90 more)}, algorithm='xxh3', vnodes=160)" in repr(big)
    assert repr(ringlock.Ring()) == "Ring({}, algorithm='xxh3', vnodes=160)"


def test_class_surface() -> None:
    assert ringlock.Ring.__module__ == "ringlock"
    assert ringlock.Ring.__doc__ and "consistent-hashing" in ringlock.Ring.__doc__
    with pytest.raises(TypeError):
        type("Sub", (ringlock.Ring,), {})
    import weakref

    ring = ringlock.Ring()
    assert weakref.ref(ring)() is ring


@pytest.mark.parametrize("name", ["get", "get_n", "get_many", "add", "remove", "set_weight",
                                  "to_bytes", "from_bytes", "copy"])
def test_public_methods_have_docstrings(name: str) -> None:
    doc = getattr(ringlock.Ring, name).__doc__
    assert doc and len(doc) > 30, name


@pytest.mark.parametrize("name", ["nodes", "weights", "algorithm", "vnodes"])
def test_properties_have_docstrings(name: str) -> None:
    doc = getattr(ringlock.Ring, name).__doc__
    assert doc and len(doc) > 15, name


def test_every_algorithm_is_listed() -> None:
    for algorithm in ALGORITHMS:
        assert ringlock.Ring(algorithm=algorithm).algorithm == algorithm
