"""Objections and consent checks through the HTTP app: forms, counts, results, bad input."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from statements.models import ConsentCheck, Contribution, ModerationMode, Objection
from statements.writes import CONSENT_ANSWER_PUT
from tests.support import csrf_token, make_room, signed_in_member, signed_in_staff


def _post(client: FlaskClient, path: str, form_page: str, data: dict[str, str]) -> tuple[int, str]:
    response = client.post(path, data={"csrf_token": csrf_token(client, form_page), **data})
    return response.status_code, response.get_data(as_text=True)


def test_objecting_over_http(app: Flask, session: Session) -> None:
    coordinator, coordinator_client = signed_in_staff(app, session)
    room_id = make_room(session, coordinator, moderation=ModerationMode.POST)
    session.commit()
    _author, author_client = signed_in_member(app, session, coordinator, room_id)
    _objector, objector_client = signed_in_member(app, session, coordinator, room_id)
    page = f"/rooms/{room_id}/contribute?kind=comment"
    room_page = author_client.get(f"/rooms/{room_id}").get_data(as_text=True)
    anchor = re.findall(r'<li id="(s-[0-9a-f]{8})" class="section">', room_page)[1]
    page = f"/rooms/{room_id}/contribute?kind=amendment&section={anchor}"
    status, _ = _post(author_client, page, page, {"text": "Refugees may work.", "submit": "1"})
    assert status == 302
    session.expire_all()
    cid = str(session.scalar(select(Contribution.id).where(Contribution.room_id == room_id)))
    listing = f"/rooms/{room_id}/contributions"
    text = objector_client.get(listing).get_data(as_text=True)
    assert "0 objections" in text
    assert f"/contributions/{cid}/object" in text
    # The author is not offered to object to their own words.
    assert f"/contributions/{cid}/object" not in author_client.get(listing).get_data(as_text=True)

    form = f"/rooms/{room_id}/contributions/{cid}/object"
    assert objector_client.get(form).status_code == 200
    status, text = _post(objector_client, form, form, {"reason": "  "})
    assert status == 400
    assert "Say why you object. Nothing was saved." in text
    long_reason = "x" * 501
    status, text = _post(objector_client, form, form, {"reason": long_reason})
    assert status == 400
    assert long_reason in text  # what they typed is still there
    assert author_client.get(form).status_code == 409
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Objection)) == 0

    status, _ = _post(objector_client, form, form, {"reason": "It forgets families."})
    assert status == 302
    text = objector_client.get(listing).get_data(as_text=True)
    assert "1 objection" in text
    assert "You object: It forgets families." in text
    # Other members see the count, not the reason, until the room shows reasons.
    text = author_client.get(listing).get_data(as_text=True)
    assert "1 objection" in text
    assert "It forgets families." not in text
    mine = author_client.get(f"/rooms/{room_id}/mine").get_data(as_text=True)
    assert "1 objection" in mine
    queue = coordinator_client.get(f"/rooms/{room_id}/moderation").get_data(as_text=True)
    assert "1 objection" in queue
    assert "It forgets families." in queue

    settings = f"/rooms/{room_id}/agreement"
    status, _ = _post(author_client, f"{settings}/reasons", settings, {"shown": "1"})
    assert status == 403
    status, _ = _post(coordinator_client, f"{settings}/reasons", settings, {"shown": "maybe"})
    assert status == 400
    status, _ = _post(coordinator_client, f"{settings}/reasons", settings, {"shown": "1"})
    assert status == 302
    # Written while only coordinators read reasons: it stays theirs.
    assert "It forgets families." not in author_client.get(listing).get_data(as_text=True)
    status, _ = _post(objector_client, form, form, {"reason": "It forgets their families."})
    assert status == 302
    assert "It forgets their families." in author_client.get(listing).get_data(as_text=True)

    status, _ = _post(
        objector_client, f"/rooms/{room_id}/contributions/{cid}/withdraw-objection", listing, {}
    )
    assert status == 302
    assert "0 objections" in objector_client.get(listing).get_data(as_text=True)


def test_a_consent_check_over_http(app: Flask, session: Session) -> None:
    coordinator, coordinator_client = signed_in_staff(app, session)
    room_id = make_room(session, coordinator)
    session.commit()
    _member, member_client = signed_in_member(app, session, coordinator, room_id)
    others = [signed_in_member(app, session, coordinator, room_id)[1] for _ in range(2)]
    page = f"/rooms/{room_id}/agreement"
    assert "No consent check has been opened" in member_client.get(page).get_data(as_text=True)

    status, _ = _post(member_client, f"{page}/open", page, {"section": "whole"})
    assert status == 403
    status, text = _post(
        coordinator_client, f"{page}/open", page, {"section": "whole", "question": "q" * 501}
    )
    assert status == 400
    status, _ = _post(
        coordinator_client, f"{page}/open", page, {"section": "whole", "question": "Agreed?"}
    )
    assert status == 302
    session.expire_all()
    check_id = str(session.scalar(select(ConsentCheck.id).where(ConsentCheck.room_id == room_id)))
    prefix = f"c{check_id}-"
    answer = f"{page}/{check_id}/answer"

    status, text = _post(member_client, answer, page, {f"{prefix}answer": "object"})
    assert status == 400
    assert "Say why you object. Nothing was saved." in text
    status, text = _post(member_client, answer, page, {f"{prefix}reason": "Hm."})
    assert status == 400
    assert "Choose an answer. Nothing was saved." in text
    status, _ = _post(
        member_client,
        answer,
        page,
        {f"{prefix}answer": "object", f"{prefix}reason": "It forgets families."},
    )
    assert status == 302
    text = member_client.get(page).get_data(as_text=True)
    assert "Your answer: I object (say why)" in text
    # Nobody sees results while it is open.
    text = coordinator_client.get(page).get_data(as_text=True)
    assert "It forgets families." not in text
    assert "member objects" not in text
    assert status == 302

    for client in others:
        status, _ = _post(client, answer, page, {f"{prefix}answer": "abstain"})
        assert status == 302
    status, _ = _post(member_client, f"{page}/{check_id}/close", page, {})
    assert status == 403
    status, _ = _post(coordinator_client, f"{page}/{'0' * 32}/close", page, {})
    assert status == 404
    status, _ = _post(coordinator_client, f"{page}/{check_id}/close", page, {})
    assert status == 302
    text = member_client.get(page).get_data(as_text=True)
    assert "1 member objects" in text
    assert "0 members agree" in text
    assert "It forgets families." in text
    status, text = _post(member_client, answer, page, {f"{prefix}answer": "agree"})
    assert status == 409
    assert "closed" in text
    log = coordinator_client.get(f"/rooms/{room_id}/moderation").get_data(as_text=True)
    assert "consent check opened" in log
    assert "consent check closed" in log


def test_closing_a_check_forces_no_queued_write_in(
    app_with: Callable[..., Flask], session: Session
) -> None:
    # Writes wait for the mixer's own batches here, as in production.
    app = app_with(mix_interval_seconds=3600)
    mixer = app.extensions["mixer"]
    mixer.autostart = False
    coordinator, coordinator_client = signed_in_staff(app, session)
    room_id = make_room(session, coordinator)
    other_room = make_room(session, coordinator, title="Healthcare")
    session.commit()
    members = [signed_in_member(app, session, coordinator, room_id)[1] for _ in range(3)]
    _outsider, outsider_client = signed_in_member(app, session, coordinator, other_room)
    page = f"/rooms/{room_id}/agreement"
    status, _ = _post(coordinator_client, f"{page}/open", page, {"section": "whole"})
    assert status == 302
    session.expire_all()
    check_id = str(session.scalar(select(ConsentCheck.id).where(ConsentCheck.room_id == room_id)))
    prefix = f"c{check_id}-"
    for client, what in zip(members, ("agree", "agree", "abstain"), strict=True):
        status, _ = _post(client, f"{page}/{check_id}/answer", page, {f"{prefix}answer": what})
        assert status == 302
    # A member of another room has a proposal waiting in the same queue.
    contribute = f"/rooms/{other_room}/contribute?kind=comment"
    status, _ = _post(outsider_client, contribute, contribute, {"text": "Add clinics."})
    assert status == 302
    queued = len(mixer.queue.pending())
    assert queued == 4

    status, _ = _post(coordinator_client, f"{page}/{check_id}/close", page, {})
    assert status == 302
    # Nothing was forced in, in this room or another.
    assert len(mixer.queue.pending()) == queued
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Contribution)) == 0
    text = members[0].get(page).get_data(as_text=True)
    assert "The results are being counted" in text
    assert "members agree" not in text
    # The answers take no more changes once closed.
    status, _ = _post(members[0], f"{page}/{check_id}/answer", page, {f"{prefix}answer": "object"})
    assert status == 409

    # The queue's own batch takes them in; the next view counts them.
    mixer.flush()
    text = members[1].get(page).get_data(as_text=True)
    assert "The results are being counted" not in text
    assert "2 members agree" in text
    assert "1 member abstains" in text


def test_results_of_too_few_answers_are_withheld_over_http(app: Flask, session: Session) -> None:
    coordinator, coordinator_client = signed_in_staff(app, session)
    room_id = make_room(session, coordinator)
    session.commit()
    members = [signed_in_member(app, session, coordinator, room_id)[1] for _ in range(2)]
    page = f"/rooms/{room_id}/agreement"
    status, _ = _post(coordinator_client, f"{page}/open", page, {"section": "whole"})
    assert status == 302
    session.expire_all()
    check_id = str(session.scalar(select(ConsentCheck.id).where(ConsentCheck.room_id == room_id)))
    prefix = f"c{check_id}-"
    for client in members:
        data = {f"{prefix}answer": "object", f"{prefix}reason": "It forgets families."}
        status, _ = _post(client, f"{page}/{check_id}/answer", page, data)
        assert status == 302
    status, _ = _post(coordinator_client, f"{page}/{check_id}/close", page, {})
    assert status == 302
    text = coordinator_client.get(page).get_data(as_text=True)
    assert "2 members answered: too few answers to show the result" in text
    assert "members object" not in text
    assert "It forgets families." not in text


def _answers(mixer: Any) -> list[Any]:
    """The queued consent answers (opening the room page also queues what its reader saw)."""
    return [write for write in mixer.queue.pending() if write.action == CONSENT_ANSWER_PUT]


def test_leaving_drafting_closes_checks_and_forces_no_queued_write_in(
    app_with: Callable[..., Flask], session: Session
) -> None:
    app = app_with(mix_interval_seconds=3600)
    mixer = app.extensions["mixer"]
    mixer.autostart = False
    coordinator, coordinator_client = signed_in_staff(app, session)
    room_id = make_room(session, coordinator)
    session.commit()
    members = [signed_in_member(app, session, coordinator, room_id)[1] for _ in range(3)]
    page = f"/rooms/{room_id}/agreement"
    status, _ = _post(coordinator_client, f"{page}/open", page, {"section": "whole"})
    assert status == 302
    session.expire_all()
    check_id = str(session.scalar(select(ConsentCheck.id).where(ConsentCheck.room_id == room_id)))
    for client in members:
        data = {f"c{check_id}-answer": "agree"}
        status, _ = _post(client, f"{page}/{check_id}/answer", page, data)
        assert status == 302
    assert len(_answers(mixer)) == 3
    room_page = f"/rooms/{room_id}"
    for target in ("consolidating", "sign-on"):
        status, _ = _post(
            coordinator_client,
            f"{room_page}/state",
            room_page,
            {"target": target, "leave_undecided": "1"},
        )
        assert status == 302
    assert len(_answers(mixer)) == 3
    text = coordinator_client.get(page).get_data(as_text=True)
    assert "The results are being counted" in text
    mixer.flush()
    assert "3 members agree" in coordinator_client.get(page).get_data(as_text=True)
