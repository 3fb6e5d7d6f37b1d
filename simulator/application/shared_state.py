"""State every worker process and replica shares, read at most once per request.

The simulator clock and the versions the answer caches are keyed by live in the database
(:class:`SharedStateStore`), so N processes are one simulator: a clock moved through one
worker is the clock of all, and an order completed on one replica invalidates the cached
availability of every other. A request reads the shared state once, on first use, and keeps
that snapshot until it ends (:meth:`SharedState.request_scope`); outside a request (the
background threads) every use reads it afresh.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timedelta

from simulator.application.ports import SharedStateStore
from simulator.domain.clock import ClockState, wall_time
from simulator.storage.shared_state import SharedSnapshot

# The snapshots of the running request, per SharedState (tests run several simulators in one
# process); None outside a request.
_REQUEST: ContextVar[dict[int, SharedSnapshot] | None] = ContextVar("fibresim_shared_state", default=None)


class SharedState:
    """The shared state of one simulator, as the running request sees it."""

    def __init__(self, store: SharedStateStore) -> None:
        self.store = store

    def snapshot(self) -> SharedSnapshot:
        """The shared state: the request's snapshot (read on first use), or a fresh read."""
        scope = _REQUEST.get()
        if scope is None:
            return self.store.snapshot()
        seen = scope.get(id(self))
        if seen is None:
            seen = scope[id(self)] = self.store.snapshot()
        return seen

    def version(self, name: str) -> int:
        """The version ``name`` (``inventory``, ``capacity``, ``faults``)."""
        return self.snapshot().versions.get(name, 0)

    def forget(self) -> None:
        """Drop the request's snapshot (after a write that moved a version)."""
        scope = _REQUEST.get()
        if scope is not None:
            scope.pop(id(self), None)

    @staticmethod
    @contextmanager
    def request_scope() -> Iterator[None]:
        """Read the shared state at most once until the block ends."""
        token = _REQUEST.set({})
        try:
            yield
        finally:
            _REQUEST.reset(token)

    @staticmethod
    def begin_request() -> None:
        """Start a request's scope (for frameworks whose hooks cannot wrap the request)."""
        _REQUEST.set({})

    @staticmethod
    def end_request() -> None:
        """End the request's scope."""
        _REQUEST.set(None)


class SharedClock:
    """The simulator :class:`~simulator.domain.clock.Clock`, kept in the shared state.

    Reading it costs nothing beyond the request's one read of the shared state; moving it
    is a short transaction under a lock, from whichever worker or replica is asked.
    """

    def __init__(self, shared: SharedState, joined: ClockState) -> None:
        self._shared = shared
        self.kind = joined.kind
        self.horizon = joined.horizon

    @property
    def state(self) -> ClockState:
        """The clock as stored."""
        clock = self._shared.snapshot().clock
        if clock is None:
            raise LookupError("the shared state has no clock")
        return clock

    def now(self) -> datetime:
        """The current instant, in UTC."""
        return self.state.now(wall_time())

    def _move(self, state: ClockState) -> datetime:
        self._shared.forget()
        return state.now(wall_time())

    def advance(self, by: timedelta) -> datetime:
        """Move forward by ``by``; returns the new time."""
        return self._move(self._shared.store.move_clock(lambda state: state.advanced(by, wall_time())))

    def set(self, to: datetime) -> datetime:
        """Jump forward to ``to``; returns the new time."""
        return self._move(self._shared.store.move_clock(lambda state: state.set_to(to, wall_time())))

    def reset(self) -> datetime:
        """Go back to where the clock started; returns the new time."""
        return self._move(self._shared.store.move_clock(lambda state: state.restarted(wall_time())))
