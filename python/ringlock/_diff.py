"""Migration plans: the result of :meth:`ringlock.Ring.diff`.

A plan lists the ranges of key positions (see :meth:`ringlock.Ring.position`)
whose owner changes between two rings. It is exact: a key moves if and only
if its position lies in one of the ranges, and then from the range's ``old``
owner to its ``new`` one. Positions are a key's 32-bit hash (ketama and the
client profiles: libmemcached, nginx, twemproxy), its 64-bit hash (xxh3) or
its table entry (maglev); jump has none.

Ranges are half-open here, ``[start, end)`` as Python's are: a deliberate
difference from the Rust, C and C++ faces, which give the same range as
``first`` (= ``start``) and an inclusive ``last`` (= ``end - 1``), because
``2**64`` does not fit in their 64-bit integers (docs/placement.md).
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["Diff", "Move"]


class Move(NamedTuple):
    """A range of key positions ``[start, end)`` whose owner changes.

    ``start`` is the other faces' ``first``; ``end`` is exclusive, their
    ``last + 1``, and may be ``2**64`` (a range reaching the top of the xxh3
    space). A range never
    wraps: one that would pass the top is reported as two.
    """

    start: int
    """The first position of the range."""
    end: int
    """One past the last position of the range."""
    old: str | None
    """The owner in the ``before`` ring; None if that ring is empty."""
    new: str | None
    """The owner in the ``after`` ring; None if that ring is empty."""


class Diff:
    """The migration plan from one ring to another (``before.diff(after)``).

    ``moves``: the ranges whose owner changes, sorted by ``start``, disjoint;
    adjacent ranges with the same ``(old, new)`` are merged. ``space``: the
    size of the position space (2**32 for ketama and the client profiles,
    2**64 for xxh3, the table size for maglev). ``moved``: how many
    positions change owner (the sum of the ranges' lengths).
    ``fraction``: ``moved / space``, the expected share of keys that move.
    """

    __slots__ = ("_fraction", "_moved", "_moves", "_space")

    def __init__(self, moves: list[Move], fraction: float, space: int, moved: int) -> None:
        self._moves = moves
        self._fraction = fraction
        self._space = space
        self._moved = moved

    @property
    def moves(self) -> list[Move]:
        """The ranges whose owner changes, sorted by ``start``."""
        return self._moves

    @property
    def fraction(self) -> float:
        """The share of the position space that changes owner, 0 to 1."""
        return self._fraction

    @property
    def space(self) -> int:
        """The size of the position space.

        2**32 (ketama and the client profiles), 2**64 (xxh3) or the table
        size (maglev).
        """
        return self._space

    @property
    def moved(self) -> int:
        """The number of positions that change owner."""
        return self._moved

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Diff):
            return NotImplemented
        return (self._moves, self._space, self._moved) == (other._moves, other._space, other._moved)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"<ringlock.Diff: {len(self._moves)} ranges, "
            f"fraction={self._fraction:.6f} ({self._moved} of {self._space} positions)>"
        )


Move.__module__ = "ringlock"
Diff.__module__ = "ringlock"
