"""Pages of a large room issue as many SQL statements as pages of a small one (no N+1)."""

from __future__ import annotations

import random
import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from statements.auth import service as auth
from statements.drafting import agreement, consent
from statements.drafting import service as drafting
from statements.drafting.contributions import flag
from tests.support import (
    Staff,
    app_today,
    counting,
    invitation_link,
    join_room,
    login_member,
    login_staff,
    make_member,
    make_room,
    make_staff,
)


def _room(
    app: Flask,
    session: Session,
    coordinator: auth.Identity,
    member: auth.Identity,
    contributions: int,
    versions: int,
) -> str:
    room_id = make_room(session, coordinator, title=f"Room with {contributions}")
    join_room(session, coordinator, room_id, member)
    access = drafting.open_room(session, room_id, member)
    proposals = contributions // 10
    access.room.pending_cap = contributions + proposals + 1
    anchors = [s.anchor for s in drafting.version(session, access).sections]
    chooser = random.Random(contributions)
    # Comments, and changes each shown as a diff of its section (two, once it changed).
    made = [
        drafting.submit_contribution(
            session,
            access,
            chooser.choice(["comment", "amendment", "addition"]),
            chooser.choice(anchors),
            f"Contribution {n}, with **emphasis**.",
            app_today(),
        )
        for n in range(contributions)
    ]
    coordinating = drafting.open_room(session, room_id, coordinator)
    # Some comments are addressed, with a note.
    for contribution in [c for c in made if c.kind == "comment"][: contributions // 10]:
        drafting.address(session, coordinating, contribution.id, "Done.", app_today())
    # Proposals with objections and their reasons, which members read here; consent checks.
    agreement.show_reasons(session, coordinating, True, app_today())
    for n in range(proposals):
        anchor = anchors[n % len(anchors)]
        cid = drafting.submit_contribution(
            session, access, "amendment", anchor, f"Proposal {n}.", app_today()
        ).id
        agreement.object_to(session, coordinating, cid, f"Reason {n}.")
    for n in range(proposals // 3):
        check = consent.open_check(session, coordinating, None, f"Check {n}?", app_today())
        consent.answer_check(session, access, check.id, "object", f"Answer {n}.")
        if n % 2:
            consent.close_check(session, coordinating, check.id, app_today())
    for n in range(1, versions):
        text = drafting.version(session, coordinating).markdown + f"\nParagraph {n}.\n"
        drafting.edit_draft(session, coordinating, text, f"Edit {n}", n, app_today())
    session.commit()
    return room_id


def coordinator_and_member(
    app: Flask, session: Session
) -> tuple[Staff, auth.Identity, str, auth.Identity]:
    """A coordinator (their staff account and identity) and a member (codename, identity)."""
    config: auth.AuthConfig = app.extensions["auth"]
    clock = app.extensions["clock"]
    staff = make_staff(app, session)
    account, keys = auth.login_staff(
        session, config, staff.username, staff.passphrase, staff.code(clock()), clock()
    )
    clock.advance(seconds=30)
    coordinator = auth.Identity(account, keys, b"", b"")
    member_account, codename = make_member(app, session)
    _, member_keys = auth.login_member(session, config, codename)
    member = auth.Identity(member_account, member_keys, b"", b"")
    return staff, coordinator, codename, member


def signed_in_clients(app: Flask, staff: Staff, codename: str) -> tuple[FlaskClient, FlaskClient]:
    """A browser signed in as the member, and one as the coordinator."""
    member_client: FlaskClient = app.test_client()
    assert login_member(member_client, codename).status_code == 302
    coordinator_client: FlaskClient = app.test_client()
    assert login_staff(coordinator_client, app, staff).status_code == 302
    return member_client, coordinator_client


def test_page_statement_counts_do_not_grow_with_the_room(app: Flask, session: Session) -> None:
    staff, coordinator, codename, member = coordinator_and_member(app, session)

    small = _room(app, session, coordinator, member, contributions=150, versions=2)
    large = _room(app, session, coordinator, member, contributions=1000, versions=100)

    member_client, coordinator_client = signed_in_clients(app, staff, codename)

    pages = [
        (member_client, "/rooms/{}"),
        (member_client, "/rooms/{}/contributions"),
        (member_client, "/rooms/{}/contributions?page=3"),
        (member_client, "/rooms/{}/mine"),
        (member_client, "/rooms/{}/agreement"),
        (coordinator_client, "/rooms/{}/agreement"),
        (coordinator_client, "/rooms/{}/contributions"),
        (member_client, "/rooms/{}/versions"),
        (member_client, "/rooms/{}/versions?page=2&from=1&to=2"),
        (coordinator_client, "/rooms/{}/moderation"),
        (coordinator_client, "/rooms/{}/moderation?page=2&kind=comment"),
        (coordinator_client, "/rooms"),
    ]
    for client, path in pages:
        counts = []
        for room_id in (small, large):
            # Once first: the first request of a minute also extends the session's expiry.
            client.get(path.format(room_id))
            with counting(app) as statements:
                response = client.get(path.format(room_id))
            assert response.status_code == 200, path
            counts.append(len(statements))
        assert counts[0] == counts[1], (path, counts)

    # The long history is listed a page at a time, newest first, with every number to compare.
    first_page = member_client.get(f"/rooms/{large}/versions").get_data(as_text=True)
    assert first_page.count("<li>Version ") == 25
    assert '<ol reversed start="100"' in first_page
    assert len(re.findall(r'<option value="[0-9]+"', first_page)) == 200
    assert "Next page" in first_page
    last_page = member_client.get(f"/rooms/{large}/versions?page=4").get_data(as_text=True)
    assert last_page.count("<li>Version ") == 25
    assert "<li>Version 1, " in last_page
    assert "Next page" not in last_page
    assert member_client.get(f"/rooms/{large}/versions?from=101").status_code == 404


def test_the_overview_and_invitations_pages_do_not_grow_with_the_rooms(
    app: Flask, session: Session
) -> None:
    """The coordinators' overview counts for all their rooms at once; the invitations
    page reads every label with the keys it already holds."""


def _discussed_room(
    session: Session,
    coordinator: auth.Identity,
    member: auth.Identity,
    others: list[auth.Identity],
    replies: int,
) -> tuple[str, str]:
    """A room whose one contribution (the member's) has a thread of this many replies,
    nested, flagged and asked about; returns the room and the contribution."""
    from statements.drafting import author_messages, discussion

    room_id = make_room(session, coordinator, title=f"Thread of {replies}")
    join_room(session, coordinator, room_id, member)
    for other in others:
        join_room(session, coordinator, room_id, other)
    access = drafting.open_room(session, room_id, member)
    cid = drafting.submit_contribution(session, access, "comment", None, "Discuss.", app_today()).id
    coordinating = drafting.open_room(session, room_id, coordinator)
    parent = None
    for n in range(replies):
        writer = others[n % len(others)]
        reply = discussion.submit_reply(
            session, drafting.open_room(session, room_id, writer), cid, parent, f"Reply {n}."
        )
        parent = reply.id if n % 3 else None
        if n % 4 == 0:
            discussion.flag_reply(session, access, reply.id)
        if n % 5 == 0:
            author_messages.ask_author(session, coordinating, cid, f"Question {n}?", app_today())
    discussion.submit_reply(session, access, cid, None, "My own reply.")
    discussion.resolve_thread(session, coordinating, cid, "Settled.", app_today())
    session.commit()
    return room_id, cid


def test_discussion_statement_counts_do_not_grow_with_the_thread(
    app: Flask, session: Session
) -> None:
    staff, coordinator, codename, member = coordinator_and_member(app, session)
    config: auth.AuthConfig = app.extensions["auth"]
    client: FlaskClient = app.test_client()
    assert login_staff(client, app, staff).status_code == 302

    def add_rooms(count: int) -> str:
        room_id = ""
        for n in range(count):
            room_id = _room(app, session, coordinator, member, contributions=n % 3, versions=1)
            access = drafting.open_room(session, room_id, coordinator)
            for view in drafting.contributions_page(session, access, 1)[0][:1]:
                flag(session, access, view.id)
            session.commit()
        return room_id

    def statements_for(path: str) -> int:
        client.get(path)
        with counting(app) as statements:
            response = client.get(path)
        assert response.status_code == 200, path
        return len(statements)

    room = add_rooms(2)
    invitation_link(client, room, app_today(), label="for the first group")
    few = (statements_for("/rooms/overview"), statements_for(f"/rooms/{room}/invitations"))
    add_rooms(10)
    for n in range(10):
        invitation_link(client, room, app_today(), label=f"for group {n}")
    many = (statements_for("/rooms/overview"), statements_for(f"/rooms/{room}/invitations"))
    assert few == many
    assert client.get("/rooms/overview").get_data(as_text=True).count("<tr>") == 12 + 1
    others = []
    for _ in range(3):
        other_account, other_codename = make_member(app, session)
        _, other_keys = auth.login_member(session, config, other_codename)
        others.append(auth.Identity(other_account, other_keys, b"", b""))

    small = _discussed_room(session, coordinator, member, others, replies=3)
    large = _discussed_room(session, coordinator, member, others, replies=120)

    member_client, coordinator_client = signed_in_clients(app, staff, codename)
    pages = [
        (member_client, "/rooms/{room}"),
        (member_client, "/rooms/{room}/contributions"),
        (member_client, "/rooms/{room}/mine"),
        (member_client, "/rooms/{room}/contributions/{cid}/thread"),
        (member_client, "/rooms/{room}/questions"),
        (coordinator_client, "/rooms/{room}/contributions/{cid}/thread"),
        (coordinator_client, "/rooms/{room}/discussion"),
        (coordinator_client, "/rooms/{room}/questions"),
    ]
    for client, path in pages:
        counts = []
        for room_id, cid in (small, large):
            url = path.format(room=room_id, cid=cid)
            client.get(url)
            with counting(app) as statements:
                response = client.get(url)
            assert response.status_code == 200, path
            counts.append(len(statements))
        assert counts[0] == counts[1], (path, counts)
    # The large thread is all there for the coordinators, nested, and flagged ones first.
    thread = coordinator_client.get(f"/rooms/{large[0]}/contributions/{large[1]}/thread")
    assert thread.get_data(as_text=True).count('class="reply depth-') == 121
    queue = coordinator_client.get(f"/rooms/{large[0]}/discussion").get_data(as_text=True)
    assert "Review first" in queue
    assert "Next page" in queue
