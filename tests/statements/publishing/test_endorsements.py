"""Sign-on through the service: one endorsement per member, public or anonymous, until the
deadline; what coordinators add and remove; and what is stored of it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from statements.drafting import service as drafting
from statements.drafting.errors import NotCoordinator
from statements.models import (
    Endorsement,
    Room,
)
from statements.publishing import endorsements
from statements.publishing.errors import (
    EndorsementNotFound,
    InvalidInput,
    SignOnClosed,
)
from tests.support import (
    app_today,
    dump_database,
    endorse,
    join_room,
    make_room,
    member_identity,
    staff_identity,
)

ORIGIN = "test.example/log"


def test_one_endorsement_per_member_public_or_anonymous(
    session: Session, signon_room: tuple
) -> None:
    coordinator, room_id, (first, second, third) = signon_room
    endorse(session, room_id, first, "public", "  Refugee Rights Network ", "Thailand")
    endorse(session, room_id, second, "anonymous")
    endorse(session, room_id, third, "public", "Asylum Access", "")
    # Endorsing again replaces the first endorsement: still one per member.
    endorse(session, room_id, third, "anonymous")
    signon = endorsements.sign_on(
        session, drafting.open_room(session, room_id, coordinator), app_today()
    )
    assert [(s.name, s.country) for s in signon.public] == [("Refugee Rights Network", "Thailand")]
    assert signon.anonymous == 2
    assert session.scalar(select(text("count(*)")).select_from(Endorsement)) == 3
    mine = endorsements.sign_on(session, drafting.open_room(session, room_id, first), app_today())
    assert mine.mine is not None
    assert mine.mine.name == "Refugee Rights Network"
    assert endorsements.sign_on(
        session, drafting.open_room(session, room_id, third), app_today()
    ).mine_anonymous


def test_withdrawing_until_the_deadline(session: Session, signon_room: tuple) -> None:
    _coordinator, room_id, (first, *_rest) = signon_room
    endorse(session, room_id, first, "anonymous")
    access = drafting.open_room(session, room_id, first)
    endorsements.withdraw_endorsement(session, access, app_today())
    assert endorsements.sign_on(session, access, app_today()).anonymous == 0
    with pytest.raises(EndorsementNotFound):
        endorsements.withdraw_endorsement(session, access, app_today())
    endorse(session, room_id, first, "anonymous")
    after = session.get(Room, room_id).signon_deadline + timedelta(days=1)  # type: ignore[union-attr]
    with pytest.raises(SignOnClosed):
        endorsements.withdraw_endorsement(session, access, after)
    with pytest.raises(SignOnClosed):
        endorsements.endorse(session, access, "public", "Late", "", after)
    assert endorsements.sign_on(session, access, after).anonymous == 1


def test_no_endorsing_outside_sign_on(app: Flask, session: Session) -> None:
    coordinator = staff_identity(app, session)
    room_id = make_room(session, coordinator)
    member = member_identity(app, session)
    join_room(session, coordinator, room_id, member)
    with pytest.raises(SignOnClosed):
        endorse(session, room_id, member, "anonymous")


@pytest.mark.parametrize(
    ("kind", "name", "country", "field", "reason"),
    [
        ("public", "", "", "name", "required"),
        ("public", "   ", "", "name", "required"),
        ("public", "x" * 201, "", "name", "too_long"),
        ("public", "Line\nbreak", "", "name", "one_line"),
        ("public", "Name", "y" * 81, "country", "too_long"),
        ("sideways", "Name", "", "kind", "unknown"),
    ],
)
def test_bad_endorsements_are_refused_and_store_nothing(
    session: Session,
    signon_room: tuple,
    kind: str,
    name: str,
    country: str,
    field: str,
    reason: str,
) -> None:
    _coordinator, room_id, (first, *_rest) = signon_room
    with pytest.raises(InvalidInput) as caught:
        endorse(session, room_id, first, kind, name, country)
    assert (caught.value.field, caught.value.reason) == (field, reason)
    assert session.scalars(select(Endorsement)).all() == []


def test_coordinators_add_received_endorsements_and_remove_public_ones(
    session: Session, signon_room: tuple
) -> None:
    coordinator, room_id, (first, second, _third) = signon_room
    access = drafting.open_room(session, room_id, coordinator)
    endorsements.add_received(session, access, "Jesuit Refugee Service", "Indonesia")
    endorse(session, room_id, first, "public", "A network", "")
    endorse(session, room_id, second, "anonymous")
    signon = endorsements.sign_on(session, access, app_today())
    received = {s.name: s.received for s in signon.public}
    assert received == {"A network": False, "Jesuit Refugee Service": True}
    with pytest.raises(NotCoordinator):
        endorsements.add_received(session, drafting.open_room(session, room_id, first), "Fake", "")
    anonymous = session.scalars(select(Endorsement).where(Endorsement.kind == "anonymous")).one()
    with pytest.raises(EndorsementNotFound):
        endorsements.remove_public_endorsement(session, access, anonymous.id)
    with pytest.raises(EndorsementNotFound):
        endorsements.remove_public_endorsement(session, access, "0" * 32)
    for signatory in signon.public:
        endorsements.remove_public_endorsement(session, access, signatory.endorsement_id)
    after = endorsements.sign_on(session, access, app_today())
    assert (after.public, after.anonymous) == ([], 1)


def test_endorsements_at_rest_name_no_account_and_no_organisation(
    app: Flask, session: Session, signon_room: tuple
) -> None:
    _coordinator, room_id, (first, second, third) = signon_room
    endorse(session, room_id, first, "public", "Rohingya Women's Network", "Malaysia")
    endorse(session, room_id, second, "anonymous")
    endorse(session, room_id, third, "anonymous")
    session.commit()
    blob = b"\x00".join(dump_database(session))
    assert b"Rohingya Women" not in blob
    assert b"Malaysia" not in blob
    rows = session.scalars(select(Endorsement)).all()
    account_ids = {m.account.id.encode() for m in (first, second, third)}
    for row in rows:
        values = [row.id.encode(), row.room_id.encode(), row.tag or b"", row.content or b""]
        assert not any(account in value for value in values for account in account_ids)
    anonymous = [row for row in rows if row.kind == "anonymous"]
    assert len(anonymous) == 2
    # An anonymous endorsement is a random id, the room, a tag and its kind: nothing else.
    assert all(row.content is None and row.key_version is None for row in anonymous)
    # The tags differ per member and cannot be recomputed without the member's own secret.
    assert len({row.tag for row in rows}) == 3
    outsider = member_identity(app, session)
    assert outsider.keys.author_secret not in blob
    assert all(m.keys.author_secret not in blob for m in (first, second, third))
