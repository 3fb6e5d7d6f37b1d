"""The availability rules of the Service Availability guide, on the pure domain."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from simulator.domain.availability import can_install_new_line, check_availability, first_free_port
from simulator.domain.catalogue import Catalogue, LineProfile, ServiceSpecification, ServicesPerAddress
from simulator.domain.inventory import AddressId, LiveService, PostalAddress, Site

FTTP = ServiceSpecification("FTTP", "FTTP", tuple(LineProfile(str(i), 100 * i, 20 * i) for i in range(1, 5)))
LITE = ServiceSpecification("FTTP-LITE", "FTTP Lite", FTTP.line_profiles[:2], minimum_lead_time_days=5)
PRO = ServiceSpecification("FTTP-PRO", "FTTP Pro", FTTP.line_profiles)
CATALOGUE = Catalogue.of([FTTP, LITE, PRO], [("FTTP-LITE", "FTTP-PRO")])
ADDRESS = AddressId("100000000009")


def site(specs: tuple[str, ...] = ("FTTP",), policy: str = "single", ports: int = 1) -> Site:
    return Site(ADDRESS, PostalAddress(), specs, ServicesPerAddress(policy), ports)


def live(port: int = 1, tenant: str = "TENANT1", spec: str = "FTTP", profile: str = "1") -> LiveService:
    return LiveService(f"S-{port}", tenant, ADDRESS, spec, profile, port)


def test_unknown_address_has_no_services_and_says_why() -> None:
    answer = check_availability(ADDRESS, None, [], CATALOGUE, "TENANT1")
    assert answer.specifications == ()
    assert answer.new_line is None
    assert [reason.code for reason in answer.unavailability_reasons] == ["ADDRESS_NOT_FOUND"]


def test_uncovered_site_has_no_services_and_gives_its_reason() -> None:
    answer = check_availability(ADDRESS, site(()), [], CATALOGUE, "TENANT1")
    assert answer.specifications == ()
    assert answer.new_line is None
    assert [reason.code for reason in answer.unavailability_reasons] == ["NO_COVERAGE"]


def test_covered_site_offers_every_line_profile_and_a_new_line() -> None:
    answer = check_availability(ADDRESS, site(), [], CATALOGUE, "TENANT1")
    assert [spec.line_profile_ids for spec in answer.specifications] == [("1", "2", "3", "4")]
    assert answer.new_line is not None
    assert answer.unavailability_reasons == ()


def test_single_service_site_stops_offering_a_new_line_once_a_service_is_live() -> None:
    answer = check_availability(ADDRESS, site(), [live()], CATALOGUE, "TENANT2")
    assert answer.new_line is None
    assert len(answer.existing_lines) == 1
    assert answer.specifications[0].line_profile_ids == ("1", "2", "3", "4")


def test_multi_service_site_offers_a_new_line_until_every_ont_port_is_used() -> None:
    multi = site(policy="multiple", ports=2)
    assert check_availability(ADDRESS, multi, [live(1)], CATALOGUE, "TENANT1").new_line is not None
    assert check_availability(ADDRESS, multi, [live(1), live(2)], CATALOGUE, "TENANT1").new_line is None


def test_only_the_owner_is_shown_as_owner_of_an_existing_line() -> None:
    answer = check_availability(ADDRESS, site(), [live(tenant="TENANT1")], CATALOGUE, "TENANT2")
    assert not answer.existing_lines[0].shown_to_owner
    answer = check_availability(ADDRESS, site(), [live(tenant="TENANT1")], CATALOGUE, "TENANT1")
    assert answer.existing_lines[0].shown_to_owner


def test_service_type_filter_that_excludes_everything_says_not_serviceable() -> None:
    answer = check_availability(ADDRESS, site(), [], CATALOGUE, "TENANT1", service_types=["ETHERNET"])
    assert answer.specifications == ()
    assert answer.new_line is None
    assert [reason.code for reason in answer.unavailability_reasons] == ["NOT_SERVICEABLE"]


def test_new_line_lead_time_is_the_shortest_of_the_offered_specifications() -> None:
    answer = check_availability(ADDRESS, site(("FTTP-LITE", "FTTP-PRO"), "multiple", 4), [], CATALOGUE, "T")
    assert answer.new_line is not None
    assert answer.new_line.minimum_lead_time_days == 5


@given(
    policy=st.sampled_from(["single", "multiple"]),
    ports=st.integers(1, 6),
    used=st.sets(st.integers(1, 6), max_size=6),
)
def test_a_new_line_is_never_offered_with_a_full_ont(policy: str, ports: int, used: set[int]) -> None:
    services = [live(port) for port in sorted(used) if port <= ports]
    if policy == "single":
        services = services[:1]
    place = site(policy=policy, ports=ports)
    answer = check_availability(ADDRESS, place, services, CATALOGUE, "TENANT1")
    full = len(services) == ports
    assert not (answer.new_line is not None and full)
    assert (answer.new_line is not None) == can_install_new_line(place, services)
    free = first_free_port(place, services)
    assert (free is None) == (answer.new_line is None)
    if free is not None:
        assert free not in {service.ont_port for service in services}
