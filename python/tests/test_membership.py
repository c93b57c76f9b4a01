"""Membership from Python against a real etcd (started here on free
127.0.0.1 ports, data under /dev/shm, killed at the end): members join and
leave, a member process killed with SIGKILL drops out within TTL + 1 s, the
watcher's changes carry the migration plan, bad arguments are refused.

Skipped without an ``etcd`` binary (tests/lib/need-etcd.sh installs it)
unless RINGLOCK_REQUIRE_ETCD is set, and under RINGLOCK_SKIP_ETCD."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

import ringlock

TTL = 2


def wait_nodes(w: ringlock.RingWatcher, nodes: list[str], within: float) -> float:
    t = time.monotonic()
    while [n for n, _ in w.ring.nodes] != nodes:
        assert time.monotonic() - t < within, f"{w.ring.nodes} is not {nodes}"
        time.sleep(0.005)
    return time.monotonic() - t


def test_members_join_and_leave(etcd: str) -> None:
    with ringlock.RingWatcher([etcd], "py-ring", "xxh3", namespace="pytest") as w:
        assert len(w.ring) == 0 and w.revision > 0
        a = ringlock.Member([etcd], "py-ring", "a", 1, "10.0.0.1:1", ttl=TTL, namespace="pytest")
        b = ringlock.Member(etcd, "py-ring", "b", weight=2, ttl=TTL, namespace="pytest")
        wait_nodes(w, ["a", "b"], 5)
        assert w.ring == ringlock.Ring([("a", 1), ("b", 2)], algorithm="xxh3")
        assert w.members == [("a", 1, "10.0.0.1:1"), ("b", 2, "")]
        a.check()
        with pytest.raises(ringlock.NodeExistsError):
            ringlock.Member([etcd], "py-ring", "a", ttl=TTL, namespace="pytest")

        while w.next_change(timeout=0) is not None:  # the joins
            pass
        rev = w.revision
        assert not w.wait(rev, timeout=0.2)
        a.leave()
        a.leave()  # a second leave does nothing
        with pytest.raises(ringlock.InvalidArgumentError):
            a.check()
        change = w.next_change(timeout=5)
        assert change is not None
        assert change.before_revision == rev and change.revision > rev
        assert change.ring == ringlock.Ring([("b", 2)], algorithm="xxh3")
        assert change.plan == change.before_ring.diff(change.ring)
        assert not change.relisted
        assert w.wait(rev, timeout=1)
        with b:
            pass  # leaving `with` leaves the ring
        wait_nodes(w, [], 5)
        assert w.stats()["lists"] == 1
    with pytest.raises(ringlock.InvalidArgumentError):
        w.revision
    w.close()


def test_a_killed_member_drops_out(etcd: str) -> None:
    code = (
        "import ringlock, sys, time\n"
        f"m = ringlock.Member([{etcd!r}], 'py-kill', 'doomed', ttl={TTL}, namespace='pytest')\n"
        "print('joined', flush=True)\n"
        "time.sleep(60)\n"
    )
    w = ringlock.RingWatcher([etcd], "py-kill", "maglev", namespace="pytest", coalesce=0)
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().startswith(b"joined")
        wait_nodes(w, ["doomed"], 5)
        child.send_signal(signal.SIGKILL)
        took = wait_nodes(w, [], TTL + 3)
        assert took <= TTL + 1, took
    finally:
        child.kill()
        child.wait()
        w.close()


def test_bad_arguments(etcd: str) -> None:
    for kwargs in ({"ttl": 1}, {"ttl": -1.0}, {"timeout": float("nan")}):
        with pytest.raises(ringlock.InvalidArgumentError):
            ringlock.Member([etcd], "r", "n", namespace="pytest", **kwargs)
    with pytest.raises(ringlock.InvalidArgumentError):
        ringlock.Member([etcd], "r", "n", 0, namespace="pytest")
    with pytest.raises(ringlock.InvalidArgumentError):
        ringlock.Member([etcd], "a b", "n", namespace="pytest")
    with pytest.raises(TypeError):
        ringlock.Member(5, "r", "n")  # type: ignore[arg-type]
    with pytest.raises(ringlock.InvalidArgumentError):
        ringlock.RingWatcher([etcd], "r", "nope")  # type: ignore[arg-type]
    with pytest.raises(ringlock.Error):
        ringlock.RingWatcher(["127.0.0.1:1"], "r", timeout=0.2)
