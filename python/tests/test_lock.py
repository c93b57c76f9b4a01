"""ringlock.Lock and ringlock.RWLock in one process: acquire/release as
threading does, try and timeouts, holds and tokens, status, deadlock
detection, bad arguments, corrupt lock files, close."""

from __future__ import annotations

import os
import pickle
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import ringlock


def test_acquire_release_and_holds(backend: str, lock_dir: str) -> None:
    lock = ringlock.Lock("jobs", backend=backend, dir=lock_dir)
    assert lock.hold is None and not lock.held and not lock.locked()
    assert lock.acquire() is True
    assert lock.held and lock.locked()
    first = lock.hold
    assert first is not None
    assert first.token >= 1 and first.previous_owner_died is False and first.mode == "exclusive"
    lock.release()
    assert not lock.held and not lock.locked()
    with lock as hold:
        assert hold.token > first.token
        assert lock.hold == hold and hash(lock.hold) == hash(hold)
        assert repr(hold) == f"Hold(token={hold.token}, previous_owner_died=False, mode='exclusive')"
    assert not lock.held
    assert lock.hold == hold  # the last acquisition stays readable


def test_properties_and_repr(backend: str, lock_dir: str) -> None:
    lock = ringlock.Lock("props.1", backend=backend, dir=Path(lock_dir), timeout=2.5)
    assert lock.name == "props.1"
    assert lock.backend == backend
    assert lock.timeout == 2.5
    suffix = "shm" if backend == "shm" else "lock"
    assert lock.path == os.path.join(lock_dir, f"props.1.{suffix}")
    assert os.path.exists(lock.path)
    assert (os.stat(lock.path).st_mode & 0o777) == 0o600
    assert (os.stat(lock_dir).st_mode & 0o777) == 0o700
    assert repr(lock) == f"<ringlock.Lock 'props.1' backend='{backend}' path='{lock.path}' not held>"
    with lock:
        assert repr(lock).endswith(" held>") and "not held" not in repr(lock)
    assert ringlock.Lock("t", dir=lock_dir).timeout is None
    assert ringlock.Lock("t", dir=lock_dir).backend == "shm"


def test_wider_file_mode(backend: str, lock_dir: str) -> None:
    lock = ringlock.Lock("wide", backend=backend, dir=lock_dir, mode=0o660)
    assert (os.stat(lock.path).st_mode & 0o777) == 0o660


def test_try_and_timeout_between_objects(backend: str, lock_dir: str) -> None:
    a = ringlock.Lock("x", backend=backend, dir=lock_dir)
    b = ringlock.Lock("x", backend=backend, dir=lock_dir, timeout=0.05)
    with a:
        assert b.acquire(blocking=False) is False
        assert b.acquire(timeout=0) is False
        t0 = time.monotonic()
        assert b.acquire(timeout=0.05) is False
        took = time.monotonic() - t0
        assert 0.05 <= took < 2, took
        assert b.locked() and not b.held
        t0 = time.monotonic()
        with pytest.raises(ringlock.LockTimeout, match='"x"') as info:
            with b:
                pytest.fail("entered a held lock")
        assert 0.05 <= time.monotonic() - t0 < 2
        assert isinstance(info.value, TimeoutError)
        assert b.hold is None
    assert b.acquire(blocking=False) is True
    assert a.acquire(timeout=0.01) is False
    b.release()
    assert a.acquire(timeout=-1) is True
    a.release()


def test_threading_acquire_signature(lock_dir: str) -> None:
    lock = ringlock.Lock("sig", dir=lock_dir)
    with pytest.raises(ValueError, match="non-blocking"):
        lock.acquire(timeout=1, blocking=False)
    with pytest.raises(ringlock.InvalidArgumentError, match="non-negative"):
        lock.acquire(timeout=-0.5)
    with pytest.raises(ringlock.InvalidArgumentError, match="NaN"):
        lock.acquire(timeout=float("nan"))
    with pytest.raises(TypeError, match="blocking=False"):
        lock.acquire(False)  # threading's positional blocking
    with pytest.raises(TypeError):
        lock.acquire(timeout="1")  # type: ignore[arg-type]
    assert not lock.held
    # -1 with blocking=False is threading's default, so allowed
    assert lock.acquire(timeout=-1, blocking=False) is True
    lock.release()
    assert lock.acquire(timeout=float("inf")) is True
    lock.release()
    assert lock.acquire(10**30) is True
    lock.release()


def test_release_when_not_held_is_a_runtime_error(backend: str, lock_dir: str) -> None:
    lock = ringlock.Lock("r", backend=backend, dir=lock_dir)
    with pytest.raises(ringlock.NotHeldError, match="not held"):
        lock.release()
    with pytest.raises(RuntimeError):
        lock.release()
    lock.acquire()
    lock.release()
    with pytest.raises(ringlock.NotHeldError):
        lock.release()
    other = ringlock.Lock("r", backend=backend, dir=lock_dir)
    other.acquire()
    with pytest.raises(ringlock.NotHeldError):
        lock.release()  # held, but not through this object
    other.release()


def test_release_from_another_thread(backend: str, lock_dir: str) -> None:
    lock = ringlock.Lock("handoff", backend=backend, dir=lock_dir)
    lock.acquire()
    t = threading.Thread(target=lock.release)
    t.start()
    t.join()
    assert not lock.held
    assert ringlock.Lock("handoff", backend=backend, dir=lock_dir).acquire(blocking=False)


def test_same_thread_reacquire_is_deadlock(backend: str, lock_dir: str) -> None:
    lock = ringlock.Lock("dl", backend=backend, dir=lock_dir)
    with lock:
        for call in (lock.acquire, lambda: lock.acquire(timeout=5), lambda: lock.acquire(blocking=False)):
            with pytest.raises(ringlock.DeadlockError, match="already held"):
                call()
        with pytest.raises(RuntimeError):
            with lock:
                pass
        assert lock.held
    assert not lock.held
    rw = ringlock.RWLock("dl", backend=backend, dir=lock_dir)
    with rw.read():
        with pytest.raises(ringlock.DeadlockError):
            rw.acquire_write(timeout=5)
        with pytest.raises(ringlock.DeadlockError):
            with rw.read():
                pass
        assert rw.held
    assert not rw.held


def test_status(backend: str, lock_dir: str) -> None:
    lock = ringlock.Lock("st", backend=backend, dir=lock_dir)
    st = lock.status()
    assert st == ringlock.LockStatus(token=0, holders=[])
    with lock as hold:
        before = time.time()
        st = lock.status()
        assert isinstance(st, ringlock.LockStatus) and st.token == hold.token
        [holder] = st.holders
        assert isinstance(holder, ringlock.Holder)
        pid, mode, since, token, liveness = holder
        assert (pid, mode, token, liveness) == (os.getpid(), "exclusive", hold.token, "alive")
        assert before - 5 < since <= before + 1
    assert lock.status() == ringlock.LockStatus(token=hold.token, holders=[])
    rw = ringlock.RWLock("st", backend=backend, dir=lock_dir)
    with rw.read() as shared:
        assert shared.mode == "shared" and shared.token == hold.token
        assert [h.mode for h in rw.status().holders] == ["shared"]
        assert rw.locked() and lock.locked()  # the same lock
        assert lock.acquire(blocking=False) is False


def test_tokens_increase_across_objects_and_reopen(backend: str, lock_dir: str) -> None:
    tokens = []
    for i in range(5):
        lock = ringlock.Lock("tok", backend=backend, dir=lock_dir)
        with lock as hold:
            tokens.append(hold.token)
        if i % 2:
            lock.close()
        else:
            del lock
    assert tokens == sorted(set(tokens)) and len(tokens) == 5


BAD_NAMES = ["a/b", "", "x" * 201, ".", "..", "a b", "é", "a\x00b", "../etc"]


@pytest.mark.parametrize("name", BAD_NAMES, ids=repr)
@pytest.mark.parametrize("cls", [ringlock.Lock, ringlock.RWLock])
def test_bad_names(cls: Any, name: str, backend: str, lock_dir: str) -> None:
    with pytest.raises(ringlock.InvalidArgumentError, match="name"):
        cls(name, backend=backend, dir=lock_dir)
    with pytest.raises(ValueError):
        cls(name, backend=backend, dir=lock_dir)
    assert not os.path.exists(lock_dir) or os.listdir(lock_dir) == []


def test_longest_name_is_fine(lock_dir: str) -> None:
    assert ringlock.Lock("x" * 200, dir=lock_dir).acquire(blocking=False)


@pytest.mark.parametrize("name", [b"jobs", 5, None, Path("jobs")], ids=repr)
def test_non_str_names_are_type_errors(name: Any, lock_dir: str) -> None:
    with pytest.raises(TypeError, match="lock name must be str"):
        ringlock.Lock(name, dir=lock_dir)


@pytest.mark.parametrize(
    "kwargs,exc,fragment",
    [
        ({"backend": "nfs"}, ringlock.InvalidArgumentError, "backend"),
        ({"backend": 1}, TypeError, "backend"),
        ({"mode": 0o400}, ringlock.InvalidArgumentError, "0600"),
        ({"mode": 0o1600}, ringlock.InvalidArgumentError, "0777"),
        ({"mode": -1}, ringlock.InvalidArgumentError, "mode"),
        ({"mode": 2**40}, ringlock.InvalidArgumentError, "mode"),
        ({"mode": "600"}, TypeError, None),
        ({"mode": 6.0}, TypeError, None),
        ({"timeout": -2}, ringlock.InvalidArgumentError, "timeout"),
        ({"timeout": "1"}, TypeError, "timeout"),
        ({"timeout": True}, TypeError, "timeout"),
        ({"dir": 5}, TypeError, "dir"),
    ],
)
def test_bad_options(kwargs: dict[str, Any], exc: type[BaseException], fragment: str | None, lock_dir: str) -> None:
    kwargs.setdefault("dir", lock_dir)
    for cls in (ringlock.Lock, ringlock.RWLock):
        with pytest.raises(exc, match=fragment):
            cls("opts", **kwargs)


def test_symlinked_lock_file_is_refused(backend: str, lock_dir: str, tmp_path: Path) -> None:
    ringlock.Lock("real", backend=backend, dir=lock_dir)
    suffix = "shm" if backend == "shm" else "lock"
    os.symlink(os.path.join(lock_dir, f"real.{suffix}"), os.path.join(lock_dir, f"link.{suffix}"))
    with pytest.raises(ringlock.InvalidArgumentError, match="symlink"):
        ringlock.Lock("link", backend=backend, dir=lock_dir)


def _corruptions(backend: str, lock_dir: str) -> list[tuple[str, bytes]]:
    other = "file" if backend == "shm" else "shm"
    good_other = Path(ringlock.Lock("model", backend=other, dir=lock_dir).path).read_bytes()
    good = Path(ringlock.Lock("model", backend=backend, dir=lock_dir).path).read_bytes()
    bad_magic = bytes(len(good))
    return [
        ("garbage", b"hello world" * 400),
        ("empty", b""),
        ("truncated", good[:100]),
        ("zeroes", bad_magic),
        ("other backend", good_other),
    ]


def test_corrupt_lock_files(backend: str, lock_dir: str) -> None:
    suffix = "shm" if backend == "shm" else "lock"
    for what, data in _corruptions(backend, lock_dir):
        path = Path(lock_dir, f"c.{suffix}")
        path.write_bytes(data)
        for cls in (ringlock.Lock, ringlock.RWLock):
            with pytest.raises(ringlock.CorruptError) as info:
                cls("c", backend=backend, dir=lock_dir)
            assert isinstance(info.value, ValueError), what
            assert path.read_bytes() == data, f"{what}: the file was touched"


def test_close(backend: str, lock_dir: str) -> None:
    lock = ringlock.Lock("cl", backend=backend, dir=lock_dir)
    other = ringlock.Lock("cl", backend=backend, dir=lock_dir)
    lock.acquire()
    lock.close()
    lock.close()  # idempotent
    assert not lock.held and repr(lock).endswith(" closed>")
    assert other.acquire(blocking=False), "close released the lock"
    other.release()
    for call in (lock.acquire, lock.release, lock.status, lock.locked, lambda: lock.__enter__()):
        with pytest.raises(ringlock.InvalidArgumentError, match="closed"):
            call()
    assert lock.name == "cl" and lock.hold is not None
    rw = ringlock.RWLock("cl", backend=backend, dir=lock_dir)
    rw.acquire_write()
    rw.close()
    assert other.acquire(blocking=False), "close released the rwlock"
    with pytest.raises(ringlock.InvalidArgumentError, match="closed"):
        rw.acquire_read()


def test_garbage_collection_releases(backend: str, lock_dir: str) -> None:
    lock = ringlock.Lock("gc", backend=backend, dir=lock_dir)
    lock.acquire()
    del lock
    assert ringlock.Lock("gc", backend=backend, dir=lock_dir).acquire(blocking=False)


def test_exceptions_in_with_release_and_propagate(backend: str, lock_dir: str) -> None:
    lock = ringlock.Lock("ex", backend=backend, dir=lock_dir)
    with pytest.raises(KeyError):
        with lock:
            raise KeyError("boom")
    assert not lock.held
    rw = ringlock.RWLock("ex", backend=backend, dir=lock_dir)
    with pytest.raises(KeyError):
        with rw.write():
            raise KeyError("boom")
    assert not rw.held and not rw.locked()


def test_rwlock_api(backend: str, lock_dir: str) -> None:
    rw = ringlock.RWLock("rw", backend=backend, dir=lock_dir, timeout=0.05)
    other = ringlock.RWLock("rw", backend=backend, dir=lock_dir, timeout=0.05)
    assert rw.name == "rw" and rw.backend == backend and rw.timeout == 0.05
    assert rw.read().mode == "shared" and rw.write().mode == "exclusive"
    assert "read of <ringlock.RWLock 'rw'" in repr(rw.read())
    with rw.read() as h:
        assert h.mode == "shared" and rw.held and rw.locked()
        with other.read():
            assert len(other.status().holders) == 2
        assert other.acquire_write(blocking=False) is False
        with pytest.raises(ringlock.LockTimeout):
            with other.write():
                pass
    assert not rw.held
    with rw.write() as h:
        assert h.mode == "exclusive" and h.token >= 1
        assert other.acquire_read(timeout=0.05) is False
    assert rw.acquire_read() and rw.held
    rw.release()
    with pytest.raises(ringlock.NotHeldError, match="this thread"):
        rw.release()
    assert "not held by this thread" in repr(rw)


def test_rwlock_release_belongs_to_the_thread(backend: str, lock_dir: str) -> None:
    rw = ringlock.RWLock("own", backend=backend, dir=lock_dir)
    rw.acquire_write()
    errors: list[BaseException] = []

    def other() -> None:
        try:
            rw.release()
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    t = threading.Thread(target=other)
    t.start()
    t.join()
    assert len(errors) == 1 and isinstance(errors[0], ringlock.NotHeldError)
    assert rw.held
    rw.release()


def test_locks_do_not_pickle(lock_dir: str) -> None:
    with pytest.raises(TypeError):
        pickle.dumps(ringlock.Lock("p", dir=lock_dir))
