"""What orders, service tests and service problems share as entities that play a script.

Each is answered 201 (:attr:`Reply.DONE`) or 202 (:attr:`Reply.LATER`), then plays its
KCI script step by step on the simulator clock. An order and a service problem also take
the tenant's follow-up requests (amendments, cancellations): each is a
:class:`ScriptedRequest` that keeps its own answer (a repeated request id gets it again)
and its own script position. While a request's script is queued it plays before the
entity's own script, which carries on once the request is answered.

:class:`ScriptedEntity` holds that bookkeeping once; the aggregates say what their own
script's next step is, when they are halted, and what playing a step does.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Generic, Protocol, TypeVar

from simulator.domain.errors import BusinessRuleViolation
from simulator.domain.order_commands import Scenario

__all__ = ["KciDue", "Reply", "ScriptedEntity", "ScriptedRequest", "due_play_time"]


class Reply(StrEnum):
    """How a create call is answered when the rules accept it."""

    DONE = "DONE"  # acknowledged or applied now, with a body
    LATER = "LATER"  # accepted; the answer follows by KCI

    @property
    def status(self) -> int:
        """The HTTP status of this answer (recorded in the history as the gateway saw it)."""
        return 201 if self is Reply.DONE else 202


class _Kind(Protocol):
    @property
    def value(self) -> str: ...


KindT = TypeVar("KindT", bound=_Kind)


@dataclass(frozen=True, slots=True, kw_only=True)
class ScriptedRequest(Generic[KindT]):
    """An amendment or cancellation an entity received: its answer, and where its script is."""

    kind: KindT
    request_id: int
    reference: str
    scenario: Scenario
    reply: Reply
    queued: bool = False  # its scripted answer has not been played out yet
    step: int = 0


EntityT = TypeVar("EntityT")
AnsweredT = TypeVar("AnsweredT")
ReasonT = TypeVar("ReasonT", bound=str)
StatusT = TypeVar("StatusT", bound=str)


@dataclass(frozen=True, slots=True)
class KciDue(Generic[EntityT, AnsweredT, ReasonT, StatusT]):
    """A step moved an order, test or problem: the KCI it makes must reach the gateway.

    The history records it too. ``AnsweredT`` is the request a KCI may answer (``None``
    for a test, which takes none).
    """

    entity: EntityT  # a copy, as the KCI carries it
    request: AnsweredT  # the amendment or cancellation the KCI answers (None: the entity's own script)
    at: datetime
    reason: ReasonT
    sequence_number: int
    before: StatusT
    problem_code: str | None = None
    text: str | None = None
    fault: str | None = None  # a delivery fault the step asks for


class _Step(Protocol):
    @property
    def delay(self) -> timedelta: ...


RequestT = TypeVar("RequestT", bound=ScriptedRequest[Any])
StepT = TypeVar("StepT", bound=_Step)
ScriptsT = TypeVar("ScriptsT")


def due_play_time(due: datetime | None, now: datetime, *, force: bool) -> datetime | None:
    """When a step due at ``due`` plays as the clock reads ``now`` (``None``: not yet).

    ``force`` plays it now, whatever its delay; otherwise it plays at the time it fell due.
    """
    if not force and (due is None or due > now):
        return None
    return now if force or due is None else due


class ScriptedEntity(Generic[RequestT, StepT, ScriptsT]):
    """The script bookkeeping of an entity that takes follow-up requests.

    Subclasses are dataclasses holding these fields; ``ScriptsT`` is where they find a
    scenario's script.
    """

    ENTITY: str  # what the entity is called in messages ("order", "problem")
    requests: tuple[RequestT, ...]
    next_step_due: datetime | None
    updated_at: datetime

    @property
    @abstractmethod
    def _name(self) -> str:
        """How messages name this entity after :attr:`ENTITY` (its id or key)."""

    @abstractmethod
    def _request_steps(self, request: RequestT, scripts: ScriptsT) -> Sequence[StepT]:
        """The steps of the script that answers ``request``."""

    @abstractmethod
    def _own_step(self, scripts: ScriptsT) -> StepT | None:
        """The next step of the entity's own script (``None``: it has played out)."""

    @abstractmethod
    def _own_step_played(self) -> None:
        """Move the entity's own script past the step just played."""

    @abstractmethod
    def _halted(self) -> bool:
        """Whether nothing plays until someone acts (finished, or waiting for the tenant)."""

    @abstractmethod
    def _noted(self, at: datetime, event: str, before: Any, detail: Mapping[str, object]) -> Any:
        """The history event ``event`` at ``at``, the status moving from ``before`` to the current one."""

    def request(self, kind: object, request_id: int) -> RequestT | None:
        """The amendment or cancellation received under ``request_id``, if any."""
        return next((r for r in self.requests if r.kind is kind and r.request_id == request_id), None)

    def request_answered_before(self, kind: _Kind, request_id: int) -> RequestT:
        """The request a repeated id names (422 if the tenant used it for another entity)."""
        request = self.request(kind, request_id)
        if request is None:
            raise BusinessRuleViolation(
                f"{kind.value} id {request_id} is already used for another {self.ENTITY}"
            )
        return request

    def _check_takes(self, action: str, refusal: str | None, request: str, *, refused_by: str | None) -> None:
        """422 when the entity's state refuses ``request`` (``refusal`` says why) or its script does.

        ``action`` is what the request would do ("amended"); ``refused_by`` names the scenario
        whose script answers 422, if it does.
        """
        if refusal is not None:
            raise BusinessRuleViolation(f"{self.ENTITY} {self._name} cannot be {action}: {refusal}")
        if refused_by is not None:
            raise BusinessRuleViolation(f"{request} is refused by scenario {refused_by}")

    def _queued(self) -> RequestT | None:
        return next((r for r in self.requests if r.queued), None)

    def _waiting_for_tenant(self, pending: bool) -> bool:
        """A PENDING entity waits for the tenant's amendment unless one is being answered."""
        return pending and self._queued() is None

    def _current_step(self, scripts: ScriptsT) -> tuple[StepT, RequestT | None] | None:
        """The step to play next, and the request it answers (``None``: the entity's own script)."""
        queued = self._queued()
        if queued is not None:
            steps = self._request_steps(queued, scripts)
            return (steps[queued.step], queued) if queued.step < len(steps) else None
        own = self._own_step(scripts)
        return None if own is None else (own, None)

    def schedule_next(self, after: datetime, scripts: ScriptsT) -> None:
        """Work out when the next step is due (``None``: nothing until someone acts)."""
        found = self._current_step(scripts)
        if found is None or self._halted():
            self.next_step_due = None
            return
        step, _request = found
        self.next_step_due = after + step.delay

    def _due_step(
        self, now: datetime, scripts: ScriptsT, *, force: bool
    ) -> tuple[StepT, RequestT | None, datetime] | None:
        """The step to play now, the request it answers, and when it plays (``None``: none is due)."""
        at = due_play_time(self.next_step_due, now, force=force)
        if at is None:
            return None
        found = self._current_step(scripts)
        if found is None:
            self.next_step_due = None
            return None
        step, request = found
        return step, request, at

    def _step_played(self, request: RequestT | None, at: datetime, scripts: ScriptsT) -> None:
        """Move the script that played on, and schedule what follows."""
        if request is not None:
            steps = self._request_steps(request, scripts)
            moved = replace(request, step=request.step + 1, queued=request.step + 1 < len(steps))
            self.requests = tuple(moved if r is request else r for r in self.requests)
        else:
            self._own_step_played()
        self.schedule_next(at, scripts)
        self.updated_at = at

    def _received(self, request: RequestT, now: datetime, scripts: ScriptsT) -> None:
        """Keep a request just taken, and schedule what follows."""
        self.requests = (*self.requests, request)
        self.schedule_next(now, scripts)
        self.updated_at = now

    def _finish(
        self,
        request: RequestT,
        before: Any,
        now: datetime,
        scripts: ScriptsT,
        event: str,
        detail: Mapping[str, object],
    ) -> list[Any]:
        """Keep a request just taken, schedule what follows, and note it as ``event``."""
        self._received(request, now, scripts)
        return [self._noted(now, event, before, detail)]
