"""The staff notification settings page, over HTTP."""

from __future__ import annotations

import secrets
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from statements.models import StaffContact
from statements.notifications.contacts import NotificationKeys
from statements.notifications.smtp import parse_smtp_url
from tests.support import csrf_token, login_member, make_member, signed_in_staff

PAGE = "/account/notifications"
KEY = secrets.token_urlsafe(48)


@pytest.fixture
def keyed_app(app_with: Callable[..., Flask]) -> Flask:
    return app_with(notification_key=KEY)


def _post(client: FlaskClient, **data: str) -> tuple[int, str]:
    response = client.post(PAGE, data={"csrf_token": csrf_token(client, PAGE), **data})
    return response.status_code, response.get_data(as_text=True)


def test_a_coordinator_saves_an_address_kept_sealed(keyed_app: Flask, session: Session) -> None:
    identity, client = signed_in_staff(keyed_app, session)
    page = client.get(PAGE)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'lang="fa"' in text  # each language named in itself, marked as such
    # No SMTP_URL: the page says nothing is sent.
    assert "SMTP_URL" in text

    status, _body = _post(client, email=" coord@example.org ", frequency="immediate", language="ar")
    assert status == 303
    row = session.scalar(select(StaffContact))
    assert row is not None
    assert row.account_id == identity.account.id
    assert (row.frequency, row.language) == ("immediate", "ar")
    assert b"coord@example.org" not in row.email
    opened = NotificationKeys.derive(KEY).open_for(identity.account.id, "email", row.email)
    assert opened == "coord@example.org"
    # The page shows the choice back.
    again = client.get(PAGE).get_data(as_text=True)
    assert 'value="coord@example.org"' in again
    assert "Your notification settings are saved." in again

    # An empty address forgets it.
    status, _body = _post(client, email="", frequency="digest", language="en")
    assert status == 303
    session.expire_all()
    assert session.scalar(select(StaffContact)) is None


@pytest.mark.parametrize(
    "email",
    ["not an address", "a@b", "two@@example.org", "x@example..org", "a b@example.org", "é@x"],
)
def test_a_bad_address_is_refused_with_a_message(
    keyed_app: Flask, session: Session, email: str
) -> None:
    _identity, client = signed_in_staff(keyed_app, session)
    status, body = _post(client, email=email, frequency="digest", language="en")
    assert status == 400
    assert "That is not an email address." in body
    assert session.scalar(select(StaffContact)) is None


def test_a_too_long_address_is_refused(keyed_app: Flask, session: Session) -> None:
    _identity, client = signed_in_staff(keyed_app, session)
    status, body = _post(
        client, email="a" * 250 + "@example.org", frequency="digest", language="en"
    )
    assert status == 400
    assert "too long" in body


@pytest.mark.parametrize(
    ("frequency", "language"), [("hourly", "en"), ("digest", "de"), ("", "en"), ("digest", "")]
)
def test_choices_outside_those_offered_are_refused(
    keyed_app: Flask, session: Session, frequency: str, language: str
) -> None:
    _identity, client = signed_in_staff(keyed_app, session)
    status, _body = _post(client, email="c@example.org", frequency=frequency, language=language)
    assert status == 400
    assert session.scalar(select(StaffContact)) is None


def test_without_a_notification_key_nothing_is_kept(app: Flask, session: Session) -> None:
    _identity, client = signed_in_staff(app, session)
    text = client.get(PAGE).get_data(as_text=True)
    assert "has not set a notification key" in text
    status, body = _post_account_token(client)
    assert status == 409
    assert "Nothing was saved." in body
    assert session.scalar(select(StaffContact)) is None


def _post_account_token(client: FlaskClient) -> tuple[int, str]:
    # The page shows no form without a key; a form from elsewhere is still refused.
    response = client.post(
        PAGE,
        data={
            "csrf_token": csrf_token(client, "/account"),
            "email": "c@example.org",
            "frequency": "digest",
            "language": "en",
        },
    )
    return response.status_code, response.get_data(as_text=True)


def test_with_smtp_the_page_does_not_warn(app_with: Callable[..., Flask], session: Session) -> None:
    sending = app_with(
        notification_key=KEY,
        smtp=parse_smtp_url("smtps://user:pw@mail.example.org"),
        mail_from="n@example.org",
    )
    _identity, client = signed_in_staff(sending, session)
    assert "SMTP_URL" not in client.get(PAGE).get_data(as_text=True)


def test_members_have_no_such_page(keyed_app: Flask, session: Session) -> None:
    _account, codename = make_member(keyed_app, session)
    client = keyed_app.test_client()
    login_member(client, codename)
    assert client.get(PAGE).status_code in (403, 404)
    assert keyed_app.test_client().get(PAGE).status_code in (302, 303, 401)


def test_the_account_page_links_to_it(keyed_app: Flask, session: Session) -> None:
    _identity, client = signed_in_staff(keyed_app, session)
    assert PAGE in client.get("/account").get_data(as_text=True)
