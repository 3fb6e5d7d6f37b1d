"""Value objects of the order and problem commands as JSON columns, and back.

Orders and service problems store contacts, contact changes, characteristics, the
changes every amendment makes, and scenarios the same way; a problem's details go under
the keys of an amendment's changes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from simulator.domain.assurance_commands import ProblemDetails
from simulator.domain.order_commands import (
    REMOVE,
    Characteristics,
    Contact,
    ContactChange,
    Removal,
    Scenario,
    VisitChanges,
)

__all__ = [
    "SCENARIO_COLUMNS",
    "SCENARIO_JSON",
    "characteristics",
    "characteristics_json",
    "contact",
    "contact_change",
    "contact_change_json",
    "contact_json",
    "optional",
    "optional_json",
    "problem_details",
    "problem_details_json",
    "scenario",
    "scenario_values",
    "visit_changes",
    "visit_changes_json",
]

SCENARIO_JSON = ("name", "params", "problemCode", "kciDelay")
"""Where a scenario's name, parameters, problem code and KCI delay go in a JSON object."""
SCENARIO_COLUMNS = ("scenario_name", "scenario_params", "problem_code", "kci_delay")
"""The same, as the columns of an order or order request (``tables._scenario_choice``)."""


def contact_json(contact: Contact | None) -> dict[str, str] | None:
    """A contact as JSON (fields it lacks left out)."""
    if contact is None:
        return None
    parts = {"name": contact.name, "email": contact.email, "phoneNumber": contact.phone_number}
    return {key: value for key, value in parts.items() if value is not None}


def contact(raw: dict[str, str] | None) -> Contact | None:
    """The contact :func:`contact_json` stored."""
    return None if raw is None else Contact(raw.get("name"), raw.get("email"), raw.get("phoneNumber"))


def optional_json(value: str | Removal | None) -> dict[str, str] | None:
    """An amendment field as JSON: absent (None), removed ({"remove": true}) or set ({"value": ...})."""
    if value is None:
        return None
    return {"remove": "true"} if value is REMOVE else {"value": str(value)}


def optional(raw: dict[str, str] | None) -> str | Removal | None:
    """The amendment field :func:`optional_json` stored."""
    if raw is None:
        return None
    return REMOVE if "remove" in raw else raw["value"]


def contact_change_json(change: ContactChange | None) -> dict[str, Any] | None:
    """An amendment's change to a contact as JSON."""
    if change is None:
        return None
    return {
        "name": optional_json(change.name),
        "email": optional_json(change.email),
        "phoneNumber": optional_json(change.phone_number),
        "removeContact": change.remove_contact,
    }


def contact_change(raw: dict[str, Any] | None) -> ContactChange | None:
    """The contact change :func:`contact_change_json` stored."""
    if raw is None:
        return None
    return ContactChange(
        optional(raw["name"]),
        optional(raw["email"]),
        optional(raw["phoneNumber"]),
        bool(raw["removeContact"]),
    )


def characteristics_json(found: Characteristics | None) -> list[list[str]] | None:
    """Characteristics as JSON ``[name, value]`` pairs, in their order."""
    return None if found is None else [list(pair) for pair in found]


def characteristics(raw: list[list[Any]] | None) -> Characteristics | None:
    """The characteristics :func:`characteristics_json` stored."""
    return None if raw is None else tuple((str(name), str(value)) for name, value in raw)


def _same(value: object) -> object:
    return value


def _visit_json(
    visit: ProblemDetails | VisitChanges,
    contact_json_of: Callable[[Any], dict[str, Any] | None],
    text_json_of: Callable[[Any], object],
) -> dict[str, Any]:
    # A problem's details and every amendment's changes are stored under the same keys.
    return {
        "primaryContact": contact_json_of(visit.primary_contact),
        "secondaryContact": contact_json_of(visit.secondary_contact),
        "hazards": text_json_of(visit.hazards),
        "onSiteRestrictions": text_json_of(visit.on_site_restrictions),
        "notes": text_json_of(visit.notes),
        "reservationId": visit.reservation_id,
        "reservationReference": text_json_of(visit.reservation_reference),
    }


def _visit(
    raw: dict[str, Any], contact_of: Callable[[Any], object], text_of: Callable[[Any], object]
) -> dict[str, Any]:
    """The fields :func:`_visit_json` stored, read back by ``contact_of`` and ``text_of``."""
    return {
        "primary_contact": contact_of(raw["primaryContact"]),
        "secondary_contact": contact_of(raw["secondaryContact"]),
        "hazards": text_of(raw["hazards"]),
        "on_site_restrictions": text_of(raw["onSiteRestrictions"]),
        "notes": text_of(raw["notes"]),
        "reservation_id": raw["reservationId"],
        "reservation_reference": text_of(raw["reservationReference"]),
    }


def problem_details_json(details: ProblemDetails) -> dict[str, Any]:
    """A problem's contacts, site notes and appointment as JSON."""
    return _visit_json(details, contact_json, _same)


def problem_details(raw: dict[str, Any]) -> ProblemDetails:
    """The details :func:`problem_details_json` stored."""
    return ProblemDetails(**_visit(raw, contact, _same))


def visit_changes_json(changes: VisitChanges) -> dict[str, Any]:
    """What every amendment (of an order or a problem) changes, as JSON; each adds its own keys."""
    return _visit_json(changes, contact_change_json, optional_json)


ChangesT = TypeVar("ChangesT", bound=VisitChanges)


def visit_changes(raw: dict[str, Any], changes: Callable[..., ChangesT], **own: Any) -> ChangesT:
    """The changes :func:`visit_changes_json` stored, as ``changes`` with the ``own`` of its kind."""
    return changes(**_visit(raw, contact_change, optional), **own)


def scenario_values(scenario: Scenario, names: tuple[str, ...] = SCENARIO_JSON) -> dict[str, Any]:
    """A scenario under ``names``: a JSON object, or with :data:`SCENARIO_COLUMNS` a row's values."""
    return dict(
        zip(
            names,
            (scenario.name, dict(scenario.params), scenario.problem_code, scenario.kci_delay),
            strict=True,
        )
    )


def scenario(stored: Mapping[str, Any], names: tuple[str, ...] = SCENARIO_JSON) -> Scenario:
    """The scenario :func:`scenario_values` stored under ``names``."""
    name, params, problem_code, kci_delay = names
    pairs = tuple(sorted((str(k), str(v)) for k, v in (stored.get(params) or {}).items()))
    return Scenario(stored.get(name), pairs, stored.get(problem_code), stored.get(kci_delay))
