"""A rejection's reason is for its author and the coordinators, and no other member."""

from __future__ import annotations

from flask import Flask
from sqlalchemy.orm import Session

from statements.drafting import service as drafting
from tests.support import app_today, make_room, post_signed_in, signed_in_member, signed_in_staff

TEXT = "Mention the port workers strike by name."
REASON = "Out of scope for this statement"
NOTE = "Keep it for the annex on labour rights"


def test_a_rejection_reason_reaches_its_author_and_coordinators_only(
    app: Flask, session: Session
) -> None:
    coordinator, coordinator_client = signed_in_staff(app, session)
    room_id = make_room(session, coordinator)
    session.commit()
    author, author_client = signed_in_member(app, session, coordinator, room_id)
    _other, other_client = signed_in_member(app, session, coordinator, room_id)
    contribution = drafting.submit_contribution(
        session, drafting.open_room(session, room_id, author), "comment", None, TEXT, app_today()
    )
    session.commit()
    rejected = post_signed_in(
        coordinator_client,
        f"/rooms/{room_id}/moderation/{contribution.id}",
        {"action": "reject", "reason": "out_of_scope", "note": NOTE},
    )
    assert rejected.status_code == 302

    contributions = f"/rooms/{room_id}/contributions"
    for client, path in (
        (author_client, f"/rooms/{room_id}/mine"),
        (author_client, contributions),
        (coordinator_client, contributions),
    ):
        page = client.get(path)
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        assert TEXT in text
        assert REASON in text, path
        assert NOTE in text, path

    page = other_client.get(contributions)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    # The other member sees the contribution and that it was rejected, not why.
    assert TEXT in text
    assert "rejected" in text
    assert REASON not in text
    assert NOTE not in text
    assert "Reason:" not in text
