"""A private feed is access without signing in: it ends when the account's access ends."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy.orm import Session

from statements.auth import service
from statements.models import Role
from tests.support import make_room, post_signed_in, signed_in_member, signed_in_staff

ADDRESS = re.compile(r'value="http://localhost/feeds/([A-Za-z0-9_-]+)"')


def test_a_disabled_account_s_feed_serves_nothing(app: Flask, session: Session) -> None:
    coordinator, _client = signed_in_staff(app, session)
    admin, _admin_client = signed_in_staff(app, session, "admin", Role.ADMIN)
    room_id = make_room(session, coordinator)
    session.commit()
    member, client = signed_in_member(app, session, coordinator, room_id)
    assert post_signed_in(client, "/account/feed", {"action": "create"}).status_code == 303
    found = ADDRESS.search(client.get("/account/feed").get_data(as_text=True))
    assert found
    reader = app.test_client()
    assert reader.get(f"/feeds/{found.group(1)}").status_code == 200  # positive control

    # Say the member's phone was taken: an admin disables the account. The feed reader
    # on that phone must not go on telling its holder how the member's rooms move.
    service.set_disabled(session, admin.account, member.account.id, True)
    session.commit()
    response = reader.get(f"/feeds/{found.group(1)}")
    assert response.status_code == 404
    assert response.headers["Cache-Control"] == "no-store"

    # Re-enabled, the same address works again (nothing was deleted on disabling).
    service.set_disabled(session, admin.account, member.account.id, False)
    session.commit()
    assert reader.get(f"/feeds/{found.group(1)}").status_code == 200
