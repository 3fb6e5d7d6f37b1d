"""GW-007: generated KCI streams for many orders at once, shrunk to the shortest that breaks a gateway.

hypothesis draws a *plan*: a few orders (fresh gateway ids per example), each with a
prefix of a provide order's happy path, and the deliveries of their KCIs interleaved in
any order, with re-deliveries (the same KCI again, early or late), gaps (a KCI never
sent), invalid KCIs among them, and bursts (a group posted at once from several threads).
A plan breaks the gateway when it answers a 5xx, refuses a valid KCI or a re-delivery,
takes an invalid one, or, on the tenant side (``--tenant-updates-port``), when an order's
deliverable KCIs (the gapless prefix from sequence 1) do not reach the tenant once each
and in sequence, or a KCI after a gap is forwarded. hypothesis then shrinks the plan; the
verdict shows the shortest plan found and the seed that replays it
(``--seed S --only GW-007``).
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from contracts.certification.errors import RuleSkipped, RuleViolation
from contracts.certification.evidence import Evidence, Exchange
from contracts.certification.gateway import (
    HAPPY_PATH,
    GatewayOrder,
    forwarded_reasons,
    kci_about,
    post_kci,
    tenant_mark,
    tenant_side,
)
from contracts.certification.rules import rule
from contracts.certification.target import Target

__all__ = ["Delivery", "Plan", "plans"]

MAX_ORDERS = 3
BURST_THREADS = 4
SETTLE_SECONDS = 0.2  # per generated plan, for a forward that should not come
ONE_IN_FOUR = (False, False, False, True)  # shrinks towards False, the first


@dataclass(frozen=True, slots=True)
class Delivery:
    """One post: the KCI ``sequence`` of order number ``order`` (index into the plan's orders)."""

    order: int
    sequence: int
    invalid: bool = False
    """Post a broken copy instead (COMMITTED without its dates, or an unknown reason code)."""
    burst: bool = False
    """Posted together with the deliveries before it that are also ``burst``, from several threads."""


@dataclass(frozen=True, slots=True)
class Plan:
    """Orders (how many happy-path KCIs each has) and the deliveries, in the order posted."""

    lengths: tuple[int, ...]
    deliveries: tuple[Delivery, ...]

    def describe(self) -> str:
        """One line per order and the posting order, e.g. ``order B: 2, 1, 1 (again)``."""
        seen: set[tuple[int, int]] = set()
        steps = []
        for item in self.deliveries:
            label = f"{'ABC'[item.order]}{item.sequence}"
            if item.invalid:
                label += " (invalid)"
            elif (item.order, item.sequence) in seen:
                label += " (again)"
            if item.burst:
                label += " [burst]"
            seen.add((item.order, item.sequence))
            steps.append(label)
        orders = ", ".join(
            f"{'ABC'[n]}: {', '.join(HAPPY_PATH[:length])}" for n, length in enumerate(self.lengths)
        )
        return f"orders {orders}; posted {' -> '.join(steps)}"

    def deliverable(self, order: int) -> int:
        """How many of the order's KCIs can reach the tenant: the gapless prefix of valid ones sent."""
        sent = {d.sequence for d in self.deliveries if d.order == order and not d.invalid}
        count = 0
        while count + 1 in sent:
            count += 1
        return count


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    """A plan: orders, their KCIs interleaved, with re-deliveries, gaps, invalid KCIs and bursts."""
    lengths = tuple(draw(st.lists(st.integers(1, len(HAPPY_PATH)), min_size=1, max_size=MAX_ORDERS)))
    kcis = [(order, sequence) for order, length in enumerate(lengths) for sequence in range(1, length + 1)]
    sent = draw(st.lists(st.sampled_from(kcis), min_size=1, max_size=len(kcis) + 4))
    deliveries = tuple(
        Delivery(order, sequence, invalid=draw(st.sampled_from(ONE_IN_FOUR)), burst=draw(st.booleans()))
        for order, sequence in sent
    )
    return Plan(lengths, deliveries)


class _Broken(Exception):
    def __init__(self, problem: str, plan: Plan, exchanges: list[Exchange]) -> None:
        super().__init__(problem)
        self.problem = problem
        self.plan = plan
        self.exchanges = exchanges


def _invalid_copy(kci: dict[str, Any]) -> dict[str, Any]:
    """A KCI the contract refuses: COMMITTED without its dates, else an unknown reason code."""
    broken = {**kci, "id": kci["id"][:-1] + ("0" if kci["id"][-1] != "0" else "1")}
    if kci["reasonCode"] == "COMMITTED":
        broken["provideServiceOrder"] = {
            k: v for k, v in kci["provideServiceOrder"].items() if k not in {"committedDate", "targetDate"}
        }
    else:
        broken["reasonCode"] = "SHIPPED"
    return broken


def _play(target: Target, plan: Plan) -> tuple[str | None, list[Exchange]]:
    """Post the plan's deliveries; the first problem seen (or ``None``) and the exchanges made."""
    orders = [GatewayOrder(n, f"SO-{n:09d}") for n in (target.new_id() for _ in plan.lengths)]
    kcis = {
        (o, s): kci_about(target, HAPPY_PATH[s - 1], orders[o], s)
        for o, length in enumerate(plan.lengths)
        for s in range(1, length + 1)
    }
    since = tenant_mark(target)
    problems: list[str] = []

    def post(item: Delivery) -> None:
        body = kcis[item.order, item.sequence]
        if item.invalid:
            body = _invalid_copy(body)
        what = f"{'ABC'[item.order]}{item.sequence} {body['reasonCode']}"
        response = post_kci(target, body, note=f"generated: {what}")
        if response.status_code >= 500:
            problems.append(f"{what}: server error {response.status_code}")
        elif item.invalid and response.status_code not in {400, 422}:
            problems.append(f"{what} (invalid): answered {response.status_code}, expected 400 or 422")
        elif not item.invalid and response.status_code != 204:
            problems.append(f"{what}: a valid KCI answered {response.status_code}, expected 204")

    with target.recording() as exchanges:
        pending: list[Delivery] = []
        for item in (*plan.deliveries, None):
            if item is not None and item.burst:
                pending.append(item)
                continue
            if pending:
                with ThreadPoolExecutor(BURST_THREADS) as pool:
                    list(pool.map(post, pending))
                pending = []
            if item is not None:
                post(item)
        if not problems and tenant_side(target):
            problems += _tenant_problems(target, plan, orders, since)
        return (problems[0] if problems else None), list(exchanges)


def _tenant_problems(target: Target, plan: Plan, orders: list[GatewayOrder], since: int) -> list[str]:
    expected = [list(HAPPY_PATH[: plan.deliverable(n)]) for n in range(len(orders))]
    for order, reasons in zip(orders, expected, strict=True):  # wait for what is owed ...
        forwarded_reasons(target, order, len(reasons), since, settle=0.0, record=False)
    time.sleep(target.remaining(SETTLE_SECONDS))  # ... and a moment for what is not
    problems = []
    for n, (order, reasons) in enumerate(zip(orders, expected, strict=True)):
        got = forwarded_reasons(target, order, 0, since, settle=0.0)
        if got != reasons:
            problems.append(
                f"order {'ABC'[n]}: the tenant received {', '.join(got) or 'nothing'}, "
                f"expected {', '.join(reasons) or 'nothing'} (once each, in sequence)"
            )
    return problems


def find_breaking_plan(target: Target, examples: int, budget: float) -> _Broken | None:
    """Run hypothesis for ``examples`` plans (and shrinking) within ``budget`` seconds."""
    stop_at = time.monotonic() + budget
    found: list[_Broken] = []

    @seed(target.settings.seed)
    @settings(
        max_examples=examples,
        derandomize=False,
        database=None,
        deadline=None,
        phases=(Phase.generate, Phase.shrink),
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    @given(plans())
    def check(plan: Plan) -> None:
        if time.monotonic() > stop_at:
            return  # out of time: hypothesis keeps the smallest failing plan so far
        problem, exchanges = _play(target, plan)
        if problem is not None:
            broken = _Broken(problem, plan, exchanges)
            found.append(broken)
            raise broken

    try:
        check()
    except _Broken as broken:
        return broken
    return found[-1] if found else None


@rule("GW-007")
def generated_streams_are_received(target: Target) -> Evidence:
    """hypothesis plans (``--max-examples`` of them), shrunk on failure, replayed by ``--seed``."""
    if target.settings.order_ids:
        raise RuleSkipped(
            "generated streams need fresh order ids; the gateway takes KCIs only about the --order-id ones"
        )
    examples = target.settings.max_examples
    broken = find_breaking_plan(target, examples, target.remaining(60.0))
    observed = (
        "the tenant side"
        if tenant_side(target)
        else "the answers alone (no tenant side: loss not observable)"
    )
    if broken is None:
        return target.evidence(f"{examples} generated streams, judged on {observed}: none broke the gateway")
    raise RuleViolation(
        f"{broken.problem}. Shortest plan found: {broken.plan.describe()}. "
        f"Replay with --seed {target.settings.seed} --only GW-007",
        Evidence(tuple(broken.exchanges)),
    )
