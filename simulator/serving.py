"""Run the app under gunicorn (one worker process, many threads) or Werkzeug's development server.

One process keeps one simulator clock and one KCI dispatcher; threads give concurrency.
The app is built by a factory *inside* the gunicorn worker: database connections and
background threads must not be created before gunicorn forks, or the worker would share
the master's sockets and the threads would run in the master.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask


def serve(
    app_factory: Callable[[], Flask], host: str, port: int, *, server: str = "gunicorn", threads: int = 8
) -> None:
    """Serve the app ``app_factory`` builds on ``host:port`` until interrupted."""
    if server == "werkzeug":
        app_factory().run(host=host, port=port, threaded=True, use_reloader=False)
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
            return app_factory()

    _Gunicorn().run()
