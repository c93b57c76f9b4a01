"""Locks from asyncio: waiting never blocks the event loop, holds belong to
tasks, timeouts raise LockTimeout, cancellation leaves nothing held."""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

import ringlock


def run(main: Callable[[], Awaitable[Any]]) -> Any:
    return asyncio.run(asyncio.wait_for(main(), timeout=60))  # type: ignore[arg-type]


class Ticker:
    """Counts event-loop turns of a task that sleeps 5 ms at a time."""

    def __init__(self) -> None:
        self.ticks = 0
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(0.005)
            self.ticks += 1

    def stop(self) -> None:
        self.task.cancel()


def test_async_with_and_acquire_async(backend: str, lock_dir: str) -> None:
    async def main() -> None:
        lock = ringlock.Lock("a", backend=backend, dir=lock_dir)
        async with lock as hold:
            assert hold.mode == "exclusive" and lock.held and lock.hold == hold
        assert not lock.held
        assert await lock.acquire_async() is True
        assert lock.held
        lock.release()
        assert await lock.acquire_async(timeout=0) is True
        lock.release()
        assert not lock.locked()

    run(main)


def test_a_blocked_waiter_does_not_block_the_loop(backend: str, lock_dir: str) -> None:
    holder = ringlock.Lock("busy", backend=backend, dir=lock_dir)

    async def main() -> None:
        lock = ringlock.Lock("busy", backend=backend, dir=lock_dir, timeout=0.3)
        ticker = Ticker()
        holder.acquire()
        t0 = time.monotonic()
        with pytest.raises(ringlock.LockTimeout, match='"busy"') as info:
            async with lock:
                pytest.fail("entered a held lock")
        took = time.monotonic() - t0
        assert isinstance(info.value, TimeoutError)
        assert 0.3 <= took < 2
        assert ticker.ticks >= 20, f"the loop turned {ticker.ticks} times in {took:.2f} s"
        before = ticker.ticks
        assert await lock.acquire_async(timeout=0.2) is False
        assert ticker.ticks - before >= 10
        # a waiter gets the lock when the holder releases it, from any thread
        waiter = asyncio.create_task(lock.acquire_async())
        await asyncio.sleep(0.1)
        assert not waiter.done()
        threading.Timer(0.05, holder.release).start()
        assert await waiter is True and lock.held
        assert lock.hold is not None and lock.hold.token > 0
        lock.release()
        ticker.stop()

    run(main)


def test_tasks_take_turns(backend: str, lock_dir: str) -> None:
    async def main() -> None:
        lock = ringlock.Lock("turns", backend=backend, dir=lock_dir)
        counter = [0]
        inside = [0]

        async def work() -> None:
            for _ in range(20):
                async with lock:
                    inside[0] += 1
                    assert inside[0] == 1, "two tasks inside"
                    value = counter[0]
                    await asyncio.sleep(0)
                    counter[0] = value + 1
                    inside[0] -= 1

        await asyncio.gather(*(work() for _ in range(5)))
        assert counter[0] == 100
        assert not lock.locked()

    run(main)


def test_same_task_reacquire_is_deadlock(lock_dir: str) -> None:
    async def main() -> None:
        lock = ringlock.Lock("dl", dir=lock_dir)
        async with lock:
            with pytest.raises(ringlock.DeadlockError, match="task"):
                await lock.acquire_async()
            with pytest.raises(ringlock.DeadlockError):
                async with lock:
                    pass
        rw = ringlock.RWLock("dl2", dir=lock_dir)
        async with rw.read():
            with pytest.raises(ringlock.DeadlockError):
                async with rw.write():
                    pass
        assert not rw.locked() and not lock.locked()

    run(main)


def test_cancelled_waiters_leave_nothing_held(backend: str, lock_dir: str) -> None:
    holder = ringlock.Lock("cancel", backend=backend, dir=lock_dir)
    probe = ringlock.Lock("cancel", backend=backend, dir=lock_dir)

    async def main() -> None:
        lock = ringlock.Lock("cancel", backend=backend, dir=lock_dir)
        holder.acquire()
        task = asyncio.create_task(lock.acquire_async())
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        holder.release()
        await asyncio.sleep(0.2)  # the waiting thread gives up within 50 ms
        assert not lock.held
        assert probe.acquire(blocking=False), "a cancelled waiter holds the lock"
        probe.release()
        # cancellation racing the release: whoever wins, nothing stays held
        rng = random.Random(7)
        for _ in range(20):
            holder.acquire()
            task = asyncio.create_task(lock.acquire_async())
            await asyncio.sleep(0.01)
            threading.Timer(rng.uniform(0, 0.004), holder.release).start()
            await asyncio.sleep(rng.uniform(0, 0.004))
            task.cancel()
            try:
                if await task:
                    lock.release()
            except asyncio.CancelledError:
                pass
            await asyncio.sleep(0.08)
            assert not lock.held
            assert probe.acquire(blocking=False), "a cancelled waiter holds the lock"
            probe.release()

    run(main)


def test_wait_for_timeout_cancels_cleanly(backend: str, lock_dir: str) -> None:
    holder = ringlock.Lock("wf", backend=backend, dir=lock_dir)

    async def main() -> None:
        lock = ringlock.Lock("wf", backend=backend, dir=lock_dir)
        holder.acquire()
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(lock.acquire_async(), timeout=0.1)
        holder.release()
        await asyncio.sleep(0.2)
        assert not lock.held and not holder.locked()

    run(main)


def test_rwlock_readers_in_tasks_at_once(backend: str, lock_dir: str) -> None:
    async def main() -> None:
        rw = ringlock.RWLock("arw", backend=backend, dir=lock_dir, timeout=5)
        writer = ringlock.RWLock("arw", backend=backend, dir=lock_dir, timeout=0.1)
        all_in = asyncio.Event()
        count = [0]

        async def reader() -> int:
            async with rw.read() as hold:
                assert hold.mode == "shared"
                count[0] += 1
                if count[0] == 3:
                    all_in.set()
                await all_in.wait()
                n = len(rw.status().holders)
                await asyncio.sleep(0.05)
                return n

        assert await asyncio.gather(reader(), reader(), reader()) == [3, 3, 3]
        assert not rw.locked()
        async def read_briefly() -> None:
            async with writer.read():
                pass

        async with writer.write() as hold:
            assert hold.mode == "exclusive"
            with pytest.raises(ringlock.LockTimeout):
                await asyncio.create_task(read_briefly())
        assert not rw.locked()

    run(main)


def test_release_of_a_task_hold_from_sync_code(lock_dir: str) -> None:
    lock = ringlock.Lock("mix", dir=lock_dir)

    async def main() -> None:
        assert await lock.acquire_async()

    run(main)
    assert lock.held  # the hold outlives the task, as with threading
    lock.release()
    assert not lock.held and not lock.locked()


def _waiting_threads(name: str) -> int:
    """The threads waiting for the asyncio waiters of lock objects named ``name``."""
    return sum(t.name == f"ringlock-async-wait {name}" for t in threading.enumerate())


def test_waiting_tasks_share_one_thread(backend: str, lock_dir: str) -> None:
    """Tasks waiting on one lock object cost one thread, which serves them
    first come first served and ends when none is left; a waiter queued
    behind another still times out on time."""
    holder = ringlock.Lock("many", backend=backend, dir=lock_dir)

    async def main() -> None:
        lock = ringlock.Lock("many", backend=backend, dir=lock_dir)
        assert _waiting_threads("many") == 0
        holder.acquire()
        tasks = [asyncio.create_task(lock.acquire_async(timeout=30)) for _ in range(10)]
        await asyncio.sleep(0.2)
        assert _waiting_threads("many") == 1, "one thread for the object's waiters"
        assert not any(t.done() for t in tasks)
        t0 = time.monotonic()
        assert await lock.acquire_async(timeout=0.2) is False
        took = time.monotonic() - t0
        assert 0.2 <= took < 1.5, f"a queued waiter timed out after {took:.2f} s"
        holder.release()
        for i, t in enumerate(tasks):  # in the order they came
            assert await asyncio.wait_for(t, 10) is True, f"task {i}"
            assert not any(u.done() for u in tasks[i + 1 :])
            await asyncio.sleep(0.01)
            assert not any(u.done() for u in tasks[i + 1 :]), "two tasks hold"
            lock.release()
        deadline = time.monotonic() + 5
        while _waiting_threads("many"):
            assert time.monotonic() < deadline, "the waiting thread did not end"
            await asyncio.sleep(0.01)
        assert not lock.locked()

    run(main)


def test_a_waiting_thread_that_cannot_start_fails_every_queued_task(
    monkeypatch: pytest.MonkeyPatch, lock_dir: str
) -> None:
    """No thread can be started for an object's waiters (the process is out
    of threads): the task that tried, and a task of another event loop that
    queued meanwhile, get the error (none waits for ever), nothing stays
    held, and the object's waiters work again once threads can start."""
    import ringlock._lock as impl

    holder = ringlock.Lock("nothread", dir=lock_dir)
    lock = ringlock.Lock("nothread", dir=lock_dir)
    holder.acquire()
    real_thread = threading.Thread
    real_put = impl._Waiters.put
    queued = threading.Event()
    other: list[BaseException | bool] = []

    def put(self: Any, wait: Any) -> None:
        real_put(self, wait)
        if threading.current_thread().name == "other loop":
            queued.set()

    async def attempt() -> bool:
        return await asyncio.wait_for(lock.acquire_async(), 10)

    def other_loop() -> None:
        try:
            other.append(asyncio.run(attempt()))
        except BaseException as e:  # noqa: BLE001 - looked at below
            other.append(e)

    class NoThread:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            pass

        def start(self) -> None:
            # a task of another loop queues while this start is under way
            t = real_thread(target=other_loop, name="other loop")
            t.start()
            assert queued.wait(10), "the other loop's task did not queue"
            raise RuntimeError("can't start new thread")

    monkeypatch.setattr(impl._Waiters, "put", put)
    monkeypatch.setattr(impl.threading, "Thread", NoThread)
    with pytest.raises(RuntimeError, match="can't start new thread"):
        run(lambda: lock.acquire_async(timeout=30))
    monkeypatch.setattr(impl.threading, "Thread", real_thread)
    deadline = time.monotonic() + 15
    while not other:
        assert time.monotonic() < deadline, "the other loop's task is still waiting"
        time.sleep(0.01)
    assert isinstance(other[0], RuntimeError), other
    assert not lock.held
    holder.release()

    async def again() -> None:
        holder.acquire()
        task = asyncio.create_task(lock.acquire_async(timeout=10))
        await asyncio.sleep(0.05)
        holder.release()
        assert await task is True

    run(again)
    lock.release()
    assert not lock.locked()
