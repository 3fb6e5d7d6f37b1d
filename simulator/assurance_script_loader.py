"""Load the T2R KCI scripts (``scenarios/assurance``) from YAML, check them, build the domain's scripts.

Like :mod:`simulator.kci_script_loader` for orders: the bundled JSON Schema
(``assurance-script.schema.json``) checks the shape, then
:func:`~simulator.domain.assurance_scripts.validate_assurance_script` walks each script
through the shared state tables. Every message names the file and the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from contracts.model.order_states import ProblemCode
from contracts.model.service_test_states import TestOutcome
from simulator.domain.assurance_scripts import (
    AssuranceKind,
    AssuranceResponse,
    AssuranceScript,
    AssuranceStep,
    validate_assurance_script,
)
from simulator.domain.errors import ConfigurationError
from simulator.script_files import ScriptFormat, step_delay


def _step(raw: Mapping[str, Any], index: int, source: str) -> AssuranceStep:
    where = f"{source}: steps/{index}"
    try:
        problem_code = ProblemCode(raw["problemCode"]) if "problemCode" in raw else None
    except ValueError as error:
        raise ConfigurationError(f"{where}: {error}") from None
    return AssuranceStep(
        reason=str(raw["reason"]),
        delay=step_delay(raw, where),
        status=raw.get("status"),
        problem_code=problem_code,
        text=raw.get("text"),
        outcome=TestOutcome(raw["outcome"]) if "outcome" in raw else None,
        outcome_codes=tuple(raw.get("outcomeCodes", ())),
        resolution_code=raw.get("resolutionCode"),
        appointment=bool(raw.get("appointment", False)),
    )


def _script(document: Any, source: str) -> AssuranceScript:
    return AssuranceScript(
        name=document["name"],
        description=document["description"],
        applies_to=AssuranceKind(document["appliesTo"]),
        response=AssuranceResponse(document["response"]),
        steps=tuple(_step(raw, index, source) for index, raw in enumerate(document.get("steps", []))),
    )


FORMAT = ScriptFormat("assurance-script.schema.json", "assurance", _script, validate_assurance_script)


def build_assurance_script(document: Any, source: str = "KCI script") -> AssuranceScript:
    """Validate a parsed T2R script document and turn it into a checked ``AssuranceScript``."""
    return FORMAT.build(document, source)


def load_assurance_scripts() -> dict[str, AssuranceScript]:
    """Every shipped T2R script by name (parsed and checked once; a fresh dict each call)."""
    return dict(FORMAT.bundled)
