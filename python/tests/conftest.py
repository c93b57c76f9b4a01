"""Shared fixtures and helpers of the ringlock Python tests."""

from __future__ import annotations

import contextlib
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
