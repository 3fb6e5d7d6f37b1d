"""POST /_admin/clock/next-event: the clock jumps to the next scripted KCI step or reservation expiry."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.composition import close_app, create_app
from simulator.settings import Settings
from tests.conftest import START
from tests.contract.test_admin_api import check, reserve_a_slot
from tests.orders_support import order, post, provide


def next_event(client: FlaskClient) -> dict[str, Any]:
    body: dict[str, Any] = check(client.post("/_admin/clock/next-event"), "post", "/clock/next-event", 200)
    return body


def now(client: FlaskClient) -> str:
    state: str = client.get("/_admin/clock").get_json()["now"]
    return state


def test_with_nothing_scheduled_the_clock_stays_and_says_so(client: FlaskClient) -> None:
    answer = next_event(client)
    assert answer["event"] is None
    assert answer["moved"] is False
    assert answer["now"] == START == now(client)
    assert answer["applied"] == {"reservationsExpired": 0, "kcisIssued": 0}


def test_the_clock_moves_to_the_next_scripted_step_and_plays_it(client: FlaskClient) -> None:
    assert post(client, "/service-orders", provide(1001)).status_code == 201
    due = order(client, "1001")["nextStepDue"]
    answer = next_event(client)
    assert answer["moved"] is True
    assert answer["event"] == {"kind": "kciStep", "at": due, "tenant": "TENANT1", "orderKey": "1001"}
    assert answer["now"] == due == now(client)
    assert answer["applied"]["kcisIssued"] == 1
    assert len(client.get("/_admin/orders/1001/kcis").get_json()) == 1
    assert order(client, "1001")["nextStepDue"] != due  # the script moved on to its next step


def test_the_clock_moves_to_a_held_reservations_expiry_and_expires_it(client: FlaskClient) -> None:
    reserve_a_slot(client)
    held = client.get("/_admin/reservations").get_json()[0]
    answer = next_event(client)
    assert answer["event"] == {
        "kind": "reservationExpiry",
        "at": held["expiryDateTime"],
        "tenant": "TENANT1",
        "reservationId": held["id"],
    }
    assert answer["now"] == held["expiryDateTime"]
    assert answer["applied"]["reservationsExpired"] == 1
    assert client.get("/_admin/reservations").get_json()[0]["status"] == "EXPIRED"
    assert next_event(client)["event"] is None  # nothing left to wait for


def test_the_earliest_event_wins_whatever_its_kind(client: FlaskClient) -> None:
    reserve_a_slot(client)  # expires in the profile's 30 minutes
    assert post(client, "/service-orders", provide(1001)).status_code == 201  # first step in 30 s
    assert next_event(client)["event"]["kind"] == "kciStep"


def test_an_event_already_due_is_applied_without_moving_the_clock(app: Flask, client: FlaskClient) -> None:
    assert post(client, "/service-orders", provide(1001)).status_code == 201
    # Move the clock without running due work, as a real clock does between two ticks.
    app.extensions["fibresim.context"].clock.advance(timedelta(hours=1))
    before = now(client)
    answer = next_event(client)
    assert answer["moved"] is False
    assert answer["event"]["orderKey"] == "1001"
    assert answer["event"]["at"] < before == answer["now"]
    assert answer["applied"]["kcisIssued"] >= 1


def test_an_event_past_the_clocks_horizon_is_refused_and_the_clock_stays() -> None:
    application = create_app(
        Settings(
            database=":memory:",
            clock=f"manual@{START}",
            clock_horizon="2026-07-12T00:00:00Z",
            background=False,
        )
    )
    try:
        client = application.test_client()
        # The longest KCI delay puts the first step on 2026-07-12, past the horizon.
        body = provide(1001, requestedCompletionDate="2026-07-11")
        assert post(client, "/service-orders", body, **{"X-Kci-Delay": "999999"}).status_code == 201
        answer = client.post("/_admin/clock/next-event")
        check(answer, "post", "/clock/next-event", 422)
        assert "horizon" in answer.get_json()["messages"][0]
        assert now(client) == START
    finally:
        close_app(application)


@settings(max_examples=10)  # each example plays whole scripts through the app
@given(orders=st.lists(st.integers(min_value=1, max_value=9_999), min_size=1, max_size=4, unique=True))
def test_advancing_event_by_event_never_goes_back_and_ends_with_every_script_played(
    client: FlaskClient, orders: list[int]
) -> None:
    client.post("/_admin/reset", json={})
    for number in orders:
        assert post(client, "/service-orders", provide(number)).status_code == 201
    seen: list[str] = []
    for _ in range(200):  # bounded: a script has a handful of steps
        answer = next_event(client)
        if answer["event"] is None:
            break
        assert answer["now"] == max([answer["event"]["at"], *seen[-1:]])
        seen.append(answer["now"])
    else:
        raise AssertionError("the scripts never ran out of steps")
    assert seen == sorted(seen)
    assert all(order(client, str(number))["nextStepDue"] is None for number in orders)
