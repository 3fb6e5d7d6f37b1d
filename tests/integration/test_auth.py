"""Authentication of the Supplier API: the token endpoint, bearer and Basic checks, tenants."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from werkzeug.test import TestResponse

from contracts import load_document
from simulator.composition import close_app, create_app
from simulator.settings import Settings
from tests.conftest import START, address_query, gateway_headers

AUTH_SCHEMAS = load_document("supplier-auth-api.yaml")["components"]["schemas"]
FORM = {"grant_type": "client_credentials", "client_id": "demo-gateway", "client_secret": "demo-secret"}


def _app(database: str = ":memory:", **settings: str) -> Flask:
    return create_app(Settings(database=database, clock=f"manual@{START}", background=False, **settings))  # type: ignore[arg-type]


@pytest.fixture(params=["oauth2"])
def secured(request: pytest.FixtureRequest) -> Iterator[FlaskClient]:
    """The simulator with OAuth2 on (the demo profile's clients)."""
    application = _app(auth=request.param)
    yield application.test_client()
    close_app(application)


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def token(client: FlaskClient, client_id: str = "demo-gateway", secret: str = "demo-secret") -> str:
    response = client.post(
        "/auth/access-token", data={**FORM, "client_id": client_id, "client_secret": secret}
    )
    assert response.status_code == 200, response.json
    value: str = response.json["access_token"]  # type: ignore[index]
    return value


def availability(
    client: FlaskClient, authorization: str | None = None, tenant: str = "TENANT1"
) -> TestResponse:
    extra = {"Authorization": authorization} if authorization is not None else {}
    return client.get(
        "/service-availability",
        query_string=address_query("100000000002"),
        headers=gateway_headers(tenant, **extra),
    )


def assert_refused(response: TestResponse, status: int = 401) -> None:
    assert response.status_code == status
    body = response.json
    assert body is not None
    assert set(body) == {"uuid", "code", "messages"}
    assert body["code"] == "NOT_AUTHORISED"
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


# -- the token endpoint


def test_client_credentials_in_the_form_get_a_bearer_token(client: FlaskClient) -> None:
    response = client.post("/auth/access-token", data=FORM)
    assert response.status_code == 200
    body = response.json
    assert body is not None
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert jwt.get_unverified_header(body["access_token"])["alg"] == "HS256"
    assert response.headers["Cache-Control"] == "no-store"
    Draft202012Validator(AUTH_SCHEMAS["TokenResponse"]).validate(body)


def basic_token_request(client: FlaskClient, secret: str) -> TestResponse:
    """A client-credentials token request from demo-gateway, its secret in a Basic header."""
    return client.post(
        "/auth/access-token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": basic("demo-gateway", secret)},
    )


def test_client_credentials_in_basic_get_a_token(client: FlaskClient) -> None:
    response = basic_token_request(client, "demo-secret")
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"client_id": "demo-gateway", "client_secret": "demo-secret"}, "invalid_request"),
        ({**FORM, "grant_type": "password"}, "unsupported_grant_type"),
        ({**FORM, "client_secret": "wrong"}, "invalid_client"),
        ({**FORM, "client_id": "nobody"}, "invalid_client"),
        ({"grant_type": "client_credentials"}, "invalid_client"),
    ],
)
def test_a_bad_token_request_gets_the_oauth_error(
    client: FlaskClient, form: dict[str, str], error: str
) -> None:
    response = client.post("/auth/access-token", data=form)
    assert response.status_code == 400
    assert response.json == {"error": error, "error_description": response.json["error_description"]}  # type: ignore[index]
    assert "demo-secret" not in response.get_data(as_text=True)
    Draft202012Validator(AUTH_SCHEMAS["TokenError"]).validate(response.json)


def test_a_wrong_secret_in_basic_gets_401_with_the_basic_challenge(client: FlaskClient) -> None:
    response = basic_token_request(client, "wrong")
    assert response.status_code == 401
    assert response.json["error"] == "invalid_client"  # type: ignore[index]
    assert response.headers["WWW-Authenticate"].startswith("Basic")


def test_a_token_request_that_is_not_a_form_is_invalid(client: FlaskClient) -> None:
    response = client.post("/auth/access-token", json=FORM)
    assert response.status_code == 400
    assert response.json["error"] == "invalid_request"  # type: ignore[index]


# -- the Supplier API with auth off and on


def test_with_auth_off_the_api_is_open(client: FlaskClient) -> None:
    assert availability(client).status_code == 200


def test_a_call_with_a_token_is_answered(secured: FlaskClient) -> None:
    assert availability(secured, f"Bearer {token(secured)}").status_code == 200


@pytest.mark.parametrize("authorization", [None, "Bearer", "Bearer not-a-jwt", "Token abc", basic("a", "b")])
def test_a_call_without_a_usable_token_is_refused(secured: FlaskClient, authorization: str | None) -> None:
    assert_refused(availability(secured, authorization))


def test_a_forged_token_is_refused(secured: FlaskClient) -> None:
    claims = jwt.decode(token(secured), options={"verify_signature": False})
    forged = jwt.encode(claims, "another-key-of-at-least-thirty-two-bytes!", algorithm="HS256")
    response = availability(secured, f"Bearer {forged}")
    assert_refused(response)
    assert "invalid_token" in response.headers["WWW-Authenticate"]


def test_an_unsigned_token_is_refused(secured: FlaskClient) -> None:
    claims = jwt.decode(token(secured), options={"verify_signature": False})
    assert_refused(availability(secured, "Bearer " + jwt.encode(claims, None, algorithm="none")))


def test_a_token_expires_when_the_simulator_clock_passes_its_lifetime(secured: FlaskClient) -> None:
    bearer = f"Bearer {token(secured)}"
    assert secured.post("/_admin/clock/advance", json={"by": "PT59M"}).status_code == 200
    assert availability(secured, bearer).status_code == 200
    assert secured.post("/_admin/clock/advance", json={"by": "PT1M"}).status_code == 200
    response = availability(secured, bearer)
    assert_refused(response)
    assert "expired" in response.json["messages"][0]  # type: ignore[index]


def test_a_client_restricted_to_one_tenant_is_refused_for_another(secured: FlaskClient) -> None:
    bearer = f"Bearer {token(secured, 'demo-tenant1', 'demo-tenant1-secret')}"
    assert availability(secured, bearer, "TENANT1").status_code == 200
    assert_refused(availability(secured, bearer, "TENANT2"), 403)


def test_refusals_are_journalled_without_the_credentials(secured: FlaskClient) -> None:
    availability(secured, "Bearer secret-looking-token")
    journal = secured.get("/_admin/journal")
    assert journal.status_code == 200
    assert journal.get_json()
    assert "secret-looking-token" not in journal.get_data(as_text=True)


def test_token_requests_are_journalled_without_the_secret_or_the_token(client: FlaskClient) -> None:
    issued = client.post("/auth/access-token", data=FORM).json["access_token"]  # type: ignore[index]
    journal = client.get("/_admin/journal", query_string={"path": "/auth/access-token"})
    assert [entry["status"] for entry in journal.json] == [200]  # type: ignore[union-attr]
    shown = journal.get_data(as_text=True)
    assert "demo-secret" not in shown
    assert issued not in shown


def test_basic_auth_checks_the_profiles_clients() -> None:
    application = _app(auth="basic")
    client = application.test_client()
    assert availability(client, basic("demo-gateway", "demo-secret")).status_code == 200
    refused = availability(client, basic("demo-gateway", "wrong"))
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"].startswith("Basic")
    assert refused.json["code"] == "NOT_AUTHORISED"  # type: ignore[index]
    assert availability(client, basic("demo-tenant1", "demo-tenant1-secret"), "TENANT2").status_code == 403


def test_the_signing_key_survives_a_restart(tmp_path: Path) -> None:
    database = f"{tmp_path}/fibresim.sqlite3"
    first = _app(database, auth="oauth2").test_client()
    bearer = f"Bearer {token(first)}"
    second = _app(database, auth="oauth2").test_client()
    assert availability(second, bearer).status_code == 200


def test_a_reset_keeps_the_signing_key_and_the_schema_stamp(tmp_path: Path) -> None:
    database = f"{tmp_path}/fibresim.sqlite3"
    first = _app(database, auth="oauth2").test_client()
    bearer = f"Bearer {token(first)}"
    assert first.post("/_admin/reset", json={"keepClock": True}).status_code == 200
    second = _app(database, auth="oauth2").test_client()  # refused if the stamp had gone
    assert availability(second, bearer).status_code == 200


def test_a_given_signing_key_is_used_instead_of_the_stored_one() -> None:
    client = _app(auth="oauth2", token_signing_key="k" * 40).test_client()
    # The token is dated by the manual clock, so only its signature is checked here.
    claims = jwt.decode(
        token(client),
        "k" * 40,
        algorithms=["HS256"],
        audience="fibresim-supplier-api",
        options={"verify_exp": False},
    )
    assert claims["sub"] == "demo-gateway"


# -- the admin token


def test_with_an_admin_token_every_admin_route_wants_it() -> None:
    client = _app(admin_token="admin-secret").test_client()
    refused = client.get("/_admin/clock")
    assert refused.status_code == 401
    assert refused.json["code"] == "NOT_AUTHORISED"  # type: ignore[index]
    assert client.get("/_admin/clock", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/_admin/clock", headers={"Authorization": "Bearer admin-secret"}).status_code == 200


def test_without_an_admin_token_the_admin_api_is_open(client: FlaskClient) -> None:
    assert client.get("/_admin/clock").status_code == 200
