"""The dashboard (``/_admin/ui``): the running simulator in a browser, for gateway developers.

Server-rendered Jinja2 pages over the same application functions as the admin API, with a
little plain JavaScript (``static/dashboard.js``) that polls small HTML fragments
(``?partial=<region>``) to keep a page live without reloading it. Polling, not an event
stream: a stream would hold a server thread per open tab. Every list is paged by the
database (:mod:`simulator.application.dashboard_reads`), so a page costs the same with a
million addresses as with ten.

Forms post and redirect back (with a flashed message saying what happened); each carries a
CSRF token. With ``--admin-token`` the pages ask for the token once
(:mod:`simulator.http.dashboard_auth`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError, CSRFProtect

from contracts.model.order_states import OrderStatus
from contracts.style import stylesheet
from simulator.application import dashboard_reads, order_reads
from simulator.application import journal as journal_use_case
from simulator.application.context import Context
from simulator.application.due_work import move_clock
from simulator.application.next_event import advance_to_next_event, next_scheduled_event
from simulator.application.reset import reset_simulator
from simulator.domain.clock import parse_duration
from simulator.domain.errors import FibresimError, MalformedRequest, excerpt
from simulator.domain.inventory import AddressId
from simulator.domain.order_commands import OrderType
from simulator.http import dashboard_auth
from simulator.http.dashboard_views import pretty, reason_code, timeline, when
from simulator.http.fault_injection import FAULTS, FaultRules, parse_rule, rule_problems, unoffered_method
from simulator.http.journal import flush_journal
from simulator.http.representations import order_entity
from simulator.http.request_validation import RequestValidator

NAME = "dashboard"
ADVANCES = {"PT5M": "5 min", "PT1H": "1 hour", "P1D": "1 day"}
POLL_MS = 2000
_TEXT_LIMIT = 100  # filters are short; a longer value is a mistake, refused plainly
_HTTP_METHODS = ("*", "GET", "POST", "PATCH", "PUT", "DELETE")


def _context() -> Context:
    context: Context = current_app.extensions["fibresim.context"]
    return context


def _text(name: str, source: Mapping[str, str] | None = None) -> str | None:
    """A short text field of the query (or form): ``None`` when empty."""
    value = (source if source is not None else request.args).get(name, "").strip()
    if len(value) > _TEXT_LIMIT:
        raise MalformedRequest(f"{name}: at most {_TEXT_LIMIT} characters, not {excerpt(value)}")
    return value or None


def _whole(name: str, source: Mapping[str, str] | None = None, *, low: int = 1) -> int | None:
    text = _text(name, source)
    if text is None:
        return None
    # isascii first: str.isdigit() also holds for digits int() refuses ("²").
    if not (text.isascii() and text.isdigit()) or len(text) > 12 or int(text) < low:
        raise MalformedRequest(f"{name}: give a whole number from {low}, not {excerpt(text)}")
    return int(text)


def _render(template: str, regions: Mapping[str, str] | None = None, **values: Any) -> str:
    """The page, or only the fragment ``?partial=`` names (what the polling script asks for)."""
    partial = request.args.get("partial")
    if partial is not None:
        if regions is None or partial not in regions:
            raise MalformedRequest(f"partial: this page has no region {excerpt(partial)}")
        return render_template(regions[partial], **values)
    return render_template(template, **values)


def _back() -> ResponseReturnValue:
    """Back to the page a form was posted from (only ever a dashboard page)."""
    target = request.form.get("next", "")
    home = url_for(f"{NAME}.home")
    prefix = home.rstrip("/")
    if not (target == prefix or target.startswith(prefix + "/") or target.startswith(prefix + "?")):
        target = home
    return redirect(target, 303)


def _rules() -> FaultRules | None:
    rules: FaultRules | None = current_app.extensions.get(FAULTS)
    return rules


def _admin_token() -> str | None:
    token: str | None = current_app.extensions["fibresim.settings"].admin_token
    return token


def _clock_values() -> dict[str, Any]:
    clock = _context().clock
    return {"clock": clock, "now": clock.now(), "next_event": next_scheduled_event(_context())}


def _page_link(**changes: Any) -> str:
    """This page's URL with some query parameters changed (``None`` removes one)."""
    query = {k: v for k, v in request.args.items() if k != "partial"}
    query.update({k: str(v) for k, v in changes.items() if v is not None})
    for name in [k for k, v in changes.items() if v is None]:
        query.pop(name, None)
    return request.path + ("?" + urlencode(query) if query else "")


def blueprint() -> Blueprint:
    """The dashboard's pages, fragments and forms."""
    bp = Blueprint(NAME, __name__, template_folder="templates", static_folder="static")

    @bp.app_template_global()
    def page_link(**changes: Any) -> str:
        return _page_link(**changes)

    bp.add_app_template_filter(when, "when")
    bp.add_app_template_filter(pretty, "pretty")
    bp.add_app_template_filter(reason_code, "reason_code")

    @bp.context_processor
    def _common() -> dict[str, Any]:
        return {
            "advances": ADVANCES,
            "poll_ms": POLL_MS,
            "protected": _admin_token() is not None,
            "current_path": request.full_path.rstrip("?"),
            "statuses": [status.value for status in OrderStatus],
            "order_types": [kind.value for kind in OrderType],
        }

    @bp.before_request
    def _guard() -> ResponseReturnValue | None:
        if request.endpoint in {f"{NAME}.static", f"{NAME}.style", f"{NAME}.login"}:
            if request.method == "POST":
                _csrf().protect()
            return None
        if not dashboard_auth.signed_in(current_app, _admin_token()):
            if request.method == "GET" and "partial" not in request.args:
                return redirect(url_for(f"{NAME}.login", next=request.full_path.rstrip("?")), 303)
            return Response(render_template("dashboard/signed_out.html"), 401)
        if request.method == "POST":
            _csrf().protect()
        return None

    @bp.errorhandler(FibresimError)
    def _refused(error: FibresimError) -> ResponseReturnValue:
        return render_template("dashboard/error.html", error=error), error.status

    @bp.errorhandler(CSRFError)
    def _stale_form(error: CSRFError) -> ResponseReturnValue:
        refused = MalformedRequest(
            f"the form was refused ({error.description}); reload the page and try again"
        )
        return render_template("dashboard/error.html", error=refused), 400

    @bp.get("/style.css")
    def style() -> ResponseReturnValue:
        """The stylesheet the dashboard shares with the certification report."""
        return Response(stylesheet(), mimetype="text/css", headers={"Cache-Control": "max-age=300"})

    _session_routes(bp)
    _clock_routes(bp)
    _order_routes(bp)
    _other_routes(bp)
    return bp


def _csrf() -> CSRFProtect:
    csrf: CSRFProtect = current_app.extensions[dashboard_auth.CSRF]
    return csrf


def _session_routes(bp: Blueprint) -> None:
    @bp.route("/login", methods=["GET", "POST"])
    def login() -> ResponseReturnValue:
        """Sign in with the admin token (only asked for when the simulator has one)."""
        target = request.values.get("next") or url_for(f"{NAME}.home")
        if not target.startswith(url_for(f"{NAME}.home").rstrip("/")):
            target = url_for(f"{NAME}.home")
        if request.method == "POST":
            if dashboard_auth.sign_in(current_app, _admin_token(), request.form.get("token", "")):
                return redirect(target, 303)
            return Response(render_template("dashboard/login.html", failed=True, next=target), 401)
        return render_template("dashboard/login.html", failed=False, next=target)

    @bp.post("/logout")
    def logout() -> ResponseReturnValue:
        """Sign this browser out."""
        dashboard_auth.sign_out()
        return redirect(url_for(f"{NAME}.login"), 303)


def _applied(kcis: int, expired: int) -> str:
    return f"{kcis} KCI step(s) played, {expired} reservation(s) expired"


def _clock_routes(bp: Blueprint) -> None:
    @bp.get("/")
    def home() -> ResponseReturnValue:
        """The clock, the most recent orders and the active faults."""
        orders = dashboard_reads.order_page(_context(), dashboard_reads.OrderFilter(), 1, size=10)
        rules = _rules()
        return _render(
            "dashboard/home.html",
            {"orders": "dashboard/_orders_table.html"},
            orders=orders,
            rules=rules.listing() if rules is not None else [],
            **_clock_values(),
        )

    @bp.get("/clock")
    def clock_fragment() -> ResponseReturnValue:
        """The clock panel alone (every page polls it)."""
        return render_template("dashboard/_clock_state.html", **_clock_values())

    @bp.post("/clock/advance")
    def advance() -> ResponseReturnValue:
        """Move the clock by one of the offered durations."""
        by = request.form.get("by", "")
        if by not in ADVANCES:
            raise MalformedRequest(f"by: one of {', '.join(ADVANCES)}, not {excerpt(by)}")
        return _moved(lambda: _context().clock.advance(parse_duration(by)), f"Moved on {ADVANCES[by]}")

    @bp.post("/clock/set")
    def set_clock() -> ResponseReturnValue:
        """Jump the clock to a time (forward only; UTC when no offset is given)."""
        text = _text("now", request.form) or ""
        try:
            target = datetime.fromisoformat(text)
        except ValueError:
            raise MalformedRequest(
                f"now: give a time such as 2026-07-01T09:00, not {excerpt(text)}"
            ) from None
        if target.tzinfo is None:
            target = target.replace(tzinfo=UTC)  # the page speaks UTC
        return _moved(lambda: _context().clock.set(target), "Set the clock")

    @bp.post("/clock/next-event")
    def next_event() -> ResponseReturnValue:
        """Move the clock to the next scripted KCI step or reservation expiry."""
        try:
            done = advance_to_next_event(_context())
        except FibresimError as refused:
            flash("; ".join(refused.messages), "bad")
            return _back()
        applied = _applied(done.applied.kcis_issued, done.applied.reservations_expired)
        event = done.event
        if event is None:
            flash(f"Nothing is scheduled; the clock stays. {applied}.", "ok")
        else:
            subject = f"order {event.subject}" if event.kind == "kciStep" else f"reservation {event.subject}"
            verb = "Moved to" if done.moved else "Already due:"
            flash(f"{verb} {when(event.at)}: {event.kind} of {subject} ({event.tenant}); {applied}.", "ok")
        return _back()

    @bp.post("/reset")
    def reset() -> ResponseReturnValue:
        """Back to the profile's initial state (as ``POST /_admin/reset`` does)."""
        keep = request.form.get("keepClock") == "on"
        flush_journal(current_app)
        done = reset_simulator(_context(), keep_clock=keep)
        rules = _rules()
        if rules is not None:
            rules.clear()
        removed = ", ".join(f"{count} {table}" for table, count in done.removed.items() if count) or "nothing"
        flash(f"Reset: removed {removed}; clock {'kept' if keep else 'back to its start'}.", "ok")
        return _back()


def _moved(move: Callable[[], object], what: str) -> ResponseReturnValue:
    try:
        done = move_clock(_context(), move)
    except FibresimError as refused:
        flash("; ".join(refused.messages), "bad")
        return _back()
    flash(
        f"{what}: now {when(_context().clock.now())}; "
        f"{_applied(done.kcis_issued, done.reservations_expired)}.",
        "ok",
    )
    return _back()


def _order_filter() -> dashboard_reads.OrderFilter:
    return dashboard_reads.OrderFilter(
        tenant=_text("tenant"), status=_text("status"), order_type=_text("type"), address_id=_text("address")
    )


def _order_routes(bp: Blueprint) -> None:
    @bp.get("/orders")
    def orders() -> ResponseReturnValue:
        """Orders, newest first, filtered and paged by the database."""
        narrowed = _order_filter()
        page = dashboard_reads.order_page(_context(), narrowed, _whole("page") or 1)
        return _render(
            "dashboard/orders.html",
            {"orders": "dashboard/_orders_table.html"},
            orders=page,
            narrowed=narrowed,
            **_clock_values(),
        )

    @bp.get("/orders/<order_key>")
    def order(order_key: str) -> ResponseReturnValue:
        """One order's timeline: states, KCIs with every delivery attempt, requests, its script."""
        tenant = _text("tenant")
        view = order_reads.find_order(_context(), order_key, tenant)
        kcis = order_reads.order_kcis(_context(), order_key, view.order.id.tenant)
        return _render(
            "dashboard/order.html",
            {"timeline": "dashboard/_timeline.html"},
            view=view,
            order=view.order,
            kcis=kcis,
            items=timeline(view, kcis),
            script=dashboard_reads.order_script(_context(), view.order),
            body=pretty(_order_body(view)),
            **_clock_values(),
        )

    @bp.post("/orders/<order_key>/next-step")
    def next_step(order_key: str) -> ResponseReturnValue:
        """Play the order's next scripted step now."""
        tenant = _text("tenant", request.form)
        try:
            view = order_reads.play_next_step(_context(), order_key, tenant)
        except FibresimError as refused:
            flash("; ".join(refused.messages), "bad")
            return _back()
        flash(f"Played the next step of order {order_key}: now {view.order.status.value}.", "ok")
        return _back()


def _order_body(view: order_reads.OrderView) -> Any:
    return order_entity(view.order)


def _address() -> AddressId | None:
    address = _text("address")
    if address is None:
        return None
    kind = _text("type") or "UPRN"
    if len(address) > 64:
        raise MalformedRequest(f"address: at most 64 characters, not {excerpt(address)}")
    return AddressId(address, kind)


def _other_routes(bp: Blueprint) -> None:
    @bp.get("/addresses")
    def address() -> ResponseReturnValue:
        """What the supplier holds for one address: site, live services, reservations, slots."""
        found = _address()
        view = None
        orders = None
        if found is not None:
            view = dashboard_reads.address_view(_context(), found, _whole("page") or 1)
            orders = dashboard_reads.order_page(
                _context(), dashboard_reads.OrderFilter(address_id=found.id), 1, size=10
            )
        return _render(
            "dashboard/address.html",
            {"address": "dashboard/_address.html"},
            address=found,
            view=view,
            orders=orders,
            **_clock_values(),
        )

    @bp.get("/journal")
    def journal() -> ResponseReturnValue:
        """The latest Supplier API requests, filtered; a keyset page at a time."""
        flush_journal(current_app)
        method = _text("method")
        filters = {
            "method": None if method in (None, "*") else method,
            "path": _text("path"),
            "tenant": _text("tenant"),
            "status": _whole("status", low=0),
            "before_id": _whole("before"),
        }
        size = dashboard_reads.PAGE_SIZE
        entries = journal_use_case.read(_context(), limit=size + 1, **filters)
        return _render(
            "dashboard/journal.html",
            {"journal": "dashboard/_journal_table.html"},
            entries=entries[:size],
            older=entries[dashboard_reads.PAGE_SIZE - 1].id
            if len(entries) > dashboard_reads.PAGE_SIZE
            else None,
            filters=filters,
            methods=_HTTP_METHODS,
            **_clock_values(),
        )

    @bp.get("/journal/<int(max=999999999999):entry_id>")  # beyond: 404, not an SQL overflow
    def journal_entry(entry_id: int) -> ResponseReturnValue:
        """One request and its answer in full, secrets masked."""
        flush_journal(current_app)
        entry = journal_use_case.entry(_context(), entry_id)
        return render_template("dashboard/journal_entry.html", entry=entry, **_clock_values())

    @bp.get("/faults")
    def faults() -> ResponseReturnValue:
        """The active fault and latency rules, and a form to add one."""
        rules = _rules()
        return _render(
            "dashboard/faults.html",
            {"faults": "dashboard/_faults_table.html"},
            rules=rules.listing() if rules is not None else [],
            paths=sorted(rules.operations) if rules is not None else [],
            methods=_HTTP_METHODS,
            **_clock_values(),
        )

    @bp.post("/faults")
    def add_fault() -> ResponseReturnValue:
        """Add a rule from the form, validated as ``POST /_admin/faults`` validates its body."""
        rules = _rules()
        if rules is None:
            raise MalformedRequest("fault injection is not installed in this app")
        body = _fault_body(request.form)
        validator: RequestValidator = current_app.extensions["fibresim.admin_validator"]
        try:
            valid = validator.validate(
                "POST", "/faults", {}, {"Content-Type": "application/json"}, json.dumps(body).encode()
            )
        except MalformedRequest as refused:
            flash(
                "Fault rule refused: "
                + "; ".join([*refused.messages, *rule_problems(body, rules.operations)]),
                "bad",
            )
            return _back()
        spec = parse_rule(valid.body)
        problems = rule_problems(valid.body, rules.operations) + unoffered_method(spec, rules.operations)
        if problems:
            flash("Fault rule refused: " + "; ".join(problems), "bad")
            return _back()
        added = rules.add(spec)
        flash(f"Added fault rule {added['id']} on {added['method']} {added['path']}.", "ok")
        return _back()

    @bp.post("/faults/<int:rule_id>/remove")
    def remove_fault(rule_id: int) -> ResponseReturnValue:
        """Remove one rule."""
        rules = _rules()
        if rules is None:
            raise MalformedRequest("fault injection is not installed in this app")
        try:
            rules.remove(rule_id)
        except FibresimError as refused:
            flash("; ".join(refused.messages), "bad")
            return _back()
        flash(f"Removed fault rule {rule_id}.", "ok")
        return _back()


def _fault_body(form: Mapping[str, str]) -> dict[str, Any]:
    """The admin API's fault rule body from the form's fields (empty fields left out)."""
    body: dict[str, Any] = {"method": form.get("method") or "*", "path": form.get("path") or "*"}
    if form.get("tenant", "").strip():
        body["tenant"] = form["tenant"].strip()
    for name in ("status", "delayMs", "times", "retryAfter"):
        text = form.get(name, "").strip()
        if text:
            whole = text.isascii() and text.lstrip("-").isdigit() and len(text) < 12
            body[name] = int(text) if whole else text  # not a number: the document refuses it
    probability = form.get("probability", "").strip()
    if probability:
        try:
            body["probability"] = float(probability)
        except ValueError:
            body["probability"] = probability
    if form.get("drop") == "on":
        body["drop"] = True
    return body


def install_dashboard(app: Flask, admin_prefix: str, signing_key: str) -> None:
    """Serve the dashboard under ``<admin_prefix>/ui``, with sessions and CSRF protection."""
    dashboard_auth.install_sessions(app, signing_key)
    app.register_blueprint(blueprint(), url_prefix=admin_prefix.rstrip("/") + "/ui")
