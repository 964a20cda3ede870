"""A public page is kept once rendered and served to everyone (and cached as `public` by
browsers and proxies): rendered for a signed-in member, it must not say a session was
open. Else the phone's browser cache, after Leave quickly, and every later reader's copy
would show that its first reader had an account here."""

from __future__ import annotations

from flask import Flask
from sqlalchemy.orm import Session

from tests.support import make_room, signed_in_member, signed_in_staff

SESSION_NOTE = "session-note"


def test_a_public_page_rendered_for_a_member_shows_no_session(app: Flask, session: Session) -> None:
    coordinator, _client = signed_in_staff(app, session)
    room_id = make_room(session, coordinator)
    session.commit()
    _member, client = signed_in_member(app, session, coordinator, room_id)
    # Positive control: the member's own pages do show it.
    assert SESSION_NOTE in client.get("/rooms").get_data(as_text=True)

    for path in ("/", "/feed.atom"):
        signed_in = client.get(path)
        assert signed_in.status_code == 200
        assert signed_in.headers["Cache-Control"].startswith("public")
        assert SESSION_NOTE not in signed_in.get_data(as_text=True), path
        assert "Your session ends" not in signed_in.get_data(as_text=True), path
        anonymous = app.test_client().get(path)
        assert anonymous.get_data() == signed_in.get_data(), path
