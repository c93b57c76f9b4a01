"""Shared fixtures and helpers of the ringlock Python tests."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

import ringlock

ALGORITHMS = ("ketama", "xxh3", "jump")

NODES = [("alpha", 1), ("beta", 3), ("gamma", 2), ("δέλτα", 1)]


@pytest.fixture(params=ALGORITHMS)
def algorithm(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def ring(algorithm: str) -> ringlock.Ring:
    return ringlock.Ring(NODES, algorithm=algorithm)


@contextlib.contextmanager
def unchanged(ring: ringlock.Ring) -> Iterator[None]:
    """Asserts that the block leaves `ring` exactly as it was."""
    before = ring.to_bytes()
    placements = ring.get_many([f"k{i}" for i in range(200)]) if len(ring) else []
    yield
    assert ring.to_bytes() == before
    if placements:
        assert ring.get_many([f"k{i}" for i in range(200)]) == placements


# ---- locks --------------------------------------------------------------------

BACKENDS = ("shm", "file")


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def lock_dir(tmp_path: Path) -> str:
    """A lock directory of the test's own (created by ringlock, 0700)."""
    return str(tmp_path / "locks")


# ---- etcd ---------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def etcd_server() -> Iterator[str]:
    """A real etcd on free 127.0.0.1 ports, its data under /dev/shm, killed
    when the block ends: its client URL. Skips (or fails, under
    RINGLOCK_REQUIRE_ETCD) as the ``etcd`` fixture says."""
    if os.environ.get("RINGLOCK_SKIP_ETCD"):
        pytest.skip("RINGLOCK_SKIP_ETCD is set")
    if shutil.which("etcd") is None:
        if os.environ.get("RINGLOCK_REQUIRE_ETCD"):
            pytest.fail("RINGLOCK_REQUIRE_ETCD is set but no etcd is on PATH")
        pytest.skip("etcd is not installed (tests/lib/need-etcd.sh)")
    client, peer = _free_port(), _free_port()
    data = tempfile.mkdtemp(prefix="ringlock-py-etcd-", dir="/dev/shm")
    url, peer_url = f"http://127.0.0.1:{client}", f"http://127.0.0.1:{peer}"
    proc = subprocess.Popen(
        ["etcd", "--name", "m0", "--data-dir", f"{data}/m0",
         "--listen-client-urls", url, "--advertise-client-urls", url,
         "--listen-peer-urls", peer_url, "--initial-advertise-peer-urls", peer_url,
         "--initial-cluster", f"m0={peer_url}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        until = time.monotonic() + 15
        while True:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=1) as r:
                    if b'"health":"true"' in r.read():
                        break
            except OSError:
                pass
            assert proc.poll() is None and time.monotonic() < until, "etcd did not start"
            time.sleep(0.02)
        yield url
    finally:
        proc.kill()
        proc.wait()
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture(scope="module")
def etcd() -> Iterator[str]:
    """A real etcd for the module (``etcd_server``): its client URL. Skipped
    without an ``etcd`` binary (tests/lib/need-etcd.sh installs it) unless
    RINGLOCK_REQUIRE_ETCD is set, and under RINGLOCK_SKIP_ETCD."""
    with etcd_server() as url:
        yield url
