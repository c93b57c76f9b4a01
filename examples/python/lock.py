"""A counter in a file, shared by processes under one ringlock lock. The
Python edition of examples/c/lock.c: same arguments, and they mix freely
(N processes of M increments leave exactly N * M).

    python lock.py <lock-name> <counter-file> <increments> [shm|file] [lock-dir]

Each increment: acquire exclusively (waiting for ever), read the decimal
counter from the file (missing or empty: 0), write counter + 1, release. At
the end prints one line:

    python pid=<pid> increments=<n> last_token=<t> died_seen=<k>

(k: acquisitions that found a previous holder dead). Exits 1 with a message
on any error. Run it as `.venv/bin/python examples/python/lock.py` after
`make python`.
"""

from __future__ import annotations

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


def main(argv: list[str]) -> int:
    if not 4 <= len(argv) <= 6:
        print(
            f"usage: {argv[0]} <lock-name> <counter-file> <increments> [shm|file] [lock-dir]",
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
    if len(argv) >= 5 and argv[4] not in ("shm", "file"):
        fail(argv[4], "the backend is shm or file")
    backend: Literal["shm", "file"] = "file" if argv[4:5] == ["file"] else "shm"
    lock_dir = argv[5] if len(argv) >= 6 else None

    try:
        lock = ringlock.Lock(name, backend=backend, dir=lock_dir)
        last_token = 0
        died_seen = 0
        for _ in range(increments):
            with lock as hold:
                if hold.token <= last_token:
                    fail("acquire", "the fencing token went backwards")
                last_token = hold.token
                died_seen += hold.previous_owner_died
                increment(counter)
        lock.close()
    except (ringlock.Error, OSError) as e:
        fail(type(e).__name__, e)
    print(
        f"python pid={os.getpid()} increments={increments} "
        f"last_token={last_token} died_seen={died_seen}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
