"""The JSON of amendment changes: what orders and problems store comes back the same."""

from __future__ import annotations

import json
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from simulator.domain.assurance_commands import ProblemChanges
from simulator.domain.order_commands import REMOVE, AmendmentChanges, ContactChange
from simulator.storage import assurance, orders

_text = st.text(max_size=12)
_field = st.none() | st.just(REMOVE) | _text
_contact_change = st.none() | st.builds(
    ContactChange, name=_field, email=_field, phone_number=_field, remove_contact=st.booleans()
)
_characteristics = st.none() | st.lists(st.tuples(_text, _text), max_size=3).map(tuple)
_visit = {
    "primary_contact": _contact_change,
    "secondary_contact": _contact_change,
    "hazards": _field,
    "on_site_restrictions": _field,
    "notes": _field,
    "reservation_id": st.none() | st.integers(min_value=1, max_value=2**53 - 1),
    "reservation_reference": _field,
    "characteristics": _characteristics,
}


@given(
    st.builds(
        AmendmentChanges,
        **_visit,
        requested_date=st.none() | st.dates(min_value=date(1900, 1, 1)),
        engineer_tasks=st.none() | st.lists(_text, max_size=3).map(tuple),
    )
)
def test_an_order_amendment_s_changes_survive_storage(changes: AmendmentChanges) -> None:
    stored = json.loads(json.dumps(orders._changes_json(changes)))
    assert orders._changes(stored) == changes


@given(st.builds(ProblemChanges, **_visit, problem_text=st.none() | _text, escalation=st.booleans()))
def test_a_problem_amendment_s_changes_survive_storage(changes: ProblemChanges) -> None:
    stored = json.loads(json.dumps(assurance._changes_json(changes)))
    assert assurance._changes(stored) == changes
