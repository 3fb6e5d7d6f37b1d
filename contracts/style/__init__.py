"""The one stylesheet of fibresim's pages: the certification HTML report and the simulator's dashboard.

It lives here, under ``contracts``, because the simulator may import ``contracts`` but the
certification suite may import nothing of the simulator: both read it from this package.
"""

from __future__ import annotations

from importlib.resources import files

__all__ = ["STYLESHEET_NAME", "stylesheet"]

STYLESHEET_NAME = "fibresim.css"


def stylesheet() -> str:
    """The shared stylesheet's text (the report inlines it; the dashboard serves it)."""
    return files(__package__).joinpath(STYLESHEET_NAME).read_text("utf-8")
