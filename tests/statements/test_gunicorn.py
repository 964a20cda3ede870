"""The real gunicorn, with the project's configuration, logs no path, secret or address.

A request for a real invitation link is made to hang past the worker timeout, and
malformed requests carrying the same link are sent over a raw socket: gunicorn reports
each (the log is not empty), without the path, the link's secret or the client's address.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask

from statements import create_app
from statements.db import Database, make_engine, upgrade
from statements.drafting import service as drafting
from statements.settings import Settings
from tests.conftest import Clock
from tests.support import make_room, staff_identity

ROOT = Path(__file__).resolve().parents[2]

# The app gunicorn serves: the real one, but following an invitation link takes longer
# than the worker timeout. Only this test's copy is slowed; the code under test (the
# logger and its configuration) is the project's, unchanged.
HANGING_APP = """
import time

from statements import create_app
from statements.drafting import invitations

app = create_app()
_real = invitations.invitation_room_title


def _slow(*args, **kwargs):
    title = _real(*args, **kwargs)
    time.sleep(60)
    return title


invitations.invitation_room_title = _slow
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _send(port: int, raw: bytes, wait: float = 10) -> bytes:
    """Send raw bytes; return whatever comes back before the server closes."""
    received = b""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as connection:
        try:
            connection.sendall(raw)
            while chunk := connection.recv(65536):
                received += chunk
        except OSError:
            pass
    return received


def _wait_for(check: Callable[[], bool], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


@pytest.fixture
def invitation_token(settings: Settings, tmp_path: Path, clock: Clock) -> str:
    """A real invitation in a SQLite file of its own (gunicorn cannot join a test's
    PostgreSQL transaction); yields its token."""
    url = f"sqlite:///{tmp_path / 'gunicorn.sqlite3'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    app: Flask = create_app(replace(settings, database_url=url))
    app.extensions["clock"] = clock
    database: Database = app.extensions["db"]
    with database.sessionmaker() as session:
        coordinator = staff_identity(app, session)
        room_id = make_room(session, coordinator)
        access = drafting.open_room(session, room_id, coordinator)
        today = clock().date()
        _invitation, token = drafting.create_invitation(
            session, access, 5, today + timedelta(days=3), today
        )
        session.commit()
    database.engine.dispose()
    return token


@pytest.mark.skipif(sys.platform == "win32", reason="gunicorn runs on POSIX only")
def test_gunicorn_logs_no_path_secret_or_address(
    settings: Settings, tmp_path: Path, invitation_token: str
) -> None:
    (tmp_path / "hanging_app.py").write_text(HANGING_APP)
    error_log, access_log = tmp_path / "error.log", tmp_path / "access.log"
    stdout, stderr = tmp_path / "stdout", tmp_path / "stderr"
    port = _free_port()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)]),
        "APP_ENV": "development",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'gunicorn.sqlite3'}",
        "INSTANCE_PATH": str(tmp_path / "gunicorn-instance"),
    }
    command = [
        *(sys.executable, "-m", "gunicorn"),
        *("--config", "python:statements.gunicorn_conf"),
        *("--bind", f"127.0.0.1:{port}", "--workers", "1", "--timeout", "1"),
        # The most an operator could turn on: neither may bring back a path or address.
        *("--log-level", "debug", "--access-logfile", str(access_log)),
        *("--error-logfile", str(error_log)),
        "hanging_app:app",
    ]
    with stdout.open("wb") as out, stderr.open("wb") as err:
        server = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=out, stderr=err)
        try:
            _wait_for(lambda: _accepts(port))
            path = f"/invitation/{invitation_token}"
            # Outlives the worker timeout: the worker is aborted mid-request.
            _send(port, f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
            _wait_for(lambda: "WORKER TIMEOUT" in error_log.read_text())
            _wait_for(lambda: _accepts(port))
            malformed = [
                # A broken request line, with and without its leading slash.
                f"GET {path} HTTP/1.1 trailing\r\nHost: x\r\n\r\n",
                f"G\x01T {path[1:]} HTTP/1.1\r\nHost: x\r\n\r\n",
                f"GET {path} HTTP/9\r\nHost: x\r\n\r\n",
                # A request line and a header too large.
                f"GET {path}?{'q' * 5000} HTTP/1.1\r\nHost: x\r\n\r\n",
                f"GET {path} HTTP/1.1\r\nHost: x\r\nX-Big: {'h' * 9000}\r\n\r\n",
                # A header that names the path, badly.
                f"GET {path} HTTP/1.1\r\nHost: x\r\nBad Header{path}: 1\r\n\r\n",
                # A chunked body that is not.
                f"POST {path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                f"zz{path}\r\n\r\n",
            ]
            for raw in malformed:
                _wait_for(lambda: _accepts(port))
                _send(port, raw.encode("latin-1"))
            _wait_for(lambda: "Invalid request" in error_log.read_text())
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()

    logs = {name: f.read_text(errors="replace") for name, f in _logs(tmp_path).items()}
    everything = "\n".join(logs.values())
    # Nothing of who asked for what...
    invitation_id, secret = invitation_token.split(".")
    # "/invitation/" and not "/invitation": a traceback may name views/invitations.py.
    for needle in (secret, invitation_id, path, "/invitation/", "127.0.0.1", "hhhhhhhh"):
        for name, text in logs.items():
            assert needle not in text, f"{needle!r} in {name}"
    # ...yet the timeout, the request it cut short and the malformed requests are reported.
    assert "WORKER TIMEOUT" in logs["error.log"]
    assert "Error handling a request" in logs["error.log"]
    assert "Invalid request: Invalid HTTP method" in logs["error.log"]
    assert "Invalid request: Invalid HTTP Version" in logs["error.log"]
    assert "Invalid request: Request Line is too large" in logs["error.log"]
    assert not logs.get("access.log")
    # gunicorn's own request lines are left out whole, not only redacted.
    assert "GET [path]" not in everything
    assert everything.count("\n") > 5


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _logs(tmp_path: Path) -> dict[str, Path]:
    return {
        name: tmp_path / name
        for name in ("error.log", "access.log", "stdout", "stderr")
        if (tmp_path / name).exists()
    }
