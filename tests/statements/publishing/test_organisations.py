"""Organisations that are who they say: invitations, self-declared names, review."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.support import (
    dump_database,
    make_room,
    open_signon,
    post_signed_in,
    signed_in_member,
    signed_in_staff,
)

_LINK = re.compile(r"https?://[^/\s<]+(/rooms/[0-9a-f]{32}/sign-on/organisation/[A-Za-z0-9_-]+)")


@pytest.fixture
def room(app: Flask, session: Session) -> tuple[str, FlaskClient, FlaskClient, FlaskClient]:
    coordinator, staff = signed_in_staff(app, session, "org-coord")
    room_id = make_room(session, coordinator)
    _first, first = signed_in_member(app, session, coordinator, room_id)
    _second, second = signed_in_member(app, session, coordinator, room_id)
    open_signon(session, coordinator, room_id)
    session.commit()
    return room_id, staff, first, second


def _invite(staff: FlaskClient, room_id: str, name: str, country: str = "") -> str:
    response = post_signed_in(
        staff, f"/rooms/{room_id}/sign-on/organisations", {"org-name": name, "org-country": country}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    found = _LINK.search(response.get_data(as_text=True))
    assert found, "the page shows the link once"
    return found.group(1)


def _publish(staff: FlaskClient, room_id: str) -> int:
    return post_signed_in(
        staff, f"/rooms/{room_id}/publish", {"slug": "right-to-work", "confirm": "y"}
    ).status_code


def test_an_invitation_gives_a_confirmed_endorsement(
    app: Flask, session: Session, room: tuple[str, FlaskClient, FlaskClient, FlaskClient]
) -> None:
    room_id, staff, member, _other = room
    link = _invite(staff, room_id, "Women Refugees Forum", "Malaysia")
    page = member.get(link).get_data(as_text=True)
    assert "<strong>Women Refugees Forum</strong> (Malaysia)" in page
    assert post_signed_in(member, link).status_code == 302
    signon = staff.get(f"/rooms/{room_id}/sign-on").get_data(as_text=True)
    assert "Women Refugees Forum (Malaysia)" in signon
    assert "confirmed by invitation" in signon
    assert '<span class="badge">self-declared</span>' not in signon
    # Nothing to review: it publishes, with the name as the coordinator entered it.
    assert _publish(staff, room_id) == 302
    bundle = app.test_client().get("/statements/right-to-work/v/1/bundle.json").get_json()
    assert bundle["statement"]["signatories"] == [
        {"name": "Women Refugees Forum", "country": "Malaysia"}
    ]


def test_publication_waits_for_self_declared_names(
    room: tuple[str, FlaskClient, FlaskClient, FlaskClient],
) -> None:
    room_id, staff, member, other = room
    signon = f"/rooms/{room_id}/sign-on"
    assert (
        post_signed_in(member, signon, {"kind": "public", "name": "Any Name At All"}).status_code
        == 302
    )
    assert post_signed_in(other, f"{signon}/received", {"name": "Letter Org"}).status_code == 403
    assert post_signed_in(staff, f"{signon}/received", {"name": "Letter Org"}).status_code == 302
    page = staff.get(signon).get_data(as_text=True)
    assert '<span class="badge">self-declared</span>' in page
    assert "received by a coordinator" in page
    # Members never see the mark.
    assert "self-declared" not in other.get(signon).get_data(as_text=True)
    refused = post_signed_in(
        staff, f"/rooms/{room_id}/publish", {"slug": "right-to-work", "confirm": "y"}
    )
    assert refused.status_code == 409
    assert "not yet reviewed" in refused.get_data(as_text=True)
    ids = re.findall(rf"/rooms/{room_id}/sign-on/([0-9a-f]{{32}})/confirm", page)
    assert len(ids) == 1, "only the member's typed name waits; the letter does not"
    assert post_signed_in(other, f"{signon}/{ids[0]}/confirm").status_code == 403
    assert post_signed_in(staff, f"{signon}/{'f' * 32}/confirm").status_code == 404
    assert post_signed_in(staff, f"{signon}/{ids[0]}/confirm").status_code == 302
    assert '<span class="badge">self-declared</span>' not in staff.get(signon).get_data(
        as_text=True
    )
    assert _publish(staff, room_id) == 302


def test_bad_invitations_are_refused(
    session: Session, room: tuple[str, FlaskClient, FlaskClient, FlaskClient]
) -> None:
    room_id, staff, member, _other = room
    path = f"/rooms/{room_id}/sign-on/organisations"
    assert post_signed_in(member, path, {"org-name": "Fake Org"}).status_code == 403
    assert post_signed_in(staff, path, {"org-name": "   "}).status_code == 400
    assert post_signed_in(staff, path, {"org-name": "Two\nlines"}).status_code == 400
    assert member.get(f"/rooms/{room_id}/sign-on/organisation/not-a-real-one").status_code == 404
    assert member.get(f"/rooms/{room_id}/sign-on/organisation/{'x' * 300}").status_code == 404
    link = _invite(staff, room_id, "Secret Partner Org")
    token = link.rsplit("/", 1)[1]
    # Without the form's token, nothing.
    assert member.post(link).status_code == 400
    # At rest: neither the organisation's name nor the link's secret.
    session.expire_all()
    blob = b"\n".join(dump_database(session))
    assert b"Secret Partner Org" not in blob
    assert token.encode() not in blob


def test_a_coordinator_revokes_an_invitation_link(
    session: Session, room: tuple[str, FlaskClient, FlaskClient, FlaskClient]
) -> None:
    room_id, staff, member, other = room
    link = _invite(staff, room_id, "Gone Partner Org", "Thailand")
    kept = _invite(staff, room_id, "Kept Partner Org")
    signon = f"/rooms/{room_id}/sign-on"
    page = staff.get(signon).get_data(as_text=True)
    ids = re.findall(rf"{signon}/organisations/([0-9a-f]{{32}})/revoke", page)
    assert len(ids) == 2
    assert "Revoke the link for" in page
    # Members neither see the links nor may revoke them.
    assert "/revoke" not in member.get(signon).get_data(as_text=True)
    gone = ids[0]  # sorted by name: Gone Partner Org first
    assert post_signed_in(member, f"{signon}/organisations/{gone}/revoke").status_code == 403
    assert post_signed_in(staff, f"{signon}/organisations/{'f' * 32}/revoke").status_code == 404
    assert post_signed_in(staff, f"{signon}/organisations/{gone}/revoke").status_code == 302
    page = staff.get(signon).get_data(as_text=True)
    assert '<span class="badge">revoked</span>' in page
    # The revoked link says so plainly, for reading and for signing; the other still works.
    shown = member.get(link)
    assert shown.status_code == 410
    assert "revoked this invitation link" in shown.get_data(as_text=True)
    assert post_signed_in(member, link).status_code == 410
    assert "Gone Partner Org" not in staff.get(signon).get_data(as_text=True).split("Links made")[0]
    assert post_signed_in(other, kept).status_code == 302
    # Only the link's hash is stored, revoked or not.
    session.expire_all()
    blob = b"\n".join(dump_database(session))
    for path in (link, kept):
        assert path.rsplit("/", 1)[1].encode() not in blob
