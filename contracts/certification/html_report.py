"""A single-file HTML report: the verdicts, and the exchanges that decided each one.

Everything that came from the target (or from a rule message quoting it) is escaped;
the file needs no network and no script.
"""

from __future__ import annotations

import json
from html import escape

from contracts.certification.evidence import Exchange
from contracts.certification.reports import headline, verdict_label
from contracts.certification.runner import RuleResult, SuiteResult, Verdict
from contracts.style import stylesheet

__all__ = ["html_report"]


_CLASSES = {
    Verdict.PASSED: "passed",
    Verdict.FAILED: "failed",
    Verdict.ADVISORY_FAILURE: "advisory",
    Verdict.NOT_RUN: "skipped",
    Verdict.NOT_DECIDABLE: "skipped",
    Verdict.ERROR: "error",
}


def _class(item: RuleResult) -> str:
    return _CLASSES[item.verdict]


def _label(item: RuleResult) -> str:
    return verdict_label(item)


def _pretty(body: str) -> str:
    try:
        return json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except ValueError:
        return body


def _headers(headers: dict[str, str] | object) -> str:
    if not isinstance(headers, dict):
        return ""
    return "\n".join(f"{name}: {value}" for name, value in headers.items())


def _exchange(exchange: Exchange) -> str:
    request = _headers(dict(exchange.request_headers))
    if exchange.request_body:
        request += "\n\n" + _pretty(exchange.request_body)
    response = _headers(dict(exchange.response_headers))
    if exchange.response_body:
        response += "\n\n" + _pretty(exchange.response_body)
    note = f" <em>({escape(exchange.note)})</em>" if exchange.note else ""
    return (
        f"<details><summary><code>{escape(exchange.summary)}</code>{note}</summary>"
        f"<p>request</p><pre>{escape(request)}</pre>"
        f"<p>response</p><pre>{escape(response)}</pre></details>"
    )


def _section(item: RuleResult) -> str:
    rule = item.rule
    parts = [
        f'<section id="{escape(rule.id)}"><h2>{escape(rule.id)} '
        f'<span class="{_class(item)}">{escape(_label(item))}</span></h2>',
        f"<p>{escape(rule.title)}</p>",
        f'<p class="ref">reference: {escape(rule.reference)} · layer {escape(rule.layer.value)} · '
        f"capability {escape(rule.capability.value)} · {'required' if rule.required else 'advisory'}</p>",
    ]
    if item.message:
        parts.append(f"<pre>{escape(item.message)}</pre>")
    if item.evidence.notes:
        parts.append("<ul>" + "".join(f"<li>{escape(note)}</li>" for note in item.evidence.notes) + "</ul>")
    parts += [_exchange(exchange) for exchange in item.evidence.exchanges]
    parts.append("</section>")
    return "\n".join(parts)


def html_report(result: SuiteResult) -> str:
    """The whole report as one HTML document."""
    rows = "\n".join(
        f'<tr><td><a href="#{escape(item.rule.id)}">{escape(item.rule.id)}</a></td>'
        f'<td class="{_class(item)}">{escape(_label(item))}</td><td>{escape(item.rule.title)}</td>'
        f"<td>{escape(item.message if item.verdict is not Verdict.PASSED else '')}</td></tr>"
        for item in result.results
    )
    reasons = "".join(
        f"<li>{escape(', '.join(ids))}: {escape(reason)}</li>"
        for reason, ids in result.skip_reasons().items()
    )
    title = f"fibresim certify {result.mode.value}: {result.target}"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title><style>{stylesheet()}</style></head>
<body>
<h1>{escape(title)}</h1>
<p>{escape(headline(result))}</p>
<p class="ref">seed {result.seed} · started {escape(result.started)} · {result.seconds:g}s ·
capabilities {escape(", ".join(result.capabilities) or "(none)")} ({escape(result.capability_source)})</p>
<table><thead><tr><th>rule</th><th>verdict</th><th>title</th><th>why</th></tr></thead>
<tbody>
{rows}
</tbody></table>
{f"<h2>Skipped, and why</h2><ul>{reasons}</ul>" if reasons else ""}
{"".join(_section(item) for item in result.results)}
</body></html>
"""
