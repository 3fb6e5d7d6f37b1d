"""The Supplier API: the endpoints the gateway calls. Handlers only translate."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue

from contracts import SUPPLIER_API
from contracts.operations import operation_index
from simulator.application import appointments as appointments_use_case
from simulator.application import availability as availability_use_case
from simulator.application import order_requests, service_problems, service_tests
from simulator.application import orders as orders_use_case
from simulator.application.context import Context
from simulator.application.orders import Answer
from simulator.domain.clock import check_date_in_range
from simulator.domain.errors import MalformedRequest, NotImplementedOperation
from simulator.domain.inventory import AddressId
from simulator.http import assurance_commands, order_commands, representations
from simulator.http.operations import Handler, add_route
from simulator.http.request_validation import ValidRequest

VALIDATOR = "fibresim.supplier_validator"
_A = TypeVar("_A")
_C = TypeVar("_C")  # a command


def _context() -> Context:
    context: Context = current_app.extensions["fibresim.context"]
    return context


def availability_answer(context: Context, valid: ValidRequest, dumps: Callable[[Any], str]) -> bytes:
    """The JSON of ``GET /service-availability``: what the tenant may order at the address."""
    types = valid.query.get("serviceTypes")
    answer = availability_use_case.availability_at(
        context, AddressId.from_json(valid.query["address"]), valid.headers["Tenant"], types
    )
    return _rendered_once(answer, representations.availability, dumps)


def appointments_answer(context: Context, valid: ValidRequest, dumps: Callable[[Any], str]) -> bytes:
    """The JSON of ``GET /available-appointments``: bookable engineer slots for an address and
    specification."""
    query = valid.query
    from_date = query.get("appointmentFromDate")
    offer = appointments_use_case.available_appointments(
        context,
        AddressId.from_json(query["address"]),
        str(query["serviceSpecification"]["id"]),
        purpose=query["appointmentPurpose"],
        from_date=date.fromisoformat(from_date) if from_date else None,
        classifications=query.get("classifications"),
    )
    return _rendered_once(offer, representations.appointment_offer, dumps)


ReadAnswer = Callable[[Context, ValidRequest, Callable[[Any], str]], bytes]
"""A read's JSON answer from the validated request (its dates already checked), given the app's
``json.dumps``."""


@dataclass(frozen=True, slots=True)
class HotRead:
    """A Supplier API read that a load test repeats, answered 200 with JSON unless refused."""

    operation_id: str
    answer: ReadAnswer


HOT_READS = (
    HotRead("handleAvailabilityCheck", availability_answer),
    HotRead("handleAppointmentAvailability", appointments_answer),
)
"""The reads :mod:`simulator.http.hot_reads` serves without Flask's per-request machinery."""


def _read_handler(read: HotRead) -> Handler:
    def handler(valid: ValidRequest) -> ResponseReturnValue:
        body = read.answer(_context(), valid, current_app.json.dumps)
        return current_app.response_class(body, mimetype="application/json")

    handler.__name__ = read.answer.__name__
    handler.__doc__ = read.answer.__doc__
    return handler


# Cached answers (simulator.application.answer_cache) are rendered once too, by identity: the
# entry holds the answer, so its id cannot be reused while the entry lives. Bounded as the
# answers are.
_RENDERED: dict[int, tuple[object, bytes]] = {}
_RENDERED_LIMIT = 20_000


def _rendered_once(answer: _A, render: Callable[[_A], Any], dumps: Callable[[Any], str]) -> bytes:
    seen = _RENDERED.get(id(answer))
    if seen is None or seen[0] is not answer:
        if len(_RENDERED) >= _RENDERED_LIMIT:
            _RENDERED.clear()
        body = (dumps(render(answer)) + "\n").encode()
        seen = _RENDERED[id(answer)] = (answer, body)
    return seen[1]


def _instant(value: str, field: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise MalformedRequest(f"body {field}: {value!r} is not an ISO-8601 date-time") from None
    if moment.tzinfo is None:
        raise MalformedRequest(f"body {field}: {value!r} needs a UTC offset (e.g. +01:00 or Z)")
    return moment


def reserve_appointment(valid: ValidRequest) -> ResponseReturnValue:
    """``POST /appointments``: hold a slot for a while; 201 with the supplier's reference."""
    body = valid.body
    timeslot = body["timeslot"]
    purpose = body.get("purpose", "PROVIDE")
    reservation, specification = appointments_use_case.reserve_appointment(
        _context(),
        reservation_id=body["id"],
        tenant=valid.headers["Tenant"],
        address=AddressId.from_json(body["address"]),
        spec_id=str(body["serviceSpecification"]["id"]),
        purpose=purpose,
        start=_instant(timeslot["timeslotStartDateTime"], "timeslot/timeslotStartDateTime"),
        end=_instant(timeslot["timeslotEndDateTime"], "timeslot/timeslotEndDateTime"),
    )
    return jsonify(representations.reservation(reservation, specification, body)), 201


def _answer(answer: Answer) -> ResponseReturnValue:
    if answer.body is None:
        return "", answer.reply.status
    return jsonify(answer.body), answer.reply.status


def _command_handler(build: Callable[[ValidRequest], _C], run: Callable[[Context, _C], Answer]) -> Handler:
    """A handler that turns the request into a command, runs it and answers as the use case says."""

    def handler(valid: ValidRequest) -> ResponseReturnValue:
        return _answer(run(_context(), build(valid)))

    handler.__name__ = run.__name__
    handler.__doc__ = build.__doc__
    return handler


def _date_fields(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every ``…Date``/``…DateTime`` string in a request (the contract's naming), with its path."""
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}/{key}" if path else str(key)
            if isinstance(item, str) and str(key).endswith(("Date", "DateTime")):
                yield where, item
            else:
                yield from _date_fields(item, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _date_fields(item, f"{path}/{index}")


def check_dates(context: Context, valid: ValidRequest) -> None:
    """Refuse (422) dates no supplier rule can reach before a handler does arithmetic on them."""
    horizon = context.clock.horizon
    for where, text in _date_fields({"query": valid.query, "body": valid.body}):
        try:
            moment: date = datetime.fromisoformat(text)
        except ValueError:
            continue  # the contract's format check or the handler names a malformed one
        check_date_in_range(where.split("/", 1)[-1], moment, horizon)


def _dates_in_range(handler: Handler) -> Handler:
    """``handler``, behind :func:`check_dates`."""

    def checked(valid: ValidRequest) -> ResponseReturnValue:
        check_dates(_context(), valid)
        return handler(valid)

    checked.__name__ = handler.__name__
    checked.__doc__ = handler.__doc__
    return checked


def _not_implemented(method: str, path: str) -> Handler:
    def handler(_valid: ValidRequest) -> ResponseReturnValue:
        raise NotImplementedOperation(f"{method} {path} is not offered by this simulator yet")

    handler.__name__ = f"not_implemented_{method}_{path}".replace("/", "_").replace("-", "_")
    return handler


HANDLERS: dict[str, Handler] = {
    **{read.operation_id: _read_handler(read) for read in HOT_READS},
    "handleReserveAppointment": reserve_appointment,
    # 201 with the acknowledged order, 202 (a KCI follows) or 422
    "handleCreateOrder": _command_handler(order_commands.place_order, orders_use_case.place_order),
    # 201 applied, 202 (answer by KCI), 404 or 422
    "handleAmendOrder": _command_handler(order_commands.amend_order, order_requests.amend_order),
    # 201 cancelled, 202 (answer by KCI), 404 or 422
    "handleCancelOrder": _command_handler(order_commands.cancel_order, order_requests.cancel_order),
    # 201 with the supplier's reference (the result follows by KCI) or 422
    "handleServiceTest": _command_handler(assurance_commands.run_test, service_tests.run_service_test),
    # 201 acknowledged, 202 (a KCI follows) or 422
    "handleCreateProblem": _command_handler(assurance_commands.raise_problem, service_problems.raise_problem),
    # 201 applied, 202 (answer by KCI), 404 or 422
    "handleAmendProblem": _command_handler(assurance_commands.amend_problem, service_problems.amend_problem),
    # 201 cancelled, 202 (answer by KCI), 404 or 422
    "handleCancelProblem": _command_handler(
        assurance_commands.cancel_problem, service_problems.cancel_problem
    ),
}
"""The handler of each operation the document marks ``x-fibresim-implemented``, by operationId."""


def blueprint() -> Blueprint:
    """Every operation of the Supplier API document, validated; unbuilt ones answer 501."""
    index = operation_index(SUPPLIER_API)
    implemented = {operation.operation_id for operation in index.implemented()}
    if implemented != set(HANDLERS):  # the document's flag is the registry: the two must agree
        raise RuntimeError(
            f"supplier-api.yaml marks {sorted(implemented)} implemented; the handlers are {sorted(HANDLERS)}"
        )
    bp = Blueprint("supplier_api", __name__)
    for operation in index:
        built = HANDLERS.get(operation.operation_id)
        handler = _dates_in_range(built) if built else _not_implemented(*operation.key)
        add_route(bp, VALIDATOR, operation.method, operation.path, handler)
    return bp
