"""Optional Prometheus metrics: request counts and latencies by endpoint, at GET /metrics.

Off unless METRICS_TOKEN is set; then /metrics answers only a request that presents it as
a bearer token. The labels are the endpoint's name (``publishing.statement``), the method
and the status: never a path, which may hold an invitation secret or a room id, never an
address or a user agent. Like /healthz it is answered in front of the app: a scrape opens
no session and writes no log line.

With several gunicorn workers each keeps its own counts; set PROMETHEUS_MULTIPROC_DIR to
an empty directory (prometheus_client's multiprocess mode, see deploy/gunicorn.conf.py) so
that a scrape reads all of them.
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, Response, g, request

from statements.settings import Settings

PATH = "/metrics"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class Metrics:
    """The app's two metrics, in a registry of their own."""

    def __init__(self) -> None:
        # Imported here: a deployment without METRICS_TOKEN never loads prometheus_client.
        from prometheus_client import CollectorRegistry, Counter, Histogram

        self.registry = CollectorRegistry()
        self.requests = Counter(
            "statements_requests",
            "Requests answered, by endpoint, method and status.",
            ["endpoint", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "statements_request_duration_seconds",
            "Time to answer a request, by endpoint.",
            ["endpoint"],
            registry=self.registry,
        )

    def exposition(self) -> bytes:
        """Every worker's figures in multiprocess mode, else this worker's."""
        from prometheus_client import CollectorRegistry, generate_latest
        from prometheus_client.multiprocess import MultiProcessCollector

        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            return generate_latest(registry)
        return generate_latest(self.registry)


def authorised(header: str, token: str) -> bool:
    """True for exactly "Bearer <token>", compared in constant time."""
    return hmac.compare_digest(header.encode(), f"Bearer {token}".encode())


def middleware(wrapped: WSGIApp, metrics: Metrics, token: str) -> WSGIApp:
    """Answer /metrics before the app; pass every other request on unchanged."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != PATH:
            return wrapped(environ, start_response)
        headers = [("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff")]
        if not authorised(environ.get("HTTP_AUTHORIZATION", ""), token):
            body = b"a bearer token is required\n"
            start_response(
                "401 Unauthorized",
                [*headers, ("WWW-Authenticate", "Bearer"), ("Content-Type", "text/plain")],
            )
            return [body]
        body = metrics.exposition()
        start_response(
            "200 OK",
            [*headers, ("Content-Type", CONTENT_TYPE), ("Content-Length", str(len(body)))],
        )
        return [body]

    return app


def init_app(app: Flask, settings: Settings) -> None:
    """Count requests and serve /metrics, when a token is configured."""
    if not settings.metrics_token:
        return
    metrics = Metrics()
    app.extensions["metrics"] = metrics

    @app.before_request
    def start_clock() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    def count(response: Response) -> Response:
        # The rule's endpoint name, never request.path: paths can hold secrets.
        endpoint = request.url_rule.endpoint if request.url_rule else "unmatched"
        metrics.requests.labels(endpoint, request.method, str(response.status_code)).inc()
        started = g.get("metrics_started")
        if started is not None:
            metrics.latency.labels(endpoint).observe(time.perf_counter() - started)
        return response

    app.wsgi_app = middleware(app.wsgi_app, metrics, settings.metrics_token)  # type: ignore[method-assign,assignment]
