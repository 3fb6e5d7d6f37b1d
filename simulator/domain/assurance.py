"""Whether a service test or a service problem may be accepted (reference §3.10, §3.11).

Both must name a live service of the calling tenant (an unknown service, another tenant's
or a ceased one is refused alike, so a tenant learns nothing of other tenants' services),
with the service's own specification, and a problem type the supplier handles for it.
Problems also carry the tenant's characteristics rules: ``SERVICE_HAS_WORKED`` (true or
false), ``SERVICE_LAST_WORKED`` when it has worked, ``EQUIPMENT_TYPE`` for CPE problems.
Tests are checked against those rules only when the profile says the gateway forwards
them (:attr:`AssurancePolicy.check_test_characteristics`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

from contracts.model.service_problem_states import ServiceProblemType
from simulator.domain.assurance_commands import AssuranceRequest
from simulator.domain.errors import BusinessRuleViolation, excerpt
from simulator.domain.inventory import LiveService
from simulator.domain.order_commands import Characteristics

__all__ = ["AssurancePolicy", "check_characteristics", "check_live_service", "check_problem_type"]

ALL_PROBLEM_TYPES = frozenset(ServiceProblemType)


@dataclass(frozen=True, slots=True)
class AssurancePolicy:
    """How the supplier handles tests and problems (the profile's ``assurance`` section).

    ``problem_types`` maps a service specification to the problem types handled for it;
    a specification not listed handles every type. ``scenarios`` holds the default
    scenario per kind (``testScenario`` …) when the request names none.
    """

    check_test_characteristics: bool = False
    problem_types: Mapping[str, frozenset[str]] = field(default_factory=lambda: MappingProxyType({}))
    scenarios: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    refuse_second_amendment: bool = True

    def handles(self, specification_id: str, problem_type: str) -> bool:
        """Whether problems of ``problem_type`` are handled on a ``specification_id`` service."""
        return problem_type in self.problem_types.get(specification_id, ALL_PROBLEM_TYPES)


def check_live_service(request: AssuranceRequest, service: LiveService | None) -> LiveService:
    """The tenant's live service ``request`` names (``service``: what is live under its id); 422 otherwise.

    An unknown service, another tenant's and a ceased one get one message alike.
    """
    tenant, service_id, specification_id = request.tenant, request.service_id, request.specification_id
    if service is None or service.tenant != tenant:
        raise BusinessRuleViolation(f"serviceId {excerpt(service_id)} is not a live service of {tenant}")
    if service.specification_id != specification_id:
        raise BusinessRuleViolation(
            f"serviceSpecification {excerpt(specification_id)} is not the specification of service "
            f"{service_id} ({service.specification_id})"
        )
    return service


def check_problem_type(policy: AssurancePolicy, service: LiveService, problem_type: str) -> None:
    """422 when the supplier does not handle ``problem_type`` on this service's specification."""
    if not policy.handles(service.specification_id, problem_type):
        handled = ", ".join(sorted(policy.problem_types.get(service.specification_id, ALL_PROBLEM_TYPES)))
        raise BusinessRuleViolation(
            f"problemType {problem_type} is not supported on {service.specification_id} services; "
            f"supported: {handled}"
        )


def _instant(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def check_characteristics(problem_type: str, characteristics: Characteristics, now: datetime) -> None:
    """The tenant's characteristics rules (§3.10, §3.11); 422 naming every broken one."""
    values: dict[str, str] = {}
    problems: list[str] = []
    for name, value in characteristics:
        if name in values:
            problems.append(f"characteristic {excerpt(name)} is given twice")
        values[name] = value
    worked = values.get("SERVICE_HAS_WORKED")
    if worked is None:
        problems.append("characteristic SERVICE_HAS_WORKED is required (true or false)")
    elif worked not in {"true", "false"}:
        problems.append(f"SERVICE_HAS_WORKED must be true or false, not {excerpt(worked)}")
    last = values.get("SERVICE_LAST_WORKED")
    if worked == "true" and not last:
        problems.append("SERVICE_LAST_WORKED is required when SERVICE_HAS_WORKED is true")
    if last:
        moment = _instant(last)
        if moment is None:
            problems.append(f"SERVICE_LAST_WORKED {excerpt(last)} is not a date-time with an offset")
        elif moment > now:
            problems.append(f"SERVICE_LAST_WORKED {excerpt(last)} is in the future")
    if problem_type == ServiceProblemType.CPE and not values.get("EQUIPMENT_TYPE"):
        problems.append("EQUIPMENT_TYPE is required for a CPE problem")
    if problems:
        raise BusinessRuleViolation(*problems)
