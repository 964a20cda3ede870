"""The two-person rule through HTTP: proposed by one, carried out only when another approves."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from statements.auth.service import Identity
from statements.drafting import service as drafting
from statements.models import (
    Account,
    ControlProposal,
    ControlProposalKey,
    PublishedStatement,
    Role,
    Room,
)
from statements.publishing import service as publishing
from statements.publishing import signing_keys
from statements.settings import Settings
from tests.conftest import Clock
from tests.support import (
    app_today,
    dump_database,
    make_room,
    open_signon,
    post_signed_in,
    signed_in_member,
    signed_in_staff,
)

_DIGEST = re.compile(r'name="digest" value="([0-9a-f]{64})"')


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """This deployment turns the rule on for every room."""
    return replace(settings, two_person_rule=True)


@dataclass
class Room2:
    """A room in sign-on with two coordinators, a member, and an admin outside it."""

    room_id: str
    first: FlaskClient
    second: FlaskClient
    member: FlaskClient
    admin: FlaskClient
    coordinator: Identity


def _room(app: Flask, session: Session, *, second: bool = True) -> Room2:
    coordinator, first = signed_in_staff(app, session, "first-coord")
    _other, second_client = signed_in_staff(app, session, "second-coord")
    _admin, admin = signed_in_staff(app, session, "the-admin", Role.ADMIN)
    room_id = make_room(session, coordinator)
    if second:
        drafting.add_coordinator(
            session, drafting.open_room(session, room_id, coordinator), "second-coord"
        )
    _member, member = signed_in_member(app, session, coordinator, room_id)
    open_signon(session, coordinator, room_id)
    session.commit()
    return Room2(room_id, first, second_client, member, admin, coordinator)


@pytest.fixture
def room(app: Flask, session: Session) -> Room2:
    return _room(app, session)


def _propose_publication(room: Room2, slug: str = "right-to-work") -> str:
    response = post_signed_in(
        room.first, f"/rooms/{room.room_id}/publish", {"slug": slug, "confirm": "y"}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    location = response.headers["Location"]
    assert location.startswith("/proposals/")
    return location


def _approve(client: FlaskClient, location: str, digest: str | None = None) -> TestResponse:
    if digest is None:
        page = client.get(location)
        assert page.status_code == 200
        found = _DIGEST.search(page.get_data(as_text=True))
        assert found, "the approver is shown the fingerprint of what will be done"
        digest = found.group(1)
    return post_signed_in(client, f"{location}/approve", {"digest": digest})


def test_a_publication_waits_for_a_second_coordinator(room: Room2, session: Session) -> None:
    location = _propose_publication(room)
    # Nothing is published yet, and the room is still in sign-on.
    assert room.first.get("/statements/right-to-work").status_code == 404
    session.expire_all()
    assert session.get(Room, room.room_id).state == "sign-on"
    # The proposer sees what will be signed, but cannot approve it.
    own = room.first.get(location).get_data(as_text=True)
    assert "Refugees in the region are denied the right to work." in own
    assert "Approve and carry it out" not in own
    refused = _approve(room.first, location, digest="0" * 64)
    assert refused.status_code == 403
    assert room.first.get("/statements/right-to-work").status_code == 404
    # The other coordinator sees exactly the text and signatories, and approves.
    page = room.second.get(location).get_data(as_text=True)
    assert "Refugees in the region are denied the right to work." in page
    assert "first-coord" in page
    approved = _approve(room.second, location)
    assert approved.status_code == 302
    assert approved.headers["Location"] == "/statements/right-to-work"
    assert room.member.get("/statements/right-to-work").status_code == 200
    # Done once: approving again does nothing more.
    assert _approve(room.second, location, digest="0" * 64).status_code == 409
    listing = room.first.get("/proposals").get_data(as_text=True)
    assert "approved and carried out" in listing
    assert "second-coord" in listing


def test_the_approver_must_send_back_what_they_saw(room: Room2) -> None:
    location = _propose_publication(room)
    assert _approve(room.second, location, digest="f" * 64).status_code == 409
    assert _approve(room.second, location, digest="").status_code == 409
    assert room.second.get("/statements/right-to-work").status_code == 404
    # Without the form's CSRF token, nothing at all.
    assert room.second.post(f"{location}/approve", data={"digest": "x"}).status_code == 400


def test_the_sign_on_holds_while_a_publication_waits(room: Room2) -> None:
    _propose_publication(room)
    path = f"/rooms/{room.room_id}/sign-on"
    response = post_signed_in(room.member, path, {"kind": "anonymous"})
    assert response.status_code == 409
    added = post_signed_in(room.first, f"{path}/received", {"name": "Late Letter Org"})
    assert added.status_code == 409
    # A second proposal of the same publication is refused too.
    again = post_signed_in(
        room.second, f"/rooms/{room.room_id}/publish", {"slug": "other-slug", "confirm": "y"}
    )
    assert again.status_code == 409


def test_members_and_other_staff_never_see_proposals(
    app: Flask, session: Session, room: Room2
) -> None:
    location = _propose_publication(room)
    assert room.member.get("/proposals").status_code in (302, 403)
    assert room.member.get(location).status_code in (302, 403)
    _outsider, outsider = signed_in_staff(app, session, "outside-coord")
    assert outsider.get(location).status_code == 404
    assert _approve(outsider, location, digest="0" * 64).status_code == 404
    assert "first-coord" not in outsider.get("/proposals").get_data(as_text=True)
    assert room.second.get("/proposals/" + "x" * 40).status_code == 404
    assert room.second.get("/proposals/nope").status_code == 404


def test_a_single_coordinator_needs_an_admin(app: Flask, session: Session) -> None:
    room = _room(app, session, second=False)
    location = _propose_publication(room)
    # The other coordinator is not one of this room's: the admin is the second person.
    assert room.second.get(location).status_code == 404
    approved = _approve(room.admin, location)
    assert approved.status_code == 302, approved.get_data(as_text=True)
    assert room.member.get("/statements/right-to-work").status_code == 200


def test_either_can_cancel_and_proposals_lapse(room: Room2, session: Session, clock: Clock) -> None:
    location = _propose_publication(room)
    cancelled = post_signed_in(room.first, f"{location}/cancel")
    assert cancelled.status_code == 302
    assert _approve(room.second, location, digest="0" * 64).status_code == 409
    assert room.second.get("/statements/right-to-work").status_code == 404
    assert "cancelled" in room.second.get(location).get_data(as_text=True)

    second = _propose_publication(room, "right-to-work-2")
    assert post_signed_in(room.second, f"{second}/cancel").status_code == 302
    assert _approve(room.first, second, digest="0" * 64).status_code == 409

    third = _propose_publication(room, "right-to-work-3")
    page = room.second.get(third).get_data(as_text=True)
    digest = _DIGEST.search(page)
    assert digest
    # Sessions end long before a proposal lapses: the proposal's time is moved instead.
    row = session.get(ControlProposal, third.rsplit("/", 1)[1])
    assert row is not None
    row.expires_at = clock() - timedelta(minutes=1)
    session.commit()
    assert _approve(room.second, third, digest=digest.group(1)).status_code == 409
    assert "lapsed" in room.second.get(third).get_data(as_text=True)
    assert room.second.get("/statements/right-to-work-3").status_code == 404


def test_a_correction_is_shown_as_a_change_then_approved(room: Room2) -> None:
    _approve(room.second, _propose_publication(room))
    response = post_signed_in(
        room.first,
        "/published/right-to-work/correct",
        {
            "title": "Right to work",
            "body": "Refugees everywhere are denied the right to work.",
            "signatories": "New Partner | Malaysia",
            "reason": "A partner joined.",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    location = response.headers["Location"]
    # Nothing is signed until approved.
    public = room.member.get("/statements/right-to-work").get_data(as_text=True)
    assert "everywhere" not in public
    page = room.second.get(location).get_data(as_text=True)
    assert "<ins" in page
    assert "Signatory added" in page
    assert "New Partner" in page
    assert _approve(room.second, location).status_code == 302
    assert "everywhere" in room.member.get("/statements/right-to-work").get_data(as_text=True)


def test_a_stale_correction_is_not_carried_out(room: Room2) -> None:
    _approve(room.second, _propose_publication(room))
    data = {
        "title": "Right to work",
        "body": "One.",
        "signatories": "",
        "reason": "Shorter.",
    }
    first = post_signed_in(room.first, "/published/right-to-work/correct", data)
    assert first.status_code == 302
    # One correction of a room waits at a time.
    again = post_signed_in(room.second, "/published/right-to-work/correct", data)
    assert again.status_code == 409, again.get_data(as_text=True)
    retraction = post_signed_in(
        room.second,
        "/published/right-to-work/retract",
        {"notice": "Withdrawn.", "slug": "right-to-work", "reason": "Asked."},
    )
    assert _approve(room.first, retraction.headers["Location"]).status_code == 302
    # The correction was proposed against version 1, which is no longer the latest.
    assert _approve(room.second, first.headers["Location"]).status_code == 409
    assert "One." not in room.member.get("/statements/right-to-work").get_data(as_text=True)


def test_retraction_and_bad_corrections(room: Room2) -> None:
    _approve(room.second, _propose_publication(room))
    bad = post_signed_in(
        room.first,
        "/published/right-to-work/correct",
        {
            "title": "Right to work",
            "body": "x",
            "signatories": "",
            "letters": "-3",
            "reason": "Why.",
        },
    )
    assert bad.status_code == 400
    response = post_signed_in(
        room.first,
        "/published/right-to-work/retract",
        {"notice": "Withdrawn by the network.", "slug": "right-to-work", "reason": "Asked."},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    location = response.headers["Location"]
    assert "retracted" not in room.member.get("/statements/right-to-work").get_data(
        as_text=True
    ).lower() or "Withdrawn by the network." not in room.member.get(
        "/statements/right-to-work"
    ).get_data(as_text=True)
    assert _approve(room.second, location).status_code == 302
    assert "Withdrawn by the network." in room.member.get("/statements/right-to-work").get_data(
        as_text=True
    )


def test_sealing_and_moderation_mode_wait_for_approval(room: Room2, session: Session) -> None:
    mode = post_signed_in(
        room.first,
        f"/rooms/{room.room_id}/moderation-mode",
        {"moderation": "pre", "reason": "Words that could hurt someone."},
    )
    assert mode.status_code == 302
    session.expire_all()
    assert session.get(Room, room.room_id).moderation == "post"
    assert _approve(room.second, mode.headers["Location"]).status_code == 302
    session.expire_all()
    assert session.get(Room, room.room_id).moderation == "pre"

    seal = post_signed_in(room.first, f"/rooms/{room.room_id}/seal", {"title": "Right to work"})
    assert seal.status_code == 302
    location = seal.headers["Location"]
    session.expire_all()
    assert not session.get(Room, room.room_id).sealed
    page = room.second.get(location).get_data(as_text=True)
    assert "This cannot be undone." in page
    assert _approve(room.second, location).status_code == 302
    session.expire_all()
    assert session.get(Room, room.room_id).sealed
    wrong = post_signed_in(room.first, f"/rooms/{room.room_id}/seal", {"title": "Wrong"})
    assert wrong.status_code in (404, 410)


def test_replacing_the_signing_key_waits_for_a_second_person(
    app: Flask, session: Session, room: Room2
) -> None:
    _approve(room.second, _propose_publication(room))

    def active() -> str:
        session.expire_all()
        record = signing_keys.active_key(session)
        assert record is not None
        return record.key_id

    before = active()
    response = post_signed_in(room.admin, "/signing-key", {"action": "rotate"})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert active() == before
    assert _approve(room.admin, location, digest="0" * 64).status_code == 403
    assert _approve(room.first, location).status_code == 302
    assert active() != before


def test_proposals_at_rest_hold_no_readable_text(room: Room2, session: Session) -> None:
    location = _propose_publication(room)
    response = post_signed_in(
        room.first,
        f"/rooms/{room.room_id}/moderation-mode",
        {"moderation": "pre", "reason": "A reason nobody may read at rest."},
    )
    assert response.status_code == 302
    session.expire_all()
    assert len(list(session.scalars(select(ControlProposal)))) == 2
    # Staff are named (they are not anonymous); no member ever is, nor any member's key.
    members = [
        account for account in session.scalars(select(Account)) if account.role == Role.MEMBER
    ]
    assert members
    for table in (ControlProposal.__table__, ControlProposalKey.__table__):
        for row in session.execute(select(table)):
            for value in row:
                for account in members:
                    assert value != account.id
                    assert not (isinstance(value, bytes) and account.public_key in value)
    blob = b"\n".join(dump_database(session))
    for secret in (b"denied the right to work", b"nobody may read at rest", b"right-to-work"):
        assert secret not in blob
    assert location
    assert session.scalar(select(PublishedStatement)) is None
    assert app_today()


def test_a_proposed_correction_of_anonymous_endorsements_is_unreadable_at_rest(
    app: Flask, session: Session
) -> None:
    """The at-rest probe of approvals: a waiting correction that removes a commitment
    (with its reason) and adds letters holds neither in the clear, and names no member."""
    from tests.support import endorse

    room = _room(app, session)
    anonymous, _client = signed_in_member(app, session, room.coordinator, room.room_id)
    endorse(session, room.room_id, anonymous, "anonymous")
    session.commit()
    _approve(room.second, _propose_publication(room))
    statement = publishing.latest(session, "right-to-work").statement
    commitment = statement["anonymous_commitments"][0]
    reason = "Removed at the organisation's written request."
    response = post_signed_in(
        room.first,
        "/published/right-to-work/correct",
        {
            "title": "Right to work",
            "body": "Refugees everywhere are denied the right to work.",
            "removals": f"{commitment} | {reason}",
            "letters": "2",
            "reason": "A letter arrived.",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    location = response.headers["Location"]
    page = room.second.get(location).get_data(as_text=True)
    assert "Anonymous endorsements: 1 → 2" in page
    assert "Received by letter: 2" in page
    assert "Anonymous endorsement removed" in page
    assert reason.replace("'", "&#39;") in page
    session.expire_all()
    waiting = [row for row in session.scalars(select(ControlProposal)) if row.status == "pending"]
    assert len(waiting) == 1
    blob = b"\n".join(dump_database(session))
    # The commitment itself is public (in version 1's bundle); the proposal's reason is not.
    for secret in (reason.encode(), b"A letter arrived.", b"everywhere"):
        assert secret not in blob
    members = [a for a in session.scalars(select(Account)) if a.role == Role.MEMBER]
    for row in session.execute(select(ControlProposal.__table__)):
        for value in row:
            assert all(value != account.id for account in members)
    assert _approve(room.second, location).status_code == 302
    signed = publishing.latest(session, "right-to-work").statement
    assert signed["anonymous_signatories"] == 2
    assert signed["anonymous_removed"] == [{"commitment": commitment, "reason": reason}]
