"""Value objects of the order and problem commands as JSON columns, and back.

Orders and service problems store contacts, contact changes, characteristics, the
changes every amendment makes, and scenarios the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

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


def visit_changes_json(changes: VisitChanges) -> dict[str, Any]:
    """What every amendment (of an order or a problem) changes, as JSON; each adds its own keys."""
    return {
        "primaryContact": contact_change_json(changes.primary_contact),
        "secondaryContact": contact_change_json(changes.secondary_contact),
        "hazards": optional_json(changes.hazards),
        "onSiteRestrictions": optional_json(changes.on_site_restrictions),
        "notes": optional_json(changes.notes),
        "reservationId": changes.reservation_id,
        "reservationReference": optional_json(changes.reservation_reference),
    }


ChangesT = TypeVar("ChangesT", bound=VisitChanges)


def visit_changes(raw: dict[str, Any], changes: Callable[..., ChangesT], **own: Any) -> ChangesT:
    """The changes :func:`visit_changes_json` stored, as ``changes`` with the ``own`` of its kind."""
    return changes(
        primary_contact=contact_change(raw["primaryContact"]),
        secondary_contact=contact_change(raw["secondaryContact"]),
        hazards=optional(raw["hazards"]),
        on_site_restrictions=optional(raw["onSiteRestrictions"]),
        notes=optional(raw["notes"]),
        reservation_id=raw["reservationId"],
        reservation_reference=optional(raw["reservationReference"]),
        **own,
    )


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
