"""The command line: migrations and the first admin."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pexpect
import pyotp
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from statements import create_app
from statements.db import head_revision
from statements.models import Account, Role
from statements.settings import Settings
from tests.support import STRONG_PASSPHRASE, Staff, post_form

ROOT = Path(__file__).resolve().parents[2]


def test_create_admin_refuses_a_wrong_code(app: Flask, session: Session) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["create-admin", "Root"], input=f"{STRONG_PASSPHRASE}\n{STRONG_PASSPHRASE}\nabcdef\n"
    )
    assert re.search(r"secret: [A-Z2-7]{32}", result.output)
    assert result.exit_code != 0
    assert "does not match" in result.output
    assert session.scalar(select(Account)) is None


def test_create_admin_at_a_terminal(tmp_path: Path) -> None:
    """A person runs the command, scans the secret, types the code, then signs in."""
    database = tmp_path / "cli.sqlite3"
    env = {
        **os.environ,
        "APP_ENV": "development",
        "INSTANCE_PATH": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{database}",
        "KDF_MEMORY_KIB": "8",
        "KDF_ITERATIONS": "1",
    }
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    child = pexpect.spawn(
        flask[0],
        [*flask[1:], "create-admin", "Root"],
        cwd=str(ROOT),
        env=env,
        encoding="utf-8",
        timeout=60,
    )
    child.expect("Passphrase")
    child.sendline(STRONG_PASSPHRASE)
    child.expect("Repeat")
    child.sendline(STRONG_PASSPHRASE)
    child.expect(r"secret: ([A-Z2-7]{32})")
    secret = child.match.group(1)
    child.expect("6-digit code")
    child.sendline(pyotp.TOTP(secret).now())
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    assert "Admin root created" in (child.before or "")

    settings = Settings.from_env(env, tmp_path)
    app = create_app(settings)
    with app.app_context():
        session = app.extensions["db"].sessionmaker()
        account = session.scalar(select(Account).where(Account.username == "root"))
        assert account is not None
        assert account.role == Role.ADMIN
        assert account.enrolled
        session.close()
    # The code typed at the terminal is used up; the next one signs in.
    app.extensions["clock"] = lambda: datetime.now(UTC) + timedelta(seconds=30)
    client = app.test_client()
    staff = Staff(account.id, "root", STRONG_PASSPHRASE, secret)
    assert login_staff_at(client, app, staff).status_code == 302
    assert client.get("/admin/accounts").status_code == 200
    app.extensions["db"].engine.dispose()


def login_staff_at(client: FlaskClient, app: Flask, staff: Staff) -> TestResponse:
    """Sign in with the code for the app's clock."""
    code = staff.code(app.extensions["clock"]())
    data = {"username": staff.username, "passphrase": staff.passphrase, "code": code}
    return post_form(client, "/staff/login", data, form_page="/staff/login")


def test_create_admin_refuses_weak_passphrases_and_bad_names(app: Flask, session: Session) -> None:
    runner = app.test_cli_runner()
    weak = runner.invoke(args=["create-admin", "root"], input="password1234\npassword1234\n")
    assert weak.exit_code != 0
    assert "too common" in weak.output
    bad = runner.invoke(args=["create-admin", "no spaces allowed"])
    assert bad.exit_code != 0
    assert "usernames are" in bad.output
    assert session.scalar(select(Account)) is None


def test_db_current_names_both_revisions(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["db", "current"])
    assert result.exit_code == 0
    head = head_revision()
    assert f"database: {head}" in result.output
    assert f"code:     {head}" in result.output
