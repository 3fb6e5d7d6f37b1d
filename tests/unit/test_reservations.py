"""Reservations: holding, expiring, confirming and sharing slot capacity within a patch."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from simulator.domain.errors import BusinessRuleViolation
from simulator.domain.reservations import (
    Reservation,
    ReservationConfirmed,
    ReservationExpired,
    ReservationMade,
    ReservationReleased,
    ReservationStatus,
    SlotRequest,
    booked_counts,
    confirm,
    expire_due,
    is_holding,
    make_reservation,
    release,
    reserve_slot,
    same_request,
)
from simulator.domain.slots import AppointmentPolicy, Slot, SlotWindow, offered_slots

LONDON = ZoneInfo("Europe/London")
EVERY_DAY = frozenset(range(7))


def every_day(
    hours: tuple[int, int, int], capacities: tuple[int, int], *, ttl: timedelta, horizon_days: int
) -> AppointmentPolicy:
    """A morning window and the afternoon one after it, every day; ``hours`` are start, split and end."""
    start, split, end = hours
    morning, afternoon = capacities
    return AppointmentPolicy(
        windows=(
            SlotWindow(EVERY_DAY, time(start), time(split), "WEEKDAY_AM", capacity=morning),
            SlotWindow(EVERY_DAY, time(split), time(end), "WEEKDAY_PM", capacity=afternoon),
        ),
        reservation_ttl=ttl,
        horizon_days=horizon_days,
    )


POLICY = every_day((8, 13, 18), (2, 1), ttl=timedelta(minutes=30), horizon_days=14)
NOW = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)
PM_14TH = Slot(
    datetime(2026, 7, 14, 13, tzinfo=LONDON), datetime(2026, 7, 14, 18, tzinfo=LONDON), "WEEKDAY_PM", True, 1
)


def held(
    reservation_id: int = 234, *, patch: str = "LS1", slot: Slot = PM_14TH, at: datetime = NOW
) -> Reservation:
    reservation, _ = make_reservation(
        POLICY, request(reservation_id, patch=patch, start=slot.start, end=slot.end), slot, at
    )
    return reservation


def request(
    reservation_id: int = 234,
    *,
    tenant: str = "TENANT1",
    patch: str = "LS1",
    purpose: str = "PROVIDE",
    start: datetime = PM_14TH.start,
    end: datetime = PM_14TH.end,
) -> SlotRequest:
    """A request for the slot ``start``-``end`` at the demo's single-service address."""
    return SlotRequest(reservation_id, tenant, "UPRN:100000000002", "FTTP", patch, purpose, start, end)


def reserve(
    reservation_id: int,
    *,
    others: list[Reservation],
    start: datetime = PM_14TH.start,
    existing: Reservation | None = None,
    now: datetime = NOW,
    tenant: str = "TENANT1",
) -> tuple[Reservation, ReservationMade | None]:
    return reserve_slot(
        POLICY,
        request(reservation_id, tenant=tenant, start=start, end=start + timedelta(hours=5)),
        now=now,
        lead_time_days=10,
        existing=existing,
        others=others,
    )


# --- Making and holding ----------------------------------------------------------------------------


def test_a_new_reservation_is_held_until_now_plus_the_ttl() -> None:
    reservation, event = make_reservation(POLICY, request(234), PM_14TH, NOW)
    assert reservation.status == ReservationStatus.HELD
    assert reservation.expires_at == datetime(2026, 7, 1, 9, 30, tzinfo=UTC)
    assert reservation.supplier_reference == "A234"
    assert reservation.order_id is None
    assert event == ReservationMade(reservation)


def test_a_held_reservation_stops_holding_at_its_expiry_instant() -> None:
    reservation = held()
    assert is_holding(reservation, NOW + timedelta(minutes=29, seconds=59))
    assert not is_holding(reservation, NOW + timedelta(minutes=30))


def test_a_confirmed_reservation_holds_its_slot_long_after_the_ttl() -> None:
    reservation, _ = confirm(held(), NOW + timedelta(minutes=1), order_id=7)
    assert is_holding(reservation, NOW + timedelta(days=10))


def test_released_and_expired_reservations_do_not_hold() -> None:
    assert not is_holding(replace(held(), status=ReservationStatus.RELEASED), NOW)
    assert not is_holding(replace(held(), status=ReservationStatus.EXPIRED), NOW)


# --- Confirming --------------------------------------------------------------------------------------


def test_an_order_confirms_a_held_reservation() -> None:
    at = NOW + timedelta(minutes=10)
    reservation, event = confirm(held(), at, order_id=7)
    assert reservation.status == ReservationStatus.CONFIRMED
    assert reservation.order_id == 7
    assert event == ReservationConfirmed(234, 7, at)


def test_confirming_again_for_the_same_order_changes_nothing() -> None:
    reservation, _ = confirm(held(), NOW, order_id=7)
    again, event = confirm(reservation, NOW + timedelta(hours=2), order_id=7)
    assert again == reservation
    assert event is None


def test_a_reservation_used_by_one_order_cannot_be_used_by_another() -> None:
    reservation, _ = confirm(held(), NOW, order_id=7)
    with pytest.raises(BusinessRuleViolation, match="reservation 234 is already used by order 7"):
        confirm(reservation, NOW, order_id=8)


def test_expired_reservation_cannot_be_used_by_an_order() -> None:
    with pytest.raises(
        BusinessRuleViolation,
        match=r"reservation 234 expired at 2026-07-01T09:30:00\+00:00; reserve a new slot",
    ):
        confirm(held(), NOW + timedelta(minutes=30), order_id=7)


def test_a_swept_expired_reservation_cannot_be_used_by_an_order() -> None:
    [(expired, _)] = expire_due([held()], NOW + timedelta(hours=1))
    with pytest.raises(BusinessRuleViolation, match="expired at"):
        confirm(expired, NOW + timedelta(hours=1), order_id=7)


def test_a_released_reservation_cannot_be_used_by_an_order() -> None:
    released, _ = release(held(), NOW)
    with pytest.raises(BusinessRuleViolation, match="released"):
        confirm(released, NOW, order_id=7)


# --- Releasing and expiring --------------------------------------------------------------------------


def test_releasing_a_held_reservation_frees_it() -> None:
    released, event = release(held(), NOW + timedelta(minutes=5))
    assert released.status == ReservationStatus.RELEASED
    assert event == ReservationReleased(234, NOW + timedelta(minutes=5))
    assert release(released, NOW + timedelta(minutes=6)) == (released, None)


def test_a_confirmed_reservation_cannot_be_released() -> None:
    confirmed, _ = confirm(held(), NOW, order_id=7)
    with pytest.raises(BusinessRuleViolation, match="used by order 7"):
        release(confirmed, NOW)


def test_expire_due_expires_only_held_reservations_at_or_past_their_expiry() -> None:
    due = held(1, at=NOW)
    not_yet = held(2, at=NOW + timedelta(minutes=1))
    confirmed, _ = confirm(held(3, at=NOW), NOW, order_id=9)
    already = replace(held(4, at=NOW), status=ReservationStatus.EXPIRED)
    expired = expire_due([due, not_yet, confirmed, already], NOW + timedelta(minutes=30))
    assert expired == [
        (replace(due, status=ReservationStatus.EXPIRED), ReservationExpired(1, NOW + timedelta(minutes=30)))
    ]


# --- Capacity and idempotency ----------------------------------------------------------------------


def test_booked_counts_count_holding_reservations_within_the_patch() -> None:
    am = Slot(
        datetime(2026, 7, 14, 8, tzinfo=LONDON),
        datetime(2026, 7, 14, 13, tzinfo=LONDON),
        "WEEKDAY_AM",
        True,
        2,
    )
    reservations = [
        held(1, slot=am),
        held(2, slot=am),
        held(3),
        held(4, patch="LS2"),
        replace(held(5), status=ReservationStatus.RELEASED),
        held(6, at=NOW - timedelta(hours=1)),  # expired, not yet swept
    ]
    assert booked_counts(reservations, NOW, "LS1") == {
        datetime(2026, 7, 14, 7, tzinfo=UTC): 2,
        datetime(2026, 7, 14, 12, tzinfo=UTC): 1,
    }


def test_reserving_an_offered_slot_makes_a_held_reservation() -> None:
    reservation, event = reserve(234, others=[])
    assert reservation.slot == PM_14TH
    assert reservation.status == ReservationStatus.HELD
    assert event == ReservationMade(reservation)


def test_a_full_slot_cannot_be_reserved_until_its_holder_expires() -> None:
    holder, _ = reserve(1, others=[])
    with pytest.raises(BusinessRuleViolation, match="full"):
        reserve(2, others=[holder])
    later = NOW + POLICY.reservation_ttl
    second, event = reserve(2, others=[holder], now=later)
    assert event is not None
    assert second.expires_at == later + POLICY.reservation_ttl


def test_the_same_reservation_request_again_is_answered_with_the_existing_reservation() -> None:
    first, _ = reserve(234, others=[])
    same_instant_in_utc = PM_14TH.key
    again, event = reserve(
        234, others=[first], existing=first, start=same_instant_in_utc, now=NOW + timedelta(minutes=10)
    )
    assert again is first
    assert event is None


def test_a_reservation_id_reused_for_another_slot_is_refused() -> None:
    first, _ = reserve(234, others=[])
    with pytest.raises(BusinessRuleViolation, match="reservation id 234 is already used"):
        reserve(234, others=[first], existing=first, start=PM_14TH.start + timedelta(days=1))


def test_a_reservation_id_reused_by_another_tenant_is_refused() -> None:
    first, _ = reserve(234, others=[])
    with pytest.raises(BusinessRuleViolation, match="reservation id 234 is already used"):
        reserve(234, others=[first], existing=first, tenant="TENANT2")


def test_an_expired_reservation_id_cannot_be_reused() -> None:
    first, _ = reserve(234, others=[])
    with pytest.raises(BusinessRuleViolation, match="reservation id 234 is already used"):
        reserve(234, others=[first], existing=first, now=NOW + timedelta(hours=1))


def test_same_request_compares_times_as_instants() -> None:
    reservation = held()
    assert same_request(reservation, request(start=PM_14TH.key, end=PM_14TH.end.astimezone(UTC)))
    assert not same_request(reservation, request(start=PM_14TH.key, purpose="MODIFY"))


# --- The lifecycle against a tiny model ---------------------------------------------------------


MACHINE_POLICY = every_day((8, 11, 14), (1, 2), ttl=timedelta(minutes=90), horizon_days=2)
PATCHES = ("LS1", "LS2")
# Friday before the spring clock change, so runs cross it.
MACHINE_START = datetime(2026, 3, 27, 6, 0, tzinfo=UTC)


class ReservationLifecycle(RuleBasedStateMachine):
    """Reserve, confirm, release, sweep and let time pass; a dict of statuses is the model."""

    def __init__(self) -> None:
        super().__init__()
        self.now = MACHINE_START
        self.reservations: dict[int, Reservation] = {}
        self.model_status: dict[int, ReservationStatus] = {}
        self.model_expiry: dict[int, datetime] = {}
        self.model_order: dict[int, int] = {}
        self.next_id = 1
        self.next_order = 100

    # model queries
    def model_holding(self, reservation_id: int) -> bool:
        status = self.model_status[reservation_id]
        return status == ReservationStatus.CONFIRMED or (
            status == ReservationStatus.HELD and self.now < self.model_expiry[reservation_id]
        )

    def model_in_use(self, patch: str, slot: Slot) -> int:
        return sum(
            1
            for rid, r in self.reservations.items()
            if r.patch == patch and r.slot.key == slot.key and self.model_holding(rid)
        )

    def ids_where(self, wanted: bool, *statuses: ReservationStatus) -> list[int]:
        return sorted(
            rid
            for rid, status in self.model_status.items()
            if status in statuses and self.model_holding(rid) == wanted
        )

    def held_ids(self) -> list[int]:
        return self.ids_where(True, ReservationStatus.HELD)

    def unusable_ids(self) -> list[int]:
        return self.ids_where(
            False, ReservationStatus.HELD, ReservationStatus.EXPIRED, ReservationStatus.RELEASED
        )

    def confirmed_ids(self) -> list[int]:
        return self.ids_where(True, ReservationStatus.CONFIRMED)

    def attempt(self, patch: str, slot: Slot, utc_form: bool) -> None:
        reservation_id = self.next_id
        self.next_id += 1
        room = self.model_in_use(patch, slot) < slot.capacity

        def send() -> tuple[Reservation, ReservationMade | None]:
            return reserve_slot(
                MACHINE_POLICY,
                SlotRequest(
                    reservation_id,
                    "TENANT1",
                    f"UPRN:{reservation_id}",
                    "FTTP",
                    patch,
                    "PROVIDE",
                    slot.key if utc_form else slot.start,
                    slot.end.astimezone(UTC) if utc_form else slot.end,
                ),
                now=self.now,
                lead_time_days=0,
                existing=None,
                others=self.reservations.values(),
            )

        if not room:
            with pytest.raises(BusinessRuleViolation, match="full"):
                send()
            return
        reservation, event = send()
        assert event == ReservationMade(reservation)
        assert reservation.slot == slot
        self.reservations[reservation_id] = reservation
        self.model_status[reservation_id] = ReservationStatus.HELD
        self.model_expiry[reservation_id] = self.now + MACHINE_POLICY.reservation_ttl

    @rule(data=st.data(), patch=st.sampled_from(PATCHES), utc_form=st.booleans())
    def reserve_an_offered_slot(self, data: st.DataObject, patch: str, utc_form: bool) -> None:
        booked = booked_counts(self.reservations.values(), self.now, patch)
        offered = offered_slots(MACHINE_POLICY, now=self.now, lead_time_days=0, booked=booked)
        if offered:
            self.attempt(patch, data.draw(st.sampled_from(offered)), utc_form)

    @rule(data=st.data(), patch=st.sampled_from(PATCHES))
    def reserve_any_slot_of_the_grid(self, data: st.DataObject, patch: str) -> None:
        grid = offered_slots(MACHINE_POLICY, now=self.now, lead_time_days=0)
        if grid:
            self.attempt(patch, data.draw(st.sampled_from(grid)), utc_form=False)

    @rule(by=st.timedeltas(min_value=timedelta(minutes=1), max_value=timedelta(hours=3)))
    def advance_the_clock(self, by: timedelta) -> None:
        self.now += by

    @precondition(lambda self: self.held_ids())
    @rule(data=st.data())
    def confirm_a_held_reservation(self, data: st.DataObject) -> None:
        reservation_id = data.draw(st.sampled_from(self.held_ids()))
        order_id = self.next_order
        self.next_order += 1
        confirmed, event = confirm(self.reservations[reservation_id], self.now, order_id)
        assert event == ReservationConfirmed(reservation_id, order_id, self.now)
        self.reservations[reservation_id] = confirmed
        self.model_status[reservation_id] = ReservationStatus.CONFIRMED
        self.model_order[reservation_id] = order_id

    @precondition(lambda self: self.unusable_ids())
    @rule(data=st.data())
    def confirm_an_unusable_reservation(self, data: st.DataObject) -> None:
        reservation_id = data.draw(st.sampled_from(self.unusable_ids()))
        with pytest.raises(BusinessRuleViolation, match=r"expired at|released"):
            confirm(self.reservations[reservation_id], self.now, self.next_order)

    @precondition(lambda self: self.confirmed_ids())
    @rule(data=st.data(), same_order=st.booleans())
    def confirm_a_confirmed_reservation_again(self, data: st.DataObject, same_order: bool) -> None:
        reservation_id = data.draw(st.sampled_from(self.confirmed_ids()))
        reservation = self.reservations[reservation_id]
        if same_order:
            assert confirm(reservation, self.now, self.model_order[reservation_id]) == (reservation, None)
        else:
            with pytest.raises(BusinessRuleViolation, match="already used by order"):
                confirm(reservation, self.now, self.next_order)

    @precondition(lambda self: self.held_ids())
    @rule(data=st.data())
    def release_a_held_reservation(self, data: st.DataObject) -> None:
        reservation_id = data.draw(st.sampled_from(self.held_ids()))
        released, event = release(self.reservations[reservation_id], self.now)
        assert event == ReservationReleased(reservation_id, self.now)
        self.reservations[reservation_id] = released
        self.model_status[reservation_id] = ReservationStatus.RELEASED

    @rule()
    def expire_what_is_due(self) -> None:
        due = {
            rid
            for rid, status in self.model_status.items()
            if status == ReservationStatus.HELD and self.model_expiry[rid] <= self.now
        }
        expired = expire_due(self.reservations.values(), self.now)
        assert {r.id for r, _ in expired} == due
        for reservation, event in expired:
            assert event == ReservationExpired(reservation.id, self.model_expiry[reservation.id])
            self.reservations[reservation.id] = reservation
            self.model_status[reservation.id] = ReservationStatus.EXPIRED

    @invariant()
    def no_slot_holds_more_than_its_capacity(self) -> None:
        for patch in PATCHES:
            for key, count in booked_counts(self.reservations.values(), self.now, patch).items():
                [capacity] = {r.slot.capacity for r in self.reservations.values() if r.slot.key == key}
                assert count <= capacity

    @invariant()
    def statuses_follow_the_model(self) -> None:
        for reservation_id, reservation in self.reservations.items():
            assert reservation.status == self.model_status[reservation_id]
            assert is_holding(reservation, self.now) == self.model_holding(reservation_id)

    @invariant()
    def confirmed_reservations_keep_their_order(self) -> None:
        for reservation_id, order_id in self.model_order.items():
            reservation = self.reservations[reservation_id]
            assert reservation.status == ReservationStatus.CONFIRMED
            assert reservation.order_id == order_id


TestReservationLifecycle = ReservationLifecycle.TestCase
