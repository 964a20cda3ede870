"""The multilingual room at rest: translations and reading languages are ciphertexts,
nothing links a translation to the member who made it, and a member's choice of reading
language is an anonymous write that never shares its request's transaction."""

from __future__ import annotations

import glob
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import MetaData, func, select
from sqlalchemy.orm import Session

from crypto.errors import CryptoError
from crypto.records import RecordContext, decrypt_record
from crypto.tags import author_tag
from statements.auth.service import Identity
from statements.drafting import service as drafting
from statements.drafting.room_languages import (
    LANGUAGE_KEY,
    LANGUAGE_RECORD,
    LANGUAGE_TAG,
    reading_language,
)
from statements.models import (
    Account,
    Contribution,
    ContributionKind,
    LanguageChoice,
    LoginSession,
    SectionTranslation,
)
from statements.settings import Settings
from statements.writes import LANGUAGE_CHOICE_PUT
from tests.support import csrf_token, dump_database, make_room, signed_in_member, signed_in_staff

WORDS = "کارگران پناهنده در مای سوت مجوز کار می‌خواهند"


def _post(client: FlaskClient, path: str, page: str, data: dict[str, str]) -> int:
    token = csrf_token(client, page)
    return client.post(path, data={"csrf_token": token, **data}).status_code


def _count(session: Session, model: type) -> int:
    session.expire_all()
    session.commit()
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _choice_context(identity: Identity, room_id: str) -> tuple[bytes, bytes, RecordContext]:
    tag = author_tag(identity.keys.author_secret, LANGUAGE_TAG, room_id)
    key = author_tag(identity.keys.author_secret, LANGUAGE_KEY, room_id)
    return tag, key, RecordContext(LANGUAGE_RECORD, tag.hex(), room_id, 0)


def test_a_reading_language_waits_in_the_queue_and_its_member_sees_it_at_once(
    batching: Flask, session: Session
) -> None:
    coordinator, _coordinator_client = signed_in_staff(batching, session)
    room_id = make_room(session, coordinator, working_languages=("fa", "my"))
    session.commit()
    member, client = signed_in_member(batching, session, coordinator, room_id)
    sessions_before = session.execute(
        select(LoginSession.id_hash, LoginSession.sealed, LoginSession.expires_at)
    ).all()
    room_page = f"/rooms/{room_id}"
    assert _post(client, f"{room_page}/reading-language", room_page, {"language": "fa"}) == 302
    # Neither the choice nor anything else of the request is in the database yet.
    assert _count(session, LanguageChoice) == 0
    assert (
        session.execute(
            select(LoginSession.id_hash, LoginSession.sealed, LoginSession.expires_at)
        ).all()
        == sessions_before
    )
    # The member reads in Farsi at once, from the queue.
    assert '<ol class="sections" lang="fa" dir="rtl">' in client.get(room_page).get_data(
        as_text=True
    )
    # The batch holds the choice (and the marker of what the room page showed).
    queued = batching.extensions["mixer"].queue.pending()
    assert [w.action for w in queued].count(LANGUAGE_CHOICE_PUT) == 1
    assert batching.extensions["mixer"].flush() == len(queued)
    assert _count(session, LanguageChoice) == 1
    access = drafting.open_room(session, room_id, member)
    assert reading_language(session, access) == "fa"


def test_translations_and_reading_languages_are_unreadable_and_name_nobody(
    app: Flask, session: Session, settings: Settings
) -> None:
    coordinator, coordinator_client = signed_in_staff(app, session)
    room_id = make_room(session, coordinator, working_languages=("fa", "my"))
    session.commit()
    translator, translator_client = signed_in_member(app, session, coordinator, room_id)
    reader, reader_client = signed_in_member(app, session, coordinator, room_id)
    room_page = f"/rooms/{room_id}"
    for client, language in ((translator_client, "fa"), (reader_client, "my")):
        assert _post(client, f"{room_page}/reading-language", room_page, {"language": language})
    access = drafting.open_room(session, room_id, coordinator)
    anchor = drafting.version(session, access).sections[0].anchor
    offer = f"{room_page}/translate?type=section&id={anchor}&language=fa"
    data = {"type": "section", "id": anchor, "language": "fa", "text": WORDS}
    assert _post(translator_client, f"{room_page}/translate", offer, data) == 302
    session.commit()
    [translation] = session.scalars(
        select(Contribution).where(Contribution.kind == ContributionKind.TRANSLATION)
    )
    accept = f"{room_page}/moderation/{translation.id}/translation"
    assert _post(coordinator_client, accept, f"{room_page}/moderation", {}) == 302
    assert _count(session, SectionTranslation) == 1
    assert _count(session, LanguageChoice) == 2

    # The tables hold no account, no day, no time, and nothing but keys and ciphertexts.
    metadata = MetaData()
    metadata.reflect(bind=session.connection())
    for name in ("section_translations", "language_choices"):
        table = metadata.tables[name]
        assert not [key for key in table.foreign_keys if key.column.table.name == "accounts"]
        assert not [c for c in table.columns if "date" in str(c.type).lower()]
        assert not [c for c in table.columns if "time" in str(c.type).lower()]
    assert set(metadata.tables["language_choices"].columns.keys()) == {"tag", "content"}
    assert set(metadata.tables["section_translations"].columns.keys()) == {
        "id", "room_id", "anchor", "language", "key_version", "content",
    }  # fmt: skip

    # Nothing in the translation's row points to its translator: not an account, not the
    # contribution it came from, not that contribution's author tag.
    [row] = session.execute(select(metadata.tables["section_translations"])).all()
    accounts = [str(a) for a in session.scalars(select(Account.id))]
    for value in row:
        raw = bytes(value) if isinstance(value, bytes) else str(value).encode()
        for needle in (*[a.encode() for a in accounts], translation.id.encode()):
            assert needle not in raw
        assert bytes(translation.author_tag) not in raw

    # A reading language opens only with its member's own key: the room key does not
    # open it, nor does another member's key; the tag is not the member's account.
    for member, language in ((translator, "fa"), (reader, "my")):
        tag, key, context = _choice_context(member, room_id)
        choice = session.get(LanguageChoice, tag)
        assert choice is not None
        assert decrypt_record(key, choice.content, context).strip() == language.encode()
        for wrong in access.keyring.keys.values():
            with pytest.raises(CryptoError):
                decrypt_record(wrong, choice.content, context)
        assert member.account.id.encode() not in tag
    _other_tag, other_key, _ctx = _choice_context(reader, room_id)
    tag, _key, context = _choice_context(translator, room_id)
    with pytest.raises(CryptoError):
        decrypt_record(other_key, session.get(LanguageChoice, tag).content, context)  # type: ignore[union-attr]

    # The words themselves are nowhere in the clear, nor any member's secrets.
    blob = b"\x00".join(dump_database(session))
    assert WORDS.encode() not in blob
    for who in (translator, reader, coordinator):
        for secret in (who.keys.author_secret, who.keys.private_key):
            assert secret not in blob
            assert secret.hex().encode() not in blob
    if settings.database_url.startswith("sqlite:///"):
        session.close()
        path = settings.database_url.removeprefix("sqlite:///")
        raw = b"".join(Path(name).read_bytes() for name in glob.glob(path + "*"))
        assert WORDS.encode() not in raw
