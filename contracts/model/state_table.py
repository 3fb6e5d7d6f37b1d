"""A transition table declared as data: the engine of the order, service test and service problem models.

Service tests and service problems use :class:`StateTable` whole; the order model
(:mod:`contracts.model.order_states`) keeps its own function and error but declares its
table with :func:`declare` and reads targets with :func:`resolve`. All share one
vocabulary: a status, a
trigger (a KCI reason code, or a tenant request answered 202), and the targets the
trigger may lead to, the first being the default. ``Keep.UNCHANGED`` stays put and
``Keep.PREVIOUS`` returns to the settled status recorded when the entity entered a
*waiting* status (see :meth:`StateTable.advance`).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Generic, NamedTuple, TypeVar

__all__ = [
    "Keep",
    "Rule",
    "StateTable",
    "Transition",
    "TransitionRefused",
    "amendment_refusal",
    "declare",
    "resolve",
]

S = TypeVar("S", bound=StrEnum)
T = TypeVar("T", bound=Hashable)
V = TypeVar("V")


class Keep(StrEnum):
    """Targets that depend on where the entity is: stay put, or go back to ``previous``."""

    UNCHANGED = "unchanged"
    PREVIOUS = "previous"


Rule = tuple[str, frozenset[S], tuple["S | Keep", ...]]
"""(trigger, from statuses, allowed targets; the first is the default)."""


class TransitionRefused(ValueError):
    """A reason code (or request) that the entity's current status does not allow.

    A plain ``ValueError`` like the order model's ``IllegalTransition``: the simulator
    answers it as a business-rule refusal, the stream validator reports it.
    """

    def __init__(self, entity: str, from_status: str, reason: str, detail: str) -> None:
        message = f"{reason} is not allowed when the {entity} is {from_status}: {detail}"
        super().__init__(message)
        self.from_status = from_status
        self.reason = reason
        self.messages = [message]


def declare(rules: Iterable[tuple[T, frozenset[S], V]], entity: str) -> Mapping[tuple[S, T], V]:
    """``(from status, trigger) -> targets`` of every rule, refusing a pair declared twice."""
    table: dict[tuple[S, T], V] = {}
    for trigger, sources, targets in rules:
        for source in sorted(sources):
            if (source, trigger) in table:  # a rule declared twice would silently win or lose
                raise ValueError(f"{entity}: transition {source} --{trigger}--> declared twice")
            table[(source, trigger)] = targets
    return MappingProxyType(table)


def resolve(target: S | Keep, current: S, previous: S | None) -> S | None:
    """The status ``target`` names for an entity in ``current`` (``None``: no previous to return to)."""
    if target is Keep.UNCHANGED:
        return current
    if target is Keep.PREVIOUS:
        return previous
    return target


def amendment_refusal(
    entity: str,
    status: S,
    *,
    terminal: frozenset[S],
    amendable: frozenset[S],
    pending: S,
    refuse_while_pending: bool,
) -> str | None:
    """Why an amendment of an ``entity`` in ``status`` must be refused, or ``None``.

    ``pending`` is the status of an amendment being processed; ``refuse_while_pending``
    is the supplier's choice to refuse a second one meanwhile (the reference allows either).
    """
    if status in terminal:
        return f"the {entity} is {status}, which is terminal"
    if status is pending and refuse_while_pending:
        return f"an earlier amendment of this {entity} is still being processed"
    if status not in amendable:
        allowed = ", ".join(sorted(amendable))
        return f"the {entity} is {status}; amendments are accepted only in {allowed}"
    return None


class Transition(NamedTuple, Generic[S]):
    """A status and the settled status a waiting status returns to."""

    status: S
    previous: S | None = None


class StateTable(Generic[S]):
    """Every legal move of one kind of entity, and the one function that applies them."""

    def __init__(
        self,
        entity: str,
        statuses: type[S],
        triggers: Iterable[str],
        rules: Iterable[tuple[str, frozenset[S], tuple[S | Keep, ...]]],
        *,
        start: S,
        terminal: frozenset[S],
        waiting: frozenset[S] = frozenset(),
    ) -> None:
        self.entity = entity
        self.statuses = statuses
        self.triggers = tuple(triggers)
        self.start = start
        self.terminal = terminal
        self.waiting = waiting
        rules = tuple(rules)
        for trigger, _sources, _targets in rules:
            if trigger not in self.triggers:
                raise ValueError(f"{entity}: {trigger} is not a declared trigger")
        self.transitions: Mapping[tuple[S, str], tuple[S | Keep, ...]] = declare(rules, entity)

    def allowed_triggers(self, status: S) -> tuple[str, ...]:
        """The triggers the table accepts from ``status``, in declaration order."""
        return tuple(trigger for (source, trigger) in self.transitions if source == status)

    def targets(self, state: Transition[S], reason: str) -> list[S]:
        """Where ``reason`` may take ``state`` (empty: nowhere, the move is illegal)."""
        found = self.transitions.get((state.status, reason), ())
        resolved = [resolve(target, state.status, state.previous) for target in found]
        return [status for status in resolved if status is not None]

    def advance(self, state: Transition[S], reason: str, *, status: S | None = None) -> Transition[S]:
        """Apply ``reason`` to ``state``; ``status`` is the status the KCI claims, if any.

        Entering a waiting status from a settled one remembers the settled one; moving
        between waiting statuses keeps it; reaching a settled status clears it. Raises
        :class:`TransitionRefused` naming the status, the reason and what was possible.
        """
        current = state.status
        if reason not in self.triggers:
            raise TransitionRefused(self.entity, current, reason, f"it is not a {self.entity} reason code")
        if (current, reason) not in self.transitions:
            if current in self.terminal:
                raise TransitionRefused(self.entity, current, reason, f"{current} is terminal")
            accepted = ", ".join(self.allowed_triggers(current)) or "nothing"
            raise TransitionRefused(
                self.entity, current, reason, f"from {current} only {accepted} are accepted"
            )
        reachable = self.targets(state, reason)
        if not reachable:
            raise TransitionRefused(self.entity, current, reason, f"nothing was recorded before {current}")
        chosen = reachable[0] if status is None else status
        if chosen not in reachable:
            raise TransitionRefused(
                self.entity, current, reason, f"it leads to {' or '.join(reachable)}, not {chosen}"
            )
        if chosen not in self.waiting:
            return Transition(chosen)
        if current in self.waiting:
            return Transition(chosen, state.previous)
        return Transition(chosen, current)

    def reachable_states(self) -> frozenset[Transition[S]]:
        """Every ``(status, previous)`` pair the entity can reach from the start status."""
        seen: set[Transition[S]] = {Transition(self.start)}
        frontier = list(seen)
        while frontier:
            state = frontier.pop()
            for (source, trigger), _targets in self.transitions.items():
                if source != state.status:
                    continue
                for status in self.targets(state, trigger):
                    following = self.advance(state, trigger, status=status)
                    if following not in seen:
                        seen.add(following)
                        frontier.append(following)
        return frozenset(seen)
