"""parse_json skips its walk only where the walk could not refuse: the same verdict either way."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from simulator.domain.errors import MalformedRequest
from simulator.http.request_body import MAX_DEPTH, _check_document, parse_json

# Texts with lone and paired surrogates, and brackets inside strings.
TEXT = st.text(
    alphabet=st.sampled_from(["a", "[", "{", "\\", "\ud800", "\udfff", "\U0001f600", "é"]), max_size=6
)
DOCUMENTS = st.recursive(
    st.none() | st.booleans() | st.integers() | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=20,
)


def nested(document: Any, levels: int) -> Any:
    for _ in range(levels):
        document = [document]
    return document


def full_walk_verdict(document: Any) -> bool:
    try:
        _check_document(document)
    except MalformedRequest:
        return False
    return True


@given(DOCUMENTS, st.integers(0, MAX_DEPTH + 3), st.booleans())
def test_parse_json_accepts_exactly_what_the_full_walk_accepts(
    document: Any, levels: int, ascii_only: bool
) -> None:
    document = nested(document, levels)
    raw = json.dumps(document, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    try:
        text_accepted = raw.decode("utf-8") is not None
    except UnicodeDecodeError:
        text_accepted = False  # a raw surrogate is not UTF-8: refused before any walk
    try:
        parse_json(raw)
        accepted = True
    except MalformedRequest:
        accepted = False
    assert accepted == (text_accepted and full_walk_verdict(document))
