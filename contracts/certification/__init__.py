"""The certification suite: run the contract's rules against a live API and report a verdict per rule.

Suppliers point it at their Supplier API (``fibresim certify supplier URL``), gateway
developers at their Supplier Updates API (``fibresim certify gateway --kci-url URL``)
and, in strict mode, at the calls their gateway made to a fibresim simulator (``--simulator URL``),
and CI runs it with one command (or through the pytest plugin) for a JUnit result.

Layers and who may import whom (nothing here imports the simulator's Flask app,
application or storage; the order state machine comes from the pure
``simulator.domain``)::

    errors, evidence          the failure tree and the exchanges that decide a verdict
    rules, rules.yaml         Rule, the registry and its descriptions; catalogue() / select() / run_order()
    addresses, target         the operator's test addresses; the target, its client and recorder
    contract                  layer 1: schemathesis per operation            (CON-…)
    behaviour/*               layer 2: availability, appointments, orders    (AVL-, APT-, ORD-…)
    kci_stream, kci_rules     layer 3: the KCI stream validator and its rules (KCI-…)
    receiver                  the in-process KCI receiver on 127.0.0.1
    gateway                   gateway mode                                   (GW-…)
    inbound                   gateway strict mode: a simulator's journal     (GWI-…)
    runner                    run rules, collect verdicts, exit codes
    reports, html_report      console, JUnit, JSON and HTML reports
    cli, pytest_plugin, docs  entry points

Describe a rule in ``rules.yaml`` and add its check with ``@rule("<id>")`` in the module of
its area; every check has the signature
``check(target) -> Evidence`` and raises ``RuleViolation`` or ``RuleSkipped``.
"""

from __future__ import annotations

from contracts.certification.errors import (
    CertificationError,
    RuleSkipped,
    RuleViolation,
    SetupError,
    TargetError,
    ToolError,
)
from contracts.certification.evidence import Evidence, Exchange
from contracts.certification.kci_stream import StreamViolation, validate_kci_stream
from contracts.certification.rules import Capability, Layer, Mode, Rule, catalogue, rule, select

__all__ = [
    "Capability",
    "CertificationError",
    "Evidence",
    "Exchange",
    "Layer",
    "Mode",
    "Rule",
    "RuleSkipped",
    "RuleViolation",
    "SetupError",
    "StreamViolation",
    "TargetError",
    "ToolError",
    "catalogue",
    "rule",
    "select",
    "validate_kci_stream",
]
