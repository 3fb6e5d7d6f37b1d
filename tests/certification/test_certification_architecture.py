"""The suite talks to targets over HTTP only: it imports nothing of the simulator at all."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "contracts" / "certification"
FORBIDDEN = (
    "flask",
    "werkzeug",
    "sqlalchemy",
    "gunicorn",
    "simulator",
)


def imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("module", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_a_certification_module_imports_nothing_of_the_simulator(module: Path) -> None:
    assert not {name for name in imports(module) if name.startswith(FORBIDDEN)}
