"""Use case: put the simulator back to its profile's initial state."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from simulator.application import journal
from simulator.application.context import Context
from simulator.domain.inventory import LiveService
from simulator.storage import inventory as inventory_store
from simulator.storage.maintenance import clear_all
from simulator.storage.shared_state import VERSIONED, bump


@dataclass(frozen=True, slots=True)
class ResetDone:
    """What a reset removed (rows per table) and whether the clock went back to its start."""

    removed: dict[str, int] = field(default_factory=dict)
    clock_reset: bool = True


# The profile's initial services, kept per profile version: generating the estate's costs
# ~0.2 s, and test suites reset between every test (the services are frozen dataclasses).
# Only small estates are kept: a large one is generated again, so memory stays flat.
_INITIAL: dict[str, tuple[LiveService, ...]] = {}
_CACHED_ESTATE = 20_000


def _initial_services(context: Context) -> Iterable[LiveService]:
    estate = context.profile.estate
    if estate is not None and estate.size > _CACHED_ESTATE:
        return context.directory.initial_live_services()
    key = context.profile.fingerprint
    if key not in _INITIAL:
        if len(_INITIAL) >= 8:  # bounded: a long-lived process seldom sees more than one profile
            _INITIAL.clear()
        _INITIAL[key] = tuple(context.directory.initial_live_services())
    return _INITIAL[key]


def reset_simulator(context: Context, *, keep_clock: bool = False) -> ResetDone:
    """Forget every order, reservation, KCI and journal entry, and re-seed the inventory.

    Everything stored goes in one transaction, then the profile's live services are seeded
    again as on a first start. The clock goes back to its start unless ``keep_clock``; it is
    reset first, so the seeding is stamped with the time the simulator starts from again.
    In-memory state of the HTTP layer (fault rules) is the caller's to clear.
    """
    if not keep_clock:
        context.clock.reset()
    with context.database.transaction() as connection:
        removed = clear_all(connection)
        inventory_store.seed(
            connection,
            context.profile.fingerprint,
            _initial_services(context),
            context.clock.now(),
        )
        bump(connection, *VERSIONED)  # every cached answer of every worker is stale now
    if context.journal_database is not context.database:  # the journal's own file
        removed["journal"] = removed.get("journal", 0) + journal.clear(context)
    context.shared.forget()
    return ResetDone(removed=removed, clock_reset=not keep_clock)
