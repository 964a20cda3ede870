"""Logging that never records who asked for what.

Request paths can carry invitation secrets, and addresses and user agents identify
people, so neither the app nor the development server logs them.
"""

from __future__ import annotations

import logging
from types import TracebackType

from flask import Flask, request

ExcInfo = tuple[type[BaseException], BaseException, TracebackType] | tuple[None, None, None]


class QuietFlask(Flask):
    """Flask, minus the request path in its exception log line."""

    def log_exception(self, exc_info: ExcInfo) -> None:
        """Log an unhandled exception naming the endpoint, never the path or client."""
        self.logger.error(
            "unhandled exception in %s %s", request.method, request.endpoint, exc_info=exc_info
        )


class _DropRequestLines(logging.Filter):
    """Keep the development server's start-up lines; drop every per-request line.

    Werkzeug prefixes each request line, errors included, with the client's address.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return message.startswith(" * ") or "development server" in message


def init_app(app: Flask) -> None:
    """Quiet the logs that would record who asked: the development server's, the limiter's."""
    werkzeug_logger = logging.getLogger("werkzeug")
    if not any(isinstance(f, _DropRequestLines) for f in werkzeug_logger.filters):
        werkzeug_logger.addFilter(_DropRequestLines())
    # Flask-Limiter logs each breach with the throttle key, a keyed hash of the address:
    # with the configuration at hand, the IPv4 space is small enough to reverse it.
    logging.getLogger("flask-limiter").setLevel(logging.WARNING)
    app.logger.setLevel(logging.INFO)
