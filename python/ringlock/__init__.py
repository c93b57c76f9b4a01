"""ringlock: consistent-hashing placement at native speed.

>>> import ringlock
>>> ring = ringlock.Ring(["10.0.1.1:11211", ("10.0.1.2:11211", 2)], algorithm="ketama")
>>> ring.add("10.0.1.3:11211", weight=1)
>>> ring.get(b"user:42") == ring["user:42"]
True
>>> len(ring.get_n("user:42", 2))
2

The same ring gives the same answers from Rust, C, C++ and Python. Errors
derive from :class:`ringlock.Error`; see ``ringlock.Ring`` and
``ringlock.jump_hash``.
"""

from ringlock._errors import (
    CorruptError,
    DeadlockError,
    EmptyRingError,
    Error,
    InternalError,
    InvalidArgumentError,
    IoError,
    LockTimeout,
    NodeExistsError,
    NodeNotFoundError,
    WouldBlockError,
)
from ringlock._ringlock import Ring, __version__, jump_hash

__all__ = [
    "CorruptError",
    "DeadlockError",
    "EmptyRingError",
    "Error",
    "InternalError",
    "InvalidArgumentError",
    "IoError",
    "LockTimeout",
    "NodeExistsError",
    "NodeNotFoundError",
    "Ring",
    "WouldBlockError",
    "__version__",
    "jump_hash",
]
