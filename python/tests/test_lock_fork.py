"""fork() and locks (issue 8): a child forked while another thread of the
parent waits on the same lock object must not hang. Each child is watched
with a deadline and killed if it overruns, so a regression fails instead of
hanging the suite."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable

import pytest

import ringlock

CHILD_LIMIT = 20.0  # seconds; far beyond what the child needs


def thread_state(tid: int) -> str:
    with open(f"/proc/self/task/{tid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0]


def sleeping(tid: int) -> None:
    """Returns once thread `tid` of this process sleeps (in its lock wait)."""
    while thread_state(tid) != "S":
        time.sleep(0.001)


def run_forked(child: Callable[[], bool]) -> None:
    """Forks; the child runs `child` and exits 0 if it returned True."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            code = 0 if child() else 2
        finally:
            os._exit(code)
    deadline = time.monotonic() + CHILD_LIMIT
    while True:
        got, status = os.waitpid(pid, os.WNOHANG)
        if got == pid:
            assert os.waitstatus_to_exitcode(status) == 0, "the forked child failed"
            return
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail(f"the forked child hung (killed after {CHILD_LIMIT} s)")
        time.sleep(0.005)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # fork with threads
def test_fork_while_a_thread_waits_on_a_file_lock(lock_dir: str) -> None:
    lock = ringlock.Lock("fork-wait", backend="file", dir=lock_dir)
    assert lock.acquire()
    tid: list[int] = []
    started = threading.Event()

    def waiter() -> None:
        tid.append(threading.get_native_id())
        started.set()
        assert lock.acquire(timeout=60)
        lock.release()

    t = threading.Thread(target=waiter)
    t.start()
    started.wait()
    sleeping(tid[0])

    def child() -> bool:
        # the parent holds the lock: every try and timed wait fails, promptly
        for _ in range(5):
            if lock.acquire(blocking=False):
                return False
            if lock.acquire(timeout=0.01):
                return False
        return True

    run_forked(child)
    lock.release()
    t.join(timeout=CHILD_LIMIT)
    assert not t.is_alive()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # fork with threads
@pytest.mark.parametrize("backend", ["shm", "file"])
def test_fork_while_a_thread_waits_to_read(backend: str, lock_dir: str) -> None:
    rw = ringlock.RWLock("fork-read", backend=backend, dir=lock_dir)
    assert rw.acquire_write()  # a writer holds: a reader waits
    tid: list[int] = []
    started = threading.Event()

    def reader() -> None:
        tid.append(threading.get_native_id())
        started.set()
        assert rw.acquire_read(timeout=60)
        rw.release()

    t = threading.Thread(target=reader)
    t.start()
    started.wait()
    sleeping(tid[0])

    def child() -> bool:
        for _ in range(5):
            if rw.acquire_read(blocking=False) or rw.acquire_write(timeout=0.01):
                return False
        return True

    run_forked(child)
    rw.release()
    t.join(timeout=CHILD_LIMIT)
    assert not t.is_alive()
