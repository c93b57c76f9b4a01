"""ringlock.RWLock(backend="etcd") against a real etcd (the ``etcd`` fixture
of conftest.py, skipped without an etcd binary unless RINGLOCK_REQUIRE_ETCD
is set): readers that hold together (threads, objects, processes), a writer
that excludes readers and waits for them, writer preference (a reader behind
a waiting writer waits), reads that carry the last write's token, one lock
with ``Lock`` of the same name, ``status()`` with modes, a writer killed with
SIGKILL replaced within TTL + 1 s, a SIGSTOPped reader that finds its hold
lost, ``async with`` that leaves the event loop running, and bad
arguments."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import pytest

import ringlock
from conftest import ETCD_TTL as TTL
from conftest import Interrupted, etcd_lock, fresh, interrupt_after

NS = "pytest-rwlock"


def etcd_rw(etcd: str, name: str, **kwargs: object) -> ringlock.RWLock:
    kwargs.setdefault("ttl", TTL)
    return ringlock.RWLock(name, backend="etcd", endpoints=[etcd], namespace=NS, **kwargs)  # type: ignore[arg-type]


def until(what: Callable[[], bool], timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while not what():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def modes(st: ringlock.LockStatus) -> tuple[list[str], list[str]]:
    assert isinstance(st, ringlock.EtcdLockStatus)
    return [h.mode for h in st.holders], [w.mode for w in st.waiters]


class Waiter(threading.Thread):
    """A thread that acquires ``rw`` in ``mode`` (timeout 10 s), records the
    Hold, holds until ``done`` is set, then releases."""

    def __init__(self, rw: ringlock.RWLock, mode: str) -> None:
        super().__init__(daemon=True)
        self.rw, self.mode = rw, mode
        self.hold: ringlock.Hold | None = None
        self.got = threading.Event()
        self.done = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            guard = self.rw.read() if self.mode == "read" else self.rw.write()
            with guard as hold:
                self.hold = hold
                self.got.set()
                self.done.wait(30)
        except BaseException as e:  # noqa: BLE001 - checked by the test
            self.error = e
            self.got.set()

    def finish(self) -> None:
        self.done.set()
        self.join(10)
        assert not self.is_alive() and self.error is None, self.error


def test_read_write_tokens_and_status(etcd: str) -> None:
    name = fresh()
    rw = etcd_rw(etcd, name)
    assert rw.backend == "etcd" and rw.name == name and rw.path == f"{NS}/{name}/"
    assert not rw.held and not rw.locked()
    assert "backend='etcd'" in repr(rw)
    with rw.read() as r0:
        assert r0.mode == "shared" and r0.token == 0  # never written
        assert not r0.previous_owner_died and not r0.lost
        assert rw.held and rw.locked()
        with pytest.raises(ringlock.DeadlockError):
            rw.acquire_read()  # the same thread again (no reentrancy)
        with pytest.raises(ringlock.DeadlockError):
            rw.acquire_write()  # nor an upgrade
        st = rw.status()
        assert modes(st) == (["shared"], [])
        h = st.holders[0]
        assert isinstance(h, ringlock.EtcdHolder)
        assert (h.pid, h.liveness) == (os.getpid(), "alive")
        assert h.lease_left is not None and 0 < h.lease_left <= TTL
    assert not rw.held
    tokens = []
    for _ in range(2):
        with rw.write() as w:
            assert w.mode == "exclusive" and w.token > (tokens[-1] if tokens else 0)
            assert modes(rw.status()) == (["exclusive"], [])
            assert rw.status().token == w.token
            tokens.append(w.token)
        assert rw.acquire_read(timeout=5)  # a read carries the last write's token
        assert rw.status().holders[0].mode == "shared"
        rw.release()
        with rw.read() as r:
            assert r.token == tokens[-1] and not r.previous_owner_died
    with pytest.raises(ringlock.NotHeldError):
        rw.release()
    rw.close()
    rw.close()
    with pytest.raises(ringlock.InvalidArgumentError):
        rw.acquire_read()
    assert "closed" in repr(rw)


def test_readers_hold_together_in_threads(etcd: str) -> None:
    name = fresh()
    shared = etcd_rw(etcd, name)  # one object: a handle per thread
    readers = [Waiter(etcd_rw(etcd, name), "read") for _ in range(2)]
    readers += [Waiter(shared, "read") for _ in range(2)]
    for r in readers:
        r.start()
    for r in readers:
        assert r.got.wait(10) and r.error is None, r.error
    st = shared.status()
    assert modes(st) == (["shared"] * 4, [])
    assert len({h.token for h in st.holders}) == 4  # four keys
    assert shared.locked() and not shared.held  # this thread holds nothing
    writer = etcd_rw(etcd, name)
    assert not writer.acquire_write(timeout=0)
    assert not writer.acquire_write(blocking=False)
    t = time.monotonic()
    assert not writer.acquire_write(timeout=0.3)
    assert 0.3 <= time.monotonic() - t < 1.3
    with pytest.raises(ringlock.LockTimeout):
        with etcd_rw(etcd, name, timeout=0.2).write():
            pass
    assert writer.acquire_read(timeout=0)  # a fifth reader joins
    writer.release()
    for r in readers:
        r.finish()
    assert writer.acquire_write(timeout=0)
    writer.release()


def test_a_writer_excludes_readers_and_waits_for_them(etcd: str) -> None:
    name = fresh()
    readers = [Waiter(etcd_rw(etcd, name), "read") for _ in range(2)]
    for r in readers:
        r.start()
        assert r.got.wait(10) and r.error is None
    rw = etcd_rw(etcd, name)
    writer = Waiter(etcd_rw(etcd, name), "write")
    writer.start()
    until(lambda: modes(rw.status()) == (["shared", "shared"], ["exclusive"]))
    time.sleep(0.3)
    assert not writer.got.is_set()
    readers[0].finish()
    time.sleep(0.3)
    assert not writer.got.is_set()  # one reader still holds
    readers[1].finish()
    assert writer.got.wait(5) and writer.error is None
    assert writer.hold is not None and writer.hold.mode == "exclusive"
    assert modes(rw.status()) == (["exclusive"], [])
    assert not rw.acquire_read(timeout=0)  # the writer excludes readers
    t = time.monotonic()
    assert not rw.acquire_read(timeout=0.3)
    assert 0.3 <= time.monotonic() - t < 1.3
    writer.finish()
    with rw.read() as r:
        assert r.token == writer.hold.token


def test_a_reader_behind_a_waiting_writer_waits(etcd: str) -> None:
    name = fresh()
    first = etcd_rw(etcd, name)
    assert first.acquire_read()
    writer = Waiter(etcd_rw(etcd, name), "write")
    writer.start()
    until(lambda: modes(first.status()) == (["shared"], ["exclusive"]))
    late = etcd_rw(etcd, name)
    assert not late.acquire_read(timeout=0)  # a reader holds, but a writer waits
    reader = Waiter(late, "read")
    reader.start()
    until(lambda: modes(first.status()) == (["shared"], ["exclusive", "shared"]))
    st = first.status()
    assert [w.token for w in st.waiters] == sorted(w.token for w in st.waiters)
    time.sleep(0.3)
    assert not reader.got.is_set()
    first.release()
    assert writer.got.wait(5) and writer.error is None
    time.sleep(0.3)
    assert not reader.got.is_set()  # the writer holds now
    assert modes(first.status()) == (["exclusive"], ["shared"])
    writer.finish()
    assert reader.got.wait(5) and reader.error is None
    assert writer.hold is not None and reader.hold is not None
    assert reader.hold.token == writer.hold.token
    reader.finish()


def test_an_interrupted_writer_kept_its_place_and_leaves_none_behind(etcd: str) -> None:
    """A writer waiting in the main thread runs the signal handlers as it
    waits, keeping its place meanwhile (its token stays, a reader that came
    after it keeps waiting behind it); a handler's exception ends the wait
    with its key deleted before acquire_write() raises: the reader behind it
    holds with the first one."""
    name = fresh()
    first, writer = etcd_rw(etcd, name), etcd_rw(etcd, name)
    assert first.acquire_read()
    reader = Waiter(etcd_rw(etcd, name), "read")
    watched: list[list[int]] = []

    def watch() -> None:
        until(lambda: modes(first.status()) == (["shared"], ["exclusive"]))
        reader.start()
        until(lambda: modes(first.status()) == (["shared"], ["exclusive", "shared"]))
        for _ in range(8):  # a second: the main thread runs its checks 5 times
            st = first.status()
            watched.append([w.token for w in st.waiters] if not reader.got.is_set() else [])
            time.sleep(0.125)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    t = time.monotonic()
    with interrupt_after(2.5), pytest.raises(Interrupted):
        writer.acquire_write(timeout=30)
    took = time.monotonic() - t
    st = first.status()
    watcher.join(5)
    assert 2.5 <= took < 3.5, took
    assert "exclusive" not in modes(st)[1], st  # the writer's key is gone already
    assert len(watched) == 8 and all(len(w) == 2 for w in watched), watched
    assert all(w == watched[0] for w in watched), watched  # the same two keys all along
    assert reader.got.wait(5) and reader.error is None  # nobody before it now
    assert modes(first.status()) == (["shared", "shared"], [])
    assert not writer.held
    reader.finish()
    first.release()
    assert writer.acquire_write(timeout=5)
    writer.release()


def test_one_lock_with_lock_of_the_same_name(etcd: str) -> None:
    name = fresh()
    rw, lock = etcd_rw(etcd, name), etcd_lock(etcd, name, namespace=NS)
    with lock as held:
        assert not rw.acquire_read(timeout=0)  # a Lock excludes readers
        assert not rw.acquire_write(timeout=0)
        assert modes(rw.status()) == (["exclusive"], [])
    with rw.read() as r:
        assert r.token == held.token  # one token sequence
        assert not lock.acquire(timeout=0)  # and readers exclude a Lock
        assert lock.locked() and not lock.held
        assert modes(lock.status()) == (["shared"], [])
    with rw.write() as w:
        assert w.token > held.token
        assert not lock.acquire(timeout=0)
    assert lock.acquire(timeout=0)
    assert lock.hold is not None and lock.hold.token > w.token
    lock.release()


def test_status_pickles(etcd: str) -> None:
    import pickle

    rw = etcd_rw(etcd, fresh())
    with rw.read():
        st = rw.status()
    again = pickle.loads(pickle.dumps(st))
    assert again == st and type(again) is ringlock.EtcdLockStatus
    assert again.waiters == st.waiters and again.holders[0].mode == "shared"
    assert again.holders[0].host == st.holders[0].host


CHILD = """
import sys, ringlock
rw = ringlock.RWLock(sys.argv[2], backend="etcd", endpoints=[sys.argv[1]], ttl=%d, namespace=%r)
hold = (rw.read() if sys.argv[3] == "read" else rw.write()).__enter__()
print(hold.token, flush=True)
sys.stdin.readline()  # "check" (after a SIGSTOP past the TTL), or "release"
print("lost" if hold.lost else "intact", flush=True)
try:
    rw.release()
    print("released", flush=True)
except ringlock.LockLostError:
    print("LockLostError", flush=True)
""" % (TTL, NS)


def spawn(etcd: str, name: str, mode: str) -> tuple[subprocess.Popen[str], int]:
    """A child process that holds ``name`` in ``mode``, and its token."""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, etcd, name, mode],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    assert child.stdout is not None
    return child, int(child.stdout.readline())


def tell(child: subprocess.Popen[str], line: str) -> list[str]:
    assert child.stdin is not None and child.stdout is not None
    child.stdin.write(line + "\n")
    child.stdin.flush()
    return [child.stdout.readline().strip(), child.stdout.readline().strip()]


def test_readers_in_processes_hold_together(etcd: str) -> None:
    name = fresh()
    children = []
    try:
        for _ in range(3):
            children.append(spawn(etcd, name, "read")[0])
        rw = etcd_rw(etcd, name)
        st = rw.status()
        assert modes(st) == (["shared"] * 3, [])
        assert {h.pid for h in st.holders} == {c.pid for c in children}
        assert not rw.acquire_write(timeout=0)
        assert rw.acquire_read(timeout=0)
        rw.release()
        for c in children:
            assert tell(c, "release") == ["intact", "released"]
            c.wait(10)
        assert rw.acquire_write(timeout=0)
        rw.release()
    finally:
        for c in children:
            c.kill()
            c.wait()


@pytest.mark.parametrize("next_mode", ["write", "read"])
def test_a_killed_writer_is_replaced_within_ttl(etcd: str, next_mode: str) -> None:
    name = fresh()
    child, token = spawn(etcd, name, "write")
    rw = etcd_rw(etcd, name, timeout=TTL + 3)
    try:
        assert not rw.acquire_read(timeout=0) and not rw.acquire_write(timeout=0)
        child.send_signal(signal.SIGKILL)
        child.wait()
        t = time.monotonic()
        with rw.write() if next_mode == "write" else rw.read() as hold:
            took = time.monotonic() - t
            assert took <= TTL + 1, took
            assert hold.previous_owner_died
            if next_mode == "write":
                assert hold.token > token
            else:
                assert hold.token == token  # what it reads was written under it
            assert [h.pid for h in rw.status().holders] == [os.getpid()]
        # the next write and the read after it: told once, by the writer
        with rw.write() as w:
            assert w.previous_owner_died is (next_mode == "read")
            assert w.token > token
        with rw.read() as r:
            assert not r.previous_owner_died and r.token == w.token
    finally:
        child.kill()
        child.wait()


def test_a_stopped_reader_finds_its_hold_lost(etcd: str) -> None:
    name = fresh()
    child, _ = spawn(etcd, name, "read")
    rw = etcd_rw(etcd, name)
    try:
        assert not rw.acquire_write(timeout=0)
        child.send_signal(signal.SIGSTOP)
        assert rw.acquire_write(timeout=TTL + 3)  # its lease expired meanwhile
        child.send_signal(signal.SIGCONT)
        assert tell(child, "check") == ["lost", "LockLostError"]
        rw.release()
    finally:
        child.kill()
        child.wait()


def test_async_with_keeps_the_loop_running(etcd: str) -> None:
    name = fresh()
    writer, rw = etcd_rw(etcd, name), etcd_rw(etcd, name)

    async def main() -> None:
        assert writer.acquire_write()
        ticks = 0
        stop = asyncio.Event()

        async def ticker() -> None:
            nonlocal ticks
            while not stop.is_set():
                ticks += 1
                await asyncio.sleep(0.01)

        async def read(hold_for: float) -> ringlock.Hold:
            async with rw.read() as hold:
                await asyncio.sleep(hold_for)
                return hold

        tick = asyncio.ensure_future(ticker())
        tasks = [asyncio.ensure_future(read(0.3)) for _ in range(2)]
        await asyncio.sleep(0.5)
        assert not any(t.done() for t in tasks)
        assert ticks >= 25, ticks  # 0.5 s of 10 ms ticks while the tasks waited
        # the object's waiting thread serves its tasks in turn: one of them
        # waits in etcd's queue, the other behind it in the process
        assert modes(writer.status()) == (["exclusive"], ["shared"])
        first = writer.status().token
        writer.release()
        await asyncio.sleep(0.15)
        # both tasks read at once, through handles of their own
        assert modes(writer.status()) == (["shared", "shared"], [])
        holds = await asyncio.wait_for(asyncio.gather(*tasks), 5)
        assert [h.mode for h in holds] == ["shared", "shared"]
        assert all(h.token == first for h in holds)
        async with rw.write() as w:
            assert w.token > first
        stop.set()
        await tick

    asyncio.run(main())
    assert not rw.held and not rw.locked()


def test_close_releases_what_the_threads_hold(etcd: str) -> None:
    name = fresh()
    rw = etcd_rw(etcd, name)
    reader = Waiter(rw, "read")
    reader.start()
    assert reader.got.wait(10) and reader.error is None
    other = etcd_rw(etcd, name)
    assert not other.acquire_write(timeout=0)
    rw.close()
    assert other.acquire_write(timeout=2)
    other.release()
    reader.done.set()
    reader.join(10)


def test_bad_timeouts(etcd: str) -> None:
    """(The constructor's arguments: test_lock_etcd.py's test_bad_arguments.)"""
    rw = ringlock.RWLock("x", backend="etcd", endpoints=[etcd], namespace=NS)
    for bad_timeout in (-2, float("nan"), "1"):
        with pytest.raises((ringlock.InvalidArgumentError, TypeError)):
            rw.acquire_read(timeout=bad_timeout)  # type: ignore[arg-type]
    assert not rw.held
