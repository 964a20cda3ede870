"""Logging that never records who asked for what.

Request paths can carry invitation secrets, and addresses and user agents identify
people, so neither the app nor the development server logs them.
"""

from __future__ import annotations

import logging
import traceback
from types import TracebackType

from flask import Flask, request

ExcInfo = tuple[type[BaseException], BaseException, TracebackType] | tuple[None, None, None]


class QuietFlask(Flask):
    """Flask, minus the request path in its exception log line."""

    def log_exception(self, exc_info: ExcInfo) -> None:
        """Log an unhandled exception: endpoint, exception types and stack, nothing else.

        Not the path or client, and not the exception's message either: messages quote
        values (a form field, a path parameter) that may be a codename or a secret.
        """
        self.logger.error(
            "unhandled exception in %s %s\n%s",
            request.method,
            request.endpoint,
            describe_exception(exc_info[1]),
        )


def describe_exception(exc: BaseException | None) -> str:
    """The chain of exception types with their stack frames, without any message."""
    parts: list[str] = []
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        stack = "".join(
            traceback.StackSummary.extract(traceback.walk_tb(exc.__traceback__)).format()
        )
        parts.append(f"{stack}{type(exc).__module__}.{type(exc).__qualname__}")
        exc = exc.__cause__ or exc.__context__
    return "\n-- caused by --\n".join(parts)


class _DropRequestLines(logging.Filter):
    """Keep the development server's start-up lines; drop every per-request line.

    Werkzeug prefixes each request line, errors included, with the client's address.
    The test is on the line's template, not the formatted line: the path goes in as an
    argument, and a path that contained "development server" must not get a line through.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        template = str(record.msg)
        return template.startswith(" * ") or "development server" in template


def init_app(app: Flask) -> None:
    """Quiet the logs that would record who asked: the development server's, the limiter's."""
    werkzeug_logger = logging.getLogger("werkzeug")
    if not any(isinstance(f, _DropRequestLines) for f in werkzeug_logger.filters):
        werkzeug_logger.addFilter(_DropRequestLines())
    # Flask-Limiter logs each breach with the throttle key, a keyed hash of the address:
    # with the configuration at hand, the IPv4 space is small enough to reverse it.
    logging.getLogger("flask-limiter").setLevel(logging.WARNING)
    app.logger.setLevel(logging.INFO)
