"""`make demo-cluster`: a ring that follows cluster membership, and a lock
across processes, on a 3-member etcd on 127.0.0.1.

1. Starts three etcd members on free ports (data in a temporary directory
   on /dev/shm) and waits until each reports healthy.
2. Five member processes (this script, `member`) join the ring `demo` with
   TTL 2 s; `ringlock-watch` follows the ring into a SharedRing file; a
   RingWatcher in this process follows it too.
3. A C reader (`shared_ring_c show`) and a Python reader (`SharedRing`) print
   the placement of a few keys from that file; they must agree.
4. Two C (`lock_c`) and two Python (`lock.py`) processes increment a fenced
   counter under one etcd lock; the total must be exact, no write rejected.
5. The member owning the first key is killed with SIGKILL. Within its TTL the watcher reports the
   change with its migration plan (printed), ringlock-watch publishes the new
   ring, and the readers print the new placements: only the dead node's keys
   moved.

    python cluster_demo.py --bin BUILD/examples --watch target/release/ringlock-watch

Exits 1 with a message if anything disagrees; everything it started is killed
by pid at the end.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import ringlock

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "lib"))
import etcd_server  # noqa: E402  (tests/lib/etcd_server.py)

RING = "demo"
TTL = 2
NODES = [f"cache-{c}" for c in "abcde"]
KEYS = [f"user:{i}" for i in range(12)]
INCREMENTS = 200


def fail(why: str) -> None:
    print(f"cluster_demo: {why}", file=sys.stderr)
    sys.exit(1)


def wait_for(what: str, ok, within: float = 15) -> None:  # type: ignore[no-untyped-def]
    until = time.monotonic() + within
    while not ok():
        if time.monotonic() > until:
            fail(f"{what}: not within {within:.0f} s")
        time.sleep(0.02)


@contextmanager
def processes() -> Iterator[list[subprocess.Popen]]:  # type: ignore[type-arg]
    started: list[subprocess.Popen] = []  # type: ignore[type-arg]
    try:
        yield started
    finally:
        for p in started:
            if p.poll() is None:
                p.kill()
            p.wait()


def member(endpoints: str, node: str, addr: str) -> None:
    """The `member` role: join, say so, stay until killed."""
    with ringlock.Member(endpoints, RING, node, 1, addr, ttl=TTL, namespace="demo"):
        print("joined", flush=True)
        signal.pause()


def c_placements(bin_dir: str, path: str) -> list[str]:
    out = subprocess.run([f"{bin_dir}/shared_ring_c", "show", path, *KEYS],
                         check=True, capture_output=True, text=True).stdout
    # "generation G: KEY -> NODE"
    return [line.rsplit(" ", 1)[1] for line in out.splitlines()]


def show(label: str, shared: ringlock.SharedRing, bin_dir: str,
         before: list[str] | None = None, victim: str = "") -> list[str]:
    c = c_placements(bin_dir, shared.path)
    py = [shared.get(k) for k in KEYS]
    if c != py:
        fail(f"the C and Python readers disagree: {c} against {py}")
    print(f"  {label}: generation {shared.generation}, {len(shared)} nodes; "
          "C and Python readers agree")
    for i, k in enumerate(KEYS):
        note = ""
        if before is not None and before[i] != py[i]:
            note = f"   (moved from {before[i]})"
            if before[i] != victim:
                fail(f"{k} moved from {before[i]}, which is alive")
        elif before is not None and before[i] == victim:
            fail(f"{k} still on the dead {victim}")
        print(f"    {k:<8} -> {py[i]}{note}")
    return py


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True, help="the C examples' directory")
    ap.add_argument("--watch", required=True, help="the ringlock-watch binary")
    args = ap.parse_args()
    if shutil.which("etcd") is None:
        fail("no etcd on PATH (bash tests/lib/need-etcd.sh)")
    here = os.path.dirname(os.path.abspath(__file__))
    data = tempfile.mkdtemp(prefix="ringlock-demo-cluster-", dir="/dev/shm")
    with ExitStack() as stack, processes() as started:
        stack.callback(shutil.rmtree, data, True)
        print("== cluster: 3 etcd members on 127.0.0.1 ==")
        try:
            eps = stack.enter_context(etcd_server.running(3, prefix="ringlock-demo-cluster-"))
        except etcd_server.DidNotStart as e:
            fail(str(e))
        endpoints = ",".join(eps)
        print(f"  {endpoints}")

        watcher = stack.enter_context(
            ringlock.RingWatcher(endpoints, RING, "xxh3", namespace="demo"))
        members = {}
        for i, node in enumerate(NODES):
            p = subprocess.Popen(
                [sys.executable, __file__, "member", endpoints, node, f"10.0.0.{i + 1}:11211"],
                stdout=subprocess.PIPE, text=True)
            started.append(p)
            members[node] = p
        for node, p in members.items():
            if p.stdout is None or p.stdout.readline().strip() != "joined":
                fail(f"{node} did not join")
        ring_path = f"{data}/ring"
        started.append(subprocess.Popen(
            [args.watch, "--endpoints", endpoints, "--ring", RING, "--output", ring_path,
             "--algorithm", "xxh3", "--namespace", "demo"],
            stdout=subprocess.DEVNULL))
        wait_for("5 members in the watcher's ring", lambda: len(watcher.ring) == len(NODES))
        wait_for("the SharedRing file", lambda: os.path.exists(ring_path))
        shared = ringlock.SharedRing(ring_path)
        wait_for("5 nodes in the SharedRing", lambda: len(shared) == len(NODES))
        print(f"\n== ring '{RING}': {len(NODES)} members joined (revision {watcher.revision}), "
              "ringlock-watch keeps a SharedRing current ==")
        before = show("placements", shared, args.bin)

        print(f"\n== etcd lock: 2 C + 2 Python processes x {INCREMENTS} fenced increments ==")
        counter = f"{data}/counter"
        workers = []
        for _ in range(2):
            workers.append(subprocess.Popen(
                [f"{args.bin}/lock_c", "demo-counter", counter, str(INCREMENTS), "etcd", endpoints],
                stdout=subprocess.PIPE, text=True))
            workers.append(subprocess.Popen(
                [sys.executable, f"{here}/lock.py", "demo-counter", counter, str(INCREMENTS),
                 "etcd", endpoints], stdout=subprocess.PIPE, text=True))
        started.extend(workers)
        for w in workers:
            out, _ = w.communicate(timeout=300)
            if w.returncode != 0:
                fail(f"a lock worker failed ({w.returncode})")
            print(f"  {out.strip()}")
        value, highest, rejected = (int(x) for x in open(counter).read().split())
        print(f"  counter = {value} (expected {4 * INCREMENTS}), highest token {highest}, "
              f"{rejected} writes rejected")
        if value != 4 * INCREMENTS or rejected != 0:
            fail("the fenced counter is wrong")

        victim = before[0]  # the owner of the first key: some keys move
        print(f"\n== {victim} killed with SIGKILL: its lease expires within {TTL} s ==")
        while watcher.next_change(timeout=0) is not None:
            pass  # the joins' changes, already shown
        t = time.monotonic()
        members[victim].kill()
        change = None
        while change is None or victim in [n for n, _ in change.ring.nodes]:
            change = watcher.next_change(timeout=TTL + 5)
            if change is None:
                fail(f"no ring change within {TTL + 5} s")
        print(f"  the watcher's ring dropped it after {time.monotonic() - t:.2f} s "
              f"(revision {change.before_revision} -> {change.revision})")
        plan = change.plan
        if plan is not None:
            print(f"  migration plan: {len(plan.moves)} ranges, {plan.fraction:.1%} of the key space")
            for m in plan.moves[:4]:
                print(f"    [{m.start:#018x}, {m.end:#018x}) {m.old} -> {m.new}")
            if len(plan.moves) > 4:
                print(f"    ... {len(plan.moves) - 4} more")
        wait_for("the SharedRing without the victim", lambda: len(shared) == len(NODES) - 1)
        show("new placements", shared, args.bin, before, victim)
        print("\ncluster demo: the readers agree, the counter is exact, only the dead node's "
              "keys moved")


if __name__ == "__main__":
    if sys.argv[1:2] == ["member"]:
        member(*sys.argv[2:5])
    else:
        main()
