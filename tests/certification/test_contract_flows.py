"""CON-FLOWS: schemathesis' stateful phase follows the contract's links to real orders."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from contracts.certification.addresses import load_address_book
from contracts.certification.runner import RuleResult, Verdict, certify
from contracts.certification.target import TargetSettings
from simulator.composition import close_app, create_app
from simulator.settings import Settings
from tests.served import serve_wsgi

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment


def crash_on_accepted_cancellations(app: WSGIApplication) -> WSGIApplication:
    """The simulator, except that a cancellation it accepts (2xx) is answered 500 instead.

    Only a cancellation of an order that exists is accepted, so only a chained sequence
    (reservation -> order -> cancellation) meets the fault.
    """

    def broken(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != "/service-order-cancellations":
            return app(environ, start_response)

        def start(status: str, headers: Any, exc_info: Any = None) -> Any:
            if status.startswith("2"):
                status = "500 INTERNAL SERVER ERROR"
            return start_response(status, headers, exc_info)

        return app(environ, start)

    return broken


def run(patterns: list[str], *, broken: bool) -> Iterator[RuleResult]:
    app = create_app(Settings(database=":memory:", clock="manual@2026-07-01T09:00:00Z", background=False))
    try:
        served = crash_on_accepted_cancellations(app) if broken else app
        with serve_wsgi(served) as base:
            settings = TargetSettings(
                base_url=base, addresses=load_address_book("simulator-demo"), seed=4, max_examples=20
            )
            yield from certify(settings, patterns=patterns, announce=lambda _line: None).results
    finally:
        close_app(app)


def test_chained_sequences_reach_real_orders_and_pass_on_the_simulator() -> None:
    (result,) = run(["CON-FLOWS"], broken=False)
    assert result.verdict is Verdict.PASSED, result.message
    notes = " ".join(result.evidence.notes)
    assert "generated requests: stateful" in notes
    assert "201:" in notes  # orders booked on reservations the sequence made


def test_a_fault_only_a_real_order_reaches_is_found_by_the_flows_rule() -> None:
    results = {r.rule.id: r for r in run(["CON-FLOWS", "CON-POST-/service-order-cancellations"], broken=True)}
    assert results["CON-FLOWS"].verdict is Verdict.FAILED
    assert "not_a_server_error" in results["CON-FLOWS"].message
    # On its own the operation never meets an order that exists: the fault stays hidden there.
    assert results["CON-POST-/service-order-cancellations"].verdict is Verdict.PASSED
