"""Reports of a run: the console summary, JUnit XML, JSON, and (``html_report``) one HTML file.

JUnit maps verdicts the way the exit code reads them: a failed *required* rule is a
``<failure>``, a tool error an ``<error>``, a skipped rule ``<skipped>``, and a failed
*advisory* rule ``<skipped type="advisory-failure">`` (reported, but not failing the
build unless ``--strict``).
"""

from __future__ import annotations

import json
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
from contracts.certification.runner import RuleResult, SuiteResult, Verdict

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
    Verdict.SKIPPED: "yellow",
    Verdict.ERROR: "magenta",
}


def _verdict_label(result: RuleResult) -> str:
    if result.verdict is Verdict.FAILED and not result.rule.required:
        return "failed (advisory)"
    return result.verdict.value


def headline(result: SuiteResult) -> str:
    """One sentence with the counts."""
    counts = result.counts()
    advisory = f" ({counts['failedAdvisory']} advisory)" if counts["failedAdvisory"] else ""
    errors = f", {counts['errors']} tool error(s)" if counts["errors"] else ""
    return (
        f"{counts['rules']} rules in the catalogue, {counts['selected']} selected, {counts['ran']} ran: "
        f"{counts['passed']} passed, {counts['failed']} failed{advisory}{errors}; {counts['skipped']} skipped"
    )


def console_summary(result: SuiteResult, console: Console, *, strict: bool = False) -> None:
    """Print the verdict table, the skip reasons, and the outcome."""
    table = Table(title=f"fibresim certify {result.mode.value}: {result.target}", show_lines=False)
    table.add_column("rule", no_wrap=True)
    table.add_column("verdict", no_wrap=True)
    table.add_column("title / why")
    for item in result.results:
        why = item.message if item.verdict is not Verdict.PASSED else ""
        detail = Text(item.rule.title)
        if why and item.verdict is not Verdict.SKIPPED:
            detail.append(f"\n{why}", style="dim")
        table.add_row(item.rule.id, Text(_verdict_label(item), style=_STYLES[item.verdict]), detail)
    console.print(table)
    reasons = result.skip_reasons()
    if reasons:
        console.print("[bold]skipped, and why[/bold]")
        for reason, ids in reasons.items():
            console.print(f"  {_ids(ids)}: {reason}", highlight=False, markup=False)
    console.print(
        f"capabilities: {', '.join(result.capabilities) or '(none)'} ({result.capability_source})",
        highlight=False,
        markup=False,
    )
    console.print(f"seed {result.seed}; {result.seconds:g}s", highlight=False)
    code = result.exit_code(strict)
    verdict = {
        0: "[green]certified[/green]",
        1: "[red]not certified[/red]",
        2: "[magenta]incomplete[/magenta]",
    }
    console.print(f"{verdict[code]}: {headline(result)}", highlight=False)


def _ids(ids: list[str]) -> str:
    return ", ".join(ids) if len(ids) <= 6 else f"{', '.join(ids[:5])} and {len(ids) - 5} more"


@contextmanager
def progress(console: Console, total: int, *, enabled: bool) -> Iterator[tuple[Any, Any]]:
    """A progress bar over ``total`` rules; yields ``(on_start, on_result)`` callbacks."""
    if not enabled:
        yield None, None
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


def junit_xml(result: SuiteResult) -> str:
    """The run as JUnit XML: one ``testcase`` per selected rule."""
    counts = result.counts()
    failures = counts["failed"] - counts["failedAdvisory"]
    skipped = counts["skipped"] + counts["failedAdvisory"]
    attributes = {
        "name": f"fibresim certify {result.mode.value}",
        "tests": str(counts["selected"]),
        "failures": str(failures),
        "errors": str(counts["errors"]),
        "skipped": str(skipped),
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
    ):
        ET.SubElement(properties, "property", {"name": name, "value": value})
    for item in result.results:
        case = ET.SubElement(
            suite,
            "testcase",
            {
                "classname": f"fibresim.certify.{item.rule.layer.value}",
                "name": f"{item.rule.id} {item.rule.title}",
                "time": f"{item.seconds:.3f}",
            },
        )
        text = evidence_text(item)
        if item.verdict is Verdict.FAILED and item.rule.required:
            ET.SubElement(case, "failure", {"message": item.message, "type": "RuleViolation"}).text = text
        elif item.verdict is Verdict.FAILED:
            message = f"advisory rule failed: {item.message}"
            ET.SubElement(case, "skipped", {"message": message, "type": "advisory-failure"}).text = text
        elif item.verdict is Verdict.SKIPPED:
            ET.SubElement(case, "skipped", {"message": item.message})
        elif item.verdict is Verdict.ERROR:
            ET.SubElement(case, "error", {"message": item.message, "type": "ToolError"}).text = text
        elif item.evidence.notes:
            ET.SubElement(case, "system-out").text = "\n".join(item.evidence.notes)
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
