"""What the dashboard's templates show, built from the read models: timelines, masked payloads.

Kept apart from the routes so each is small: these functions take read models and return
plain values for Jinja2, and know nothing of requests or sessions.
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from simulator.application.order_reads import KciView, OrderView
from simulator.domain.clock import format_instant

MASK = "•••• (masked)"
_SECRET_NAME = re.compile(r"secret|passw|token|authori[sz]ation|api[-_]?key|credential|assertion", re.I)
_SECRET_PAIR = re.compile(
    r"(?P<name>[\w.-]*(?:secret|passw|token|api[-_]?key|credential|assertion)[\w.-]*)=(?P<value>[^&\s]*)",
    re.I,
)


def mask_secrets(value: Any) -> Any:
    """``value`` with every field whose name speaks of a secret masked, at any depth.

    Strings are masked where they look like ``name=value`` pairs of such fields (a form body
    or a query string); everything else is kept as it was.
    """
    if isinstance(value, dict):
        return {
            key: MASK if _SECRET_NAME.search(str(key)) and item not in (None, "") else mask_secrets(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [mask_secrets(item) for item in value]
    if isinstance(value, str):
        return _SECRET_PAIR.sub(lambda m: f"{m['name']}={MASK}", value)
    return value


def pretty(value: Any) -> str:
    """A payload as indented JSON text (a string payload as it is), secrets masked.

    A string that holds a JSON object or array (a gateway's error body kept as text) is
    shown as that JSON, indented.
    """
    if isinstance(value, str) and value.lstrip()[:1] in {"{", "["}:
        with contextlib.suppress(ValueError):  # not JSON after all: shown as text
            value = json.loads(value)
    masked = mask_secrets(value)
    if isinstance(masked, str):
        return masked
    return json.dumps(masked, indent=2, ensure_ascii=False)


def when(moment: datetime | None) -> str:
    """An instant as the pages show it: UTC, to the second."""
    return "" if moment is None else format_instant(moment.replace(microsecond=0))


@dataclass(frozen=True, slots=True)
class TimelineItem:
    """One line of an order's timeline: a state change, a KCI (with its attempts), a request."""

    at: datetime
    kind: str  # "state", "kci", "request"
    title: str
    detail: dict[str, Any] = field(default_factory=dict)
    kci: KciView | None = None


def _reason(kci: KciView) -> str:
    payload = kci.payload
    return str(payload.get("reasonCode", "?"))


def timeline(view: OrderView, kcis: list[KciView]) -> list[TimelineItem]:
    """The order's history and its KCIs, merged in time (history first at one instant)."""
    items = [
        TimelineItem(
            at=entry.at,
            kind="request" if entry.event.startswith(("AMEND", "CANCEL")) else "state",
            title=entry.event
            + (f": {entry.from_status or '—'} → {entry.to_status}" if entry.to_status else ""),
            detail=entry.detail,
        )
        for entry in view.history
    ]
    items += [
        TimelineItem(
            at=kci.entry.created_at,
            kind="kci",
            title=f"KCI #{kci.entry.sequence_number} {_reason(kci)}",
            kci=kci,
        )
        for kci in kcis
    ]
    order = {"state": 0, "request": 0, "kci": 1}
    return sorted(items, key=lambda item: (item.at, order[item.kind]))


def reason_code(kci: KciView) -> str:
    """The KCI's reason code, as the gateway will read it."""
    return _reason(kci)
