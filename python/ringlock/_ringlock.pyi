"""Type stubs of the native module ringlock._ringlock (private: import ringlock)."""

import os
from collections.abc import Iterable, Iterator, Mapping
from types import TracebackType
from typing import Any, Callable, ClassVar, Literal, SupportsFloat, SupportsIndex, TypeAlias, final

from ringlock._diff import Diff
from ringlock._errors import LockTimeout
from ringlock._lock import LockStatus

__all__ = [
    "Hold",
    "LoadSlot",
    "LoadTracker",
    "Lock",
    "RWLock",
    "RWLockGuard",
    "Ring",
    "SharedRing",
    "_Ticket",
    "jump_hash",
    "__version__",
]

__version__: str

_Key: TypeAlias = str | bytes | bytearray | memoryview
_Algorithm: TypeAlias = Literal[
    "ketama",
    "xxh3",
    "jump",
    "maglev",
    "libmemcached",
    "nginx",
    "twemproxy",
    "twemproxy-md5",
    "twemproxy-one_at_a_time",
    "twemproxy-murmur",
    "twemproxy-crc32",
    "twemproxy-crc32a",
    "haproxy",
    "libmemcached-consistent",
    "libmemcached-consistent-md5",
]
_Nodes: TypeAlias = Iterable[str | tuple[str, SupportsIndex]] | Mapping[str, SupportsIndex]

@final
class Ring:
    """A consistent-hashing ring: which node owns a key, which ``n`` nodes
    hold its replicas.

    ``nodes`` is an iterable of names or ``(name, weight)`` pairs, or a dict
    name -> weight. Names are non-empty str without NUL; weights are integers
    from 1 to 2**32-1. ``algorithm`` is ``"xxh3"`` (the fast default),
    ``"ketama"`` (libketama's continuum), ``"jump"``, ``"maglev"``, or a client
    profile: ``"libmemcached"``, ``"nginx"``, ``"twemproxy"``,
    ``"twemproxy-<hash>"``, ``"haproxy"``, ``"libmemcached-consistent"``,
    ``"libmemcached-consistent-md5"`` (docs/placement.md; profiles take no
    vnodes).
    ``vnodes`` 0 means the default (160 for ketama and xxh3; jump and maglev
    take none). ``table_size`` is maglev's number of table entries: a prime
    up to 2**26, default 65537 (None); other algorithms take none.
    ``max_points`` and ``max_nodes`` bound the ring's size (None: the
    defaults, 2**24 points and 2**20 nodes; at most 2**26 each): a change
    past them is InvalidArgumentError, refused before anything is built.

    Keys are str (placed by their UTF-8 bytes) or bytes-like:
    ``ring["k"] == ring.get(b"k")``.

    Thread safety: lookups may run from any number of threads at once; a
    change (add, remove, set_weight) is atomic: every lookup sees the ring
    before or after it, and never fails because another call is running.
    Long calls release the GIL: building a ring (the constructor,
    from_bytes), get_many of 4096 keys or more, get_n of 4096 nodes or more,
    and diff and changes of rings of 65536 points or more (on a snapshot of
    the ring as it was when the call started). Errors leave the ring
    unchanged.
    """

    def __new__(
        cls,
        nodes: _Nodes = (),
        *,
        algorithm: _Algorithm = "xxh3",
        vnodes: SupportsIndex = 0,
        table_size: SupportsIndex | None = None,
        max_points: SupportsIndex | None = None,
        max_nodes: SupportsIndex | None = None,
    ) -> Ring: ...
    def add(self, name: str, weight: SupportsIndex = 1) -> None:
        """Adds node ``name`` with ``weight``; NodeExistsError if taken."""
    def remove(self, name: str) -> None:
        """Removes node ``name``; NodeNotFoundError if absent."""
    def set_weight(self, name: str, weight: SupportsIndex) -> None:
        """Changes the weight of node ``name``; NodeNotFoundError if absent."""
    def get(self, key: _Key, /) -> str:
        """The node that owns ``key``; EmptyRingError on an empty ring."""
    def __getitem__(self, key: _Key, /) -> str:
        """The node that owns ``key`` (same as ``get``)."""
    def position(self, key: _Key) -> int:
        """The key's position in the space of ``diff`` (ketama: 32-bit MD5,
        xxh3: XXH3-64, maglev: table entry); InvalidArgumentError for jump."""
    def diff(self, after: Ring) -> Diff:
        """The ranges of positions whose owner changes from this ring to
        ``after``, and the share that moves; InvalidArgumentError if the
        algorithms (or maglev table sizes) differ, or for jump."""
    def get_n(self, key: _Key, n: SupportsIndex) -> list[str]:
        """Up to ``n`` distinct nodes for ``key``, owner first."""
    def get_many(self, keys: Iterable[_Key]) -> list[str]:
        """The owners of many keys, in order (``[ring.get(k) for k in keys]``);
        RuntimeError if another thread resizes the list during a long call."""
    def get_bounded(
        self, key: _Key, loads: Mapping[str, SupportsIndex], factor: float = 1.25
    ) -> str:
        """The first node in ``key``'s ring order whose load is below
        ``ceil(factor * (total + 1) / len(ring))``; ``loads`` maps node names
        to loads (missing: 0). NodeNotFoundError for an unknown node,
        InvalidArgumentError for a negative load or ``factor <= 1``."""
    @property
    def nodes(self) -> list[tuple[str, int]]:
        """The nodes as ``(name, weight)`` pairs, in name order."""
    @property
    def weights(self) -> dict[str, int]:
        """The nodes as a dict name -> weight, in name order."""
    @property
    def algorithm(self) -> _Algorithm:
        """The algorithm's name: ``"ketama"``, ``"xxh3"``, ``"jump"``, ``"maglev"`` or a profile's."""
    @property
    def vnodes(self) -> int:
        """Virtual nodes in use (the default resolved; 0 for jump and maglev)."""
    @property
    def table_size(self) -> int:
        """Maglev's number of table entries (a prime); 0 for the others."""
    @property
    def max_points(self) -> int:
        """The most points the ring may hold (2**24 by default)."""
    @property
    def max_nodes(self) -> int:
        """The most nodes the ring may hold (2**20 by default)."""
    def __len__(self) -> int: ...
    def __contains__(self, name: object, /) -> bool: ...
    def __iter__(self) -> Iterator[str]: ...
    def to_bytes(self) -> bytes:
        """The ring as bytes; ``Ring.from_bytes`` rebuilds it."""
    @classmethod
    def from_bytes(
        cls,
        data: bytes | bytearray | memoryview,
        max_points: SupportsIndex | None = None,
        max_nodes: SupportsIndex | None = None,
    ) -> Ring:
        """A ring from ``to_bytes`` output, within the limits (None: the
        defaults); CorruptError if damaged or past them, MemoryError if
        memory runs out."""
    def __reduce__(
        self,
    ) -> tuple[Callable[..., Ring], tuple[bytes] | tuple[bytes, int, int]]: ...
    def copy(self) -> Ring:
        """A copy of the ring."""
    def __copy__(self) -> Ring: ...
    def __deepcopy__(self, _memo: Any) -> Ring: ...
    def __eq__(self, other: object, /) -> bool: ...
    __hash__: ClassVar[None]  # type: ignore[assignment]

@final
class SharedRing:
    """A ring published into a file by ``SharedRing.publish(ring, path)`` and
    opened by ``SharedRing(path)``: every process maps the same pages
    read-only and looks keys up in place, with the published ``Ring``'s
    answers. ``path`` without a ``/`` is a name in the default directory
    (``/dev/shm/ringlock-<uid>/``). Each lookup takes up a newer generation
    if one was published (one atomic load when none was); ``generation``
    never goes backwards. FileNotFoundError if nothing is published there,
    CorruptError for a damaged file (at open or at the switch)."""

    def __new__(cls, path: str | os.PathLike[str]) -> SharedRing: ...
    @staticmethod
    def publish(ring: Ring, path: str | os.PathLike[str]) -> int:
        """Publishes ``ring`` at ``path`` as a new generation; returns its number."""
    def get(self, key: _Key, /) -> str:
        """The node that owns ``key`` in the newest generation."""
    def __getitem__(self, key: _Key, /) -> str:
        """The node that owns ``key`` (same as ``get``)."""
    def get_n(self, key: _Key, n: SupportsIndex) -> list[str]:
        """Up to ``n`` distinct nodes for ``key``, owner first."""
    def get_many(self, keys: Iterable[_Key]) -> list[str]:
        """The owners of many keys, in order, from one generation."""
    def get_bounded(
        self, key: _Key, loads: Mapping[str, SupportsIndex], factor: float = 1.25
    ) -> str:
        """``Ring.get_bounded``'s answer on the newest generation."""
    @property
    def generation(self) -> int:
        """The generation this handle answers from (a newer one taken up first)."""
    @property
    def algorithm(self) -> _Algorithm:
        """The algorithm of the generation held."""
    @property
    def path(self) -> str:
        """The ring file's path."""
    @property
    def nodes(self) -> list[tuple[str, int]]:
        """The nodes as ``(name, weight)`` pairs, in name order."""
    def __len__(self) -> int: ...
    def __contains__(self, name: object, /) -> bool: ...

@final
class LoadTracker:
    """Counts work in flight per node of a copy of ``ring`` and places keys
    under bounded loads (``factor`` finite and above 1). Thread-safe: an
    acquire chooses and counts atomically. Membership changes of ``ring``
    after creation do not reach the tracker."""

    def __new__(cls, ring: Ring, factor: float = 1.25) -> LoadTracker: ...
    def acquire(self, key: _Key) -> str:
        """Takes a slot for ``key`` and returns its node."""
    def release(self, node: str) -> None:
        """Gives back a slot of ``node``; NodeNotFoundError if unknown,
        InvalidArgumentError if it holds none."""
    def slot(self, key: _Key) -> LoadSlot:
        """``with tracker.slot(key) as node:`` acquires, releases on exit."""
    def load(self, node: str) -> int:
        """The slots held on ``node``; NodeNotFoundError if unknown."""
    @property
    def loads(self) -> dict[str, int]:
        """The slots held on every node, in name order (a snapshot)."""
    @property
    def total(self) -> int:
        """The slots held in all."""
    @property
    def factor(self) -> float:
        """The balance factor."""
    @property
    def cap(self) -> int:
        """The cap a new slot must stay under now."""

@final
class LoadSlot:
    """A slot of a LoadTracker held by a ``with`` block."""

    def __enter__(self) -> str:
        """Acquires the slot and gives its node."""
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
        /,
    ) -> bool: ...
    @property
    def node(self) -> str | None:
        """The node holding the slot, or None when not entered."""

def jump_hash(key: SupportsIndex, buckets: SupportsIndex) -> int:
    """The bucket in ``range(buckets)`` of the 64-bit ``key`` (jump consistent
    hash); InvalidArgumentError unless ``0 <= key < 2**64`` and
    ``1 <= buckets < 2**31``."""

_Backend: TypeAlias = Literal["shm", "file"]
_Mode: TypeAlias = Literal["exclusive", "shared"]
_Timeout: TypeAlias = SupportsFloat | None

@final
class Hold:
    """What an acquisition gives: the fencing ``token``, whether the
    ``previous_owner_died`` without releasing, and the ``mode`` held.

    ``token``: for an exclusive hold, a number strictly greater than every
    token handed out before for this lock, in any process, across crashes.
    A shared hold carries the token of the last exclusive one (0 if none).
    ``previous_owner_died`` is reported once, to the next exclusive acquirer
    after a holder died without releasing.
    """

    @property
    def token(self) -> int:
        """The fencing token of this acquisition."""
    @property
    def previous_owner_died(self) -> bool:
        """Whether a holder died without releasing before this acquisition."""
    @property
    def mode(self) -> _Mode:
        """``"exclusive"`` or ``"shared"``."""
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class Lock:
    """An exclusive lock named ``name`` that any process of the host can take,
    that survives a holder that dies, and that hands out fencing tokens.

    ``name``: 1 to 200 characters from ``A-Z a-z 0-9 . _ -``. ``backend``:
    ``"shm"`` (the fast default) or ``"file"`` (flock). ``dir``: the lock
    directory (default ``/dev/shm/ringlock-<uid>/``; no symlink in its path,
    none of it writable by other users unless sticky). ``mode``: permission
    bits of a lock file this call creates (must include 0o600; a mode shared
    with the group or others also accepts another user's lock file). ``timeout``:
    what ``with``/``async with`` wait before LockTimeout (None: for ever).

    Behaves as a ``threading.Lock`` shared by every process: threads sharing
    one Lock take turns, any thread may release, and a thread that acquires
    a lock it holds through the same object gets DeadlockError. Waiting
    releases the GIL; asyncio waits never block the event loop.

    Thread safety: every method may be called from any thread.
    """

    def __new__(
        cls,
        name: str,
        *,
        backend: _Backend = "shm",
        dir: str | os.PathLike[str] | None = None,
        mode: SupportsIndex = 0o600,
        timeout: _Timeout = None,
    ) -> Lock: ...
    def acquire(self, timeout: _Timeout = None, blocking: bool = True) -> bool:
        """True once acquired; False if ``timeout`` seconds ran out (None or -1:
        wait for ever) or, with ``blocking=False``, the lock is held."""
    def release(self) -> None:
        """Releases the lock (any thread may); NotHeldError if not held."""
    def locked(self) -> bool:
        """Whether anyone holds the lock right now (a snapshot)."""
    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
    def status(self) -> LockStatus:
        """Who holds the lock, read without taking it."""
    @property
    def hold(self) -> Hold | None:
        """The Hold of the last acquisition through this object."""
    @property
    def name(self) -> str:
        """The lock's name."""
    @property
    def path(self) -> str:
        """The file that holds the lock's state."""
    @property
    def backend(self) -> _Backend:
        """``"shm"`` or ``"file"``."""
    @property
    def timeout(self) -> float | None:
        """What ``with`` waits before LockTimeout, in seconds (None: for ever)."""
    def close(self) -> None:
        """Releases the lock if held and closes the lock file; idempotent."""
    def __enter__(self) -> Hold:
        """Acquires with the lock's ``timeout``; LockTimeout when it runs out."""
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
        /,
    ) -> bool: ...
    async def acquire_async(self, timeout: _Timeout = None) -> bool:
        """``acquire`` for asyncio, without blocking the event loop; the hold
        belongs to the task, and a cancelled call leaves nothing held."""
    async def __aenter__(self) -> Hold: ...
    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
        /,
    ) -> None: ...
    def _ticket(self) -> _Ticket: ...

@final
class RWLock:
    """A read/write lock named ``name`` between the processes of the host: any
    number of readers at once, or one writer. Arguments as for :class:`Lock`.

    ``with rw.read() as hold:`` / ``with rw.write() as hold:`` (or ``async
    with``) wait the lock's ``timeout`` and raise LockTimeout when it runs
    out. Holds belong to the calling thread: threads of one process can read
    at once, a thread releases only what it acquired, and re-acquiring while
    holding raises DeadlockError.

    Thread safety: every method may be called from any thread.
    """

    def __new__(
        cls,
        name: str,
        *,
        backend: _Backend = "shm",
        dir: str | os.PathLike[str] | None = None,
        mode: SupportsIndex = 0o600,
        timeout: _Timeout = None,
    ) -> RWLock: ...
    def read(self) -> RWLockGuard:
        """A context manager holding the lock shared."""
    def write(self) -> RWLockGuard:
        """A context manager holding the lock exclusive."""
    def acquire_read(self, timeout: _Timeout = None, blocking: bool = True) -> bool:
        """Acquires shared for the calling thread, as ``Lock.acquire``."""
    def acquire_write(self, timeout: _Timeout = None, blocking: bool = True) -> bool:
        """Acquires exclusive for the calling thread, as ``Lock.acquire``."""
    def release(self) -> None:
        """Releases the calling thread's hold; NotHeldError if none."""
    @property
    def held(self) -> bool:
        """Whether the calling thread holds the lock."""
    def locked(self) -> bool:
        """Whether anyone holds the lock right now (a snapshot)."""
    def status(self) -> LockStatus:
        """Who holds the lock, read without taking it."""
    @property
    def name(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def backend(self) -> _Backend: ...
    @property
    def timeout(self) -> float | None: ...
    def close(self) -> None:
        """Releases every hold of this object and closes its files."""
    def _ticket(self, shared: bool) -> _Ticket: ...
    def _release_task(self) -> None: ...

@final
class RWLockGuard:
    """What ``RWLock.read()`` and ``RWLock.write()`` return: acquires on entry
    (``with`` or ``async with``), gives the Hold, releases on exit."""

    @property
    def mode(self) -> _Mode:
        """``"shared"`` (read) or ``"exclusive"`` (write)."""
    def __enter__(self) -> Hold: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
        /,
    ) -> bool: ...
    async def __aenter__(self) -> Hold: ...
    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
        /,
    ) -> None: ...

@final
class _Ticket:
    def try_acquire(self) -> Hold | None: ...
    def wait(self, timeout: float | None) -> Hold | None: ...
    def cancel(self) -> None: ...
    def release(self) -> None: ...
    def timeout_error(self, timeout: float | None) -> LockTimeout: ...
