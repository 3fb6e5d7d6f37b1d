"""The target under certification: where it is, how to reach it, what it offers.

A :class:`Target` wraps an ``httpx`` client with the operator's authentication, sends
the gateway's headers (``X-Request-ID``, ``X-Conversation-ID`` and, towards a supplier,
``Tenant``) on every call, records every exchange so each rule can show the requests
that decided it, and carries the seeded random generator that makes a run repeatable.

Capabilities are declared by the operator (``--capability``) or discovered: a target
that answers ``GET /_admin/capabilities`` lists them; otherwise the suite assumes the
synchronous Supplier API (availability and appointments) and adds ``clock`` when
``GET /_admin/clock`` answers 200 (the fibresim admin API).

In gateway mode the target is the gateway's Supplier Updates API (``kcis``, when its URL
is given) and, for strict mode, a fibresim simulator the gateway has been calling
(``inbound``, when its URL is given and its ``GET /_admin/journal`` answers). Either may be
absent; :meth:`Target.missing_reason` then says which option would have supplied it.
"""

from __future__ import annotations

import json
import math
import random
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from contracts.certification.addresses import AddressBook, RunAddresses, TestAddress
from contracts.certification.errors import RuleSkipped, SetupError, TargetError
from contracts.certification.evidence import Evidence, Exchange
from contracts.certification.receiver import KciReceiver, ReceivedKci
from contracts.certification.rules import Capability, Mode
from contracts.oauth2 import BearerToken, ClientCredentials, NoAuth, TokenError

__all__ = [
    "UK",
    "Auth",
    "BearerToken",
    "ClientCredentials",
    "NoAuth",
    "Target",
    "TargetSettings",
    "iso_duration",
    "parse_capabilities",
]

UK = ZoneInfo("Europe/London")
PROBE_TIMEOUT = 5.0
"""Longest the reachability probe waits: an unreachable or hanging target is found out in seconds."""
ASSUMED_CAPABILITIES = frozenset({Capability.AVAILABILITY, Capability.APPOINTMENTS})
JOURNAL_PATH = "/_admin/journal"
"""Where a fibresim simulator lists the Supplier API requests it received."""


Auth = httpx.Auth
"""The operator's credentials: ``NoAuth``, ``BearerToken`` or ``ClientCredentials`` (contracts.oauth2)."""


@dataclass(frozen=True, slots=True)
class TargetSettings:
    """Everything the operator said about the target and the run."""

    base_url: str
    """The Supplier API (supplier mode) or the Supplier Updates API (gateway mode; empty when not given)."""
    mode: Mode = Mode.SUPPLIER
    tenant: str | None = None
    """Supplier mode: the tenant to send. Gateway mode: only the journalled calls with this ``Tenant``."""
    auth: Auth = field(default_factory=NoAuth)
    addresses: AddressBook = field(default_factory=AddressBook)
    capabilities: frozenset[Capability] | None = None
    """Declared capabilities; ``None`` discovers them."""
    seed: int = 0
    id_base: int | None = None
    """First gateway id the suite uses; ``None`` derives one from the time so reruns never clash.

    Gateway ids and the UUIDs of requests and KCIs follow from the seed and the id base,
    so a run given both is repeated exactly."""
    timeout: float = 10.0
    max_examples: int = 20
    max_wait: float = 0.0
    """Longest the suite may wait in real time for something to happen (a reservation to expire)."""
    kci_wait: float = 0.0
    """How long to wait for KCIs after the order rules ran; 0 skips the KCI layer."""
    order_ids: tuple[int, ...] = ()
    """Gateway mode: order ids the gateway knows, used in turn by the rules that need an order."""
    simulator_url: str | None = None
    """Gateway mode: a fibresim simulator the gateway calls (the inbound rules read its journal)."""
    since: datetime | None = None
    """Gateway mode: only the journalled calls that arrived at or after this time (simulator clock)."""
    deadline: float = 0.0
    """Longest the whole run may take, in seconds (0: no deadline). Past it, the rest is not run."""
    sends_kcis: bool = True
    """Whether the supplier sends KCIs; ``False`` (the operator said so) leaves KCIs out of scope."""
    other_tenant_token: str | None = field(default=None, repr=False)
    """Supplier mode: a bearer token of a client that may not act for ``effective_tenant``."""
    tenant_updates_wait: float = 0.0
    """Gateway mode: how long to wait for the KCIs the gateway forwards to the suite's Tenant
    Updates receiver; 0 means the suite does not play the tenant (loss is then not observable)."""

    @property
    def effective_tenant(self) -> str | None:
        """The tenant to send: the option, else the address file's, else ``TENANT1`` (supplier mode)."""
        if self.mode is Mode.GATEWAY:
            return None
        return self.tenant or self.addresses.tenant or "TENANT1"


def _raw(headers: httpx.Headers) -> list[tuple[str, str]]:
    """Headers as sent, names in their original case."""
    return [(name.decode("latin-1"), value.decode("latin-1")) for name, value in headers.raw]


def iso_duration(span: timedelta) -> str:
    """``PT1860S``: a non-negative span as an ISO-8601 duration in whole seconds (rounded up)."""
    return f"PT{max(0, math.ceil(span.total_seconds()))}S"


class Target:
    """A target API, its recorder, its random generator and what it offers."""

    def __init__(
        self,
        settings: TargetSettings,
        *,
        transport: httpx.BaseTransport | None = None,
        simulator_transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.settings = settings
        # A gateway certified on its inbound calls alone is reported under the simulator's URL.
        self.base_url = (settings.base_url or settings.simulator_url or "").rstrip("/")
        self.rng = random.Random(settings.seed)
        self._client = httpx.Client(
            base_url=self.base_url, timeout=settings.timeout, transport=transport, follow_redirects=False
        )
        self.simulator_url = (settings.simulator_url or "").rstrip("/") or None
        """The simulator whose journal the inbound rules read (gateway mode), if any."""
        # No credentials go to the simulator: the operator's are the gateway's.
        self._simulator = (
            httpx.Client(
                base_url=self.simulator_url,
                timeout=settings.timeout,
                transport=simulator_transport,
                follow_redirects=False,
            )
            if self.simulator_url
            else None
        )
        self._transport = transport
        # Millisecond clock modulo 10^9: runs a second apart never reuse a gateway id.
        self._next_id = (
            settings.id_base if settings.id_base is not None else time.time_ns() // 10**6 % 10**9 + 1
        )
        # KCI and request ids follow the seed and the id base: repeatable with --id-base, and a
        # rerun against the same gateway never reuses a KCI id for a different KCI.
        self._uuids = random.Random(f"{settings.seed}:{self._next_id}")
        self._recording: list[Exchange] | None = None
        self._capabilities: frozenset[Capability] | None = None
        self.capability_source = ""
        self.capability_gaps: dict[Capability, str] = {}
        """Why a capability is not offered, when discovery knows (the option that would supply it)."""
        if settings.capabilities is not None:
            self.capability_source = "declared with --capability"
            self._capabilities = self._with_auth(self._with_kcis(settings.capabilities))
        self.placed_orders: dict[int, str] = {}
        """Gateway order id -> how the target answered it (``201 ACKNOWLEDGED``, ``202``)."""
        self.kci_receiver: KciReceiver | None = None
        """The suite's KCI receiver, when the KCI layer is on (set by the runner)."""
        self.tenant_receiver: KciReceiver | None = None
        """Gateway mode: the suite's Tenant Updates API, the gateway's tenant side (set by the runner)."""
        self.shared: dict[str, Any] = {}
        """State the rules of one run share, e.g. the slots already reserved."""
        self._addresses: RunAddresses | None = None
        self.started = time.monotonic()
        self.notify: Callable[[str], None] = lambda _line: None
        """Where a rule that waits says what it waits for (the CLI prints it)."""

    def past_deadline(self) -> bool:
        """Whether the run's ``--deadline`` has passed."""
        deadline = self.settings.deadline
        return deadline > 0 and time.monotonic() - self.started >= deadline

    def remaining(self, wanted: float) -> float:
        """``wanted`` seconds, cut to what is left before the deadline."""
        if self.settings.deadline <= 0:
            return wanted
        return max(0.0, min(wanted, self.settings.deadline - (time.monotonic() - self.started)))

    # --- lifecycle ---------------------------------------------------------------------------

    def close(self) -> None:
        """Close the HTTP clients."""
        self._client.close()
        if self._simulator is not None:
            self._simulator.close()

    def __enter__(self) -> Target:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --- identity and headers ------------------------------------------------------------------

    @property
    def tenant(self) -> str | None:
        """The tenant the suite sends in ``Tenant`` (``None`` in gateway mode)."""
        return self.settings.effective_tenant

    @property
    def addresses(self) -> RunAddresses:
        """This run's test addresses: per role, an unused one of the operator's pool."""
        if self._addresses is None:
            self._addresses = RunAddresses(self.settings.addresses, self._used_up)
        return self._addresses

    def _used_up(self, place: TestAddress) -> str | None:
        """Why ``place`` no longer plays its role (a run before this one used it), or ``None``.

        Only what the suite itself changes is checked: a ``covered`` address (nothing live)
        where an earlier run completed an order now lists an existing line. Anything else, and
        any answer that is not a readable 200, leaves the address to the rules to judge.
        """
        if place.role != "covered":
            return None
        response = self.get(
            "/service-availability",
            params={"address": json.dumps(dict(place.address))},
            headers=self.headers(),
        )
        try:
            body = response.json() if response.status_code == 200 else None
        except ValueError:
            body = None
        site = body.get("siteInformation") if isinstance(body, dict) else None
        lines = site.get("existingLines") if isinstance(site, dict) else None
        if isinstance(lines, list) and lines:
            return f"{len(lines)} existing line(s) now live there"
        return None

    def new_id(self) -> int:
        """A fresh gateway id (orders, reservations, amendments …), sequential within the run."""
        value = self._next_id
        self._next_id += 1
        return value

    def new_uuid(self) -> str:
        """A UUID drawn from the seed and the id base (request ids, KCI ids)."""
        return str(uuid.UUID(int=self._uuids.getrandbits(128), version=4))

    def headers(self, tenant: str | None = None, **extra: str) -> dict[str, str]:
        """The gateway's headers for one call, ``tenant`` replacing the default one."""
        headers = {"X-Request-ID": self.new_uuid(), "X-Conversation-ID": self.new_uuid()}
        chosen = tenant or self.tenant
        if chosen is not None:
            headers["Tenant"] = chosen
        headers.update(extra)
        return headers

    def auth_headers(self) -> dict[str, str]:
        """The ``Authorization`` header the operator configured, if any."""
        auth = self.settings.auth
        if isinstance(auth, BearerToken):
            return {"Authorization": auth.header}
        if isinstance(auth, ClientCredentials):
            # Its own client: the token endpoint is no part of the target's recorded exchanges.
            with httpx.Client(timeout=self.settings.timeout, transport=self._transport) as tokens:
                try:
                    return {"Authorization": auth.authorization(tokens.send)}
                except (TokenError, httpx.HTTPError) as error:
                    raise TargetError(f"token endpoint {auth.token_url}: {error}") from None
        return {}

    @property
    def has_auth(self) -> bool:
        """Whether the operator configured credentials."""
        return not isinstance(self.settings.auth, NoAuth)

    # --- recording -------------------------------------------------------------------------------

    @contextmanager
    def recording(self) -> Iterator[list[Exchange]]:
        """Record the exchanges made inside the block (one rule's worth)."""
        previous, self._recording = self._recording, []
        try:
            yield self._recording
        finally:
            self._recording = previous

    def record(self, exchange: Exchange) -> None:
        """Add an exchange made elsewhere (by schemathesis, or received by the KCI receiver)."""
        if self._recording is not None:
            self._recording.append(exchange)

    def evidence(self, *notes: str) -> Evidence:
        """The exchanges recorded so far for the current rule, with ``notes``."""
        return Evidence(tuple(self._recording or ()), tuple(note for note in notes if note))

    # --- HTTP ------------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        content: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
        send_auth: bool = True,
        content_type: str | None = None,
        note: str = "",
    ) -> httpx.Response:
        """Send one request, record it, and return the response (transport trouble is a TargetError)."""
        if self.past_deadline():
            raise TargetError(f"the run's deadline ({self.settings.deadline:g}s) passed")
        sent = dict(headers or {})
        if send_auth:
            sent.update(self.auth_headers())
        if json_body is not None:
            content = json.dumps(json_body)
            content_type = content_type or "application/json"
        if content_type:
            sent["Content-Type"] = content_type
        response = self._send(method, path, params, content, sent, note)
        if response.status_code == 401 and send_auth and isinstance(self.settings.auth, ClientCredentials):
            # The token may have expired on the target's clock (which the suite moves): one more
            # try with a fresh token, as any client-credentials client would (both are recorded).
            self.settings.auth.forget()
            sent.update(self.auth_headers())
            if "X-Request-ID" in sent:
                sent["X-Request-ID"] = self.new_uuid()
            response = self._send(method, path, params, content, sent, f"{note} (fresh token)".strip())
        return response

    def _send(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None,
        content: bytes | str | None,
        sent: dict[str, str],
        note: str,
    ) -> httpx.Response:
        started = time.monotonic()
        try:
            response = self._client.request(method, path, params=params, content=content, headers=sent)
        except httpx.HTTPError as error:
            url = f"{self.base_url}{path}"
            self.record(
                Exchange.create(method, url, request_headers=sent.items(), request_body=content or b"")
            )
            raise TargetError(f"{method} {url}: {type(error).__name__}: {error}") from None
        self.record(
            Exchange.create(
                method,
                str(response.request.url),
                request_headers=_raw(response.request.headers),
                request_body=response.request.content,
                status=response.status_code,
                response_headers=_raw(response.headers),
                response_body=response.content,
                seconds=time.monotonic() - started,
                note=note,
            )
        )
        return response

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        """``request("GET", …)``."""
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        """``request("POST", …)``."""
        return self.request("POST", path, **kwargs)

    def check_reachable(self) -> None:
        """Raise TargetError unless the target answers HTTP at all (any status will do).

        A gateway certified on its inbound calls alone is reached through the simulator, on
        its admin surface: a Supplier API call would land in the journal being judged.
        """
        client, path, headers = self._client, "/", self.auth_headers
        if self._simulator is not None and not self.settings.base_url:
            client, path, headers = self._simulator, JOURNAL_PATH, dict
        probe = min(self.settings.timeout, PROBE_TIMEOUT)
        try:
            client.get(path, headers=headers(), timeout=probe)
        except httpx.TimeoutException as error:
            raise TargetError(
                f"{self.base_url} did not answer within {probe:g}s ({type(error).__name__}): "
                "it hangs or is unreachable"
            ) from None
        except httpx.HTTPError as error:
            raise TargetError(f"{self.base_url} cannot be reached: {type(error).__name__}: {error}") from None

    def simulator_get(self, path: str, params: Mapping[str, str | int] | None = None) -> httpx.Response:
        """``GET`` on the simulator (not recorded: what it answers is evidence only once judged)."""
        if self._simulator is None:
            raise RuleSkipped("no simulator given (--simulator)")
        try:
            return self._simulator.get(path, params=params)
        except httpx.HTTPError as error:
            raise TargetError(f"GET {self.simulator_url}{path}: {type(error).__name__}: {error}") from None

    # --- capabilities ----------------------------------------------------------------------------

    @property
    def capabilities(self) -> frozenset[Capability]:
        """What the target offers (discovered on first use unless declared)."""
        if self._capabilities is None:
            found, self.capability_source = self._discover()
            self._capabilities = self._with_auth(self._with_kcis(found))
        return self._capabilities

    def _with_kcis(self, found: frozenset[Capability]) -> frozenset[Capability]:
        """A supplier that takes orders owes KCIs (§3.1), unless the operator says it sends none."""
        if self.settings.mode is not Mode.SUPPLIER:
            return found
        if not self.settings.sends_kcis:
            self.capability_gaps[Capability.KCIS] = (
                "the operator says the supplier sends no KCIs (--no-kcis): not certified for KCIs"
            )
            return found - {Capability.KCIS}
        if Capability.ORDERS in found and Capability.KCIS not in found:
            self.capability_source += "; kcis with orders (a supplier taking orders sends KCIs, §3.1)"
            return found | {Capability.KCIS}
        return found

    def _with_auth(self, found: frozenset[Capability]) -> frozenset[Capability]:
        """Authentication is checked exactly when the operator gave credentials (never declared):
        without them the suite cannot tell a refusal it provoked from one it did not."""
        if self.settings.mode is not Mode.SUPPLIER:
            return found - {Capability.AUTH}
        if self.has_auth:
            self.capability_source += "; auth with the operator's credentials"
            return found | {Capability.AUTH}
        self.capability_gaps[Capability.AUTH] = (
            "no credentials given (--token, or --token-url/--client-id/--client-secret): "
            "authentication is not checked"
        )
        return found - {Capability.AUTH}

    def _admin_json(self, path: str) -> Any:
        try:
            answer = self._client.get(path, headers=self.auth_headers())
        except httpx.HTTPError as error:
            raise TargetError(f"GET {self.base_url}{path}: {type(error).__name__}: {error}") from None
        if answer.status_code != 200:
            return None
        try:
            return answer.json()
        except ValueError:
            return None

    def _discover(self) -> tuple[frozenset[Capability], str]:
        if self.settings.mode is Mode.GATEWAY:
            return self._discover_gateway()
        announced = self._admin_json("/_admin/capabilities")
        if isinstance(announced, dict) and isinstance(announced.get("capabilities"), list):
            known = {c.value for c in Capability}
            offered = frozenset(Capability(c) for c in announced["capabilities"] if c in known)
            return offered, "announced by GET /_admin/capabilities"
        found = set(ASSUMED_CAPABILITIES)
        how = "assumed availability and appointments (no GET /_admin/capabilities)"
        if isinstance(self._admin_json("/_admin/clock"), dict):
            found.add(Capability.CLOCK)
            how += "; clock found at GET /_admin/clock"
        return frozenset(found), how

    def _discover_gateway(self) -> tuple[frozenset[Capability], str]:
        found: set[Capability] = set()
        how = ["gateway mode"]
        if self.settings.base_url:
            found.add(Capability.KCIS)
            how.append(f"KCIs to {self.settings.base_url.rstrip('/')}/kcis")
        else:
            self.capability_gaps[Capability.KCIS] = (
                "no Supplier Updates API given (--kci-url): the KCI rules post to the gateway"
            )
        if self.simulator_url is None:
            self.capability_gaps[Capability.INBOUND] = (
                "no simulator given (--simulator): the inbound rules read its request journal"
            )
        else:
            trouble = self._journal_trouble()
            if trouble is None:
                found.add(Capability.INBOUND)
                how.append(f"inbound calls from {self.simulator_url}{JOURNAL_PATH}")
            else:
                self.capability_gaps[Capability.INBOUND] = trouble
        return frozenset(found), "; ".join(how)

    def _journal_trouble(self) -> str | None:
        """Why the simulator's journal cannot be read, or ``None`` when it answers with a list."""
        where = f"GET {self.simulator_url}{JOURNAL_PATH}"
        try:
            answer = self.simulator_get(JOURNAL_PATH, {"limit": 1})
        except TargetError as error:
            return str(error)
        if answer.status_code != 200:
            return f"{where} answered {answer.status_code}: not a fibresim simulator with a request journal"
        try:
            listed = isinstance(answer.json(), list)
        except ValueError:
            listed = False
        return None if listed else f"{where} did not answer with a list of journal entries"

    def offers(self, capability: Capability) -> bool:
        """Whether the target offers ``capability``."""
        return capability in self.capabilities

    def missing_reason(self, missing: Iterable[Capability]) -> str:
        """Why the rule needing ``missing`` cannot run: what discovery learnt, else what is not offered."""
        wanted = sorted(set(missing), key=lambda c: c.value)
        known = [self.capability_gaps[c] for c in wanted if c in self.capability_gaps]
        unknown = [c.value for c in wanted if c not in self.capability_gaps]
        reasons = [*known, f"the target does not offer {', '.join(unknown)}" if unknown else ""]
        return "; ".join(reason for reason in reasons if reason)

    # --- time --------------------------------------------------------------------------------------

    def now(self) -> datetime:
        """The target's current time: its clock API when it has one, else the wall clock."""
        if self.offers(Capability.CLOCK):
            answer = self.get("/_admin/clock", headers=self.headers())
            try:
                return datetime.fromisoformat(answer.json()["now"]).astimezone(UTC)
            except (ValueError, KeyError, TypeError):
                raise TargetError(
                    f"GET /_admin/clock answered {answer.status_code}: {answer.text[:200]}"
                ) from None
        return datetime.now(UTC)  # noqa: TID251 - a real supplier lives on the wall clock

    def today(self) -> date:
        """The target's current date in the UK."""
        return self.now().astimezone(UK).date()

    def advance_clock(self, span: timedelta) -> None:
        """Move the target's clock forward with ``POST /_admin/clock/advance`` (clock capability)."""
        if not self.offers(Capability.CLOCK):
            raise RuleSkipped("the target has no clock API (POST /_admin/clock/advance)")
        answer = self.post(
            "/_admin/clock/advance", json_body={"by": iso_duration(span)}, headers=self.headers()
        )
        if answer.status_code != 200:
            raise TargetError(
                f"POST /_admin/clock/advance answered {answer.status_code}: {answer.text[:200]}"
            )
        if isinstance(self.settings.auth, ClientCredentials):
            self.settings.auth.forget()  # its tokens live on the clock just moved

    # --- KCIs ----------------------------------------------------------------------------------------

    def received_kcis(self) -> list[ReceivedKci]:
        """The KCIs the suite's receiver collected so far."""
        if self.kci_receiver is None:
            raise RuleSkipped("no KCI receiver runs in this session (--kci-wait is 0)")
        return self.kci_receiver.received()

    def require(self, *capabilities: Capability) -> None:
        """Skip the rule unless the target offers every one of ``capabilities``."""
        missing = [c for c in capabilities if c not in self.capabilities]
        if missing:
            raise RuleSkipped(self.missing_reason(missing), out_of_scope=True)


def parse_capabilities(values: Sequence[str]) -> frozenset[Capability]:
    """``--capability`` values (``all`` means every capability) as a set; unknown ones are a SetupError."""
    chosen: set[Capability] = set()
    for value in values:
        for raw in value.split(","):
            name = raw.strip().lower()
            if not name:
                continue
            if name == "all":
                chosen.update(Capability)
                continue
            try:
                chosen.add(Capability(name))
            except ValueError:
                known = ", ".join(c.value for c in Capability)
                raise SetupError(f"unknown capability {name!r}; known: {known}, all") from None
    return frozenset(chosen)
