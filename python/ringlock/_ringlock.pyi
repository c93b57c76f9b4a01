"""Type stubs of the native module ringlock._ringlock (private: import ringlock)."""

import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
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
    "Member",
    "RWLock",
    "RWLockGuard",
    "Ring",
    "RingChange",
    "RingWatcher",
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
    "spymemcached",
    "envoy-ring-hash",
]
_Nodes: TypeAlias = Iterable[str | tuple[str, SupportsIndex]] | Mapping[str, SupportsIndex]

@final
class Ring:
    """A consistent-hashing ring: which node owns a key, which ``n`` nodes hold
    its replicas.

    ``nodes`` is an iterable of names or ``(name, weight)`` pairs, or a dict
    name -> weight. Names are non-empty str without NUL; weights are integers
    from 1 to 2**32-1. ``algorithm`` is ``"xxh3"`` (the fast default),
    ``"ketama"`` (libketama's continuum: keys on the server libketama picks),
    ``"jump"`` (jump consistent hash over buckets numbered in name order),
    ``"maglev"`` (a Maglev lookup table), or a client profile that places
    keys exactly as that software does: ``"libmemcached"`` (weighted ketama,
    nodes ``"host:port"``), ``"nginx"`` (``hash $key consistent``, nodes named
    by their ``server`` address), ``"twemproxy"`` (its ketama with fnv1a_64
    keys) or ``"twemproxy-md5"``, ``"twemproxy-one_at_a_time"``,
    ``"twemproxy-murmur"``, ``"twemproxy-crc32"``, ``"twemproxy-crc32a"``,
    ``"haproxy"`` (``hash-type consistent``, server ``i`` the ``i``-th node by
    name), ``"libmemcached-consistent"`` and ``"libmemcached-consistent-md5"``
    (plain ketama, 100 points per server), ``"spymemcached"``
    (``KetamaNodeLocator``, nodes named as spymemcached prints their socket
    address), ``"envoy-ring-hash"`` (Envoy's ``ring_hash``, nodes named by the
    host address Envoy hashes; ``table_size`` is its ``minimum_ring_size``,
    default 1024) (docs/placement.md); the profiles take no vnodes. ``vnodes`` is the
    number of virtual points per unit of weight (xxh3) or per server of
    average weight (ketama, a multiple of 4); 0 means the default, 160. Jump
    and maglev take no vnodes. ``table_size`` is maglev's number of table
    entries: a prime up to 2**26, default 65537; the other algorithms take
    none (InvalidArgumentError). A maglev ring holds at most ``table_size``
    nodes. ``max_points`` and ``max_nodes`` bound the ring's size (None: the
    defaults, 2**24 points and 2**20 nodes; at most 2**26 each): a change past
    them is InvalidArgumentError, refused before anything is built.

    Keys are bytes: a str key is placed by its UTF-8 bytes, so
    ``ring["k"] == ring.get(b"k")``; bytearray and memoryview are accepted.
    Placement is a pure function of (algorithm, vnodes, table size, nodes and
    weights, key): the same in every process, language and version of ringlock.

    Thread safety: lookups may run from any number of threads at once; a
    change (add, remove, set_weight) is atomic: every lookup sees the ring
    before or after it, and never fails because another call is running.
    Long calls release the GIL: building a ring (the constructor,
    from_bytes), get_many of 4096 keys or more, get_n of 4096 nodes or more,
    and diff and changes of rings of 65536 points or more (these work on a
    snapshot: a call running meanwhile answers for the ring as it was when it
    started). Errors leave the ring unchanged.
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
        """Adds node ``name`` with ``weight`` (an integer >= 1). Only keys that
        move *to* the new node change owner. Raises NodeExistsError if the
        name is taken, InvalidArgumentError for a bad name or weight.
        """
    def remove(self, name: str) -> None:
        """Removes node ``name``; only the keys it owned move. Raises
        NodeNotFoundError (a KeyError) if there is no such node.
        """
    def set_weight(self, name: str, weight: SupportsIndex) -> None:
        """Changes the weight of node ``name`` (an integer >= 1; use remove to
        take a node out). Raises NodeNotFoundError, InvalidArgumentError.
        """
    def get(self, key: _Key, /) -> str:
        """The name of the node that owns ``key`` (str or bytes-like). Raises
        EmptyRingError (a LookupError) if the ring has no nodes. ``ring[key]``
        is the same.
        """
    def __getitem__(self, key: _Key, /) -> str:
        ...
    def position(self, key: _Key) -> int:
        """The position of ``key`` in the space that ``diff`` reports ranges of:
        ketama, its 32-bit MD5 hash (0 to 2**32-1); a client profile, its
        32-bit key hash; xxh3, its XXH3-64 hash (0 to 2**64-1); maglev, its
        table entry (XXH3-64 mod table_size). InvalidArgumentError for jump
        (no positions).
        """
    def diff(self, after: Ring) -> Diff:
        """The migration plan to ``after``: a ``ringlock.Diff`` whose ``moves``
        are ``ringlock.Move(start, end, old, new)`` ranges ``[start, end)`` of
        positions whose owner changes (half-open, as Python's ranges are; the
        other faces say ``first`` and an inclusive ``last``), and ``fraction``
        the share that moves. Exact: a key moves iff its position is in a
        range. Both rings must use the same algorithm (any but jump; maglev
        tables of equal size), else InvalidArgumentError.
        """
    def get_n(self, key: _Key, n: SupportsIndex) -> list[str]:
        """The names of up to ``n`` distinct nodes for ``key``: the owner first,
        then the next distinct nodes clockwise (replicas); ``min(n, len(ring))``
        of them (ketama nodes too light to earn a point are never returned).
        Raises EmptyRingError, InvalidArgumentError if ``n < 0``.
        """
    def get_many(self, keys: Iterable[_Key]) -> list[str]:
        """The owners of many keys, in order: ``[ring.get(k) for k in keys]``,
        much faster. A list or tuple is read in place; any other iterable
        (a subclass of list or tuple, a generator, a numpy array of str or
        bytes) is first made a list, ``list(keys)``.
        Raises EmptyRingError, TypeError for a key that is not str or
        bytes-like, RuntimeError if another thread resizes the list while
        a long call runs without the GIL.
        """
    def get_bounded(
        self, key: _Key, loads: Mapping[str, SupportsIndex], factor: float = 1.25
    ) -> str:
        """The node that takes ``key`` under bounded loads: the first node in
        the key's ring order (``get_n``'s) whose load is below
        ``ceil(factor * (total + 1) / len(ring))``, with ``loads`` a mapping
        node name -> load (an int >= 0; missing nodes count 0) and ``total``
        their sum. With no load it is ``get(key)``. Raises EmptyRingError,
        NodeNotFoundError for an unknown node in ``loads``,
        InvalidArgumentError for a negative load or a factor not above 1.
        """
    @property
    def nodes(self) -> list[tuple[str, int]]:
        """The nodes as ``(name, weight)`` pairs, in name order (a node's index
        in this list is its bucket under jump).
        """
    @property
    def weights(self) -> dict[str, int]:
        """The nodes as a dict name -> weight, in name order."""
    @property
    def algorithm(self) -> _Algorithm:
        """The algorithm's name: ``"ketama"``, ``"xxh3"``, ``"jump"``,
        ``"maglev"`` or a profile's (``"libmemcached"``, ``"nginx"``,
        ``"twemproxy"``, ...).
        """
    @property
    def vnodes(self) -> int:
        """Virtual nodes in use (the default resolved: 160 for ketama and xxh3;
        0 for jump and maglev).
        """
    @property
    def table_size(self) -> int:
        """Maglev's number of table entries (a prime; 65537 by default); 0 for
        the other algorithms.
        """
    @property
    def max_points(self) -> int:
        """The most points the ring may hold (virtual points, jump buckets or
        maglev table entries): the ``max_points`` it was made or loaded with,
        2**24 by default.
        """
    @property
    def max_nodes(self) -> int:
        """The most nodes the ring may hold: the ``max_nodes`` it was made or
        loaded with, 2**20 by default.
        """
    def __len__(self) -> int: ...
    def __contains__(self, name: object, /) -> bool: ...
    def __iter__(self) -> Iterator[str]: ...
    def to_bytes(self) -> bytes:
        """The ring as bytes: algorithm, vnodes (or table size), names and weights, with a
        checksum. Equal rings give equal bytes; ``Ring.from_bytes`` (of any
        ringlock, in any language) rebuilds it.
        """
    @classmethod
    def from_bytes(
        cls,
        data: bytes | bytearray | memoryview,
        max_points: SupportsIndex | None = None,
        max_nodes: SupportsIndex | None = None,
    ) -> Ring:
        """A ring from ``to_bytes`` output (bytes, bytearray or memoryview),
        within ``max_points`` and ``max_nodes`` (None: the defaults, 2**24
        points and 2**20 nodes; at most 2**26 each), which the ring keeps.
        Raises CorruptError (a ValueError) for truncated or damaged data or a
        ring past the limits (refused before anything is built),
        MemoryError if memory runs out.
        """
    def __reduce__(
        self,
    ) -> tuple[Callable[..., Ring], tuple[bytes] | tuple[bytes, int, int]]:
        """Pickles as ``Ring.from_bytes(data)``, with the ring's limits when they
        are not the defaults (so a pickle of a ring within the defaults is
        loaded within them).
        """
    def copy(self) -> Ring:
        """A copy of the ring (changing one does not change the other)."""
    def __copy__(self) -> Ring: ...
    def __deepcopy__(self, _memo: Any) -> Ring: ...
    def __eq__(self, other: object, /) -> bool: ...
    __hash__: ClassVar[None]  # type: ignore[assignment]

@final
class SharedRing:
    """A ring published into a file by ``SharedRing.publish(ring, path)`` and
    opened by ``SharedRing(path)``: every process on the host maps the same
    pages read-only and looks keys up in place, with the answers of the
    ``Ring`` that was published (``get``, ``[]``, ``get_n``, ``get_many``,
    ``get_bounded``).

    ``path`` without a ``/`` is a name in the default directory
    (``/dev/shm/ringlock-<uid>/``, private to the user); any other path is
    the ring file itself. Each lookup first checks (one atomic load) whether
    a newer generation was published and, if so, takes it up: a lookup that
    starts after ``publish`` returned sees that generation or a newer one;
    ``generation`` never goes backwards. A damaged file raises CorruptError
    at open or at the switch (the handle keeps its generation).

    Thread safety: one SharedRing may be shared by threads (calls take turns
    under the GIL); separate SharedRings — in one process or many — map the
    same pages.
    """

    def __new__(cls, path: str | os.PathLike[str]) -> SharedRing: ...
    @staticmethod
    def publish(ring: Ring, path: str | os.PathLike[str]) -> int:
        """Publishes ``ring`` at ``path`` as a new generation and returns its
        number (1 for the first publish to a path, then one more each time,
        whichever process publishes). Writes ``path``, ``path.gen`` and the
        publishers' lock ``path.publish.shm``, all 0600; publishers of one
        path take turns (this call waits, without the GIL). Readers never see
        a partly written generation. Raises InvalidArgumentError (a bad name,
        a symlink), CorruptError (``path.gen`` is not a generation file),
        IoError.
        """
    def get(self, key: _Key, /) -> str:
        """The name of the node that owns ``key`` (str or bytes-like) in the newest
        generation published. Raises EmptyRingError (a LookupError) if the ring
        has no nodes, CorruptError if a new generation is damaged. ``shared[key]``
        is the same.
        """
    def __getitem__(self, key: _Key, /) -> str:
        ...
    def get_n(self, key: _Key, n: SupportsIndex) -> list[str]:
        """The names of up to ``n`` distinct nodes for ``key``, owner first:
        ``Ring.get_n``'s answer. Raises EmptyRingError, InvalidArgumentError
        if ``n < 0``.
        """
    def get_many(self, keys: Iterable[_Key]) -> list[str]:
        """The owners of many keys, in order, all from one generation:
        ``[shared.get(k) for k in keys]``. Raises EmptyRingError, TypeError
        for a key that is not str or bytes-like.
        """
    def get_bounded(
        self, key: _Key, loads: Mapping[str, SupportsIndex], factor: float = 1.25
    ) -> str:
        """The node that takes ``key`` under bounded loads: ``Ring.get_bounded``'s
        answer, with ``loads`` a mapping node name -> load (missing nodes
        count 0). Raises EmptyRingError, NodeNotFoundError for a node not in
        the generation answering, InvalidArgumentError for a negative load or
        a factor not above 1.
        """
    @property
    def generation(self) -> int:
        """The generation this handle answers from (a newer one taken up first)."""
    @property
    def algorithm(self) -> _Algorithm:
        """The algorithm of the generation held: ``"ketama"``, ``"xxh3"``,
        ``"jump"``, ``"maglev"`` or a profile's name (``"nginx"``, ...).
        """
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
    """Counts the work in flight on each node and places keys under bounded
    loads: ``acquire(key)`` takes a slot on the first node in the key's ring
    order whose load is below ``ceil(factor * (total + 1) / len(ring))``
    (as ``ring.get_bounded`` with the tracker's loads), ``release(node)``
    gives it back; ``with tracker.slot(key) as node:`` does both.

    The tracker works on a copy of ``ring`` taken now: later changes to the
    ring do not reach it (make a new tracker after a change of membership).
    ``factor`` is a finite number above 1. Raises EmptyRingError for a ring
    without nodes, InvalidArgumentError for a bad factor.

    Thread-safe: any number of threads may acquire and release at once; an
    acquire chooses and counts atomically, so no node takes a slot above the
    cap.
    """

    def __new__(cls, ring: Ring, factor: float = 1.25) -> LoadTracker: ...
    def acquire(self, key: _Key) -> str:
        """Takes a slot for ``key`` (str or bytes-like) on the node chosen by
        bounded-load placement and returns that node's name. Pair it with
        ``release(node)``, or use ``slot(key)``.
        """
    def release(self, node: str) -> None:
        """Gives back one slot of ``node``. Raises NodeNotFoundError (a
        KeyError) for a node not in the ring, InvalidArgumentError (a
        ValueError) if the node holds no slot.
        """
    def slot(self, key: _Key) -> LoadSlot:
        """A context manager holding a slot for ``key``: ``with
        tracker.slot(key) as node:`` acquires on entry, gives the node, and
        releases on exit (exceptions included).
        """
    def load(self, node: str) -> int:
        """The slots held on ``node`` now. Raises NodeNotFoundError."""
    @property
    def loads(self) -> dict[str, int]:
        """The slots held on every node: a dict name -> load, in name order
        (a snapshot).
        """
    @property
    def total(self) -> int:
        """The slots held in all."""
    @property
    def factor(self) -> float:
        """The balance factor."""
    @property
    def cap(self) -> int:
        """The cap a new slot must stay under now:
        ``ceil(factor * (total + 1) / len(ring))``, exact.
        """

@final
class LoadSlot:
    """A slot of a LoadTracker held by a ``with`` block (``tracker.slot(key)``):
    acquired on entry (``as`` gives the node), released on exit. One slot at
    a time: entering it again while held is an error.
    """

    def __enter__(self) -> str:
        ...
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
    """The bucket in ``range(buckets)`` of the 64-bit ``key``, by Lamping and
    Veach's jump consistent hash (the published algorithm, identical to
    Guava's and to the PyPI package jump-consistent-hash). Growing ``buckets``
    by one moves a key only to the new bucket.

    ``key`` must be in ``[0, 2**64)`` and ``buckets`` in ``[1, 2**31)``;
    anything else raises InvalidArgumentError (a ValueError).
    """

_LockBackend: TypeAlias = Literal["shm", "file", "etcd"]
_Mode: TypeAlias = Literal["exclusive", "shared"]
_Timeout: TypeAlias = SupportsFloat | None

@final
class Hold:
    """What an acquisition gives: the fencing ``token``, whether the
    ``previous_owner_died`` without releasing, and the ``mode`` held.

    ``token``: for an exclusive hold, a number strictly greater than every
    token handed out before for this lock, in any process, across crashes;
    send it with every write to the protected resource and have the resource
    refuse tokens lower than the highest it has seen. A shared hold carries
    the token of the last exclusive one (0 if none).

    ``previous_owner_died``: a holder died (``kill -9`` included) without
    releasing since the last exclusive acquisition; reported once, to the
    next exclusive acquirer. What it protected may be half written. With
    etcd: the previous exclusive holder's lease expired instead of it
    releasing; a shared hold says it of the last exclusive holder (every read
    until the next write does: what it reads may be half written), and a
    reader that dies is reported to nobody.

    ``lost``: an etcd hold whose lease expired (the process was paused or
    cut off from etcd past its TTL) is lost: another process may hold the
    lock now, and ``release()`` raises LockLostError. Local holds are never
    lost.
    """

    @property
    def token(self) -> int:
        """The fencing token of this acquisition (see the class docs)."""
    @property
    def previous_owner_died(self) -> bool:
        """Whether a holder died without releasing before this acquisition."""
    @property
    def lost(self) -> bool:
        """Whether the hold is known lost (etcd: its lease expired, or its key
        is gone; asks etcd while the hold is held, and says False when etcd
        does not answer, until the lease's own deadline passes). Always False
        for the local backends.
        """
    @property
    def mode(self) -> _Mode:
        """``"exclusive"`` or ``"shared"``."""
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class Lock:
    """An exclusive lock named ``name`` that any process of the host (or, with
    ``backend="etcd"``, of any host) can take, that survives a holder that
    dies, and that hands out fencing tokens.

    ``name`` is 1 to 200 characters from ``A-Z a-z 0-9 . _ -``. ``backend``
    is ``"shm"`` (a mapped page, the fast default) or ``"file"`` (flock,
    freed by the kernel; shareable between containers). ``dir`` is the lock
    directory (default ``/dev/shm/ringlock-<uid>/``; no symlink in its path,
    none of it writable by other users unless sticky); ``mode`` the permission
    bits of a lock file this call creates (must include 0o600; a mode shared
    with the group or others also accepts another user's lock file). ``timeout``
    (seconds, None for ever) is what ``with lock:`` and ``async with lock:``
    wait before they raise LockTimeout.

    ``backend="etcd"`` keeps the lock in etcd, for processes on any host:
    ``endpoints`` is a list of ``"http://host:port"`` (or one str, commas
    between them; required), ``ttl`` the seconds (at least 2, default 10)
    after which the holds of a process that stopped renewing its lease end,
    ``namespace`` the prefix of the keys (default ``"ringlock"``),
    ``request_timeout`` the bound (seconds, default 5) of each request that
    has no deadline of its own. The Lock objects of one process with the same
    endpoints and options share one client (one lease, one keep-alive
    thread). ``dir`` and ``mode`` are refused with etcd, and the etcd
    arguments with the local backends (TypeError). The token is the holder
    key's etcd revision; ``hold.lost`` says whether the lease expired under a
    hold; UnavailableError (a ConnectionError) when etcd does not answer in
    time. A wait interrupted by Ctrl-C (or an asyncio cancel) takes its key
    out of etcd's queue before it raises; docs/distributed.md has the recipe.

    It behaves as a ``threading.Lock``: ``acquire(timeout=None,
    blocking=True) -> bool``, ``release()`` from any thread of the process,
    ``locked()``. Threads sharing one Lock take turns; a thread that acquires
    a lock it holds through the same object gets DeadlockError (a hang with
    threading). Separate Lock objects on one name exclude each other as
    processes do. ``with lock as hold:`` gives a :class:`Hold` with the
    fencing ``token`` and ``previous_owner_died``.

    asyncio: ``async with lock as hold:`` and ``await lock.acquire_async()``
    never block the event loop (a held lock is waited for in the object's
    one waiting thread, its tasks first come first served); such a hold
    belongs to the task, and any thread may release it.

    Waiting releases the GIL. In the main thread a wait is interrupted by
    Ctrl-C (within 0.2 s), and keeps its place until then. The lock is
    released when the object is closed or garbage-collected, and by the
    kernel or the next waiter when the process dies. docs/locks.md has the
    full semantics.
    """

    def __new__(
        cls,
        name: str,
        *,
        backend: _LockBackend = "shm",
        dir: str | os.PathLike[str] | None = None,
        mode: SupportsIndex = 0o600,
        timeout: _Timeout = None,
        endpoints: str | Sequence[str] | None = None,
        ttl: SupportsFloat | None = 10,
        namespace: str | None = "ringlock",
        request_timeout: SupportsFloat | None = 5,
    ) -> Lock: ...
    def acquire(self, timeout: _Timeout = None, blocking: bool = True) -> bool:
        """Acquires the lock, as ``threading.Lock.acquire``: waits for ever
        (``timeout`` None or -1), at most ``timeout`` seconds, or not at all
        (``blocking=False``, or ``timeout=0``). Returns True once acquired,
        False if the lock stayed held elsewhere. Raises DeadlockError if the
        calling thread already holds it through this object.
        """
    def release(self) -> None:
        """Releases the lock; any thread may (as with ``threading.Lock``).
        Raises NotHeldError (a RuntimeError) if this object does not hold it.
        """
    def locked(self) -> bool:
        """Whether the lock is held right now, by this object or by anyone else
        (a holder whose process died does not count). A snapshot, as with
        ``threading.Lock.locked``.
        """
    @property
    def held(self) -> bool:
        """Whether this object holds the lock (in this process)."""
    def status(self) -> LockStatus:
        """Who holds the lock, read without taking it: a LockStatus with
        the last fencing token and a Holder per recorded holder, each
        with its ``mode`` (etcd: an EtcdLockStatus, whose EtcdHolders
        also have ``host`` and ``lease_left``, with the ``waiters`` in
        the order they will hold).
        """
    @property
    def hold(self) -> Hold | None:
        """The Hold of the last acquisition through this object (None before
        the first).
        """
    @property
    def name(self) -> str:
        """The lock's name."""
    @property
    def path(self) -> str:
        """The file that holds the lock's state (etcd: the prefix of its
        keys, ``<namespace>/<name>/``).
        """
    @property
    def backend(self) -> _LockBackend:
        """``"shm"``, ``"file"`` or ``"etcd"``."""
    @property
    def timeout(self) -> float | None:
        """What ``with`` waits before LockTimeout (an RWLock: ``with
        rw.read():`` and ``with rw.write():``), in seconds (None: for
        ever).
        """
    def close(self) -> None:
        """Releases every hold of this object (all threads and tasks) and
        closes the lock file. Any later use raises
        InvalidArgumentError. Idempotent.
        """
    def __enter__(self) -> Hold:
        """Acquires with the lock's own ``timeout``; raises LockTimeout (also a
        TimeoutError) when it runs out. Returns the Hold.
        """
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
        /,
    ) -> bool: ...
    async def acquire_async(self, timeout: _Timeout = None) -> bool:
        """``await lock.acquire_async(timeout=None) -> bool``: ``acquire`` for
        asyncio, without blocking the event loop. The hold belongs to the
        awaiting task (DeadlockError if it holds the lock already); if the
        task is cancelled, nothing stays held.
        """
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
    """A read/write lock named ``name`` between the processes of the host (or,
    with ``backend="etcd"``, of any host): any number of readers at once, or
    one writer. The arguments are those of :class:`Lock`.

    ``with rw.read() as hold:`` holds it shared, ``with rw.write() as hold:``
    exclusive; both wait the lock's ``timeout`` and raise LockTimeout when it
    runs out (``async with`` works too, without blocking the event loop).
    ``acquire_read``/``acquire_write(timeout=None, blocking=True) -> bool``
    and ``release()`` are the same without a ``with``.

    Holds belong to the calling thread: the threads of one process can read
    at once (each hold its own), a thread releases only what
    it acquired (NotHeldError otherwise), and a thread that acquires again
    while it holds gets DeadlockError (no upgrade, no reentrancy). A thread
    that exits while holding leaves the lock held until ``close()``, garbage
    collection or the end of the process. A waiting writer keeps new
    readers out, so readers cannot starve it.

    ``backend="etcd"`` (``endpoints``, ``ttl``, ``namespace`` and
    ``request_timeout`` as for :class:`Lock`): a reader that comes after a
    waiting writer waits for it too (writer preference by queue order), a
    read's ``token`` is that of the last write (0 if none), and ``hold.lost``
    says whether the lease expired under the hold (``release()`` then raises
    LockLostError). An RWLock and a Lock of the same name are one lock: a
    Lock acquisition is a write. ``status()`` is an EtcdLockStatus whose
    holders (one writer, or the readers) and waiters (in the order they will
    hold) say their ``mode``.
    """

    def __new__(
        cls,
        name: str,
        *,
        backend: _LockBackend = "shm",
        dir: str | os.PathLike[str] | None = None,
        mode: SupportsIndex = 0o600,
        timeout: _Timeout = None,
        endpoints: str | Sequence[str] | None = None,
        ttl: SupportsFloat | None = 10,
        namespace: str | None = "ringlock",
        request_timeout: SupportsFloat | None = 5,
    ) -> RWLock: ...
    def read(self) -> RWLockGuard:
        """A context manager that holds the lock shared: ``with rw.read() as
        hold:`` (or ``async with``).
        """
    def write(self) -> RWLockGuard:
        """A context manager that holds the lock exclusive: ``with rw.write() as
        hold:`` (or ``async with``).
        """
    def acquire_read(self, timeout: _Timeout = None, blocking: bool = True) -> bool:
        """Acquires shared for the calling thread, as ``Lock.acquire``: True
        once held, False if ``timeout`` ran out (or, ``blocking=False``, the
        lock is held exclusive elsewhere).
        """
    def acquire_write(self, timeout: _Timeout = None, blocking: bool = True) -> bool:
        """Acquires exclusive for the calling thread, as ``Lock.acquire``."""
    def release(self) -> None:
        """Releases what the calling thread holds (read or write). Raises
        NotHeldError (a RuntimeError) if it holds nothing.
        """
    @property
    def held(self) -> bool:
        """Whether the calling thread holds the lock (read or write)."""
    def locked(self) -> bool:
        """Whether anyone holds the lock right now, in any mode and process (a
        holder whose process died does not count). A snapshot.
        """
    def status(self) -> LockStatus:
        """Who holds the lock, read without taking it: a LockStatus with
        the last fencing token and a Holder per recorded holder, each
        with its ``mode`` (etcd: an EtcdLockStatus, whose EtcdHolders
        also have ``host`` and ``lease_left``, with the ``waiters`` in
        the order they will hold).
        """
    @property
    def name(self) -> str:
        """The lock's name."""
    @property
    def path(self) -> str:
        """The file that holds the lock's state (etcd: the prefix of its
        keys, ``<namespace>/<name>/``).
        """
    @property
    def backend(self) -> _LockBackend:
        """``"shm"``, ``"file"`` or ``"etcd"``."""
    @property
    def timeout(self) -> float | None:
        """What ``with`` waits before LockTimeout (an RWLock: ``with
        rw.read():`` and ``with rw.write():``), in seconds (None: for
        ever).
        """
    def close(self) -> None:
        """Releases every hold of this object (all threads and tasks) and
        closes the lock file. Any later use raises
        InvalidArgumentError. Idempotent.
        """
    def _ticket(self, shared: bool) -> _Ticket: ...
    def _release_task(self) -> None: ...

@final
class RWLockGuard:
    """What ``RWLock.read()`` and ``RWLock.write()`` return: a context manager
    (``with`` or ``async with``) that acquires on entry, with the lock's
    ``timeout``, gives the :class:`Hold`, and releases on exit.
    """

    @property
    def mode(self) -> _Mode:
        """``"shared"`` (``read()``) or ``"exclusive"`` (``write()``)."""
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
    @property
    def local(self) -> bool: ...
    def try_acquire(self) -> Hold | None: ...
    def wait(self, timeout: float | None) -> Hold | None: ...
    def cancel(self) -> None: ...
    def release(self) -> None: ...
    def timeout_error(self, timeout: float | None) -> LockTimeout: ...

@final
class Member:
    """A node registered in a membership ring in etcd, under a lease of its
    own (``ttl`` seconds, at least 2) kept alive by a background thread.

    ``endpoints`` is a list of ``"http://host:port"`` (or one str, commas
    between them). ``ring`` is 1 to 200 characters from ``A-Z a-z 0-9 . _ -``;
    ``node`` the ring's node name (non-empty, no NUL, at most 1024 bytes);
    ``weight`` an integer >= 1; ``addr`` free text for the ring's users.
    ``timeout`` (seconds) bounds each request to etcd.

    The member stays in the ring while this process keeps its lease alive:
    ``leave()`` (or leaving ``with``) deletes its key and revokes the lease;
    a process that dies drops out when the lease expires. A member whose
    lease was lost while it lives (stopped, cut off past its TTL) joins again
    by itself once etcd answers (``rejoins`` counts it). Errors:
    NodeExistsError (a live member has this node id), UnavailableError (a
    ConnectionError) for etcd out of reach. docs/distributed.md, "Membership".
    """

    def __new__(
        cls,
        endpoints: str | Iterable[str],
        ring: str,
        node: str,
        weight: SupportsIndex | None = None,
        addr: str = "",
        *,
        ttl: float = 10.0,
        namespace: str = "ringlock",
        timeout: float = 5.0,
    ) -> Member: ...
    def check(self) -> None:
        """Raises unless the member is registered now: ringlock.Error (its
        lease's deadline passed or its key is gone; it rejoins by itself
        once etcd answers), InvalidArgumentError after ``leave()``.
        """
    def leave(self) -> None:
        """Leaves the ring: deletes the key (only this member's) and revokes the
        lease. Raises ringlock.Error if the key was gone already. A second
        ``leave()`` does nothing.
        """
    @property
    def ring(self) -> str:
        """The ring's name."""
    @property
    def node(self) -> str:
        """The node id."""
    @property
    def revision(self) -> int:
        """The etcd revision at which the member (last) joined."""
    @property
    def rejoins(self) -> int:
        """How many times the member joined again by itself after losing its
        lease.
        """
    def __enter__(self) -> Member: ...
    def __exit__(self, *_exc: object) -> bool: ...

@final
class RingWatcher:
    """Follows a membership ring in etcd: lists its members, builds the ring
    (members sorted by node id, so every watcher builds the same ring from the
    same members), then follows etcd's watch and swaps in each new ring,
    stamped with its etcd revision (the placement version).

    ``algorithm``, ``vnodes`` and ``table_size`` as for :class:`Ring`;
    ``coalesce`` (seconds, default 0.01): events closer together build one
    ring. ``ring`` is a copy of the current ring (keep it for a run of
    lookups); ``revision`` its version; ``wait(revision, timeout)`` waits for
    a newer one; ``next_change(timeout)`` returns the next
    :class:`RingChange` with its migration plan (the last 256 are kept).
    A compacted watch or a broken connection never loses an event: the
    watcher lists the members again. ``close()`` (or leaving ``with``) stops
    it. docs/distributed.md, "Membership".
    """

    def __new__(
        cls,
        endpoints: str | Iterable[str],
        ring: str,
        algorithm: _Algorithm = "xxh3",
        *,
        vnodes: SupportsIndex | None = None,
        table_size: SupportsIndex | None = None,
        namespace: str = "ringlock",
        timeout: float = 5.0,
        coalesce: float = 0.01,
    ) -> RingWatcher: ...
    @property
    def ring(self) -> Ring:
        """A copy of the current ring (a :class:`Ring`)."""
    @property
    def revision(self) -> int:
        """The current placement version: the etcd revision of its members."""
    @property
    def members(self) -> list[tuple[str, int, str]]:
        """The current members: a list of ``(node, weight, addr)``, by node id."""
    def wait(self, revision: int, timeout: float | None = None) -> bool:
        """Waits until the revision is above ``revision``; False when
        ``timeout`` (seconds, None: no limit) ran out first.
        """
    def next_change(self, timeout: float | None = None) -> RingChange | None:
        """The next change (a :class:`RingChange`), waiting up to ``timeout``
        seconds (None: no limit); None when none came.
        """
    def stats(self) -> dict[str, Any]:
        """What the watcher has done: a dict of ``lists``, ``changes``,
        ``compactions``, ``failures``, ``skipped``, ``dropped`` (changes
        ``next_change`` lost to the queue's bound) and ``last_error``.
        """
    def close(self) -> None:
        """Stops the watcher (within 0.1 s). A second ``close()`` does nothing."""
    def __enter__(self) -> RingWatcher: ...
    def __exit__(self, *_exc: object) -> bool: ...

@final
class RingChange:
    """One change of a watched ring: ``revision`` (the new placement version)
    and ``before_revision``, ``ring`` and ``before_ring`` (copies, as
    :class:`Ring`), ``plan`` (the migration plan, a :class:`Diff` of
    ``before_ring`` against ``ring``; None for jump) and ``relisted`` (found
    by listing the members again after a compaction).
    """

    @property
    def revision(self) -> int:
        """The new placement version (etcd revision)."""
    @property
    def before_revision(self) -> int:
        """The version before the change."""
    @property
    def ring(self) -> Ring:
        """The ring after the change (a copy)."""
    @property
    def before_ring(self) -> Ring:
        """The ring before the change (a copy)."""
    @property
    def plan(self) -> Diff | None:
        """The migration plan (a :class:`Diff`), None for jump."""
    @property
    def relisted(self) -> bool:
        """Whether the change was found by listing the members again."""
