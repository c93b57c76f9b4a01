"""Bounded loads from Python: Ring.get_bounded (agrees with get at zero load,
passes a full owner's key on in get_n's order, refuses bad input) and
LoadTracker (acquire/release, slot() as a context manager, threads)."""

from __future__ import annotations

import math
import random
import threading

import pytest

import ringlock

ALGORITHMS = ["ketama", "xxh3", "jump"]
NODES = ["alpha", "beta", ("gamma", 2), "delta", "epsilon"]


def cap(total: int, nodes: int, factor: float) -> int:
    # exact for the dyadic factors used here
    return math.ceil(factor * (total + 1) / nodes)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_no_load_is_get(algorithm: str) -> None:
    ring = ringlock.Ring(NODES, algorithm=algorithm)
    for i in range(500):
        key = f"key-{i}"
        assert ring.get_bounded(key, {}) == ring.get(key)
        assert ring.get_bounded(key.encode(), {n: 0 for n in ring}, 1.5) == ring.get(key)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_a_full_owner_passes_the_key_on(algorithm: str) -> None:
    ring = ringlock.Ring(NODES, algorithm=algorithm)
    for i in range(300):
        key = f"key-{i}"
        order = ring.get_n(key, len(ring))
        # the owner at 2, the next at 0, the others at 1: total 5, cap 2
        loads = {n: 1 for n in order[2:]} | {order[0]: 2}
        assert cap(5, 5, 1.25) == 2
        assert ring.get_bounded(key, loads) == order[1]
        # every node but the last of the order full: the last takes it
        full = {n: 2 for n in order[:-1]}  # total 8, cap ceil(1.0001 * 9 / 5) = 2
        assert ring.get_bounded(key, full, factor=1.0001) == order[-1]


def test_bad_arguments() -> None:
    ring = ringlock.Ring(NODES)
    for factor in (1.0, 0.5, -1.25, float("nan"), float("inf")):
        with pytest.raises(ringlock.InvalidArgumentError):
            ring.get_bounded("k", {}, factor)
    with pytest.raises(ringlock.NodeNotFoundError):
        ring.get_bounded("k", {"zeta": 1})
    with pytest.raises(KeyError):
        ring.get_bounded("k", {"zeta": 1})
    with pytest.raises(ValueError):
        ring.get_bounded("k", {"alpha": -1})
    with pytest.raises(ringlock.InvalidArgumentError):
        ring.get_bounded("k", {"alpha": 2**64})
    with pytest.raises(ringlock.InvalidArgumentError):
        ring.get_bounded("k", {"alpha": 2**64 - 1, "beta": 1})  # sum overflows
    with pytest.raises(TypeError):
        ring.get_bounded("k", [1, 2, 3, 4, 5])  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        ring.get_bounded("k", {"alpha": 1.5})  # type: ignore[dict-item]
    with pytest.raises(TypeError):
        ring.get_bounded("k", {1: 1})  # type: ignore[dict-item]
    with pytest.raises(ringlock.EmptyRingError):
        ringlock.Ring().get_bounded("k", {})


def test_a_zipf_stream_never_passes_the_cap() -> None:
    rng = random.Random(7)
    ring = ringlock.Ring([f"n{i}" for i in range(10)], algorithm="xxh3")
    weights = [1 / (k + 1) ** 1.1 for k in range(1000)]
    keys = rng.choices(range(1000), weights, k=20_000)
    loads = dict.fromkeys(ring, 0)
    active: list[str] = []
    diverted = 0
    for k in keys:
        if active and rng.random() < len(active) / 400:
            loads[active.pop(rng.randrange(len(active)))] -= 1
        limit = cap(sum(loads.values()), len(ring), 1.25)
        node = ring.get_bounded(f"key:{k}", loads)
        diverted += node != ring.get(f"key:{k}")
        loads[node] += 1
        assert loads[node] <= limit
        active.append(node)
    assert diverted > 100


def test_tracker() -> None:
    ring = ringlock.Ring(NODES, algorithm="ketama")
    t = ringlock.LoadTracker(ring)
    assert t.factor == 1.25 and t.total == 0 and set(t.loads.values()) == {0}
    node = t.acquire("job")
    assert node == ring.get("job")
    assert t.load(node) == 1 and t.total == 1 and t.loads[node] == 1
    t.release(node)
    with pytest.raises(ringlock.InvalidArgumentError):
        t.release(node)
    with pytest.raises(ringlock.NodeNotFoundError):
        t.release("zeta")
    with pytest.raises(ringlock.NodeNotFoundError):
        t.load("zeta")
    with t.slot(b"job") as held:
        assert held == node and t.load(node) == 1
    assert t.load(node) == 0
    with pytest.raises(RuntimeError), t.slot("job") as held:
        assert t.load(held) == 1
        raise RuntimeError("released all the same")
    assert t.total == 0
    # one hot key spreads over the nodes, each under the cap of its moment
    for total in range(100):
        limit = t.cap
        assert limit == cap(total, 5, 1.25)
        assert t.load(t.acquire("hot")) <= limit
    assert sum(t.loads.values()) == 100
    ring.remove("alpha")  # the tracker keeps its copy
    assert "alpha" in t.loads
    assert "LoadTracker(5 nodes" in repr(t)


def test_tracker_bad_arguments() -> None:
    with pytest.raises(ringlock.EmptyRingError):
        ringlock.LoadTracker(ringlock.Ring())
    with pytest.raises(ringlock.InvalidArgumentError):
        ringlock.LoadTracker(ringlock.Ring(["a"]), factor=1.0)
    with pytest.raises(TypeError):
        ringlock.LoadTracker(["a"])  # type: ignore[arg-type]
    slot = ringlock.LoadTracker(ringlock.Ring(["a"])).slot("k")
    assert slot.node is None
    with slot:
        assert slot.node == "a"
        with pytest.raises(ringlock.InvalidArgumentError), slot:
            pass
    assert slot.node is None


def test_tracker_threads() -> None:
    ring = ringlock.Ring([f"n{i}" for i in range(8)], algorithm="jump")
    t = ringlock.LoadTracker(ring, factor=1.5)
    started = 0
    lock = threading.Lock()
    broken: list[str] = []

    def work(seed: int) -> None:
        nonlocal started
        rng = random.Random(seed)
        held = []
        for _ in range(500):
            with lock:
                started += 1
            node = t.acquire(f"hot-{rng.randrange(3)}")
            held.append(node)
            with lock:
                limit = cap(started - 1, 8, 1.5)
            if t.load(node) > limit:
                broken.append(node)
        for node in held:
            t.release(node)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not broken
    assert t.total == 0
