"""gunicorn's configuration: logs that hold no request path, query or client address.

Use it with `gunicorn --config python:statements.gunicorn_conf wsgi:app` (as `make run`
does). Settings given on the command line still win, but the logger class below is what
writes every line, so even `--access-logfile` or `--log-level debug` cannot make gunicorn
record who asked for what.

gunicorn itself writes the request line into its error log when a request outlives the
worker timeout ("Error handling request GET /invitation/<id>.<secret>"), and the client's
address when a request is malformed ("Invalid request from ip=..."). An invitation path
and a copy of the database are enough to read a drafting room, so those messages are
rewritten here, and every line then passes the app's last net (statements.logs).
"""

from __future__ import annotations

import logging
import os
import secrets
from typing import Any

from gunicorn.glogging import Logger  # type: ignore[import-untyped]

from statements.logs import PrivateRecords, private, redact


def on_starting(server: Any) -> None:
    """Draw the key every worker hashes client addresses with, in the master.

    Without Redis, every worker must hash client addresses with the same key, so that the
    rate-limit file they share counts an address once (statements.security.ThrottleSecret).
    Drawn afresh at every start, in the master process as it starts (a hook, not on import,
    so that merely importing this module changes no environment); the workers inherit it.
    It is never written anywhere: on restart the short windows simply begin again.
    """
    os.environ["STATEMENTS_THROTTLE_SECRET"] = secrets.token_hex(32)


# No access log, ever: it would hold every path (with its secrets) and every address.
accesslog = None
errorlog = "-"
loglevel = "warning"


def pre_request(worker: Any, req: Any) -> None:
    """Log nothing as a request starts: gunicorn's default hook logs its method and path."""


def _kind(error: str) -> str:
    """What was wrong with a malformed request, without what the client sent."""
    for stop in ("'", '"', ":", "(", "<", "\n"):
        error = error.split(stop, 1)[0]
    return redact(error.strip()[:80]) or "unreadable"


class PrivateLogger(Logger):
    """gunicorn's logger, without request lines, addresses or an access log."""

    def setup(self, cfg: Any) -> None:
        """Set up gunicorn's handlers, then make each of them private.

        The same handlers are put on the root logger, so that the app's own records and
        those of libraries (Flask-Limiter, gunicorn's HTTP module) go through them too.
        """
        super().setup(cfg)
        root = logging.getLogger()
        for handler in getattr(self, "_root_handlers", []):
            root.removeHandler(handler)
        self._root_handlers: list[logging.Handler] = []
        private(self.error_log)
        for handler in self.error_log.handlers:
            private(handler)
            root.addHandler(handler)
            self._root_handlers.append(handler)
        for handler in root.handlers:
            private(handler)
        for handler in list(self.access_log.handlers):
            self.access_log.removeHandler(handler)
        self.access_log.addHandler(logging.NullHandler())
        self.access_log.disabled = True
        if cfg.accesslog:
            self.error_log.warning("access logs are not written: they would hold secrets")

    def access(self, resp: Any, req: Any, environ: Any, request_time: Any) -> None:
        """Write nothing: an access line holds the path and the client's address."""

    def _compute_access_log_enabled(self) -> bool:
        """Never: see access()."""
        return False

    def _private(self, msg: Any, args: tuple[Any, ...]) -> tuple[Any, tuple[Any, ...]]:
        """The structural part: drop the arguments that carry a request line or an address.

        An exception given as the message or an argument is named by its type only: its
        text often quotes what the client sent ("No more data after: b'GET /...'").
        """
        if isinstance(msg, BaseException):
            msg = type(msg).__qualname__
        args = tuple(type(a).__qualname__ if isinstance(a, BaseException) else a for a in args)
        if isinstance(msg, str):
            if msg.startswith("Invalid request from ip="):
                error = msg.split(": ", 1)[1] if ": " in msg else ""
                return "Invalid request: %s", (_kind(error),)
            if msg.startswith("Error handling request"):
                return "Error handling a request (its method and path are not logged)", ()
            if msg.startswith("Proxy request from"):
                return "Proxy request not allowed", ()
        return msg, args

    def critical(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        """Log at CRITICAL, privately."""
        msg, args = self._private(msg, args)
        super().critical(msg, *args, **kwargs)

    def error(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        """Log at ERROR, privately."""
        msg, args = self._private(msg, args)
        super().error(msg, *args, **kwargs)

    def warning(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        """Log at WARNING, privately."""
        msg, args = self._private(msg, args)
        super().warning(msg, *args, **kwargs)

    def info(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        """Log at INFO, privately."""
        msg, args = self._private(msg, args)
        super().info(msg, *args, **kwargs)

    def debug(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        """Log at DEBUG, privately."""
        msg, args = self._private(msg, args)
        super().debug(msg, *args, **kwargs)

    def exception(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        """Log an exception privately: its types and frames, not its message."""
        msg, args = self._private(msg, args)
        super().exception(msg, *args, **kwargs)

    def log(self, lvl: Any, msg: Any, *args: Any, **kwargs: Any) -> None:
        """Log at any level, privately."""
        msg, args = self._private(msg, args)
        super().log(lvl, msg, *args, **kwargs)


# By value: gunicorn accepts a class as well as a dotted name.
logger_class = PrivateLogger

__all__ = ["PrivateLogger", "PrivateRecords", "logger_class"]
