"""Small typed builders and HTTP helpers shared by the tests."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pyotp
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from statements.auth import service
from statements.models import Account, Role

STRONG_PASSPHRASE = "lantern orchard pebble compass meadow"
_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')

# The clock the running test's app reads, set by the clock fixtures: the day a test hands
# the services is then the day its app sees, also in a run that crosses midnight.
_TEST_CLOCK: list[Callable[[], datetime]] = []


def use_clock(clock: Callable[[], datetime] | None) -> None:
    """Make clock the one app_today reads (None: the real time, UTC)."""
    _TEST_CLOCK.clear()
    if clock is not None:
        _TEST_CLOCK.append(clock)


def app_now() -> datetime:
    """The time the running test's app sees (UTC)."""
    return _TEST_CLOCK[0]() if _TEST_CLOCK else datetime.now(UTC)


def app_today() -> date:
    """Today as the running test's app sees it: its clock's day, UTC."""
    return app_now().date()


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token from a page's form."""
    page = client.get(path)
    match = _CSRF.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def post_form(
    client: FlaskClient, path: str, data: dict[str, Any] | None = None, *, form_page: str = "/login"
) -> TestResponse:
    """POST a form with a valid CSRF token, as a browser would after loading the page."""
    return client.post(path, data={"csrf_token": csrf_token(client, form_page), **(data or {})})


@dataclass(frozen=True)
class Staff:
    """What a coordinator or admin knows: enough to sign in."""

    account_id: str
    username: str
    passphrase: str
    totp_secret: str

    def code(self, at: datetime) -> str:
        """The TOTP code at a moment."""
        return pyotp.TOTP(self.totp_secret).at(at)


def make_staff(
    app: Flask,
    session: Session,
    username: str = "coordinator",
    role: Role = Role.COORDINATOR,
    passphrase: str = STRONG_PASSPHRASE,
) -> Staff:
    """An enrolled coordinator or admin. Enrolled ten minutes ago, so codes are fresh."""
    config: service.AuthConfig = app.extensions["auth"]
    enrolled_at = app.extensions["clock"]() - timedelta(minutes=10)
    account, token = service.invite_staff(session, username, role, enrolled_at)
    secret = service.new_totp_secret()
    service.complete_enrolment(
        session,
        config,
        token,
        passphrase,
        secret,
        pyotp.TOTP(secret).at(enrolled_at),
        enrolled_at,
    )
    session.commit()
    return Staff(account.id, account.username or "", passphrase, secret)


def make_member(app: Flask, session: Session) -> tuple[Account, str]:
    """A member account and its codename."""
    account, codename, _keys = service.create_member(session, app.extensions["auth"])
    session.commit()
    return account, codename


def login_member(client: FlaskClient, codename: str) -> TestResponse:
    """Sign in by codename through the login form."""
    return post_form(client, "/login", {"codename": codename})


def login_staff(client: FlaskClient, app: Flask, staff: Staff) -> TestResponse:
    """Sign in a coordinator or admin, then move the clock past the code's time step."""
    clock = app.extensions["clock"]
    response = post_form(
        client,
        "/staff/login",
        {"username": staff.username, "passphrase": staff.passphrase, "code": staff.code(clock())},
        form_page="/staff/login",
    )
    clock.advance(seconds=30)
    return response


def auth_cookie(client: FlaskClient) -> str | None:
    """The login session cookie the client holds, if any."""
    cookie = client.get_cookie("auth")
    return cookie.value if cookie else None


def member_identity(app: Flask, session: Session) -> service.Identity:
    """A new member account, unlocked as a login session would hold it."""
    account, _codename, keys = service.create_member(session, app.extensions["auth"])
    session.flush()
    return service.Identity(account, keys, session_id_hash=b"", session_key=b"")


def staff_identity(
    app: Flask, session: Session, username: str = "coordinator", role: Role = Role.COORDINATOR
) -> service.Identity:
    """A new enrolled coordinator (or admin), unlocked."""
    staff = make_staff(app, session, username, role)
    config: service.AuthConfig = app.extensions["auth"]
    clock = app.extensions["clock"]
    account, keys = service.login_staff(
        session, config, staff.username, staff.passphrase, staff.code(clock()), clock()
    )
    clock.advance(seconds=30)
    return service.Identity(account, keys, session_id_hash=b"", session_key=b"")


DRAFT = """# Joint statement on the right to work

Refugees in the region are denied the right to work.

We call on governments to grant work permits without delay.

- Recognise UNHCR documents.
- End arrests at workplaces.
"""


def make_room(
    session: Session,
    coordinator: service.Identity,
    *,
    title: str = "Right to work",
    markdown: str = DRAFT,
    today: date | None = None,
    moderation: str = "post",
    language: str = "en",
    working_languages: tuple[str, ...] = (),
) -> str:
    """A drafting room opened by coordinator; returns its id (post-moderated unless
    asked: most tests are about what members do once they see each other's words)."""
    from statements.drafting import service as drafting

    today = today or app_today()
    room = drafting.create_room(
        session,
        coordinator,
        drafting.RoomInput(
            title=title,
            language=language,
            summary="What we ask of governments.",
            markdown=markdown,
            contribution_deadline=today + timedelta(days=14),
            signon_deadline=today + timedelta(days=28),
            moderation=moderation,
            working_languages=working_languages,
        ),
        today,
    )
    session.flush()
    return room.id


def join_room(
    session: Session, coordinator: service.Identity, room_id: str, member: service.Identity
) -> None:
    """Invite a member into a room and have them accept."""
    from statements.drafting import service as drafting

    today = app_today()
    access = drafting.open_room(session, room_id, coordinator)
    _invitation, token = drafting.create_invitation(
        session, access, 1, today + timedelta(days=7), today
    )
    drafting.accept_invitation(session, token, member, today)


def open_signon(session: Session, coordinator: service.Identity, room_id: str) -> None:
    """Move a drafting room to sign-on: the text is frozen."""
    from statements.drafting import service as drafting

    today = app_today()
    access = drafting.open_room(session, room_id, coordinator)
    drafting.change_state(session, access, "consolidating", today)
    drafting.change_state(session, access, "sign-on", today)
    session.flush()


def endorse(
    session: Session,
    room_id: str,
    member: service.Identity,
    kind: str = "public",
    name: str = "",
    country: str = "",
) -> None:
    """A member signs on for an organisation."""
    from statements.drafting import service as drafting
    from statements.publishing import endorsements

    access = drafting.open_room(session, room_id, member)
    endorsements.endorse(session, access, kind, name, country, app_today())
    session.flush()


def publish_room(
    session: Session, coordinator: service.Identity, room_id: str, slug: str = "right-to-work"
) -> str:
    """Publish a room in sign-on as version 1; returns the slug."""
    from statements.drafting import service as drafting
    from statements.publishing import service as publishing

    access = drafting.open_room(session, room_id, coordinator)
    confirm_self_declared(session, access)
    publishing.publish(session, access, slug, "test.example/log", app_today())
    session.flush()
    return slug


def scheduled_statement(
    app: Flask, session: Session, coordinator: service.Identity, slug: str, at: datetime
) -> str:
    """A room whose statement, endorsed anonymously by one member, is scheduled for `at`
    (UTC); returns the room's id."""
    from statements.drafting import service as drafting
    from statements.publishing import embargo

    room_id = make_room(session, coordinator, title=slug)
    member = member_identity(app, session)
    join_room(session, coordinator, room_id, member)
    open_signon(session, coordinator, room_id)
    endorse(session, room_id, member, "anonymous")
    access = drafting.open_room(session, room_id, coordinator)
    embargo.schedule(session, access, slug, "test.example/log", at, "UTC", app_today())
    session.flush()
    return room_id


def confirm_self_declared(session: Session, access: Any) -> None:
    """A coordinator confirms every public endorsement members typed themselves."""
    from statements.publishing import endorsements, organisations

    for signatory in endorsements.sign_on(session, access, app_today()).public:
        if signatory.self_declared:
            organisations.confirm(session, access, signatory.endorsement_id)
    session.flush()


def published_statement(
    app: Flask,
    session: Session,
    *,
    members: int = 2,
    slug: str = "right-to-work",
    coordinator: service.Identity | None = None,
) -> tuple[service.Identity, str]:
    """A coordinator and a statement they published, with public and anonymous signatories."""
    coordinator = coordinator or staff_identity(app, session, f"coord-{slug}")
    room_id = make_room(session, coordinator)
    joined = []
    for _ in range(members):
        member = member_identity(app, session)
        join_room(session, coordinator, room_id, member)
        joined.append(member)
    open_signon(session, coordinator, room_id)
    endorse(session, room_id, joined[0], "public", "Refugee Rights Network", "Thailand")
    for member in joined[1:]:
        endorse(session, room_id, member, "anonymous")
    return coordinator, publish_room(session, coordinator, room_id, slug)


def dump_database(session: Session) -> list[bytes]:
    """Every value of every row of every table, as bytes, read without the models."""
    from sqlalchemy import MetaData, select

    metadata = MetaData()
    metadata.reflect(bind=session.connection())
    assert {"accounts", "login_sessions", "alembic_version"} <= set(metadata.tables)
    values: list[bytes] = []
    for table in metadata.sorted_tables:
        for row in session.execute(select(table)):
            for value in row:
                if isinstance(value, bytes | bytearray | memoryview):
                    values.append(bytes(value))
                elif value is not None:
                    values.append(str(value).encode())
    return values


@contextmanager
def fresh_schema(url: str) -> Iterator[Engine]:
    """PostgreSQL: an engine whose connections work in a new, migrated schema, with real
    commits (not the test fixture's rolled-back transaction); dropped afterwards."""
    from statements.db import make_engine, upgrade

    schema = f"own_{secrets.token_hex(6)}"
    engine = make_engine(url)

    @event.listens_for(engine, "connect")
    def _search_path(connection: Any, _record: Any) -> None:
        cursor = connection.cursor()
        cursor.execute(f"SET search_path TO {schema}")
        cursor.close()
        # Committed, or the pool's rollback on check-in would undo it on every connection
        # but the first (whose transaction the dialect's first-connect setup commits).
        connection.commit()

    with engine.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        cleanup = make_engine(url)
        with cleanup.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        cleanup.dispose()


_INVITATION_LINK = re.compile(r"http://localhost(/invitation/[A-Za-z0-9_.-]+)")


def invitation_link(
    client: FlaskClient, room_id: str, expires_on: date, uses: int = 5, label: str = ""
) -> str:
    """Create an invitation through the page, as a coordinator's browser does: the POST
    answers with a redirect, and the page it leads to shows the link once. Returns the
    link's path (/invitation/<token>)."""
    page = f"/rooms/{room_id}/invitations"
    response = client.post(
        page,
        data={
            "csrf_token": csrf_token(client, page),
            "uses": str(uses),
            "expires_on": expires_on.isoformat(),
            "label": label,
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    shown = client.get(response.headers["Location"])
    assert shown.status_code == 200
    found = _INVITATION_LINK.search(shown.get_data(as_text=True))
    assert found, "the page after the redirect shows the new link"
    return found.group(1)


def post_signed_in(
    client: FlaskClient, path: str, data: dict[str, Any] | None = None
) -> TestResponse:
    """POST as a signed-in browser would: with the CSRF token from the account page."""
    return post_form(client, path, data, form_page="/account")


def signed_in_staff(
    app: Flask, session: Session, username: str = "coordinator", role: Role = Role.COORDINATOR
) -> tuple[service.Identity, FlaskClient]:
    """An enrolled coordinator (or admin), unlocked for the services and signed in on a client."""
    staff = make_staff(app, session, username, role)
    config: service.AuthConfig = app.extensions["auth"]
    clock = app.extensions["clock"]
    account, keys = service.login_staff(
        session, config, staff.username, staff.passphrase, staff.code(clock()), clock()
    )
    clock.advance(seconds=30)
    session.commit()
    client = app.test_client()
    assert login_staff(client, app, staff).status_code == 302
    return service.Identity(account, keys, session_id_hash=b"", session_key=b""), client


def signed_in_member(
    app: Flask, session: Session, coordinator: service.Identity, room_id: str
) -> tuple[service.Identity, FlaskClient]:
    """A new member of a room, unlocked for the services and signed in on a client."""
    _account, codename = make_member(app, session)
    account, keys = service.login_member(session, app.extensions["auth"], codename)
    member = service.Identity(account, keys, session_id_hash=b"", session_key=b"")
    join_room(session, coordinator, room_id, member)
    session.commit()
    client = app.test_client()
    assert login_member(client, codename).status_code == 302
    return member, client


@contextmanager
def counting(app: Flask) -> Iterator[list[str]]:
    """The SQL statements executed inside the block."""
    bind = app.extensions["db"].sessionmaker.kw["bind"]
    engine = getattr(bind, "engine", bind)
    statements: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def verifies(session: Session, slug: str, number: int) -> bool:
    """Whether a published version's bundle verifies under the site's listed keys."""
    from crypto.bundle_checks import verify_bundle
    from crypto.bundle_reading import parse_keys
    from statements.publishing import service as publishing
    from statements.publishing import signing_keys
    from statements.publishing.public import key_records

    view = publishing.published_version(session, slug, number)
    keys = parse_keys(key_records(signing_keys.all_keys(session)))
    return verify_bundle(view.bundle, keys).valid
