"""A room's working languages, and the language each member reads it in.

Coordinators choose the working languages (logged). A member's reading language is
theirs alone: stored under a tag only they can recompute (an HMAC under their author
secret, bound to the room), sealed under a key derived from that same secret, and
written through the anonymous channel like a contribution, so neither its row nor its
transaction points to the member's account. Pure: no flask import.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy.orm import Session

from crypto.errors import CryptoError
from crypto.records import RecordContext, decrypt_record, encrypt_record
from crypto.tags import author_tag, tags_equal
from statements.drafting.access import RoomAccess
from statements.drafting.errors import InvalidInput, WrongState
from statements.drafting.log import log_action
from statements.drafting.rooms import check_working_languages
from statements.drafting.translations import parse_languages, room_languages
from statements.models import LanguageChoice, RoomState
from statements.writes import FEED_ROOM, LANGUAGE_CHOICE_PUT, Write, language_choice_key

# Purposes of the member's tag and key for their reading language: never used elsewhere.
LANGUAGE_TAG = "reading-language"
LANGUAGE_KEY = "reading-language-key"
LANGUAGE_RECORD = "language-choice"
# Every code is sealed padded to this width: codes differ in length (Dari's "prs" is the
# only three-letter one), and a ciphertext a byte longer would name the language.
LANGUAGE_WIDTH = 16


def set_working_languages(
    db: Session, access: RoomAccess, languages: Sequence[str], today: date
) -> None:
    """A coordinator changes the room's working languages; the log says from what to what.

    Translations into a language taken off the list are kept (sealed like the rest), so
    putting it back brings them back, out of date where the source changed meanwhile.
    """
    access.require_coordinator()
    if access.room.state == RoomState.PUBLISHED:
        raise WrongState(access.room.state)
    working = check_working_languages(access.room.language, languages)
    previous = access.room.working_languages
    if parse_languages(previous) == parse_languages(working):
        return
    access.room.working_languages = working
    log_action(db, access, today, "languages", languages=working, previous=previous)
    db.flush()


def _tag(access: RoomAccess) -> bytes:
    return access.tag(LANGUAGE_TAG, access.room.id)


def _key(access: RoomAccess) -> bytes:
    # A key only the member holds: their author secret never leaves their unlocked keys.
    return author_tag(access.identity.keys.author_secret, LANGUAGE_KEY, access.room.id)


def _context(access: RoomAccess, tag: bytes) -> RecordContext:
    return RecordContext(LANGUAGE_RECORD, tag.hex(), access.room.id, 0)


def choose_language(db: Session, access: RoomAccess, language: str) -> None:
    """Remember the working language this member reads the room in."""
    if language not in room_languages(access.room):
        raise InvalidInput("language", "unknown")
    tag = _tag(access)
    padded = language.encode().ljust(LANGUAGE_WIDTH, b" ")
    content = encrypt_record(_key(access), padded, _context(access, tag))
    access.anonymous(db).put(
        Write(
            key=language_choice_key(tag),
            # Queued under no room, like a news marker: a copy of the queue (Redis, the
            # spool file) must not tie the tag to its room, which the row never says.
            room_id=FEED_ROOM,
            action=LANGUAGE_CHOICE_PUT,
            row={"tag": tag, "content": content},
        )
    )


def reading_language(db: Session, access: RoomAccess) -> str:
    """The language this member reads the room in: their choice while the room still
    works in it, else the source language."""
    tag = _tag(access)
    sealed: bytes | None = None
    for write in access.anonymous(db).pending(FEED_ROOM):
        if write.action == LANGUAGE_CHOICE_PUT and tags_equal(bytes(write.row["tag"]), tag):
            sealed = bytes(write.row["content"])
    if sealed is None:
        row = db.get(LanguageChoice, tag)
        sealed = row.content if row is not None else None
    if sealed is None:
        return access.room.language
    try:
        chosen = decrypt_record(_key(access), sealed, _context(access, tag)).decode().strip()
    except CryptoError:
        return access.room.language
    return chosen if chosen in room_languages(access.room) else access.room.language
