"""The worked examples of the Service Availability guide, asked of the served demo profile."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from hypothesis import given
from hypothesis import strategies as st

from simulator.profiles import load_profile
from tests.conftest import address_query, gateway_headers


def availability(client: FlaskClient, uprn: str, tenant: str = "TENANT1", **query: Any) -> dict[str, Any]:
    response = client.get(
        "/service-availability", query_string=address_query(uprn, **query), headers=gateway_headers(tenant)
    )
    assert response.status_code == 200, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def line_profiles(body: dict[str, Any]) -> dict[str, list[str]]:
    return {
        spec["id"]: next(c["values"] for c in spec["serviceCharacteristics"] if c["name"] == "LINE_PROFILE")
        for spec in body["serviceSpecifications"]
    }


def characteristics(line: dict[str, Any]) -> dict[str, str]:
    return {c["name"]: c["value"] for c in line["lineCharacteristics"]}


def test_no_coverage_returns_no_availability_with_unavailability_reasons(client: FlaskClient) -> None:
    body = availability(client, "100000000001")
    assert body["serviceSpecifications"] == []
    assert "line" not in body["siteInformation"]
    assert [r["code"] for r in body["unavailabilityReasons"]] == ["NO_COVERAGE"]


def test_coverage_returns_fttp_with_four_line_profiles_and_a_new_line(client: FlaskClient) -> None:
    body = availability(client, "100000000002")
    assert line_profiles(body) == {"FTTP": ["1", "2", "3", "4"]}
    assert body["siteInformation"]["line"]["type"] == "NEW"
    assert "unavailabilityReasons" not in body


def test_single_service_address_with_a_live_line_offers_no_new_line_to_any_tenant(
    client: FlaskClient,
) -> None:
    for tenant in ("TENANT1", "TENANT2"):
        body = availability(client, "100000000003", tenant)
        assert line_profiles(body) == {"FTTP": ["1", "2", "3", "4"]}
        assert "line" not in body["siteInformation"]
        assert len(body["siteInformation"]["existingLines"]) == 1


def test_the_owner_sees_its_service_id_and_another_tenant_sees_the_ont_port(client: FlaskClient) -> None:
    own = availability(client, "100000000003", "TENANT1")["siteInformation"]["existingLines"][0]
    other = availability(client, "100000000003", "TENANT2")["siteInformation"]["existingLines"][0]
    assert characteristics(own)["SERVICE_ID"] == "S100000000003-1"
    assert characteristics(own)["LINE_PROFILE"] == "1"
    assert "SERVICE_ID" not in characteristics(other)
    assert other["ont"]["ontReference"] == "ONT100000000003"
    assert other["ont"]["ports"] == [{"portNumber": 1, "status": "ACTIVE", "tenantActive": True}]


def test_multi_service_address_keeps_offering_a_new_line_beside_the_live_one(client: FlaskClient) -> None:
    for tenant in ("TENANT1", "TENANT2"):
        body = availability(client, "100000000004", tenant)
        assert line_profiles(body) == {"FTTP": ["1", "2", "3", "4"]}
        assert body["siteInformation"]["line"]["type"] == "NEW"
        assert len(body["siteInformation"]["existingLines"]) == 1


def test_lite_and_pro_are_offered_with_the_lite_subset_and_the_live_lite_line(client: FlaskClient) -> None:
    body = availability(client, "100000000005")
    assert line_profiles(body) == {"FTTP-LITE": ["1", "2"], "FTTP-PRO": ["1", "2", "3", "4"]}
    assert "line" in body["siteInformation"]
    (existing,) = body["siteInformation"]["existingLines"]
    assert characteristics(existing)["SERVICE_SPECIFICATION"] == "FTTP-LITE"
    assert characteristics(existing)["MAX_DOWNSTREAM_MBPS"] == "100"


def test_the_new_line_reports_the_minimum_lead_time(client: FlaskClient) -> None:
    line = availability(client, "100000000005")["siteInformation"]["line"]
    assert characteristics(line)["MINIMUM_LEAD_TIME"] == "5"


def test_unknown_address_gets_the_documented_no_availability_answer(client: FlaskClient) -> None:
    body = availability(client, "999999999999")
    assert body["serviceSpecifications"] == []
    assert [r["code"] for r in body["unavailabilityReasons"]] == ["ADDRESS_NOT_FOUND"]


def test_a_filter_for_ethernet_finds_nothing_at_a_broadband_address(client: FlaskClient) -> None:
    body = availability(client, "100000000002", serviceTypes="ETHERNET")
    assert body["serviceSpecifications"] == []
    assert "line" not in body["siteInformation"]
    assert [r["code"] for r in body["unavailabilityReasons"]] == ["NOT_SERVICEABLE"]


def test_missing_headers_are_a_malformed_request_naming_each_header(client: FlaskClient) -> None:
    response = client.get("/service-availability", query_string=address_query("100000000002"))
    assert response.status_code == 400
    body = response.get_json()
    assert body["code"] == "MALFORMED_REQUEST"
    assert set(body) == {"uuid", "code", "messages"}
    for header in ("X-Request-ID", "X-Conversation-ID", "Tenant"):
        assert any(header in message for message in body["messages"])


def test_an_address_that_is_not_json_is_a_malformed_request(client: FlaskClient) -> None:
    response = client.get(
        "/service-availability", query_string={"address": "100000000002"}, headers=gateway_headers()
    )
    assert response.status_code == 400
    assert any("address" in message for message in response.get_json()["messages"])


def test_an_address_without_an_id_is_a_malformed_request(client: FlaskClient) -> None:
    response = client.get(
        "/service-availability", query_string={"address": '{"type": "UPRN"}'}, headers=gateway_headers()
    )
    assert response.status_code == 400
    messages = response.get_json()["messages"]
    assert any("address" in m and "id" in m and "is a required property" in m for m in messages)


def test_an_unknown_url_answers_with_the_error_body(client: FlaskClient) -> None:
    response = client.get("/no-such-thing", headers=gateway_headers())
    assert response.status_code == 404
    assert response.get_json()["code"] == "NOT_FOUND"


ESTATE = st.integers(200_000_000_000, 200_000_009_999).map(str)


@given(uprn=ESTATE, tenant=st.sampled_from(["TENANT1", "TENANT2", "TENANT3"]))
def test_an_estate_address_never_offers_a_new_line_with_a_full_ont(
    client: FlaskClient, uprn: str, tenant: str
) -> None:
    site = availability(client, uprn, tenant)["siteInformation"]
    for line in site.get("existingLines", []):
        ports = line["ont"]["ports"]
        if all(port["status"] == "ACTIVE" for port in ports):
            assert "line" not in site


@given(uprn=ESTATE)
def test_an_estate_address_offers_exactly_each_specifications_line_profiles(
    client: FlaskClient, uprn: str
) -> None:
    body = availability(client, uprn)
    catalogue = load_profile("demo").catalogue
    for spec_id, values in line_profiles(body).items():
        assert values == list(catalogue.specifications[spec_id].line_profile_ids)
    assert bool(body["serviceSpecifications"]) != bool(body.get("unavailabilityReasons"))
