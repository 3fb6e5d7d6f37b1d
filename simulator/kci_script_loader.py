"""Load KCI scripts from YAML, check them, and build the domain's ``KciScript``.

Each script is checked twice: the bundled JSON Schema (``kci-script.schema.json``)
checks its shape, then :func:`~simulator.domain.kci_scripts.validate_script` walks it
through the order state machine. Every message names the file and the field. The
shipped scripts live in ``scenarios/kci``, one file per script, named after it.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from contracts import load_schema
from contracts.inputs import InputError, load_yaml, schema_message
from contracts.model.order_states import OrderStatus, ProblemCode, ReasonCode
from simulator.domain.clock import parse_duration
from simulator.domain.errors import ConfigurationError, MalformedRequest
from simulator.domain.kci_scripts import (
    DEFAULT_KCI_DELAY,
    AppliesTo,
    DeliveryFault,
    KciScript,
    ScriptResponse,
    ScriptStep,
    validate_script,
)

SCRIPT_SCHEMA = "kci-script.schema.json"


def _field(path: Any) -> str:
    return "/".join(str(part) for part in path) or "(top level)"


def _read(source: Path | Traversable) -> Any:
    # Shipped data, but read through the same bounded reader as a user's profile.
    try:
        return load_yaml(source, what="KCI script")
    except InputError as error:
        raise ConfigurationError(str(error)) from None


def validate_document(document: Any, source: str) -> None:
    """Check a parsed script against the schema; raise with every problem, each named by field."""
    validator = Draft202012Validator(load_schema(SCRIPT_SCHEMA))
    problems = sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    if problems:
        lines = [f"{_field(p.absolute_path)}: {schema_message(p)}" for p in problems]
        raise ConfigurationError(f"{source} is not a valid KCI script:\n  " + "\n  ".join(lines))


def _step(raw: Mapping[str, Any], index: int, source: str) -> ScriptStep:
    try:
        delay = parse_duration(raw["delay"]) if "delay" in raw else DEFAULT_KCI_DELAY
    except MalformedRequest as error:
        raise ConfigurationError(f"{source}: steps/{index}/delay: {error}") from None
    return ScriptStep(
        reason=ReasonCode(raw["reason"]),
        delay=delay,
        status=OrderStatus(raw["status"]) if "status" in raw else None,
        problem_code=ProblemCode(raw["problemCode"]) if "problemCode" in raw else None,
        text=raw.get("text"),
        target_date_offset_days=raw.get("targetDateOffsetDays"),
        committed_date_offset_days=raw.get("committedDateOffsetDays"),
        reappoint=raw.get("reappoint", False),
        add_service_id=raw.get("addServiceId", False),
        fault=DeliveryFault(raw["fault"]) if "fault" in raw else None,
    )


def build_script(document: Any, source: str = "KCI script") -> KciScript:
    """Validate a parsed script document and turn it into a checked ``KciScript``."""
    if isinstance(document, dict) and isinstance(document.get("response"), int):
        # YAML reads an unquoted 202 as a number; the schema speaks of the string
        document = {**document, "response": str(document["response"])}
    validate_document(document, source)
    script = KciScript(
        name=document["name"],
        description=document["description"],
        response=ScriptResponse(document["response"]),
        steps=tuple(_step(raw, index, source) for index, raw in enumerate(document.get("steps", []))),
        applies_to=AppliesTo(document["appliesTo"]),
    )
    try:
        validate_script(script)
    except ConfigurationError as error:
        raise ConfigurationError(f"{source}: {error}") from None
    return script


def load_script_file(path: str | Path) -> KciScript:
    """Load and check one KCI script from a YAML file."""
    path = Path(path)
    return build_script(_read(path), source=str(path))


@cache
def _bundled() -> Mapping[str, KciScript]:
    folder = resources.files("scenarios") / "kci"
    scripts: dict[str, KciScript] = {}
    for item in sorted(folder.iterdir(), key=lambda entry: entry.name):
        if not item.name.endswith(".yaml"):
            continue
        source = f"scenarios/kci/{item.name}"
        script = build_script(_read(item), source=source)
        if script.name != item.name.removesuffix(".yaml"):
            # one file per script, named after it, so a name is never defined twice
            raise ConfigurationError(f"{source}: name: {script.name!r} must match the file name")
        scripts[script.name] = script
    return scripts


def load_scripts() -> dict[str, KciScript]:
    """Every shipped KCI script by name (parsed and checked once; a fresh dict each call)."""
    return dict(_bundled())
