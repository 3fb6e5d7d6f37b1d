"""Evidence: the HTTP exchanges and notes that decided a rule's verdict.

Every request the suite makes through a :class:`~contracts.certification.target.Target`
is recorded as an :class:`Exchange`; a rule's :class:`Evidence` is the exchanges it made
plus short notes. Secrets never reach a report: ``Authorization`` values are masked when
the exchange is recorded.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["MAX_BODY_CHARS", "Evidence", "Exchange", "mask_headers", "pretty_json"]

MAX_BODY_CHARS = 20_000
"""Bodies longer than this are cut in reports (a fuzzed 8 KiB query is still kept whole)."""

_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})


def mask_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Headers as a dict, with credentials masked so reports can be shared."""
    masked: dict[str, str] = {}
    for name, value in headers:
        if name.lower() in _SECRET_HEADERS:
            scheme = value.split(" ", 1)[0] if " " in value else ""
            masked[name] = f"{scheme} ***".strip()
        else:
            masked[name] = value
    return masked


def _clip(text: str) -> str:
    if len(text) <= MAX_BODY_CHARS:
        return text
    return text[:MAX_BODY_CHARS] + f"\n… ({len(text) - MAX_BODY_CHARS} more characters)"


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request and the response to it (``status`` is ``None`` when none came)."""

    method: str
    url: str
    request_headers: Mapping[str, str] = field(default_factory=dict)
    request_body: str = ""
    status: int | None = None
    response_headers: Mapping[str, str] = field(default_factory=dict)
    response_body: str = ""
    seconds: float = 0.0
    note: str = ""

    @classmethod
    def create(
        cls,
        method: str,
        url: str,
        *,
        request_headers: Iterable[tuple[str, str]] = (),
        request_body: bytes | str = b"",
        status: int | None = None,
        response_headers: Iterable[tuple[str, str]] = (),
        response_body: bytes | str = b"",
        seconds: float = 0.0,
        note: str = "",
    ) -> Exchange:
        """An exchange with headers masked and bodies decoded and clipped."""
        return cls(
            method=method.upper(),
            url=url,
            request_headers=mask_headers(request_headers),
            request_body=_clip(_text(request_body)),
            status=status,
            response_headers=mask_headers(response_headers),
            response_body=_clip(_text(response_body)),
            seconds=round(seconds, 4),
            note=note,
        )

    @property
    def summary(self) -> str:
        """``GET /path -> 200`` on one line."""
        answer = "no response" if self.status is None else str(self.status)
        return f"{self.method} {self.url} -> {answer}"

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready representation."""
        return {
            "method": self.method,
            "url": self.url,
            "requestHeaders": dict(self.request_headers),
            "requestBody": self.request_body,
            "status": self.status,
            "responseHeaders": dict(self.response_headers),
            "responseBody": self.response_body,
            "seconds": self.seconds,
            "note": self.note,
        }


def _text(body: bytes | str) -> str:
    if isinstance(body, str):
        return body
    return body.decode("utf-8", errors="replace")


@dataclass(frozen=True, slots=True)
class Evidence:
    """What decided a verdict: the exchanges made and a few notes."""

    exchanges: tuple[Exchange, ...] = ()
    notes: tuple[str, ...] = ()

    def with_notes(self, *notes: str) -> Evidence:
        """A copy with more notes."""
        return Evidence(self.exchanges, self.notes + tuple(note for note in notes if note))

    def merged(self, other: Evidence | None) -> Evidence:
        """Both evidences together, without repeating an exchange."""
        if other is None:
            return self
        exchanges = self.exchanges + tuple(e for e in other.exchanges if e not in self.exchanges)
        notes = self.notes + tuple(n for n in other.notes if n not in self.notes)
        return Evidence(exchanges, notes)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready representation."""
        return {"notes": list(self.notes), "exchanges": [e.as_dict() for e in self.exchanges]}


def pretty_json(value: Any) -> str:
    """Indented JSON for a report (non-JSON values are shown with ``repr``)."""
    try:
        return json.dumps(value, indent=2, sort_keys=False, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)
