"""The slot grid: lead time, horizon, closed dates, filters, capacity and UK clock changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulator.domain.errors import BusinessRuleViolation, MalformedRequest
from simulator.domain.slots import (
    AppointmentPolicy,
    Slot,
    SlotWindow,
    check_slot_offered,
    first_bookable_day,
    offered_slots,
)

LONDON = ZoneInfo("Europe/London")
MON_TO_FRI = frozenset(range(5))
SUNDAY = frozenset({6})

POLICY = AppointmentPolicy(
    windows=(
        SlotWindow(MON_TO_FRI, time(8), time(13), "WEEKDAY_AM", capacity=3),
        SlotWindow(MON_TO_FRI, time(13), time(18), "WEEKDAY_PM", capacity=3),
        SlotWindow(
            MON_TO_FRI,
            time(18),
            time(20),
            "WEEKDAY_EVENING",
            standard=False,
            capacity=1,
            purposes=frozenset({"PROVIDE", "REPAIR"}),
        ),
        SlotWindow(frozenset({5}), time(8), time(13), "SATURDAY_AM", standard=False, capacity=2),
    ),
    closed_dates=frozenset({date(2026, 12, 25), date(2026, 12, 26), date(2026, 12, 28), date(2027, 1, 1)}),
)

# Wednesday 1 July 2026, 10:00 BST.
JULY_NOW = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LONDON)


def slot_on(slots: list[Slot], day: date, classification: str) -> Slot:
    [slot] = [s for s in slots if s.start.date() == day and s.classification == classification]
    return slot


def refusal(**overrides: object) -> str:
    arguments: dict[str, object] = {
        "now": JULY_NOW,
        "lead_time_days": 10,
        "purpose": "PROVIDE",
        "booked": {},
    }
    arguments.update(overrides)
    with pytest.raises(BusinessRuleViolation) as caught:
        check_slot_offered(POLICY, **arguments)  # type: ignore[arg-type]
    return str(caught.value)


def sunday_night_slots(saturday_noon: datetime, *windows: tuple[time, time]) -> list[Slot]:
    """The slots offered from ``saturday_noon`` by a policy of only these Sunday night windows."""
    night = AppointmentPolicy(
        windows=tuple(SlotWindow(SUNDAY, start, end, "SUNDAY_EARLY") for start, end in windows),
        horizon_days=3,
    )
    return offered_slots(night, now=saturday_noon, lead_time_days=0)


# --- British Summer Time -------------------------------------------------------------------------


def test_a_july_afternoon_slot_is_one_pm_bst_which_is_noon_utc() -> None:
    slots = offered_slots(POLICY, now=JULY_NOW, lead_time_days=10)
    slot = slot_on(slots, date(2026, 7, 14), "WEEKDAY_PM")
    assert slot.start.isoformat() == "2026-07-14T13:00:00+01:00"
    assert slot.start == utc(2026, 7, 14, 12)
    assert slot.key == utc(2026, 7, 14, 12)
    assert slot.end.isoformat() == "2026-07-14T18:00:00+01:00"


def test_a_january_slot_carries_a_zero_offset() -> None:
    slots = offered_slots(POLICY, now=utc(2026, 1, 5, 9), lead_time_days=10)
    slot = slot_on(slots, date(2026, 1, 20), "WEEKDAY_PM")
    assert slot.start.isoformat() == "2026-01-20T13:00:00+00:00"
    assert slot.key == utc(2026, 1, 20, 13)


CLOCK_CHANGE_WEEKS = {
    "spring": (
        date(2026, 3, 27),
        "WEEKDAY_AM",
        ["2026-03-27T08:00:00+00:00", "2026-03-28T08:00:00+00:00", "2026-03-30T08:00:00+01:00"],
        utc(2026, 3, 30, 7),
    ),
    "autumn": (
        date(2026, 10, 23),
        "WEEKDAY_PM",
        ["2026-10-23T13:00:00+01:00", "2026-10-24T08:00:00+01:00", "2026-10-26T13:00:00+00:00"],
        utc(2026, 10, 26, 13),
    ),
}
"""The Friday before each clock change, the weekday window looked at, the slots' starts and Monday's key."""


@pytest.mark.parametrize(
    ("friday", "window", "starts", "monday_key"), CLOCK_CHANGE_WEEKS.values(), ids=CLOCK_CHANGE_WEEKS
)
def test_slots_either_side_of_a_clock_change_have_the_right_offsets(
    friday: date, window: str, starts: list[str], monday_key: datetime
) -> None:
    """Friday, Saturday (the night of the change) and Monday: local times keep their UK offset."""
    monday_before = datetime.combine(friday - timedelta(days=4), time(9), UTC)
    slots = offered_slots(POLICY, now=monday_before, lead_time_days=0)
    saturday, monday = friday + timedelta(days=1), friday + timedelta(days=3)
    found = [
        slot_on(slots, friday, window),
        slot_on(slots, saturday, "SATURDAY_AM"),
        slot_on(slots, monday, window),
    ]
    assert [slot.start.isoformat() for slot in found] == starts
    assert found[-1].key == monday_key


def test_a_window_in_the_spring_forward_gap_is_not_offered_that_day() -> None:
    slots = sunday_night_slots(
        utc(2026, 3, 28, 12),
        (time(0, 0), time(0, 30)),
        (time(1, 30), time(2, 30)),
        (time(0, 30), time(1, 30)),
        (time(3, 0), time(4, 0)),
    )
    assert [(s.start.isoformat(), s.end.isoformat()) for s in slots] == [
        ("2026-03-29T00:00:00+00:00", "2026-03-29T00:30:00+00:00"),
        ("2026-03-29T03:00:00+01:00", "2026-03-29T04:00:00+01:00"),
    ]


def test_a_window_in_the_repeated_autumn_hour_takes_its_first_bst_occurrence() -> None:
    slots = sunday_night_slots(
        utc(2026, 10, 24, 12), (time(1, 0), time(1, 30)), (time(1, 30), time(2, 30)), (time(3, 0), time(4, 0))
    )
    assert [(s.key, s.end.astimezone(UTC)) for s in slots] == [
        (utc(2026, 10, 25, 0, 0), utc(2026, 10, 25, 0, 30)),
        (utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 2, 30)),  # 01:30 BST to 02:30 GMT: two hours
        (utc(2026, 10, 25, 3, 0), utc(2026, 10, 25, 4, 0)),
    ]
    assert [s.start.utcoffset() for s in slots] == [timedelta(hours=1), timedelta(hours=1), timedelta(0)]


@pytest.mark.parametrize(
    "start",
    ["2026-07-14T12:00:00Z", "2026-07-14T13:00:00+01:00", "2026-07-14T08:00:00-04:00"],
)
def test_a_slot_can_be_checked_with_the_same_instant_written_in_any_offset(start: str) -> None:
    begins = datetime.fromisoformat(start)
    slot = check_slot_offered(
        POLICY,
        now=JULY_NOW,
        lead_time_days=10,
        start=begins,
        end=begins + timedelta(hours=5),
        purpose="PROVIDE",
    )
    assert slot.start.isoformat() == "2026-07-14T13:00:00+01:00"
    assert slot.classification == "WEEKDAY_PM"


# --- Lead time, appointmentFromDate and horizon ---------------------------------------------------


def test_the_lead_time_counts_calendar_days_from_today() -> None:
    assert first_bookable_day(JULY_NOW, 10, None, "Europe/London") == date(2026, 7, 11)


def test_today_is_the_local_date_so_just_after_midnight_bst_is_already_tomorrow() -> None:
    just_after_midnight = utc(2026, 6, 30, 23, 30)  # 00:30 BST on 1 July
    assert first_bookable_day(just_after_midnight, 10, None, "Europe/London") == date(2026, 7, 11)
    assert first_bookable_day(just_after_midnight, 10, None, "UTC") == date(2026, 7, 10)


def test_offered_slots_count_the_lead_time_from_the_local_date() -> None:
    just_after_midnight = utc(2026, 6, 30, 23, 30)  # 00:30 BST on Wednesday 1 July
    slots = offered_slots(POLICY, now=just_after_midnight, lead_time_days=9)
    assert slots[0].start == local(2026, 7, 10, 8)
    message = refusal(
        now=just_after_midnight, lead_time_days=9, start=local(2026, 7, 9, 8), end=local(2026, 7, 9, 13)
    )
    assert "first bookable day is 2026-07-10" in message


def test_an_earlier_appointment_from_date_does_not_shorten_the_lead_time() -> None:
    assert first_bookable_day(JULY_NOW, 10, date(2026, 7, 2), "Europe/London") == date(2026, 7, 11)


def test_a_later_appointment_from_date_moves_the_first_bookable_day() -> None:
    assert first_bookable_day(JULY_NOW, 10, date(2026, 7, 20), "Europe/London") == date(2026, 7, 20)


def test_offered_slots_start_on_the_first_bookable_day() -> None:
    slots = offered_slots(POLICY, now=JULY_NOW, lead_time_days=10)
    # 11 July is a Saturday: its morning slot is the first.
    assert slots[0].start == local(2026, 7, 11, 8)
    from_20th = offered_slots(POLICY, now=JULY_NOW, lead_time_days=10, from_date=date(2026, 7, 20))
    assert from_20th[0].start == local(2026, 7, 20, 8)
    assert all(s.start.date() >= date(2026, 7, 20) for s in from_20th)


def test_slots_end_on_the_last_day_of_the_horizon() -> None:
    slots = offered_slots(POLICY, now=JULY_NOW, lead_time_days=10)
    assert max(s.start.date() for s in slots) == date(2026, 7, 29)  # 1 July + 28 days, inclusive


def test_a_from_date_beyond_the_horizon_offers_nothing() -> None:
    assert offered_slots(POLICY, now=JULY_NOW, lead_time_days=10, from_date=date(2026, 7, 30)) == []


def test_a_lead_time_longer_than_the_horizon_offers_nothing() -> None:
    assert offered_slots(POLICY, now=JULY_NOW, lead_time_days=29) == []


# --- Closed dates, classifications, purposes, capacity, the past -------------------------------


def test_closed_dates_offer_no_slots() -> None:
    slots = offered_slots(POLICY, now=utc(2026, 12, 14, 9), lead_time_days=5)
    days = {s.start.date() for s in slots}
    assert {date(2026, 12, 24), date(2026, 12, 29), date(2026, 12, 31)} <= days
    assert not days & {date(2026, 12, 25), date(2026, 12, 26), date(2026, 12, 28), date(2027, 1, 1)}


def test_the_classification_filter_keeps_only_the_named_classifications() -> None:
    slots = offered_slots(
        POLICY, now=JULY_NOW, lead_time_days=10, classifications=["WEEKDAY_PM", "SATURDAY_AM"]
    )
    assert {s.classification for s in slots} == {"WEEKDAY_PM", "SATURDAY_AM"}


def test_an_empty_classification_filter_offers_every_classification() -> None:
    slots = offered_slots(POLICY, now=JULY_NOW, lead_time_days=10, classifications=[])
    assert {s.classification for s in slots} == {"WEEKDAY_AM", "WEEKDAY_PM", "WEEKDAY_EVENING", "SATURDAY_AM"}


def test_an_unknown_classification_is_a_malformed_request() -> None:
    with pytest.raises(MalformedRequest, match="MIDNIGHT"):
        offered_slots(POLICY, now=JULY_NOW, lead_time_days=10, classifications=["MIDNIGHT"])


def test_premium_slots_are_marked_not_standard() -> None:
    slots = offered_slots(POLICY, now=JULY_NOW, lead_time_days=10)
    assert {s.classification for s in slots if not s.standard} == {"WEEKDAY_EVENING", "SATURDAY_AM"}


def test_windows_are_offered_only_for_their_purposes() -> None:
    for_modify = offered_slots(POLICY, now=JULY_NOW, lead_time_days=10, purpose="MODIFY")
    for_repair = offered_slots(POLICY, now=JULY_NOW, lead_time_days=10, purpose="REPAIR")
    assert "WEEKDAY_EVENING" not in {s.classification for s in for_modify}
    assert "WEEKDAY_EVENING" in {s.classification for s in for_repair}


def test_an_unknown_purpose_is_a_malformed_request() -> None:
    with pytest.raises(MalformedRequest, match="INSTALL"):
        offered_slots(POLICY, now=JULY_NOW, lead_time_days=10, purpose="INSTALL")


def test_a_full_slot_is_not_offered_but_one_with_room_is() -> None:
    pm = utc(2026, 7, 14, 12)
    am = utc(2026, 7, 14, 7)
    slots = offered_slots(POLICY, now=JULY_NOW, lead_time_days=10, booked={pm: 3, am: 2})
    starts = {s.key for s in slots}
    assert pm not in starts
    assert am in starts


def test_slots_that_have_started_are_not_offered() -> None:
    now = utc(2026, 7, 14, 12)  # 13:00 BST exactly: the afternoon slot starts now
    slots = offered_slots(POLICY, now=now, lead_time_days=0)
    todays = [s.classification for s in slots if s.start.date() == date(2026, 7, 14)]
    assert todays == ["WEEKDAY_EVENING"]


def test_naive_now_is_a_malformed_request() -> None:
    with pytest.raises(MalformedRequest, match="no UTC offset"):
        offered_slots(POLICY, now=datetime(2026, 7, 1, 9), lead_time_days=10)


def test_answers_reuse_the_cached_grid() -> None:
    first = offered_slots(POLICY, now=JULY_NOW, lead_time_days=10)
    second = offered_slots(POLICY, now=JULY_NOW + timedelta(minutes=5), lead_time_days=10)
    assert first == second
    assert all(a is b for a, b in zip(first, second, strict=True))


# --- Every reason check_slot_offered gives --------------------------------------------------------


def timeslot(
    day: date, start: int, end: int, zone: tzinfo = LONDON, **overrides: object
) -> dict[str, object]:
    """What :func:`refusal` takes: ``start`` to ``end`` o'clock on ``day`` in ``zone``, and ``overrides``."""
    return {
        "start": datetime.combine(day, time(start), zone),
        "end": datetime.combine(day, time(end), zone),
    } | overrides


JULY_14 = date(2026, 7, 14)
REFUSALS = {
    "a slot in the past is refused as in the past": (timeslot(date(2026, 6, 30), 13, 18), ["in the past"]),
    "a slot that has just started is refused as in the past": (
        timeslot(JULY_14, 13, 18, now=utc(2026, 7, 14, 12), lead_time_days=0),
        ["in the past"],
    ),
    "a slot inside the lead time is refused naming the first bookable day": (
        timeslot(date(2026, 7, 8), 13, 18),
        ["inside the minimum lead time of 10 days (first bookable day is 2026-07-11)"],
    ),
    "a slot beyond the horizon is refused": (
        timeslot(date(2026, 7, 30), 13, 18),
        ["beyond the booking horizon", "2026-07-29"],
    ),
    "a slot on a closed date is refused": (
        timeslot(date(2026, 12, 25), 8, 13, now=utc(2026, 12, 1, 9)),
        ["closed date"],
    ),
    "a time that is no window is refused listing the day's windows": (
        timeslot(JULY_14, 9, 13),
        [
            "not a slot this supplier offers",
            "offered windows on that day: "
            "08:00-13:00 WEEKDAY_AM, 13:00-18:00 WEEKDAY_PM, 18:00-20:00 WEEKDAY_EVENING",
        ],
    ),
    "a window start with the wrong end is not a slot": (
        timeslot(JULY_14, 13, 17),
        ["not a slot this supplier offers"],
    ),
    "a day without windows is refused saying so": (
        timeslot(date(2026, 7, 19), 8, 13),
        ["not a slot this supplier offers (offered windows on that day: none on Sundays)"],
    ),
    "a 13:00Z slot in July is not the 13:00 local slot": (
        timeslot(JULY_14, 13, 18, UTC),
        ["not a slot this supplier offers"],
    ),
    "a window not offered for the purpose is refused naming it": (
        timeslot(JULY_14, 18, 20, purpose="MODIFY"),
        ["not offered for purpose MODIFY"],
    ),
    "a full slot is refused as full": (timeslot(JULY_14, 18, 20, booked={utc(2026, 7, 14, 17): 1}), ["full"]),
}


@pytest.mark.parametrize(("overrides", "said"), REFUSALS.values(), ids=REFUSALS)
def test_a_slot_that_is_not_offered_is_refused_saying_why(
    overrides: dict[str, object], said: list[str]
) -> None:
    message = refusal(**overrides)
    for part in said:
        assert part in message


@pytest.mark.parametrize(
    ("start", "end", "said"),
    [
        pytest.param(datetime(2026, 7, 14, 13), local(2026, 7, 14, 18), "timeslotStartDateTime", id="naive"),
        pytest.param(local(2026, 7, 14, 18), local(2026, 7, 14, 13), "before it starts", id="ending before"),
    ],
)
def test_malformed_timeslot_times_are_a_malformed_request(start: datetime, end: datetime, said: str) -> None:
    """Times without an offset, and a timeslot ending before it starts."""
    with pytest.raises(MalformedRequest, match=said):
        check_slot_offered(POLICY, now=JULY_NOW, lead_time_days=10, start=start, end=end, purpose="PROVIDE")


# --- Properties --------------------------------------------------------------------------------------

ZONES = st.sampled_from([UTC, LONDON, ZoneInfo("America/New_York"), ZoneInfo("Asia/Kolkata")])
NOWS = st.datetimes(
    min_value=datetime(2025, 1, 1),
    max_value=datetime(2028, 12, 31, 23, 59),
    timezones=ZONES,
    allow_imaginary=False,
)
WINDOW_STARTS = {w.start for w in POLICY.windows}
PROPERTY_POLICY = AppointmentPolicy(
    windows=POLICY.windows,
    closed_dates=frozenset(date(year, 12, day) for year in range(2025, 2029) for day in (25, 26))
    | frozenset(date(year, 1, 1) for year in range(2025, 2030)),
)


@given(
    now=NOWS,
    lead_time_days=st.integers(min_value=0, max_value=35),
    from_date=st.none() | st.dates(min_value=date(2024, 12, 1), max_value=date(2029, 2, 1)),
)
def test_every_offered_slot_is_bookable_correctly_offset_and_in_order(
    now: datetime, lead_time_days: int, from_date: date | None
) -> None:
    slots = offered_slots(PROPERTY_POLICY, now=now, lead_time_days=lead_time_days, from_date=from_date)
    first = first_bookable_day(now, lead_time_days, from_date, "Europe/London")
    last = now.astimezone(LONDON).date() + timedelta(days=PROPERTY_POLICY.horizon_days)
    for slot in slots:
        day = slot.start.date()
        assert first <= day <= last
        assert day not in PROPERTY_POLICY.closed_dates
        assert slot.start > now
        assert slot.start.utcoffset() == slot.key.astimezone(LONDON).utcoffset()
        assert slot.start.timetz().replace(tzinfo=None) in WINDOW_STARTS
    assert [s.key for s in slots] == sorted(s.key for s in slots)


@given(now=NOWS, lead_time_days=st.integers(min_value=0, max_value=12))
def test_every_offered_slot_passes_check_slot_offered(now: datetime, lead_time_days: int) -> None:
    for slot in offered_slots(PROPERTY_POLICY, now=now, lead_time_days=lead_time_days, purpose="REPAIR"):
        checked = check_slot_offered(
            PROPERTY_POLICY,
            now=now,
            lead_time_days=lead_time_days,
            start=slot.key,
            end=slot.end.astimezone(UTC),
            purpose="REPAIR",
        )
        assert checked == slot
