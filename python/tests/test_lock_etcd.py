"""ringlock.Lock(backend="etcd") against a real etcd (the ``etcd`` fixture of
conftest.py: started on free 127.0.0.1 ports, skipped without an etcd binary
unless RINGLOCK_REQUIRE_ETCD is set): acquire and release, growing tokens,
``with`` and ``async with`` (the event loop keeps running while a task
waits), exclusion between Lock objects, threads and processes (a counter
file whose store checks the fencing token), a holder killed with SIGKILL
replaced within TTL + 1 s, a SIGSTOPped holder that finds its hold lost,
Ctrl-C ending a wait for etcd, timeouts, and bad arguments."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import ringlock
from conftest import ETCD_TTL as TTL
from conftest import Interrupted, etcd_lock, etcd_server, fresh, interrupt_after, read_line

NS = "pytest-lock"  # etcd_lock's namespace


def test_acquire_release_and_tokens(etcd: str) -> None:
    name = fresh()
    lock = etcd_lock(etcd, name)
    assert lock.backend == "etcd" and lock.name == name
    assert lock.path == f"{NS}/{name}/"
    assert not lock.held and not lock.locked() and lock.hold is None
    tokens = []
    for _ in range(3):
        assert lock.acquire(timeout=5)
        assert lock.held and lock.locked()
        hold = lock.hold
        assert hold is not None and hold.mode == "exclusive"
        assert not hold.previous_owner_died and not hold.lost
        tokens.append(hold.token)
        lock.release()
        assert not lock.held
    assert tokens == sorted(tokens) and len(set(tokens)) == 3 and tokens[0] > 0
    with pytest.raises(ringlock.NotHeldError):
        lock.release()
    with lock as hold:
        assert hold.token > tokens[-1]
        with pytest.raises(ringlock.DeadlockError):
            lock.acquire()  # the same thread through the same object
        st = lock.status()
        assert isinstance(st, ringlock.EtcdLockStatus) and isinstance(st, ringlock.LockStatus)
        assert st.token == hold.token
        assert len(st.holders) == 1 and st.waiters == []
        h = st.holders[0]
        assert isinstance(h, ringlock.EtcdHolder) and isinstance(h, ringlock.Holder)
        assert "lease_left=" in repr(st)
        assert (h.pid, h.token, h.mode, h.liveness) == (os.getpid(), hold.token, "exclusive", "alive")
        assert h.host == socket.gethostname()
        assert h.lease_left is not None and 0 < h.lease_left <= TTL
        assert abs(h.since - time.time()) < 5
    assert not lock.held
    lock.close()
    lock.close()
    with pytest.raises(ringlock.InvalidArgumentError):
        lock.acquire()


def test_two_objects_exclude_each_other(etcd: str) -> None:
    name = fresh()
    a, b = etcd_lock(etcd, name), etcd_lock(etcd, name)
    with a as first:
        assert b.locked() and not b.held
        assert not b.acquire(timeout=0)
        assert not b.acquire(blocking=False)
        t = time.monotonic()
        assert not b.acquire(timeout=0.3)
        took = time.monotonic() - t
        assert 0.3 <= took < 1.3, took
        with pytest.raises(ringlock.LockTimeout):
            with etcd_lock(etcd, name, timeout=0.2):
                pass
        assert a.status().holders[0].token == first.token
    assert b.acquire(timeout=0)
    assert b.hold is not None and b.hold.token > first.token
    assert not b.hold.previous_owner_died
    b.release()


def test_waiters_in_status_in_order(etcd: str) -> None:
    name = fresh()
    holder = etcd_lock(etcd, name)
    holder.acquire()
    waiting = [etcd_lock(etcd, name) for _ in range(2)]
    threads = []
    for w in waiting:
        th = threading.Thread(target=lambda w=w: (w.acquire(timeout=10), w.release()))
        th.start()
        threads.append(th)
        deadline = time.monotonic() + 5
        while len(holder.status().waiters) < len(threads):
            assert time.monotonic() < deadline
            time.sleep(0.01)
    st = holder.status()
    assert [w.token for w in st.waiters] == sorted(w.token for w in st.waiters)
    assert all(w.token > st.holders[0].token and w.pid == os.getpid() for w in st.waiters)
    holder.release()
    for th in threads:
        th.join(10)
        assert not th.is_alive()


def test_threads_of_one_object_wait_in_etcds_queue(etcd: str) -> None:
    """Each acquisition has a core handle of its own: the threads sharing one
    object queue in etcd, in the order they came, as processes do."""
    name = fresh()
    holder = etcd_lock(etcd, name)
    holder.acquire()
    lock = etcd_lock(etcd, name)  # one object, three waiting threads
    order: list[int] = []

    def wait(i: int) -> None:
        assert lock.acquire(timeout=20)
        order.append(i)
        lock.release()

    threads = []
    for i in range(3):
        threads.append(threading.Thread(target=wait, args=(i,)))
        threads[-1].start()
        deadline = time.monotonic() + 5
        while len(holder.status().waiters) < i + 1:
            assert time.monotonic() < deadline, f"thread {i} is not in etcd's queue"
            time.sleep(0.01)
    assert len(lock.status().waiters) == 3
    holder.release()
    for th in threads:
        th.join(20)
        assert not th.is_alive()
    assert order == [0, 1, 2]
    assert not lock.locked() and lock.status().waiters == []


def test_threads_exclude_each_other(etcd: str) -> None:
    lock = etcd_lock(etcd, fresh())  # one object shared by the threads
    inside, most, count = [0], [0], [0]
    guard = threading.Lock()

    def work() -> None:
        for _ in range(5):
            with lock:
                with guard:
                    inside[0] += 1
                    most[0] = max(most[0], inside[0])
                time.sleep(0.002)
                with guard:
                    inside[0] -= 1
                    count[0] += 1

    threads = [threading.Thread(target=work) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert count[0] == 20 and most[0] == 1


def test_async_with_keeps_the_loop_running(etcd: str) -> None:
    name = fresh()
    holder = etcd_lock(etcd, name)
    waiter = etcd_lock(etcd, name)

    async def main() -> None:
        holder.acquire()
        ticks = 0
        stop = asyncio.Event()

        async def ticker() -> None:
            nonlocal ticks
            while not stop.is_set():
                ticks += 1
                await asyncio.sleep(0.01)

        async def wait() -> int:
            async with waiter as hold:
                assert waiter.held
                return hold.token

        tick = asyncio.ensure_future(ticker())
        task = asyncio.ensure_future(wait())
        await asyncio.sleep(0.5)
        assert not task.done()
        assert ticks >= 25, ticks  # 0.5 s of 10 ms ticks while the task waited
        first = holder.hold
        holder.release()
        token = await asyncio.wait_for(task, 5)
        assert first is not None and token > first.token
        assert not waiter.held
        assert await waiter.acquire_async(timeout=0)
        waiter.release()
        stop.set()
        await tick

    asyncio.run(main())


def test_async_cancel_leaves_nothing_held(etcd: str) -> None:
    name = fresh()
    holder, waiter = etcd_lock(etcd, name), etcd_lock(etcd, name)

    async def main() -> None:
        holder.acquire()
        task = asyncio.ensure_future(waiter.acquire_async(timeout=30))
        deadline = time.monotonic() + 5
        while not holder.status().waiters:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # the cancelled wait leaves etcd's queue within a cancel check (50 ms)
        deadline = time.monotonic() + 1
        while holder.status().waiters:
            assert time.monotonic() < deadline, "the cancelled wait stayed in etcd"
            await asyncio.sleep(0.01)
        holder.release()

    asyncio.run(main())
    assert not waiter.held
    assert holder.acquire(timeout=2)
    holder.release()


CHILD = """
import os, sys, time, ringlock
etcd, name, counter, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
lock = ringlock.Lock(name, backend="etcd", endpoints=[etcd], ttl=%d, namespace=%r)
def store(path, token, value):
    # the store refuses a token below the highest it has seen (fencing)
    with open(path + ".token") as f:
        seen = int(f.read() or 0)
    if token < seen:
        raise SystemExit(f"stale token {token} < {seen}")
    with open(path + ".token", "w") as f:
        f.write(str(token))
    with open(path, "w") as f:
        f.write(str(value))
for _ in range(n):
    with lock as hold:
        with open(counter) as f:
            value = int(f.read() or 0)
        store(counter, hold.token, value + 1)
print("done", flush=True)
""" % (TTL, NS)


def test_processes_count_exactly_with_fencing(etcd: str, tmp_path: Path) -> None:
    counter = tmp_path / "counter"
    counter.write_text("0")
    (tmp_path / "counter.token").write_text("0")
    name, n, procs = fresh(), 25, 4
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, etcd, name, str(counter), str(n)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for _ in range(procs)
    ]
    for c in children:
        out, err = c.communicate(timeout=120)
        assert c.returncode == 0, err
        assert out.strip() == "done"
    assert counter.read_text() == str(n * procs)


HOLDER = """
import sys, time, ringlock
lock = ringlock.Lock(sys.argv[2], backend="etcd", endpoints=[sys.argv[1]], ttl=%d, namespace=%r)
hold = lock.__enter__()
print(hold.token, flush=True)
sys.stdin.readline()  # "check": after a SIGSTOP past the TTL
print("lost" if hold.lost else "intact", flush=True)
try:
    lock.release()
    print("released", flush=True)
except ringlock.LockLostError:
    print("LockLostError", flush=True)
""" % (TTL, NS)


def spawn_holder(etcd: str, name: str) -> tuple[subprocess.Popen[str], int]:
    child = subprocess.Popen(
        [sys.executable, "-c", HOLDER, etcd, name],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    assert child.stdout is not None
    return child, int(child.stdout.readline())


def test_a_killed_holder_is_replaced_within_ttl(etcd: str) -> None:
    name = fresh()
    child, token = spawn_holder(etcd, name)
    lock = etcd_lock(etcd, name)
    try:
        assert not lock.acquire(timeout=0)
        child.send_signal(signal.SIGKILL)
        child.wait()
        t = time.monotonic()
        assert lock.acquire(timeout=TTL + 3)
        took = time.monotonic() - t
        assert took <= TTL + 1, took
        assert lock.hold is not None
        assert lock.hold.previous_owner_died and lock.hold.token > token
        lock.release()
        with lock as hold:
            assert not hold.previous_owner_died  # reported once
    finally:
        child.kill()
        child.wait()


def test_a_stopped_holder_finds_its_hold_lost(etcd: str) -> None:
    name = fresh()
    child, token = spawn_holder(etcd, name)
    lock = etcd_lock(etcd, name)
    assert child.stdin is not None and child.stdout is not None
    try:
        child.send_signal(signal.SIGSTOP)
        assert lock.acquire(timeout=TTL + 3)  # its lease expired meanwhile
        assert lock.hold is not None and lock.hold.previous_owner_died
        assert lock.hold.token > token
        child.send_signal(signal.SIGCONT)
        child.stdin.write("check\n")
        child.stdin.flush()
        assert child.stdout.readline().strip() == "lost"
        assert child.stdout.readline().strip() == "LockLostError"
        assert not lock.hold.lost  # the new holder's hold is intact
        lock.release()
    finally:
        child.kill()
        child.wait()


INTERRUPTED = """
import sys, time, ringlock
lock = ringlock.Lock(sys.argv[2], backend="etcd", endpoints=[sys.argv[1]], ttl=%d, namespace=%r)
print("waiting", flush=True)
t = time.monotonic()
try:
    lock.acquire()
except KeyboardInterrupt:
    print(f"interrupted {time.monotonic() - t:.3f}", flush=True)
sys.stdin.readline()  # the parent looked at the queue (a try puts a key in it)
print("try", lock.acquire(timeout=0), flush=True)  # no DeadlockError: the handle is free
sys.stdin.readline()  # the parent released
print("then", lock.acquire(timeout=5), flush=True)
""" % (TTL, NS)


def test_ctrl_c_interrupts_a_wait_for_etcd(etcd: str) -> None:
    name = fresh()
    lock = etcd_lock(etcd, name)
    lock.acquire()
    child = subprocess.Popen(
        [sys.executable, "-c", INTERRUPTED, etcd, name],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    assert child.stdin is not None and child.stdout is not None
    try:
        assert read_line(child.stdout).strip() == "waiting"
        deadline = time.monotonic() + 5
        while not lock.status().waiters:  # the child waits in etcd's queue
            assert time.monotonic() < deadline
            time.sleep(0.01)
        time.sleep(0.3)
        t = time.monotonic()
        child.send_signal(signal.SIGINT)
        line = read_line(child.stdout).split()
        assert line[0] == "interrupted", line
        assert time.monotonic() - t < 1.0
        assert lock.status().waiters == []  # withdrawn from etcd's queue already
        child.stdin.write("looked\n")
        child.stdin.flush()
        assert read_line(child.stdout).strip() == "try False"
        lock.release()
        child.stdin.write("go\n")
        child.stdin.flush()
        assert read_line(child.stdout).strip() == "then True"
    finally:
        child.kill()
        child.wait()


def test_a_signal_handlers_exception_withdraws_the_wait_from_etcd(etcd: str) -> None:
    """A wait in the main thread runs the signal handlers as it waits; the
    exception of one ends the wait at once, its key deleted from etcd
    before acquire() raises (no waiter left behind), the object free to
    wait again."""
    name = fresh()
    holder, waiter = etcd_lock(etcd, name), etcd_lock(etcd, name)
    assert holder.acquire(timeout=5)
    try:
        t = time.monotonic()
        with interrupt_after(0.6), pytest.raises(Interrupted):
            waiter.acquire(timeout=30)
        took = time.monotonic() - t
        st = holder.status()
        assert st.waiters == [], st
        assert 0.6 <= took < 1.5, took
        assert not waiter.held
        assert not waiter.acquire(timeout=0)
    finally:
        holder.release()
    assert waiter.acquire(timeout=5)
    assert waiter.hold is not None and waiter.hold.token > 0
    waiter.release()
    assert holder.status().holders == []


def test_nothing_listening_is_unavailable() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    t = time.monotonic()
    with pytest.raises(ringlock.UnavailableError) as e:
        ringlock.Lock("x", backend="etcd", endpoints=f"http://127.0.0.1:{port}", request_timeout=0.5)
    assert isinstance(e.value, ConnectionError)
    assert time.monotonic() - t < 2


def test_etcd_gone_is_unavailable_within_the_timeout() -> None:
    with etcd_server() as url:
        name = fresh()
        held = etcd_lock(url, name, request_timeout=0.5)
        waiter = etcd_lock(url, name, request_timeout=0.5)
        held.acquire()
    # etcd is killed
    t = time.monotonic()
    with pytest.raises(ringlock.UnavailableError):
        waiter.acquire(timeout=0.3)
    assert time.monotonic() - t < 1.5
    assert not waiter.held
    with pytest.raises(ringlock.UnavailableError):
        waiter.status()
    t = time.monotonic()
    with pytest.raises((ringlock.UnavailableError, ringlock.LockLostError)):
        held.release()
    assert time.monotonic() - t < 1.5
    assert not held.held
    held.close()
    waiter.close()


@pytest.mark.parametrize("cls", [ringlock.Lock, ringlock.RWLock])
def test_bad_arguments(etcd: str, cls: type[ringlock.Lock | ringlock.RWLock]) -> None:
    """Both classes take the same arguments and refuse the same ones."""
    good = {"backend": "etcd", "endpoints": [etcd], "namespace": NS}
    with pytest.raises(ringlock.InvalidArgumentError):
        cls("x", **good, ttl=1)  # type: ignore[arg-type]
    for bad in ({"ttl": -1}, {"ttl": float("nan")}, {"request_timeout": float("inf")}):
        with pytest.raises(ringlock.InvalidArgumentError):
            cls("x", **good, **bad)  # type: ignore[arg-type]
    for name in ("a b", "", "x" * 201, "../x"):
        with pytest.raises(ringlock.InvalidArgumentError):
            cls(name, **good)  # type: ignore[arg-type]
    with pytest.raises(ringlock.InvalidArgumentError):
        cls("x", backend="etcd", endpoints=[])
    with pytest.raises(ringlock.InvalidArgumentError):
        cls("x", backend="etcd", endpoints=["https://127.0.0.1:1"])  # no TLS
    with pytest.raises(ringlock.InvalidArgumentError):
        cls("x", **{**good, "namespace": "/bad"})  # type: ignore[arg-type]
    for endpoints in (5, [5], [b"http://127.0.0.1:1"]):
        with pytest.raises(TypeError):
            cls("x", backend="etcd", endpoints=endpoints)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="endpoints"):
        cls("x", backend="etcd")
    with pytest.raises(TypeError, match="dir"):
        cls("x", **good, dir="/tmp")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="mode"):
        cls("x", **good, mode=0o600)  # type: ignore[arg-type]
    for local, kwargs in itertools.product(
        ("shm", "file"), ({"endpoints": [etcd]}, {"ttl": 5}, {"namespace": "n"}, {"request_timeout": 1})
    ):
        with pytest.raises(TypeError, match="etcd"):
            cls("x", backend=local, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ringlock.InvalidArgumentError, match="etcd"):
        cls("x", backend="nope")  # type: ignore[arg-type]


def test_one_str_of_endpoints_and_a_repr(etcd: str) -> None:
    lock = ringlock.Lock(fresh(), backend="etcd", endpoints=etcd, ttl=TTL, namespace=NS)
    assert "backend='etcd'" in repr(lock) and "not held" in repr(lock)
    with lock:
        assert repr(lock).endswith(" held>") and "not held" not in repr(lock)
    lock.close()
    assert "closed" in repr(lock)

