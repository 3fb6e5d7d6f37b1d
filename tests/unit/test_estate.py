"""The generated estate: deterministic by seed, consistent with the profile's catalogue."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from simulator.domain.availability import can_install_new_line, check_availability
from simulator.domain.inventory import AddressId
from simulator.estate import AddressDirectory
from simulator.profiles import load_profile

DEMO = load_profile("demo")


def directory(seed: int, size: int = 300) -> AddressDirectory:
    assert DEMO.estate is not None
    return AddressDirectory(replace(DEMO, estate=replace(DEMO.estate, seed=seed, size=size)))


@given(seed=st.integers(0, 10_000), offset=st.integers(0, 299))
def test_the_same_seed_gives_the_same_address(seed: int, offset: int) -> None:
    address = AddressId(str(200_000_000_000 + offset))
    assert directory(seed).find(address) == directory(seed).find(address)


def test_different_seeds_give_different_estates() -> None:
    addresses = [AddressId(str(200_000_000_000 + n)) for n in range(50)]
    assert [directory(1).find(a) for a in addresses] != [directory(2).find(a) for a in addresses]


def test_addresses_outside_the_estate_are_unknown() -> None:
    estate = directory(1, size=10)
    assert estate.find(AddressId("200000000010")) is None
    assert estate.find(AddressId("199999999999")) is None
    assert estate.find(AddressId("200000000001", "NAD")) is None
    assert estate.find(AddressId("not-a-number")) is None


def test_the_estate_share_of_coverage_is_close_to_the_setting() -> None:
    estate = directory(7, size=2000)
    covered = sum(1 for uprn in estate.estate_uprns() if estate.find(AddressId(str(uprn))).covered)  # type: ignore[union-attr]
    assert 0.80 < covered / 2000 < 0.90


@given(seed=st.integers(0, 1000))
def test_generated_live_services_fit_their_sites(seed: int) -> None:
    estate = directory(seed, size=200)
    for service in estate.initial_live_services():
        site = estate.find(service.address)
        if site is None:  # the profile's fixed addresses
            continue
        assert service.specification_id in site.specifications
        spec = DEMO.catalogue.specifications[service.specification_id]
        assert service.line_profile_id in spec.line_profile_ids
        answer = check_availability(service.address, site, [service], DEMO.catalogue, service.tenant)
        assert (answer.new_line is not None) == can_install_new_line(site, [service])
        for offered in answer.specifications:
            assert offered.line_profile_ids == DEMO.catalogue.specifications[offered.id].line_profile_ids


def test_an_estate_can_be_switched_off() -> None:
    empty = AddressDirectory(replace(DEMO, estate=None))
    assert empty.find(AddressId("200000000001")) is None
    assert list(empty.initial_live_services()) == list(DEMO.live_services)
