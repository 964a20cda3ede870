"""Recovery codes: shown once at enrolment, each good for one sign-in in place of a TOTP
code, replaced all at once, and kept only as slow hashes."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from statements.auth import service
from statements.models import RecoveryCode, Role
from statements.staff import recovery
from tests.support import (
    STRONG_PASSPHRASE,
    Staff,
    csrf_token,
    dump_database,
    make_staff,
    post_form,
    post_signed_in,
)

_CODE = re.compile(r"<code[^>]*>([a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4})</code>")


def _codes(app: Flask, session: Session, staff: Staff) -> list[str]:
    account = session.get(service.Account, staff.account_id)
    assert account is not None
    codes = recovery.issue_codes(session, app.extensions["auth"], account)
    session.commit()
    return codes


def _sign_in(client: FlaskClient, staff: Staff, code: str) -> int:
    data = {"username": staff.username, "passphrase": staff.passphrase, "code": code}
    return post_form(client, "/staff/login", data, form_page="/staff/login").status_code


def test_enrolment_shows_recovery_codes_once(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    clock = app.extensions["clock"]
    _account, token = service.invite_staff(session, "newcomer", Role.COORDINATOR, clock())
    session.commit()
    path = f"/enrol/{token}"
    page = client.get(path).get_data(as_text=True)
    secret = re.search(r'name="totp_secret" type="hidden" value="([A-Z2-7]+)"', page)
    assert secret
    import pyotp

    done = client.post(
        path,
        data={
            "csrf_token": csrf_token(client, path),
            "totp_secret": secret.group(1),
            "passphrase": STRONG_PASSPHRASE,
            "confirm": STRONG_PASSPHRASE,
            "code": pyotp.TOTP(secret.group(1)).at(clock()),
        },
    )
    assert done.status_code == 201
    codes = _CODE.findall(done.get_data(as_text=True))
    assert len(codes) == recovery.CODE_COUNT == len(set(codes))
    # Stored only as hashes: no code, with or without its dashes, is in the database.
    values = b"\n".join(dump_database(session))
    for code in codes:
        assert code.encode() not in values
        assert code.replace("-", "").encode() not in values
    assert session.scalar(select(func.count()).select_from(RecoveryCode)) == recovery.CODE_COUNT
    # The account page says how many are left; it never shows them again.
    left = client.get("/account/recovery-codes").get_data(as_text=True)
    assert f"You have {recovery.CODE_COUNT} unused recovery codes" in left
    assert not _CODE.search(left)


def test_a_recovery_code_signs_in_once_in_place_of_the_app(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    staff = make_staff(app, session)
    codes = _codes(app, session, staff)
    # Typed as people do: capitals, spaces instead of dashes.
    assert _sign_in(client, staff, codes[0].upper().replace("-", " ")) == 302
    client.delete_cookie("auth")
    assert _sign_in(app.test_client(), staff, codes[0]) == 401
    assert _sign_in(app.test_client(), staff, codes[1]) == 302
    assert recovery.codes_left(session, session.get(service.Account, staff.account_id)) == 6  # type: ignore[arg-type]


def test_a_recovery_code_needs_the_passphrase_and_its_own_account(
    app: Flask, session: Session
) -> None:
    staff = make_staff(app, session)
    other = make_staff(app, session, "other")
    codes = _codes(app, session, staff)
    other_codes = _codes(app, session, other)
    wrong = Staff(staff.account_id, staff.username, "not " + staff.passphrase, staff.totp_secret)
    assert _sign_in(app.test_client(), wrong, codes[0]) == 401
    assert _sign_in(app.test_client(), staff, other_codes[0]) == 401
    assert _sign_in(app.test_client(), staff, "aaaa-bbbb-cccc-dddd") == 401
    # None of those used a code up.
    account = session.get(service.Account, staff.account_id)
    assert account is not None
    assert recovery.codes_left(session, account) == recovery.CODE_COUNT


def test_a_disabled_account_cannot_use_a_code(app: Flask, session: Session) -> None:
    staff = make_staff(app, session)
    codes = _codes(app, session, staff)
    account = session.get(service.Account, staff.account_id)
    assert account is not None
    account.disabled = True
    session.commit()
    assert _sign_in(app.test_client(), staff, codes[0]) == 403


def test_new_codes_replace_the_old_ones(app: Flask, session: Session) -> None:
    staff = make_staff(app, session)
    old = _codes(app, session, staff)
    client = app.test_client()
    clock = app.extensions["clock"]
    assert _sign_in(client, staff, staff.code(clock())) == 302
    clock.advance(seconds=30)
    bad = post_signed_in(
        client, "/account/recovery-codes", {"passphrase": "wrong passphrase", "code": "000000"}
    )
    assert bad.status_code == 400
    assert "not right" in bad.get_data(as_text=True)
    done = post_signed_in(
        client,
        "/account/recovery-codes",
        {"passphrase": staff.passphrase, "code": staff.code(clock())},
    )
    assert done.status_code == 200
    new = _CODE.findall(done.get_data(as_text=True))
    assert len(new) == recovery.CODE_COUNT
    assert not set(new) & set(old)
    assert _sign_in(app.test_client(), staff, old[2]) == 401
    assert _sign_in(app.test_client(), staff, new[2]) == 302


def test_members_have_no_recovery_codes_page(app: Flask, session: Session) -> None:
    from tests.support import login_member, make_member

    _account, codename = make_member(app, session)
    client = app.test_client()
    assert login_member(client, codename).status_code == 302
    assert client.get("/account/recovery-codes").status_code == 403
