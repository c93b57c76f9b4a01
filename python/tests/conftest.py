"""Shared fixtures and helpers of the ringlock Python tests."""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import pytest

import ringlock

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "lib"))
import etcd_server as etcd_servers  # noqa: E402  (tests/lib/etcd_server.py)

# A shell starts a background job (`make test &`, `nohup ... &`) with SIGINT
# ignored; its Python processes then keep it ignored, and so would every
# child a test starts to be interrupted with SIGINT (it would wait for ever).
# Ctrl-C is Python's default here, so that those children start with it too.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

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


def run_threads(target: Callable[[int], None], count: int = 8, limit: float = 300) -> None:
    """Runs ``target(i)`` in ``count`` threads at once; fails if one raised
    (every error is shown) or is still running after ``limit`` seconds."""
    errors: list[BaseException] = []

    def wrapped(i: int) -> None:
        try:
            target(i)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=wrapped, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=limit)
        assert not t.is_alive(), "a thread hung"
    assert not errors, errors


def read_line(stream: IO[str], timeout: float = 10.0) -> str:
    """The next line of a child's ``stream``; fails the test if none comes
    within ``timeout`` seconds (instead of waiting for ever)."""
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    assert got, f"no line from the child within {timeout} s"
    return got[0]


def spawn(code: str, *args: str, cwd: Path) -> tuple[subprocess.Popen[str], list[str]]:
    """Starts a Python child process running ``code`` (dedented; argv:
    ``args``) in ``cwd``, its stdin, stdout and stderr piped, and waits for
    its first line, which must start with "ready": the process and that
    line's words. A child that prints anything else first is killed, and the
    test fails with that line and its stderr."""
    p = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
    )
    assert p.stdout is not None
    line = p.stdout.readline()
    if not line.startswith("ready"):
        p.kill()
        raise AssertionError(f"child failed: {line!r} {p.communicate()[1]}")
    return p, line.split()


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


ETCD_TTL = 2
"""The lease TTL (seconds) of the etcd lock tests' clients."""

_etcd_names = itertools.count()


def fresh() -> str:
    """A lock name no other test uses (one etcd serves a module)."""
    return f"py-{os.getpid()}-{next(_etcd_names)}"


def etcd_lock(etcd: str, name: str, namespace: str = "pytest-lock", **kwargs: object) -> ringlock.Lock:
    """``ringlock.Lock(name, backend="etcd")`` on the etcd at ``etcd``, with
    the tests' TTL unless ``ttl=`` is given."""
    kwargs.setdefault("ttl", ETCD_TTL)
    return ringlock.Lock(name, backend="etcd", endpoints=[etcd], namespace=namespace, **kwargs)  # type: ignore[arg-type]


class Interrupted(Exception):
    """What the tests' signal handler raises, as Ctrl-C's raises KeyboardInterrupt."""


@contextlib.contextmanager
def interrupt_after(seconds: float) -> Iterator[None]:
    """Sends this process SIGUSR1 after ``seconds`` (from a thread: Python
    runs the handler in the main thread), whose handler raises
    ``Interrupted`` while the block runs (and is quiet after it)."""
    armed = True

    def handler(signum: int, frame: object) -> None:
        if armed:
            raise Interrupted

    old = signal.signal(signal.SIGUSR1, handler)
    timer = threading.Timer(seconds, os.kill, (os.getpid(), signal.SIGUSR1))
    timer.start()
    try:
        yield
    finally:
        armed = False
        timer.cancel()
        timer.join()
        signal.signal(signal.SIGUSR1, old)
