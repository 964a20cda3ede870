"""The development server logs no request line: neither the path (which can carry an
invitation secret) nor the client's address, while its start-up lines still show."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from flask import Flask
from werkzeug._internal import _log
from werkzeug.serving import WSGIRequestHandler

ADDRESS = "203.0.113.58"


@pytest.fixture
def werkzeug_output(app: Flask) -> Iterator[io.StringIO]:
    """What a handler on the werkzeug logger writes, as the development server's would."""
    logger = logging.getLogger("werkzeug")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def _handler(path: str) -> WSGIRequestHandler:
    """A request handler as the server has it once a request is parsed, without a socket."""
    handler = WSGIRequestHandler.__new__(WSGIRequestHandler)
    handler.client_address = (ADDRESS, 51234)
    handler.environ = {"REMOTE_ADDR": ADDRESS}  # type: ignore[attr-defined]
    handler.command = "GET"
    handler.path = path
    handler.request_version = "HTTP/1.1"
    handler.requestline = f"GET {path} HTTP/1.1"
    return handler


@pytest.mark.parametrize(
    "path",
    [
        "/invitation/c0ffee-invitation-secret",
        # Words the start-up lines contain, put in a path to sneak a line through.
        "/invitation/c0ffee-invitation-secret/development%20server",
        "/invitation/c0ffee-invitation-secret/development server",
        "/ * c0ffee-invitation-secret",
        # A press preview link of an embargoed statement is a capability too.
        "/press/c0ffee-invitation-secret/statement.md",
    ],
)
def test_request_and_error_lines_are_dropped(werkzeug_output: io.StringIO, path: str) -> None:
    # Start-up lines are kept: the output is live, so a missing line means it was dropped.
    _log("info", " * Running on http://127.0.0.1:5000")
    handler = _handler(path)
    handler.log_request(200, 512)
    handler.log_request(404, "-")
    handler.log_error("code %d, message %s", 400, f"Bad request syntax ('GET {path}')")
    handler.log_message("%s", f"GET {path}")

    output = werkzeug_output.getvalue()
    # (The last net in statements.logs writes its address as [url]: no address is logged.)
    assert " * Running on " in output
    assert "c0ffee-invitation-secret" not in output
    assert ADDRESS not in output
