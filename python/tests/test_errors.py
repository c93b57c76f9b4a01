"""The exception hierarchy, and every bad input: the documented exception and
an unchanged ring."""

from __future__ import annotations

import errno as errno_module
import os
import pathlib
import pickle
from typing import Any, Callable

import pytest

import ringlock
from conftest import NODES, unchanged

HIERARCHY = {
    "EmptyRingError": LookupError,
    "NodeNotFoundError": KeyError,
    "NodeExistsError": ValueError,
    "InvalidArgumentError": ValueError,
    "CorruptError": ValueError,
    "LockTimeout": TimeoutError,
    "WouldBlockError": BlockingIOError,
    "DeadlockError": RuntimeError,
    "NotHeldError": RuntimeError,
    "IoError": OSError,
    "InternalError": RuntimeError,
    "UnavailableError": ConnectionError,
    "LockLostError": RuntimeError,
}


@pytest.mark.parametrize("name,builtin", sorted(HIERARCHY.items()))
def test_hierarchy(name: str, builtin: type) -> None:
    cls = getattr(ringlock, name)
    assert issubclass(cls, ringlock.Error)
    assert issubclass(cls, builtin)
    assert issubclass(ringlock.Error, Exception)
    assert cls.__module__ == "ringlock"
    assert cls.__doc__
    assert name in ringlock.__all__
    err = cls("some detail")
    assert str(err) == "some detail"
    again = pickle.loads(pickle.dumps(err))
    assert type(again) is cls and str(again) == "some detail"


def test_lock_timeout_is_an_os_timeout() -> None:
    assert issubclass(ringlock.LockTimeout, OSError)


def test_empty_ring(algorithm: str) -> None:
    ring = ringlock.Ring(algorithm=algorithm)
    for call in (
        lambda: ring.get("k"),
        lambda: ring["k"],
        lambda: ring.get_n("k", 2),
        lambda: ring.get_n("k", 0),
        lambda: ring.get_many(["k"]),
        lambda: ring.get_many([]),
    ):
        with pytest.raises(ringlock.EmptyRingError, match="no nodes"):
            call()
        with pytest.raises(LookupError):
            call()
    ring.add("a")
    ring.remove("a")
    with pytest.raises(ringlock.EmptyRingError):
        ring.get("k")


BIG = 2**32

# (call on a ring holding NODES, expected exception, message fragment)
BAD_CALLS: list[tuple[str, Callable[[ringlock.Ring], Any], type[BaseException], str | None]] = [
    ("add empty name", lambda r: r.add(""), ringlock.InvalidArgumentError, "empty"),
    ("add NUL name", lambda r: r.add("a\x00b"), ringlock.InvalidArgumentError, "NUL"),
    ("add surrogate", lambda r: r.add("a\udc80"), ringlock.InvalidArgumentError, "UTF-8"),
    ("add weight 0", lambda r: r.add("new", 0), ringlock.InvalidArgumentError, "weight"),
    ("add weight -1", lambda r: r.add("new", -1), ringlock.InvalidArgumentError, "weight"),
    ("add weight 2**32", lambda r: r.add("new", BIG), ringlock.InvalidArgumentError, "weight"),
    ("add weight 2**100", lambda r: r.add("new", 2**100), ringlock.InvalidArgumentError, "weight"),
    ("add weight float", lambda r: r.add("new", 1.5), TypeError, "integer"),
    ("add weight str", lambda r: r.add("new", "2"), TypeError, "integer"),
    ("add bytes name", lambda r: r.add(b"new"), TypeError, "str"),
    ("add int name", lambda r: r.add(5), TypeError, "str"),
    ("add existing", lambda r: r.add("alpha"), ringlock.NodeExistsError, "already"),
    ("remove missing", lambda r: r.remove("omega"), ringlock.NodeNotFoundError, "omega"),
    ("remove bytes", lambda r: r.remove(b"alpha"), TypeError, "str"),
    ("set_weight missing", lambda r: r.set_weight("omega", 2), ringlock.NodeNotFoundError, "omega"),
    ("set_weight 0", lambda r: r.set_weight("alpha", 0), ringlock.InvalidArgumentError, "remove"),
    ("set_weight -5", lambda r: r.set_weight("alpha", -5), ringlock.InvalidArgumentError, "weight"),
    ("set_weight 2**32", lambda r: r.set_weight("alpha", BIG), ringlock.InvalidArgumentError, None),
    ("set_weight None", lambda r: r.set_weight("alpha", None), TypeError, None),
    ("get_n negative", lambda r: r.get_n("k", -1), ringlock.InvalidArgumentError, "n must be"),
    ("get_n float", lambda r: r.get_n("k", 2.0), TypeError, None),
    ("get int key", lambda r: r.get(1), TypeError, "key"),
    ("get_many bad key", lambda r: r.get_many(["a", 1]), TypeError, "keys"),
    ("get_many not iterable", lambda r: r.get_many(5), TypeError, None),
]


@pytest.mark.parametrize("what,call,exc,fragment", BAD_CALLS, ids=[c[0] for c in BAD_CALLS])
def test_bad_calls_raise_and_change_nothing(
    algorithm: str,
    what: str,
    call: Callable[[ringlock.Ring], Any],
    exc: type[BaseException],
    fragment: str | None,
) -> None:
    ring = ringlock.Ring(NODES, algorithm=algorithm)
    with unchanged(ring):
        with pytest.raises(exc, match=fragment):
            call(ring)
    assert ring == ringlock.Ring(NODES, algorithm=algorithm)


@pytest.mark.parametrize("algorithm", ["xxh3", "jump"])
def test_too_many_points(algorithm: str) -> None:
    ring = ringlock.Ring(NODES, algorithm=algorithm)
    with unchanged(ring), pytest.raises(ringlock.InvalidArgumentError, match="points"):
        ring.add("huge", 2**32 - 1)
    with unchanged(ring), pytest.raises(ringlock.InvalidArgumentError, match="points"):
        ring.set_weight("alpha", 2**32 - 1)


def test_not_found_message_is_plain() -> None:
    ring = ringlock.Ring(NODES)
    with pytest.raises(ringlock.NodeNotFoundError) as info:
        ring.remove("omega")
    assert str(info.value) == 'node "omega" is not in the ring'
    with pytest.raises(KeyError):
        ring.remove("omega")


@pytest.mark.parametrize(
    "kwargs,exc,fragment",
    [
        ({"algorithm": "md5"}, ringlock.InvalidArgumentError, "unknown algorithm"),
        ({"algorithm": 3}, TypeError, None),
        ({"vnodes": -1}, ringlock.InvalidArgumentError, "vnodes"),
        ({"vnodes": 2**32}, ringlock.InvalidArgumentError, "vnodes"),
        ({"vnodes": 1.0}, TypeError, None),
        ({"algorithm": "ketama", "vnodes": 6}, ringlock.InvalidArgumentError, "multiple of 4"),
        ({"algorithm": "jump", "vnodes": 4}, ringlock.InvalidArgumentError, "jump"),
        ({"nodes": ["a", "a"]}, ringlock.NodeExistsError, "already"),
        ({"nodes": ["a", ("b", 0)]}, ringlock.InvalidArgumentError, "weight"),
        ({"nodes": {"a": -1}}, ringlock.InvalidArgumentError, "weight"),
        ({"nodes": ["a", ""]}, ringlock.InvalidArgumentError, "empty"),
        ({"nodes": [("a", 1, 2)]}, TypeError, "pair"),
        ({"nodes": [3]}, TypeError, "name"),
        ({"nodes": [b"a"]}, TypeError, "name"),
        ({"nodes": {b"a": 1}}, TypeError, "str"),
        ({"nodes": "abc"}, TypeError, "single node"),
        ({"nodes": 5}, TypeError, None),
        ({"nodes": [("a", 2**31), ("b", 2**31)], "vnodes": 1}, ringlock.InvalidArgumentError, "points"),
    ],
)
def test_bad_constructor_arguments(
    kwargs: dict[str, Any], exc: type[BaseException], fragment: str | None
) -> None:
    with pytest.raises(exc, match=fragment):
        ringlock.Ring(**kwargs)


def test_algorithm_is_keyword_only() -> None:
    with pytest.raises(TypeError):
        ringlock.Ring([], "ketama")  # type: ignore[misc]


def test_errors_from_a_broken_iterable_propagate() -> None:
    def nodes():  # type: ignore[no-untyped-def]
        yield "a"
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        ringlock.Ring(nodes())
    ring = ringlock.Ring(NODES)

    def keys():  # type: ignore[no-untyped-def]
        yield "a"
        raise RuntimeError("keys boom")

    with unchanged(ring), pytest.raises(RuntimeError, match="keys boom"):
        ring.get_many(keys())


# ---- operating-system errors: the builtin OSError subclass of their errno ----


def _check_os_error(err: BaseException, kind: type, builtin: type, number: int) -> None:
    assert isinstance(err, ringlock.Error)
    assert isinstance(err, kind)
    assert isinstance(err, builtin)
    assert isinstance(err, OSError)
    assert err.errno == number  # type: ignore[attr-defined]
    assert err.strerror == os.strerror(number)  # type: ignore[attr-defined]
    # the message is ringlock's, naming the errno; not "[Errno N] ..."
    assert f"(errno {number}, {errno_module.errorcode[number]})" in str(err)
    assert not str(err).startswith("[Errno")
    again = pickle.loads(pickle.dumps(err))
    assert type(again) is type(err)
    assert again.errno == number and str(again) == str(err)


def _in_child_as_nobody(call: Callable[[], Any]) -> str:
    """Runs `call` in a forked child whose uid is nobody's (root bypasses
    permission bits); returns the class names and message of what it raised."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.setuid(65534)
            try:
                call()
                report = "no error"
            except BaseException as e:
                names = ",".join(c.__name__ for c in type(e).__mro__)
                report = f"{names}|{getattr(e, 'errno', None)}|{e}"
            os.write(w, report.encode())
        finally:
            os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        report = f.read().decode()
    os.waitpid(pid, 0)
    return report


def test_lock_dir_without_permission_is_permission_error(tmp_path: pathlib.Path) -> None:
    if os.geteuid() == 0:
        # root passes permission bits: the call runs as nobody, and tmp_path
        # (0700, root's) is closed to it.
        locks = tmp_path / "locks"
        tmp_path.chmod(0o700)
        report = _in_child_as_nobody(lambda: ringlock.Lock("x", dir=locks).acquire())
        names, number, message = report.split("|", 2)
        assert number == str(errno_module.EACCES), report
        for cls in ("PermissionError", "IoError", "Error", "OSError"):
            assert cls in names.split(","), report
        assert "(errno 13, EACCES)" in message
        return
    closed = tmp_path / "closed"
    closed.mkdir(mode=0o000)
    try:
        with pytest.raises(PermissionError) as info:
            ringlock.Lock("x", dir=closed / "locks").acquire()
    finally:
        closed.chmod(0o700)
    _check_os_error(info.value, ringlock.IoError, PermissionError, errno_module.EACCES)


@pytest.mark.skipif(not os.path.isdir("/sys/kernel"), reason="no sysfs")
def test_lock_dir_where_none_may_be_made_is_permission_error() -> None:
    # sysfs refuses mkdir to everyone (EPERM for root, EACCES for others)
    with pytest.raises(PermissionError) as info:
        ringlock.Lock("x", dir="/sys/ringlock-test-locks").acquire()
    number = info.value.errno
    assert number in (errno_module.EPERM, errno_module.EACCES)
    _check_os_error(info.value, ringlock.IoError, PermissionError, number)


def test_missing_shared_ring_is_file_not_found(tmp_path: pathlib.Path) -> None:
    with pytest.raises(ringlock.IoError) as info:
        ringlock.SharedRing(tmp_path / "nothing")
    _check_os_error(info.value, ringlock.IoError, FileNotFoundError, errno_module.ENOENT)
    assert "no shared ring at" in str(info.value)


def test_shared_ring_under_a_file_is_not_a_directory(tmp_path: pathlib.Path) -> None:
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(NotADirectoryError) as info:
        ringlock.SharedRing(tmp_path / "file" / "ring")
    _check_os_error(info.value, ringlock.IoError, NotADirectoryError, errno_module.ENOTDIR)


def test_publishing_onto_a_directory_is_a_directory(tmp_path: pathlib.Path) -> None:
    (tmp_path / "ring").mkdir()
    with pytest.raises(IsADirectoryError) as info:
        ringlock.SharedRing.publish(ringlock.Ring(NODES), tmp_path / "ring")
    _check_os_error(info.value, ringlock.IoError, IsADirectoryError, errno_module.EISDIR)


@pytest.mark.parametrize(
    "name,builtin",
    [
        ("EPERM", PermissionError),
        ("EACCES", PermissionError),
        ("ENOENT", FileNotFoundError),
        ("EEXIST", FileExistsError),
        ("EISDIR", IsADirectoryError),
        ("ENOTDIR", NotADirectoryError),
        ("EAGAIN", BlockingIOError),
        ("ETIMEDOUT", TimeoutError),
        ("EIO", OSError),
        ("ENOSPC", OSError),
    ],
)
def test_each_errno_is_its_builtin(name: str, builtin: type) -> None:
    from ringlock import _errors

    number = getattr(errno_module, name)
    message = f"cannot x: {os.strerror(number)} (errno {number}, {name})"
    for kind in ("IoError", "CorruptError", "InvalidArgumentError"):
        err = _errors._os_error(kind, number, message)
        _check_os_error(err, getattr(ringlock, kind), builtin, number)
        assert str(err) == message
    # an errno whose builtin is plain OSError leaves IoError itself
    if builtin is OSError:
        assert type(_errors._os_error("IoError", number, message)) is ringlock.IoError


def test_an_io_error_without_errno_reads_as_written() -> None:
    err = ringlock.IoError("short read")
    assert err.errno is None and str(err) == "short read"
    again = pickle.loads(pickle.dumps(err))
    assert type(again) is ringlock.IoError and str(again) == "short read"
