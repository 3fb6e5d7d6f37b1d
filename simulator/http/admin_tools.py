"""Admin endpoints for the request journal and fault injection, added to the admin blueprint.

| call | what it does |
|---|---|
| ``GET /journal?method=&path=&tenant=&status=&since=&limit=`` | journalled requests, newest first |
| ``DELETE /journal`` | forget every journalled request |
| ``GET /journal/status`` | the journal's mode, bound, queue and dropped entries |
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

from simulator.application import journal as journal_use_case
from simulator.application.context import Context
from simulator.application.journal import DEFAULT_LIMIT, JournalEntry
from simulator.application.reset import reset_simulator
from simulator.domain.errors import BusinessRuleViolation, MalformedRequest, NotImplementedOperation, excerpt
from simulator.http.fault_injection import FAULTS, FaultRules, parse_rule, rule_problems, unoffered_method
from simulator.http.journal import KEEP, flush_journal, journal_writer
from simulator.http.operations import ExtraCheck, valid_request
from simulator.http.representations import instant
from simulator.http.request_body import json_body
from simulator.http.request_validation import ValidRequest

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
        "latencyMs": entry.latency_ms,
    }


def _journal_filters() -> dict[str, Any]:
    """The journal filters, as validation against the admin document decoded them."""
    query = valid_request().query
    since = query.get("since")
    return {
        "method": query.get("method"),
        "path": query.get("path"),
        "tenant": query.get("tenant"),
        "status": query.get("status"),
        "since": None if since is None else _since(since),
        "limit": query.get("limit", DEFAULT_LIMIT),
    }


def _since(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:  # the format allows years (0000) Python's datetime cannot hold
        raise MalformedRequest(f"query since: {excerpt(text)} is not a date-time from year 1 on") from None


def _unknown_filters(_valid: ValidRequest | None) -> list[str]:
    # The document cannot refuse a query parameter it does not declare; the journal does.
    return [
        f"query {name}: unknown parameter; the filters are {', '.join(_JOURNAL_FILTERS)}"
        for name in request.args
        if name not in _JOURNAL_FILTERS
    ]


def _fault_rule_problems(valid: ValidRequest | None) -> list[str]:
    if valid is not None:
        return rule_problems(valid.body, _rules().operations)
    try:  # the body was refused: add near-miss hints if it is JSON at all
        body = json_body(request)
    except MalformedRequest:
        return []
    return rule_problems(body, _rules().operations)


EXTRA_CHECKS: dict[str, ExtraCheck] = {"readJournal": _unknown_filters, "addFaultRule": _fault_rule_problems}
"""The admin operations' checks that admin-api.yaml cannot state, by operationId."""


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
        fault_rules = rules.clear() if rules is not None else 0
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
        entries = journal_use_case.read(_context(), **filters)
        return jsonify([journal_entry_json(entry) for entry in entries])

    @bp.get("/journal/status")
    def journal_status() -> ResponseReturnValue:
        """The journal's mode and bound, this process's queue, and the entries dropped everywhere."""
        settings = current_app.extensions["fibresim.settings"]
        writer = journal_writer(current_app)
        return jsonify(
            {
                "mode": getattr(settings, "journal", "all"),
                "maxRows": getattr(settings, "journal_max_rows", KEEP),
                "queued": writer.queued if writer is not None else 0,
                "queueCapacity": writer.capacity if writer is not None else 0,
                "dropped": journal_use_case.dropped(_context()),
            }
        )

    @bp.delete("/journal")
    def clear_journal() -> ResponseReturnValue:
        """Forget every journalled request."""
        journal_use_case.clear(_context())
        return "", 204

    @bp.get("/faults")
    def list_faults() -> ResponseReturnValue:
        """The fault rules, oldest first (the order they are tried in)."""
        return jsonify(_rules().listing())

    @bp.post("/faults")
    def add_fault() -> ResponseReturnValue:
        """Add a fault rule; 400 names every problem, and the known paths for an unknown one."""
        rules = _rules()
        spec = parse_rule(valid_request().body)
        unoffered = unoffered_method(spec, rules.operations)
        if unoffered:  # well formed by the contract, but it could never match: a 422
            raise BusinessRuleViolation(*unoffered)
        rule = rules.add(spec)
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
