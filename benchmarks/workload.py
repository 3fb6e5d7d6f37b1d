"""What the harness sends: profiles of a chosen estate size, and request lines spread over the estate.

Addresses are taken from the estate the simulator itself generates (``simulator.estate``),
so every generated request is valid: covered addresses with no live service (an order
there is accepted), the specification each one offers, and slots from the simulator's
own grid.
"""

from __future__ import annotations

import json
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import yaml

from scenarios import profile_path
from simulator.domain.inventory import AddressId
from simulator.estate import AddressDirectory
from simulator.profiles import load_profile

TENANT = "TENANT1"
HEADERS = {"X-Request-ID": "bench", "X-Conversation-ID": "bench", "Tenant": TENANT}
#: The simulator's clock for every run: a Wednesday in July.
START = "2026-07-01T09:00:00Z"
#: Addresses taken from the estate at most (spread evenly over it).
SAMPLE = 5_000


def query(**params: object) -> str:
    """A query string with JSON-encoded values, as the gateway sends them."""
    return urllib.parse.urlencode({k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()})


def profile_with_estate(folder: Path, size: int) -> Path:
    """The demo profile with an estate of ``size`` addresses, written in ``folder``."""
    profile = yaml.safe_load(profile_path("demo").read_text())
    profile["estate"]["size"] = size
    path = folder / f"demo-{size}.yaml"
    path.write_text(yaml.safe_dump(profile, sort_keys=False))
    return path


@dataclass(frozen=True)
class Orderable:
    """An estate address where a new order is accepted, and the specification to order."""

    uprn: str
    specification: str


def orderable(profile: Path, sample: int = SAMPLE) -> list[Orderable]:
    """Up to ``sample`` covered estate addresses without a live service, spread over the estate."""
    loaded = load_profile(str(profile))
    directory = AddressDirectory(loaded)
    live = {service.address.id for service in directory.initial_live_services()}
    uprns = directory.estate_uprns()
    step = max(1, len(uprns) // (sample * 2))
    found = []
    for uprn in uprns[::step]:
        key = str(uprn)
        site = directory.find(AddressId(key, "UPRN"))
        if site is not None and site.specifications and key not in live:
            found.append(Orderable(key, site.specifications[0]))
        if len(found) >= sample:
            break
    return found


def availability_lines(addresses: list[Orderable]) -> list[str]:
    """GET paths: availability at each address."""
    return ["/service-availability?" + query(address={"id": a.uprn, "type": "UPRN"}) for a in addresses]


def slots_lines(addresses: list[Orderable]) -> list[str]:
    """GET paths: provide slots at each address for the specification it offers."""
    return [
        "/available-appointments?"
        + query(
            address={"id": a.uprn, "type": "UPRN"},
            serviceSpecification={"id": a.specification},
            appointmentPurpose="PROVIDE",
        )
        for a in addresses
    ]


def order_lines(addresses: list[Orderable]) -> list[str]:
    """POST /service-orders bodies: a new line at each address, ``@ID@`` for the order id."""
    lines = []
    for a in addresses:
        body = {
            "id": 0,
            "orderType": "NEW",
            "tenant": TENANT,
            "address": {"id": a.uprn, "type": "UPRN"},
            "serviceOrderItem": {
                "serviceSpecification": {"id": a.specification},
                "serviceCharacteristics": [{"name": "LINE_PROFILE", "value": "1"}],
            },
            "primaryContact": {"name": "Ann Example", "phoneNumber": "07700900000"},
            "requestedCompletionDate": "2026-08-03",
        }
        lines.append(json.dumps(body, separators=(",", ":")).replace('"id":0,', '"id":@ID@,', 1))
    return lines


def reservation_lines(addresses: list[Orderable], slots: list[dict[str, str]]) -> list[str]:
    """POST /appointments bodies: FTTP addresses, each on one of ``slots`` in turn, ``@ID@`` the id."""
    lines = []
    fttp = [a for a in addresses if a.specification == "FTTP"]
    for number, a in enumerate(fttp):
        slot = slots[(number * 7) % len(slots)]
        body = {
            "id": 0,
            "address": {"id": a.uprn, "type": "UPRN"},
            "serviceSpecification": {"id": "FTTP"},
            "purpose": "PROVIDE",
            "timeslot": {
                "timeslotStartDateTime": slot["timeslotStartDateTime"],
                "timeslotEndDateTime": slot["timeslotEndDateTime"],
            },
        }
        lines.append(json.dumps(body, separators=(",", ":")).replace('"id":0,', '"id":@ID@,', 1))
    return lines


def write_lines(path: Path, lines: list[str]) -> Path:
    """``lines`` into ``path``, one per line; returns ``path``."""
    path.write_text("\n".join(lines) + "\n")
    return path
