"""Locks between the threads of one process: exact counters under one shared
Lock object and under one Lock per thread, readers at once through one
RWLock, and the GIL released while a thread waits."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator

import pytest

import ringlock
from conftest import run_threads

THREADS = 8
INCREMENTS = 10_000


@pytest.fixture(autouse=True)
def fast_switching() -> Iterator[None]:
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(old)


def critical_section(counter: list[int]) -> None:
    """A read-modify-write long enough for the GIL to pass to another thread
    in the middle (the switch interval is 10 us here)."""
    value = counter[0]
    for _ in range(10):
        pass
    counter[0] = value + 1


def count_with(locks: Callable[[int], ringlock.Lock | None], increments: int) -> int:
    """THREADS threads each add `increments` to one counter under `locks(i)`
    (None: no lock)."""
    counter = [0]
    start = threading.Barrier(THREADS)

    def work(i: int) -> None:
        lock = locks(i)
        start.wait()  # all at once: no thread may finish before the last starts
        for _ in range(increments):
            if lock is not None:
                lock.acquire()
            critical_section(counter)
            if lock is not None:
                lock.release()

    run_threads(work)
    return counter[0]


def test_the_race_is_real() -> None:
    # without a lock the same loop loses updates: the tests below can fail
    assert count_with(lambda i: None, INCREMENTS) < THREADS * INCREMENTS


def test_one_lock_object_shared_by_threads(backend: str, lock_dir: str) -> None:
    lock = ringlock.Lock("counter", backend=backend, dir=lock_dir)
    assert count_with(lambda i: lock, INCREMENTS) == THREADS * INCREMENTS
    assert lock.status().token == THREADS * INCREMENTS
    assert not lock.locked()


def test_one_lock_object_per_thread(backend: str, lock_dir: str) -> None:
    locks = [ringlock.Lock("counter", backend=backend, dir=lock_dir) for _ in range(THREADS)]
    assert count_with(lambda i: locks[i], INCREMENTS) == THREADS * INCREMENTS
    assert locks[0].status().token == THREADS * INCREMENTS


def test_with_statement_from_many_threads(backend: str, lock_dir: str) -> None:
    lock = ringlock.Lock("with", backend=backend, dir=lock_dir)
    tokens: list[list[int]] = [[] for _ in range(THREADS)]
    counter = [0]

    def work(i: int) -> None:
        for _ in range(1000):
            with lock as hold:
                tokens[i].append(hold.token)
                critical_section(counter)

    run_threads(work)
    assert counter[0] == THREADS * 1000
    every = sorted(t for ts in tokens for t in ts)
    assert every == list(range(1, THREADS * 1000 + 1)), "each acquisition has its own token"
    for ts in tokens:
        assert ts == sorted(ts)


def test_readers_at_once_through_one_rwlock(backend: str, lock_dir: str) -> None:
    rw = ringlock.RWLock("readers", backend=backend, dir=lock_dir)
    writer = ringlock.RWLock("readers", backend=backend, dir=lock_dir)
    inside = threading.Barrier(4, timeout=10)
    seen: list[int] = []

    def read(i: int) -> None:
        with rw.read() as hold:
            assert hold.mode == "shared" and rw.held
            inside.wait()  # all four hold read at the same time
            seen.append(len(rw.status().holders))
            assert writer.acquire_write(blocking=False) is False
            inside.wait()
        assert not rw.held

    run_threads(read, count=4, limit=30)
    assert seen == [4, 4, 4, 4]
    assert writer.acquire_write(blocking=False) is True
    writer.release()


def test_rwlock_counter_with_writers_and_readers(backend: str, lock_dir: str) -> None:
    rw = ringlock.RWLock("mixed", backend=backend, dir=lock_dir)
    counter = [0]

    def work(i: int) -> None:
        for n in range(2000):
            if i % 2:
                with rw.write():
                    critical_section(counter)
            else:
                with rw.read():
                    a = counter[0]
                    for _ in range(10):
                        pass
                    assert counter[0] == a, "a writer ran while a reader held"

    run_threads(work)
    assert counter[0] == THREADS // 2 * 2000


def test_a_waiting_thread_releases_the_gil(backend: str, lock_dir: str) -> None:
    holder = ringlock.Lock("gil", backend=backend, dir=lock_dir)
    waiter = ringlock.Lock("gil", backend=backend, dir=lock_dir)
    took: list[float] = []

    def wait() -> None:
        t0 = time.monotonic()
        took.append(float(waiter.acquire(timeout=2.0)))
        took.append(time.monotonic() - t0)

    with holder:
        t = threading.Thread(target=wait)
        t.start()
        time.sleep(0.1)  # the waiter is blocked in acquire now
        t0 = time.monotonic()
        n = 0
        while time.monotonic() - t0 < 0.3:  # pure Python: needs the GIL
            n += 1
        # with the GIL kept by the waiter this loop would last its 2 s
        assert time.monotonic() - t0 < 1.5 and n > 1000
        assert t.is_alive(), "the waiter should still be waiting"
        t.join()
    assert took[0] == 0.0 and 2.0 <= took[1] < 5


def test_the_main_thread_releases_the_gil_while_waiting(backend: str, lock_dir: str) -> None:
    holder = ringlock.Lock("gil-main", backend=backend, dir=lock_dir)
    waiter = ringlock.Lock("gil-main", backend=backend, dir=lock_dir)
    holder.acquire()
    progress = [0]
    stop = threading.Event()

    def spin() -> None:
        while not stop.is_set():
            progress[0] += 1

    t = threading.Thread(target=spin)
    t.start()
    try:
        time.sleep(0.05)
        before = progress[0]
        assert waiter.acquire(timeout=0.5) is False  # in the main thread: sliced waits
        assert progress[0] - before > 1000, "the spinning thread did not run"
    finally:
        stop.set()
        t.join()
        holder.release()


def test_a_released_lock_wakes_a_waiting_thread_at_once(backend: str, lock_dir: str) -> None:
    holder = ringlock.Lock("wake", backend=backend, dir=lock_dir)
    waiter = ringlock.Lock("wake", backend=backend, dir=lock_dir)
    holder.acquire()
    got: list[float] = []

    def wait() -> None:
        assert waiter.acquire()
        got.append(time.monotonic())
        waiter.release()

    t = threading.Thread(target=wait)
    t.start()
    time.sleep(0.2)
    released = time.monotonic()
    holder.release()
    t.join(timeout=10)
    assert got and got[0] - released < 0.5
