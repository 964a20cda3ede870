"""Words rejected as unsafe, or hidden, are gone: from every member's view (the author's
included, once told why), and at rest, where their ciphertext is overwritten."""

from __future__ import annotations

import glob
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from statements.auth.service import Identity
from statements.drafting import contribution_lists
from statements.drafting import service as drafting
from statements.drafting.contributions import contribution_record
from statements.models import Contribution, ContributionStatus, ModerationMode
from statements.settings import Settings
from statements.write_apply import apply_write
from statements.writes import CONTRIBUTION_EDIT, Write, contribution_key
from tests.support import (
    app_today,
    csrf_token,
    dump_database,
    make_room,
    signed_in_member,
    signed_in_staff,
)

WORDS = "Name my village: Kampung Baru, the house by the mosque."


def _decide(session: Session, coordinator: Identity, room_id: str, cid: str, how: str) -> None:
    access = drafting.open_room(session, room_id, coordinator)
    if how == "hide":
        drafting.hide(session, access, cid, app_today())
    else:
        drafting.reject(session, access, cid, "unsafe", "It could identify someone.", app_today())


def _opened(session: Session, coordinator: Identity, room_id: str, row: Contribution) -> str:
    access = drafting.open_room(session, room_id, coordinator)
    data = access.keyring.open(
        "contribution", contribution_record(row), row.key_version, row.content
    )
    return str(data["text"])


@pytest.mark.parametrize("how", ["unsafe", "hide"])
def test_unsafe_or_hidden_words_leave_every_view_and_the_row(
    session: Session, coordinator: Identity, member: Identity, room_id: str, how: str
) -> None:
    access = drafting.open_room(session, room_id, member)
    cid = drafting.submit_contribution(session, access, "comment", None, WORDS, app_today()).id
    row = session.get(Contribution, cid)
    assert row is not None
    old_content = bytes(row.content)
    queued_edit = Write(
        key=contribution_key(cid),
        room_id=room_id,
        action=CONTRIBUTION_EDIT,
        row={
            "id": cid,
            "room_id": room_id,
            "anchor": None,
            "kind": "comment",
            "author_tag": row.author_tag,
            "key_version": row.key_version,
            "content": old_content,
            "created_on": app_today(),
        },
    )
    _decide(session, coordinator, room_id, cid, how)
    # A member's edit still in the mixer's queue must not bring the words back.
    apply_write(session, queued_edit)
    session.expire_all()
    row = session.get(Contribution, cid)
    assert row is not None
    assert bytes(row.content) != old_content
    assert WORDS not in _opened(session, coordinator, room_id, row)
    assert row.kind == "comment"

    [mine] = drafting.my_contributions(session, drafting.open_room(session, room_id, member))
    assert mine.removed
    assert mine.text == ""
    if how == "unsafe":
        # The author is told why.
        assert mine.reason == "unsafe"
        assert mine.note == "It could identify someone."
    coordinator_access = drafting.open_room(session, room_id, coordinator)
    views, _total = contribution_lists.contributions_page(
        session, coordinator_access, 1, statuses=list(ContributionStatus)
    )
    assert [(view.text, view.removed) for view in views] == [("", True)]


def test_other_rejections_keep_the_words_for_the_author(
    session: Session, coordinator: Identity, member: Identity, room_id: str
) -> None:
    access = drafting.open_room(session, room_id, member)
    cid = drafting.submit_contribution(session, access, "comment", None, WORDS, app_today()).id
    drafting.reject(
        session,
        drafting.open_room(session, room_id, coordinator),
        cid,
        "duplicate",
        "",
        app_today(),
    )
    [mine] = drafting.my_contributions(session, drafting.open_room(session, room_id, member))
    assert (mine.text, mine.removed) == (WORDS, False)


@pytest.mark.parametrize("how", ["unsafe", "hide"])
def test_destroyed_words_are_gone_from_the_raw_database(
    app: Flask, session: Session, settings: Settings, how: str
) -> None:
    """SQLite: the file and its write-ahead log; PostgreSQL: every value of every row."""
    coordinator, coordinator_client = signed_in_staff(app, session)
    room_id = make_room(session, coordinator, moderation=ModerationMode.POST)
    session.commit()
    _member, member_client = signed_in_member(app, session, coordinator, room_id)
    page = f"/rooms/{room_id}/contribute?kind=comment"
    sent = member_client.post(
        page, data={"csrf_token": csrf_token(member_client, page), "text": WORDS}
    )
    assert sent.status_code == 302
    session.expire_all()
    [row] = session.scalars(select(Contribution).where(Contribution.room_id == room_id))
    cid, old_content = row.id, bytes(row.content)
    fragment = old_content[:48]
    sqlite = settings.database_url.startswith("sqlite:///")
    path = settings.database_url.removeprefix("sqlite:///")

    # Positive controls: the ciphertext is there to be found, and it holds the words.
    assert fragment in b"\x00".join(dump_database(session))
    assert WORDS in _opened(session, coordinator, room_id, row)
    if sqlite:
        session.close()
        assert fragment in b"".join(Path(name).read_bytes() for name in glob.glob(path + "*"))

    data = {"csrf_token": csrf_token(coordinator_client, f"/rooms/{room_id}/moderation")}
    if how == "hide":
        data["action"] = "hide"
    else:
        data |= {"action": "reject", "reason": "unsafe", "note": ""}
    decided = coordinator_client.post(f"/rooms/{room_id}/moderation/{cid}", data=data)
    assert decided.status_code == 302

    mine = member_client.get(f"/rooms/{room_id}/mine").get_data(as_text=True)
    assert "Removed for safety." in mine
    assert "Kampung Baru" not in mine
    if how == "unsafe":
        assert "Unsafe: it could identify someone" in mine
    listing = coordinator_client.get(f"/rooms/{room_id}/contributions").get_data(as_text=True)
    assert "Kampung Baru" not in listing

    session.expire_all()
    values = dump_database(session)
    assert fragment not in b"\x00".join(values)
    row = session.get(Contribution, cid)
    assert row is not None
    assert WORDS not in _opened(session, coordinator, room_id, row)
    if sqlite:
        session.close()
        raw = b"".join(Path(name).read_bytes() for name in glob.glob(path + "*"))
        assert fragment not in raw
