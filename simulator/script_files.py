"""What the two KCI script loaders share: reading a script, checking its shape, the shipped folder.

:mod:`simulator.kci_script_loader` (orders) and :mod:`simulator.assurance_script_loader`
(T2R) differ only in their schema, folder and the domain script they build: each declares
one :class:`ScriptFormat`. Both read YAML through the same bounded reader, report every
schema problem by field, and load one file per script from a folder of ``scenarios``, each
named after its script.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from jsonschema import Draft202012Validator

from contracts import load_schema
from contracts.inputs import InputError, load_yaml, schema_message
from simulator.domain.clock import parse_duration
from simulator.domain.errors import ConfigurationError, MalformedRequest
from simulator.domain.kci_scripts import DEFAULT_KCI_DELAY

__all__ = ["ScriptFormat", "check_document", "read_script", "step_delay"]


class _Named(Protocol):
    @property
    def name(self) -> str: ...


Script = TypeVar("Script", bound=_Named)


def read_script(source: Path | Traversable) -> Any:
    """The parsed YAML of a script file (shipped data too goes through the bounded reader)."""
    try:
        return load_yaml(source, what="KCI script")
    except InputError as error:
        raise ConfigurationError(str(error)) from None


def step_delay(raw: Mapping[str, Any], where: str) -> timedelta:
    """A script step's ``delay`` (the default KCI delay when it has none); ``where`` names the step."""
    try:
        return parse_duration(raw["delay"]) if "delay" in raw else DEFAULT_KCI_DELAY
    except MalformedRequest as error:
        raise ConfigurationError(f"{where}/delay: {error}") from None


def _with_text_response(document: Any) -> Any:
    """``document`` with its ``response`` as text: YAML reads an unquoted 202 as a number."""
    if isinstance(document, dict) and isinstance(document.get("response"), int):
        return {**document, "response": str(document["response"])}
    return document


def _field(path: Any) -> str:
    return "/".join(str(part) for part in path) or "(top level)"


def check_document(document: Any, schema: str, source: str, what: str = "KCI script") -> None:
    """Check a parsed ``what`` against ``schema``; raise with every problem, each named by field."""
    validator = Draft202012Validator(load_schema(schema))
    problems = sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    if problems:
        lines = [f"{_field(p.absolute_path)}: {schema_message(p)}" for p in problems]
        raise ConfigurationError(f"{source} is not a valid {what}:\n  " + "\n  ".join(lines))


@dataclass(frozen=True)
class ScriptFormat(Generic[Script]):
    """One kind of KCI script: its JSON Schema, its folder of ``scenarios``, how it is built.

    ``make(document, source)`` turns a document the schema accepted into the domain's
    script; ``validate`` walks that through its state model.
    """

    schema: str
    folder: str
    make: Callable[[Any, str], Script]
    validate: Callable[[Script], None]

    def build(self, document: Any, source: str = "KCI script") -> Script:
        """Check ``document`` against the schema, make the script of it, and validate that.

        Every message starts with ``source``.
        """
        document = _with_text_response(document)
        check_document(document, self.schema, source)
        script = self.make(document, source)
        try:
            self.validate(script)
        except ConfigurationError as error:
            raise ConfigurationError(f"{source}: {error}") from None
        return script

    @cached_property
    def bundled(self) -> Mapping[str, Script]:
        """Every script in ``scenarios/<folder>`` by name (read and checked once)."""
        scripts: dict[str, Script] = {}
        entries = sorted((resources.files("scenarios") / self.folder).iterdir(), key=lambda entry: entry.name)
        for item in entries:
            if not item.name.endswith(".yaml"):
                continue
            source = f"scenarios/{self.folder}/{item.name}"
            script = self.build(read_script(item), source)
            if script.name != item.name.removesuffix(".yaml"):
                # one file per script, named after it, so a name is never defined twice
                raise ConfigurationError(f"{source}: name: {script.name!r} must match the file name")
            scripts[script.name] = script
        return scripts
