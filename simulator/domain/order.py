"""The order aggregate: one order of one tenant, its rules, and the events its changes make.

An order is identified by its tenant and its gateway id (reference §2.4; a supplier-raised
unsolicited cease by its ``UC-`` reference instead). It is placed from a
:class:`~simulator.domain.order_commands.PlaceOrder`, then moves only through its
methods, each returning the events the application acts on (history, KCIs, inventory,
reservations, the linked order):

* :meth:`Order.place` and :meth:`Order.raise_unsolicited_cease` make one;
* :meth:`Order.amend` and :meth:`Order.cancel` take the tenant's follow-up requests;
* :meth:`Order.play_next_step` plays its KCI script (or the pending request's script)
  as the simulator clock reaches each step;
* :meth:`Order.pause`, :meth:`Order.resume` and :meth:`Order.cancel_for_objection`
  are what the unsolicited cease it raised does to a takeover.

While an amendment or cancellation waits for its scripted answer, the order's own
script waits; an order in PENDING waits for the tenant's amendment, after which the
supplier carries on to completion. Every status change goes through
:func:`~contracts.model.order_states.advance`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, tzinfo
from typing import Protocol

from contracts.model.order_states import (
    IllegalTransition,
    OrderState,
    OrderStatus,
    ProblemCode,
    ReasonCode,
    advance,
    amendment_refusal,
    cancellation_refusal,
    is_terminal,
)
from simulator.domain.errors import BusinessRuleViolation
from simulator.domain.inventory import AddressId, LiveService, Site
from simulator.domain.kci_scripts import AppliesTo, KciScript, ScriptResponse, ScriptStep, response_triggers
from simulator.domain.order_commands import (
    REMOVE,
    AmendmentChanges,
    AmendOrder,
    CancelOrder,
    Characteristics,
    OrderDetails,
    OrderKind,
    OrderType,
    PlaceOrder,
    Scenario,
    amended_details,
    changed,
)
from simulator.domain.order_events import (
    InventoryChanged,
    KciDue,
    LinkedEffect,
    LinkedOrderAffected,
    OrderEvent,
    OrderId,
    ReservationConsumed,
    StatusChanged,
    UnsolicitedCeaseDue,
)
from simulator.domain.orders import (
    AcceptedOrder,
    InventoryChange,
    check_requested_date,
    completion_problem,
    target_of,
)
from simulator.domain.reservations import Reservation, confirm
from simulator.domain.scripted import Reply, ScriptedEntity, ScriptedRequest

__all__ = [
    "REAPPOINTED_SLOT",
    "Appointment",
    "InventoryView",
    "Order",
    "OrderRequest",
    "Reply",  # where the order's answers have always been imported from
    "Scripts",
    "check_tenant",
    "confirm_reservation",
]

# A REAPPOINTED step books the engineer for this long from the new target.
REAPPOINTED_SLOT = timedelta(hours=4)


class Scripts(Protocol):
    """Where the order finds the script a scenario names (the profile's default when unnamed)."""

    def script(self, scenario: Scenario, applies_to: AppliesTo) -> KciScript:
        """The script ``scenario`` selects for a request of kind ``applies_to``."""
        ...


class InventoryView(Protocol):
    """What completing an order needs to know about the live services now."""

    def service(self, service_id: str) -> LiveService | None:
        """The live service ``service_id``, if it is live."""
        ...

    def at_address(self, address: AddressId) -> list[LiveService]:
        """The live services at ``address``."""
        ...

    def site(self, address: AddressId) -> Site | None:
        """The site at ``address``, if the supplier knows it."""
        ...


@dataclass(frozen=True, slots=True)
class Appointment:
    """An engineer visit the supplier arranged itself (a REAPPOINTED step)."""

    start: datetime
    end: datetime
    supplier_reference: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRequest(ScriptedRequest[AppliesTo]):
    """An amendment or cancellation the order received (its kind: AMENDMENT or CANCELLATION)."""

    order_id_sent: int  # the orderId the tenant sent (answers echo it)
    changes: AmendmentChanges | None = None  # an amendment's
    new_target: datetime | None = None  # an amendment's new appointment
    reason_code: str | None = None  # a cancellation's


def _reply(script: KciScript) -> Reply:
    """How ``script`` answers: ACCEPTED scripts answer later."""
    return Reply.LATER if script.response is ScriptResponse.ACCEPTED else Reply.DONE


def _refusing(script: KciScript) -> str | None:
    """The name of ``script`` if it answers 422."""
    return script.name if script.response is ScriptResponse.REJECTED else None


def _due_after(script: KciScript, index: int, after: datetime) -> datetime | None:
    return after + script.steps[index].delay if index < len(script.steps) else None


def _apply_triggers(state: OrderState, script: KciScript) -> OrderState:
    for trigger in response_triggers(script):
        state = advance(state, trigger)
    return state


def confirm_reservation(
    held: Reservation | None,
    *,
    tenant: str,
    reservation_id: int,
    reference: str | None,
    address: AddressId | None,
    order_id: int,
    now: datetime,
) -> tuple[datetime, ReservationConsumed | None]:
    """Use the reservation an order or amendment names; returns the slot start and the event.

    ``held`` is the tenant's reservation under that id (``None``: the tenant has none).
    """
    if held is None:
        raise BusinessRuleViolation(f"appointment reservation {reservation_id} is not known for {tenant}")
    if reference is not None and reference != held.supplier_reference:
        raise BusinessRuleViolation(
            f"appointmentReservationReference {reference} does not match reservation {reservation_id}"
        )
    if address is not None and held.address_key != address.key:
        raise BusinessRuleViolation(f"reservation {reservation_id} is for another address")
    confirmed, event = confirm(held, now, order_id)
    return held.slot.start, None if event is None else ReservationConsumed(confirmed)


def check_tenant(command: PlaceOrder) -> None:
    """The order must name the tenant that sends it."""
    if command.named_tenant != command.tenant:
        raise BusinessRuleViolation(
            f"the order's tenant {command.named_tenant!r} is not the Tenant header {command.tenant!r}"
        )


@dataclass(kw_only=True)
class Order(ScriptedEntity[OrderRequest, ScriptStep, Scripts]):
    """One order: what was ordered, where it stands, and where its KCI script is.

    Every field holds an immutable value; methods replace them, so a shallow copy
    (:meth:`snapshot`) is the order as it was at that moment.
    """

    id: OrderId
    gateway_id: int | None
    supplier_reference: str
    order_type: OrderType
    status: OrderStatus
    previous: OrderStatus | None
    # What was ordered.
    address: AddressId | None
    service_id: str | None
    specification_id: str | None
    characteristics: Characteristics
    details: OrderDetails
    requested_date: date | None
    reservation_id: int | None
    reservation_reference: str | None
    unsolicited_reason: str | None
    # What completing it does, and when it is planned.
    change: InventoryChange | None  # None: an unsolicited cease (its takeover moves the line)
    target: datetime | None  # None: whenever each step plays (an unsolicited cease)
    committed_date: datetime | None
    target_date: datetime | None
    completed_date: datetime | None = None
    appointment: Appointment | None = None
    # A takeover and the unsolicited cease it raised name each other.
    linked: OrderId | None = None
    paused: bool = False
    # The script.
    scenario: Scenario
    script: str
    next_step: int = 0
    next_step_due: datetime | None
    tail: tuple[ReasonCode, ...] = ()  # what follows once an amendment answered a PENDING order
    last_sequence: int = 0
    requests: tuple[OrderRequest, ...] = ()
    conversation_id: str | None
    reply: Reply
    created_at: datetime
    updated_at: datetime

    ENTITY = "order"

    @property
    def _name(self) -> str:
        return self.id.key

    @property
    def kind(self) -> OrderKind:
        """Which KCI entity the order travels as."""
        return self.order_type.kind

    def snapshot(self) -> Order:
        """The order as it is now (later changes do not reach the copy)."""
        return replace(self)

    # --- making an order ---------------------------------------------------------------

    @classmethod
    def place(
        cls,
        command: PlaceOrder,
        accepted: AcceptedOrder,
        script: KciScript,
        held: Reservation | None,
        now: datetime,
        zone: tzinfo,
    ) -> tuple[Order, list[OrderEvent]]:
        """An order the supplier's checks ``accepted``, answered as ``script`` says.

        ``held`` is the tenant's reservation under the order's ``reservation_id``, if any.
        """
        events: list[OrderEvent] = []
        slot_start = None
        if command.reservation_id is not None:
            slot_start, consumed = confirm_reservation(
                held,
                tenant=command.tenant,
                reservation_id=command.reservation_id,
                reference=command.reservation_reference,
                address=command.address,
                order_id=command.order_id,
                now=now,
            )
            events += [consumed] if consumed else []
        else:
            check_requested_date(command.requested_date, now.astimezone(zone).date(), accepted.lead_time_days)
        target = target_of(command.requested_date, slot_start, now, zone)
        state = _apply_triggers(OrderState(OrderStatus.RECEIVED), script)
        in_progress = script.response is ScriptResponse.IN_PROGRESS
        order = cls(
            id=OrderId(command.tenant, str(command.order_id)),
            gateway_id=command.order_id,
            supplier_reference=f"SO-{command.order_id:09d}",
            order_type=command.order_type,
            status=state.status,
            previous=state.previous,
            address=command.address,
            service_id=command.service_id,
            specification_id=command.specification_id,
            characteristics=command.characteristics,
            details=command.details,
            requested_date=command.requested_date,
            reservation_id=command.reservation_id,
            reservation_reference=command.reservation_reference,
            unsolicited_reason=None,
            change=accepted.change,
            target=target,
            committed_date=target if in_progress else None,
            target_date=target if in_progress else None,
            scenario=command.scenario,
            script=script.name,
            next_step_due=_due_after(script, 0, now),
            conversation_id=command.conversation_id,
            reply=_reply(script),
            created_at=now,
            updated_at=now,
        )
        detail = {"script": script.name, "answer": order.reply.status}
        events.append(order._noted(now, "PLACED", None, detail))
        if accepted.losing_service is not None:
            events.append(UnsolicitedCeaseDue(order.id, accepted.losing_service, target))
        return order, events

    @classmethod
    def raise_unsolicited_cease(
        cls,
        due: UnsolicitedCeaseDue,
        number: int,
        script: KciScript,
        scenario: Scenario,
        now: datetime,
        zone: tzinfo,
    ) -> tuple[Order, list[OrderEvent]]:
        """The cease the losing tenant of a takeover gets, as the supplier's ``UC-<number>``."""
        reference = f"UC-{number:09d}"
        losing = due.losing
        order = cls(
            id=OrderId(losing.tenant, reference),
            gateway_id=None,
            supplier_reference=reference,
            order_type=OrderType.UNSOLICITED_CEASE,
            status=OrderStatus.RECEIVED,
            previous=None,
            address=losing.address,
            service_id=losing.service_id,
            specification_id=None,
            characteristics=(),
            details=OrderDetails(),
            requested_date=due.target.astimezone(zone).date(),
            reservation_id=None,
            reservation_reference=None,
            unsolicited_reason="CHANGE_OF_CP",
            change=None,
            target=None,
            committed_date=None,
            target_date=None,
            linked=due.takeover,
            scenario=scenario,
            script=script.name,
            next_step_due=_due_after(script, 0, now),
            conversation_id=None,
            reply=Reply.LATER,
            created_at=now,
            updated_at=now,
        )
        detail = {"takeover": due.takeover.key}
        return order, [order._noted(now, "RAISED", None, detail)]

    def link(self, other: OrderId) -> None:
        """Remember the unsolicited cease this takeover raised."""
        self.linked = other

    # --- the tenant's requests ---------------------------------------------------------

    def amend(
        self,
        command: AmendOrder,
        script: KciScript,
        *,
        refuse_while_pending: bool,
        held: Reservation | None,
        scripts: Scripts,
        now: datetime,
    ) -> tuple[OrderRequest, list[OrderEvent]]:
        """Take an amendment: applied now (DONE) or answered by KCI later (LATER), or refused (422)."""
        refusal = amendment_refusal(
            self.status, self.kind is OrderKind.UNSOLICITED_CEASE, refuse_while_pending=refuse_while_pending
        )
        self._check_takes("amended", refusal, f"amendment {command.request_id}", refused_by=_refusing(script))
        events: list[OrderEvent] = []
        new_target = None
        changes = command.changes
        if changes.reservation_id is not None:
            reference = changes.reservation_reference
            new_target, consumed = confirm_reservation(
                held,
                tenant=self.id.tenant,
                reservation_id=changes.reservation_id,
                reference=None if reference is REMOVE else reference,
                address=None,
                order_id=self.gateway_id or 0,
                now=now,
            )
            events += [consumed] if consumed else []
        request = OrderRequest(
            kind=AppliesTo.AMENDMENT,
            request_id=command.request_id,
            reference=f"AM-{command.request_id:09d}",
            order_id_sent=command.entity_id,
            scenario=command.scenario,
            reply=Reply.DONE if script.response is ScriptResponse.APPLIED else Reply.LATER,
            queued=script.response is not ScriptResponse.APPLIED,
            changes=changes,
            new_target=new_target,
        )
        before = self._receive(script)
        if not request.queued:
            self._apply_amendment(request, scripts)
        detail = {"answer": request.reply.status, "amendmentId": command.request_id}
        events += self._finish(request, before, now, scripts, "AMENDMENT_RECEIVED", detail)
        return request, events

    def cancel(
        self,
        command: CancelOrder,
        script: KciScript,
        *,
        point_of_no_return_hours: float | None,
        scripts: Scripts,
        now: datetime,
    ) -> tuple[OrderRequest, list[OrderEvent]]:
        """Take a cancellation ("cancel other" for an unsolicited cease), or refuse it (422)."""
        unsolicited = self.kind is OrderKind.UNSOLICITED_CEASE
        if unsolicited != command.is_cancel_other:
            raise BusinessRuleViolation(
                "an unsolicited cease is objected to with a cancel-other reason code "
                "(CUSTOMER_NOT_AWARE, DELIBERATE_MISLEAD, END_USER_NOT_MOVING, NO_AUTHORISATION, "
                "PURCHASED_DIFFERENT_PRODUCT); other orders are cancelled with the normal codes"
            )
        refusal = cancellation_refusal(
            self.status, self._past_point_of_no_return(point_of_no_return_hours, now)
        )
        self._check_takes(
            "cancelled", refusal, f"cancellation {command.request_id}", refused_by=_refusing(script)
        )
        applied = script.response is ScriptResponse.APPLIED
        request = OrderRequest(
            kind=AppliesTo.CANCELLATION,
            request_id=command.request_id,
            reference=f"CN-{command.request_id:09d}",
            order_id_sent=command.entity_id,
            scenario=command.scenario,
            reply=Reply.DONE if applied else Reply.LATER,
            queued=not applied,
            reason_code=command.reason_code,
        )
        before = self._receive(script)
        events: list[OrderEvent] = []
        if applied:
            self.next_step_due = None
            events += self._linked(LinkedEffect.CANCEL, now)
        elif unsolicited:
            events += self._linked(LinkedEffect.PAUSE, now)
        detail = {
            "answer": request.reply.status,
            "cancellationId": command.request_id,
            "reason": command.reason_code,
        }
        return request, events + self._finish(request, before, now, scripts, "CANCELLATION_RECEIVED", detail)

    def _past_point_of_no_return(self, hours: float | None, now: datetime) -> bool:
        """Cancellation is refused once the engineer is (nearly) on the way: N hours before the target."""
        if hours is None or self.kind is OrderKind.UNSOLICITED_CEASE:
            return False
        target = self.target_date or self.target
        return target is not None and now >= target - timedelta(hours=hours)

    def _receive(self, script: KciScript) -> OrderStatus:
        """Apply what a request's answer does to the order (PENDING_AMENDMENT, CANCELLED, ...)."""
        before = self.status
        state = _apply_triggers(OrderState(self.status, self.previous), script)
        self.status, self.previous = state.status, state.previous
        return before

    def _apply_amendment(self, request: OrderRequest, scripts: Scripts) -> None:
        """Supplied fields replace the order's; arrays are replaced whole; empty ones remove (§3.8)."""
        changes = request.changes or AmendmentChanges()
        if changes.characteristics is not None and self.kind in {OrderKind.PROVIDE, OrderKind.MODIFY}:
            self.characteristics = changes.characteristics
        self.details = amended_details(self.details, changes)
        if changes.engineer_tasks is not None:
            self.details = replace(self.details, engineer_tasks=changes.engineer_tasks)
        if changes.reservation_id is not None:
            self.reservation_id = changes.reservation_id
        self.reservation_reference = changed(self.reservation_reference, changes.reservation_reference)
        if changes.requested_date is not None:
            self.requested_date = changes.requested_date
        if request.new_target is not None:
            # A tenant-driven change is the one thing that may move committedDate.
            self.target = self.target_date = request.new_target
            if self.committed_date is not None:
                self.committed_date = request.new_target
        if self.next_step >= len(scripts.script(self.scenario, AppliesTo.ORDER).steps):
            self.tail = self._tail_steps()

    def _tail_steps(self) -> tuple[ReasonCode, ...]:
        """How the supplier carries on once a tenant's amendment answered a PENDING order."""
        if self.status is OrderStatus.ACKNOWLEDGED:
            return (ReasonCode.COMMITTED, ReasonCode.COMPLETED)
        if self.status is OrderStatus.IN_PROGRESS:
            return (ReasonCode.COMPLETED,)
        return ()

    # --- playing the script ------------------------------------------------------------

    def _request_steps(self, request: OrderRequest, scripts: Scripts) -> Sequence[ScriptStep]:
        return scripts.script(request.scenario, request.kind).steps

    def _own_step(self, scripts: Scripts) -> ScriptStep | None:
        if self.tail:
            reason = self.tail[0]
            return ScriptStep(reason, add_service_id=reason is ReasonCode.COMPLETED)
        steps = scripts.script(self.scenario, AppliesTo.ORDER).steps
        return steps[self.next_step] if self.next_step < len(steps) else None

    def _own_step_played(self) -> None:
        if self.tail:
            self.tail = self.tail[1:]
        else:
            self.next_step += 1

    def _halted(self) -> bool:
        waiting = self._waiting_for_tenant(self.status is OrderStatus.PENDING)
        return waiting or self.paused or is_terminal(self.status)

    def _noted(
        self, at: datetime, event: str, before: OrderStatus | None, detail: Mapping[str, object]
    ) -> StatusChanged:
        return StatusChanged(self.id, at, event, before, self.status, detail)

    def play_next_step(
        self, now: datetime, scripts: Scripts, inventory: InventoryView, zone: tzinfo, *, force: bool = False
    ) -> list[OrderEvent]:
        """Play the next scripted step if it is due (``force``: now, whatever its delay)."""
        due = self._due_step(now, scripts, force=force)
        if due is None:
            return []
        step, request, at = due
        events = self._play(step, request, at, scripts, inventory, zone)
        self._step_played(request, at, scripts)
        return events

    def _play(
        self,
        step: ScriptStep,
        request: OrderRequest | None,
        at: datetime,
        scripts: Scripts,
        inventory: InventoryView,
        zone: tzinfo,
    ) -> list[OrderEvent]:
        """Apply one step: move the state, update the order, and say which KCI it makes."""
        before = self.status
        if step.reason is ReasonCode.COMPLETED:
            problem = self._completion_problem(inventory)
            if problem is not None:
                # The address changed since the order was accepted (another order took the port,
                # or ceased the service): the supplier cancels instead of completing.
                step = ScriptStep(ReasonCode.CANCELLED, problem_code=ProblemCode.CAPACITY_ISSUE, text=problem)
        try:
            state = advance(OrderState(self.status, self.previous), step.reason, status=step.status)
        except IllegalTransition as refused:
            # The order moved on (a cancellation, say) and this step no longer applies.
            detail = {"reason": step.reason.value, "why": str(refused)}
            return [self._noted(at, "STEP_SKIPPED", before, detail)]
        self.status, self.previous = state.status, state.previous
        self._apply_step(step, at, zone)
        if request is not None and step.reason is ReasonCode.AMENDED:
            self._apply_amendment(request, scripts)  # the KCI carries the order as amended
        self.last_sequence += 1
        fault = None if step.fault is None else step.fault.value
        events: list[OrderEvent] = [
            KciDue(
                self.snapshot(),
                request,
                at,
                step.reason,
                self.last_sequence,
                before,
                step.problem_code,
                step.text,
                fault,
            )
        ]
        if state.status is OrderStatus.COMPLETED and self.change is not None:
            events.append(InventoryChanged(self.id, self.change))
        if state.status is OrderStatus.CANCELLED:
            events += self._linked(LinkedEffect.CANCEL, at)
        if step.reason is ReasonCode.CANCELLATION_REJECTED:
            events += self._linked(LinkedEffect.RESUME, at)
        return events

    def _linked(self, effect: LinkedEffect, at: datetime) -> list[OrderEvent]:
        """An unsolicited cease passes what happens to it on to the takeover that raised it."""
        if self.kind is not OrderKind.UNSOLICITED_CEASE or self.linked is None:
            return []
        return [LinkedOrderAffected(self.linked, self.id, effect, at)]

    def _apply_step(self, step: ScriptStep, at: datetime, zone: tzinfo) -> None:
        target = self.target or at
        if step.reason in {ReasonCode.COMMITTED, ReasonCode.CREATED}:
            if step.committed_date_offset_days is not None:
                target = at + timedelta(days=step.committed_date_offset_days)
            if self.committed_date is None:  # committedDate is set once
                self.committed_date = target
            self.target_date = target
        if step.target_date_offset_days is not None:
            moved = (self.target_date or target) + timedelta(days=step.target_date_offset_days)
            self.target = self.target_date = moved
        if step.reappoint:
            start = self.target_date or target
            self.target_date = start
            self.appointment = Appointment(
                start.astimezone(zone),
                (start + REAPPOINTED_SLOT).astimezone(zone),
                f"R{self.id.key}-{self.last_sequence + 1}",
            )
        if (step.add_service_id or step.reason is ReasonCode.COMPLETED) and self.change and self.change.add:
            self.service_id = self.change.add.service_id
        if step.reason is ReasonCode.COMPLETED:
            self.completed_date = at

    def _completion_problem(self, inventory: InventoryView) -> str | None:
        """Why the inventory change can no longer be made, or ``None`` (the new line may move port)."""
        if self.change is None:
            return None
        added = self.change.add
        removed = self.change.remove
        live = [] if added is None else inventory.at_address(added.address)
        site = None if added is None else inventory.site(added.address)
        removed_is_live = removed is None or inventory.service(removed) is not None
        problem, self.change = completion_problem(self.change, live, removed_is_live, site)
        return problem

    # --- what an unsolicited cease does to its takeover --------------------------------

    def pause(self, by: OrderId, at: datetime) -> list[OrderEvent]:
        """While the losing side's objection is decided, this takeover waits."""
        if is_terminal(self.status):
            return []
        self.paused = True
        self.next_step_due = None
        self.updated_at = at
        return [self._noted(at, "PAUSED", self.status, {"by": by.key})]

    def resume(self, by: OrderId, at: datetime, scripts: Scripts) -> list[OrderEvent]:
        """The objection was refused: this takeover carries on."""
        if not self.paused:
            return []
        self.paused = False
        self.schedule_next(at, scripts)
        self.updated_at = at
        return [self._noted(at, "RESUMED", self.status, {"by": by.key})]

    def cancel_for_objection(
        self, at: datetime, scripts: Scripts, inventory: InventoryView, zone: tzinfo
    ) -> list[OrderEvent]:
        """The losing side's objection was upheld ("cancel other"): this takeover is cancelled."""
        if is_terminal(self.status):
            return []
        self.paused = False
        step = ScriptStep(
            ReasonCode.CANCELLED,
            problem_code=ProblemCode.OTHER,
            text=f"the current provider's customer objected to the {self.order_type.value.lower()}",
        )
        events = self._play(step, None, at, scripts, inventory, zone)
        self.next_step_due = None
        self.updated_at = at
        return events
