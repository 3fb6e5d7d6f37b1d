"""Value objects of the order and problem commands as JSON columns, and back.

Orders and service problems store contacts, contact changes and scenarios the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from simulator.domain.order_commands import REMOVE, Contact, ContactChange, Removal, Scenario

__all__ = [
    "SCENARIO_COLUMNS",
    "SCENARIO_JSON",
    "contact",
    "contact_change",
    "contact_change_json",
    "contact_json",
    "optional",
    "optional_json",
    "scenario",
    "scenario_values",
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
