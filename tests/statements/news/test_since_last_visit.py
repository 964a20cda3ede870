"""Since your last visit: what changed for a member, shown once, with no visit time kept."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from statements.auth.service import Identity
from statements.drafting import service as drafting
from statements.models import NewsMarker
from statements.news import markers
from statements.pages import today
from tests.support import make_room, signed_in_member, signed_in_staff

NEWS = "Since your last visit"


def _room(app: Flask, session: Session) -> tuple[Identity, str, Identity, object]:
    coordinator, _client = signed_in_staff(app, session)
    room_id = make_room(session, coordinator)
    session.commit()
    member, client = signed_in_member(app, session, coordinator, room_id)
    return coordinator, room_id, member, client


def test_a_decision_shows_once_with_its_reason(app: Flask, session: Session) -> None:
    coordinator, room_id, member, client = _room(app, session)
    with app.test_request_context():
        day = today()
    page = client.get(f"/rooms/{room_id}")  # type: ignore[attr-defined]
    assert page.status_code == 200
    assert NEWS not in page.get_data(as_text=True)

    member_access = drafting.open_room(session, room_id, member)
    rejected = drafting.submit_contribution(
        session, member_access, "comment", None, "Name the ministry.", day
    )
    session.commit()
    assert NEWS not in client.get(f"/rooms/{room_id}").get_data(as_text=True)  # type: ignore[attr-defined]

    access = drafting.open_room(session, room_id, coordinator)
    drafting.reject(session, access, rejected.id, "out_of_scope", "Keep it to labour law.", day)
    anchor = drafting.version(session, access).sections[1].anchor
    proposal = drafting.submit_contribution(
        session, drafting.open_room(session, room_id, member), "amendment", anchor, "New.", day
    )
    drafting.accept(session, access, proposal.id, 1, day)
    session.commit()

    listing = client.get("/rooms").get_data(as_text=True)  # type: ignore[attr-defined]
    assert NEWS in listing
    assert "rejected" in listing
    # The list does not mark anything seen: the room page still tells it all.
    page = client.get(f"/rooms/{room_id}").get_data(as_text=True)  # type: ignore[attr-defined]
    assert NEWS in page
    assert "Your contribution on the whole draft: rejected." in page
    assert "Out of scope for this statement" in page
    assert "Keep it to labour law." in page
    assert "1 new version of the draft." in page
    # Seen: the next visit has nothing new.
    again = client.get(f"/rooms/{room_id}").get_data(as_text=True)  # type: ignore[attr-defined]
    assert NEWS not in again
    assert NEWS not in client.get("/rooms").get_data(as_text=True)  # type: ignore[attr-defined]


def test_the_marker_is_written_only_when_it_changes(app: Flask, session: Session) -> None:
    _coordinator, room_id, member, client = _room(app, session)
    client.get(f"/rooms/{room_id}")  # type: ignore[attr-defined]
    row = session.scalar(select(NewsMarker))
    assert row is not None
    before = bytes(row.sealed)
    client.get(f"/rooms/{room_id}")  # type: ignore[attr-defined]
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(NewsMarker)) == 1
    # A fresh nonce would change the bytes: unchanged bytes mean no write at all.
    assert bytes(session.scalars(select(NewsMarker.sealed)).one()) == before
    tag = markers.marker_tag(member.keys.author_secret, room_id)
    seen = markers.open_seen(member.keys.author_secret, tag, before)
    assert seen is not None
    assert seen.version == 1
    # Another member's secret opens nothing.
    assert markers.open_seen(bytes(32), tag, before) is None


def test_the_marker_goes_through_the_mixer(batching: Flask, session: Session) -> None:
    _coordinator, room_id, _member, client = _room(batching, session)
    count = select(func.count()).select_from(NewsMarker)
    assert client.get(f"/rooms/{room_id}").status_code == 200  # type: ignore[attr-defined]
    # Not written by the request that looked (its transaction names a session's account
    # through the room's membership check): queued, and committed with a batch.
    assert session.scalar(count) == 0
    assert batching.extensions["mixer"].flush() == 1
    assert session.scalar(count) == 1


def test_reminders_three_days_and_one_day_before_a_deadline(app: Flask, session: Session) -> None:
    from datetime import timedelta

    from statements.drafting.deadlines import change_deadlines

    coordinator, room_id, member, _client = _room(app, session)
    with app.test_request_context():
        day = today()
    change_deadlines(
        session,
        drafting.open_room(session, room_id, coordinator),
        day + timedelta(days=3),
        day + timedelta(days=20),
        "The ministry meets earlier.",
        day,
    )
    access = drafting.open_room(session, room_id, member)

    def reminders(on: object) -> list[tuple[str, int]]:
        news = markers.room_news(session, access, on)  # type: ignore[arg-type]
        session.flush()
        return [(r.kind, r.days) for r in news.reminders]

    assert reminders(day) == [("contributions", 3)]
    assert reminders(day) == []
    assert reminders(day + timedelta(days=1)) == []  # two days left: already reminded
    assert reminders(day + timedelta(days=2)) == [("contributions", 1)]
    assert reminders(day + timedelta(days=2)) == []
    # Sign-on's turn comes three days before it closes.
    assert reminders(day + timedelta(days=17)) == [("signon", 3)]


def test_consent_checks_and_sign_on_are_news(app: Flask, session: Session) -> None:
    from statements.drafting import consent

    coordinator, room_id, member, _client = _room(app, session)
    with app.test_request_context():
        day = today()
    access = drafting.open_room(session, room_id, member)
    assert markers.room_news(session, access, day).first
    coordinating = drafting.open_room(session, room_id, coordinator)
    check = consent.open_check(session, coordinating, None, "", day)
    news = markers.room_news(session, access, day)
    assert (news.checks_opened, news.checks_closed) == (1, 0)
    consent.close_check(session, drafting.open_room(session, room_id, coordinator), check.id, day)
    drafting.change_state(session, coordinating, "consolidating", day)
    drafting.change_state(session, coordinating, "sign-on", day)
    news = markers.room_news(session, drafting.open_room(session, room_id, member), day)
    assert (news.checks_opened, news.checks_closed, news.signon_opened) == (0, 1, True)
    assert markers.room_news(session, drafting.open_room(session, room_id, member), day).empty
