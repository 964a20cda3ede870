"""Enrolment and passphrase changes spend a slow key derivation: like the logins, they
are throttled, each on its own."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from sqlalchemy.orm import Session

from statements.auth import service
from statements.models import Role
from tests.support import (
    STRONG_PASSPHRASE,
    csrf_token,
    login_staff,
    make_staff,
    post_signed_in,
)

LIMIT = 3


def test_enrolment_is_throttled(app_with: Callable[..., Flask], session: Session) -> None:
    app = app_with(login_rate_limit=f"{LIMIT} per minute")
    _account, token = service.invite_staff(
        session, "newcomer", Role.COORDINATOR, app.extensions["clock"]()
    )
    session.commit()
    client = app.test_client()
    path = f"/enrol/{token}"
    form = {
        "csrf_token": csrf_token(client, path),
        "totp_secret": service.new_totp_secret(),
        "passphrase": STRONG_PASSPHRASE,
        "confirm": STRONG_PASSPHRASE,
        "code": "000000",
    }
    for _ in range(LIMIT):
        assert client.post(path, data=form).status_code == 400
    throttled = client.post(path, data=form)
    assert throttled.status_code == 429
    assert "Too many attempts" in throttled.get_data(as_text=True)
    # Reading the page is not throttled.
    assert client.get(path).status_code == 200


def test_passphrase_changes_are_throttled(app_with: Callable[..., Flask], session: Session) -> None:
    app = app_with(login_rate_limit=f"{LIMIT} per minute")
    staff = make_staff(app, session)
    client = app.test_client()
    # Signed in from one address; the attempts come from another, so the sign-in
    # itself takes nothing from their budget.
    client.environ_base["REMOTE_ADDR"] = "192.0.2.1"
    assert login_staff(client, app, staff).status_code == 302
    client.environ_base["REMOTE_ADDR"] = "192.0.2.2"
    wrong = {
        "current": "not " + staff.passphrase,
        "passphrase": STRONG_PASSPHRASE + " again",
        "confirm": STRONG_PASSPHRASE + " again",
        "code": "000000",
    }
    for _ in range(LIMIT):
        assert post_signed_in(client, "/account/passphrase", wrong).status_code == 400
    throttled = post_signed_in(client, "/account/passphrase", wrong)
    assert throttled.status_code == 429
    assert "Too many attempts" in throttled.get_data(as_text=True)
    assert client.get("/account").status_code == 200
