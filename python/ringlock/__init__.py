"""ringlock: consistent-hashing placement at native speed, and named locks
between the processes of one host.

>>> import ringlock
>>> ring = ringlock.Ring(["10.0.1.1:11211", ("10.0.1.2:11211", 2)], algorithm="ketama")
>>> ring.add("10.0.1.3:11211", weight=1)
>>> ring.get(b"user:42") == ring["user:42"]
True
>>> len(ring.get_n("user:42", 2))
2

The same ring gives the same answers from Rust, C, C++ and Python. Errors
derive from :class:`ringlock.Error`; see ``ringlock.Ring`` and
``ringlock.jump_hash``. Bounded loads: ``ring.get_bounded(key, loads)``,
or a ``ringlock.LoadTracker(ring)`` that counts them (``with
tracker.slot(key) as node: ...``).

Locks (exclusive, or read/write), robust against a holder that dies, with
fencing tokens; see ``ringlock.Lock`` and ``ringlock.RWLock``::

    with ringlock.Lock("jobs") as hold:        # backend="shm" | "file", dir=...
        hold.token, hold.previous_owner_died
    rw = ringlock.RWLock("config")
    with rw.read(): ...
    with rw.write(): ...

One ring for every process of a host: ``ringlock.SharedRing.publish(ring,
path)`` writes it into a file; ``ringlock.SharedRing(path)`` maps it and
looks keys up in place, taking up each new generation at its next lookup.

Rings that follow membership in etcd: ``ringlock.Member(endpoints, ring,
node, weight, addr)`` registers a node under a lease; ``ringlock.RingWatcher(
endpoints, ring, algorithm)`` follows the members into rings stamped with
their etcd revision, with a ``RingChange`` (and its migration plan) per change.
"""

from ringlock._errors import (
    CorruptError,
    DeadlockError,
    EmptyRingError,
    Error,
    InternalError,
    InvalidArgumentError,
    IoError,
    LockLostError,
    LockTimeout,
    NodeExistsError,
    NodeNotFoundError,
    NotHeldError,
    UnavailableError,
    WouldBlockError,
)
from ringlock._diff import Diff, Move
from ringlock._lock import EtcdHolder, EtcdLockStatus, Holder, LockStatus
from ringlock._ringlock import (
    Hold,
    LoadSlot,
    LoadTracker,
    Lock,
    Member,
    Ring,
    RingChange,
    RingWatcher,
    RWLock,
    RWLockGuard,
    SharedRing,
    __version__,
    jump_hash,
)

__all__ = [
    "CorruptError",
    "DeadlockError",
    "Diff",
    "EmptyRingError",
    "EtcdHolder",
    "EtcdLockStatus",
    "Error",
    "Hold",
    "Holder",
    "InternalError",
    "InvalidArgumentError",
    "IoError",
    "LoadSlot",
    "LoadTracker",
    "Lock",
    "LockLostError",
    "LockStatus",
    "LockTimeout",
    "Member",
    "Move",
    "NodeExistsError",
    "NodeNotFoundError",
    "NotHeldError",
    "RWLock",
    "RWLockGuard",
    "Ring",
    "RingChange",
    "RingWatcher",
    "SharedRing",
    "UnavailableError",
    "WouldBlockError",
    "__version__",
    "jump_hash",
]
