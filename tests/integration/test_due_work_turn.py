"""One due-work runner at a time: a clock move and the ticker never play the same steps side by side."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

from benchmarks.workload import order_lines, orderable
from simulator.application.due_work import DUE_WORK, run_due_work_unless_busy
from simulator.composition import Simulator
from simulator.profiles import profile_path
from simulator.settings import Settings
from simulator.storage import Database, outbox
from tests.conftest import START, gateway_headers
from tests.integration.test_dispatcher import database  # the fixture, used by name

__all__ = ["database"]

HOLDER = """
import sys
from simulator.storage import Database
database = Database(sys.argv[1])
with database.exclusive("due work") as held:
    print("held" if held else "not held", flush=True)
    sys.stdin.readline()
"""


def _try(database: Database) -> bool:
    """Whether ``database.exclusive`` is free, asked from a thread of its own."""
    answers: list[bool] = []

    def ask() -> None:
        with database.exclusive(DUE_WORK, wait=False) as held:
            answers.append(held)

    thread = threading.Thread(target=ask)
    thread.start()
    thread.join(10)
    return answers == [True]


def test_the_turn_is_held_against_the_other_threads_and_free_after(database: Database) -> None:
    with database.exclusive(DUE_WORK) as held:
        assert held
        assert not _try(database)
    assert _try(database)


def test_the_turn_is_held_against_another_process_and_let_go_when_it_dies(database: Database) -> None:
    with subprocess.Popen(
        [sys.executable, "-c", HOLDER, database.url], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as holder:
        try:
            assert holder.stdout is not None
            assert holder.stdout.readline().strip() == "held"
            assert not _try(database)
        finally:
            holder.kill()  # no release of its own: the kernel or PostgreSQL lets go for it
            holder.wait(10)
    for _ in range(100):  # PostgreSQL notices the closed session a moment later
        if _try(database):
            break
        threading.Event().wait(0.05)
    assert _try(database)


def test_a_clock_move_beside_a_busy_ticker_applies_and_counts_every_step(tmp_path: Path) -> None:
    settings = Settings(
        database=str(tmp_path / "fibresim.sqlite3"), clock=f"manual@{START}", background=False
    )
    simulator = Simulator(settings)
    client = simulator.app.test_client()
    lines = order_lines(orderable(profile_path("demo"), 40))
    for number, line in enumerate(lines, start=1):
        body = line.replace("@ID@", str(number))
        headers = {**gateway_headers(), "Content-Type": "application/json"}
        assert client.post("/service-orders", data=body, headers=headers).status_code in {201, 202}
    with simulator.database.reading() as connection:
        before = outbox.pending_count(connection)
    stop, passes = threading.Event(), []

    def ticker() -> None:  # the background ticker, as often as it can
        while not stop.is_set():
            passes.append(run_due_work_unless_busy(simulator.context))

    thread = threading.Thread(target=ticker)
    thread.start()
    try:
        moved = client.post("/_admin/clock/advance", json={"by": "PT1H"})
    finally:
        stop.set()
        thread.join(30)
        with simulator.database.reading() as connection:
            after = outbox.pending_count(connection)
        simulator.close()
    assert moved.status_code == 200
    issued = moved.get_json()["applied"]["kcisIssued"]
    assert issued > 0
    assert issued == after - before  # the move did every step; the ticker none of them
    assert None in passes  # the ticker was turned away while the move ran
