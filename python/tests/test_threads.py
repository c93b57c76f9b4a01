"""Lookups from several threads at once, and changes while they run."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator

import pytest

import ringlock
from conftest import NODES, run_threads

KEYS = [f"key-{i}" for i in range(5000)]


@pytest.fixture(autouse=True)
def fast_switching() -> Iterator[None]:
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(old)


def test_concurrent_lookups_agree(ring: ringlock.Ring) -> None:
    expected = ring.get_many(KEYS)
    expected_n = [ring.get_n(k, 3) for k in KEYS[:500]]

    def lookups(i: int) -> None:
        for _ in range(3):
            assert [ring.get(k) for k in KEYS] == expected
            assert ring.get_many(KEYS) == expected
            assert [ring[k.encode()] for k in KEYS[i::8]] == expected[i::8]
            assert [ring.get_n(k, 3) for k in KEYS[:500]] == expected_n

    run_threads(lookups)


def test_changes_while_looking_up(algorithm: str) -> None:
    ring = ringlock.Ring(NODES, algorithm=algorithm)
    base = ringlock.Ring(NODES, algorithm=algorithm).get_many(KEYS)
    extra = ringlock.Ring(NODES + [("extra", 2)], algorithm=algorithm).get_many(KEYS)
    allowed = [{a, b} for a, b in zip(base, extra)]
    stop = threading.Event()

    def worker(i: int) -> None:
        if i == 0:
            try:
                for _ in range(200):
                    ring.add("extra", 2)
                    ring.remove("extra")
            finally:
                stop.set()
            return
        while not stop.is_set():
            owners = ring.get_many(KEYS)
            # a whole batch sees one state of the ring
            assert owners == base or owners == extra
            for k, ok in zip(KEYS[i::50], allowed[i::50]):
                assert ring.get(k) in ok

    run_threads(worker, count=4)
    assert ring.get_many(KEYS) == base


def test_get_many_over_a_generator_while_another_thread_changes_the_ring() -> None:
    ring = ringlock.Ring(NODES)
    done = threading.Event()

    def slow_keys() -> Iterator[str]:
        for k in KEYS:
            yield k  # the GIL may pass to the changing thread here

    def worker(i: int) -> None:
        if i == 0:
            while not done.is_set():
                ring.add("extra")
                ring.remove("extra")
        else:
            try:
                for _ in range(5):
                    assert len(ring.get_many(slow_keys())) == len(KEYS)
            finally:
                done.set()

    run_threads(worker, count=2)


def test_changes_never_fail_while_diff_or_get_n_run_python_code() -> None:
    """diff builds Move objects and get_n may call __index__: Python code, in
    which the GIL passes to a changing thread. The ring is not borrowed then,
    so the change goes through."""
    before = ringlock.Ring([f"n{i}" for i in range(200)])
    after = ringlock.Ring([f"n{i}" for i in range(200)], vnodes=100)
    done = threading.Event()

    class Slow:
        def __index__(self) -> int:
            sum(range(50))  # the GIL may pass to the changing thread here
            return 3

    def worker(i: int) -> None:
        if i == 0:
            while not done.is_set():
                before.add("extra")
                before.remove("extra")
                after.add("extra")
                after.remove("extra")
        else:
            try:
                for _ in range(3):
                    assert before.diff(after).moves
                for k in KEYS[:2000]:
                    assert len(before.get_n(k, Slow())) == 3
            finally:
                done.set()

    run_threads(worker, count=2)


def test_a_change_from_inside_index_or_move_is_not_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same without threads: the Python code itself changes the ring."""
    ring = ringlock.Ring(NODES)

    class Adds:
        def __index__(self) -> int:
            ring.add("extra")
            return 2

    assert len(ring.get_n("k", Adds())) == 2
    assert "extra" in ring

    import ringlock._diff as diff_module

    real_move = diff_module.Move
    other = ringlock.Ring(NODES + [("more", 1)])

    def move(*args: object) -> object:
        if "later" not in other:
            ring.add("later")
            other.add("later")
        return real_move(*args)

    monkeypatch.setattr(diff_module, "Move", move)
    assert ring.diff(other).moves
    assert "later" in ring and "later" in other


def other_thread_runs_during(call: Callable[[], object]) -> bool:
    """Whether a thread waiting for the GIL gets to run while ``call`` runs.

    The switch interval is made so long that the GIL changes hands only when
    a thread releases it; the other thread is woken first (and then waits
    for the GIL), so it runs during ``call`` only if ``call`` releases it."""
    old = sys.getswitchinterval()
    ready, go = threading.Event(), threading.Event()
    ran: list[bool] = []
    t = threading.Thread(target=lambda: (ready.set(), go.wait(), ran.append(True)))
    t.start()
    # The thread must be blocked in go.wait() (GIL released) before the
    # interval grows: a thread still asking for the GIL under the old 5 ms
    # interval would force a switch during ``call``.
    ready.wait()
    time.sleep(0.1)
    sys.setswitchinterval(1000.0)
    try:
        go.set()
        call()
        during = bool(ran)
    finally:
        sys.setswitchinterval(old)
    t.join(timeout=60)
    assert not t.is_alive() and ran
    return during


def test_the_check_itself_can_fail() -> None:
    assert not other_thread_runs_during(lambda: sum(range(2_000_000)))


BIG_KEYS = [f"key-{i}" for i in range(1_000_000)]


@pytest.mark.parametrize(
    "call",
    ["get_many", "get_many_bytes", "get_n", "add", "new", "from_bytes"],
)
def test_long_calls_release_the_gil(call: str) -> None:
    nodes = [f"node-{i}" for i in range(10_000)]
    ring = ringlock.Ring(nodes)
    data = ring.to_bytes()
    calls: dict[str, Callable[[], object]] = {
        "get_many": lambda: ring.get_many(BIG_KEYS),
        "get_many_bytes": lambda: ring.get_many(
            [bytearray(k, "ascii") for k in BIG_KEYS[:400_000]]
        ),
        "get_n": lambda: [ring.get_n(k, 5_000) for k in BIG_KEYS[:200]],
        "add": lambda: ring.add("extra"),
        "new": lambda: ringlock.Ring(nodes),
        "from_bytes": lambda: ringlock.Ring.from_bytes(data),
    }
    expected = ring.get_many(BIG_KEYS[:1000])
    assert other_thread_runs_during(calls[call])
    if call != "add":
        assert ring.get_many(BIG_KEYS[:1000]) == expected


def test_changes_of_a_large_ring_from_two_threads_are_all_kept() -> None:
    """Changes of a large ring are computed without the GIL; one made while
    another was being computed is redone on the newer ring, never lost."""
    nodes = [f"node-{i}" for i in range(1000)]  # 160,000 points
    ring = ringlock.Ring(nodes)

    def worker(i: int) -> None:
        for j in range(5):
            ring.add(f"t{i}-{j}", 2)
            ring.set_weight(f"t{i}-{j}", 1)
        ring.remove(f"node-{i}")

    run_threads(worker, count=3)
    want = ringlock.Ring(
        [n for n in nodes if n not in ("node-0", "node-1", "node-2")]
        + [f"t{i}-{j}" for i in range(3) for j in range(5)]
    )
    assert ring == want
    assert list(ring) == list(want)
    assert ring.get_many(KEYS) == want.get_many(KEYS)
