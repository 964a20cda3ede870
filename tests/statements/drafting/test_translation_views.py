"""The multilingual room over HTTP: opening a room with working languages, changing
them, reading in a chosen language, contributing in any language, offering and accepting
translations, and bad input answered with a message and a 4xx, with nothing saved."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from statements.drafting import service as drafting
from statements.models import Contribution, ContributionKind, Room, SectionTranslation
from tests.support import app_today, csrf_token, make_room, signed_in_member, signed_in_staff


def _post(client: FlaskClient, path: str, page: str, data: dict[str, object]) -> tuple[int, str]:
    response = client.post(path, data={"csrf_token": csrf_token(client, page), **data})
    return response.status_code, response.get_data(as_text=True)


def _count(session: Session, model: type) -> int:
    session.commit()
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _room(app: Flask, session: Session) -> tuple[str, FlaskClient, FlaskClient, str]:
    coordinator, coordinator_client = signed_in_staff(app, session)
    room_id = make_room(session, coordinator, working_languages=("fa", "my"))
    session.commit()
    _member, member_client = signed_in_member(app, session, coordinator, room_id)
    access = drafting.open_room(session, room_id, coordinator)
    anchor = drafting.version(session, access).sections[0].anchor
    return room_id, coordinator_client, member_client, anchor


def test_opening_a_room_with_working_languages(app: Flask, session: Session) -> None:
    _coordinator, client = signed_in_staff(app, session)
    form = client.get("/rooms/new").get_data(as_text=True)
    assert 'name="working_languages"' in form
    data = {
        "title": "Right to work",
        "language": "en",
        "summary": "",
        "markdown": "# Title\n\nWe ask.",
        "contribution_deadline": (app_today() + timedelta(days=14)).isoformat(),
        "signon_deadline": (app_today() + timedelta(days=28)).isoformat(),
        "moderation": "post",
    }
    status, body = _post(
        client, "/rooms/new", "/rooms/new", {**data, "working_languages": ["en", "fa"]}
    )
    assert status == 400
    assert "leave it out of the working languages" in body
    status, body = _post(client, "/rooms/new", "/rooms/new", {**data, "working_languages": ["xx"]})
    assert status == 400
    assert _count(session, Room) == 0
    status, _body = _post(
        client, "/rooms/new", "/rooms/new", {**data, "working_languages": ["my", "fa"]}
    )
    assert status == 302
    [room] = session.scalars(select(Room))
    assert room.working_languages == "my fa"


def test_coordinators_change_the_working_languages(app: Flask, session: Session) -> None:
    room_id, coordinator_client, member_client, _anchor = _room(app, session)
    page = f"/rooms/{room_id}/languages"
    body = coordinator_client.get(page).get_data(as_text=True)
    assert 'lang="fa" dir="rtl"' in body
    assert "not translated yet" in body
    status, _body = _post(coordinator_client, page, page, {"language": ["ps", "ar"]})
    assert status == 302
    session.commit()
    room = session.get(Room, room_id)
    assert room is not None
    session.refresh(room)
    assert room.working_languages == "ps ar"
    status, body = _post(coordinator_client, page, page, {"language": ["zz"]})
    assert status == 400
    assert "Choose languages from the list" in body
    log = coordinator_client.get(f"/rooms/{room_id}/moderation").get_data(as_text=True)
    assert "changed the working languages to Pashto, Arabic (they were Farsi, Burmese)" in log
    assert member_client.get(page).status_code == 403
    status, _body = _post(member_client, page, f"/rooms/{room_id}", {"language": ["fa"]})
    assert status == 403
    session.refresh(room)
    assert room.working_languages == "ps ar"


def test_reading_contributing_and_translating_a_section(app: Flask, session: Session) -> None:
    room_id, coordinator_client, member_client, anchor = _room(app, session)
    room_page = f"/rooms/{room_id}"
    body = member_client.get(room_page).get_data(as_text=True)
    assert 'id="reading-language"' in body
    # Choose Farsi: sections are marked missing, with the source shown.
    status, _body = _post(
        member_client, f"/rooms/{room_id}/reading-language", room_page, {"language": "fa"}
    )
    assert status == 302
    body = member_client.get(room_page).get_data(as_text=True)
    assert '<ol class="sections" lang="fa" dir="rtl">' in body
    assert "Not translated yet" in body
    # The coordinator's own reading language is untouched.
    assert "Not translated yet" not in coordinator_client.get(room_page).get_data(as_text=True)
    status, _body = _post(
        member_client, f"/rooms/{room_id}/reading-language", room_page, {"language": "ps"}
    )
    assert status == 400
    # Help translate lists the section; offer a translation of it.
    listing = member_client.get(f"/rooms/{room_id}/help-translate?language=fa")
    assert listing.status_code == 200
    offer = f"/rooms/{room_id}/translate?type=section&id={anchor}&language=fa"
    assert offer.replace("&", "&amp;") in listing.get_data(as_text=True)
    form = member_client.get(offer).get_data(as_text=True)
    # Typed in Farsi: the box is marked so.
    assert re.search(r'<textarea[^>]* dir="rtl"[^>]* lang="fa"', form)
    status, _body = _post(
        member_client,
        f"/rooms/{room_id}/translate",
        offer,
        {"type": "section", "id": anchor, "language": "fa", "text": "ما کار می‌خواهیم."},
    )
    assert status == 302
    session.commit()
    [translation] = session.scalars(
        select(Contribution).where(Contribution.kind == ContributionKind.TRANSLATION)
    )
    moderation = coordinator_client.get(f"/rooms/{room_id}/moderation").get_data(as_text=True)
    assert "Accept the translation" in moderation
    assert "Translated by a member into Farsi" in moderation
    accept = f"/rooms/{room_id}/moderation/{translation.id}/translation"
    status, _body = _post(member_client, accept, room_page, {})
    assert status == 403
    status, _body = _post(coordinator_client, accept, f"/rooms/{room_id}/moderation", {})
    assert status == 302
    assert _count(session, SectionTranslation) == 1
    body = member_client.get(room_page).get_data(as_text=True)
    assert "ما کار می‌خواهیم." in body
    # The source is one tap away, in a <details>, marked in its own language.
    assert '<details class="source-text">' in body
    assert 'class="section-text" lang="en" dir="ltr"' in body
    # Accepting it twice is refused.
    status, _body = _post(coordinator_client, accept, f"/rooms/{room_id}/moderation", {})
    assert status == 409


def test_contributions_show_their_language(app: Flask, session: Session) -> None:
    room_id, coordinator_client, member_client, _anchor = _room(app, session)
    page = f"/rooms/{room_id}/contribute?kind=comment"
    status, _body = _post(member_client, page, page, {"text": "نام قانون", "language": "fa"})
    assert status == 302
    status, body = _post(member_client, page, page, {"text": "x", "language": "zz"})
    assert status == 400
    assert "Choose one of the room&#39;s languages" in body
    listing = member_client.get(f"/rooms/{room_id}/contributions").get_data(as_text=True)
    assert re.search(r'class="contribution-text" lang="fa" dir="rtl"', listing)
    assert "written in Farsi" in listing
    # The coordinators see it awaits a translation into the source language.
    moderation = coordinator_client.get(f"/rooms/{room_id}/moderation").get_data(as_text=True)
    assert "awaits a translation into English" in moderation
    session.commit()
    [contribution] = session.scalars(select(Contribution))
    offer = f"/rooms/{room_id}/translate?type=contribution&id={contribution.id}"
    # The form offers only the languages it is not written in.
    form = member_client.get(offer).get_data(as_text=True)
    choices = re.search(r'<select id="language" name="language">(.*?)</select>', form, re.S)
    assert choices is not None
    assert 'value="fa"' not in choices.group(1)
    assert 'value="en" selected' in choices.group(1)
    status, body = _post(
        member_client,
        f"/rooms/{room_id}/translate",
        offer,
        {"type": "contribution", "id": contribution.id, "language": "fa", "text": "x"},
    )
    assert status == 400
    assert "That is the language it is written in" in body
    status, _body = _post(
        member_client,
        f"/rooms/{room_id}/translate",
        offer,
        {"type": "contribution", "id": contribution.id, "language": "en", "text": "Name the law"},
    )
    assert status == 302
    listing = member_client.get(f"/rooms/{room_id}/contributions").get_data(as_text=True)
    assert "Translated by a member into English" in listing
    assert "Name the law" in listing


def test_bad_translation_offers_are_refused(app: Flask, session: Session) -> None:
    room_id, coordinator_client, member_client, anchor = _room(app, session)
    translate = f"/rooms/{room_id}/translate"
    page = f"{translate}?type=section&id={anchor}"
    base = {"type": "section", "id": anchor}
    cases = [
        ({**base, "language": "ps", "text": "x"}, 400, "working languages"),
        ({**base, "language": "en", "text": "x"}, 400, "the language it is written in"),
        ({**base, "language": "fa", "text": "x" * 20_001}, 400, "20,000"),
        ({**base, "language": "fa", "text": ""}, 400, "Write something first"),
    ]
    for data, status_wanted, words in cases:
        status, body = _post(member_client, translate, page, data)
        assert status == status_wanted, data
        assert words in body
    assert member_client.get(f"{translate}?type=section&id=s-00000000").status_code == 400
    assert member_client.get(f"{translate}?type=poem&id={anchor}").status_code == 400
    assert member_client.get(f"{translate}?type=contribution&id=nope").status_code == 404
    assert member_client.get(f"{translate}?type=reply&id=nope").status_code == 404
    assert member_client.get(f"/rooms/{room_id}/help-translate?language=zz").status_code == 400
    # A hidden contribution cannot be translated, by anyone.
    contribute = f"/rooms/{room_id}/contribute?kind=comment"
    _post(member_client, contribute, contribute, {"text": "Abuse"})
    session.commit()
    [hidden] = session.scalars(select(Contribution))
    status, _body = _post(
        coordinator_client,
        f"/rooms/{room_id}/moderation/{hidden.id}",
        f"/rooms/{room_id}/moderation",
        {"action": "hide"},
    )
    assert status in (302, 303)
    for client in (member_client, coordinator_client):
        response = client.get(f"{translate}?type=contribution&id={hidden.id}&language=fa")
        assert response.status_code == 404
    # Not a member: the room does not exist for them.
    _stranger, stranger_client = signed_in_staff(app, session, "stranger")
    for path in (page, f"/rooms/{room_id}/help-translate", f"/rooms/{room_id}/languages"):
        assert stranger_client.get(path).status_code == 404
    assert _count(session, Contribution) == 1
    assert _count(session, SectionTranslation) == 0
