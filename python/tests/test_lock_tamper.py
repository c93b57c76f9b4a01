"""A lock file tampered with while in use kills no process and gives no second
holder: truncated (under the mappings of a pytest process with faulthandler
on, and of a child started with ``-X faulthandler``) or rewritten in place,
every handle that meets it raises CorruptError; and another user's lock file
in a shared directory is refused."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import ringlock

SUFFIX = {"shm": "shm", "file": "lock"}

HOLDER = """
    import sys, ringlock
    lock = ringlock.Lock("l", backend=sys.argv[1], dir=sys.argv[2])
    assert lock.acquire()
    print("ready", flush=True)
    sys.stdin.readline()
    for step in (lock.release, lambda: lock.acquire(blocking=False)):
        try:
            step()
            print("ok", flush=True)
        except ringlock.CorruptError:
            print("corrupt", flush=True)
"""


def holder(backend: str, lock_dir: str) -> subprocess.Popen[str]:
    p = subprocess.Popen(
        [sys.executable, "-X", "faulthandler", "-c", textwrap.dedent(HOLDER), backend, lock_dir],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert p.stdout is not None
    assert p.stdout.readline() == "ready\n"
    return p


def finish(p: subprocess.Popen[str]) -> list[str]:
    out, err = p.communicate("go\n", timeout=60)
    assert p.returncode == 0, f"the holder died: {p.returncode} {err}"
    return out.split()


def test_truncating_a_lock_file_in_use_kills_nobody(backend: str, lock_dir: str) -> None:
    mine = ringlock.Lock("l", backend=backend, dir=lock_dir)  # mapped here too
    p = holder(backend, lock_dir)
    path = Path(lock_dir) / f"l.{SUFFIX[backend]}"
    os.truncate(path, 0)
    assert finish(p) == ["corrupt", "corrupt"]
    with pytest.raises(ringlock.CorruptError, match="truncated while in use"):
        mine.acquire(blocking=False)
    with pytest.raises(ringlock.CorruptError):
        ringlock.Lock("l", backend=backend, dir=lock_dir)


def test_a_page_rewritten_while_held_gives_no_second_holder(backend: str, lock_dir: str, tmp_path: Path) -> None:
    mine = ringlock.Lock("l", backend=backend, dir=lock_dir)
    p = holder(backend, lock_dir)
    other = tmp_path / "other"
    ringlock.Lock("l", backend=backend, dir=str(other))
    name = f"l.{SUFFIX[backend]}"
    fresh = (other / name).read_bytes()
    with open(Path(lock_dir) / name, "r+b") as f:
        f.write(fresh)
    with pytest.raises(ringlock.CorruptError, match="made for another file"):
        ringlock.Lock("l", backend=backend, dir=lock_dir)
    assert finish(p) == ["corrupt", "corrupt"]
    with pytest.raises(ringlock.CorruptError, match="rewritten while in use"):
        mine.acquire(blocking=False)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to plant a file owned by another user")
def test_another_users_lock_file_is_refused_unless_the_mode_shares_it(backend: str, tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o1777)
    shared.chmod(0o1777)
    ringlock.Lock("jobs", backend=backend, dir=str(shared))
    planted = shared / f"jobs.{SUFFIX[backend]}"
    os.chown(planted, 65534, 65534)
    planted.chmod(0o666)
    with pytest.raises(ringlock.InvalidArgumentError, match="belongs to uid 65534"):
        ringlock.Lock("jobs", backend=backend, dir=str(shared))
    lock = ringlock.Lock("jobs", backend=backend, dir=str(shared), mode=0o660)
    assert lock.acquire(blocking=False)
    lock.release()


def test_a_symlink_in_the_lock_path_is_refused(backend: str, tmp_path: Path) -> None:
    (tmp_path / "real" / "sub").mkdir(parents=True)
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with pytest.raises(ringlock.InvalidArgumentError, match="symbolic link"):
        ringlock.Lock("jobs", backend=backend, dir=str(tmp_path / "link" / "sub" / "locks"))
    assert not (tmp_path / "real" / "sub" / "locks").exists()
