"""Shared fixtures and helpers of the ringlock Python tests."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import ringlock

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "lib"))
import etcd_server as etcd_servers  # noqa: E402  (tests/lib/etcd_server.py)

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


@contextlib.contextmanager
def etcd_server() -> Iterator[str]:
    """A real etcd on free 127.0.0.1 ports, its data under /dev/shm, killed
    when the block ends (tests/lib/etcd_server.py): its client URL. Skips (or
    fails, under RINGLOCK_REQUIRE_ETCD) as the ``etcd`` fixture says."""
    if os.environ.get("RINGLOCK_SKIP_ETCD"):
        pytest.skip("RINGLOCK_SKIP_ETCD is set")
    if shutil.which("etcd") is None:
        if os.environ.get("RINGLOCK_REQUIRE_ETCD"):
            pytest.fail("RINGLOCK_REQUIRE_ETCD is set but no etcd is on PATH")
        pytest.skip("etcd is not installed (tests/lib/need-etcd.sh)")
    with etcd_servers.running(prefix="ringlock-py-etcd-") as [url]:
        yield url


@pytest.fixture(scope="module")
def etcd() -> Iterator[str]:
    """A real etcd for the module (``etcd_server``): its client URL. Skipped
    without an ``etcd`` binary (tests/lib/need-etcd.sh installs it) unless
    RINGLOCK_REQUIRE_ETCD is set, and under RINGLOCK_SKIP_ETCD."""
    with etcd_server() as url:
        yield url
