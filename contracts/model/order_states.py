"""The order state machine: which KCI reason code may move an order from which status.

Every legal move is declared once, in :data:`TRANSITIONS`, and :func:`apply_reason` is
the one function that enforces it; the HTTP layer, the KCI scripts and the KCI stream
validator all go through it. In brief (§6.2 and §7 of the API reference)::

    RECEIVED ──ACKNOWLEDGED──▶ ACKNOWLEDGED ──COMMITTED──▶ IN_PROGRESS ──COMPLETED──▶ COMPLETED
        │  └─CREATED (unsolicited cease)─▶ ACKNOWLEDGED | IN_PROGRESS      │  ▲
        └─ORDER_REJECTED─▶ REJECTED                                  DELAY │  │ RESUMED
                                                                           ▼  │
    ACKNOWLEDGED | IN_PROGRESS | HELD ──INFORMATION_REQUIRED, REAPPOINT──▶ PENDING ──AMENDED──▶ previous
    amendment answered 202  ─▶ PENDING_AMENDMENT    ──AMENDED, AMENDMENT_REJECTED──▶ previous
    cancellation answered 202 ─▶ PENDING_CANCELLATION ──CANCELLATION_REJECTED──▶ previous
    any in-flight status ──CANCELLED──▶ CANCELLED
    UPDATE, ADDITIONAL, WARNING, REAPPOINTED, RESUBMIT keep the status

``RECEIVED`` is a pseudo-status: the order was accepted with 202 and nothing has been
said about it yet (it also stands for an unsolicited cease the supplier is about to
announce with CREATED). REJECTED, CANCELLED and COMPLETED are terminal.

Decisions where the reference is loose (each is one row of the table to change):

* ``previous`` is the last *settled* status (ACKNOWLEDGED, IN_PROGRESS, HELD or
  RECEIVED). PENDING, PENDING_AMENDMENT and PENDING_CANCELLATION are *waiting*
  statuses; moving from one waiting status to another keeps the settled one, so an
  amendment answering INFORMATION_REQUIRED returns the order to where it was before
  PENDING (§6.3). A supplier that still needs something after rejecting an amendment
  or cancellation says so again (INFORMATION_REQUIRED / REAPPOINT).
* UPDATE keeps the status, except from HELD, where it may move the order back to
  IN_PROGRESS: RESUMED means "no impact on the target date", so a delay that ends with
  a new targetDate is an UPDATE carrying status IN_PROGRESS.
* REAPPOINTED keeps the status; from PENDING it may also return the order to its
  previous status (the supplier arranged the appointment itself).
* COMMITTED may be repeated while IN_PROGRESS (a re-commit after a tenant-driven change).
* DELAY is only possible once committed (IN_PROGRESS, or HELD for a further delay);
  COMPLETED only from IN_PROGRESS; ORDER_REJECTED only before acknowledgement.
* RESUBMIT tells the tenant its last request must be corrected and sent again; it
  keeps the status and is not an answer to a pending amendment or cancellation.
* While an amendment or cancellation is pending, the order's own progress waits: only
  the answer, a supplier cancellation, and informational KCIs are accepted.
* A synchronous 201 answer is applied as if the matching KCI had been sent (see
  ``simulator.domain.kci_scripts.response_triggers``).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Any, NamedTuple, TypeAlias

from contracts.model.kci_fields import FieldRequirement, Part, common_fields, missing
from contracts.model.kci_fields import entity as _entity
from contracts.model.kci_fields import envelope as _envelope
from contracts.model.state_table import Keep, declare, resolve
from contracts.model.state_table import amendment_refusal as _amendment_refusal

__all__ = [
    "AMENDABLE_STATUSES",
    "COMMON_FIELDS",
    "IN_FLIGHT_STATUSES",
    "REQUIRED_FIELDS",
    "TERMINAL_STATUSES",
    "TRANSITIONS",
    "WAITING_STATUSES",
    "FieldRequirement",
    "IllegalTransition",
    "Keep",
    "OrderState",
    "OrderStatus",
    "Part",
    "ProblemCode",
    "ReasonCode",
    "RequestReceived",
    "Target",
    "Trigger",
    "advance",
    "allowed_triggers",
    "amendment_refusal",
    "apply_reason",
    "can_amend",
    "can_cancel",
    "cancellation_refusal",
    "is_terminal",
    "missing_fields",
    "reachable_states",
]


class OrderStatus(StrEnum):
    """The status of an order as the supplier reports it (plus the RECEIVED pseudo-status)."""

    RECEIVED = "RECEIVED"
    ACKNOWLEDGED = "ACKNOWLEDGED"
    IN_PROGRESS = "IN_PROGRESS"
    PENDING = "PENDING"
    HELD = "HELD"
    PENDING_AMENDMENT = "PENDING_AMENDMENT"
    PENDING_CANCELLATION = "PENDING_CANCELLATION"
    REJECTED = "REJECTED"
    CANCELLED = "CANCELLED"
    COMPLETED = "COMPLETED"


class ReasonCode(StrEnum):
    """The reason codes a supplier may put on an order KCI (§6.2)."""

    CREATED = "CREATED"
    ACKNOWLEDGED = "ACKNOWLEDGED"
    COMMITTED = "COMMITTED"
    UPDATE = "UPDATE"
    ADDITIONAL = "ADDITIONAL"
    WARNING = "WARNING"
    DELAY = "DELAY"
    RESUMED = "RESUMED"
    INFORMATION_REQUIRED = "INFORMATION_REQUIRED"
    REAPPOINT = "REAPPOINT"
    REAPPOINTED = "REAPPOINTED"
    RESUBMIT = "RESUBMIT"
    AMENDED = "AMENDED"
    AMENDMENT_REJECTED = "AMENDMENT_REJECTED"
    CANCELLED = "CANCELLED"
    CANCELLATION_REJECTED = "CANCELLATION_REJECTED"
    ORDER_REJECTED = "ORDER_REJECTED"
    COMPLETED = "COMPLETED"


class ProblemCode(StrEnum):
    """The problem codes an order KCI may carry (§5)."""

    ACCESS_ISSUE = "ACCESS_ISSUE"
    ACTIVATION_FAILED = "ACTIVATION_FAILED"
    ADDITIONAL_WORK = "ADDITIONAL_WORK"
    APPOINTMENT_NOT_REQUIRED = "APPOINTMENT_NOT_REQUIRED"
    CAPACITY_ISSUE = "CAPACITY_ISSUE"
    COST_ISSUE = "COST_ISSUE"
    CUSTOMER_CHANGED_MIND = "CUSTOMER_CHANGED_MIND"
    FAULT_AT_NODE = "FAULT_AT_NODE"
    FAULT_AT_ONT = "FAULT_AT_ONT"
    FAULT_AT_POP = "FAULT_AT_POP"
    INFORMATION_REQUIRED = "INFORMATION_REQUIRED"
    INSTALL_FAILED = "INSTALL_FAILED"
    INVALID_REQUEST = "INVALID_REQUEST"
    LINKED_ORDER_ISSUE = "LINKED_ORDER_ISSUE"
    NETWORK_ISSUE = "NETWORK_ISSUE"
    NETWORK_UNAVAILABLE = "NETWORK_UNAVAILABLE"
    NO_LONGER_REQUIRED = "NO_LONGER_REQUIRED"
    OTHER = "OTHER"
    PLANNING_ISSUE = "PLANNING_ISSUE"
    PROPERTY_UNOCCUPIED = "PROPERTY_UNOCCUPIED"
    ROUTER_NOT_AVAILABLE = "ROUTER_NOT_AVAILABLE"
    SITE_UNSAFE = "SITE_UNSAFE"
    SUPPLIER_FAULT = "SUPPLIER_FAULT"
    SURVEY_REQUIRED = "SURVEY_REQUIRED"
    TIMED_OUT = "TIMED_OUT"
    UNABLE_TO_ATTEND = "UNABLE_TO_ATTEND"
    UNKNOWN_FAULT = "UNKNOWN_FAULT"
    WAYLEAVE_ISSUE = "WAYLEAVE_ISSUE"


class RequestReceived(StrEnum):
    """Tenant requests that move an order when answered 202; no KCI announces them."""

    AMENDMENT = "AMENDMENT_RECEIVED"
    CANCELLATION = "CANCELLATION_RECEIVED"


Trigger: TypeAlias = ReasonCode | RequestReceived
Target: TypeAlias = OrderStatus | Keep

S = OrderStatus
R = ReasonCode

TERMINAL_STATUSES = frozenset({S.REJECTED, S.CANCELLED, S.COMPLETED})
WAITING_STATUSES = frozenset({S.PENDING, S.PENDING_AMENDMENT, S.PENDING_CANCELLATION})
IN_FLIGHT_STATUSES = frozenset(OrderStatus) - TERMINAL_STATUSES
# §7: amendments only here; HELD and a pending cancellation are deliberately absent.
AMENDABLE_STATUSES = frozenset({S.ACKNOWLEDGED, S.IN_PROGRESS, S.PENDING, S.PENDING_AMENDMENT})

_ACTIVE = frozenset({S.ACKNOWLEDGED, S.IN_PROGRESS, S.HELD})
_SPOKEN = IN_FLIGHT_STATUSES - {S.RECEIVED}  # in flight and acknowledged by the supplier
_UNCHANGED: tuple[Target, ...] = (Keep.UNCHANGED,)
_PREVIOUS: tuple[Target, ...] = (Keep.PREVIOUS,)

# (trigger, from statuses, allowed targets; the first is the default). Read by reason code.
_RULES: tuple[tuple[Trigger, frozenset[OrderStatus], tuple[Target, ...]], ...] = (
    (R.CREATED, frozenset({S.RECEIVED}), (S.ACKNOWLEDGED, S.IN_PROGRESS)),
    (R.ACKNOWLEDGED, frozenset({S.RECEIVED}), (S.ACKNOWLEDGED,)),
    (R.ORDER_REJECTED, frozenset({S.RECEIVED}), (S.REJECTED,)),
    (R.COMMITTED, frozenset({S.ACKNOWLEDGED, S.IN_PROGRESS}), (S.IN_PROGRESS,)),
    (R.UPDATE, _SPOKEN - {S.HELD}, _UNCHANGED),
    (R.UPDATE, frozenset({S.HELD}), (Keep.UNCHANGED, S.IN_PROGRESS)),
    (R.ADDITIONAL, _SPOKEN, _UNCHANGED),
    (R.WARNING, _SPOKEN, _UNCHANGED),
    (R.RESUBMIT, _ACTIVE | {S.PENDING}, _UNCHANGED),
    (R.DELAY, frozenset({S.IN_PROGRESS}), (S.HELD,)),
    (R.DELAY, frozenset({S.HELD}), _UNCHANGED),
    (R.RESUMED, frozenset({S.HELD}), (S.IN_PROGRESS,)),
    (R.INFORMATION_REQUIRED, _ACTIVE, (S.PENDING,)),
    (R.INFORMATION_REQUIRED, frozenset({S.PENDING}), _UNCHANGED),
    (R.REAPPOINT, _ACTIVE, (S.PENDING,)),
    (R.REAPPOINT, frozenset({S.PENDING}), _UNCHANGED),
    (R.REAPPOINTED, _ACTIVE, _UNCHANGED),
    (R.REAPPOINTED, frozenset({S.PENDING}), (Keep.UNCHANGED, Keep.PREVIOUS)),
    (R.AMENDED, frozenset({S.PENDING, S.PENDING_AMENDMENT}), _PREVIOUS),
    (R.AMENDMENT_REJECTED, frozenset({S.PENDING_AMENDMENT}), _PREVIOUS),
    # An amendment answered after a cancellation arrived: the cancellation still decides.
    (R.AMENDED, frozenset({S.PENDING_CANCELLATION}), _UNCHANGED),
    (R.AMENDMENT_REJECTED, frozenset({S.PENDING_CANCELLATION}), _UNCHANGED),
    (R.CANCELLED, IN_FLIGHT_STATUSES, (S.CANCELLED,)),
    (R.CANCELLATION_REJECTED, frozenset({S.PENDING_CANCELLATION}), _PREVIOUS),
    (R.COMPLETED, frozenset({S.IN_PROGRESS}), (S.COMPLETED,)),
    (RequestReceived.AMENDMENT, AMENDABLE_STATUSES - {S.PENDING_AMENDMENT}, (S.PENDING_AMENDMENT,)),
    (RequestReceived.AMENDMENT, frozenset({S.PENDING_AMENDMENT}), _UNCHANGED),
    (RequestReceived.CANCELLATION, IN_FLIGHT_STATUSES - {S.PENDING_CANCELLATION}, (S.PENDING_CANCELLATION,)),
    (RequestReceived.CANCELLATION, frozenset({S.PENDING_CANCELLATION}), _UNCHANGED),
)


TRANSITIONS: Mapping[tuple[OrderStatus, Trigger], tuple[Target, ...]] = declare(_RULES, "order")
"""Every legal move: ``(from status, trigger) -> allowed targets``, the first being the default."""


class IllegalTransition(ValueError):
    """A reason code (or request) that the order's current status does not allow.

    A plain ``ValueError``: this package knows no HTTP. The simulator answers it as a
    business-rule refusal (422 ``INVALID_REQUEST``, see ``simulator.http.errors``).
    """

    def __init__(self, from_status: OrderStatus, reason: str, detail: str) -> None:
        self.from_status = from_status
        self.reason = reason
        message = f"{reason} is not allowed when the order is {from_status}: {detail}"
        super().__init__(message)
        self.messages = [message]


class OrderState(NamedTuple):
    """An order's status and the settled status a waiting status returns to."""

    status: OrderStatus
    previous: OrderStatus | None = None


def allowed_triggers(status: OrderStatus) -> tuple[Trigger, ...]:
    """The reason codes and requests the table accepts from ``status``, in declaration order."""
    return tuple(trigger for (source, trigger) in TRANSITIONS if source == status)


def _trigger(from_status: OrderStatus, reason: str) -> Trigger:
    for kind in (ReasonCode, RequestReceived):
        try:
            return kind(reason)
        except ValueError:
            continue
    raise IllegalTransition(from_status, reason, "it is not a supplier reason code")


def apply_reason(
    current: OrderStatus,
    previous: OrderStatus | None,
    reason: str,
    *,
    status: OrderStatus | None = None,
) -> OrderStatus:
    """The status after ``reason`` arrives at an order in ``current``.

    ``previous`` is the settled status recorded when the order entered a waiting status
    (see :func:`advance`). ``status``, when given, is the status the KCI claims; it must
    be one of the declared targets. Raises :class:`IllegalTransition` naming the status
    and reason, and listing what would have been accepted.
    """
    trigger = _trigger(current, reason)
    targets = TRANSITIONS.get((current, trigger))
    if targets is None:
        if current in TERMINAL_STATUSES:
            raise IllegalTransition(current, reason, f"{current} is terminal")
        accepted = ", ".join(allowed_triggers(current))
        raise IllegalTransition(current, reason, f"from {current} only {accepted} are accepted")
    candidates = [resolve(target, current, previous) for target in targets]
    reachable = [candidate for candidate in candidates if candidate is not None]
    chosen = candidates[0] if status is None else status
    if chosen is None or not reachable:
        raise IllegalTransition(current, reason, f"no status was recorded before {current} to return to")
    if chosen not in reachable:
        raise IllegalTransition(current, reason, f"it leads to {' or '.join(reachable)}, not {chosen}")
    return chosen


def advance(state: OrderState, reason: str, *, status: OrderStatus | None = None) -> OrderState:
    """Apply ``reason`` to ``state`` and keep ``previous`` up to date.

    Entering a waiting status from a settled one remembers the settled one; moving
    between waiting statuses keeps it; reaching a settled or terminal status clears it.
    """
    new = apply_reason(state.status, state.previous, reason, status=status)
    if new not in WAITING_STATUSES:
        return OrderState(new)
    if state.status in WAITING_STATUSES:
        return OrderState(new, state.previous)
    return OrderState(new, state.status)


def reachable_states() -> frozenset[OrderState]:
    """Every ``(status, previous)`` pair an order can reach from RECEIVED through the table."""
    seen = {OrderState(OrderStatus.RECEIVED)}
    frontier = list(seen)
    while frontier:
        state = frontier.pop()
        for (source, trigger), targets in TRANSITIONS.items():
            if source != state.status:
                continue
            for target in targets:
                resolved = resolve(target, state.status, state.previous)
                if resolved is None:
                    continue
                following = advance(state, trigger, status=resolved)
                if following not in seen:
                    seen.add(following)
                    frontier.append(following)
    return frozenset(seen)


def is_terminal(status: OrderStatus) -> bool:
    """Whether nothing can happen to an order in ``status`` any more."""
    return status in TERMINAL_STATUSES


def amendment_refusal(
    status: OrderStatus, is_unsolicited_cease: bool, *, refuse_while_pending: bool = False
) -> str | None:
    """Why an amendment must be refused (§7), or ``None`` when it may go ahead.

    ``refuse_while_pending`` is the supplier's choice to refuse a second amendment while
    one is still being processed (the reference allows either).
    """
    if is_unsolicited_cease:
        return "an unsolicited cease order cannot be amended"
    return _amendment_refusal(
        "order",
        status,
        terminal=TERMINAL_STATUSES,
        amendable=AMENDABLE_STATUSES,
        pending=OrderStatus.PENDING_AMENDMENT,
        refuse_while_pending=refuse_while_pending,
    )


def can_amend(status: OrderStatus, is_unsolicited_cease: bool, *, refuse_while_pending: bool = False) -> bool:
    """Whether an order in ``status`` may be amended (see :func:`amendment_refusal`)."""
    return amendment_refusal(status, is_unsolicited_cease, refuse_while_pending=refuse_while_pending) is None


def cancellation_refusal(status: OrderStatus, point_of_no_return_reached: bool) -> str | None:
    """Why a cancellation must be refused (§7), or ``None`` when it may go ahead."""
    if is_terminal(status):
        return f"the order is {status}, which is terminal; a live service must be ceased instead"
    if point_of_no_return_reached:
        return "the order is past the supplier's point of no return; cease the service once it is live"
    return None


def can_cancel(status: OrderStatus, point_of_no_return_reached: bool) -> bool:
    """Whether an order in ``status`` may be cancelled (any in-flight order, §7)."""
    return cancellation_refusal(status, point_of_no_return_reached) is None


# --- what each reason code must carry ------------------------------------------------------


_AMENDMENT = _entity("serviceOrderAmendmentId", "serviceOrderAmendmentReference")
_CANCELLATION = _entity("serviceOrderCancellationId", "serviceOrderCancellationReference")
_TEXT = _envelope("text")
_PROBLEM = _envelope("problemCode")

COMMON_FIELDS: tuple[FieldRequirement, ...] = common_fields("supplierOrderReference")
"""What every order KCI carries, whatever its reason code."""

REQUIRED_FIELDS: Mapping[ReasonCode, tuple[FieldRequirement, ...]] = MappingProxyType(
    {
        R.CREATED: (_entity("supplierOrderReference"), _entity("serviceId")),
        R.ACKNOWLEDGED: (_entity("supplierOrderReference"),),
        R.COMMITTED: (_entity("committedDate"), _entity("targetDate")),
        R.UPDATE: (),
        R.ADDITIONAL: (),
        R.WARNING: (_PROBLEM,),
        R.DELAY: (_PROBLEM,),
        R.RESUMED: (),
        R.INFORMATION_REQUIRED: (_TEXT,),
        R.REAPPOINT: (_PROBLEM,),
        # appointmentSupplierReference is welcome but not every supplier has one
        R.REAPPOINTED: (_entity("appointmentTimeslot"), _entity("targetDate")),
        R.RESUBMIT: (_TEXT,),
        R.AMENDED: (_AMENDMENT,),
        R.AMENDMENT_REJECTED: (_AMENDMENT, _TEXT),
        R.CANCELLED: (
            _PROBLEM,
            _entity(*_CANCELLATION.any_of, only_when_tenant_requested=True),
        ),
        R.CANCELLATION_REJECTED: (_CANCELLATION, _TEXT),
        R.ORDER_REJECTED: (_TEXT,),
        R.COMPLETED: (_entity("completedDate"),),
    }
)
"""What each reason code requires on top of :data:`COMMON_FIELDS` (§6.2)."""


def missing_fields(
    reason: ReasonCode | str,
    kci: Mapping[str, Any],
    entity: Mapping[str, Any],
    *,
    tenant_requested: bool = False,
) -> list[str]:
    """Name every required field that ``kci`` (envelope) or ``entity`` lacks for ``reason``.

    Names are the camelCase field names (``targetDate``); alternatives read
    ``serviceOrderAmendmentId or serviceOrderAmendmentReference``. ``tenant_requested``
    says the KCI answers a tenant's request, which CANCELLED must then identify.
    Raises ``ValueError`` for a string that is not a reason code.
    """
    requirements = COMMON_FIELDS + REQUIRED_FIELDS[ReasonCode(reason)]
    return missing(requirements, kci, entity, tenant_requested=tenant_requested)
