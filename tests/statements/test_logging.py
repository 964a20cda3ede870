"""The logs of a login, a failed login and a server error hold no secret and no address."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from flask import Flask, request
from sqlalchemy.orm import Session

from statements import security
from tests.support import login_member, login_staff, make_member, make_staff, post_form


def test_logs_hold_no_codename_passphrase_path_or_address(
    app_with: Callable[..., Flask],
    session: Session,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    # Throttled after a few attempts, so a breach of the limit is logged (or not) too.
    app = app_with(login_rate_limit="4 per minute")

    def crash(token: str) -> str:
        # An exception whose message quotes what the user sent, as many do.
        raise ValueError(f"cannot handle {request.form.get('codename')!r} for {token}")

    app.add_url_rule("/_test/crash/<token>", "test_crash", crash, methods=["POST"])
    _, codename = make_member(app, session)
    staff = make_staff(app, session)
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "203.0.113.77"
    client.environ_base["HTTP_USER_AGENT"] = "DistinctiveAgent/9.9"

    assert login_member(client, codename).status_code == 302
    assert login_member(client, codename.replace(" ", " x")).status_code in (400, 401)
    assert login_staff(client, app, staff).status_code == 302
    wrong = {
        "username": staff.username,
        "passphrase": "wrong " + staff.passphrase,
        "code": "123456",
    }
    assert post_form(client, "/staff/login", wrong, form_page="/staff/login").status_code == 401
    secret_path = "invitation-secret-c0ffee"
    crashed = post_form(
        client,
        f"/_test/crash/{secret_path}",
        {"codename": codename, "passphrase": staff.passphrase},
    )
    assert crashed.status_code == 500
    throttled = login_member(client, codename)
    assert throttled.status_code == 429

    out, err = capfd.readouterr()
    records = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    logged = "\n".join([out, err, records, caplog.text])
    assert "unhandled exception" in logged  # the error was logged, with its type...
    assert "builtins.ValueError" in logged
    for secret in (codename, staff.passphrase, secret_path, "203.0.113.77", "DistinctiveAgent"):
        assert secret not in logged  # ...without the secrets around it
    # Nor the throttle key derived from the address.
    key = security.client_key(app.extensions["throttle_secret"].current(), "203.0.113.77")
    assert key not in logged


def test_the_last_net_catches_paths_addresses_and_exception_messages() -> None:
    from statements.logs import PrivateRecords

    secret = "Zm9vYmFyYmF6cXV1eGNvcmdlZ3JhdWx0Z2FycGx5d2FsZG8"
    try:
        raise OSError(f"reading /invitation/{'a' * 32}.{secret} failed")
    except OSError as exc:
        error = exc
    record = logging.LogRecord(
        "any", logging.ERROR, __file__, 1, "from %s and %s at 12:34:56 via %s", None, None
    )
    record.args = ("203.0.113.77:5000", "[2001:db8::7]:443", f"http://example.org/x?k={secret}")
    record.exc_info = (OSError, error, error.__traceback__)
    assert PrivateRecords().filter(record)
    text = record.getMessage()
    for leak in (secret, "203.0.113.77", "2001:db8::7", "/invitation", "example.org/x"):
        assert leak not in text
    assert "12:34:56" in text  # times are not addresses
    assert "builtins.OSError" in text  # the exception is named, without its message
    assert f'File "{__file__}"' in text  # and where it happened
