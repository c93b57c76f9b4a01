"""Support of the lock classes: the named tuples of ``status()`` and the
asyncio side of :class:`ringlock.Lock` and :class:`ringlock.RWLock`.

An asyncio acquisition belongs to the task that awaits it. It first tries on
the event loop's thread, which never blocks (not for an etcd lock, where a try
is a request); if the lock is held elsewhere, it joins the lock object's
waiters: one daemon thread per object waits for them in turn, first come first
served, with the GIL released, and hands each hold to its loop. A timeout
runs on the loop (a waiter still queued behind another times out on time). If
the awaiting task is cancelled, the waiting thread gives up within 50 ms (or
skips it), and a hold that arrives for a cancelled or timed-out task is
released at once: such an acquisition never leaves the lock held.
"""

from __future__ import annotations

import asyncio
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal, NamedTuple

if TYPE_CHECKING:
    from typing_extensions import disjoint_base

    from ringlock._ringlock import Hold, Lock, RWLock, _Ticket
else:

    def disjoint_base(cls: type) -> type:  # PEP 800's marker, for type checkers
        return cls


__all__ = ["EtcdHolder", "EtcdLockStatus", "Holder", "LockStatus"]


class Holder(NamedTuple):
    """One holder of a lock, as ``status()`` sees it."""

    pid: int
    """Its process id."""
    mode: Literal["exclusive", "shared"]
    """The mode held."""
    since: float
    """When it acquired, in seconds since the epoch (as ``time.time()``)."""
    token: int
    """Its fencing token (a shared holder: that of the last exclusive one)."""
    liveness: Literal["alive", "stopped", "dead"]
    """Whether its process runs, is stopped (SIGSTOP, a debugger: it still
    holds) or is gone (the next acquirer takes over)."""


class LockStatus(NamedTuple):
    """Who holds a lock, read without taking it."""

    token: int
    """The last fencing token handed out (0 if never acquired exclusive)."""
    holders: list[Holder]
    """The recorded holders: one exclusive, or shared ones."""


@disjoint_base  # a tuple with a __dict__: no class can derive from it and another
class EtcdHolder(Holder):
    """One holder or waiter of an etcd lock, as ``status()`` sees it: a
    :class:`Holder` (``pid``, ``mode``, ``since`` — when it began to wait —,
    ``token`` — its key's create revision —, and ``liveness``: "alive" while
    its lease lives, "dead" once it expired) with two attributes besides the
    tuple's fields: ``host`` and ``lease_left``."""

    host: str
    """The host name of its process."""
    lease_left: float | None
    """The seconds its lease has left unless renewed (None: gone)."""

    def __new__(
        cls,
        pid: int,
        mode: Literal["exclusive", "shared"],
        since: float,
        token: int,
        liveness: Literal["alive", "stopped", "dead"],
        host: str,
        lease_left: float | None,
    ) -> EtcdHolder:
        self = super().__new__(cls, pid, mode, since, token, liveness)
        self.host = host
        self.lease_left = lease_left
        return self

    def __getnewargs__(self) -> tuple[object, ...]:
        return (*self, self.host, self.lease_left)

    def __repr__(self) -> str:
        return f"{super().__repr__()[:-1]}, host={self.host!r}, lease_left={self.lease_left!r})"


@disjoint_base
class EtcdLockStatus(LockStatus):
    """Who holds an etcd lock and who waits, read without taking it: a
    :class:`LockStatus` (``token`` of the last confirmed exclusive hold,
    ``holders``) with the ``waiters`` besides the tuple's fields. Each says
    its ``mode``: a Lock acquisition or an RWLock write is "exclusive", an
    RWLock read "shared"."""

    holders: list[EtcdHolder]  # type: ignore[assignment]
    """The holders: none, one exclusive, or the shared ones that hold
    together (readers with no writer before them)."""
    waiters: list[EtcdHolder]
    """The acquisitions waiting, in the order they will hold (a reader
    behind a waiting writer waits, even while readers hold)."""

    def __new__(cls, token: int, holders: list[EtcdHolder], waiters: list[EtcdHolder]) -> EtcdLockStatus:
        self = super().__new__(cls, token, holders)  # type: ignore[arg-type]
        self.waiters = waiters
        return self

    def __getnewargs__(self) -> tuple[object, ...]:
        return (*self, self.waiters)

    def __repr__(self) -> str:
        return f"{super().__repr__()[:-1]}, waiters={self.waiters!r})"


for _t in (Holder, LockStatus, EtcdHolder, EtcdLockStatus):
    _t.__module__ = "ringlock"
del _t


class _Waiters:
    """The asyncio waiters of one lock object, waited for in turn (first come,
    first served) by one daemon thread, which ends when none is left: any
    number of waiting tasks cost one thread per object, not one each. A
    waiter is called with None to wait, or with the exception that keeps it
    from waiting (no thread could be started), to hand that to its task."""

    def __init__(self, name: str) -> None:
        self._name = f"ringlock-async-wait {name}"
        self._mutex = threading.Lock()
        self._queue: deque[Callable[[BaseException | None], None]] = deque()
        self._serving = False

    def put(self, wait: Callable[[BaseException | None], None]) -> None:
        with self._mutex:
            self._queue.append(wait)
            if self._serving:
                return
            self._serving = True
        try:
            threading.Thread(target=self._serve, name=self._name, daemon=True).start()
        except BaseException as e:  # noqa: BLE001 - handed to every queued task
            with self._mutex:
                self._serving = False
                queued = list(self._queue)
                self._queue.clear()
            for w in queued:  # this one and any queued since (other loops)
                w(e)

    def _serve(self) -> None:
        while True:
            with self._mutex:
                if not self._queue:
                    self._serving = False
                    return
                wait = self._queue.popleft()
            wait(None)


_waiters: weakref.WeakKeyDictionary[object, _Waiters] = weakref.WeakKeyDictionary()
_waiters_mutex = threading.Lock()


def _waiters_of(lock: object) -> _Waiters:
    with _waiters_mutex:
        w = _waiters.get(lock)
        if w is None:
            w = _waiters[lock] = _Waiters(getattr(lock, "name", "?"))
        return w


async def _acquire(lock: object, ticket: _Ticket, timeout: float | None) -> Hold | None:
    """The Hold once acquired, None if ``timeout`` ran out."""
    if ticket.local:  # an etcd ticket would wait for etcd here: all in wait()
        hold = ticket.try_acquire()
        if hold is not None or timeout == 0:
            return hold
    loop = asyncio.get_running_loop()
    if timeout == 0:  # an etcd try: one request, beside the object's waiters
        tried = loop.run_in_executor(None, ticket.try_acquire)
        try:
            return await asyncio.shield(tried)
        except BaseException:
            ticket.cancel()
            # the try goes on: a hold it gets for nobody is given back
            tried.add_done_callback(lambda _: ticket.release())
            raise
    done: asyncio.Future[Hold | None] = loop.create_future()
    deadline = None if timeout is None else time.monotonic() + timeout
    finished = False  # set on the loop: the waiting thread skips the ticket

    def deliver(result: Hold | None | BaseException) -> None:  # on the loop
        if done.done():  # cancelled, or timed out while queued
            if result is not None and not isinstance(result, BaseException):
                ticket.release()
        elif isinstance(result, BaseException):
            done.set_exception(result)
        else:
            done.set_result(result)

    def wait(error: BaseException | None) -> None:  # in the waiting thread, in turn
        result: Hold | None | BaseException = error
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        if error is None and not finished:
            try:
                result = ticket.wait(left)
            except BaseException as e:  # noqa: BLE001 - handed to the awaiting task
                result = e
        try:
            loop.call_soon_threadsafe(deliver, result)
        except RuntimeError:  # the loop is closed: nobody will use the hold
            ticket.release()

    def expire() -> None:  # on the loop: the timeout of a waiter still queued
        nonlocal finished
        if not done.done():
            finished = True
            ticket.cancel()
            done.set_result(None)

    timer = None if timeout is None else loop.call_later(timeout, expire)
    _waiters_of(lock).put(wait)
    try:
        return await done
    except BaseException:
        finished = True
        ticket.cancel()
        # cancelled just after the hold arrived: give it back
        if done.done() and not done.cancelled() and done.exception() is None:
            ticket.release()
        raise
    finally:
        if timer is not None:
            timer.cancel()


async def _enter(lock: object, ticket: _Ticket, timeout: float | None) -> Hold:
    hold = await _acquire(lock, ticket, timeout)
    if hold is None:
        raise ticket.timeout_error(timeout)
    return hold


async def lock_acquire(lock: Lock, timeout: float | None) -> bool:
    """``Lock.acquire_async``."""
    return await _acquire(lock, lock._ticket(), timeout) is not None


async def lock_enter(lock: Lock, timeout: float | None) -> Hold:
    """``Lock.__aenter__``."""
    return await _enter(lock, lock._ticket(), timeout)


async def lock_exit(lock: Lock) -> None:
    """``Lock.__aexit__``."""
    lock.release()


async def rw_enter(rw: RWLock, shared: bool, timeout: float | None) -> Hold:
    """``RWLockGuard.__aenter__``."""
    return await _enter(rw, rw._ticket(shared), timeout)


async def rw_exit(rw: RWLock) -> None:
    """``RWLockGuard.__aexit__``."""
    rw._release_task()
