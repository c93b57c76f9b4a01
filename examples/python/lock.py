"""A counter in a file, shared by processes under one ringlock lock. The
Python edition of examples/c/lock.c: same arguments, and they mix freely
(N processes of M increments leave exactly N * M).

    python lock.py <lock-name> <counter-file> <increments> [shm|file] [lock-dir]
    python lock.py <lock-name> <counter-file> <increments> etcd <endpoint,...>

Each increment: acquire exclusively (waiting for ever), read the decimal
counter from the file (missing or empty: 0), write counter + 1, release. At
the end prints one line:

    python pid=<pid> increments=<n> last_token=<t> died_seen=<k>

(k: acquisitions that found a previous holder dead). Exits 1 with a message
on any error.

With etcd (TTL 10 s, namespace ``ringlock-demo``) the counter file is a
fenced store, ``<value> <highest token> <rejected>``: each increment takes
the file's own flock, and is written only if the hold's token is not below
the highest the file has seen (else it counts a rejected write) — what a
store must do with the token, since a lease lock alone is not mutual
exclusion (docs/distributed.md). The line then ends ``rejected=<r>``, the
writes this process had rejected. Run it as `.venv/bin/python examples/python/lock.py` after
`make python`.
"""

from __future__ import annotations

import fcntl
import os
import sys
from typing import Literal, NoReturn

import ringlock


def fail(what: str, detail: object) -> NoReturn:
    print(f"lock.py: {what}: {detail}", file=sys.stderr)
    sys.exit(1)


def increment(path: str) -> None:
    """Reads the counter (a missing or empty file is 0) and writes it plus
    one, over the old value (never shorter), as lock.c does."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        text = os.pread(fd, 31, 0).strip()
        try:
            value = int(text) if text else 0
        except ValueError:
            fail(path, "does not hold a decimal counter")
        new = str(value + 1).encode()
        os.pwrite(fd, new, 0)
        os.ftruncate(fd, len(new))
    finally:
        os.close(fd)


def fenced_increment(path: str, token: int) -> bool:
    """One increment of the fenced store: False (and the file's rejected
    count + 1) when `token` is below the highest it has seen."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        words = os.pread(fd, 95, 0).split()
        try:
            value, highest, rejected = (int(w) for w in words) if words else (0, 0, 0)
        except ValueError:
            fail(path, "does not hold a fenced counter")
        ok = token >= highest
        if ok:
            value, highest = value + 1, token
        else:
            rejected += 1
        new = f"{value} {highest} {rejected}".encode()
        os.pwrite(fd, new, 0)
        os.ftruncate(fd, len(new))
        return ok
    finally:
        os.close(fd)


def main(argv: list[str]) -> int:
    if not 4 <= len(argv) <= 6:
        print(
            f"usage: {argv[0]} <lock-name> <counter-file> <increments> [shm|file] [lock-dir]"
            " | etcd <endpoint,...>",
            file=sys.stderr,
        )
        return 2
    name, counter = argv[1], argv[2]
    try:
        increments = int(argv[3])
    except ValueError:
        increments = -1
    if increments < 0:
        fail(argv[3], "not a count")
    if len(argv) >= 5 and argv[4] not in ("shm", "file", "etcd"):
        fail(argv[4], "the backend is shm, file or etcd")
    etcd = argv[4:5] == ["etcd"]
    if etcd and len(argv) < 6:
        fail("etcd", "give the endpoints, e.g. http://127.0.0.1:2379")
    backend: Literal["shm", "file"] = "file" if argv[4:5] == ["file"] else "shm"
    lock_dir = argv[5] if len(argv) >= 6 else None

    rejected = 0
    try:
        if etcd:
            lock = ringlock.Lock(name, backend="etcd", endpoints=argv[5],
                                 namespace="ringlock-demo")
        else:
            lock = ringlock.Lock(name, backend=backend, dir=lock_dir)
        last_token = 0
        died_seen = 0
        for _ in range(increments):
            with lock as hold:
                if hold.token <= last_token:
                    fail("acquire", "the fencing token went backwards")
                last_token = hold.token
                died_seen += hold.previous_owner_died
                if etcd:
                    rejected += not fenced_increment(counter, hold.token)
                else:
                    increment(counter)
        lock.close()
    except (ringlock.Error, OSError) as e:
        fail(type(e).__name__, e)
    print(
        f"python pid={os.getpid()} increments={increments} "
        f"last_token={last_token} died_seen={died_seen}"
        + (f" rejected={rejected}" if etcd else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
