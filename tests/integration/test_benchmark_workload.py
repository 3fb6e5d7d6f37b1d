"""The benchmark harness sends valid requests: what it generates is answered 2xx, and its sink counts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from flask import Flask

from benchmarks.sink import sink
from benchmarks.workload import (
    HEADERS,
    START,
    availability_lines,
    order_lines,
    orderable,
    profile_with_estate,
    reservation_lines,
    slots_lines,
)
from simulator.composition import close_app, create_app
from simulator.settings import Settings


@pytest.fixture(scope="module")
def profile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return profile_with_estate(tmp_path_factory.mktemp("bench"), 3_000)


@pytest.fixture
def app(profile: Path) -> Iterator[Flask]:
    application = create_app(
        Settings(database=":memory:", profile=str(profile), clock=f"manual@{START}", background=False)
    )
    yield application
    close_app(application)


def test_the_generated_reads_are_answered(app: Flask, profile: Path) -> None:
    addresses = orderable(profile, 15)
    assert len(addresses) == 15
    client = app.test_client()
    for path in availability_lines(addresses) + slots_lines(addresses):
        assert client.get(path, headers=HEADERS).status_code == 200, path


def test_every_generated_order_and_reservation_is_accepted(app: Flask, profile: Path) -> None:
    addresses = orderable(profile, 15)
    client = app.test_client()
    fttp = next(a for a in addresses if a.specification == "FTTP")
    [slots_path] = slots_lines([fttp])
    slots = client.get(slots_path, headers=HEADERS).get_json()["availableTimeslots"]
    for number, line in enumerate(order_lines(addresses), start=1):
        body = json.loads(line.replace("@ID@", str(number)))
        answer = client.post("/service-orders", json=body, headers=HEADERS)
        assert answer.status_code == 201, answer.get_json()
    for number, line in enumerate(reservation_lines(addresses, slots), start=1):
        body = json.loads(line.replace("@ID@", str(number)))
        answer = client.post("/appointments", json=body, headers=HEADERS)
        assert answer.status_code == 201, answer.get_json()


def test_the_sink_answers_204_and_counts_every_request() -> None:
    with sink() as (url, tally), httpx.Client() as client:
        answers = [client.post(f"{url}/kcis", json={"n": n}).status_code for n in range(30)]
        assert answers == [204] * 30
        assert tally.count == 30
