"""Supplier profiles: the bundled ones load, and a bad one is refused naming the field."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from scenarios import bundled_profiles, profile_path
from simulator.domain.errors import ConfigurationError
from simulator.profiles import build_profile, load_profile


def demo_document() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(profile_path("demo").read_text())
    return loaded


@pytest.mark.parametrize("name", bundled_profiles())
def test_every_bundled_profile_loads(name: str) -> None:
    profile = load_profile(name)
    assert profile.catalogue.specifications


def test_the_demo_profile_has_the_five_worked_example_addresses() -> None:
    profile = load_profile("demo")
    assert [site.address.id for site in profile.sites] == [f"10000000000{n}" for n in range(1, 6)]


def test_the_same_document_always_has_the_same_fingerprint() -> None:
    assert build_profile(demo_document()).fingerprint == build_profile(demo_document()).fingerprint


def refused(document: dict[str, Any]) -> str:
    with pytest.raises(ConfigurationError) as caught:
        build_profile(document, source="bad.yaml")
    return str(caught.value)


def test_a_missing_required_field_is_named() -> None:
    document = demo_document()
    del document["supplier"]["code"]
    assert "supplier: 'code' is a required property" in refused(document)


def test_a_wrong_type_is_named_with_its_path() -> None:
    document = demo_document()
    document["serviceSpecifications"][0]["minimumLeadTimeDays"] = "ten"
    assert "serviceSpecifications/0/minimumLeadTimeDays" in refused(document)


def test_coverage_naming_an_unknown_specification_is_refused() -> None:
    document = demo_document()
    document["addresses"][1]["coverage"] = ["FTTX"]
    assert "addresses/1/coverage: no service specification 'FTTX'" in refused(document)


def test_a_live_service_on_an_unknown_line_profile_is_refused() -> None:
    document = demo_document()
    document["addresses"][2]["liveServices"][0]["lineProfile"] = "9"
    assert "addresses/2/liveServices/0/lineProfile" in refused(document)


def test_two_live_services_at_a_single_service_address_are_refused() -> None:
    document = demo_document()
    services = document["addresses"][2]["liveServices"]
    services.append({**copy.deepcopy(services[0]), "serviceId": "S-other"})
    assert "a single-service address holds one live service" in refused(document)


def test_an_uplift_to_an_unknown_specification_is_refused() -> None:
    document = demo_document()
    document["uplifts"] = [{"from": "FTTP-LITE", "to": "FTTP-MAX"}]
    assert "uplifts/0/to: no service specification 'FTTP-MAX'" in refused(document)


def test_every_problem_is_reported_at_once() -> None:
    document = demo_document()
    document["addresses"][1]["coverage"] = ["FTTX"]
    document["uplifts"] = [{"from": "NOPE", "to": "FTTP-PRO"}]
    message = refused(document)
    assert "FTTX" in message
    assert "NOPE" in message


def test_a_profile_file_that_is_not_yaml_is_refused(tmp_path: Any) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("supplier: [unclosed")
    with pytest.raises(ConfigurationError, match="not valid YAML"):
        load_profile(str(path))


def test_an_unknown_default_scenario_is_refused_listing_the_known_ones() -> None:
    document = demo_document()
    document["orders"] = {"orderScenario": "ORDER_TELEPORTED"}
    message = refused(document)
    assert "orders/orderScenario: no order scenario 'ORDER_TELEPORTED'" in message
    assert "ORDER_SUCCESSFUL" in message


def test_an_amendment_scenario_cannot_answer_orders() -> None:
    document = demo_document()
    document["orders"] = {"orderScenario": "AMENDMENT_ACCEPTED"}
    assert "orders/orderScenario" in refused(document)


def test_an_unknown_orders_setting_is_refused() -> None:
    document = demo_document()
    document["orders"] = {"pointOfNoReturn": 3}
    assert "orders" in refused(document)


def test_the_assurance_section_names_a_scenario_of_the_wrong_kind_and_an_unknown_specification() -> None:
    document = demo_document()
    document["assurance"] = {"problemScenario": "SERVICE_TEST_GREEN", "problemTypes": {"ADSL": ["OUTAGE"]}}
    message = refused(document)
    assert "assurance/problemScenario: no problem scenario 'SERVICE_TEST_GREEN'" in message
    assert "assurance/problemTypes/ADSL: no such service specification" in message


def test_the_demo_profile_takes_no_customer_problems_on_fttp_lite() -> None:
    policy = load_profile("demo").assurance
    assert not policy.handles("FTTP-LITE", "CUSTOMER")
    assert policy.handles("FTTP", "CUSTOMER")
