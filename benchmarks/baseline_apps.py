"""Baselines served exactly as fibresim is: a bare WSGI callable and a Flask hello-JSON.

    python -m benchmarks.baseline_apps {bare,flask} --port N [--server gunicorn] [--threads 8] [--workers N]

Both run through ``simulator.serving.serve``, the function ``fibresim serve`` uses, so the
server, its worker model and its thread count are the same for all three in one run.
"""

from __future__ import annotations

import argparse
import inspect
import sys
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, jsonify

from simulator.serving import serve

BODY = b'{"hello":"world"}'


def bare_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """The Python ceiling: a WSGI callable that answers a constant JSON body."""
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(BODY)))])
    return [BODY]


def flask_app() -> Flask:
    """A Flask hello-JSON: where a canned-stub mock server stands."""
    app = Flask("hello")

    @app.get("/")
    def hello() -> Any:
        return jsonify(hello="world")

    return app


def main() -> None:
    """Serve one baseline until interrupted."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("app", choices=["bare", "flask"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--server", default="gunicorn")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    factory = (lambda: bare_app) if args.app == "bare" else flask_app
    options = {"server": args.server, "threads": args.threads}
    if args.workers is not None:
        if "workers" not in inspect.signature(serve).parameters:
            sys.exit("simulator.serving.serve takes no workers in this version")
        options["workers"] = args.workers
    serve(factory, "127.0.0.1", args.port, **options)  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
