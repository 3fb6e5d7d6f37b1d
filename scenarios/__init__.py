"""Shipped data: supplier profiles (``profiles/``) and KCI scripts (``kci/``; ``assurance/`` for T2R)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

DEFAULT_PROFILE = "demo"


def profile_path(name_or_path: str) -> Path:
    """A bundled profile by name (``demo``) or any YAML file by path."""
    candidate = Path(name_or_path)
    if candidate.suffix in {".yaml", ".yml"} or candidate.exists():
        return candidate
    return Path(str(resources.files(__package__) / "profiles" / f"{name_or_path}.yaml"))


def bundled_profiles() -> list[str]:
    """Names of the profiles shipped with the package."""
    folder = resources.files(__package__) / "profiles"
    return sorted(item.name.removesuffix(".yaml") for item in folder.iterdir() if item.name.endswith(".yaml"))
