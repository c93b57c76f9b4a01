"""A holder that execs (issue 8, finding 7): its holds end at exec, in both
backends alike. A Python process takes the lock and execs `sleep`; the test
process is then told the holder is dead and takes the lock at once, with
previous_owner_died and a larger token."""

from __future__ import annotations

import subprocess
import sys
import time

import ringlock

HOLDER = """
import os, sys, ringlock
lock = ringlock.Lock("exec", backend=sys.argv[1], dir=sys.argv[2])
assert lock.acquire()
print(lock.hold.token, flush=True)
os.execvp("sleep", ["sleep", "30"])
"""


def comm(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


def test_a_holder_that_execs_loses_its_hold(backend: str, lock_dir: str) -> None:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, backend, lock_dir], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        token = int(proc.stdout.readline())
        deadline = time.monotonic() + 20
        while comm(proc.pid) != "sleep":
            assert time.monotonic() < deadline, "the holder did not exec"
            time.sleep(0.002)
        lock = ringlock.Lock("exec", backend=backend, dir=lock_dir)
        # comm changes while exec runs; the kernel drops the image mark's
        # description (and its flock) as the exec returns to user space
        holders = lock.status().holders
        while [h.liveness for h in holders] not in ([], ["dead"]):
            assert time.monotonic() < deadline, holders
            time.sleep(0.002)
            holders = lock.status().holders
        t0 = time.monotonic()
        assert lock.acquire(timeout=5)
        assert time.monotonic() - t0 < 2
        hold = lock.hold
        assert hold is not None
        assert hold.previous_owner_died is True
        assert hold.token > token
        lock.release()
    finally:
        proc.kill()
        proc.wait(timeout=10)
