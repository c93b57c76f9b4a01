"""The package surface: curated names, version, stubs (mypy.stubtest), the
example's output."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

import ringlock

REPO = Path(__file__).resolve().parents[2]


def test_curated_names() -> None:
    assert sorted(ringlock.__all__) == sorted(
        [
            "CorruptError",
            "DeadlockError",
            "Diff",
            "EmptyRingError",
            "EtcdHolder",
            "EtcdLockStatus",
            "Error",
            "Hold",
            "Holder",
            "InternalError",
            "InvalidArgumentError",
            "IoError",
            "LoadSlot",
            "LoadTracker",
            "Lock",
            "LockLostError",
            "LockStatus",
            "LockTimeout",
            "Member",
            "Move",
            "NodeExistsError",
            "NodeNotFoundError",
            "NotHeldError",
            "RWLock",
            "RWLockGuard",
            "Ring",
            "RingChange",
            "RingWatcher",
            "SharedRing",
            "UnavailableError",
            "WouldBlockError",
            "__version__",
            "jump_hash",
        ]
    )
    for name in ringlock.__all__:
        assert hasattr(ringlock, name)
    assert ringlock.__doc__


def test_version_matches_the_crate() -> None:
    cargo = (REPO / "Cargo.toml").read_text()
    match = re.search(r'^version = "([^"]+)"', cargo, re.M)
    assert match
    assert ringlock.__version__ == match.group(1)


def test_typed_package_ships_stubs() -> None:
    pkg = Path(ringlock.__file__).parent
    assert (pkg / "py.typed").exists()
    assert (pkg / "_ringlock.pyi").exists()


def run(*args: str) -> subprocess.CompletedProcess[str]:
    # outside the source tree, so that the installed package is the one seen
    with tempfile.TemporaryDirectory() as cwd:
        return subprocess.run(
            [sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=600
        )


def test_stubtest() -> None:
    out = run("-m", "mypy.stubtest", "ringlock")
    assert out.returncode == 0, out.stdout + out.stderr


def test_stubs_type_check_typical_use() -> None:
    code = textwrap.dedent(
        """
        import ringlock
        ring = ringlock.Ring(["a", ("b", 2)], algorithm="ketama")
        ring.add("c", weight=3)
        owner: str = ring.get(b"user:42")
        same: str = ring["user:42"]
        replicas: list[str] = ring.get_n("user:42", 2)
        owners: list[str] = ring.get_many(["k1", b"k2"])
        pairs: list[tuple[str, int]] = ring.nodes
        back = ringlock.Ring.from_bytes(ring.to_bytes())
        bucket: int = ringlock.jump_hash(42, 57)
        plan: ringlock.Diff = ring.diff(back)
        share: float = plan.fraction
        first: ringlock.Move = plan.moves[0]
        end: int = first.end
        was: str | None = first.old
        where: int = ring.position("user:42")
        try:
            ring.remove("zz")
        except ringlock.NodeNotFoundError:
            pass
        lock = ringlock.Lock("jobs", backend="file", dir="/tmp/x", timeout=1.5)
        with lock as hold:
            token: int = hold.token
            died: bool = hold.previous_owner_died
        got: bool = lock.acquire(timeout=0.5, blocking=True)
        lock.release()
        status: ringlock.LockStatus = lock.status()
        pids: list[int] = [h.pid for h in status.holders]
        last: ringlock.Hold | None = lock.hold
        rw = ringlock.RWLock("config")
        with rw.read() as shared:
            mode: str = shared.mode
        with rw.write():
            pass
        ok: bool = rw.acquire_read(blocking=False)

        async def use() -> None:
            async with lock as h:
                t: int = h.token
            acquired: bool = await lock.acquire_async(timeout=1)
            async with rw.write():
                pass
        """
    )
    bad = "import ringlock\nringlock.Ring().get(42)\nringlock.Lock(b'x')\n"
    with tempfile.TemporaryDirectory() as d:
        Path(d, "good.py").write_text(code)
        Path(d, "bad.py").write_text(bad)
        ok = run("-m", "mypy", "--strict", "--no-incremental", os.path.join(d, "good.py"))
        assert ok.returncode == 0, ok.stdout + ok.stderr
        ko = run("-m", "mypy", "--strict", "--no-incremental", os.path.join(d, "bad.py"))
        assert ko.returncode == 1 and "arg-type" in ko.stdout, ko.stdout


def test_example_prints_the_rust_lines() -> None:
    out = run(str(REPO / "examples" / "python" / "ring.py"))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == f"# ringlock {ringlock.__version__} placement check"
    # ketama, xxh3, jump, maglev, maglev-1009, libmemcached, nginx, haproxy,
    # libmemcached-consistent, spymemcached, envoy-ring-hash
    assert len(lines) == 1 + 11 * 10 + 2
    assert lines[-2:] == ["jump_hash 42 57 43", "jump_hash 3735883980 666 361"]
    rust = REPO / "target" / "release" / "examples" / "ring"
    if not rust.exists():
        pytest.skip("target/release/examples/ring not built (make test-cross compares it)")
    expected = subprocess.run([str(rust)], capture_output=True, check=True).stdout
    assert out.stdout.encode() == expected
