"""Load KCI scripts from YAML, check them, and build the domain's ``KciScript``.

Each script is checked twice: the bundled JSON Schema (``kci-script.schema.json``)
checks its shape, then :func:`~simulator.domain.kci_scripts.validate_script` walks it
through the order state machine. Every message names the file and the field. The
shipped scripts live in ``scenarios/kci``, one file per script, named after it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from contracts.model.order_states import OrderStatus, ProblemCode, ReasonCode
from simulator.domain.kci_scripts import (
    AppliesTo,
    DeliveryFault,
    KciScript,
    ScriptResponse,
    ScriptStep,
    validate_script,
)
from simulator.script_files import ScriptFormat, read_script, step_delay


def _step(raw: Mapping[str, Any], index: int, source: str) -> ScriptStep:
    return ScriptStep(
        reason=ReasonCode(raw["reason"]),
        delay=step_delay(raw, f"{source}: steps/{index}"),
        status=OrderStatus(raw["status"]) if "status" in raw else None,
        problem_code=ProblemCode(raw["problemCode"]) if "problemCode" in raw else None,
        text=raw.get("text"),
        target_date_offset_days=raw.get("targetDateOffsetDays"),
        committed_date_offset_days=raw.get("committedDateOffsetDays"),
        reappoint=raw.get("reappoint", False),
        add_service_id=raw.get("addServiceId", False),
        fault=DeliveryFault(raw["fault"]) if "fault" in raw else None,
    )


def _script(document: Any, source: str) -> KciScript:
    return KciScript(
        name=document["name"],
        description=document["description"],
        response=ScriptResponse(document["response"]),
        steps=tuple(_step(raw, index, source) for index, raw in enumerate(document.get("steps", []))),
        applies_to=AppliesTo(document["appliesTo"]),
    )


FORMAT = ScriptFormat("kci-script.schema.json", "kci", _script, validate_script)


def build_script(document: Any, source: str = "KCI script") -> KciScript:
    """Validate a parsed script document and turn it into a checked ``KciScript``."""
    return FORMAT.build(document, source)


def load_script_file(path: str | Path) -> KciScript:
    """Load and check one KCI script from a YAML file."""
    path = Path(path)
    return build_script(read_script(path), source=str(path))


def load_scripts() -> dict[str, KciScript]:
    """Every shipped KCI script by name (parsed and checked once; a fresh dict each call)."""
    return dict(FORMAT.bundled)
