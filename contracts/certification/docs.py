"""Generate ``docs/rules.md`` from the rule catalogue: ``python -m contracts.certification.docs``.

``--check`` compares instead of writing and exits 1 when the file is stale.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from contracts.certification.addresses import ROLES
from contracts.certification.rules import Capability, Layer, Rule, catalogue

__all__ = ["DOC_PATH", "main", "render_rules_markdown"]

DOC_PATH = Path(__file__).resolve().parents[2] / "docs" / "rules.md"

_LAYERS = {
    Layer.CONTRACT: (
        "Layer 1: contract",
        "Generated requests (schemathesis: the coverage phase, then `--max-examples` fuzzed ones) against "
        "each operation; responses checked for server errors, documented status codes and content types, "
        "response schemas, rejection of missing required headers, and acceptance of schema-valid requests.",
    ),
    Layer.BEHAVIOUR: (
        "Layer 2: behaviour",
        "Hand-written scenarios tied to the reference digest, the seed documents and the contract's "
        "decisions.",
    ),
    Layer.KCI: (
        "Layer 3: KCIs",
        "The KCIs the supplier sends to the suite's receiver (`--kci-wait`), judged by "
        "`contracts.certification.kci_stream.validate_kci_stream`.",
    ),
    Layer.GATEWAY: (
        "Gateway mode",
        "`fibresim certify gateway --kci-url URL`: the suite plays supplier against a Supplier Updates API "
        "(`GW-…`). Strict mode, `--simulator URL` (unrelated to `--strict`): the calls the gateway made to "
        "a fibresim simulator, read from its request journal (`GET /_admin/journal`, narrowed by `--tenant` "
        "and `--since`), are checked against the Supplier API contract, and each violation lists the "
        "offending calls by journal entry, method, path and `X-Request-ID` (`GWI-…`). Give either option "
        "or both; the rules of the missing one are skipped and name it.",
    ),
}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table(rules: Sequence[Rule]) -> list[str]:
    lines = ["| id | rule | capability | required | reference |", "|---|---|---|---|---|"]
    for rule in rules:
        capability = ", ".join([rule.capability.value, *sorted(c.value for c in rule.needs)])
        lines.append(
            f"| `{rule.id}` | {_cell(rule.title)} | {capability} | {'yes' if rule.required else 'advisory'} "
            f"| {_cell(rule.reference)} |"
        )
    return lines


def render_rules_markdown() -> str:
    """The whole of ``docs/rules.md``."""
    rules = catalogue()
    counts = ", ".join(f"{sum(1 for r in rules if r.layer is layer)} {layer.value}" for layer in Layer)
    lines = [
        "# Certification rules",
        "",
        "Generated from the rule catalogue by `python -m contracts.certification.docs`; do not edit by hand.",
        "",
        f"{len(rules)} rules ({counts}). Each rule gets one verdict: *passed*, *failed*, *advisory "
        "failure* (an advisory rule, or a decision of our contract beyond the reference, marked `x-` in "
        "the document), *not run* (and why), *not decidable* (the target offers no way to observe it), "
        "or *could not run* (a tool error). Certified means every *required* rule in scope passed: "
        "*not run* and *not decidable* on a required rule are never counted as passed; rules whose "
        "capability the target does not offer are out of scope, and the report names what the target "
        "is and is not certified for. A supplier taking orders owes KCIs: `kcis` comes with `orders` "
        "unless `--no-kcis` says the supplier sends none (then: not certified for kcis). "
        "A rule runs only when the target "
        "offers its capabilities (announced at `GET /_admin/capabilities`, declared with "
        "`--capability`, or assumed: availability and appointments, plus clock when "
        "`GET /_admin/clock` answers). In gateway mode `kcis` comes with `--kci-url`, and `inbound` with "
        "`--simulator` when its `GET /_admin/journal` answers.",
        "",
        "Capabilities: " + ", ".join(f"`{c.value}`" for c in Capability) + ".",
        "",
        "## Running it",
        "",
        "```sh",
        "fibresim certify supplier http://127.0.0.1:8080 --addresses simulator-demo \\",
        "    --kci-wait 30 --kci-port 9090 --junit certification.xml --html certification.html",
        "fibresim certify gateway --kci-url https://cvt.example/v1 --client-id ID --client-secret SECRET",
        "fibresim certify gateway --simulator http://127.0.0.1:8080 --tenant TENANT1 \\",
        "    --since 2026-07-01T09:00:00Z --html gateway-calls.html",
        "pytest -p contracts.certification.pytest_plugin --fibresim-target http://127.0.0.1:8080 \\",
        "    --fibresim-addresses simulator-demo --junitxml=certification.xml",
        "```",
        "",
        "Exit codes: 0 certified; 1 not certified (with `--strict`, also any advisory failure or rule "
        "not run); 2 could not run (target unreachable or hanging, found out in seconds; `--deadline` "
        "passed; bad options). "
        "`--seed` repeats a run's choices (with `--id-base`, its ids too); `--only 'AVL-*'` selects rules; "
        "`fibresim certify supplier URL --list` lists them. For the KCI layer, point the supplier's "
        "Supplier Updates URL at the receiver the suite prints (fix its port with `--kci-port`).",
        "",
    ]
    for layer, (title, text) in _LAYERS.items():
        lines += [f"## {title}", "", text, "", *_table([r for r in rules if r.layer is layer]), ""]
    lines += [
        "## Test address roles",
        "",
        "Behaviour rules find their addresses by role in the address file (`--addresses`); a rule whose role "
        "is missing is skipped and names it. `contracts/certification/addresses/simulator-demo.yaml` fills "
        "every role for fibresim's demo profile. A role may give a `pool:` of addresses instead of one "
        "`address:`, so the suite can run again against the same supplier instance: each run takes the "
        "first member that still plays its role (a `covered` address where an earlier run left a live "
        "line is passed over), ceases the line its completed order made where it can, and when a pool "
        "runs out the rules needing it are *not run*, saying so, which blocks certification.",
        "",
        "| role | what it must be |",
        "|---|---|",
        *[f"| `{role}` | {_cell(text)} |" for role, text in ROLES.items()],
        "",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Write ``docs/rules.md`` (or, with ``--check``, say whether it is up to date)."""
    args = list(sys.argv[1:] if argv is None else argv)
    text = render_rules_markdown()
    if "--check" in args:
        current = DOC_PATH.read_text(encoding="utf-8") if DOC_PATH.exists() else ""
        if current != text:
            print(f"{DOC_PATH} is stale: run python -m contracts.certification.docs", file=sys.stderr)
            return 1
        return 0
    DOC_PATH.parent.mkdir(parents=True, exist_ok=True)
    DOC_PATH.write_text(text, encoding="utf-8")
    print(f"wrote {DOC_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
