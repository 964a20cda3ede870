"""Logging that never records who asked for what.

Request paths and queries can carry invitation secrets, and addresses and user agents
identify people, so no log line may hold any of them: not the app's, not the
development server's, not Flask-Limiter's, and not gunicorn's (statements.gunicorn_conf).

Two layers. Where a library is known to put the request line or the peer's address in a
message, that message is replaced by one without it (structural). Every record then
passes through `PrivateRecords`, which drops exception messages (they quote values) and,
as a last net, replaces anything left that looks like a URL, a path, an IPv4 or IPv6
address or a long random token.
"""

from __future__ import annotations

import ipaddress
import logging
import re
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


# The last net. A traceback's `File "..."` names a source file, not a request, and is
# kept; everything else that looks like a path or an address is replaced. Candidates
# for IPv6 are checked with ipaddress, so that times such as 12:34:56 survive.
_NET = re.compile(
    r"""(?P<file>File\ "[^"\n]*")
    |(?P<url>\b[A-Za-z][A-Za-z0-9+.-]*://[^\s"'<>]*)
    |(?P<path>(?<![\w.~%/-])/[^\s"'<>]+)
    |(?P<ipv4>(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?!\d))
    |(?P<ipv6>(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}
        (?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]{1,4})?(?:%[\w.-]+)?(?![\w:]))
    |(?P<token>(?<![\w-])[A-Za-z0-9_-]{32,})
    """,
    re.VERBOSE,
)
_IPV4 = re.compile(r"(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?!\d)")
PATH, ADDRESS, URL, TOKEN = "[path]", "[address]", "[url]", "[token]"


def _replace(match: re.Match[str]) -> str:
    kind = match.lastgroup
    text = match.group()
    if kind == "file":
        return text
    if kind == "ipv6":
        try:
            ipaddress.IPv6Address(text.split("%")[0])
        except ValueError:
            return _IPV4.sub(ADDRESS, text)
        return ADDRESS
    return {"url": URL, "path": PATH, "ipv4": ADDRESS, "token": TOKEN}[kind or "path"]


def redact(text: str) -> str:
    """Replace whatever looks like a URL, a path, an IP address or a random token."""
    return _NET.sub(_replace, text)


class PrivateRecords(logging.Filter):
    """Rewrite a record so that it holds no exception message, path or address.

    The message is formatted here and its arguments dropped; an exception is reduced to
    its types and frames (describe_exception). Attached to handlers, it sees every record
    they write, whichever logger it came from.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the record in place; never drop it."""
        if getattr(record, "_private", False):
            return True
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        if record.exc_info and record.exc_info[1] is not None:
            message = f"{message}\n{describe_exception(record.exc_info[1])}"
        record.exc_info = None
        record.exc_text = None
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        record.msg = redact(message)
        record.args = None
        setattr(record, "_private", True)  # noqa: B010 - LogRecord has no such field
        return True


def private(logger: logging.Logger | logging.Handler) -> None:
    """Attach PrivateRecords to a logger or handler, once."""
    if not any(isinstance(f, PrivateRecords) for f in logger.filters):
        logger.addFilter(PrivateRecords())


class _DropRequestLines(logging.Filter):
    """Keep the development server's start-up lines; drop every per-request line.

    Werkzeug prefixes each request line, errors included, with the client's address.
    The test is on the line's template, not the formatted line: the path goes in as an
    argument, and a path that contained "development server" must not get a line through.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        template = str(record.msg)
        return template.startswith(" * ") or "development server" in template


class _NoLimiterKeys(logging.Filter):
    """Flask-Limiter names the throttle key in a breach line: drop the line.

    The key is a keyed hash of the address; with the configuration at hand, the IPv4
    space is small enough to reverse it. A breach is answered with a 429, not logged.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("ratelimit ")


def init_app(app: Flask) -> None:
    """Quiet the logs that would record who asked: the app's, the development server's,
    the limiter's."""
    werkzeug_logger = logging.getLogger("werkzeug")
    if not any(isinstance(f, _DropRequestLines) for f in werkzeug_logger.filters):
        werkzeug_logger.addFilter(_DropRequestLines())
    private(werkzeug_logger)
    limiter_logger = logging.getLogger("flask-limiter")
    # Breaches are logged at INFO; storage errors (WARNING and up) still show, redacted.
    limiter_logger.setLevel(logging.WARNING)
    if not any(isinstance(f, _NoLimiterKeys) for f in limiter_logger.filters):
        limiter_logger.addFilter(_NoLimiterKeys())
    private(limiter_logger)
    private(app.logger)
    for handler in app.logger.handlers:
        private(handler)
    app.logger.setLevel(logging.INFO)
