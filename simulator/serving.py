"""Run the app under gunicorn (one process, many threads) or Werkzeug's development server.

One process keeps one simulator clock and one KCI dispatcher; threads give concurrency.
"""

from __future__ import annotations

from typing import Any

from flask import Flask


def serve(app: Flask, host: str, port: int, *, server: str = "gunicorn", threads: int = 8) -> None:
    """Serve ``app`` on ``host:port`` until interrupted."""
    if server == "werkzeug":
        app.run(host=host, port=port, threaded=True, use_reloader=False)
        return
    from gunicorn.app.base import BaseApplication

    class _Gunicorn(BaseApplication):  # type: ignore[misc]  # gunicorn ships no type information
        def load_config(self) -> None:
            options: dict[str, Any] = {
                "bind": f"{host}:{port}",
                "workers": 1,
                "worker_class": "gthread",
                "threads": threads,
                "accesslog": None,
                "errorlog": "-",
                "loglevel": "warning",
                "timeout": 120,
            }
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Flask:
            return app

    _Gunicorn().run()
