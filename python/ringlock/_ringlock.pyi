"""Type stubs of the native module ringlock._ringlock (private: import ringlock)."""

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Callable, ClassVar, Literal, SupportsIndex, TypeAlias, final

__all__ = ["Ring", "jump_hash", "__version__"]

__version__: str

_Key: TypeAlias = str | bytes | bytearray | memoryview
_Algorithm: TypeAlias = Literal["ketama", "xxh3", "jump"]
_Nodes: TypeAlias = Iterable[str | tuple[str, SupportsIndex]] | Mapping[str, SupportsIndex]

@final
class Ring:
    """A consistent-hashing ring: which node owns a key, which ``n`` nodes
    hold its replicas.

    ``nodes`` is an iterable of names or ``(name, weight)`` pairs, or a dict
    name -> weight. Names are non-empty str without NUL; weights are integers
    from 1 to 2**32-1. ``algorithm`` is ``"xxh3"`` (the fast default),
    ``"ketama"`` (libketama-compatible) or ``"jump"``. ``vnodes`` 0 means the
    default (160 for ketama and xxh3; jump takes none).

    Keys are str (placed by their UTF-8 bytes) or bytes-like:
    ``ring["k"] == ring.get(b"k")``.

    Thread safety: lookups may run from any number of threads at once; a
    change (add, remove, set_weight) is atomic: every lookup sees the ring
    before or after it. Errors leave the ring unchanged.
    """

    def __new__(
        cls,
        nodes: _Nodes = (),
        *,
        algorithm: _Algorithm = "xxh3",
        vnodes: SupportsIndex = 0,
    ) -> Ring: ...
    def add(self, name: str, weight: SupportsIndex = 1) -> None:
        """Adds node ``name`` with ``weight``; NodeExistsError if taken."""
    def remove(self, name: str) -> None:
        """Removes node ``name``; NodeNotFoundError if absent."""
    def set_weight(self, name: str, weight: SupportsIndex) -> None:
        """Changes the weight of node ``name``; NodeNotFoundError if absent."""
    def get(self, key: _Key) -> str:
        """The node that owns ``key``; EmptyRingError on an empty ring."""
    def __getitem__(self, key: _Key, /) -> str:
        """The node that owns ``key`` (same as ``get``)."""
    def get_n(self, key: _Key, n: SupportsIndex) -> list[str]:
        """Up to ``n`` distinct nodes for ``key``, owner first."""
    def get_many(self, keys: Iterable[_Key]) -> list[str]:
        """The owners of many keys, in order."""
    @property
    def nodes(self) -> list[tuple[str, int]]:
        """The nodes as ``(name, weight)`` pairs, in name order."""
    @property
    def weights(self) -> dict[str, int]:
        """The nodes as a dict name -> weight, in name order."""
    @property
    def algorithm(self) -> _Algorithm:
        """The algorithm: ``"ketama"``, ``"xxh3"`` or ``"jump"``."""
    @property
    def vnodes(self) -> int:
        """Virtual nodes in use (the default resolved; 0 for jump)."""
    def __len__(self) -> int: ...
    def __contains__(self, name: object, /) -> bool: ...
    def __iter__(self) -> Iterator[str]: ...
    def to_bytes(self) -> bytes:
        """The ring as bytes; ``Ring.from_bytes`` rebuilds it."""
    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview) -> Ring:
        """A ring from ``to_bytes`` output; CorruptError if damaged."""
    def __reduce__(self) -> tuple[Callable[[bytes], Ring], tuple[bytes]]: ...
    def copy(self) -> Ring:
        """A copy of the ring."""
    def __copy__(self) -> Ring: ...
    def __deepcopy__(self, _memo: Any) -> Ring: ...
    def __eq__(self, other: object, /) -> bool: ...
    __hash__: ClassVar[None]  # type: ignore[assignment]

def jump_hash(key: SupportsIndex, buckets: SupportsIndex) -> int:
    """The bucket in ``range(buckets)`` of the 64-bit ``key`` (jump consistent
    hash); InvalidArgumentError unless ``0 <= key < 2**64`` and
    ``1 <= buckets < 2**31``."""
