"""Moderation modes: who sees a contribution before a coordinator has decided on it,
releasing one without accepting it, switching modes with a logged reason, and rooms that
existed before modes keeping what their members already saw."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from statements.auth.service import Identity
from statements.db import make_engine, upgrade
from statements.drafting import contribution_lists, contributions, moderation, rooms
from statements.drafting import service as drafting
from statements.drafting.errors import InvalidInput, NotCoordinator, SupportRefused
from statements.models import ModerationMode
from tests.support import (
    DRAFT,
    app_today,
    csrf_token,
    join_room,
    make_room,
    member_identity,
    signed_in_member,
    signed_in_staff,
)


def _texts(session: Session, who: Identity, room_id: str) -> list[str]:
    access = drafting.open_room(session, room_id, who)
    views, _total = contribution_lists.contributions_page(session, access, 1)
    return [view.text for view in views]


def _comment(session: Session, who: Identity, room_id: str, text: str) -> str:
    access = drafting.open_room(session, room_id, who)
    return drafting.submit_contribution(session, access, "comment", None, text, app_today()).id


def test_new_rooms_are_pre_moderated_unless_the_coordinator_chooses(
    session: Session, coordinator: Identity
) -> None:
    data = drafting.RoomInput(
        title="Default",
        language="en",
        summary="",
        markdown=DRAFT,
        contribution_deadline=app_today(),
        signon_deadline=app_today(),
    )
    assert drafting.create_room(session, coordinator, data, app_today()).moderation == "pre"
    post = drafting.create_room(
        session,
        coordinator,
        drafting.RoomInput(**{**data.__dict__, "moderation": "post"}),
        app_today(),
    )
    assert post.moderation == "post"
    with pytest.raises(InvalidInput):
        drafting.create_room(
            session,
            coordinator,
            drafting.RoomInput(**{**data.__dict__, "moderation": "x"}),
            app_today(),
        )


def test_pre_moderation_shows_a_contribution_to_its_author_and_coordinators_only(
    app: Flask, session: Session, coordinator: Identity
) -> None:
    room_id = make_room(session, coordinator, moderation=ModerationMode.PRE)
    author, other = member_identity(app, session), member_identity(app, session)
    for who in (author, other):
        join_room(session, coordinator, room_id, who)
    comment = _comment(session, author, room_id, "My cousin was detained last week.")
    assert _texts(session, author, room_id) == ["My cousin was detained last week."]
    assert _texts(session, coordinator, room_id) == ["My cousin was detained last week."]
    assert _texts(session, other, room_id) == []
    # Nor can the other member act on it by its id.
    with pytest.raises(SupportRefused):
        contributions.support(session, drafting.open_room(session, room_id, other), comment, True)

    # Released: every member sees it, and it is still pending (open for support).
    moderation.release(
        session, drafting.open_room(session, room_id, coordinator), comment, app_today()
    )
    assert _texts(session, other, room_id) == ["My cousin was detained last week."]
    contributions.support(session, drafting.open_room(session, room_id, other), comment, True)


def test_pre_moderation_shows_accepted_ones_and_keeps_rejected_ones_unseen(
    app: Flask, session: Session, coordinator: Identity
) -> None:
    room_id = make_room(session, coordinator, moderation=ModerationMode.PRE)
    author, other = member_identity(app, session), member_identity(app, session)
    for who in (author, other):
        join_room(session, coordinator, room_id, who)
    author_access = drafting.open_room(session, room_id, author)
    anchor = drafting.version(session, author_access).sections[0].anchor
    accepted = drafting.submit_contribution(
        session, author_access, "addition", anchor, "Accepted words.", app_today()
    ).id
    rejected = _comment(session, author, room_id, "Off-topic words.")
    addressed = _comment(session, author, room_id, "Addressed words.")
    access = drafting.open_room(session, room_id, coordinator)
    drafting.accept(session, access, accepted, 1, app_today())
    drafting.reject(session, access, rejected, "out_of_scope", "", app_today())
    # Addressing a comment is not releasing it: other members still do not see it.
    drafting.address(session, access, addressed, "", app_today())
    assert _texts(session, other, room_id) == ["Accepted words."]
    assert sorted(_texts(session, author, room_id)) == [
        "Accepted words.",
        "Addressed words.",
        "Off-topic words.",
    ]


def test_post_moderation_shows_every_contribution_at_once(
    app: Flask, session: Session, coordinator: Identity
) -> None:
    room_id = make_room(session, coordinator, moderation=ModerationMode.POST)
    author, other = member_identity(app, session), member_identity(app, session)
    for who in (author, other):
        join_room(session, coordinator, room_id, who)
    _comment(session, author, room_id, "Seen at once.")
    assert _texts(session, other, room_id) == ["Seen at once."]


def test_a_coordinator_switches_the_mode_with_a_logged_reason(
    app: Flask, session: Session, coordinator: Identity, member: Identity, room_id: str
) -> None:
    access = drafting.open_room(session, room_id, coordinator)
    assert access.room.moderation == "post"
    with pytest.raises(NotCoordinator):
        rooms.set_moderation_mode(
            session, drafting.open_room(session, room_id, member), "pre", "Because.", app_today()
        )
    with pytest.raises(InvalidInput):
        rooms.set_moderation_mode(session, access, "pre", "  ", app_today())
    with pytest.raises(InvalidInput):
        rooms.set_moderation_mode(session, access, "never", "Because.", app_today())
    assert access.room.moderation == "post"
    rooms.set_moderation_mode(session, access, "pre", "Names appeared in comments.", app_today())
    assert access.room.moderation == "pre"
    [line] = [
        line
        for line in drafting.moderation_log(session, access, 1)
        if line.action == "moderation_mode"
    ]
    assert line.details == {"mode": "pre", "note": "Names appeared in comments."}
    # Now members no longer see one another's pending contributions.
    _comment(session, member, room_id, "Only for the coordinators yet.")
    other = member_identity(app, session)
    join_room(session, coordinator, room_id, other)
    assert _texts(session, other, room_id) == []
    assert _texts(session, member, room_id) == ["Only for the coordinators yet."]


def test_rooms_from_before_modes_stay_post_moderated(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    upgrade(engine, "0004_no_rowid")
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO rooms (id, state, language, contribution_deadline, signon_deadline,"
            " key_version, current_version, pending_cap, rotation_due, sealed, details)"
            " VALUES ('r1', 'drafting', 'en', '2027-01-01', '2027-02-01', 1, 1, 20, 0, 0, x'00')"
        )
    upgrade(engine)
    with engine.connect() as connection:
        mode = connection.exec_driver_sql("SELECT moderation FROM rooms").scalar()
    engine.dispose()
    assert mode == "post"


def test_the_room_form_and_the_moderation_page_set_the_mode(app: Flask, session: Session) -> None:
    coordinator, client = signed_in_staff(app, session)
    opened = client.post(
        "/rooms/new",
        data={
            "csrf_token": csrf_token(client, "/rooms/new"),
            "title": "Modes",
            "language": "en",
            "summary": "",
            "markdown": DRAFT,
            "contribution_deadline": app_today().isoformat(),
            "signon_deadline": app_today().isoformat(),
            "moderation": "post",
        },
    )
    assert opened.status_code == 302
    room_id = opened.headers["Location"].rsplit("/", 1)[-1]
    page = f"/rooms/{room_id}/moderation"
    assert 'selected value="post"' in client.get(page).get_data(as_text=True)
    token = csrf_token(client, page)

    # No reason: refused, nothing changed, and the choice is still on the page.
    refused = client.post(
        f"/rooms/{room_id}/moderation-mode",
        data={"csrf_token": token, "moderation": "pre", "reason": ""},
    )
    assert refused.status_code == 400
    assert "Say why." in refused.get_data(as_text=True)
    assert 'selected value="pre"' in refused.get_data(as_text=True)
    bad = client.post(
        f"/rooms/{room_id}/moderation-mode",
        data={"csrf_token": token, "moderation": "sometimes", "reason": "Kept text"},
    )
    assert bad.status_code == 400
    assert "Kept text" in bad.get_data(as_text=True)

    changed = client.post(
        f"/rooms/{room_id}/moderation-mode",
        data={"csrf_token": token, "moderation": "pre", "reason": "Names were posted."},
    )
    assert changed.status_code == 302
    shown = client.get(page).get_data(as_text=True)
    assert 'selected value="pre"' in shown
    assert "A coordinator switched the room to pre-moderation" in shown

    # A member cannot change it.
    _member, member_client = signed_in_member(app, session, coordinator, room_id)
    denied = member_client.post(
        f"/rooms/{room_id}/moderation-mode",
        data={
            "csrf_token": csrf_token(member_client, f"/rooms/{room_id}"),
            "moderation": "post",
            "reason": "Mine.",
        },
    )
    assert denied.status_code == 403


def test_pre_moderation_over_http_with_release(app: Flask, session: Session) -> None:
    coordinator, coordinator_client = signed_in_staff(app, session)
    room_id = make_room(session, coordinator, moderation=ModerationMode.PRE)
    session.commit()
    _author, author_client = signed_in_member(app, session, coordinator, room_id)
    _other, other_client = signed_in_member(app, session, coordinator, room_id)
    sent = author_client.post(
        f"/rooms/{room_id}/contribute?kind=comment",
        data={
            "csrf_token": csrf_token(author_client, f"/rooms/{room_id}/contribute?kind=comment"),
            "text": "Words for the coordinators first.",
        },
    )
    assert sent.status_code == 302
    listing = f"/rooms/{room_id}/contributions"
    assert "Words for the coordinators first." in author_client.get(listing).get_data(as_text=True)
    assert "Words for the coordinators first." not in other_client.get(listing).get_data(
        as_text=True
    )
    queue = coordinator_client.get(f"/rooms/{room_id}/moderation").get_data(as_text=True)
    assert "Words for the coordinators first." in queue
    contribution_id = _only_pending_id(session, room_id)
    released = coordinator_client.post(
        f"/rooms/{room_id}/moderation/{contribution_id}",
        data={
            "csrf_token": csrf_token(coordinator_client, f"/rooms/{room_id}/moderation"),
            "action": "release",
        },
    )
    assert released.status_code == 302
    assert "Words for the coordinators first." in other_client.get(listing).get_data(as_text=True)


def _only_pending_id(session: Session, room_id: str) -> str:
    from sqlalchemy import select

    from statements.models import Contribution

    session.expire_all()
    [found] = session.scalars(select(Contribution.id).where(Contribution.room_id == room_id))
    return found
