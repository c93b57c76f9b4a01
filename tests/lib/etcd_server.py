"""Real etcd servers for Python tests, benchmarks and demos: members on free
127.0.0.1 ports, data in a fresh directory under /dev/shm, healthy on
return, killed by pid and their data removed at the end. Standard library
only, so the benchmarks and demos can load it beside the tests:

    sys.path.insert(0, "<repo>/tests/lib")
    import etcd_server
    with etcd_server.running() as [url]:              # one member
        ...
    with etcd_server.running(3) as urls:              # a 3-member cluster
        ...

The shell-driven tests have tests/lib/etcd-server.sh, and the C tests
ffi/tests/c/etcd_server.h; tests/lib/need-etcd.sh installs etcd.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager


class DidNotStart(RuntimeError):
    """etcd exited, or did not report healthy in time."""


def free_port() -> int:
    """A 127.0.0.1 port nobody listens on now (the kernel's choice)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def healthy(url: str) -> bool:
    """Whether the member at client URL ``url`` answers /health with true."""
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=1) as r:
            return b'"health":"true"' in r.read()
    except OSError:
        return False


@contextmanager
def running(members: int = 1, prefix: str = "ringlock-etcd-",
            within: float = 30) -> Iterator[list[str]]:
    """Starts a cluster of ``members`` etcd members and yields their client
    URLs once every one reports healthy (``DidNotStart`` otherwise, after
    ``within`` seconds or as soon as one exits). The members are killed by
    pid and their data removed when the block ends."""
    if members < 1:
        raise ValueError("members must be at least 1")
    data = tempfile.mkdtemp(prefix=prefix, dir="/dev/shm")
    names = [f"m{i}" for i in range(members)]
    client = {n: f"http://127.0.0.1:{free_port()}" for n in names}
    peer = {n: f"http://127.0.0.1:{free_port()}" for n in names}
    cluster = ",".join(f"{n}={peer[n]}" for n in names)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for n in names:
            procs.append(subprocess.Popen(
                ["etcd", "--name", n, "--data-dir", f"{data}/{n}",
                 "--listen-client-urls", client[n], "--advertise-client-urls", client[n],
                 "--listen-peer-urls", peer[n], "--initial-advertise-peer-urls", peer[n],
                 "--initial-cluster", cluster, "--initial-cluster-state", "new"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            ))
        until = time.monotonic() + within
        for n, proc in zip(names, procs):
            while not healthy(client[n]):
                if proc.poll() is not None:
                    raise DidNotStart(f"etcd member {n} exited with {proc.returncode}")
                if time.monotonic() > until:
                    raise DidNotStart(f"etcd member {n} not healthy within {within:.0f} s")
                time.sleep(0.02)
        yield [client[n] for n in names]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        shutil.rmtree(data, ignore_errors=True)
