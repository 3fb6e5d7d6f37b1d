"""Admin endpoints for the request journal and fault injection, added to the admin blueprint.

| call | what it does |
|---|---|
| ``GET /journal?method=&path=&tenant=&status=&since=&limit=`` | journalled requests, newest first |
| ``DELETE /journal`` | forget every journalled request |
| ``GET /faults`` | the fault rules, oldest first, with remaining budget and hits |
| ``POST /faults`` | add a rule (see :mod:`simulator.http.fault_injection`) |
| ``DELETE /faults``, ``DELETE /faults/<id>`` | remove every rule, or one |
| ``POST /reset`` ``{"keepClock": false}`` | back to the profile's initial state |
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from simulator.application.context import Context
from simulator.application.reset import reset_simulator
from simulator.domain.errors import MalformedRequest, NotImplementedOperation, excerpt
from simulator.http.fault_injection import FAULTS, FaultRules, parse_rule
from simulator.http.journal import flush_journal
from simulator.http.representations import instant
from simulator.http.request_body import json_body
from simulator.storage import journal as journal_store
from simulator.storage.journal import DEFAULT_LIMIT, MAX_LIMIT, JournalEntry

_JOURNAL_FILTERS = ("method", "path", "tenant", "status", "since", "limit")


def _context() -> Context:
    context: Context = current_app.extensions["fibresim.context"]
    return context


def _rules() -> FaultRules:
    rules: FaultRules | None = current_app.extensions.get(FAULTS)
    if rules is None:
        raise NotImplementedOperation("fault injection is not installed in this app")
    return rules


def journal_entry_json(entry: JournalEntry) -> dict[str, Any]:
    """A journal entry as the admin surface shows it."""
    return {
        "id": entry.id,
        "at": instant(entry.at),
        "method": entry.method,
        "path": entry.path,
        "query": entry.query,
        "tenant": entry.tenant,
        "requestId": entry.request_id,
        "conversationId": entry.conversation_id,
        "body": entry.body,
        "status": entry.status,
        "response": entry.response,
    }


def _integer_arg(name: str, low: int, high: int, problems: list[str]) -> int | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        problems.append(f"query {name}: {raw[:60]!r} is not an integer")
        return None
    if not low <= value <= high:
        problems.append(f"query {name}: {value} must be between {low} and {high}")
        return None
    return value


def _since_arg(problems: list[str]) -> datetime | None:
    raw = request.args.get("since")
    if raw is None:
        return None
    try:
        since = datetime.fromisoformat(raw)
    except ValueError:
        since = None
    if since is None or since.tzinfo is None:
        problems.append(f"query since: {raw[:60]!r} is not a date-time with a UTC offset")
        return None
    return since


def _journal_filters() -> dict[str, Any]:
    problems = [
        f"query {name}: unknown parameter; the filters are {', '.join(_JOURNAL_FILTERS)}"
        for name in request.args
        if name not in _JOURNAL_FILTERS
    ]
    filters: dict[str, Any] = {
        "method": request.args.get("method"),
        "path": request.args.get("path"),
        "tenant": request.args.get("tenant"),
        "status": _integer_arg("status", 0, 599, problems),
        "since": _since_arg(problems),
        "limit": _integer_arg("limit", 1, MAX_LIMIT, problems) or DEFAULT_LIMIT,
    }
    if problems:
        raise MalformedRequest(*problems)
    return filters


def _keep_clock() -> bool:
    body = json_body(request)
    if body is None:
        return False
    if not isinstance(body, dict):
        raise MalformedRequest('give the options as a JSON object, e.g. {"keepClock": true}')
    problems = [
        f"body {excerpt(name)}: unknown field; the only field is keepClock"
        for name in body
        if name != "keepClock"
    ]
    keep = body.get("keepClock", False)
    if not isinstance(keep, bool):
        problems.append("body keepClock: give true or false")
    if problems:
        raise MalformedRequest(*problems)
    return keep is True


def register_admin_tools(bp: Blueprint) -> None:
    """Add the journal, fault-injection and reset endpoints to the admin blueprint ``bp``."""

    @bp.post("/reset")
    def reset() -> ResponseReturnValue:
        """Back to the profile's initial state: stored state, fault rules and (unless kept) the clock."""
        keep_clock = _keep_clock()
        flush_journal(current_app)  # else buffered entries from before would land after the reset
        done = reset_simulator(_context(), keep_clock=keep_clock)
        rules: FaultRules | None = current_app.extensions.get(FAULTS)
        fault_rules = len(rules) if rules is not None else 0
        if rules is not None:
            rules.clear()
        clock = _context().clock
        return jsonify(
            {
                "clock": {"now": instant(clock.now()), "kind": clock.kind, "reset": done.clock_reset},
                "removed": {**done.removed, "faultRules": fault_rules},
            }
        )

    @bp.get("/journal")
    def read_journal() -> ResponseReturnValue:
        """Journalled Supplier API requests, newest first, filtered by the query parameters."""
        flush_journal(current_app)
        filters = _journal_filters()
        with _context().database.reading() as connection:
            entries = journal_store.query(connection, **filters)
        return jsonify([journal_entry_json(entry) for entry in entries])

    @bp.delete("/journal")
    def clear_journal() -> ResponseReturnValue:
        """Forget every journalled request."""
        with _context().database.transaction() as connection:
            journal_store.clear(connection)
        return "", 204

    @bp.get("/faults")
    def list_faults() -> ResponseReturnValue:
        """The fault rules, oldest first (the order they are tried in)."""
        return jsonify(_rules().listing())

    @bp.post("/faults")
    def add_fault() -> ResponseReturnValue:
        """Add a fault rule; 400 names every problem, and the known paths for an unknown one."""
        rules = _rules()
        rule = rules.add(parse_rule(json_body(request), rules.operations))
        return jsonify(rule), 201

    @bp.delete("/faults")
    def clear_faults() -> ResponseReturnValue:
        """Remove every fault rule."""
        _rules().clear()
        return "", 204

    @bp.delete("/faults/<int:rule_id>")
    def remove_fault(rule_id: int) -> ResponseReturnValue:
        """Remove one fault rule; 404 lists the rules there are."""
        _rules().remove(rule_id)
        return "", 204
