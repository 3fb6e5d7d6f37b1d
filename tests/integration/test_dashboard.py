"""The dashboard (/_admin/ui) through Flask's test client: pages, fragments, forms, sign-in, CSRF.

The browser tests (tests/e2e/test_dashboard_browser.py) walk the main story in Chromium;
these check each piece's behaviour quickly and without a browser.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given
from hypothesis import strategies as st

from simulator.composition import close_app, create_app
from simulator.http.dashboard_views import MASK, mask_secrets, pretty
from simulator.settings import Settings
from tests.conftest import START, gateway_headers
from tests.orders_support import post, provide

UI = "/_admin/ui"


def csrf_token(client: FlaskClient, path: str = UI + "/") -> str:
    page = client.get(path)
    assert page.status_code == 200, page.get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
    assert found is not None
    return found[1]


def submit(client: FlaskClient, action: str, back: str = UI + "/", **fields: str) -> str:
    """Post a dashboard form as a browser would, follow the redirect; return the page's text."""
    answer = client.post(
        UI + action, data={"csrf_token": csrf_token(client), "next": back, **fields}, follow_redirects=True
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_data(as_text=True)


def clock_now(client: FlaskClient) -> str:
    now: str = client.get("/_admin/clock").get_json()["now"]
    return now


def test_every_page_answers_and_the_overview_shows_the_clock_and_recent_orders(client: FlaskClient) -> None:
    assert post(client, "/service-orders", provide(1001)).status_code == 201
    overview = client.get(UI + "/").get_data(as_text=True)
    assert START in overview
    assert "manual" in overview
    assert f'href="{UI}/orders/1001?tenant=TENANT1"' in overview
    for page in ("/orders", "/orders/1001", "/addresses?address=100000000002", "/journal", "/faults"):
        assert client.get(UI + page).status_code == 200, page


def test_the_stylesheet_is_the_one_the_certification_report_uses(client: FlaskClient) -> None:
    from contracts.style import stylesheet

    answer = client.get(UI + "/style.css")
    assert answer.status_code == 200
    assert answer.mimetype == "text/css"
    assert answer.get_data(as_text=True) == stylesheet()


def test_a_fragment_is_the_region_alone_and_an_unknown_region_is_a_400(client: FlaskClient) -> None:
    assert post(client, "/service-orders", provide(1001)).status_code == 201
    fragment = client.get(UI + "/orders?partial=orders").get_data(as_text=True)
    assert "1001" in fragment
    assert "<html" not in fragment
    refused = client.get(UI + "/orders?partial=nothing")
    assert refused.status_code == 400
    assert "MALFORMED_REQUEST" in refused.get_data(as_text=True)


@pytest.mark.parametrize(
    "query", ["page=0", "page=x", "page=99999999999999", "page=²", "page=-1", "tenant=" + "T" * 101]
)
def test_bad_query_values_are_refused_with_a_clear_400(client: FlaskClient, query: str) -> None:
    answer = client.get(f"{UI}/orders?{query}")
    assert answer.status_code == 400
    assert "MALFORMED_REQUEST" in answer.get_data(as_text=True)
    assert client.get(UI + "/orders").status_code == 200  # and nothing later fails because of it


def test_an_unknown_order_is_a_404_page(client: FlaskClient) -> None:
    answer = client.get(UI + "/orders/424242")
    assert answer.status_code == 404
    assert "no order 424242" in answer.get_data(as_text=True)


@pytest.mark.parametrize("entry", ["424242", "99999999999999999999999", "-1", "x"])
def test_an_unknown_journal_entry_is_a_404(client: FlaskClient, entry: str) -> None:
    assert client.get(f"{UI}/journal/{entry}").status_code == 404
    assert client.get(UI + "/journal").status_code == 200


def test_orders_are_paged_and_filtered_by_the_database(client: FlaskClient) -> None:
    for number in range(1, 31):
        tenant = "TENANT2" if number % 3 == 0 else "TENANT1"
        assert (
            post(client, "/service-orders", provide(number, tenant=tenant), tenant=tenant).status_code == 201
        )

    def keys(query: str) -> list[str]:
        text = client.get(f"{UI}/orders?partial=orders&{query}").get_data(as_text=True)
        return re.findall(r"/orders/(\d+)\?tenant=", text)

    first, second = keys("page=1"), keys("page=2")
    assert len(first) == 25
    assert len(second) == 5
    assert sorted(map(int, first + second)) == list(range(1, 31))
    assert sorted(map(int, keys("tenant=TENANT2"))) == list(range(3, 31, 3))
    assert keys("status=COMPLETED") == []
    assert len(keys("address=100000000002")) == 25  # one page of the 30 at that address


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(client: FlaskClient) -> None:
    answer = client.post(UI + "/clock/advance", data={"by": "PT1H"})
    assert answer.status_code == 400
    assert "CSRF" in answer.get_data(as_text=True)
    assert clock_now(client) == START


def test_advancing_the_clock_from_the_page_moves_it_and_says_what_happened(client: FlaskClient) -> None:
    page = submit(client, "/clock/advance", by="PT1H")
    assert clock_now(client) == "2026-07-01T10:00:00Z"
    assert "Moved on 1 hour" in page
    refused = client.post(UI + "/clock/advance", data={"csrf_token": csrf_token(client), "by": "PT2H"})
    assert refused.status_code == 400


def test_the_next_event_button_plays_the_next_scripted_step(client: FlaskClient) -> None:
    assert post(client, "/service-orders", provide(1001)).status_code == 201
    page = submit(client, "/clock/next-event", back=UI + "/orders/1001")
    assert "kciStep of order 1001" in page
    assert clock_now(client) == "2026-07-01T09:00:30Z"
    assert "KCI #1 COMMITTED" in page  # redirected back to the order's timeline


def test_setting_the_clock_backwards_is_refused_with_a_message(client: FlaskClient) -> None:
    page = submit(client, "/clock/set", now="2026-06-01T09:00:00")
    assert "cannot move backwards" in page
    assert clock_now(client) == START
    submit(client, "/clock/set", now="2026-07-02T09:00")
    assert clock_now(client) == "2026-07-02T09:00:00Z"


def test_a_redirect_never_leaves_the_dashboard(client: FlaskClient) -> None:
    answer = client.post(
        UI + "/clock/advance",
        data={"csrf_token": csrf_token(client), "by": "PT5M", "next": "https://elsewhere.example/"},
    )
    assert answer.status_code == 303
    assert answer.headers["Location"] == UI + "/"


def test_fault_rules_are_added_and_removed_from_the_page(client: FlaskClient) -> None:
    page = submit(
        client, "/faults", back=UI + "/faults", method="POST", path="/service-orders", status="503", times="1"
    )
    assert "Added fault rule 1" in page
    rules = client.get("/_admin/faults").get_json()
    assert [(r["method"], r["path"], r["status"], r["remaining"]) for r in rules] == [
        ("POST", "/service-orders", 503, 1)
    ]
    assert post(client, "/service-orders", provide(1001)).status_code == 503
    submit(client, "/faults/1/remove", back=UI + "/faults")
    assert client.get("/_admin/faults").get_json() == []


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        ({"status": "abc"}, "status"),
        ({"path": "/service-order"}, "did you mean /service-orders"),
        ({"method": "PATCH", "path": "/service-availability"}, "not offered"),
        ({"probability": "2"}, "probability"),
        ({"times": "²"}, "times"),
        ({"delayMs": "-5"}, "delayMs"),
    ],
)
def test_a_bad_fault_rule_is_refused_with_its_reasons(
    client: FlaskClient, fields: dict[str, str], why: str
) -> None:
    page = submit(
        client, "/faults", back=UI + "/faults", **{"method": "*", "path": "*", "status": "503", **fields}
    )
    assert "Fault rule refused" in page
    assert why in page
    assert client.get("/_admin/faults").get_json() == []


def test_the_journal_lists_requests_and_shows_one_in_full(client: FlaskClient) -> None:
    assert post(client, "/service-orders", provide(1001)).status_code == 201
    client.get("/service-availability", headers=gateway_headers())  # a 400: no address
    listing = client.get(UI + "/journal?partial=journal").get_data(as_text=True)
    ids = re.findall(r"/journal/(\d+)\"", listing)
    assert len(set(ids)) == 2
    only_errors = client.get(UI + "/journal?partial=journal&status=400").get_data(as_text=True)
    assert "/service-availability" in only_errors
    assert "/service-orders" not in only_errors
    entry = client.get(f"{UI}/journal/{min(map(int, ids))}").get_data(as_text=True)
    assert "Ann Example" in entry
    assert "ms</dd>" in entry


def test_the_journal_pages_by_keyset(client: FlaskClient) -> None:
    for _ in range(30):
        client.get("/_no/such/path", headers=gateway_headers())
    first = client.get(UI + "/journal?partial=journal").get_data(as_text=True)
    older = re.search(r"before=(\d+)", first)
    assert older is not None
    second = client.get(f"{UI}/journal?partial=journal&before={older[1]}").get_data(as_text=True)
    shown = [set(re.findall(r"/journal/(\d+)\"", text)) for text in (first, second)]
    assert len(shown[0]) == 25
    assert len(shown[1]) == 5
    assert not shown[0] & shown[1]


def test_an_address_shows_its_live_services_reservations_and_slots(client: FlaskClient) -> None:
    page = client.get(UI + "/addresses?address=100000000004").get_data(as_text=True)
    assert "S100000000004-1" in page  # the profile's live service there
    assert "Slots offered now" in page
    unknown = client.get(UI + "/addresses?address=999").get_data(as_text=True)
    assert "does not know this address" in unknown


def test_reset_from_the_page_forgets_orders_and_fault_rules(client: FlaskClient) -> None:
    assert post(client, "/service-orders", provide(1001)).status_code == 201
    client.post("/_admin/faults", json={"method": "GET", "path": "/service-availability", "status": 500})
    submit(client, "/clock/advance", by="P1D")
    page = submit(client, "/reset")
    assert "Reset: removed" in page
    assert client.get("/_admin/orders").get_json() == []
    assert client.get("/_admin/faults").get_json() == []
    assert clock_now(client) == START


def test_the_order_timeline_shows_states_kcis_and_the_script(app: Flask, client: FlaskClient) -> None:
    assert post(client, "/service-orders", provide(1001)).status_code == 201
    for _ in range(2):
        client.post("/_admin/clock/next-event")
    page = client.get(UI + "/orders/1001").get_data(as_text=True)
    assert "PLACED" in page
    assert "KCI #1 COMMITTED" in page
    assert "KCI #2" in page
    assert "ORDER_SUCCESSFUL" in page
    assert "Force next step" in page
    assert "Not attempted yet" in page  # no dispatcher in this app: the KCIs wait
    forced = submit(client, "/orders/1001/next-step", back=UI + "/orders/1001", tenant="TENANT1")
    assert "Played the next step of order 1001" in forced
    assert "KCI #3" in forced


# --- sign-in ------------------------------------------------------------------------------


@pytest.fixture
def guarded() -> Iterator[FlaskClient]:
    application = create_app(
        Settings(database=":memory:", clock=f"manual@{START}", background=False, admin_token="let-me-in")
    )
    yield application.test_client()
    close_app(application)


def test_with_an_admin_token_the_pages_ask_for_it(guarded: FlaskClient) -> None:
    answer = guarded.get(UI + "/orders?tenant=TENANT1")
    assert answer.status_code == 303
    assert answer.headers["Location"].startswith(UI + "/login?next=")
    assert guarded.get(UI + "/orders?partial=orders").status_code == 401  # polling: no redirect
    assert guarded.post(UI + "/clock/advance", data={"by": "PT1H"}).status_code == 401
    assert guarded.get(UI + "/style.css").status_code == 200  # the sign-in page needs it


def test_signing_in_with_the_admin_token_opens_the_pages_and_signing_out_closes_them(
    guarded: FlaskClient,
) -> None:
    login = csrf_token(guarded, UI + "/login")
    wrong = guarded.post(UI + "/login", data={"csrf_token": login, "token": "guess"})
    assert wrong.status_code == 401
    assert guarded.get(UI + "/").status_code == 303
    right = guarded.post(
        UI + "/login", data={"csrf_token": login, "token": "let-me-in", "next": UI + "/faults"}
    )
    assert right.status_code == 303
    assert right.headers["Location"] == UI + "/faults"
    assert guarded.get(UI + "/").status_code == 200
    # The session opens the pages only: the admin API still wants its bearer token.
    assert guarded.get("/_admin/clock").status_code == 401
    guarded.post(UI + "/logout", data={"csrf_token": csrf_token(guarded)})
    assert guarded.get(UI + "/").status_code == 303


def test_the_sign_in_form_needs_its_csrf_token_too(guarded: FlaskClient) -> None:
    assert guarded.post(UI + "/login", data={"token": "let-me-in"}).status_code == 400
    assert guarded.get(UI + "/").status_code == 303


def test_the_session_cookie_holds_no_token() -> None:
    application = create_app(
        Settings(database=":memory:", clock=f"manual@{START}", background=False, admin_token="let-me-in")
    )
    try:
        browser = application.test_client()
        token = csrf_token(browser, UI + "/login")
        browser.post(UI + "/login", data={"csrf_token": token, "token": "let-me-in"})
        cookie = browser.get_cookie("fibresim_session")
        assert cookie is not None
        assert "let-me-in" not in cookie.value
        assert cookie.http_only
        assert application.secret_key not in (None, b"", "")
    finally:
        close_app(application)


# --- masking --------------------------------------------------------------------------------


def test_secrets_are_masked_at_any_depth_and_in_form_bodies() -> None:
    body = {
        "client_secret": "s3cr3t",
        "nested": [{"password": "hunter2", "name": "Ann"}],
        "accessToken": "eyJ...",
        "apiKey": "k",
    }
    masked = mask_secrets(body)
    assert masked == {
        "client_secret": MASK,
        "nested": [{"password": MASK, "name": "Ann"}],
        "accessToken": MASK,
        "apiKey": MASK,
    }
    assert mask_secrets("grant_type=client_credentials&client_secret=abc&scope=x") == (
        f"grant_type=client_credentials&client_secret={MASK}&scope=x"
    )


def test_a_json_error_body_kept_as_text_is_shown_as_indented_json_with_secrets_masked() -> None:
    shown = pretty('{"code": "NOT_AUTHORISED", "access_token": "abc"}')
    assert '\n  "code": "NOT_AUTHORISED"' in shown
    assert "abc" not in shown
    assert pretty("{not json") == "{not json"


_SECRET_KEYS = st.sampled_from(
    ["client_secret", "password", "token", "Authorization", "api_key", "refreshToken"]
)
_PLAIN_KEYS = st.sampled_from(["name", "id", "status", "address"])
_VALUES = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=6, max_size=12)


def _nested(inner: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    return st.dictionaries(_PLAIN_KEYS, inner, max_size=3) | st.lists(inner, max_size=3)


@given(st.recursive(st.dictionaries(_SECRET_KEYS | _PLAIN_KEYS, _VALUES, max_size=4), _nested, max_leaves=10))
def test_no_secret_value_survives_masking(payload: object) -> None:
    secrets: list[str] = []

    def collect(value: object) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key in {"client_secret", "password", "token", "Authorization", "api_key", "refreshToken"}:
                    secrets.append(str(item))
                else:
                    collect(item)
        elif isinstance(value, list):
            for item in value:
                collect(item)

    collect(payload)
    shown = pretty(payload)
    assert not [secret for secret in secrets if f'"{secret}"' in shown]
