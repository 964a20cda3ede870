"""Author tags link nothing: each contribution, support and endorsement carries a tag of
its own, which only its member can recompute."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from statements.drafting import service as drafting
from statements.models import Contribution, Endorsement, Support
from tests.support import (
    app_today,
    endorse,
    join_room,
    make_room,
    member_identity,
    open_signon,
    staff_identity,
)


def test_one_members_tags_differ_and_only_they_recompute_them(app: Flask, session: Session) -> None:
    coordinator = staff_identity(app, session)
    room_id = make_room(session, coordinator)
    first, second = member_identity(app, session), member_identity(app, session)
    for member in (first, second):
        join_room(session, coordinator, room_id, member)
    mine = drafting.open_room(session, room_id, first)
    theirs = drafting.open_room(session, room_id, second)

    own = [
        drafting.submit_contribution(session, mine, "comment", None, text, app_today())
        for text in ("First point.", "Second point.")
    ]
    others = [
        drafting.submit_contribution(session, theirs, "comment", None, text, app_today())
        for text in ("Third point.", "Fourth point.")
    ]
    for contribution in others:
        drafting.support(session, mine, contribution.id, True)
    drafting.support(session, theirs, own[0].id, True)
    session.flush()

    # Two contributions of one member: different tags.
    tags = [bytes(row.author_tag) for row in own]
    assert tags[0] != tags[1]
    # Two supports of one member: different tags.
    support_tags = [
        bytes(tag)
        for tag in session.scalars(
            select(Support.tag).where(Support.contribution_id.in_([c.id for c in others]))
        )
    ]
    assert len(support_tags) == 2
    assert support_tags[0] != support_tags[1]
    # Two members: different tags, for contributions and for supports of the same one.
    assert not set(tags) & {bytes(row.author_tag) for row in others}
    assert set(support_tags).isdisjoint(
        bytes(tag)
        for tag in session.scalars(select(Support.tag).where(Support.contribution_id == own[0].id))
    )
    assert mine.tag(drafting.CONTRIBUTION_TAG, own[0].id) != theirs.tag(
        drafting.CONTRIBUTION_TAG, own[0].id
    )
    # Recomputed by its member, a tag matches; by anyone else, it does not.
    for row in own:
        assert mine.tag(drafting.CONTRIBUTION_TAG, row.id) == row.author_tag
        assert theirs.tag(drafting.CONTRIBUTION_TAG, row.id) != row.author_tag
    assert {view.id for view in drafting.my_contributions(session, mine)} == {c.id for c in own}
    assert {view.id for view in drafting.my_contributions(session, theirs)} == {
        c.id for c in others
    }
    # No tag is reused across purposes either.
    everything = [*tags, *support_tags, *(bytes(row.author_tag) for row in others)]
    assert len(set(everything)) == len(everything)
    stored = {row.id: bytes(row.author_tag) for row in session.scalars(select(Contribution))}
    assert len(set(stored.values())) == 4


def test_one_members_endorsements_in_two_rooms_differ(app: Flask, session: Session) -> None:
    coordinator = staff_identity(app, session)
    member, other = member_identity(app, session), member_identity(app, session)
    rooms = [make_room(session, coordinator, title=f"Statement {n}") for n in (1, 2)]
    for room_id in rooms:
        for who in (member, other):
            join_room(session, coordinator, room_id, who)
        open_signon(session, coordinator, room_id)
        endorse(session, room_id, member, "anonymous")
    endorse(session, rooms[0], other, "anonymous")

    def tags(room_id: str) -> list[bytes]:
        return [
            bytes(tag)
            for tag in session.scalars(
                select(Endorsement.tag).where(Endorsement.room_id == room_id)
            )
        ]

    # What is stored in one room shares no tag with what is stored in the other.
    assert set(tags(rooms[0])).isdisjoint(tags(rooms[1]))
    first = drafting.open_room(session, rooms[0], member)
    second = drafting.open_room(session, rooms[1], member)
    mine = [access.tag(drafting.ENDORSEMENT_TAG, access.room.id) for access in (first, second)]
    # The member's tag in each room is the one stored there, and they differ.
    assert mine[0] in tags(rooms[0])
    assert mine[1] in tags(rooms[1])
    assert mine[0] != mine[1]
    assert tags(rooms[1]) == [mine[1]]
    # Two members in one room: two different tags.
    assert len(set(tags(rooms[0]))) == 2
    theirs = drafting.open_room(session, rooms[0], other)
    assert theirs.tag(drafting.ENDORSEMENT_TAG, rooms[0]) != mine[0]
