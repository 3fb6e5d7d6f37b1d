"""Baselines served exactly as fibresim is: a bare WSGI callable and a Flask hello-JSON.

    python -m benchmarks.baseline_apps {bare,flask} --port N [--server granian] [--workers N] [--threads 8]

Both run through ``simulator.serving.serve``, the function ``fibresim serve`` uses, so the
server, its worker model and its thread count are the same for all three in one run.
"""

from __future__ import annotations

import argparse
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
    parser.add_argument("--server", default="granian")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    factory = (lambda: bare_app) if args.app == "bare" else flask_app
    serve(
        factory,  # type: ignore[arg-type]
        "127.0.0.1",
        args.port,
        server=args.server,
        workers=args.workers,
        threads=args.threads,
    )


if __name__ == "__main__":
    main()
