"""A pytest plugin: one test item per certification rule, so CI gets a normal pytest/JUnit result.

    pytest -p contracts.certification.pytest_plugin --fibresim-target http://127.0.0.1:8080 \\
        --fibresim-addresses simulator-demo --junitxml=certification.xml

Without ``--fibresim-target`` the plugin collects nothing. Items are named by rule id
(``fibresim-certification::AVL-003``) and run in the suite's run order. Verdicts
(``contracts.certification.runner.Verdict``) map to outcomes: passed passes; a failed
required rule fails with the evidence, and so does a required rule in scope that was not
run or is not decidable (never counted as passed); an advisory failure is an expected
failure (xfail); a rule out of scope (capability not offered) is skipped with the reason.
A target that cannot be reached, or a run past ``--fibresim-deadline``, stops the session
once with exit status 2 (could not run), without a traceback per item.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from contracts.certification.errors import SetupError, ToolError
from contracts.certification.options import (
    AUTH_OPTIONS,
    RUN_OPTIONS,
    SUPPLIER_OPTIONS,
    add_pytest_options,
    supplier_settings,
)
from contracts.certification.receiver import KciReceiver
from contracts.certification.reports import evidence_text, verdict_label
from contracts.certification.rules import Mode, Rule, catalogue, run_order, select
from contracts.certification.runner import EXIT_COULD_NOT_RUN, RUN_ORDER, RuleResult, Verdict, run_rule
from contracts.certification.target import Target

__all__ = ["RuleItem", "pytest_addoption", "pytest_collection_modifyitems", "pytest_configure"]

_SESSION = pytest.StashKey["_Certification"]()
_OPTIONS = (*SUPPLIER_OPTIONS, *AUTH_OPTIONS, *RUN_OPTIONS)
"""The CLI's supplier options, as ``--fibresim-*``."""


def pytest_addoption(parser: pytest.Parser) -> None:
    """The ``--fibresim-*`` options: the CLI's supplier options, declared once in ``options``."""
    group = parser.getgroup("fibresim", "fibresim certification of a Supplier API")
    group.addoption("--fibresim-target", metavar="URL", help="base URL of the Supplier API to certify")
    add_pytest_options(group, _OPTIONS)


class _Certification:
    """The run shared by every item: one target, and the KCI receiver when the KCI layer is on."""

    def __init__(self, config: pytest.Config) -> None:
        option = config.getoption
        values = {
            o.dest: option(f"fibresim_{o.dest}") for o in (*SUPPLIER_OPTIONS, *AUTH_OPTIONS, *RUN_OPTIONS)
        }
        try:
            self.settings = supplier_settings(option("fibresim_target"), values)
        except SetupError as error:
            raise pytest.UsageError(str(error)) from None
        self.rules = select(catalogue(Mode.SUPPLIER), option("fibresim_only"))
        self.receiver = KciReceiver(values["kci_port"]).start() if self.settings.kci_wait > 0 else None
        self._target: Target | None = None

    @property
    def target(self) -> Target:
        if self._target is None:
            self._target = Target(self.settings)
            self._target.kci_receiver = self.receiver
            self._target.check_reachable()
        return self._target

    def close(self) -> None:
        if self._target is not None:
            self._target.close()
        if self.receiver is not None:
            self.receiver.stop()


def pytest_configure(config: pytest.Config) -> None:
    """Prepare the run when ``--fibresim-target`` is given."""
    if config.getoption("fibresim_target", default=None):
        session = _Certification(config)
        config.stash[_SESSION] = session
        config.add_cleanup(session.close)


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Say what is being certified, and where KCIs are received."""
    session = config.stash.get(_SESSION, None)
    if session is None:
        return []
    lines = [
        f"fibresim certification of {session.settings.base_url}: {len(session.rules)} rule(s), "
        f"seed {session.settings.seed}"
    ]
    if session.receiver is not None:
        lines.append(
            f"KCI receiver: {session.receiver.url} (configure it as the supplier's Supplier Updates URL)"
        )
    return lines


class _RuleFailed(Exception):
    """A required rule failed; carries the result for the report."""

    def __init__(self, result: RuleResult) -> None:
        super().__init__(result.message)
        self.result = result


class RuleItem(pytest.Item):
    """One certification rule as a pytest item."""

    def __init__(self, *, rule: Rule, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rule = rule
        self.result: RuleResult | None = None
        self.user_properties.append(("reference", rule.reference))
        self.user_properties.append(("required", str(rule.required)))

    def setup(self) -> None:
        """Run the rule; a target that is gone stops the whole session once (exit status 2)."""
        session = self.config.stash[_SESSION]
        try:
            target = session.target
        except ToolError as error:  # the target cannot be reached: say so once, not per item
            pytest.exit(f"fibresim certification could not run: {error}", returncode=EXIT_COULD_NOT_RUN)
        if target.past_deadline():
            pytest.exit(
                f"fibresim certification could not run: the deadline ({target.settings.deadline:g}s) passed",
                returncode=EXIT_COULD_NOT_RUN,
            )
        self.result = run_rule(self.rule, target)
        if self.result.verdict is Verdict.ERROR:
            try:
                target.check_reachable()
            except ToolError as error:
                pytest.exit(f"fibresim certification could not run: {error}", returncode=EXIT_COULD_NOT_RUN)

    def runtest(self) -> None:
        """Turn the verdict into a pytest outcome (see the module docstring)."""
        result = self.result
        assert result is not None
        label = verdict_label(result)
        self.user_properties.append(("verdict", label))
        if result.verdict is Verdict.PASSED:
            return
        if result.out_of_scope or (result.verdict is Verdict.NOT_RUN and not self.rule.required):
            pytest.skip(f"{label}: {result.message}")
        if result.verdict is Verdict.ADVISORY_FAILURE or not self.rule.required:
            pytest.xfail(f"{label}: {result.message}")
        raise _RuleFailed(result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str | Any:
        """The rule's message and evidence instead of a traceback."""
        if isinstance(excinfo.value, _RuleFailed):
            result = excinfo.value.result
            return f"{self.rule.id} {self.rule.title}: {verdict_label(result)}\n{evidence_text(result)}"
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Any, int | None, str]:
        """Where the rule is reported: its id and title."""
        return self.path, None, f"{self.rule.id} {self.rule.title}"


class _Suite(pytest.Collector):
    """The collector holding every rule item."""

    def collect(self) -> Iterator[RuleItem]:
        session = self.config.stash[_SESSION]
        for rule in run_order(session.rules, RUN_ORDER):
            yield RuleItem.from_parent(self, name=rule.id, rule=rule)


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Add one item per selected rule (nothing without ``--fibresim-target``)."""
    if _SESSION not in config.stash:
        return
    suite = _Suite.from_parent(session, name="fibresim-certification")
    collected = list(suite.collect())
    # Report the items as collected, so "collected N items" and -k/--co see them.
    report_items: list[pytest.Item | pytest.Collector] = list(collected)
    config.hook.pytest_collectreport(report=pytest.CollectReport(suite.nodeid, "passed", None, report_items))
    items.extend(collected)
