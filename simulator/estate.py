"""The address directory: the profile's explicit addresses plus a generated estate.

The estate is computed, not stored: whether UPRN ``n`` is covered, which
specifications it has and how many services it takes follow from ``random.Random``
seeded with ``(seed, n)``, and its street address from Faker seeded the same way.
The same seed always gives the same estate, and a lookup costs one cached call.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from functools import lru_cache

from faker import Faker

from simulator.domain.catalogue import ServicesPerAddress
from simulator.domain.inventory import AddressId, LiveService, PostalAddress, Site
from simulator.domain.profile import EstateSettings, SupplierProfile


class AddressDirectory:
    """Finds a site by address: explicit profile addresses first, then the estate."""

    def __init__(self, profile: SupplierProfile) -> None:
        self._explicit = {site.address.key: site for site in profile.sites}
        self._estate = profile.estate
        self._profile = profile
        self._default_ports = profile.ont_ports
        self._faker = Faker("en_GB")
        self._faker_lock = threading.Lock()  # a Faker instance holds one random state
        # Sites are immutable, so a per-directory cache is safe and keeps lookups O(1).
        self._generated = lru_cache(maxsize=65_536)(self._generate)

    def find(self, address: AddressId) -> Site | None:
        """The site at ``address``, or ``None`` when the supplier does not know it."""
        site = self._explicit.get(address.key)
        if site is not None:
            return site
        uprn = self._estate_uprn(address)
        return None if uprn is None else self._generated(uprn)

    def _estate_uprn(self, address: AddressId) -> int | None:
        estate = self._estate
        if estate is None or address.type != "UPRN" or not address.id.isdigit() or len(address.id) > 12:
            return None
        uprn = int(address.id)
        if estate.first_uprn <= uprn < estate.first_uprn + estate.size:
            return uprn
        return None

    def estate_uprns(self) -> range:
        """Every UPRN of the generated estate."""
        estate = self._estate
        return range(0) if estate is None else range(estate.first_uprn, estate.first_uprn + estate.size)

    def _generate(self, uprn: int) -> Site:
        estate = self._estate
        assert estate is not None  # only called for estate UPRNs
        draw = _Draws(estate, uprn)
        with self._faker_lock:
            self._faker.seed_instance(estate.seed * 1_000_003 + uprn)
            postal = PostalAddress(
                street_number=str(self._faker.building_number()),
                street_name=self._faker.street_name(),
                city=self._faker.city(),
                postcode=self._faker.postcode(),
            )
        covered = draw.coverage < estate.coverage
        multiple = draw.multi < estate.multi_service_share
        return Site(
            address=AddressId(str(uprn), "UPRN"),
            postal=postal,
            specifications=draw.specifications if covered else (),
            services_per_address=ServicesPerAddress.MULTIPLE if multiple else ServicesPerAddress.SINGLE,
            ont_ports=self._default_ports if multiple else 1,
            unavailable_reason="NO_COVERAGE",
        )

    def initial_live_services(self) -> Iterator[LiveService]:
        """The profile's explicit live services, then the estate's generated ones."""
        yield from self._profile.live_services
        estate = self._estate
        if estate is None:
            return
        catalogue = self._profile.catalogue
        for uprn in self.estate_uprns():
            draw = _Draws(estate, uprn)
            if draw.coverage >= estate.coverage or draw.live >= estate.live_share:
                continue
            spec_id = draw.specifications[0]
            line_profiles = catalogue.specifications[spec_id].line_profile_ids
            yield LiveService(
                service_id=f"S{uprn}-1",
                tenant=draw.tenant,
                address=AddressId(str(uprn), "UPRN"),
                specification_id=spec_id,
                line_profile_id=line_profiles[draw.line_profile_index % len(line_profiles)],
                ont_port=1,
            )


class _Draws:
    """The random choices that define one estate address."""

    __slots__ = ("coverage", "line_profile_index", "live", "multi", "specifications", "tenant")

    def __init__(self, estate: EstateSettings, uprn: int) -> None:
        rng = random.Random(f"{estate.seed}:{uprn}")
        self.coverage = rng.random()
        self.multi = rng.random()
        self.live = rng.random()
        self.specifications = rng.choice(estate.specification_sets)
        self.tenant = rng.choice(estate.tenants)
        self.line_profile_index = rng.randrange(1_000)
