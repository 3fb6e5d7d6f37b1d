"""GW-007: hypothesis plays generated KCI streams at a gateway and shrinks what breaks it."""

from __future__ import annotations

from collections.abc import Collection

from hypothesis import given

from contracts.certification.gateway_streams import Delivery, Plan, plans
from contracts.certification.rules import Mode
from contracts.certification.runner import RuleResult, Verdict, certify
from contracts.certification.target import ClientCredentials, TargetSettings
from tests.certification.fakes import CLIENT_ID, CLIENT_SECRET, gateway_app
from tests.served import free_port, serve_wsgi


def generated_streams(
    misbehave: Collection[str] = (), *, tenant_side: bool = True, seed: int = 3, **extra: object
) -> RuleResult:
    """GW-007 against the fake gateway (forwarding to the suite's tenant side when asked)."""
    port = free_port() if tenant_side else 0
    app = gateway_app(misbehave, tenant_url=f"http://127.0.0.1:{port}" if port else None)
    with serve_wsgi(app) as base:
        settings = TargetSettings(
            base_url=base,
            mode=Mode.GATEWAY,
            auth=ClientCredentials(f"{base}/auth/supplier/access-token", CLIENT_ID, CLIENT_SECRET),
            seed=seed,
            id_base=7000,
            tenant_updates_wait=3.0 if port else 0.0,
            max_examples=10,
            **extra,  # type: ignore[arg-type]
        )
        (result,) = certify(
            settings, patterns=["GW-007"], tenant_port=port, announce=lambda _line: None
        ).results
    return result


def test_a_plan_owes_the_tenant_the_gapless_prefix_of_valid_kcis_sent() -> None:
    plan = Plan(
        (3, 2),
        (
            Delivery(0, 2),
            Delivery(1, 1, invalid=True),
            Delivery(0, 1),
            Delivery(0, 1, burst=True),
            Delivery(1, 2),
        ),
    )
    assert (plan.deliverable(0), plan.deliverable(1)) == (2, 0)
    assert plan.describe() == (
        "orders A: ACKNOWLEDGED, COMMITTED, UPDATE, B: ACKNOWLEDGED, COMMITTED; "
        "posted A2 -> B1 (invalid) -> A1 -> A1 (again) [burst] -> B2"
    )


@given(plans())
def test_every_generated_plan_delivers_only_kcis_its_orders_have(plan: Plan) -> None:
    assert plan.deliveries
    for item in plan.deliveries:
        assert 1 <= item.sequence <= plan.lengths[item.order]
    assert all(0 <= plan.deliverable(n) <= length for n, length in enumerate(plan.lengths))


def test_a_correct_gateway_passes_on_its_tenant_side() -> None:
    result = generated_streams()
    assert result.verdict is Verdict.PASSED, result.message
    assert "judged on the tenant side" in " ".join(result.evidence.notes)


def test_forwarding_out_of_sequence_is_shrunk_to_the_shortest_plan_with_the_seed_to_replay_it() -> None:
    first = generated_streams({"forward_unordered"}, seed=21)
    assert first.verdict is Verdict.FAILED
    # The shortest breaking plan: one KCI after a gap, forwarded although sequence 1 never came.
    assert "posted A2." in first.message
    assert "Replay with --seed 21 --only GW-007" in first.message
    assert first.evidence.exchanges  # the failing plan's posts
    again = generated_streams({"forward_unordered"}, seed=21)
    assert again.message == first.message


def test_taking_an_invalid_kci_breaks_a_generated_stream_even_without_the_tenant_side() -> None:
    result = generated_streams({"accept_invalid"}, tenant_side=False)
    assert result.verdict is Verdict.FAILED
    assert "(invalid): answered 204, expected 400 or 422" in result.message


def test_with_given_order_ids_the_generated_streams_are_not_run() -> None:
    result = generated_streams(tenant_side=False, order_ids=(1, 2))
    assert result.verdict is Verdict.NOT_RUN
    assert "fresh order ids" in result.message
