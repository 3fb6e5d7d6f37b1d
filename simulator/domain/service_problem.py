"""The service problem aggregate: one fault raised on a tenant's live service, and its progress.

A problem is raised (:meth:`ServiceProblem.raise_problem`), amended
(:meth:`ServiceProblem.amend`, escalation requests included) or cancelled
(:meth:`ServiceProblem.cancel`) by the tenant, and plays its KCI script (or the pending
request's script) as the simulator clock reaches each step
(:meth:`ServiceProblem.play_next_step`). Every status change goes through the shared
table :data:`contracts.model.service_problem_states.PROBLEM_STATES`.

While a request waits for its scripted answer the problem's own script waits; while the
problem is PENDING it waits for the tenant's amendment, then carries on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, tzinfo

from contracts.model.service_problem_states import (
    PROBLEM_STATES,
    ProblemReasonCode,
    ProblemStatus,
    problem_amendment_refusal,
    problem_cancellation_refusal,
)
from contracts.model.state_table import Transition, TransitionRefused
from simulator.domain.assurance_commands import (
    AmendProblem,
    CancelProblem,
    ProblemChanges,
    ProblemDetails,
    RaiseProblem,
)
from simulator.domain.assurance_entity import AssuranceEntity
from simulator.domain.assurance_events import AssuranceEvent, AssuranceNoted, KciDue
from simulator.domain.assurance_scripts import (
    AssuranceKind,
    AssuranceResponse,
    AssuranceScript,
    AssuranceStep,
    response_triggers,
)
from simulator.domain.errors import BusinessRuleViolation, excerpt
from simulator.domain.inventory import AddressId
from simulator.domain.order import Appointment
from simulator.domain.order_commands import amended_details, changed
from simulator.domain.scripted import Reply, ScriptedEntity, ScriptedRequest
from simulator.domain.service_test import AssuranceScripts

__all__ = ["ProblemRequestRecord", "ServiceProblem", "problem_key"]

P = ProblemReasonCode
VISIT_LEAD = timedelta(days=1)  # an APPOINTMENT_BOOKED step books the engineer a day ahead
VISIT_LENGTH = timedelta(hours=4)
# A request's reference prefix, what messages call it, and what it would do to the problem.
_REQUEST_WORDS = {
    AssuranceKind.PROBLEM_AMENDMENT: ("SPA", "amendment", "amended"),
    AssuranceKind.PROBLEM_CANCELLATION: ("SPC", "cancellation", "cancelled"),
}


def problem_key(problem_id: int) -> str:
    """The key a problem's KCIs are sequenced under (``SP-88``)."""
    return f"SP-{problem_id}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ProblemRequestRecord(ScriptedRequest[AssuranceKind]):
    """An amendment or cancellation the problem received (PROBLEM_AMENDMENT or PROBLEM_CANCELLATION).

    Its scenario's name is the script's.
    """

    problem_id_sent: int
    changes: ProblemChanges | None = None
    reason_code: str | None = None
    text: str | None = None


def _reply(script: AssuranceScript) -> Reply:
    return Reply.LATER if script.response is AssuranceResponse.ACCEPTED else Reply.DONE


def _refusing(script: AssuranceScript) -> str | None:
    """The name of ``script`` if it answers 422."""
    return script.name if script.response is AssuranceResponse.REJECTED else None


@dataclass(kw_only=True)
class ServiceProblem(ScriptedEntity[ProblemRequestRecord, AssuranceStep, AssuranceScripts], AssuranceEntity):
    """One service problem: what was reported, where it stands, and where its script is."""

    problem_id: int
    problem_text: str
    address: AddressId | None
    service_test_id: int | None
    service_test_reference: str | None
    details: ProblemDetails
    status: ProblemStatus = ProblemStatus.RECEIVED
    previous: ProblemStatus | None = None
    escalated: bool = False
    appointment: Appointment | None = None
    network_incident_reference: str | None = None
    resolution_code: str | None = None
    resolution_text: str | None = None
    resolution_status: str | None = None
    requests: tuple[ProblemRequestRecord, ...] = ()
    reply: Reply

    ENTITY = "problem"

    @property
    def _name(self) -> str:
        return str(self.problem_id)

    @property
    def key(self) -> str:
        """The key its KCIs are sequenced under."""
        return problem_key(self.problem_id)

    def _state(self) -> Transition[ProblemStatus]:
        return Transition(self.status, self.previous)

    def _move(self, reason: str, status: str | None = None) -> None:
        claimed = None if status is None else ProblemStatus(status)
        state = PROBLEM_STATES.advance(self._state(), reason, status=claimed)
        self.status, self.previous = state.status, state.previous

    def _noted(
        self, at: datetime, event: str, before: str | None, detail: Mapping[str, object]
    ) -> AssuranceNoted:
        return AssuranceNoted(self.tenant, self.key, at, event, before, self.status, detail)

    # --- raising, amending, cancelling ------------------------------------------------

    @classmethod
    def raise_problem(
        cls, command: RaiseProblem, script: AssuranceScript, scripts: AssuranceScripts, now: datetime
    ) -> tuple[ServiceProblem, list[AssuranceEvent]]:
        """A problem the acceptance checks passed, answered as ``script`` says (422: refused)."""
        if script.response is AssuranceResponse.REJECTED:
            raise BusinessRuleViolation(
                f"service problem {command.problem_id} is refused by scenario {script.name}"
            )
        problem = cls.requested(
            command,
            script.name,
            now,
            problem_id=command.problem_id,
            supplier_reference=f"SP_{command.problem_id:09d}",
            problem_text=command.problem_text,
            address=command.address,
            service_test_id=command.service_test_id,
            service_test_reference=command.service_test_reference,
            details=command.details,
            next_step_due=None,
            reply=_reply(script),
        )
        for trigger in response_triggers(script):
            problem._move(trigger)
        problem.schedule_next(now, scripts)
        detail = {"script": script.name, "answer": problem.reply.status}
        return problem, [problem._noted(now, "RAISED", None, detail)]

    def _check_reference(self, reference: str | None) -> None:
        if reference and reference != self.supplier_reference:
            raise BusinessRuleViolation(
                f"supplierServiceProblemReference {excerpt(reference)} is not the reference of "
                f"problem {self.problem_id}"
            )

    def amend(
        self,
        command: AmendProblem,
        script: AssuranceScript,
        *,
        refuse_while_pending: bool,
        scripts: AssuranceScripts,
        now: datetime,
    ) -> tuple[ProblemRequestRecord, list[AssuranceEvent]]:
        """Take an amendment (or escalation request): 201 applied, 202 answered later, or 422."""
        refusal = problem_amendment_refusal(self.status, refuse_while_pending=refuse_while_pending)
        request, before = self._take(AssuranceKind.PROBLEM_AMENDMENT, command, script, refusal)
        request = replace(request, changes=command.changes)
        if not request.queued:
            self._apply_amendment(request)
        detail = {"answer": request.reply.status, "amendmentId": command.request_id}
        return request, self._finish(request, before, now, scripts, "AMENDMENT_RECEIVED", detail)

    def cancel(
        self, command: CancelProblem, script: AssuranceScript, *, scripts: AssuranceScripts, now: datetime
    ) -> tuple[ProblemRequestRecord, list[AssuranceEvent]]:
        """Take a cancellation: 201 cancelled, 202 answered later, or 422."""
        refusal = problem_cancellation_refusal(self.status)
        request, before = self._take(AssuranceKind.PROBLEM_CANCELLATION, command, script, refusal)
        request = replace(request, reason_code=command.reason_code, text=command.text)
        detail = {
            "answer": request.reply.status,
            "cancellationId": command.request_id,
            "reason": command.reason_code,
        }
        return request, self._finish(request, before, now, scripts, "CANCELLATION_RECEIVED", detail)

    def _take(
        self,
        kind: AssuranceKind,
        command: AmendProblem | CancelProblem,
        script: AssuranceScript,
        refusal: str | None,
    ) -> tuple[ProblemRequestRecord, ProblemStatus]:
        """Check a request (422), record it and apply what its answer does to the problem.

        ``refusal`` is why the problem's status refuses it, if it does; a CREATED answer is
        applied now, an ACCEPTED one queued. Returns the record and the status before.
        """
        prefix, noun, action = _REQUEST_WORDS[kind]
        request_id = command.request_id
        self._check_reference(command.supplier_reference)
        self._check_takes(action, refusal, f"{noun} {request_id}", refused_by=_refusing(script))
        request = ProblemRequestRecord(
            kind=kind,
            request_id=request_id,
            reference=f"{prefix}-{request_id:09d}",
            problem_id_sent=command.entity_id,
            scenario=replace(command.scenario, name=script.name),
            reply=_reply(script),
            queued=script.response is not AssuranceResponse.CREATED,
        )
        before = self.status
        for trigger in response_triggers(script):
            self._move(trigger)
        return request, before

    def _apply_amendment(self, request: ProblemRequestRecord) -> None:
        """Supplied fields replace the problem's; empty ones remove (§3.8 semantics)."""
        changes = request.changes or ProblemChanges()
        if changes.problem_text is not None:
            self.problem_text = changes.problem_text
        if changes.characteristics is not None:
            self.characteristics = changes.characteristics
        self.escalated = self.escalated or changes.escalation
        details = amended_details(self.details, changes)
        self.details = replace(
            details,
            reservation_id=details.reservation_id
            if changes.reservation_id is None
            else changes.reservation_id,
            reservation_reference=changed(details.reservation_reference, changes.reservation_reference),
        )

    # --- playing the script -------------------------------------------------------------

    def _request_steps(
        self, request: ProblemRequestRecord, scripts: AssuranceScripts
    ) -> Sequence[AssuranceStep]:
        return scripts.script(request.scenario, request.kind).steps

    def _own_step(self, scripts: AssuranceScripts) -> AssuranceStep | None:
        steps = scripts.script(self.scenario, AssuranceKind.PROBLEM).steps
        return steps[self.next_step] if self.next_step < len(steps) else None

    def _own_step_played(self) -> None:
        self.next_step += 1

    def _halted(self) -> bool:
        waiting = self._waiting_for_tenant(self.status is ProblemStatus.PENDING)
        return waiting or self.status in PROBLEM_STATES.terminal

    def play_next_step(
        self, now: datetime, scripts: AssuranceScripts, zone: tzinfo, *, force: bool = False
    ) -> list[AssuranceEvent]:
        """Play the next scripted step if it is due (``force``: now, whatever its delay)."""
        due = self._due_step(now, scripts, force=force)
        if due is None:
            return []
        step, request, at = due
        events = self._play(step, request, at, zone)
        self._step_played(request, at, scripts)
        return events

    def _play(
        self, step: AssuranceStep, request: ProblemRequestRecord | None, at: datetime, zone: tzinfo
    ) -> list[AssuranceEvent]:
        before = self.status
        try:
            self._move(step.reason, step.status)
        except TransitionRefused as refused:
            # The problem moved on (cancelled, say) and this step no longer applies.
            detail = {"reason": step.reason, "why": str(refused)}
            return [self._noted(at, "STEP_SKIPPED", before, detail)]
        self._apply_step(step, request, at, zone)
        self.last_sequence += 1
        code = None if step.problem_code is None else step.problem_code.value
        text = step.text
        if step.reason == P.CANCELLED and request is not None and request.text and not text:
            text = request.text
        return [KciDue(self.snapshot(), request, at, step.reason, self.last_sequence, before, code, text)]

    def _apply_step(
        self, step: AssuranceStep, request: ProblemRequestRecord | None, at: datetime, zone: tzinfo
    ) -> None:
        if request is not None and step.reason == P.AMENDED:
            self._apply_amendment(request)  # the KCI carries the problem as amended
        if step.appointment:
            start = (at + VISIT_LEAD).astimezone(zone)
            self.appointment = Appointment(
                start, start + VISIT_LENGTH, f"V{self.key}-{self.last_sequence + 1}"
            )
        if step.reason == P.NETWORK_INCIDENT:
            self.network_incident_reference = f"NI-{self.problem_id:09d}"
        if step.reason == P.RESOLVED:
            self.resolution_code = step.resolution_code
            self.resolution_text = step.text
            self.resolution_status = "PENDING"
        if step.reason == P.REOPENED:
            self.resolution_status = "REJECTED"
        if step.reason == P.COMPLETED:
            self.resolution_status = "ACCEPTED"
            self.completed_date = at
