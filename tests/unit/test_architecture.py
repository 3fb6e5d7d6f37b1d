"""The domain stays pure: it imports nothing that does I/O or talks HTTP."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = ROOT / "simulator" / "domain"
SHARED_MODEL = ROOT / "contracts" / "model"
FORBIDDEN = {
    "flask",
    "werkzeug",
    "sqlalchemy",
    "httpx",
    "requests",
    "yaml",
    "faker",
    "jsonschema",
    "gunicorn",
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("module", sorted(DOMAIN.glob("*.py")), ids=lambda p: p.name)
def test_domain_module_imports_only_the_standard_library_and_the_domain(module: Path) -> None:
    assert not imported_modules(module) & FORBIDDEN
    project_imports = [
        line.split()[1]
        for line in module.read_text(encoding="utf-8").splitlines()
        if line.startswith(("from simulator", "import simulator"))
    ]
    assert all(name.startswith("simulator.domain") for name in project_imports), project_imports
    ours = {"contracts", "scenarios"} & imported_modules(module)
    assert all(
        line.startswith("from contracts.model")
        for line in module.read_text(encoding="utf-8").splitlines()
        if line.startswith(("from contracts", "import contracts"))
    ), ours


@pytest.mark.parametrize("module", sorted(SHARED_MODEL.glob("*.py")), ids=lambda p: p.name)
def test_the_shared_model_imports_only_the_standard_library(module: Path) -> None:
    # and itself: the test and problem models share the order model's field requirements
    assert imported_modules(module) <= set(sys.stdlib_module_names) | {"__future__", "contracts"}
    assert all(
        line.startswith("from contracts.model")
        for line in module.read_text(encoding="utf-8").splitlines()
        if line.startswith(("from contracts", "import contracts"))
    )


def test_only_the_clock_module_reads_the_wall_clock() -> None:
    offenders = [
        path.name
        for path in (DOMAIN.parent).rglob("*.py")
        if path.name != "clock.py" and ("datetime.now(" in path.read_text() or "utcnow(" in path.read_text())
    ]
    assert offenders == []
