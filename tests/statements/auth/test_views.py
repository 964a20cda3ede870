"""The auth pages through HTTP, as a browser uses them."""

from __future__ import annotations

import re
from collections.abc import Callable

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from statements.models import Account, LoginSession, Role
from statements.settings import Settings
from tests.conftest import Clock
from tests.support import (
    STRONG_PASSPHRASE,
    auth_cookie,
    csrf_token,
    login_member,
    login_staff,
    make_member,
    make_staff,
    post_form,
)


def count(session: Session, model: type) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_join_shows_the_codename_once_and_signs_in(client: FlaskClient, session: Session) -> None:
    response = post_form(client, "/join", form_page="/join")
    assert response.status_code == 201
    page = response.get_data(as_text=True)
    codename = re.search(r'<p class="codename"[^>]*>([a-z -]+)</p>', page)
    assert codename
    assert len(codename.group(1).split()) == 7
    assert "only time it will be shown" in page
    assert response.headers["Cache-Control"] == "no-store"
    account_page = client.get("/account").get_data(as_text=True)
    assert "anonymous codename" in account_page
    assert codename.group(1) not in account_page
    # The codename works for signing in again later.
    client.delete_cookie("auth")
    assert login_member(client, codename.group(1)).status_code == 302
    assert count(session, Account) == 1


def test_login_and_logout(app: Flask, client: FlaskClient, session: Session) -> None:
    _, codename = make_member(app, session)
    response = login_member(client, codename)
    assert response.status_code == 302
    cookie = response.headers.getlist("Set-Cookie")
    assert any(c.startswith("auth=") and "HttpOnly" in c and "SameSite=Strict" in c for c in cookie)
    assert client.get("/account").status_code == 200
    old_cookie = auth_cookie(client)
    assert count(session, LoginSession) == 1
    assert post_form(client, "/logout").status_code == 302
    assert auth_cookie(client) is None
    assert count(session, LoginSession) == 0
    # The old cookie no longer opens anything.
    client.set_cookie("auth", old_cookie or "")
    assert client.get("/account").status_code == 302


def test_wrong_codename_gets_one_answer(app: Flask, client: FlaskClient, session: Session) -> None:
    _, codename = make_member(app, session)
    words = codename.split()
    answers = []
    swapped = " ".join([*words[:-1], "zebra" if words[-1] != "zebra" else "apple"])
    for typed in (
        swapped,
        " ".join(reversed(words)),
        "apple banana grape zebra yo-yo t-shirt felt-tip",
    ):
        response = login_member(client, typed)
        assert response.status_code == 401
        page = response.get_data(as_text=True)
        answers.append(re.sub(r'value="[^"]*"', "", page))
        assert typed.strip() not in page
    assert len(set(answers)) == 1


def test_idle_sessions_expire(
    app: Flask, client: FlaskClient, session: Session, clock: Clock
) -> None:
    _, codename = make_member(app, session)
    login_member(client, codename)
    clock.advance(minutes=29)
    assert client.get("/account").status_code == 200
    clock.advance(minutes=29)
    assert client.get("/account").status_code == 200
    clock.advance(minutes=31)
    response = client.get("/account")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    assert auth_cookie(client) is None
    follow = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your session ended" in follow


def test_tampered_session_cookie(app: Flask, client: FlaskClient, session: Session) -> None:
    _, codename = make_member(app, session)
    login_member(client, codename)
    cookie = auth_cookie(client) or ""
    client.set_cookie("auth", cookie[:-3] + ("AAA" if not cookie.endswith("AAA") else "BBB"))
    response = client.get("/account")
    assert response.status_code == 302  # the key no longer opens the row: signed out
    client.set_cookie("auth", "not-a-session-cookie")
    response = client.get("/take-part")
    assert response.status_code == 400
    assert "sign-in cookie that is not valid" in response.get_data(as_text=True)
    assert auth_cookie(client) is None


def test_staff_login_with_totp(
    app: Flask, client: FlaskClient, session: Session, clock: Clock
) -> None:
    staff = make_staff(app, session)
    response = login_staff(client, app, staff)
    assert response.status_code == 302
    assert "coordinator" in client.get("/account").get_data(as_text=True)


def test_reused_and_wrong_totp_codes_are_refused(
    app: Flask, client: FlaskClient, session: Session, clock: Clock
) -> None:
    staff = make_staff(app, session)
    code = staff.code(clock.now)
    data = {"username": staff.username, "passphrase": staff.passphrase, "code": code}
    assert post_form(client, "/staff/login", data, form_page="/staff/login").status_code == 302
    client.delete_cookie("auth")
    reused = post_form(client, "/staff/login", data, form_page="/staff/login")
    assert reused.status_code == 401
    assert "Each code works only once" in reused.get_data(as_text=True)
    wrong = post_form(client, "/staff/login", {**data, "code": "12345x"}, form_page="/staff/login")
    assert wrong.status_code == 401
    assert count(session, LoginSession) == 1


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/login", {"codename": "a " * 200}),
        ("/staff/login", {"username": "u" * 65, "passphrase": "p" * 20, "code": "123456"}),
        ("/staff/login", {"username": "amina", "passphrase": "p" * 1025, "code": "123456"}),
        # The code field takes a recovery code too (19 characters with its dashes).
        ("/staff/login", {"username": "amina", "passphrase": "p" * 20, "code": "1" * 33}),
        ("/login", {"codename": "<script>alert(1)</script>"}),
        ("/login", {}),
    ],
)
def test_bad_input_is_refused_with_a_message(
    client: FlaskClient, session: Session, path: str, data: dict[str, str]
) -> None:
    response = post_form(client, path, data, form_page=path)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'class="errors"' in page
    assert "<script>alert" not in page
    assert count(session, LoginSession) == 0


def test_missing_csrf_token_writes_nothing(client: FlaskClient, session: Session) -> None:
    client.get("/join")
    response = client.post("/join", data={})
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)
    forged = client.post("/join", data={"csrf_token": "forged"})
    assert forged.status_code == 400
    assert count(session, Account) == 0


def test_invalid_utf8_and_nul_are_refused(client: FlaskClient, session: Session) -> None:
    token = csrf_token(client, "/join")
    for body in (b"codename=%FF%FEabc", b"codename=abc%00def"):
        response = client.post(
            "/login",
            data=b"csrf_token=" + token.encode() + b"&" + body,
            content_type="application/x-www-form-urlencoded",
        )
        assert response.status_code == 400
        assert "could not be read" in response.get_data(as_text=True)
    assert client.get("/?q=%FF").status_code == 400
    boundary = "b0undary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="codename"\r\n\r\n'
        ).encode()
        + b"apple \xff\xfe pear\r\n"
        + f"--{boundary}--\r\n".encode()
    )
    multipart = client.post(
        "/login", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )
    assert multipart.status_code == 400
    assert "could not be read" in multipart.get_data(as_text=True)
    assert count(session, LoginSession) == 0


def test_oversized_request_is_refused(client: FlaskClient, settings: Settings) -> None:
    token = csrf_token(client)
    response = client.post(
        "/login", data={"csrf_token": token, "codename": "a" * (settings.max_request_bytes + 1)}
    )
    assert response.status_code == 413
    assert "larger than this site accepts" in response.get_data(as_text=True)


def test_logins_are_throttled(app_with: Callable[..., Flask]) -> None:
    client = app_with(login_rate_limit="3 per minute").test_client()
    for _ in range(3):
        assert post_form(client, "/login", {"codename": "wrong words here"}).status_code == 400
    response = post_form(
        client, "/login", {"codename": "apple banana grape zebra yo-yo t-shirt felt-tip"}
    )
    assert response.status_code == 429
    assert "try again in 1 minute" in response.get_data(as_text=True)
    # The limit is shared by every kind of login.
    assert (
        post_form(client, "/staff/login", {"username": "x"}, form_page="/staff/login").status_code
        == 429
    )
    # Joining guesses nothing: it has budgets of its own (tests/statements/test_limits.py).
    assert post_form(client, "/join", form_page="/join").status_code == 201
    # Reading the pages is not throttled.
    assert client.get("/login").status_code == 200


def test_member_pages_need_the_right_role(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    assert client.get("/admin/accounts").status_code == 302
    _, codename = make_member(app, session)
    login_member(client, codename)
    assert client.get("/admin/accounts").status_code == 403
    response = post_form(client, "/account/passphrase", {"current": "x"})
    assert response.status_code == 403


def test_admin_invites_a_coordinator_who_enrols(
    app: Flask, client: FlaskClient, session: Session, clock: Clock
) -> None:
    admin = make_staff(app, session, "root", Role.ADMIN)
    login_staff(client, app, admin)
    response = post_form(
        client,
        "/admin/accounts",
        {"username": "Nadia", "role": "coordinator"},
        form_page="/admin/accounts",
    )
    assert response.status_code == 201
    assert 'value="Nadia"' not in response.get_data(as_text=True)  # a fresh form follows
    link = re.search(r"http://localhost/enrol/([A-Za-z0-9_-]+)", response.get_data(as_text=True))
    assert link
    duplicate = post_form(
        client,
        "/admin/accounts",
        {"username": "nadia", "role": "admin"},
        form_page="/admin/accounts",
    )
    assert duplicate.status_code == 409

    newcomer = app.test_client()
    enrol_page = newcomer.get(f"/enrol/{link.group(1)}")
    page = enrol_page.get_data(as_text=True)
    assert enrol_page.status_code == 200
    assert "<svg" in page
    assert "<script" not in page
    secret = re.search(r'name="totp_secret" type="hidden" value="([A-Z2-7]+)"', page)
    assert secret
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token
    form = {
        "csrf_token": token.group(1),
        "totp_secret": secret.group(1),
        "passphrase": "password1234",
        "confirm": "password1234",
        "code": pyotp.TOTP(secret.group(1)).at(clock.now),
    }
    weak = newcomer.post(f"/enrol/{link.group(1)}", data=form)
    assert weak.status_code == 400
    assert "too common" in weak.get_data(as_text=True)
    form.update(passphrase=STRONG_PASSPHRASE, confirm=STRONG_PASSPHRASE)
    done = newcomer.post(f"/enrol/{link.group(1)}", data=form)
    # Signed in on a page that shows the recovery codes, once.
    assert done.status_code == 201
    assert "Your recovery codes" in done.get_data(as_text=True)
    assert "nadia" in newcomer.get("/account").get_data(as_text=True)
    assert newcomer.get(f"/enrol/{link.group(1)}").status_code == 404


def test_admin_disables_an_account(app: Flask, client: FlaskClient, session: Session) -> None:
    admin = make_staff(app, session, "root", Role.ADMIN)
    member, codename = make_member(app, session)
    member_client = app.test_client()
    login_member(member_client, codename)
    login_staff(client, app, admin)
    response = post_form(
        client,
        f"/admin/accounts/{member.id}/disabled",
        {"disabled": "1"},
        form_page="/admin/accounts",
    )
    assert response.status_code == 302
    assert member_client.get("/account").status_code == 302
    assert login_member(member_client, codename).status_code == 403
    missing = post_form(
        client, "/admin/accounts/nope/disabled", {"disabled": "1"}, form_page="/admin/accounts"
    )
    assert missing.status_code == 404
    itself = post_form(
        client,
        f"/admin/accounts/{admin.account_id}/disabled",
        {"disabled": "1"},
        form_page="/admin/accounts",
    )
    assert itself.status_code == 409


def test_passphrase_change_through_the_page(
    app: Flask, client: FlaskClient, session: Session, clock: Clock
) -> None:
    staff = make_staff(app, session)
    other = app.test_client()
    login_staff(other, app, staff)
    login_staff(client, app, staff)
    new = "another quite unusual phrase"
    response = post_form(
        client,
        "/account/passphrase",
        {
            "current": staff.passphrase,
            "passphrase": new,
            "confirm": new,
            "code": staff.code(clock.now),
        },
        form_page="/account",
    )
    assert response.status_code == 302
    assert client.get("/account").status_code == 200
    assert other.get("/account").status_code == 302
    mismatch = post_form(
        client,
        "/account/passphrase",
        {"current": new, "passphrase": "x" * 20, "confirm": "y" * 20, "code": "123456"},
        form_page="/account",
    )
    assert mismatch.status_code == 400
    assert "The two passphrases differ" in mismatch.get_data(as_text=True)


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/x",
        "/%09/evil.example",
        "/%0d%0aSet-Cookie:x=y",
        "/%5Cevil.example",
        "https://evil.example/",
        "/%20/evil.example",
    ],
)
def test_next_only_stays_on_this_site(
    app: Flask, client: FlaskClient, session: Session, target: str
) -> None:
    _, codename = make_member(app, session)
    response = post_form(client, f"/login?next={target}", {"codename": codename})
    assert response.status_code == 302
    assert response.headers["Location"] == "/rooms"
    joined = post_form(client, f"/join?next={target}", form_page="/join")
    assert joined.status_code == 201
    assert 'name="next" type="hidden" value="/rooms"' in joined.get_data(as_text=True)


def test_next_follows_a_path_on_this_site(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    _, codename = make_member(app, session)
    response = post_form(client, "/login?next=/account%3Ftab%3D1", {"codename": codename})
    assert response.headers["Location"] == "/account?tab=1"


def test_a_new_sign_in_replaces_the_old_session_and_csrf_seed(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    _, first = make_member(app, session)
    _, second = make_member(app, session)

    def seed() -> str | None:
        cookie = client.get_cookie("csrf")
        return cookie.value if cookie else None

    csrf_token(client)
    before = seed()
    assert before
    login_member(client, first)
    assert seed() != before
    assert count(session, LoginSession) == 1
    login_member(client, second)
    assert count(session, LoginSession) == 1
    csrf_token(client, "/account")
    signed_in = seed()
    assert signed_in
    post_form(client, "/logout", form_page="/account")
    assert seed() != signed_in


def test_nul_in_a_path_parameter_is_refused(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    admin = make_staff(app, session, "root", Role.ADMIN)
    login_staff(client, app, admin)
    for path in ("/admin/accounts/%00/disabled", "/admin/accounts/a%00b/enrolment"):
        response = post_form(client, path, {"disabled": "1"}, form_page="/admin/accounts")
        assert response.status_code == 400
    assert client.get("/admin/accounts?page=%C2%B2").status_code == 200
    assert client.get("/admin/accounts?page=999999999999").status_code == 200


def test_sign_out_everywhere_else(app: Flask, client: FlaskClient, session: Session) -> None:
    _, codename = make_member(app, session)
    elsewhere = app.test_client()
    login_member(elsewhere, codename)
    login_member(client, codename)
    response = post_form(client, "/account/sessions", form_page="/account")
    assert response.status_code == 302
    assert client.get("/account").status_code == 200
    assert elsewhere.get("/account").status_code == 302
    # The ended session's row is deleted when it is next presented.
    assert count(session, LoginSession) == 1
