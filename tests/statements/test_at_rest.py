"""A1 at rest: a full copy of the database holds no secret in the clear."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pyotp
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import MetaData, func, select
from sqlalchemy.orm import Session

from crypto.kdf import KdfParams, derive_master_key
from statements.auth import service
from statements.models import Account, Role
from statements.settings import Settings
from tests.conftest import Clock
from tests.support import (
    STRONG_PASSPHRASE,
    dump_database,
    login_member,
    login_staff,
    make_staff,
    post_form,
)


def _forms(secret: bytes) -> list[bytes]:
    """A secret and the encodings it could be stored in."""
    return [
        secret,
        secret.hex().encode(),
        base64.b64encode(secret),
        base64.urlsafe_b64encode(secret).rstrip(b"="),
        base64.b32encode(secret).rstrip(b"="),
    ]


def test_no_secret_is_readable_at_rest(
    app: Flask, client: FlaskClient, session: Session, settings: Settings, clock: Clock
) -> None:
    admin = make_staff(app, session, "root", Role.ADMIN)
    assert login_staff(client, app, admin).status_code == 302

    codenames = []
    for _ in range(3):
        member = app.test_client()
        page = post_form(member, "/join", form_page="/join").get_data(as_text=True)
        found = re.search(r'<p class="codename"[^>]*>([a-z -]+)</p>', page)
        assert found
        codenames.append(found.group(1))
        member.delete_cookie("auth")
        assert login_member(member, found.group(1)).status_code == 302

    config: service.AuthConfig = app.extensions["auth"]
    secrets: list[bytes] = [
        STRONG_PASSPHRASE.encode(),
        admin.totp_secret.encode(),
        base64.b32decode(admin.totp_secret),
        settings.lookup_pepper,
        settings.secret_key.encode(),
    ]
    for codename in codenames:
        secrets.append(codename.encode())
        _, keys = service.login_member(session, config, codename)
        secrets += [keys.private_key, keys.author_secret]
    session.rollback()
    admin_row = session.get(Account, admin.account_id)
    assert admin_row is not None
    assert admin_row.kdf_salt
    assert admin_row.kdf_params
    secrets.append(
        derive_master_key(
            STRONG_PASSPHRASE.encode(),
            admin_row.kdf_salt,
            KdfParams.from_json(admin_row.kdf_params),
        )
    )
    _, admin_keys = service.login_staff(
        session,
        config,
        admin.username,
        admin.passphrase,
        pyotp.TOTP(admin.totp_secret).at(clock.now),
        clock.now,
    )
    session.rollback()
    secrets += [admin_keys.private_key, admin_keys.author_secret]

    values = dump_database(session)
    assert values
    blob = b"\x00".join(values)
    # Positive control: what is meant to be stored in the clear is found.
    assert admin_row.public_key
    assert admin_row.public_key in blob
    assert b"root" in blob
    for secret in secrets:
        for form in _forms(secret):
            assert form not in blob
    # Neither the address the requests came from nor any user agent is kept.
    assert b"127.0.0.1" not in blob
    assert b"werkzeug" not in blob.lower()

    # On SQLite, the file itself (free pages and the write-ahead log included).
    if settings.database_url.startswith("sqlite:///"):
        path = Path(settings.database_url.removeprefix("sqlite:///"))
        raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
        assert admin_row.public_key in raw
        for secret in secrets:
            for form in _forms(secret):
                assert form not in raw


def test_login_sessions_do_not_say_whose_they_are(
    app: Flask, session: Session, clock: Clock
) -> None:
    for _ in range(2):
        client = app.test_client()
        page = post_form(client, "/join", form_page="/join").get_data(as_text=True)
        assert "codename" in page
    staff = make_staff(app, session)
    login_staff(app.test_client(), app, staff)

    metadata = MetaData()
    metadata.reflect(bind=session.connection())
    table = metadata.tables["login_sessions"]
    assert set(table.columns.keys()) == {"id_hash", "sealed", "expires_at"}
    assert not table.foreign_keys
    rows = list(session.execute(select(table)))
    assert len(rows) == 3
    accounts = list(session.scalars(select(Account.id)))
    for row in rows:
        for account_id in accounts:
            assert account_id.encode() not in bytes(row.sealed)
            assert account_id.encode() not in bytes(row.id_hash)


def test_discussion_is_unreadable_at_rest_and_names_nobody(
    app: Flask, session: Session, settings: Settings
) -> None:
    """Replies, resolutions, questions to authors and their answers: ciphertexts keyed by
    random ids, with no account, no day and no time; a hidden reply's words are destroyed."""
    import glob

    from statements.models import AuthorMessage, Contribution, Reply
    from tests.support import csrf_token, make_room, signed_in_member, signed_in_staff

    coordinator, coordinator_client = signed_in_staff(app, session)
    room_id = make_room(session, coordinator)
    session.commit()
    author, author_client = signed_in_member(app, session, coordinator, room_id)
    other, other_client = signed_in_member(app, session, coordinator, room_id)

    def post(client: FlaskClient, path: str, data: dict[str, str]) -> None:
        token = csrf_token(client, f"/rooms/{room_id}")
        assert client.post(path, data={"csrf_token": token, **data}).status_code == 302

    words = {
        "contribution": "Refugees in Mae Sot need permits.",
        "reply": "My cousin at the Mae Sot clinic says otherwise.",
        "secretariat": "The secretariat checked the clinic figures.",
        "summary": "Settled with the clinic figures.",
        "question": "Which clinic did you mean?",
        "answer": "The one near the market.",
    }
    post(
        author_client, f"/rooms/{room_id}/contribute?kind=comment", {"text": words["contribution"]}
    )
    session.commit()
    [cid] = session.scalars(select(Contribution.id).where(Contribution.room_id == room_id))
    base = f"/rooms/{room_id}/contributions/{cid}"
    post(other_client, f"{base}/replies", {"text": words["reply"]})
    post(coordinator_client, f"{base}/replies", {"text": words["secretariat"]})
    post(coordinator_client, f"{base}/resolve", {"summary": words["summary"]})
    post(coordinator_client, f"{base}/ask", {"question": words["question"]})
    session.commit()
    [message_id] = session.scalars(select(AuthorMessage.id))
    post(
        author_client,
        f"/rooms/{room_id}/questions/{message_id}/answer",
        {"answer": words["answer"]},
    )

    session.commit()
    tables = ("replies", "reply_flags", "thread_resolutions", "author_messages", "author_answers")
    metadata = MetaData()
    metadata.reflect(bind=session.connection())
    accounts = [str(a) for a in session.scalars(select(Account.id))]
    for name in tables:
        table = metadata.tables[name]
        # No account, no day, no time: nothing to link a row to a person or a moment.
        assert not [key for key in table.foreign_keys if key.column.table.name == "accounts"]
        assert not [c for c in table.columns if "date" in str(c.type).lower()]
        assert not [c for c in table.columns if "time" in str(c.type).lower()]
        for row in session.execute(select(table)):
            for value in row:
                raw = bytes(value) if isinstance(value, bytes) else str(value).encode()
                for account_id in accounts:
                    assert account_id.encode() not in raw
    assert session.scalar(select(func.count()).select_from(Reply)) == 2

    blob = b"\x00".join(dump_database(session))
    for text in words.values():
        assert text.encode() not in blob
    for who in (author, other, coordinator):
        for secret in (who.keys.author_secret, who.keys.private_key):
            for form in _forms(secret):
                assert form not in blob

    # Hidden: the reply's ciphertext itself is overwritten, in the rows and in the files.
    reply = session.scalars(select(Reply).where(Reply.secretariat.is_(False))).one()
    fragment = bytes(reply.content)[:48]
    assert fragment in blob
    session.commit()
    post(coordinator_client, f"/rooms/{room_id}/replies/{reply.id}/moderate", {"action": "hide"})
    session.expire_all()
    assert fragment not in b"\x00".join(dump_database(session))
    if settings.database_url.startswith("sqlite:///"):
        session.close()
        path = settings.database_url.removeprefix("sqlite:///")
        raw = b"".join(Path(name).read_bytes() for name in glob.glob(path + "*"))
        assert fragment not in raw
        for text in words.values():
            assert text.encode() not in raw
