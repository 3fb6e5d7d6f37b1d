"""The negative controls: run the certification against each broken and each unusual-but-correct fake.

A *bug* variant breaks one documented rule and must not pass it (failed or advisory failure;
"not decidable" only where the target offers no way to observe the rule, and the variant
says so). A *quirk* variant is correct in a way the reference allows and must pass its rule
with nothing failed. :func:`detection_table` renders every rule's verdict per variant.
"""

from __future__ import annotations

from collections.abc import Collection
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache

import httpx

from contracts.certification.addresses import parse_address_book
from contracts.certification.rules import Capability, Mode
from contracts.certification.runner import SuiteResult, Verdict, certify
from contracts.certification.target import ClientCredentials, TargetSettings
from tests.certification.fakes import (
    CLIENT_ID,
    CLIENT_SECRET,
    FAKE_ADDRESSES,
    gateway_app,
    supplier_app,
)
from tests.served import free_port, serve_wsgi

SUPPLIER_RULES = ("AVL-00[1-6]", "APT-*", "ORD-*", "AST-*", "KCI-*")
SUPPLIER_CAPABILITIES = frozenset(
    {
        Capability.AVAILABILITY,
        Capability.APPOINTMENTS,
        Capability.CLOCK,
        Capability.ORDERS,
        Capability.AMENDMENTS,
        Capability.CANCELLATIONS,
        Capability.KCIS,
        Capability.ASSURANCE,
    }
)
NOT_PASSED = frozenset({Verdict.FAILED, Verdict.ADVISORY_FAILURE})
UNOBSERVABLE = frozenset({Verdict.FAILED, Verdict.ADVISORY_FAILURE, Verdict.NOT_DECIDABLE})


@dataclass(frozen=True, slots=True)
class Variant:
    """One fake: what is broken (or unusual), and the rule that must notice (or must pass)."""

    name: str
    kind: str  # "supplier" or "gateway"
    flags: Collection[str]
    rule: str
    broken: bool
    expected: frozenset[Verdict] = NOT_PASSED

    @property
    def expectation(self) -> str:
        if not self.broken:
            return "passes" if Verdict.PASSED in self.expected else "not decidable (never passes)"
        return "fails" if self.expected == NOT_PASSED else "does not pass (not observable)"


TENANT_SIDE = "tenant_side"  # not a misbehaviour: the run plays the tenant (--tenant-updates-port)
PASSED = frozenset({Verdict.PASSED})


def _flags(flag: str, kind: str) -> tuple[str, tuple[str, ...]]:
    """``gateway+tenant``: a gateway variant whose run observes the tenant side."""
    return ("gateway", (flag, TENANT_SIDE)) if kind == "gateway+tenant" else (kind, (flag,))


def _bug(name: str, rule: str, flag: str | None = None, kind: str = "supplier") -> Variant:
    kind, flags = _flags(flag or name, kind)
    return Variant(name, kind, flags, rule, broken=True)


def _quirk(name: str, rule: str, flag: str | None = None, kind: str = "supplier") -> Variant:
    kind, flags = _flags(flag or name, kind)
    return Variant(name, kind, flags, rule, broken=False, expected=PASSED)


VARIANTS = (
    Variant("correct supplier", "supplier", (), "*", broken=False, expected=frozenset({Verdict.PASSED})),
    _bug("new line at a single-service address", "AVL-003", "line_at_single_service"),
    _bug("wrong existing line", "AVL-004", "wrong_line"),
    _bug("missing headers not refused", "AVL-006", "ignore_headers"),
    _bug("UK time written as UTC", "APT-002", "local_as_utc"),
    _bug("double booking", "APT-004", "overbook"),
    _bug("holds never expire", "APT-005", "never_expire"),
    _bug("500 on bad input", "ORD-003", "crash_on_bad_input"),
    _bug("NEW line where none fits", "ORD-004", "accept_any_order"),
    _bug("500 for an unknown order", "ORD-005", "amend_unknown_500"),
    _bug("ignores gateway ids", "ORD-002", "ignore_ids"),
    _bug("answers about another order", "ORD-008", "other_order"),
    _bug("no KCIs at all", "KCI-008", "no_kcis"),
    _bug("sequence gap", "KCI-003", "kci_sequence_gap"),
    _bug("reused KCI id", "KCI-002", "kci_reused_id"),
    _bug("COMPLETED without COMMITTED", "KCI-004", "completed_without_committed"),
    _bug("tests another tenant's service", "AST-003", "test_foreign_service"),
    _bug("illegal problem transition", "KCI-012", "problem_illegal_transition"),
    _bug("problem 202 never followed", "KCI-008", "problem_silent_202"),
    _bug("cancels a cancelled problem", "AST-009", "cancel_closed_problem"),
    _quirk("slot times in UTC", "APT-002", "utc_slots"),
    _quirk("no expiryDateTime", "APT-003", "no_expiry"),
    _quirk("422 for an unknown order", "ORD-005", "amend_unknown_422"),
    _quirk("PENDING_AMENDMENT status", "ORD-008", "pending_amendment"),
    _quirk("re-delivered KCIs", "KCI-002", "kci_redelivered"),
    _quirk("422 for an unknown problem", "AST-007", "problem_unknown_422"),
    Variant("correct gateway", "gateway", (), "*", broken=False, expected=frozenset({Verdict.PASSED})),
    _bug("500 on malformed KCI", "GW-002", "crash_on_malformed", "gateway"),
    _bug("invalid KCI taken", "GW-003", "accept_invalid", "gateway"),
    _bug("wrong error code", "GW-003", "wrong_error_code", "gateway"),
    _bug("re-delivery refused", "GW-004", "refuse_duplicates", "gateway"),
    Variant(
        "drops out-of-order KCIs",
        "gateway",
        ("drop_out_of_order",),
        "GW-005",
        broken=True,
        expected=UNOBSERVABLE,
    ),
    Variant(
        "answers 204 and drops", "gateway", ("drop_everything",), "GW-004", broken=True, expected=UNOBSERVABLE
    ),
    _bug("unauthenticated KCIs taken", "GW-006", "ignore_auth", "gateway"),
    Variant(
        "reused id taken as a re-delivery",
        "gateway",
        ("accept_reused_id",),
        "GW-004",
        broken=False,
        expected=frozenset({Verdict.NOT_DECIDABLE}),
    ),
    # The same, observed on the tenant side (certify gateway --tenant-updates-port).
    Variant("correct gateway, tenant side", "gateway", (TENANT_SIDE,), "*", broken=False, expected=PASSED),
    _quirk("reused id taken as a re-delivery, tenant side", "GW-004", "accept_reused_id", "gateway+tenant"),
    _bug("drops out-of-order KCIs, tenant side", "GW-005", "drop_out_of_order", "gateway+tenant"),
    _bug("answers 204 and drops, tenant side", "GW-004", "drop_everything", "gateway+tenant"),
    _bug("forwards out of sequence", "GW-005", "forward_unordered", "gateway+tenant"),
    _bug("forwards a re-delivery again", "GW-004", "forward_duplicates", "gateway+tenant"),
)


def _supplier_run(flags: Collection[str]) -> SuiteResult:
    port = free_port()
    settings = TargetSettings(
        base_url="http://supplier.test",
        addresses=parse_address_book(FAKE_ADDRESSES, "fake"),
        capabilities=SUPPLIER_CAPABILITIES,
        seed=11,
        id_base=100,
        kci_wait=4.0,
    )
    app = supplier_app(flags, kci_url=f"http://127.0.0.1:{port}")
    return certify(
        settings,
        patterns=SUPPLIER_RULES,
        kci_port=port,
        transport=httpx.WSGITransport(app=app),
        announce=lambda _line: None,
    )


def _gateway_run(flags: Collection[str]) -> SuiteResult:
    tenant_port = free_port() if TENANT_SIDE in flags else 0
    tenant_url = f"http://127.0.0.1:{tenant_port}" if tenant_port else None
    misbehave = set(flags) - {TENANT_SIDE}
    with serve_wsgi(gateway_app(misbehave, tenant_url=tenant_url)) as base:
        settings = TargetSettings(
            base_url=base,
            mode=Mode.GATEWAY,
            auth=ClientCredentials(f"{base}/auth/supplier/access-token", CLIENT_ID, CLIENT_SECRET),
            seed=3,
            id_base=5000,
            tenant_updates_wait=3.0 if tenant_port else 0.0,
            max_examples=5,  # GW-007's generated streams; test_gateway_streams goes deeper
        )
        return certify(settings, patterns=["GW-*"], tenant_port=tenant_port, announce=lambda _line: None)


# A supplier run spends ~90 % of its time waiting for KCIs and expiries (about 0.75 s of CPU in
# 8 s), so the supplier runs go side by side; a few at a time keeps each run's waits honest on a
# busy machine. Gateway runs generate streams with hypothesis, which wants one thread.
SUPPLIER_RUNS_AT_ONCE = 6


@cache
def _supplier_runs() -> dict[str, Future[SuiteResult]]:
    """Every supplier variant's run, started on first use."""
    pool = ThreadPoolExecutor(max_workers=SUPPLIER_RUNS_AT_ONCE, thread_name_prefix="detection")
    runs = {v.name: pool.submit(_supplier_run, v.flags) for v in VARIANTS if v.kind == "supplier"}
    pool.shutdown(wait=False)  # the submitted runs still finish
    return runs


@cache
def run_variant(name: str) -> SuiteResult:
    """The certification of one variant (cached: the table and the tests share runs)."""
    variant = next(v for v in VARIANTS if v.name == name)
    if variant.kind == "supplier":
        return _supplier_runs()[name].result()
    return _gateway_run(variant.flags)


def verdicts(result: SuiteResult) -> dict[str, Verdict]:
    return {item.rule.id: item.verdict for item in result.results}


_SHORT = {
    Verdict.PASSED: "pass",
    Verdict.FAILED: "FAIL",
    Verdict.ADVISORY_FAILURE: "adv-fail",
    Verdict.NOT_RUN: "not run",
    Verdict.NOT_DECIDABLE: "undecid.",
    Verdict.ERROR: "ERROR",
}


def detection_table() -> str:
    """Markdown: one row per variant, its target rule, expectation, outcome, and every rule's verdict."""
    lines = []
    for kind in ("supplier", "gateway"):
        chosen = [v for v in VARIANTS if v.kind == kind]
        rules = list(verdicts(run_variant(chosen[0].name)))
        lines += [
            f"### {kind} variants",
            "",
            "| variant | rule | expected | ok | " + " | ".join(rules) + " |",
            "|---|---|---|---|" + "---|" * len(rules),
        ]
        for variant in chosen:
            got = verdicts(run_variant(variant.name))
            ok = "yes" if meets(variant, got) else "**NO**"
            cells = [f"**{_SHORT[got[r]]}**" if r == variant.rule else _SHORT[got[r]] for r in rules]
            lines.append(
                f"| {variant.name} | {variant.rule} | {variant.expectation} | {ok} | "
                + " | ".join(cells)
                + " |"
            )
        lines.append("")
    return "\n".join(lines)


def meets(variant: Variant, got: dict[str, Verdict]) -> bool:
    """Whether the variant's rule got what it must, and a correct variant has nothing failed."""
    if not variant.broken:
        failed = [r for r, v in got.items() if v in {Verdict.FAILED, Verdict.ERROR}]
        if failed:
            return False
        if variant.rule == "*":
            return True
    return got.get(variant.rule) in variant.expected
