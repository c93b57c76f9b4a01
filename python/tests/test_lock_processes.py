"""Locks between real processes: C and Python mixed on one counter, holders
killed with SIGKILL, stopped holders, shared holders in several processes,
Ctrl-C of a waiting process."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import ringlock
from conftest import spawn

REPO = Path(__file__).resolve().parents[2]
LOCK_C = REPO / "build" / "examples" / "lock_c"
LOCK_PY = REPO / "examples" / "python" / "lock.py"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


class Child:
    """A Python child process running `code` (argv: lock name, backend, lock
    dir, extra...) that prints "ready ..." once it holds what it wants."""

    def __init__(self, code: str, *args: str, cwd: Path) -> None:
        self.proc, self.ready = spawn(code, *args, cwd=cwd)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def tell(self, line: str) -> str:
        """Sends a line on stdin; returns the child's next line of output."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline().strip()

    def kill(self, sig: int = signal.SIGKILL) -> None:
        os.kill(self.proc.pid, sig)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.communicate(timeout=30)


@pytest.fixture
def children(tmp_path: Path) -> Iterator[list[Child]]:
    made: list[Child] = []
    yield made
    for c in made:
        c.close()


HOLD_EXCLUSIVE = """
    import sys, time, ringlock
    lock = ringlock.Lock(sys.argv[1], backend=sys.argv[2], dir=sys.argv[3])
    assert lock.acquire()
    print("ready", lock.hold.token, flush=True)
    sys.stdin.readline()
    lock.release()
    print("released", flush=True)
    time.sleep(60)
"""

HOLD_SHARED = """
    import sys, time, ringlock
    rw = ringlock.RWLock(sys.argv[1], backend=sys.argv[2], dir=sys.argv[3])
    assert rw.acquire_read()
    print("ready", rw.status().token, flush=True)
    sys.stdin.readline()
    rw.release()
    print("released", flush=True)
    time.sleep(60)
"""


# ---- C and Python on one counter ------------------------------------------------

PROCESSES = 4  # of each language
INCREMENTS = 5_000
LINE = re.compile(r"^(c|python) pid=(\d+) increments=(\d+) last_token=(\d+) died_seen=(\d+)$")


def run_counter(programs: list[list[str]], backend: str, lock_dir: str, counter: Path) -> list[str]:
    procs = [
        subprocess.Popen(
            [*prog, "counter", str(counter), str(INCREMENTS), backend, lock_dir],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for prog in programs
    ]
    lines = []
    for p in procs:
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, err
        lines.append(out.strip())
    return lines


def test_c_and_python_processes_share_one_counter(backend: str, lock_dir: str, tmp_path: Path) -> None:
    python = [sys.executable, str(LOCK_PY)]
    if LOCK_C.exists():
        programs = [[str(LOCK_C)], python] * PROCESSES
    elif IN_CI:
        pytest.fail(f"{LOCK_C} is missing: `make c-examples` builds it (test-python depends on it)")
    else:
        programs = [python] * (2 * PROCESSES)
    counter = tmp_path / "counter"
    lines = run_counter(programs, backend, lock_dir, counter)
    total = 2 * PROCESSES * INCREMENTS
    assert counter.read_text() == str(total)
    tokens = []
    for line, prog in zip(lines, programs):
        m = LINE.match(line)
        assert m, line
        lang, pid, n, last, died = m.groups()
        assert lang == ("c" if prog[0] == str(LOCK_C) else "python")
        assert int(n) == INCREMENTS and int(died) == 0
        tokens.append(int(last))
    # one fencing token per acquisition, the last one is the total
    assert max(tokens) == total
    assert ringlock.Lock("counter", backend=backend, dir=lock_dir).status().token == total
    if not LOCK_C.exists():
        pytest.skip(f"{LOCK_C} missing: ran Python-only; `make c-examples` builds it")


# ---- holders that die ---------------------------------------------------------------


@pytest.mark.parametrize("reap", [False, True], ids=["zombie", "reaped"])
def test_sigkilled_holder(backend: str, lock_dir: str, tmp_path: Path, children: list[Child], reap: bool) -> None:
    lock = ringlock.Lock("kill", backend=backend, dir=lock_dir)
    last = 0
    for _ in range(3):
        child = Child(HOLD_EXCLUSIVE, "kill", backend, lock_dir, cwd=tmp_path)
        children.append(child)
        child_token = int(child.ready[1])
        assert child_token > last
        [holder] = lock.status().holders
        assert (holder.pid, holder.mode, holder.token, holder.liveness) == (
            child.pid,
            "exclusive",
            child_token,
            "alive",
        )
        assert lock.acquire(blocking=False) is False
        child.kill()
        if reap:
            child.proc.wait(timeout=10)
        t0 = time.monotonic()
        assert lock.acquire(timeout=10)
        took = time.monotonic() - t0
        assert took < 1.0, f"took {took:.3f} s to take over from a dead holder"
        hold = lock.hold
        assert hold is not None
        assert hold.previous_owner_died is True
        assert hold.token > child_token
        assert [h.pid for h in lock.status().holders] == [os.getpid()]
        lock.release()
        # reported once
        with lock as again:
            assert again.previous_owner_died is False
            last = again.token


def test_stopped_holder_is_alive(backend: str, lock_dir: str, tmp_path: Path, children: list[Child]) -> None:
    child = Child(HOLD_EXCLUSIVE, "stop", backend, lock_dir, cwd=tmp_path)
    children.append(child)
    lock = ringlock.Lock("stop", backend=backend, dir=lock_dir)
    child.kill(signal.SIGSTOP)
    try:
        deadline = time.monotonic() + 5
        while lock.status().holders[0].liveness != "stopped" and time.monotonic() < deadline:
            time.sleep(0.01)
        assert lock.status().holders[0].liveness == "stopped"
        assert lock.acquire(timeout=0.2) is False, "a stopped holder still holds"
    finally:
        child.kill(signal.SIGCONT)
    assert child.tell("release") == "released"
    with lock as hold:
        assert hold.previous_owner_died is False


# ---- shared holders in several processes ---------------------------------------------


def test_readers_in_two_processes(backend: str, lock_dir: str, tmp_path: Path, children: list[Child]) -> None:
    a = Child(HOLD_SHARED, "shared", backend, lock_dir, cwd=tmp_path)
    children.append(a)
    b = Child(HOLD_SHARED, "shared", backend, lock_dir, cwd=tmp_path)
    children.append(b)
    rw = ringlock.RWLock("shared", backend=backend, dir=lock_dir)
    st = rw.status()
    assert sorted(h.pid for h in st.holders) == sorted([a.pid, b.pid])
    assert {h.mode for h in st.holders} == {"shared"}
    assert rw.locked()
    # a writer is excluded, a reader is not
    t0 = time.monotonic()
    assert rw.acquire_write(timeout=0.1) is False
    assert time.monotonic() - t0 >= 0.1
    assert ringlock.Lock("shared", backend=backend, dir=lock_dir).acquire(blocking=False) is False
    with rw.read():
        assert len(rw.status().holders) == 3
    # one reader leaves, the other is killed while holding
    assert a.tell("release") == "released"
    assert rw.acquire_write(timeout=0.1) is False
    b.kill()
    t0 = time.monotonic()
    assert rw.acquire_write(timeout=10)
    took = time.monotonic() - t0
    assert took < 1.0, f"a dead reader blocked the writer {took:.3f} s"
    assert [(h.pid, h.mode) for h in rw.status().holders] == [(os.getpid(), "exclusive")]
    rw.release()


def test_exclusive_child_blocks_readers(backend: str, lock_dir: str, tmp_path: Path, children: list[Child]) -> None:
    child = Child(HOLD_EXCLUSIVE, "ex", backend, lock_dir, cwd=tmp_path)
    children.append(child)
    rw = ringlock.RWLock("ex", backend=backend, dir=lock_dir)
    assert rw.acquire_read(timeout=0.05) is False
    assert child.tell("release") == "released"
    assert rw.acquire_read(timeout=5)
    rw.release()


# ---- Ctrl-C ---------------------------------------------------------------------------

WAIT_FOREVER = """
    import sys, time, ringlock
    lock = ringlock.Lock(sys.argv[1], backend=sys.argv[2], dir=sys.argv[3])
    print("ready", flush=True)
    t0 = time.monotonic()
    try:
        lock.acquire()
        print("acquired", flush=True)
    except KeyboardInterrupt:
        print("interrupted", lock.held, flush=True)
"""


def test_ctrl_c_interrupts_a_waiting_main_thread(backend: str, lock_dir: str, tmp_path: Path) -> None:
    holder = ringlock.Lock("int", backend=backend, dir=lock_dir)
    holder.acquire()
    child = Child(WAIT_FOREVER, "int", backend, lock_dir, cwd=tmp_path)
    try:
        time.sleep(0.3)  # blocked in acquire
        child.kill(signal.SIGINT)
        t0 = time.monotonic()
        out, err = child.proc.communicate(timeout=10)
        assert time.monotonic() - t0 < 2
        assert out.strip() == "interrupted False", err
    finally:
        child.close()
        holder.release()
