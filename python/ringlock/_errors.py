"""The exceptions of ringlock.

Every exception that ringlock raises for a failure it detects derives from
:class:`ringlock.Error`, and also from the builtin exception a Python programmer
would expect for that kind of failure, so ``except LookupError`` or
``except ValueError`` keep working. Which class each failure of the Rust core
becomes is decided in one place, ``python/src/errors.rs``.

An operating-system failure keeps its ``errno``: it raises a class that is
both the ringlock class of its kind (usually :class:`IoError`) and the builtin
:class:`OSError` subclass CPython picks for that number, so
``except PermissionError`` or ``except FileNotFoundError`` catch it, with
``.errno`` and ``.strerror`` set and the message (``str()``) as ringlock wrote
it, e.g. ``cannot open /x: Permission denied (errno 13, EACCES)``.

Wrong argument *types* (a float weight, an int key) raise a plain
:class:`TypeError`, as builtins do.
"""

import os

__all__ = [
    "CorruptError",
    "DeadlockError",
    "EmptyRingError",
    "Error",
    "InternalError",
    "InvalidArgumentError",
    "IoError",
    "LockLostError",
    "LockTimeout",
    "NodeExistsError",
    "NodeNotFoundError",
    "NotHeldError",
    "UnavailableError",
    "WouldBlockError",
]


class Error(Exception):
    """Base class of every error raised by ringlock."""

    __module__ = "ringlock"


class InvalidArgumentError(Error, ValueError):
    """A bad argument value: an empty node name or one containing NUL, a weight
    outside 1..2**32-1, an unknown algorithm, vnodes that the algorithm does not
    accept, a negative count, a key that cannot be encoded as UTF-8; a lock name
    outside ``[A-Za-z0-9._-]{1,200}``, an unknown lock backend, a file mode
    that lacks 0o600 or exceeds 0o777, a symlink anywhere in the lock path, a
    lock directory (or a parent) that other users can write to without the
    sticky bit or that belongs to another user, another user's lock file
    (unless ``mode`` shares it), a negative timeout; any use of a closed
    lock."""

    __module__ = "ringlock"


class EmptyRingError(Error, LookupError):
    """A lookup on a ring that has no nodes."""

    __module__ = "ringlock"


class NodeNotFoundError(Error, KeyError):
    """The named node is not in the ring (``remove``, ``set_weight``)."""

    __module__ = "ringlock"

    # KeyError's str() is the repr of its argument; show the message as is.
    __str__ = Exception.__str__


class NodeExistsError(Error, ValueError):
    """A node of that name is already in the ring (``add``, or a duplicate name
    given to the constructor)."""

    __module__ = "ringlock"


class CorruptError(Error, ValueError):
    """Serialised data (``Ring.from_bytes``) is truncated, damaged or of an
    unknown format version; or a lock file is not an intact lock file of its
    backend (ringlock never overwrites it: remove it if you know it is stale)."""

    __module__ = "ringlock"


class LockTimeout(Error, TimeoutError):
    """A lock could not be acquired before the timeout ran out."""

    __module__ = "ringlock"


class WouldBlockError(Error, BlockingIOError):
    """A non-blocking operation could not proceed without waiting."""

    __module__ = "ringlock"


class DeadlockError(Error, RuntimeError):
    """The operation would deadlock, such as acquiring a lock that the same
    handle already holds (locks are not reentrant)."""

    __module__ = "ringlock"


class NotHeldError(Error, RuntimeError):
    """``release()`` of a lock that is not held (through this lock object, or,
    for an ``RWLock``, by the calling thread): the ``RuntimeError`` that
    ``threading.Lock().release()`` raises too."""

    __module__ = "ringlock"


class IoError(Error, OSError):
    """An operating-system call failed. When the operating system gave an
    ``errno``, the exception raised is also the builtin ``OSError`` subclass
    for it (``PermissionError``, ``FileNotFoundError``, ...) and carries
    ``errno`` and ``strerror``."""

    __module__ = "ringlock"

    # OSError's str() is "[Errno N] strerror"; the message names the errno.
    __str__ = Exception.__str__

    def __reduce__(self):  # type: ignore[no-untyped-def]
        if self.errno is None:
            return super().__reduce__()
        return (_os_error, ("IoError", self.errno, str(self)))


class UnavailableError(Error, ConnectionError):
    """etcd could not be reached, or did not answer as etcd, within the
    timeout (connecting, acquiring, releasing, reading a status); the message
    says what each endpoint answered. Also a ``ConnectionError``."""

    __module__ = "ringlock"

    # OSError's str() of several arguments is "[Errno N] strerror".
    __str__ = Exception.__str__


class LockLostError(Error, RuntimeError):
    """An etcd lock's hold ended without a release: this process's lease
    expired (the process was paused or cut off from etcd past its TTL), so
    another process may have held the lock since. Raised by ``release()``
    of such a hold, and by an acquisition whose lease expired while it
    waited; ``hold.lost`` tells it without raising."""

    __module__ = "ringlock"


class InternalError(Error, RuntimeError):
    """A bug in ringlock; please report it."""

    __module__ = "ringlock"


# (ringlock class, builtin OSError subclass) -> the class that is both.
_OS_CLASSES: dict[tuple[type, type], type] = {}


def _os_class(kind: type, builtin: type) -> type:
    if issubclass(kind, builtin):
        return kind
    both = _OS_CLASSES.get((kind, builtin))
    if both is None:
        name = kind.__name__

        def __reduce__(self):  # type: ignore[no-untyped-def]
            return (_os_error, (name, self.errno, str(self)))

        both = type(
            builtin.__name__,
            (kind, builtin),
            {
                "__module__": "ringlock",
                "__qualname__": f"{name}.{builtin.__name__}",
                "__doc__": f"{kind.__doc__}\n\nAlso the builtin {builtin.__name__} of its errno.",
                "__str__": Exception.__str__,
                "__reduce__": __reduce__,
            },
        )
        _OS_CLASSES[(kind, builtin)] = both
    return both


def _os_error(kind: str, errno: int, message: str) -> Error:
    """The exception for an operating-system failure of ringlock class
    ``kind`` (a name in this module) with ``errno``: an instance of a class
    that is both that class and the builtin OSError subclass CPython maps
    ``errno`` to (``type(OSError(errno, ""))``), ``str()`` the message.
    python/src/errors.rs calls it for every core error that has an errno."""
    builtin = type(OSError(errno, ""))
    err = _os_class(globals()[kind], builtin)(message)
    err.errno = errno
    err.strerror = os.strerror(errno)
    return err  # type: ignore[no-any-return]
