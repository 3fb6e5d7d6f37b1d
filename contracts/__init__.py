"""The contract: OpenAPI documents, JSON Schemas and the certification suite.

The documents ship inside the package; :func:`document_path` and :func:`load_document`
find them wherever the package is installed.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

SUPPLIER_API = "supplier-api.yaml"
SUPPLIER_UPDATES_API = "supplier-updates-api.yaml"
ADMIN_API = "admin-api.yaml"


def document_path(name: str) -> Path:
    """Filesystem path of a bundled OpenAPI document (``supplier-api.yaml`` …)."""
    return Path(str(resources.files(__package__) / "openapi" / name))


@cache
def load_document(name: str) -> dict[str, Any]:
    """A bundled OpenAPI document, parsed (cached: treat it as read-only)."""
    with document_path(name).open(encoding="utf-8") as handle:
        loaded: dict[str, Any] = yaml.safe_load(handle)
    return loaded


@cache
def load_schema(name: str) -> dict[str, Any]:
    """A bundled JSON Schema from ``contracts/schemas`` (e.g. ``supplier-profile.schema.json``)."""
    text = (resources.files(__package__) / "schemas" / name).read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded
