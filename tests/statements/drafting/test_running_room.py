"""Running the room: deadlines moved with a reason, the coordinators' overview, invitation
labels and links shown once, invitations that outlive a removal, and the log in words."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import date, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crypto.errors import CryptoError
from crypto.keys import new_key, open_sealed, wrap_with_link_secret
from statements.auth.service import Identity
from statements.drafting import author_messages, contributions, deadlines, invitations, overview
from statements.drafting import service as drafting
from statements.drafting.access import INVITATION_KEY, invitation_key_owner
from statements.drafting.errors import (
    InvalidInput,
    InvitationInvalid,
    NotCoordinator,
    NotEligible,
    WrongState,
)
from statements.encoding import b64url, unb64url
from statements.models import Invitation, Room
from tests.conftest import Clock
from tests.support import (
    app_today,
    csrf_token,
    endorse,
    invitation_link,
    join_room,
    make_room,
    member_identity,
    open_signon,
    post_signed_in,
    publish_room,
    signed_in_member,
    signed_in_staff,
    staff_identity,
)

LABEL = "for the Chin women's group"


def _in_session(identity: Identity) -> Identity:
    """The identity as a signed-in browser's request holds it: with its session key."""
    return replace(identity, session_key=new_key())


# --- deadlines ------------------------------------------------------------------------


def test_a_coordinator_moves_a_deadline_and_every_member_reads_why(
    session: Session, coordinator: Identity, member: Identity, room_id: str
) -> None:
    access = drafting.open_room(session, room_id, coordinator)
    later = access.room.contribution_deadline + timedelta(days=7)
    signon = access.room.signon_deadline
    deadlines.change_deadlines(
        session, access, later, signon, "Two groups asked for more time.", app_today()
    )
    room = session.get(Room, room_id)
    assert room is not None
    assert (room.contribution_deadline, room.signon_deadline) == (later, signon)

    notice = deadlines.deadline_notice(drafting.open_room(session, room_id, member))
    assert notice == deadlines.DeadlineNotice(
        changed_on=app_today(),
        contribution_deadline=later,
        signon_deadline=None,
        reason="Two groups asked for more time.",
    )
    # The reason is the coordinator's words: sealed under the room key, never plain.
    assert room.deadline_notice is not None
    assert b"Two groups" not in room.deadline_notice
    (entry,) = [
        line for line in drafting.moderation_log(session, access, 1) if line.action == "deadlines"
    ]
    assert entry.details["note"] == "Two groups asked for more time."
    assert entry.details["contribution_deadline"] == later.isoformat()
    assert entry.details["signon_deadline"] is None
    assert (
        entry.details["previous_contribution_deadline"] == (later - timedelta(days=7)).isoformat()
    )


@pytest.mark.parametrize(
    ("contributions", "signon", "reason", "field", "why"),
    [
        (-1, 28, "Reason.", "contribution_deadline", "past"),
        (14, -1, "Reason.", "signon_deadline", "past"),
        (20, 15, "Reason.", "signon_deadline", "before_contribution_deadline"),
        (14, 28, "Reason.", "contribution_deadline", "unchanged"),
        (15, 28, "", "reason", "required"),
        (15, 28, "   \n ", "reason", "required"),
        (15, 28, "x" * 2001, "reason", "too_long"),
    ],
)
def test_bad_deadlines_are_refused_and_change_nothing(
    session: Session,
    coordinator: Identity,
    room_id: str,
    contributions: int,
    signon: int,
    reason: str,
    field: str,
    why: str,
) -> None:
    access = drafting.open_room(session, room_id, coordinator)
    before = (access.room.contribution_deadline, access.room.signon_deadline)
    with pytest.raises(InvalidInput) as refused:
        deadlines.change_deadlines(
            session,
            access,
            app_today() + timedelta(days=contributions),
            app_today() + timedelta(days=signon),
            reason,
            app_today(),
        )
    assert (refused.value.field, refused.value.reason) == (field, why)
    assert (access.room.contribution_deadline, access.room.signon_deadline) == before
    assert access.room.deadline_notice is None
    assert not [
        line for line in drafting.moderation_log(session, access, 1) if line.action == "deadlines"
    ]


def test_a_deadline_already_passed_may_stay_while_the_other_moves(
    session: Session, coordinator: Identity, room_id: str
) -> None:
    open_signon(session, coordinator, room_id)
    access = drafting.open_room(session, room_id, coordinator)
    # Three weeks on, contributions closed long ago; sign-on is extended.
    later = app_today() + timedelta(days=21)
    deadlines.change_deadlines(
        session,
        access,
        access.room.contribution_deadline,
        later + timedelta(days=14),
        "More organisations want to sign.",
        later,
    )
    assert access.room.signon_deadline == later + timedelta(days=14)


def test_members_cannot_move_deadlines_nor_anyone_once_published(
    app: Flask, session: Session, coordinator: Identity, member: Identity, room_id: str
) -> None:
    with pytest.raises(NotCoordinator):
        deadlines.change_deadlines(
            session,
            drafting.open_room(session, room_id, member),
            app_today() + timedelta(days=20),
            app_today() + timedelta(days=30),
            "Mine.",
            app_today(),
        )
    open_signon(session, coordinator, room_id)
    endorse(session, room_id, member, "anonymous")
    publish_room(session, coordinator, room_id)
    with pytest.raises(WrongState):
        deadlines.change_deadlines(
            session,
            drafting.open_room(session, room_id, coordinator),
            app_today() + timedelta(days=20),
            app_today() + timedelta(days=30),
            "Too late.",
            app_today(),
        )


# --- the log in words -----------------------------------------------------------------


def test_the_log_says_what_each_stage_change_was_and_what_coordinators_did(
    app: Flask, session: Session, clock: Clock
) -> None:
    coordinator, client = signed_in_staff(app, session)
    room_id = make_room(session, coordinator, today=clock().date())
    session.commit()
    assert (
        post_signed_in(client, f"/rooms/{room_id}/state", {"target": "consolidating"}).status_code
        == 302
    )
    assert (
        post_signed_in(client, f"/rooms/{room_id}/state", {"target": "drafting"}).status_code == 302
    )
    moved = post_signed_in(
        client,
        f"/rooms/{room_id}/deadlines",
        {
            "contribution_deadline": (clock().date() + timedelta(days=20)).isoformat(),
            "signon_deadline": (clock().date() + timedelta(days=40)).isoformat(),
            "reason": "The consultation was postponed.",
        },
    )
    assert moved.status_code == 302
    page = client.get(f"/rooms/{room_id}/moderation").get_data(as_text=True)
    assert "Stage changed from drafting to consolidating." in page
    assert "Stage changed from consolidating to drafting." in page
    assert "A coordinator moved the deadlines: contributions close on" in page
    assert "Why: <bdi>The consultation was postponed.</bdi>" in page
    # Dates are whole and isolated inside the sentence.
    assert (
        f'<time class="date" datetime="{(clock().date() + timedelta(days=20)).isoformat()}">'
        in page
    )


def test_log_sentences_escape_what_coordinators_typed(
    app: Flask, session: Session, clock: Clock
) -> None:
    coordinator, client = signed_in_staff(app, session)
    room_id = make_room(session, coordinator, today=clock().date())
    session.commit()
    post_signed_in(
        client,
        f"/rooms/{room_id}/deadlines",
        {
            "contribution_deadline": (clock().date() + timedelta(days=20)).isoformat(),
            "signon_deadline": (clock().date() + timedelta(days=40)).isoformat(),
            "reason": "<script>alert(1)</script>",
        },
    )
    page = client.get(f"/rooms/{room_id}/moderation").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    room = client.get(f"/rooms/{room_id}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in room


# --- deadlines through the pages ------------------------------------------------------


def test_moving_deadlines_through_the_page(app: Flask, session: Session, clock: Clock) -> None:
    coordinator, client = signed_in_staff(app, session)
    today = clock().date()
    room_id = make_room(session, coordinator, today=today)
    session.commit()
    _member, member_client = signed_in_member(app, session, coordinator, room_id)
    page = f"/rooms/{room_id}/deadlines"
    assert client.get(page).status_code == 200
    assert f'value="{(today + timedelta(days=14)).isoformat()}"' in client.get(page).get_data(
        as_text=True
    )

    def post(contributions: date, signon: date, reason: str) -> tuple[int, str]:
        response = post_signed_in(
            client,
            page,
            {
                "contribution_deadline": contributions.isoformat(),
                "signon_deadline": signon.isoformat(),
                "reason": reason,
            },
        )
        return response.status_code, response.get_data(as_text=True)

    status, text = post(today - timedelta(days=1), today + timedelta(days=28), "Why.")
    assert status == 400
    assert "Choose today or a later date. Nothing was changed." in text
    status, text = post(today + timedelta(days=30), today + timedelta(days=20), "Why.")
    assert status == 400
    assert "Sign-on cannot close before contributions do." in text
    status, text = post(today + timedelta(days=20), today + timedelta(days=28), "")
    assert status == 400
    assert "Say why the deadlines move." in text
    status, text = post(today + timedelta(days=20), today + timedelta(days=28), "x" * 2001)
    assert status == 400
    assert "Keep the reason within 2,000 characters." in text
    status, text = post(today + timedelta(days=14), today + timedelta(days=28), "Why.")
    assert status == 400
    assert "Both dates are as they were" in text
    response = post_signed_in(
        client, page, {"contribution_deadline": "not a date", "signon_deadline": "", "reason": "x"}
    )
    assert response.status_code == 400
    room = session.get(Room, room_id)
    session.refresh(room)
    assert room is not None
    assert room.contribution_deadline == today + timedelta(days=14)
    assert room.deadline_notice is None

    # A member can neither see the form nor post it.
    assert member_client.get(page).status_code == 403
    refused = post_signed_in(
        member_client,
        page,
        {
            "contribution_deadline": (today + timedelta(days=20)).isoformat(),
            "signon_deadline": (today + timedelta(days=28)).isoformat(),
            "reason": "Mine.",
        },
    )
    assert refused.status_code == 403

    status, _text = post(
        today + timedelta(days=20), today + timedelta(days=28), "The ministry delayed its hearing."
    )
    assert status == 302
    shown = member_client.get(f"/rooms/{room_id}").get_data(as_text=True)
    assert "contributions now close on" in shown
    assert (today + timedelta(days=20)).isoformat() in shown
    assert "Why: <bdi>The ministry delayed its hearing.</bdi>" in shown


# --- the overview -----------------------------------------------------------------------


def test_the_overview_shows_each_coordinated_room_and_what_waits_there(
    app: Flask, session: Session, coordinator: Identity, member: Identity, room_id: str
) -> None:
    other = make_room(session, coordinator, title="Detention")
    drafting.change_state(
        session, drafting.open_room(session, other, coordinator), "consolidating", app_today()
    )
    elsewhere = staff_identity(app, session, "elsewhere")
    make_room(session, elsewhere, title="Not theirs")
    member_access = drafting.open_room(session, room_id, member)
    for n in range(3):
        drafting.submit_contribution(
            session, member_access, "comment", None, f"Note {n}.", app_today()
        )
    flagged = drafting.submit_contribution(
        session, member_access, "comment", None, "Flag me.", app_today()
    )
    flagger = member_identity(app, session)
    join_room(session, coordinator, room_id, flagger)
    contributions.flag(session, drafting.open_room(session, room_id, flagger), flagged.id)
    # Two questions to the author of one of them; the author answers one.
    coordinating = drafting.open_room(session, room_id, coordinator)
    answered = author_messages.ask_author(session, coordinating, flagged.id, "Which?", app_today())
    author_messages.ask_author(session, coordinating, flagged.id, "And where?", app_today())
    author_messages.answer_author(session, member_access, answered.id, "The clinic.")

    lines = overview.overview(session, coordinator, app_today())
    assert [line.title for line in lines] == ["Right to work", "Detention"]
    first, second = lines
    assert first.counts == {"pending": 4, "flags": 1, "questions": 1}
    assert (first.next_deadline, first.days_left) == (app_today() + timedelta(days=14), 14)
    assert second.counts == {"pending": 0, "flags": 0, "questions": 0}
    assert (second.next_deadline, second.days_left) == (app_today() + timedelta(days=28), 28)
    # A member's account has no overview; a member of a room sees none of it.
    with pytest.raises(NotEligible):
        overview.overview(session, member, app_today())


def test_the_overview_page(app: Flask, session: Session, clock: Clock) -> None:
    coordinator, client = signed_in_staff(app, session)
    room_id = make_room(session, coordinator, today=clock().date())
    session.commit()
    _member, member_client = signed_in_member(app, session, coordinator, room_id)
    page = client.get("/rooms/overview")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Right to work" in text
    assert "in 14 days" in text
    assert 'href="/rooms/overview"' in client.get("/rooms").get_data(as_text=True)
    assert member_client.get("/rooms/overview").status_code == 400
    assert 'href="/rooms/overview"' not in member_client.get("/rooms").get_data(as_text=True)


# --- invitation labels and the link shown once ------------------------------------------


def test_a_label_is_sealed_and_read_by_coordinators_only(
    session: Session, coordinator: Identity, room_id: str
) -> None:
    access = drafting.open_room(session, room_id, coordinator)
    labelled, _token = invitations.create_invitation(
        session, access, 3, app_today(), app_today(), label=f"  {LABEL} "
    )
    plain, _other = invitations.create_invitation(session, access, 3, app_today(), app_today())
    assert labelled.label is not None
    assert LABEL.encode() not in labelled.label
    assert plain.label is None
    rows = invitations.invitations(session, access)
    assert invitations.invitation_labels(access, rows) == {labelled.id: LABEL}


def test_members_read_no_label(
    session: Session, coordinator: Identity, member: Identity, room_id: str
) -> None:
    access = drafting.open_room(session, room_id, coordinator)
    invitation, _token = invitations.create_invitation(
        session, access, 3, app_today(), app_today(), label=LABEL
    )
    with pytest.raises(NotCoordinator):
        invitations.invitation_labels(drafting.open_room(session, room_id, member), [invitation])


@pytest.mark.parametrize(
    ("label", "why"),
    [("x" * 121, "too_long"), ("two\nlines", "one_line"), ("evil\u202eliv", "invisible")],
)
def test_bad_labels_are_refused_and_create_nothing(
    session: Session, coordinator: Identity, room_id: str, label: str, why: str
) -> None:
    access = drafting.open_room(session, room_id, coordinator)
    with pytest.raises(InvalidInput) as refused:
        invitations.create_invitation(session, access, 3, app_today(), app_today(), label=label)
    assert (refused.value.field, refused.value.reason) == ("label", why)
    assert session.scalar(select(func.count()).select_from(Invitation)) == 0


def test_the_link_is_shown_once_and_only_to_the_session_that_made_it(
    app: Flask, session: Session, coordinator: Identity, room_id: str
) -> None:
    creator = _in_session(coordinator)
    access = drafting.open_room(session, room_id, creator)
    invitation, token = invitations.create_invitation(session, access, 3, app_today(), app_today())
    assert invitation.link_once is not None
    assert token.encode() not in invitation.link_once
    # Another browser of the same coordinator, or another coordinator, reads nothing.
    other = drafting.open_room(session, room_id, _in_session(coordinator))
    assert invitations.shown_link(session, other, invitation.id) is None
    assert invitation.link_once is not None
    assert invitations.shown_link(session, access, invitation.id) == token
    assert invitation.link_once is None
    assert invitations.shown_link(session, access, invitation.id) is None
    assert invitations.shown_link(session, access, "nonsense") is None


def test_creating_an_invitation_redirects_and_a_reload_makes_no_second_link(
    app: Flask, session: Session, clock: Clock
) -> None:
    _coordinator, client = signed_in_staff(app, session)
    coordinator = _coordinator
    room_id = make_room(session, coordinator, today=clock().date())
    session.commit()
    page = f"/rooms/{room_id}/invitations"
    data = {
        "uses": "3",
        "expires_on": (clock().date() + timedelta(days=7)).isoformat(),
        "label": LABEL,
    }
    created = client.post(page, data={"csrf_token": csrf_token(client, page), **data})
    assert created.status_code == 303
    location = created.headers["Location"]
    shown = client.get(location)
    text = shown.get_data(as_text=True)
    link = re.search(r"http://localhost/invitation/([A-Za-z0-9_.-]+)", text)
    assert link
    token = link.group(1)
    # The secret half of the link is never in a URL the server sees again.
    assert token.split(".")[1] not in location
    assert "<svg" in text
    assert "Chin women&#39;s group" in text
    # Reloading the page after the redirect shows no link and creates nothing.
    again = client.get(location)
    assert again.status_code == 200
    assert token not in again.get_data(as_text=True)
    assert "was shown once" in again.get_data(as_text=True)
    assert (
        session.scalar(
            select(func.count()).select_from(Invitation).where(Invitation.room_id == room_id)
        )
        == 1
    )
    # The link works.
    assert app.test_client().get(f"/invitation/{token}").status_code == 200


def test_bad_invitation_forms_create_nothing(app: Flask, session: Session, clock: Clock) -> None:
    coordinator, client = signed_in_staff(app, session)
    room_id = make_room(session, coordinator, today=clock().date())
    session.commit()
    _member, member_client = signed_in_member(app, session, coordinator, room_id)
    page = f"/rooms/{room_id}/invitations"
    good = {"uses": "3", "expires_on": (clock().date() + timedelta(days=7)).isoformat()}
    for changes, message in (
        ({"label": "x" * 121}, "Keep the label within 120 characters."),
        ({"label": "evil\u202eliv"}, "Remove the invisible formatting characters"),
        ({"expires_on": (clock().date() - timedelta(days=1)).isoformat()}, "Choose a date"),
    ):
        response = client.post(
            page, data={"csrf_token": csrf_token(client, page), **good, **changes}
        )
        assert response.status_code == 400, changes
        assert message in response.get_data(as_text=True)
    counted = select(func.count()).select_from(Invitation).where(Invitation.room_id == room_id)
    assert session.scalar(counted) == 1  # the member's own, from signed_in_member
    refused = member_client.post(
        page, data={"csrf_token": csrf_token(member_client, "/account"), **good, "label": LABEL}
    )
    assert refused.status_code == 403
    assert session.scalar(counted) == 1
    # Members never see a label: not on the invitation page, not on the room's pages.
    invitation_link(client, room_id, clock().date() + timedelta(days=7), label=LABEL)
    for path in ("", "/contributions", "/versions", "/mine"):
        assert "Chin women" not in member_client.get(f"/rooms/{room_id}{path}").get_data(
            as_text=True
        )


# --- removing a member keeps the other invitations --------------------------------------


def test_removing_a_member_keeps_open_invitations_under_the_new_key(
    app: Flask, session: Session, coordinator: Identity, member: Identity, room_id: str
) -> None:
    access = drafting.open_room(session, room_id, coordinator)
    removed_keys = dict(drafting.open_room(session, room_id, member).keyring.keys)
    invitation, token = invitations.create_invitation(
        session, access, 3, app_today() + timedelta(days=3), app_today(), label=LABEL
    )
    kept = drafting.remove_member(
        session, access, drafting.member_number(room_id, member.account.id), app_today()
    )
    assert kept
    new_version = access.room.key_version
    assert new_version not in removed_keys
    sealed = json.loads(invitation.sealed_keys or b"{}")
    assert set(sealed) == {"1", str(new_version)}

    # The old invitation still works, and leads in with the new key.
    newcomer = member_identity(app, session)
    invitations.accept_invitation(session, token, newcomer, app_today())
    joined = drafting.open_room(session, room_id, newcomer)
    assert joined.keyring.keys[new_version] == access.keyring.keys[new_version]
    # The label, sealed before the rotation, still reads for the coordinators.
    assert invitations.invitation_labels(access, [invitation]) == {invitation.id: LABEL}

    # Nothing the removed member held opens the new key in the invitation.
    blob = unb64url(sealed[str(new_version)])
    owner = invitation_key_owner(invitation.id, room_id, new_version)
    for key in [member.keys.private_key, *removed_keys.values()]:
        with pytest.raises(CryptoError):
            open_sealed(key, blob, purpose=INVITATION_KEY, owner=owner)


def test_removing_a_coordinator_withdraws_the_links_they_may_know(
    app: Flask, session: Session, coordinator: Identity, room_id: str
) -> None:
    access = drafting.open_room(session, room_id, coordinator)
    second = staff_identity(app, session, "second")
    drafting.add_coordinator(session, access, "second")
    invitation, token = invitations.create_invitation(session, access, 3, app_today(), app_today())
    kept = drafting.remove_member(
        session, access, drafting.member_number(room_id, second.account.id), app_today()
    )
    assert not kept
    assert invitation.wrapped_keys is None
    assert invitation.sealed_keys is None
    with pytest.raises(InvitationInvalid):
        invitations.accept_invitation(session, token, member_identity(app, session), app_today())
    (entry,) = [
        line
        for line in drafting.moderation_log(session, access, 1)
        if line.action == "member_removed"
    ]
    assert entry.details == {"invitations": "withdrawn"}


def test_an_invitation_from_before_keypairs_still_works_until_a_rotation(
    app: Flask, session: Session, coordinator: Identity, member: Identity, room_id: str
) -> None:
    """Invitations made before migration 0008 carry the keys under the link itself."""
    access = drafting.open_room(session, room_id, coordinator)
    old, _token = invitations.create_invitation(session, access, 3, app_today(), app_today())
    secret = b"s" * 32
    keyring = {str(v): b64url(k) for v, k in access.keyring.keys.items()}
    old.public_key = None
    old.sealed_keys = None
    old.wrapped_keys = wrap_with_link_secret(
        secret, json.dumps(keyring).encode(), purpose=invitations.INVITATION, owner=old.id
    )
    token = f"{old.id}.{b64url(secret)}"
    session.flush()
    first = member_identity(app, session)
    invitations.accept_invitation(session, token, first, app_today())
    assert drafting.open_room(session, room_id, first).room.id == room_id
    drafting.remove_member(
        session, access, drafting.member_number(room_id, member.account.id), app_today()
    )
    assert old.wrapped_keys is None
    with pytest.raises(InvitationInvalid):
        invitations.accept_invitation(session, token, member_identity(app, session), app_today())


def test_removal_through_the_page_keeps_the_other_invitation(
    app: Flask, session: Session, clock: Clock
) -> None:
    coordinator, client = signed_in_staff(app, session)
    room_id = make_room(session, coordinator, today=clock().date())
    session.commit()
    removed, removed_client = signed_in_member(app, session, coordinator, room_id)
    link = invitation_link(client, room_id, clock().date() + timedelta(days=7), label=LABEL)
    number = drafting.member_number(room_id, removed.account.id)
    done = post_signed_in(client, f"/rooms/{room_id}/members/{number}/remove")
    assert done.status_code == 302
    assert "Open invitations still work" in client.get(done.headers["Location"]).get_data(
        as_text=True
    )
    assert removed_client.get(f"/rooms/{room_id}").status_code == 404
    newcomer = app.test_client()
    joined = newcomer.post(link, data={"csrf_token": csrf_token(newcomer, link)})
    assert joined.status_code == 201
    assert newcomer.get(f"/rooms/{room_id}").status_code == 200
    log = client.get(f"/rooms/{room_id}/moderation").get_data(as_text=True)
    assert "open invitations received the new key" in log
    listing = client.get(f"/rooms/{room_id}/invitations").get_data(as_text=True)
    assert "Chin women&#39;s group" in listing


def test_a_member_who_leaves_leaves_the_invitations_open(
    app: Flask, session: Session, coordinator: Identity, member: Identity, room_id: str
) -> None:
    access = drafting.open_room(session, room_id, coordinator)
    _invitation, token = invitations.create_invitation(session, access, 3, app_today(), app_today())
    drafting.leave_room(session, drafting.open_room(session, room_id, member))
    rotated = drafting.open_room(session, room_id, coordinator)
    newcomer = member_identity(app, session)
    invitations.accept_invitation(session, token, newcomer, app_today())
    assert rotated.room.key_version in drafting.open_room(session, room_id, newcomer).keyring.keys
