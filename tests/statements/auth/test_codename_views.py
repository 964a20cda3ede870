"""Codenames through HTTP: lenient sign-in, codenames of digits, the practice step and
replacing a codename, as a browser without JavaScript uses them."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crypto.tags import lookup_id
from statements.auth import codename as codenames
from statements.drafting import service as drafting
from statements.models import Account
from tests.support import (
    app_today,
    login_member,
    login_staff,
    make_member,
    make_room,
    make_staff,
    post_form,
    post_signed_in,
    staff_identity,
)

CODENAME = re.compile(r'<p class="codename"[^>]*>([a-z -]+)</p>')
DIGITS = re.compile(r'<p class="codename-digits"[^>]*>([^<]+)</p>')
HIDDEN = re.compile(r'name="(kind|positions|check|next)" type="hidden" value="([^"]*)"')
UNKNOWN_VALID = "apple banana grape zebra yo-yo t-shirt felt-tip"


def _speaking(client: FlaskClient, language: str) -> FlaskClient:
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    return client


def _answer(page: str) -> str:
    """A page with what differs between any two renderings (the CSRF token) taken out."""
    return re.sub(r'name="csrf_token" type="hidden" value="[^"]*"', "", page)


def _practice(page: str) -> dict[str, str]:
    return {name: html.unescape(value) for name, value in HIDDEN.findall(page)}


def test_sign_in_accepts_any_separators_and_case(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    _, codename = make_member(app, session)
    typed = "\u060c ".join(word.upper() for word in codename.split()[:3])
    typed += "\u3001" + "\n".join(codename.split()[3:]).replace("-", " - ")
    assert login_member(client, typed).status_code == 302


def test_an_unknown_word_is_named_with_suggestions(client: FlaskClient) -> None:
    typed = "apple banana grape zebar drop-down t-shirt yo-yo"
    response = login_member(client, typed)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Word 4 is not a codename word." in page
    assert "Did you mean: zebra" in page
    # What was typed comes back, so word 4 can be found and corrected.
    assert f"{typed}</textarea>" in page


def test_too_few_words_are_counted(client: FlaskClient) -> None:
    response = login_member(client, "apple banana grape")
    assert response.status_code == 400
    assert "You typed 3 words; a codename has 7." in response.get_data(as_text=True)


def test_position_and_count_use_the_language_digits(client: FlaskClient) -> None:
    _speaking(client, "fa")
    page = login_member(client, "apple banana grape zebar").get_data(as_text=True)
    assert "\u06f4" in page  # word ۴
    page = login_member(client, "1234 5678").get_data(as_text=True)
    assert "\u06f8" in page  # ۸ digits typed
    assert "\u06f2\u06f8" in page  # ۲۸ needed


def test_unknown_and_wrong_account_codenames_answer_alike(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    _, codename = make_member(app, session)
    other, _other_codename = make_member(app, session)
    config = app.extensions["auth"]
    # Found by its lookup id, but the codename does not open the account's keys.
    wrong_account = "apple banana grape zebra drop-down t-shirt yo-yo"
    other.lookup_id = lookup_id(config.pepper, wrong_account.encode())
    session.commit()
    words = codename.split()
    swapped = " ".join([*words[:-1], "zebra" if words[-1] != "zebra" else "apple"])
    answers = set()
    for typed in (UNKNOWN_VALID, swapped, wrong_account, codenames.generate()):
        response = login_member(client, typed)
        assert response.status_code == 401
        page = response.get_data(as_text=True)
        assert "That codename is not right." in page
        assert typed not in page
        answers.add(_answer(page))
    assert len(answers) == 1


def _join(client: FlaskClient, kind: str = "words", next_path: str = "/rooms") -> str:
    response = post_form(client, f"/join?next={next_path}", {"kind": kind}, form_page="/join")
    assert response.status_code == 201
    return response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("language", "zero"),
    [("fa", "\u06f0"), ("my", "\u1040"), ("th", "\u0e50"), ("en", "0"), ("ar", "\u0660")],
)
def test_a_codename_of_digits_in_the_language_digits(
    client: FlaskClient, language: str, zero: str
) -> None:
    page = _join(_speaking(client, language), "digits")
    found = DIGITS.search(page)
    assert found
    shown = found.group(1)
    groups = shown.split(" ")
    assert [len(group) for group in groups] == [4] * 7
    assert all(zero <= ch <= chr(ord(zero) + 9) for ch in shown.replace(" ", ""))
    assert CODENAME.search(page) is None
    # Accepted in the digits shown, and in Latin digits.
    client.delete_cookie("auth")
    assert login_member(client, shown).status_code == 302
    client.delete_cookie("auth")
    assert login_member(client, codenames.normalize(shown)).status_code == 302


def test_the_join_page_offers_digits(client: FlaskClient) -> None:
    page = client.get("/join").get_data(as_text=True)
    assert 'name="kind" value="digits"' in page
    assert 'name="kind" value="words"' in page


@pytest.mark.parametrize("kind", [" ", "\t", "  words "])
def test_a_blank_or_padded_kind_joins_with_words(client: FlaskClient, kind: str) -> None:
    """Optional() passes blank text unchecked: it must mean words, not a 500."""
    found = CODENAME.search(_join(client, kind))
    assert found
    assert len(found.group(1).split()) == codenames.CODENAME_WORDS


@pytest.mark.parametrize("language", ["fa", "my", "th", "ms"])
def test_the_codename_page_explains_in_each_language(client: FlaskClient, language: str) -> None:
    page = _join(_speaking(client, language))
    assert CODENAME.search(page)
    assert "seven English words" not in page
    assert "From what you wrote down" not in page
    assert "Practise once" not in page
    assert f'<html lang="{language}"' in page


def test_practising_the_new_codename(client: FlaskClient) -> None:
    page = _join(client)
    found = CODENAME.search(page)
    assert found
    words = found.group(1).split()
    fields = _practice(page)
    first, second = (int(n) for n in fields["positions"].split(","))
    assert f"type word {first} and word {second} of your codename" in page
    right = {**fields, "first": words[first - 1].upper(), "second": f" {words[second - 1]} "}

    wrong = post_form(
        client, "/codename/practice", {**right, "second": "zzz"}, form_page="/account"
    )
    assert wrong.status_code == 400
    again = wrong.get_data(as_text=True)
    assert "That does not match your codename." in again
    # The codename is not shown again, and the same two words are asked for.
    assert CODENAME.search(again) is None
    assert right["first"] not in again
    assert _practice(again) == fields

    response = post_form(client, "/codename/practice", right, form_page="/account")
    assert response.status_code == 302
    assert response.headers["Location"] == "/rooms"


def test_practice_fields_cannot_be_altered(client: FlaskClient) -> None:
    page = _join(client)
    found = CODENAME.search(page)
    assert found
    words = found.group(1).split()
    fields = _practice(page)
    first, second = (int(n) for n in fields["positions"].split(","))
    other = next(i for i in range(1, 8) if i not in (first, second))
    right = {**fields, "first": words[first - 1], "second": words[second - 1]}
    moved = {**right, "positions": f"{first},{other}", "second": words[other - 1]}
    assert post_form(client, "/codename/practice", moved, form_page="/account").status_code == 400
    bad = {**right, "positions": "9,9"}
    assert post_form(client, "/codename/practice", bad, form_page="/account").status_code == 400
    forged = {**right, "check": "A" * 43}
    assert post_form(client, "/codename/practice", forged, form_page="/account").status_code == 400


def test_practice_needs_a_session(client: FlaskClient) -> None:
    response = post_form(client, "/codename/practice", {"first": "x"}, form_page="/login")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_practising_a_codename_of_digits_in_persian(client: FlaskClient) -> None:
    page = _join(_speaking(client, "fa"), "digits")
    found = DIGITS.search(page)
    assert found
    groups = found.group(1).split(" ")
    fields = _practice(page)
    first, second = (int(n) for n in fields["positions"].split(","))
    right = {**fields, "first": groups[first - 1], "second": groups[second - 1]}
    response = post_form(client, "/codename/practice", right, form_page="/account")
    assert response.status_code == 302


def test_replacing_the_codename(app: Flask, client: FlaskClient, session: Session) -> None:
    account, old = make_member(app, session)
    elsewhere = app.test_client()
    assert login_member(elsewhere, old).status_code == 302
    assert login_member(client, old).status_code == 302
    assert "Replace your codename" in client.get("/account").get_data(as_text=True)
    before = account.lookup_id

    response = post_signed_in(client, "/account/codename", {"current": old, "kind": "digits"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    assert "the old one no longer works" in page
    found = DIGITS.search(page)
    assert found
    assert old not in page
    assert _practice(page)["next"] == "/account"
    session.expire_all()
    assert session.get(Account, account.id).lookup_id != before  # type: ignore[union-attr]

    # This browser stays signed in; the other is signed out; the old codename is dead.
    assert client.get("/account").status_code == 200
    assert elsewhere.get("/account").status_code == 302
    fresh = app.test_client()
    assert login_member(fresh, old).status_code == 401
    assert login_member(fresh, found.group(1)).status_code == 302


def test_replacing_needs_the_current_codename(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    _account, old = make_member(app, session)
    assert login_member(client, old).status_code == 302
    for typed, status in ((UNKNOWN_VALID, 400), ("zebar " * 7, 400), ("", 400)):
        response = post_signed_in(client, "/account/codename", {"current": typed})
        assert response.status_code == status
    page = response.get_data(as_text=True)
    assert CODENAME.search(page) is None
    session.expire_all()
    assert login_member(app.test_client(), old).status_code == 302
    wrong = post_signed_in(client, "/account/codename", {"current": UNKNOWN_VALID})
    assert "That codename is not right." in wrong.get_data(as_text=True)
    assert UNKNOWN_VALID not in wrong.get_data(as_text=True)
    bad_kind = post_signed_in(client, "/account/codename", {"current": old, "kind": "emoji"})
    assert bad_kind.status_code == 400
    assert login_member(app.test_client(), old).status_code == 302


def test_staff_have_no_codename_to_replace(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    staff = make_staff(app, session)
    assert login_staff(client, app, staff).status_code == 302
    assert "Replace your codename" not in client.get("/account").get_data(as_text=True)
    response = post_signed_in(client, "/account/codename", {"current": UNKNOWN_VALID})
    assert response.status_code == 403


def test_replacing_a_codename_is_throttled(
    app_with: Callable[..., Flask], session: Session
) -> None:
    # Each attempt spends a key derivation, and guesses the current codename.
    app = app_with(login_rate_limit="3 per minute")
    _account, old = make_member(app, session)
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "192.0.2.1"
    assert login_member(client, old).status_code == 302
    client.environ_base["REMOTE_ADDR"] = "192.0.2.2"
    for _ in range(3):
        response = post_signed_in(client, "/account/codename", {"current": UNKNOWN_VALID})
        assert response.status_code == 400
    throttled = post_signed_in(client, "/account/codename", {"current": old})
    assert throttled.status_code == 429
    assert login_member(app.test_client(), old).status_code in (302, 429)


def test_a_refused_form_does_not_write_the_codename_back(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    _account, old = make_member(app, session)
    assert login_member(client, old).status_code == 302
    bad_kind = post_signed_in(client, "/account/codename", {"current": old, "kind": "emoji"})
    assert bad_kind.status_code == 400
    assert old not in bad_kind.get_data(as_text=True)
    client.delete_cookie("auth")
    too_long = "apple " * 60
    refused = login_member(client, too_long)
    assert refused.status_code == 400
    assert too_long.strip() not in refused.get_data(as_text=True)


def test_joining_by_invitation_practises_then_goes_to_the_room(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    coordinator = staff_identity(app, session)
    room_id = make_room(session, coordinator)
    today = app_today()
    access = drafting.open_room(session, room_id, coordinator)
    _invitation, token = drafting.create_invitation(
        session, access, 1, today + timedelta(days=7), today
    )
    session.commit()
    link = f"/invitation/{token}"
    joined = post_form(client, link, form_page=link)
    assert joined.status_code == 201
    page = joined.get_data(as_text=True)
    found = CODENAME.search(page)
    assert found
    words = found.group(1).split()
    fields = _practice(page)
    assert fields["next"] == f"/rooms/{room_id}"
    first, second = (int(n) for n in fields["positions"].split(","))
    right = {**fields, "first": words[first - 1], "second": words[second - 1]}
    # With the page's own token, as a browser sends it: it must be of the new session.
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token
    response = client.post("/codename/practice", data={**right, "csrf_token": token.group(1)})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/rooms/{room_id}"


def _invitation_link(app: Flask, session: Session, uses: int = 1) -> tuple[str, str]:
    coordinator = staff_identity(app, session)
    room_id = make_room(session, coordinator)
    today = app_today()
    access = drafting.open_room(session, room_id, coordinator)
    _invitation, token = drafting.create_invitation(
        session, access, uses, today + timedelta(days=7), today
    )
    session.commit()
    return room_id, f"/invitation/{token}"


def test_joining_by_invitation_offers_a_codename_of_digits_in_persian(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    room_id, link = _invitation_link(app, session)
    _speaking(client, "fa")
    offer = client.get(link).get_data(as_text=True)
    assert 'name="kind" value="digits"' in offer
    assert 'name="kind" value="words"' in offer
    assert "28 digits" not in offer  # said in Farsi

    joined = post_form(client, link, {"kind": "digits"}, form_page=link)
    assert joined.status_code == 201
    page = joined.get_data(as_text=True)
    assert CODENAME.search(page) is None
    found = DIGITS.search(page)
    assert found
    groups = found.group(1).split(" ")
    assert all("\u06f0" <= ch <= "\u06f9" for ch in "".join(groups))
    fields = _practice(page)
    assert fields["kind"] == "digits"
    assert fields["next"] == f"/rooms/{room_id}"
    first, second = (int(n) for n in fields["positions"].split(","))
    right = {**fields, "first": groups[first - 1], "second": groups[second - 1]}
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token
    practised = client.post("/codename/practice", data={**right, "csrf_token": token.group(1)})
    assert practised.status_code == 302
    assert practised.headers["Location"] == f"/rooms/{room_id}"
    # The digits, typed in Persian, open the account, which is in the room.
    client.delete_cookie("auth")
    assert login_member(client, found.group(1)).status_code == 302
    assert client.get(f"/rooms/{room_id}").status_code == 200


def test_joining_by_invitation_with_an_unknown_kind_creates_nothing(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    _room_id, link = _invitation_link(app, session)
    count = select(func.count()).select_from(Account)
    before = session.scalar(count)
    refused = post_form(client, link, {"kind": "emoji"}, form_page=link)
    assert refused.status_code == 400
    assert 'name="kind" value="digits"' in refused.get_data(as_text=True)
    session.expire_all()
    assert session.scalar(count) == before
    # The link still works: nothing of it was used.
    assert post_form(client, link, {"kind": "words"}, form_page=link).status_code == 201
