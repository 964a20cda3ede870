"""Every route that changes something refuses a request without a CSRF token.

The routes come from the app's URL map, not from a list kept by hand, so a new route is
covered the day it is added. The request comes from an administrator who coordinates
the rooms involved, so each would otherwise be allowed: the CSRF page proves the token
was what stopped it, not a missing login or role.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from statements.auth import service as auth
from statements.drafting import author_messages, consent, discussion
from statements.drafting import service as drafting
from statements.models import Endorsement, Role, Room, RoomMember
from statements.publishing import service as publishing
from tests.support import (
    app_today,
    endorse,
    join_room,
    make_room,
    member_identity,
    open_signon,
    published_statement,
    signed_in_staff,
)

CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Reviewed exemptions, and why. Adding one here needs a reason as good as these.
EXEMPT = {
    # Checking a bundle changes nothing, and public readers must get no cookie.
    "public.verify",
}
CSRF_PAGE = "This form has expired"


def _exempt_endpoints(app: Flask) -> set[str]:
    """The endpoints CSRFProtect lets through, as it decides (by view or by blueprint)."""
    csrf = app.extensions["csrf"]
    exempt = set()
    for endpoint, view in app.view_functions.items():
        name = f"{view.__module__}.{view.__name__}"
        blueprint = endpoint.rpartition(".")[0]
        if name in csrf._exempt_views or blueprint in csrf._exempt_blueprints:
            exempt.add(endpoint)
    return exempt


def test_no_route_is_exempt_but_the_reviewed_ones(app: Flask) -> None:
    assert _exempt_endpoints(app) == EXEMPT


def test_every_changing_route_refuses_a_request_without_a_token(
    app: Flask, session: Session
) -> None:
    today = app_today()
    admin, client = signed_in_staff(app, session, "admin", Role.ADMIN)
    # A room in drafting, with a member's contribution and an open invitation.
    room_id = make_room(session, admin)
    member = member_identity(app, session)
    join_room(session, admin, room_id, member)
    contribution = drafting.submit_contribution(
        session, drafting.open_room(session, room_id, member), "comment", None, "Yes.", today
    )
    # A consent check open in it (agreement).
    check = consent.open_check(
        session, drafting.open_room(session, room_id, admin), None, "", today
    )
    # A reply in its thread, and a question to its author (statements/drafting/discussion.py).
    reply = discussion.submit_reply(
        session, drafting.open_room(session, room_id, member), contribution.id, None, "Why?"
    )
    question = author_messages.ask_author(
        session, drafting.open_room(session, room_id, admin), contribution.id, "Which?", today
    )
    invitation, invitation_token = drafting.create_invitation(
        session, drafting.open_room(session, room_id, admin), 3, today + timedelta(days=7), today
    )
    # A room in sign-on with an organisation's endorsement.
    signon_room = make_room(session, admin, title="Right to health")
    join_room(session, admin, signon_room, member)
    open_signon(session, admin, signon_room)
    endorse(session, signon_room, member, "public", "Refugee Rights Network", "Thailand")
    endorsement = session.scalar(select(Endorsement).where(Endorsement.room_id == signon_room))
    assert endorsement is not None
    # A published statement this admin coordinates, and a coordinator awaiting enrolment.
    _admin, slug = published_statement(app, session, coordinator=admin)
    pending, enrolment_token = auth.invite_staff(
        session, "newcomer", Role.COORDINATOR, app.extensions["clock"]()
    )
    session.commit()
    assert client.get("/account").status_code == 200

    values = {
        "room_id": room_id,
        "contribution_id": contribution.id,
        "invitation_id": invitation.id,
        "number": drafting.member_number(room_id, member.account.id),
        "endorsement_id": endorsement.id,
        "slug": slug,
        "account_id": pending.id,
        "check_id": check.id,
        "reply_id": reply.id,
        "message_id": question.id,
        "proposal_id": "a" * 32,
        "link_id": "b" * 32,
    }
    per_endpoint = {
        ("auth.enrol", "token"): enrolment_token,
        ("drafting.invitation", "token"): invitation_token,
        ("publishing.organisation_invitation", "token"): "an-invitation-secret",
    }
    urls = app.url_map.bind("localhost")
    checked = []
    for rule in app.url_map.iter_rules():
        methods = (rule.methods or set()) & CHANGING
        if not methods or rule.endpoint in EXEMPT:
            continue
        arguments = {}
        for name in rule.arguments:
            value = per_endpoint.get((rule.endpoint, name), values.get(name))
            assert value is not None, f"no value for <{name}> of {rule.endpoint}: add one"
            if name == "room_id" and rule.endpoint.startswith("publishing."):
                value = signon_room
            arguments[name] = value
        path = urls.build(rule.endpoint, arguments, method=sorted(methods)[0])
        for method in sorted(methods):
            response = client.open(path, method=method, data={})
            page = response.get_data(as_text=True)
            assert response.status_code == 400, f"{method} {rule.endpoint}: {response.status}"
            assert CSRF_PAGE in page, f"{method} {rule.endpoint} was not stopped by CSRF"
            checked.append(rule.endpoint)

    # Form-less buttons are among them, as are the sign-in forms.
    assert {
        "drafting.leave",
        "drafting.change_state",
        "drafting.support",
        "drafting.withdraw",
        "drafting.revoke",
        "drafting.remove_member",
        "publishing.withdraw",
        "publishing.remove",
        "publishing.embargo_cancel",
        "publishing.press_link_revoke",
        "auth.logout",
        "auth.login",
    } <= set(checked)
    # Nothing happened: still signed in, still in every room, nothing moved on.
    assert client.get("/account").status_code == 200
    session.expire_all()
    assert session.get(RoomMember, (room_id, admin.account.id)) is not None
    assert session.get(Room, room_id).state == "drafting"  # type: ignore[union-attr]
    assert session.get(Room, signon_room).state == "sign-on"  # type: ignore[union-attr]
    assert session.get(Endorsement, endorsement.id) is not None
    latest = publishing.latest(session, slug).row
    assert (latest.version, latest.status) == (1, "published")


def test_an_exempt_route_answers_without_a_token(client: FlaskClient) -> None:
    response = client.post("/verify", data={})
    assert CSRF_PAGE not in response.get_data(as_text=True)
