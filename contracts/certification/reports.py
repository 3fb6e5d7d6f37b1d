"""Reports of a run: the console summary, JUnit XML, JSON, and (``html_report``) one HTML file.

JUnit maps verdicts the way the exit code reads them: a failed required rule is a
``<failure>``, and so is a required rule in scope that was not run or could not be decided
(``type="not-run"`` / ``"not-decidable"``: never counted as passed); a tool error is an
``<error>``; a rule out of scope ``<skipped type="out-of-scope">``; an advisory failure
``<skipped type="advisory-failure">`` (reported, but not failing the build unless
``--strict``). Characters XML 1.0 forbids (a fuzzed body's control characters) are
written as ``\\xNN`` escapes, so the file always parses.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn
from rich.table import Table
from rich.text import Text

from contracts.certification.rules import Rule
from contracts.certification.runner import STOPPED_MESSAGE, RuleResult, SuiteResult, Verdict

__all__ = [
    "console_summary",
    "evidence_text",
    "headline",
    "json_report",
    "junit_xml",
    "progress",
    "result_dict",
    "write_reports",
]

_STYLES = {
    Verdict.PASSED: "green",
    Verdict.FAILED: "bold red",
    Verdict.ADVISORY_FAILURE: "dark_orange",
    Verdict.NOT_RUN: "yellow",
    Verdict.NOT_DECIDABLE: "yellow",
    Verdict.ERROR: "magenta",
}
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """``text`` with the characters XML 1.0 forbids written as ``\\xNN`` escapes."""
    return _XML_FORBIDDEN.sub(lambda found: f"\\x{ord(found.group()):02x}", text)


def verdict_label(result: RuleResult) -> str:
    """The verdict as reports show it: ``not run (out of scope)``, ``not decidable`` …"""
    if result.out_of_scope:
        return "not run (out of scope)"
    return result.verdict.label


_verdict_label = verdict_label


def headline(result: SuiteResult) -> str:
    """One sentence with the counts."""
    counts = result.counts()
    advisory = f", {counts['failedAdvisory']} advisory failure(s)" if counts["failedAdvisory"] else ""
    errors = f", {counts['errors']} could not run (tool error)" if counts["errors"] else ""
    undecided = f", {counts['notDecidable']} not decidable" if counts["notDecidable"] else ""
    scope = counts["notRunOutOfScope"]
    return (
        f"{counts['rules']} rules in the catalogue, {counts['selected']} selected, {counts['ran']} ran: "
        f"{counts['passed']} passed, {counts['failed']} failed{advisory}{undecided}{errors}; "
        f"{counts['notRun']} not run ({scope} out of scope)"
    )


def console_summary(result: SuiteResult, console: Console, *, strict: bool = False) -> None:
    """Print the verdict table, the skip reasons, and the outcome."""
    if result.stopped:
        console.print(
            f"could not run: {result.stopped}; the rules after that point were not run",
            style="magenta",
            highlight=False,
            markup=False,
        )
    table = Table(title=f"fibresim certify {result.mode.value}: {result.target}", show_lines=False)
    table.add_column("rule", no_wrap=True)
    table.add_column("verdict", no_wrap=True)
    table.add_column("title / why")
    for item in result.results:
        why = item.message if item.verdict is not Verdict.PASSED else ""
        if result.stopped and item.message == STOPPED_MESSAGE:
            why = "not run: the run stopped"
        detail = Text(item.rule.title)
        if why and item.verdict is not Verdict.NOT_RUN:
            detail.append(f"\n{why}", style="dim")
        table.add_row(item.rule.id, Text(_verdict_label(item), style=_STYLES[item.verdict]), detail)
    console.print(table)
    reasons = result.skip_reasons()
    if reasons:
        console.print("[bold]not run or not decidable, and why[/bold]")
        for reason, ids in reasons.items():
            console.print(f"  {_ids(ids)}: {reason}", highlight=False, markup=False)
    console.print(
        f"capabilities: {', '.join(result.capabilities) or '(none)'} ({result.capability_source})",
        highlight=False,
        markup=False,
    )
    console.print(f"seed {result.seed}; {result.seconds:g}s", highlight=False)
    certified, not_certified = result.scope()
    console.print(
        f"certified for: {', '.join(certified) or '(nothing)'}; "
        f"not certified for: {', '.join(not_certified) or '(nothing)'}",
        highlight=False,
        markup=False,
    )
    code = result.exit_code(strict)
    verdict = {
        0: "[green]certified[/green]",
        1: "[red]not certified[/red]",
        2: "[magenta]could not run (incomplete)[/magenta]",
    }
    console.print(f"{verdict[code]}: {headline(result)}", highlight=False)


def _ids(ids: list[str]) -> str:
    return ", ".join(ids) if len(ids) <= 6 else f"{', '.join(ids[:5])} and {len(ids) - 5} more"


@contextmanager
def progress(
    console: Console, total: int, *, enabled: bool, lines: bool = False
) -> Iterator[tuple[Any, Any]]:
    """A progress bar over ``total`` rules; yields ``(on_start, on_result)`` callbacks.

    Without a terminal (``enabled`` false) and with ``lines``, one line per rule as it starts,
    so a run that waits on a slow target is never silent.
    """
    if not enabled:
        if not lines:
            yield None, None
            return
        started = [0]

        def start_line(rule: Rule) -> None:
            started[0] += 1
            console.print(f"[{started[0]}/{total}] {rule.id} {rule.title}", highlight=False, markup=False)

        yield start_line, None
        return
    bar = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        transient=True,
    )
    task = bar.add_task("certifying", total=total)

    def on_start(rule: Rule) -> None:
        bar.update(task, description=f"{rule.id} {rule.title[:50]}")

    def on_result(_result: RuleResult) -> None:
        bar.advance(task)

    with bar:
        yield on_start, on_result


def evidence_text(item: RuleResult) -> str:
    lines = [item.message] if item.message else []
    lines += [f"reference: {item.rule.reference}"]
    lines += [f"note: {note}" for note in item.evidence.notes]
    for exchange in item.evidence.exchanges:
        lines.append(f"> {exchange.summary}")
        if exchange.request_body:
            lines.append(f"  request: {exchange.request_body[:2000]}")
        if exchange.response_body:
            lines.append(f"  response: {exchange.response_body[:2000]}")
    return "\n".join(lines)


def _junit_outcome(item: RuleResult) -> tuple[str, str, str] | None:
    """The JUnit element, its ``type`` and message for one result (``None``: a plain pass)."""
    verdict, message = item.verdict, item.message
    if item.out_of_scope:
        return "skipped", "out-of-scope", message
    if verdict is Verdict.FAILED:
        return "failure", "RuleViolation", message
    if verdict is Verdict.ADVISORY_FAILURE:
        return "skipped", "advisory-failure", f"advisory failure: {message}"
    if verdict in {Verdict.NOT_RUN, Verdict.NOT_DECIDABLE}:
        kind = "not-run" if verdict is Verdict.NOT_RUN else "not-decidable"
        element = "failure" if item.rule.required else "skipped"
        return element, kind, f"{verdict.value}: {message}"
    if verdict is Verdict.ERROR:
        return "error", "ToolError", message
    return None


def junit_xml(result: SuiteResult) -> str:
    """The run as JUnit XML: one ``testcase`` per selected rule."""
    outcomes = [_junit_outcome(item) for item in result.results]
    attributes = {
        "name": f"fibresim certify {result.mode.value}",
        "tests": str(len(result.results)),
        "failures": str(sum(1 for o in outcomes if o and o[0] == "failure")),
        "errors": str(sum(1 for o in outcomes if o and o[0] == "error")),
        "skipped": str(sum(1 for o in outcomes if o and o[0] == "skipped")),
        "time": f"{result.seconds:.3f}",
    }
    suites = ET.Element("testsuites", attributes)
    suite = ET.SubElement(suites, "testsuite", {**attributes, "timestamp": result.started})
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("target", result.target),
        ("seed", str(result.seed)),
        ("capabilities", ", ".join(result.capabilities)),
        ("rules in catalogue", str(result.catalogue_size)),
        ("could not run", result.stopped or ""),
    ):
        ET.SubElement(properties, "property", {"name": name, "value": xml_safe(value)})
    for item, outcome in zip(result.results, outcomes, strict=True):
        case = ET.SubElement(
            suite,
            "testcase",
            {
                "classname": f"fibresim.certify.{item.rule.layer.value}",
                "name": f"{item.rule.id} {item.rule.title}",
                "time": f"{item.seconds:.3f}",
            },
        )
        ET.SubElement(case, "properties").extend(
            [ET.Element("property", {"name": "verdict", "value": verdict_label(item)})]
        )
        if outcome is not None:
            element, kind, message = outcome
            ET.SubElement(case, element, {"message": xml_safe(message), "type": kind}).text = xml_safe(
                evidence_text(item)
            )
        elif item.evidence.notes:
            ET.SubElement(case, "system-out").text = xml_safe("\n".join(item.evidence.notes))
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def result_dict(item: RuleResult) -> dict[str, Any]:
    """One rule's result, JSON-ready."""
    rule = item.rule
    return {
        "id": rule.id,
        "title": rule.title,
        "reference": rule.reference,
        "layer": rule.layer.value,
        "capability": rule.capability.value,
        "needs": sorted(c.value for c in rule.needs),
        "required": rule.required,
        "verdict": item.verdict.value,
        "outOfScope": item.out_of_scope,
        "blocksCertification": item.blocks_certification,
        "message": item.message,
        "seconds": item.seconds,
        "evidence": item.evidence.as_dict(),
    }


def json_report(result: SuiteResult, *, strict: bool = False) -> str:
    """The run as JSON: summary, counts, skip reasons and every result with its evidence."""
    document = {
        "mode": result.mode.value,
        "target": result.target,
        "seed": result.seed,
        "startedAt": result.started,
        "seconds": result.seconds,
        "patterns": list(result.patterns),
        "capabilities": list(result.capabilities),
        "capabilitySource": result.capability_source,
        "kciReceiver": result.receiver_url,
        "exitCode": result.exit_code(strict),
        "couldNotRun": result.stopped,
        "certified": result.exit_code(strict) == 0,
        "certifiedFor": result.scope()[0],
        "notCertifiedFor": result.scope()[1],
        "counts": result.counts(),
        "skipReasons": result.skip_reasons(),
        "results": [result_dict(item) for item in result.results],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def write_reports(
    result: SuiteResult,
    *,
    junit: Path | None = None,
    json_path: Path | None = None,
    html: Path | None = None,
    strict: bool = False,
) -> None:
    """Write whichever reports were asked for (parent folders are created)."""
    from contracts.certification.html_report import html_report

    for path, render in (
        (junit, junit_xml),
        (json_path, lambda r: json_report(r, strict=strict)),
        (html, html_report),
    ):
        if path is None:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(result), encoding="utf-8")
