"""A ciphertext is bound to its row: moved or relabelled in the database, it no longer
opens, and the reader gets a clear page instead of a server error."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from crypto.errors import CryptoError
from statements.auth.service import Identity
from statements.drafting import service as drafting
from statements.models import Contribution, DraftVersion, Room
from tests.support import (
    app_today,
    join_room,
    make_room,
    member_identity,
    post_signed_in,
    signed_in_member,
    signed_in_staff,
)

UNREADABLE = "This record could not be opened"
AMENDMENT = "Refugees across the whole region are denied lawful work."
COMMENT = "Please name the bilateral agreements explicitly."


@dataclass
class Tampered:
    """A room with two contributions by one member, and both browsers."""

    room_id: str
    coordinator: Identity
    coordinator_client: FlaskClient
    member_client: FlaskClient
    amendment: str
    comment: str
    anchors: list[str]


@pytest.fixture
def room(app: Flask, session: Session) -> Tampered:
    coordinator, coordinator_client = signed_in_staff(app, session)
    room_id = make_room(session, coordinator)
    session.commit()
    member, member_client = signed_in_member(app, session, coordinator, room_id)
    access = drafting.open_room(session, room_id, member)
    anchors = [section.anchor for section in drafting.version(session, access).sections]
    amendment = drafting.submit_contribution(
        session, access, "amendment", anchors[1], AMENDMENT, app_today()
    )
    comment = drafting.submit_contribution(
        session, access, "comment", anchors[2], COMMENT, app_today()
    )
    # A member leaves and the key is rotated: the room has two key versions.
    leaver = member_identity(app, session)
    join_room(session, coordinator, room_id, leaver)
    drafting.leave_room(session, drafting.open_room(session, room_id, leaver))
    coordinator_access = drafting.open_room(session, room_id, coordinator)
    assert coordinator_access.room.key_version == 2
    # And a second version of the draft, saved under the new key.
    current = drafting.version(session, coordinator_access)
    drafting.edit_draft(
        session,
        coordinator_access,
        current.markdown + "\nA new closing line.\n",
        "Close",
        1,
        app_today(),
    )
    session.commit()
    return Tampered(
        room_id, coordinator, coordinator_client, member_client, amendment.id, comment.id, anchors
    )


def _pages(room: Tampered) -> list[tuple[FlaskClient, str]]:
    return [
        (room.coordinator_client, f"/rooms/{room.room_id}/contributions"),
        (room.coordinator_client, f"/rooms/{room.room_id}/moderation"),
        (room.member_client, f"/rooms/{room.room_id}/mine"),
    ]


def _tamper(session: Session, room: Tampered, how: str) -> None:
    rows = {row.id: row for row in session.scalars(select(Contribution))}
    target = update(Contribution).where(Contribution.id == room.amendment)
    if how == "copied":
        session.execute(target.values(content=rows[room.comment].content))
    elif how == "kind":
        session.execute(target.values(kind="addition"))
    elif how == "anchor":
        session.execute(target.values(anchor=room.anchors[2]))
    elif how == "key_version":
        session.execute(target.values(key_version=2))
    else:
        # The two versions of the draft swap their numbers.
        versions = update(DraftVersion).where(DraftVersion.room_id == room.room_id)
        session.execute(versions.where(DraftVersion.number == 1).values(number=99))
        session.execute(versions.where(DraftVersion.number == 2).values(number=1))
        session.execute(versions.where(DraftVersion.number == 99).values(number=2))
    session.commit()


@pytest.mark.parametrize("how", ["copied", "kind", "anchor", "key_version", "version_number"])
def test_a_moved_or_relabelled_ciphertext_gets_a_clear_page(
    session: Session, room: Tampered, how: str
) -> None:
    for client, path in _pages(room):
        page = client.get(path)
        assert page.status_code == 200
        assert AMENDMENT in page.get_data(as_text=True)

    _tamper(session, room, how)

    for client, path in _pages(room):
        response = client.get(path)
        assert response.status_code == 409, f"{path}: {response.status}"
        text = response.get_data(as_text=True)
        assert UNREADABLE in text
        assert "Nothing you sent was saved" in text
        assert AMENDMENT not in text
        assert COMMENT not in text


def test_a_write_that_meets_an_unreadable_record_saves_nothing(
    session: Session, room: Tampered
) -> None:
    _tamper(session, room, "kind")
    before = session.get(Contribution, room.amendment)
    assert before is not None
    content = bytes(before.content)
    response = post_signed_in(
        room.member_client,
        f"/rooms/{room.room_id}/contributions/{room.amendment}/edit",
        {"text": "A changed text that must not be kept."},
    )
    assert response.status_code == 409
    assert UNREADABLE in response.get_data(as_text=True)
    session.expire_all()
    after = session.get(Contribution, room.amendment)
    assert after is not None
    assert bytes(after.content) == content
    assert session.get(Room, room.room_id).current_version == 2  # type: ignore[union-attr]


@pytest.mark.parametrize("how", ["copied", "kind", "anchor", "key_version", "version_number"])
def test_the_service_refuses_to_open_a_moved_or_relabelled_ciphertext(
    session: Session, room: Tampered, how: str
) -> None:
    access = drafting.open_room(session, room.room_id, room.coordinator)
    assert len(drafting.contributions_page(session, access, 1)[0]) == 2
    _tamper(session, room, how)
    session.expire_all()
    access = drafting.open_room(session, room.room_id, room.coordinator)
    with pytest.raises(CryptoError):
        drafting.contributions_page(session, access, 1)
