"""The request-body rules: JSON media types, UTF-8, depth, lone surrogates, and the size middleware."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulator.domain.errors import MalformedRequest, PayloadTooLarge, UnsupportedMediaType
from simulator.http.request_body import (
    MAX_DEPTH,
    REFUSED,
    LimitRequests,
    RequestLimits,
    parse_json,
    require_json,
)


@pytest.mark.parametrize(
    "media",
    ["application/json", "application/json; charset=utf-8", "APPLICATION/JSON", "application/problem+json"],
)
def test_json_media_types_are_accepted(media: str) -> None:
    require_json(media)


@pytest.mark.parametrize(
    "media",
    [None, "", "text/plain", "application/xml", "application/jsonx", "application/json; charset=latin-1"],
)
def test_other_media_types_are_a_415(media: str | None) -> None:
    with pytest.raises(UnsupportedMediaType) as caught:
        require_json(media)
    assert caught.value.status == 415


def test_nesting_up_to_the_limit_parses_and_beyond_it_is_a_400() -> None:
    assert parse_json(("[" * MAX_DEPTH + "]" * MAX_DEPTH).encode()) is not None
    with pytest.raises(MalformedRequest, match="nests deeper"):
        parse_json(("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)).encode())
    with pytest.raises(MalformedRequest, match="nests deeper"):
        parse_json(b"[" * 200_000)


TEXT = st.text(st.characters(exclude_categories=["Cs"]))  # no surrogates: they have their own test


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | TEXT,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
        max_leaves=30,
    )
)
def test_any_json_document_within_the_rules_parses_back_to_itself(document: Any) -> None:
    assert parse_json(json.dumps(document).encode()) == document
    assert parse_json(json.dumps(document, ensure_ascii=False).encode()) == document


@pytest.mark.parametrize("raw", [b'"\\ud800"', b'{"\\udc00": 1}', b'["ok", "\\udfff x"]'])
def test_a_lone_surrogate_is_a_400(raw: bytes) -> None:
    with pytest.raises(MalformedRequest, match="surrogate"):
        parse_json(raw)


@pytest.mark.parametrize("raw", [b'{"id": NaN}', b"[Infinity]", b"-Infinity", b'{"a": [1, -Infinity]}'])
def test_nan_and_the_infinities_are_not_json_and_a_400(raw: bytes) -> None:
    with pytest.raises(MalformedRequest, match="not a JSON value"):
        parse_json(raw)


@pytest.mark.parametrize("raw", [b'{"id": 1e400}', b"[-1.5e999]"])
def test_a_number_beyond_a_float_is_a_400(raw: bytes) -> None:
    with pytest.raises(MalformedRequest, match="too large a number"):
        parse_json(raw)


def test_large_but_finite_numbers_parse() -> None:
    assert parse_json(b"[1e308, -2.5e-300, 12345678901234567890123]") == [
        1e308,
        -2.5e-300,
        12345678901234567890123,
    ]


def test_a_surrogate_pair_is_one_character() -> None:
    assert parse_json(b'"\\ud83d\\ude00"') == "\U0001f600"


def _through(environ: dict[str, Any], limits: RequestLimits | None = None) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    def app(env: dict[str, Any], _start: Any) -> list[bytes]:
        seen.update(env)
        seen["body"] = env["wsgi.input"].read()
        return []

    LimitRequests(app, limits or RequestLimits(max_body_bytes=10))(environ, lambda *_: None)
    return seen


class CountingStream(io.BytesIO):
    """Remembers how much was read from it."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.taken = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.taken += len(chunk)
        return chunk


def test_a_declared_length_over_the_limit_is_refused_unread() -> None:
    stream = CountingStream(b"x" * 1000)
    seen = _through({"CONTENT_LENGTH": "1000", "wsgi.input": stream})
    assert isinstance(seen[REFUSED], PayloadTooLarge)
    assert stream.taken == 0
    assert seen["body"] == b""


def test_a_chunked_body_is_read_to_one_byte_past_the_limit_only() -> None:
    stream = CountingStream(b"x" * 1000)
    seen = _through({"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input": stream})
    assert isinstance(seen[REFUSED], PayloadTooLarge)
    assert stream.taken == 11


def test_a_chunked_body_within_the_limit_arrives_whole_with_its_length() -> None:
    seen = _through({"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input": io.BytesIO(b"[1,2]")})
    assert REFUSED not in seen
    assert seen["body"] == b"[1,2]"
    assert seen["CONTENT_LENGTH"] == "5"


def test_a_request_without_a_body_is_not_read() -> None:
    seen = _through({"wsgi.input": CountingStream(b"")})
    assert REFUSED not in seen


def test_an_http1_request_with_neither_length_nor_chunks_has_no_body_even_on_a_terminated_input() -> None:
    # A server that terminates its input (granian) would still be asked for the body.
    stream = CountingStream(b"GET /next HTTP/1.1\r\n")
    seen = _through({"wsgi.input": stream, "wsgi.input_terminated": True, "SERVER_PROTOCOL": "HTTP/1.1"})
    assert REFUSED not in seen
    assert stream.taken == 0
    assert seen["body"] == b""


def test_an_http2_body_without_a_length_is_read_up_to_the_limit() -> None:
    small = _through(
        {"wsgi.input": io.BytesIO(b"[1,2]"), "wsgi.input_terminated": True, "SERVER_PROTOCOL": "HTTP/2"}
    )
    assert REFUSED not in small
    assert small["body"] == b"[1,2]"
    stream = CountingStream(b"x" * 1000)
    large = _through({"wsgi.input": stream, "wsgi.input_terminated": True, "SERVER_PROTOCOL": "HTTP/2"})
    assert isinstance(large[REFUSED], PayloadTooLarge)
    assert stream.taken == 11
