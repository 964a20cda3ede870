"""The auth service on its own: accounts, login, TOTP, sessions."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import timedelta

import pyotp
import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crypto.kdf import KdfParams
from statements.auth import codename as codenames
from statements.auth import service
from statements.auth.errors import (
    AccountDisabled,
    EnrolmentInvalid,
    InvalidUsername,
    LastAdmin,
    LoginFailed,
    SessionEnded,
    TotpInvalid,
    UsernameTaken,
    WeakPassphrase,
)
from statements.encoding import unb64url
from statements.models import Account, LoginSession, Role
from tests.conftest import Clock
from tests.support import STRONG_PASSPHRASE, make_member, make_staff


@pytest.fixture
def config(app: Flask) -> service.AuthConfig:
    return app.extensions["auth"]


def test_codenames_have_seven_words_from_the_eff_list() -> None:
    words = codenames.generate().split(" ")
    assert len(words) == 7
    assert set(words) <= set(codenames.wordlist())
    assert codenames.generate() != codenames.generate()


def test_member_logs_in_by_codename_alone(
    app: Flask, session: Session, config: service.AuthConfig
) -> None:
    account, codename = make_member(app, session)
    found, keys = service.login_member(session, config, codename.upper().replace(" ", "  "))
    assert found.id == account.id
    assert len(keys.private_key) == len(keys.author_secret) == 32


def test_unknown_and_mistyped_codenames_fail_alike(
    app: Flask, session: Session, config: service.AuthConfig
) -> None:
    _account, codename = make_member(app, session)
    words = codename.split()
    mistyped = " ".join([*words[:-1], "zebra" if words[-1] != "zebra" else "apple"])
    errors = []
    for typed in (mistyped, codenames.generate(), " ".join(reversed(words))):
        with pytest.raises(LoginFailed) as caught:
            service.login_member(session, config, typed)
        errors.append((type(caught.value), caught.value.args))
    assert len(set(errors)) == 1


def test_disabled_member_cannot_log_in(
    app: Flask, session: Session, config: service.AuthConfig
) -> None:
    account, codename = make_member(app, session)
    account.disabled = True
    session.flush()
    with pytest.raises(AccountDisabled):
        service.login_member(session, config, codename)


def test_kdf_parameters_are_raised_at_next_login(
    app: Flask, session: Session, config: service.AuthConfig
) -> None:
    account, codename = make_member(app, session)
    stronger = replace(config, kdf=KdfParams(memory_kib=16, iterations=2, lanes=1))
    _, keys = service.login_member(session, stronger, codename)
    assert KdfParams.from_json(account.kdf_params or "") == stronger.kdf
    _, again = service.login_member(session, stronger, codename)
    assert again == keys
    # Lowering the setting later does not weaken the account.
    service.login_member(session, config, codename)
    assert KdfParams.from_json(account.kdf_params or "") == stronger.kdf


def test_staff_enrolment_and_login(
    app: Flask, session: Session, config: service.AuthConfig, clock: Clock
) -> None:
    staff = make_staff(app, session, "Amina", Role.COORDINATOR)
    assert staff.username == "amina"
    account, _ = service.login_staff(
        session, config, "AMINA", staff.passphrase, staff.code(clock.now), clock.now
    )
    assert account.role == Role.COORDINATOR


def test_a_totp_code_works_only_once(
    app: Flask, session: Session, config: service.AuthConfig, clock: Clock
) -> None:
    staff = make_staff(app, session)
    code = staff.code(clock.now)
    service.login_staff(session, config, staff.username, staff.passphrase, code, clock.now)
    with pytest.raises(LoginFailed):
        service.login_staff(session, config, staff.username, staff.passphrase, code, clock.now)
    # An older code, still inside the drift window, is refused too once a newer one was used.
    earlier = staff.code(clock.now - timedelta(seconds=30))
    with pytest.raises(LoginFailed):
        service.login_staff(session, config, staff.username, staff.passphrase, earlier, clock.now)
    later = clock.now + timedelta(seconds=30)
    service.login_staff(session, config, staff.username, staff.passphrase, staff.code(later), later)


def test_two_requests_racing_with_one_code_cannot_both_sign_in(
    app: Flask, session: Session, config: service.AuthConfig, clock: Clock
) -> None:
    staff = make_staff(app, session)
    code = staff.code(clock.now)
    # The second request read the account before the first one recorded the code.
    racing = app.extensions["db"].sessionmaker()
    try:
        # Held, so the racing session keeps the state it read (its identity map is weak).
        stale = racing.get(Account, staff.account_id)
        assert stale is not None
        service.login_staff(session, config, staff.username, staff.passphrase, code, clock.now)
        session.commit()
        with pytest.raises(LoginFailed):
            service.login_staff(racing, config, staff.username, staff.passphrase, code, clock.now)
    finally:
        racing.rollback()
        racing.close()


@pytest.mark.parametrize("field", ["username", "passphrase", "code"])
def test_wrong_staff_credentials_fail_alike(
    app: Flask, session: Session, config: service.AuthConfig, clock: Clock, field: str
) -> None:
    staff = make_staff(app, session)
    good = {
        "username": staff.username,
        "passphrase": staff.passphrase,
        "code": staff.code(clock.now),
    }
    wrong = {"username": "nobody", "passphrase": "not the passphrase at all", "code": "000000"}
    if good["code"] == "000000":
        wrong["code"] = "111111"
    args = {**good, field: wrong[field]}
    with pytest.raises(LoginFailed):
        service.login_staff(
            session, config, args["username"], args["passphrase"], args["code"], clock.now
        )


def test_disabled_staff_cannot_log_in(
    app: Flask, session: Session, config: service.AuthConfig, clock: Clock
) -> None:
    staff = make_staff(app, session)
    session.get(Account, staff.account_id).disabled = True  # type: ignore[union-attr]
    with pytest.raises(AccountDisabled):
        service.login_staff(
            session, config, staff.username, staff.passphrase, staff.code(clock.now), clock.now
        )


@pytest.mark.parametrize(
    ("passphrase", "reason"),
    [("short", "too_short"), ("password1234", "too_common"), ("x" * 1025, "too_long")],
)
def test_weak_passphrases_are_refused(passphrase: str, reason: str) -> None:
    with pytest.raises(WeakPassphrase) as caught:
        service.check_passphrase(passphrase, "amina")
    assert caught.value.reason == reason


def test_passphrase_containing_the_username_is_refused() -> None:
    with pytest.raises(WeakPassphrase):
        service.check_passphrase("amina12345678", "amina")


def test_enrolment_rules(
    app: Flask, session: Session, config: service.AuthConfig, clock: Clock
) -> None:
    account, token = service.invite_staff(session, "sami", Role.COORDINATOR, clock.now)
    secret = service.new_totp_secret()
    with pytest.raises(TotpInvalid):
        service.complete_enrolment(
            session,
            config,
            token,
            STRONG_PASSPHRASE,
            secret,
            "000000" if pyotp.TOTP(secret).at(clock.now) != "000000" else "111111",
            clock.now,
        )
    with pytest.raises(WeakPassphrase):
        service.complete_enrolment(
            session,
            config,
            token,
            "password1234",
            secret,
            pyotp.TOTP(secret).at(clock.now),
            clock.now,
        )
    with pytest.raises(EnrolmentInvalid):
        service.complete_enrolment(
            session,
            config,
            "not-a-token",
            STRONG_PASSPHRASE,
            secret,
            pyotp.TOTP(secret).at(clock.now),
            clock.now,
        )
    later = clock.now + timedelta(days=8)
    with pytest.raises(EnrolmentInvalid):
        service.enrolment_account(session, token, later)
    service.complete_enrolment(
        session,
        config,
        token,
        STRONG_PASSPHRASE,
        secret,
        pyotp.TOTP(secret).at(clock.now),
        clock.now,
    )
    assert account.enrolled
    with pytest.raises(EnrolmentInvalid):
        service.enrolment_account(session, token, clock.now)


def test_usernames_are_unique_and_well_formed(session: Session, clock: Clock) -> None:
    service.invite_staff(session, "sami", Role.COORDINATOR, clock.now)
    with pytest.raises(UsernameTaken):
        service.invite_staff(session, "SAMI", Role.ADMIN, clock.now)
    for bad in ("ab", "has space", "x" * 33, "<script>", "ünï"):
        with pytest.raises(InvalidUsername):
            service.invite_staff(session, bad, Role.COORDINATOR, clock.now)


def test_passphrase_change_ends_other_sessions_and_keeps_keys(
    app: Flask, session: Session, config: service.AuthConfig, clock: Clock
) -> None:
    staff = make_staff(app, session)
    account, keys = service.login_staff(
        session, config, staff.username, staff.passphrase, staff.code(clock.now), clock.now
    )
    mine = service.start_session(session, config, account, keys, clock.now)
    other = service.start_session(session, config, account, keys, clock.now)
    identity = service.resume_session(session, config, mine, clock.now)
    clock.advance(seconds=30)
    new = "a completely different set of words"
    service.change_passphrase(
        session, config, identity, staff.passphrase, new, staff.code(clock.now), clock.now
    )
    assert service.resume_session(session, config, mine, clock.now).keys == keys
    with pytest.raises(SessionEnded):
        service.resume_session(session, config, other, clock.now)
    clock.advance(seconds=30)
    with pytest.raises(LoginFailed):
        service.login_staff(
            session, config, staff.username, staff.passphrase, staff.code(clock.now), clock.now
        )
    _, unlocked = service.login_staff(
        session, config, staff.username, new, staff.code(clock.now), clock.now
    )
    assert unlocked == keys


def test_sessions_expire_when_idle_and_are_extended_by_use(
    app: Flask, session: Session, config: service.AuthConfig, clock: Clock
) -> None:
    account, codename = make_member(app, session)
    _, keys = service.login_member(session, config, codename)
    cookie = service.start_session(session, config, account, keys, clock.now)
    clock.advance(minutes=config.idle_minutes - 1)
    identity = service.resume_session(session, config, cookie, clock.now)
    assert identity.account.id == account.id
    # Each use renews the cookie's last-activity minute; the database is not written.
    renewed = service.activity_cookie(config, identity, clock.now)
    assert renewed is not None
    assert renewed != cookie
    clock.advance(minutes=config.idle_minutes - 1)
    assert service.resume_session(session, config, renewed, clock.now).keys == keys
    # The cookie as it was before that use has gone idle.
    with pytest.raises(SessionEnded):
        service.resume_session(session, config, cookie, clock.now)
    assert session.scalar(select(func.count()).select_from(LoginSession)) == 0


def test_a_session_ends_at_its_lifetime_however_active(
    app: Flask, session: Session, config: service.AuthConfig, clock: Clock
) -> None:
    account, codename = make_member(app, session)
    _, keys = service.login_member(session, config, codename)
    cookie = service.start_session(session, config, account, keys, clock.now)
    start = clock.now
    for _ in range((config.max_hours + 1) * 60 // (config.idle_minutes - 1) + 2):
        clock.advance(minutes=config.idle_minutes - 1)
        try:
            identity = service.resume_session(session, config, cookie, clock.now)
        except SessionEnded:
            break
        cookie = service.activity_cookie(config, identity, clock.now) or cookie
    else:
        pytest.fail("the session outlived its lifetime")
    assert timedelta(hours=config.max_hours) <= clock.now - start
    assert clock.now - start < timedelta(hours=config.max_hours + 2)


def test_the_last_activity_in_the_cookie_cannot_be_forged(
    app: Flask, session: Session, config: service.AuthConfig, clock: Clock
) -> None:
    account, codename = make_member(app, session)
    _, keys = service.login_member(session, config, codename)
    cookie = service.start_session(session, config, account, keys, clock.now)
    clock.advance(minutes=config.idle_minutes + 5)
    session_id, key, _minute, mac = cookie.split(".")
    fresh = str(int(clock.now.timestamp() // 60))
    with pytest.raises(SessionEnded):
        service.resume_session(session, config, f"{session_id}.{key}.{fresh}.{mac}", clock.now)


def test_resuming_a_session_writes_nothing(
    app: Flask, session: Session, config: service.AuthConfig, clock: Clock
) -> None:
    account, codename = make_member(app, session)
    _, keys = service.login_member(session, config, codename)
    cookie = service.start_session(session, config, account, keys, clock.now)
    session.commit()
    row = session.get(LoginSession, hashlib.sha256(unb64url(cookie.split(".")[0])).digest())
    assert row is not None
    before = (row.sealed, row.expires_at)
    clock.advance(minutes=5)
    service.resume_session(session, config, cookie, clock.now)
    assert not session.dirty
    assert not session.new
    assert not session.deleted
    session.flush()
    session.refresh(row)
    assert (row.sealed, row.expires_at) == before


def test_session_cookie_halves_are_both_needed(
    app: Flask, session: Session, config: service.AuthConfig, clock: Clock
) -> None:
    account, codename = make_member(app, session)
    _, keys = service.login_member(session, config, codename)
    cookie = service.start_session(session, config, account, keys, clock.now)
    other = service.start_session(session, config, account, keys, clock.now)
    session_id, _key, minute, mac = cookie.split(".")
    _other_id, other_key, _minute, _mac = other.split(".")
    with pytest.raises(SessionEnded):
        service.resume_session(
            session, config, f"{session_id}.{other_key}.{minute}.{mac}", clock.now
        )
    for malformed in ("", "abc", "a.b.c", f"{session_id}.", "!!!.???", f"{session_id}.{_key}"):
        with pytest.raises(service.MalformedSessionCookie):
            service.resume_session(session, config, malformed, clock.now)


def test_disabling_ends_sessions_and_keeps_one_admin(
    app: Flask, session: Session, config: service.AuthConfig, clock: Clock
) -> None:
    admin = make_staff(app, session, "root", Role.ADMIN)
    admin_account = session.get(Account, admin.account_id)
    assert admin_account is not None
    member, codename = make_member(app, session)
    _, keys = service.login_member(session, config, codename)
    cookie = service.start_session(session, config, member, keys, clock.now)
    service.set_disabled(session, admin_account, member.id, True)
    with pytest.raises(SessionEnded):
        service.resume_session(session, config, cookie, clock.now)
    with pytest.raises(LastAdmin):
        service.set_disabled(session, admin_account, admin_account.id, True)
    second = make_staff(app, session, "second", Role.ADMIN)
    with pytest.raises(LastAdmin):
        service.set_disabled(session, admin_account, admin_account.id, True)
    service.set_disabled(session, admin_account, second.account_id, True)
    with pytest.raises(LastAdmin):
        service.set_disabled(
            session, session.get(Account, second.account_id), admin_account.id, True
        )  # type: ignore[arg-type]


def test_expired_sessions_are_purged_when_someone_signs_in(
    app: Flask, session: Session, config: service.AuthConfig, clock: Clock
) -> None:
    account, codename = make_member(app, session)
    _, keys = service.login_member(session, config, codename)
    for _ in range(3):
        service.start_session(session, config, account, keys, clock.now)
    clock.advance(hours=config.max_hours + 1)
    service.start_session(session, config, account, keys, clock.now)
    assert session.scalar(select(func.count()).select_from(LoginSession)) == 1
