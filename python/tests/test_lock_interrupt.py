"""A wait in the main thread stays interruptible (Ctrl-C) without giving up
its place: a writer waiting there keeps new readers behind it, and a
KeyboardInterrupt ends the wait with nothing held and no claim left. Real
processes."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import ringlock
from conftest import read_line, spawn

# A reader process: from `start` seconds on, reads again and again, each hold
# up to `hold` seconds (at random, so that the readers do not fall into step),
# re-acquiring at once, until `until` seconds have passed; then says how many
# holds it had.
READER = """
    import random, sys, time, ringlock
    name, backend, lock_dir, start, hold, until = sys.argv[1:7]
    rw = ringlock.RWLock(name, backend=backend, dir=lock_dir)
    print("ready", flush=True)
    t0 = time.monotonic()
    time.sleep(float(start))
    n = 0
    while time.monotonic() - t0 < float(until):
        rw.acquire_read()
        time.sleep(random.uniform(float(hold) / 2, float(hold)))
        rw.release()
        n += 1
    print("holds", n, flush=True)
"""


def test_overlapping_readers_do_not_delay_a_writer_waiting_in_the_main_thread(
    backend: str, lock_dir: str, tmp_path: Path
) -> None:
    # three readers whose holds (0.2 to 0.4 s) overlap (started 0.1 s
    # apart), so that some reader holds at every moment for 7 s
    hold, until = 0.4, 7.0
    readers = [
        spawn(READER, "busy", backend, lock_dir, str(0.1 * i), str(hold), str(until), cwd=tmp_path)[0]
        for i in range(3)
    ]
    # Another thread of this process keeps running Python code, as a
    # program's worker would: the waiting main thread has to wait its turn
    # for the GIL now and then. (A wait that gave up its claim to run the
    # signal handlers left a gap that long, milliseconds, in which the
    # readers woken by its withdrawal got in again, each time.)
    stop = threading.Event()

    def work() -> None:
        while not stop.is_set():
            sum(range(1000))

    worker = threading.Thread(target=work)
    worker.start()
    try:
        rw = ringlock.RWLock("busy", backend=backend, dir=lock_dir)
        time.sleep(0.6)
        waits = []
        # this test runs in the main thread: the wait is the interruptible one
        for _ in range(4):
            t0 = time.monotonic()
            assert rw.acquire_write(timeout=4.5)
            waits.append(time.monotonic() - t0)
            time.sleep(0.05)
            rw.release()
            time.sleep(0.4)  # the readers overlap again
        # a writer waits at most for the holds under way (0.4 s), not for
        # readers that come after it
        assert max(waits) < 1.0, f"the writer waited {', '.join(f'{w:.2f}' for w in waits)} s"
    finally:
        stop.set()
        worker.join()
        outs = []
        for p in readers:
            out, err = p.communicate(timeout=30)
            assert p.returncode == 0, err
            outs.append(out)
    # the readers did keep overlapping meanwhile
    assert all(int(o.split()[-1]) >= 5 for o in outs), outs


# A writer that waits in its main thread, reports a KeyboardInterrupt, and
# stays alive (a claim it left would still be a live process's).
WAIT_TO_WRITE = """
    import sys, time, ringlock
    rw = ringlock.RWLock(sys.argv[1], backend=sys.argv[2], dir=sys.argv[3])
    print("ready", flush=True)
    try:
        rw.acquire_write()
        print("acquired", flush=True)
    except KeyboardInterrupt:
        print("interrupted", rw.held, flush=True)
    sys.stdin.readline()
"""


def test_ctrl_c_ends_a_main_thread_wait_and_leaves_no_claim(backend: str, lock_dir: str, tmp_path: Path) -> None:
    reader = ringlock.RWLock("intr", backend=backend, dir=lock_dir)
    assert reader.acquire_read()
    child, _ = spawn(WAIT_TO_WRITE, "intr", backend, lock_dir, cwd=tmp_path)
    try:
        # the child's writer waits, and holds new readers back meanwhile
        probe = ringlock.RWLock("intr", backend=backend, dir=lock_dir)
        deadline = time.monotonic() + 5
        while probe.acquire_read(blocking=False):
            probe.release()
            assert time.monotonic() < deadline, "the writer never came to wait"
            time.sleep(0.01)
        time.sleep(0.5)  # well inside the wait, past a few of its hooks
        assert probe.acquire_read(blocking=False) is False
        t0 = time.monotonic()
        child.send_signal(signal.SIGINT)
        assert child.stdout is not None
        line = read_line(child.stdout).strip()
        took = time.monotonic() - t0
        assert line == "interrupted False", child.communicate(timeout=10)[1]
        assert took < 0.5, f"Ctrl-C took {took:.3f} s"
        # the child lives on, and left no claim: a reader gets in at once
        assert child.poll() is None
        assert probe.acquire_read(blocking=False)
        holders = probe.status().holders
        assert [h.mode for h in holders] == ["shared", "shared"], holders
        probe.release()
    finally:
        if child.poll() is None:
            child.kill()
        child.communicate(timeout=10)
        reader.release()
    # and nothing is left once the reader is gone
    w = ringlock.RWLock("intr", backend=backend, dir=lock_dir)
    assert w.acquire_write(blocking=False)
    w.release()
