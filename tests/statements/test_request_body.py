"""A request body the server cannot read (a broken chunk) gets 400, on real servers too."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from gunicorn.http.errors import InvalidChunkSize
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.serving import DechunkedInput, make_server
from werkzeug.test import EnvironBuilder, run_wsgi_app

from statements.db import make_engine, upgrade
from statements.models import Room
from tests.support import login_staff, make_staff

ROOT = Path(__file__).resolve().parents[2]
# A chunk size that is not hexadecimal; a negative one; a chunk extension holding a NUL.
BROKEN_BODIES = [
    b"zz\r\nabc\r\n0\r\n\r\n",
    b"3\r\nabc\r\n-1\r\n\r\n",
    b"3\r\nabc\r\n1;\x00\r\nx\r\n",
]
FORMS = ["application/x-www-form-urlencoded", "multipart/form-data; boundary=xx"]


def _raw_post(port: int, path: str, content_type: str, body: bytes) -> bytes:
    """Send a chunked POST as raw bytes; return the status line."""
    # A guard against a hang, not a measure: a busy machine may take long over the first
    # request, which the worker answers only once it has imported the app.
    with socket.create_connection(("127.0.0.1", port), timeout=120) as connection:
        connection.sendall(
            f"POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: {content_type}\r\n"
            "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n".encode()
            + body
        )
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer.split(b"\r\n", 1)[0]


@pytest.fixture
def werkzeug_port(app: Flask) -> Iterator[int]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        thread.join()


def _each_broken_request(port: int) -> None:
    for path in ("/verify", "/login", "/rooms/new"):
        for content_type in FORMS:
            for body in BROKEN_BODIES:
                status = _raw_post(port, path, content_type, body)
                assert status.startswith(b"HTTP/1.1 400"), (path, content_type, body, status)


def test_werkzeug_server(werkzeug_port: int) -> None:
    _each_broken_request(werkzeug_port)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def gunicorn_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """The app under gunicorn on a loopback port, on a SQLite file of its own."""
    instance = tmp_path_factory.mktemp("gunicorn")
    database_url = f"sqlite:///{instance / 'statements.sqlite3'}"
    engine = make_engine(database_url)
    upgrade(engine)
    engine.dispose()
    port = _free_port()
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "APP_ENV": "development",
        "INSTANCE_PATH": str(instance),
        "DATABASE_URL": database_url,
        "KDF_MEMORY_KIB": "8",
        "KDF_ITERATIONS": "1",
    }
    command = [sys.executable, "-m", "gunicorn", "--workers", "1", "--log-level", "error"]
    server = subprocess.Popen(
        [*command, "--bind", f"127.0.0.1:{port}", "wsgi:app"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    _out, errors = server.communicate()
                    pytest.fail(f"gunicorn did not start: {errors.decode()[-2000:]}")
                time.sleep(0.1)
        yield port
    finally:
        server.terminate()
        server.communicate(timeout=10)


def test_gunicorn(gunicorn_port: int) -> None:
    _each_broken_request(gunicorn_port)


class GunicornLikeBody(io.RawIOBase):
    """A stream that fails as gunicorn's does on a broken chunk: not with an OSError."""

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        raise InvalidChunkSize(b"zz")

    def readinto(self, buffer: Any) -> int:
        raise InvalidChunkSize(b"zz")


@pytest.mark.parametrize(
    "stream",
    [
        pytest.param(lambda: DechunkedInput(io.BytesIO(BROKEN_BODIES[0])), id="werkzeug"),
        pytest.param(GunicornLikeBody, id="gunicorn"),
    ],
)
@pytest.mark.parametrize("content_type", FORMS)
def test_a_broken_body_in_the_environ_writes_nothing(
    app: Flask, session: Session, stream: Any, content_type: str
) -> None:
    staff = make_staff(app, session)
    client = app.test_client()
    assert login_staff(client, app, staff).status_code == 302
    rooms = session.scalar(select(func.count()).select_from(Room))
    for path in ("/rooms/new", "/verify", "/login"):
        environ = EnvironBuilder(
            path=path,
            method="POST",
            content_type=content_type,
            headers={"Transfer-Encoding": "chunked"},
        ).get_environ()
        # A chunked body has no length: the server says it ends the stream itself.
        del environ["CONTENT_LENGTH"]
        environ["wsgi.input"] = stream()
        environ["wsgi.input_terminated"] = True
        client._add_cookies_to_wsgi(environ)
        body, status, _headers = run_wsgi_app(app, environ)
        page = b"".join(body)
        assert status.startswith("400"), (path, status)
        assert b"That request could not be understood" in page
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Room)) == rooms


@pytest.mark.parametrize("path", ["/login", "/verify", "/rooms/new", "/account/passphrase"])
def test_a_multipart_part_without_a_name_is_refused(client: FlaskClient, path: str) -> None:
    # werkzeug files such a part under the key None, which CSRF protection tripped over.
    response = client.post(
        path,
        data=b"--xx\r\nContent-Disposition: form-data\r\n\r\nno name\r\n--xx--\r\n",
        content_type="multipart/form-data; boundary=xx",
    )
    assert response.status_code == 400
    assert "could not be read" in response.get_data(as_text=True)
