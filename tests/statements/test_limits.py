"""Limits that fit how people arrive: a workshop on one Wi-Fi joins through a marked
invitation, while the ordinary limits still stop guessing from that same address; and
without Redis the limits hold across every worker, through one shared file."""

from __future__ import annotations

import http.cookiejar
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from statements import create_app
from statements.db import make_engine, upgrade
from statements.models import Invitation
from statements.security import ThrottleSecret
from statements.settings import Settings
from statements.throttle_storage import FileStorage, storage_uri
from tests.conftest import TEST_REDIS_URL
from tests.support import csrf_token, invitation_link, post_form, post_signed_in, signed_in_staff

ROOT = Path(__file__).resolve().parents[2]
WRONG_CODENAME = "apple banana grape zebra yo-yo t-shirt felt-tip"


def _invitation(app: Flask, session: Session, coordinator: FlaskClient, uses: int) -> str:
    from tests.support import make_room

    identity = app.extensions["_coordinator"]
    room_id = make_room(session, identity)
    session.commit()
    # Created through the page: the POST redirects, and the page after it shows the link.
    # Valid for a week: tests move the clock by hours, which may cross midnight.
    expires_on = app.extensions["clock"]().date() + timedelta(days=7)
    return invitation_link(coordinator, room_id, expires_on, uses=uses)


def _join(link: str, client: FlaskClient) -> int:
    return client.post(link, data={"csrf_token": csrf_token(client, link)}).status_code


def test_a_workshop_joins_from_one_address_while_guessing_stays_bounded(
    app: Flask, session: Session, settings: Settings
) -> None:
    """The deployment's default limits; everyone comes from 127.0.0.1."""
    identity, coordinator = signed_in_staff(app, session)
    app.extensions["_coordinator"] = identity
    ordinary = _invitation(app, session, coordinator, 40)
    workshop = _invitation(app, session, coordinator, 40)
    workshop_id = workshop.split("/")[-1].split(".")[0]
    room_id = session.scalar(select(Invitation.room_id).where(Invitation.id == workshop_id))
    marked = post_signed_in(coordinator, f"/rooms/{room_id}/invitations/{workshop_id}/workshop")
    assert marked.status_code == 302
    assert session.get(Invitation, workshop_id).workshop_until is not None  # type: ignore[union-attr]

    # Thirty people at the workshop, on one Wi-Fi, all join.
    for _ in range(30):
        assert _join(workshop, app.test_client()) == 201

    # The ordinary invitation, and joining without one, still stop this address soon.
    statuses = [_join(ordinary, app.test_client()) for _ in range(6)]
    assert statuses[-1] == 429
    assert statuses.count(201) == 5
    assert post_form(app.test_client(), "/join", form_page="/join").status_code == 429

    # Guessing codenames from the same address is stopped by the sign-in limit: the
    # workshop widened nothing but its own joins.
    guesser = app.test_client()
    answers = [
        post_form(guesser, "/login", {"codename": WRONG_CODENAME}).status_code for _ in range(30)
    ]
    # Thirty sign-ins a minute from one address; the coordinator's took one of them.
    assert answers[:29] == [401] * 29
    assert answers[29] == 429
    # The member is told in their language how long to wait.
    farsi = guesser.post(
        "/login",
        data={"csrf_token": csrf_token(guesser), "codename": WRONG_CODENAME},
        headers={"Accept-Language": "fa"},
    )
    assert farsi.status_code == 429
    page = farsi.get_data(as_text=True)
    assert 'lang="fa"' in page
    assert "Too many attempts" not in page
    assert re.search(r"[1۱]", page.split("<main", 1)[1])


def test_a_workshop_mark_lapses_and_needs_a_coordinator(
    app: Flask, session: Session, app_with: object
) -> None:
    identity, coordinator = signed_in_staff(app, session)
    app.extensions["_coordinator"] = identity
    link = _invitation(app, session, coordinator, 10)
    invitation_id = link.split("/")[-1].split(".")[0]
    room_id = session.scalar(select(Invitation.room_id).where(Invitation.id == invitation_id))
    assert (
        post_signed_in(
            coordinator, f"/rooms/{room_id}/invitations/{invitation_id}/workshop"
        ).status_code
        == 302
    )
    # An unknown invitation cannot be marked.
    assert (
        post_signed_in(coordinator, f"/rooms/{room_id}/invitations/{'0' * 32}/workshop").status_code
        == 404
    )
    # A marked invitation that has expired is answered as unknown, like any other.
    invitation = session.get(Invitation, invitation_id)
    assert invitation is not None
    today = app.extensions["clock"]().date()
    invitation.expires_on = today - timedelta(days=1)
    session.commit()
    assert post_form(app.test_client(), link, form_page="/login").status_code == 404
    session.expire_all()
    assert session.get(Invitation, invitation_id).wrapped_keys is None  # type: ignore[union-attr]
    other = _invitation(app, session, coordinator, 10)
    clock = app.extensions["clock"]
    clock.advance(hours=8)
    link = other
    # Lapsed: the address's ordinary join budget applies again.
    statuses = [_join(link, app.test_client()) for _ in range(6)]
    assert statuses[-1] == 429


def test_two_app_instances_share_one_budget_without_redis(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two workers of one host: the same limit file and the same in-memory address key."""
    monkeypatch.setenv(ThrottleSecret.SHARED_ENV, secrets.token_hex(32))
    shared = replace(settings, redis_url=None, login_rate_limit="3 per minute")
    apps = [create_app(shared), create_app(shared)]
    try:
        answers = []
        for turn in range(8):
            client = apps[turn % 2].test_client()
            answers.append(post_form(client, "/login", {"codename": WRONG_CODENAME}).status_code)
        assert answers == [401, 401, 401, 429, 429, 429, 429, 429]
    finally:
        for each in apps:
            each.extensions["db"].engine.dispose()


def test_the_limit_file_keeps_no_address_and_forgets(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "throttle.sqlite3"
    storage = FileStorage(storage_uri(str(path)))
    assert storage.check()
    assert storage.acquire_entry("k", 2, 1)
    assert storage.acquire_entry("k", 2, 1)
    assert not storage.acquire_entry("k", 2, 1)
    assert storage.get_moving_window("k", 2, 1)[1] == 2
    assert storage.incr("c", 1) == 1
    assert storage.incr("c", 1) == 2
    assert storage.get("c") == 2
    time.sleep(1.1)
    assert storage.get("c") == 0
    assert storage.acquire_entry("k", 2, 1)
    # Expired entries were deleted, not kept: one row remains, for the last hit.
    import sqlite3

    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT count(*) FROM hits").fetchone()[0] == 1
    assert oct(path.stat().st_mode & 0o777) == "0o600"


# The app the workers serve: the real one, naming the worker that answered, so the test
# can tell that both workers did.
WORKER_APP = """
import os

from statements import create_app

app = create_app()


@app.after_request
def _worker(response):
    response.headers["X-Worker"] = str(os.getpid())
    return response
"""


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _get(url: str) -> tuple[int, str, str]:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(url + "/login", timeout=10) as response:
        page = response.read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token
    body = urllib.parse.urlencode({"csrf_token": token.group(1), "codename": WRONG_CODENAME})
    try:
        with opener.open(url + "/login", data=body.encode(), timeout=10) as answer:
            return answer.status, answer.headers["X-Worker"], ""
    except urllib.error.HTTPError as error:
        return error.code, error.headers["X-Worker"], error.read().decode()


@pytest.mark.skipif(sys.platform == "win32", reason="gunicorn runs on POSIX only")
def test_two_gunicorn_workers_without_redis_share_the_limit(tmp_path: Path) -> None:
    if TEST_REDIS_URL:
        pass  # Redis is not given to the workers: this is the deployment without it.
    url = f"sqlite:///{tmp_path / 'workers.sqlite3'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    (tmp_path / "worker_app.py").write_text(WORKER_APP)
    port = _free_port()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)]),
        "APP_ENV": "development",
        "DATABASE_URL": url,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "SECRET_KEY": secrets.token_urlsafe(48),
        "LOOKUP_PEPPER": secrets.token_urlsafe(48),
        "KDF_MEMORY_KIB": "8",
        "KDF_ITERATIONS": "1",
        "LOGIN_RATE_LIMIT": "3 per minute",
    }
    command = [
        *(sys.executable, "-m", "gunicorn"),
        *("--config", "python:statements.gunicorn_conf"),
        *("--bind", f"127.0.0.1:{port}", "--workers", "2"),
        "worker_app:app",
    ]
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as out:
        server = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=out, stderr=out)
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 30
            while True:
                try:
                    urllib.request.urlopen(base + "/login", timeout=2).close()  # noqa: S310
                    break
                except OSError:
                    assert time.monotonic() < deadline, log.read_text()
                    time.sleep(0.2)
            answers = []
            # Until both workers have answered attempts. A worker picks up connections as it
            # is free, so on a busy machine one may take many in a row: a short pause
            # between attempts lets the other reach the socket, and the budget is wide.
            while len(answers) < 400:
                answers.append(_get(base))
                if len(answers) >= 8 and len({worker for _s, worker, _p in answers}) == 2:
                    break
                time.sleep(0.05)
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    statuses = [status for status, _worker, _page in answers]
    assert len({worker for _s, worker, _p in answers}) == 2, "one worker answered everything"
    assert statuses[:3] == [401, 401, 401]
    assert set(statuses[3:]) == {429}, statuses
    assert "try again in 1 minute" in answers[-1][2]
    # The limit file holds keyed hashes, not the address.
    limit_file = (tmp_path / "instance" / "throttle.sqlite3").read_bytes()
    assert b"127.0.0.1" not in limit_file
