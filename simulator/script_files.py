"""What the two KCI script loaders share: reading a script, checking its shape, the shipped folder.

:mod:`simulator.kci_script_loader` (orders) and :mod:`simulator.assurance_script_loader`
(T2R) differ only in their schema and in the domain script they build; both read YAML
through the same bounded reader, report every schema problem by field, and load one
file per script from a folder of ``scenarios``, each named after its script.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, TypeVar

from jsonschema import Draft202012Validator

from contracts import load_schema
from contracts.inputs import InputError, load_yaml, schema_message
from simulator.domain.errors import ConfigurationError

__all__ = ["build_checked", "check_document", "load_folder", "read_script"]

Script = TypeVar("Script")


def read_script(source: Path | Traversable) -> Any:
    """The parsed YAML of a script file (shipped data too goes through the bounded reader)."""
    try:
        return load_yaml(source, what="KCI script")
    except InputError as error:
        raise ConfigurationError(str(error)) from None


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


def build_checked(
    document: Any,
    schema: str,
    source: str,
    make: Callable[[Any, str], Script],
    validate: Callable[[Script], None],
) -> Script:
    """Check ``document`` against ``schema``, ``make`` the script of it, and ``validate`` that.

    Every message starts with ``source``; ``make(document, source)`` runs only on a
    document the schema accepted.
    """
    document = _with_text_response(document)
    check_document(document, schema, source)
    script = make(document, source)
    try:
        validate(script)
    except ConfigurationError as error:
        raise ConfigurationError(f"{source}: {error}") from None
    return script


def load_folder(
    folder: str, build: Callable[[Any, str], Script], name_of: Callable[[Script], str]
) -> Mapping[str, Script]:
    """Every script in ``scenarios/<folder>`` by name, each built by ``build(document, source)``."""
    scripts: dict[str, Script] = {}
    for item in sorted((resources.files("scenarios") / folder).iterdir(), key=lambda entry: entry.name):
        if not item.name.endswith(".yaml"):
            continue
        source = f"scenarios/{folder}/{item.name}"
        script = build(read_script(item), source)
        if name_of(script) != item.name.removesuffix(".yaml"):
            # one file per script, named after it, so a name is never defined twice
            raise ConfigurationError(f"{source}: name: {name_of(script)!r} must match the file name")
        scripts[name_of(script)] = script
    return scripts
