"""Burmese typed in Zawgyi: stored in Unicode, and the writer is told, in their language."""

from __future__ import annotations

import html

from flask import Flask
from sqlalchemy.orm import Session

from statements.auth.service import Identity
from statements.auth.service import login_member as unlock
from statements.drafting import service as drafting
from tests.support import app_today, csrf_token, join_room, login_member, make_member

ZAWGYI = "ကြၽႏ္ုပ္တို႔သည္ ဒုကၡသည္မ်ား၏ အခြင့္အေရးမ်ားကို ကာကြယ္ရန္ ေတာင္းဆိုပါသည္။"
UNICODE = "ကျွန်ုပ်တို့သည် ဒုက္ခသည်များ၏ အခွင့်အရေးများကို ကာကွယ်ရန် တောင်းဆိုပါသည်။"
NOTE_MY = "ယူနီကုဒ် (Unicode) သို့ ပြောင်းပေးထားပါသည်"
NOTE_EN = "typed in the Zawgyi encoding"


def test_a_contribution_in_zawgyi_is_stored_in_unicode(
    session: Session, member: Identity, room_id: str
) -> None:
    access = drafting.open_room(session, room_id, member)
    drafting.submit_contribution(session, access, "comment", None, ZAWGYI, app_today())
    views, _total = drafting.contributions_page(session, access, 1)
    assert [view.text for view in views] == [UNICODE]


def test_the_preview_shows_the_converted_text_with_a_note(
    app: Flask, session: Session, coordinator: Identity, room_id: str
) -> None:
    account, codename = make_member(app, session)
    _account, keys = unlock(session, app.extensions["auth"], codename)
    join_room(session, coordinator, room_id, Identity(account, keys, b"", b""))
    session.commit()
    client = app.test_client()
    assert login_member(client, codename).status_code == 302
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "my"
    path = f"/rooms/{room_id}/contribute"

    def preview(text: str) -> str:
        token = csrf_token(client, path)
        data = {"csrf_token": token, "kind": "comment", "text": text, "preview": "1"}
        return html.unescape(client.post(path, data=data).get_data(as_text=True))

    page = preview(f"Section 2: {ZAWGYI}")
    assert NOTE_MY in page
    assert f"Section 2: {UNICODE}" in page
    assert ZAWGYI not in page
    # Unicode Burmese, and text with no Burmese, come back without a note.
    assert NOTE_MY not in preview(UNICODE)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert NOTE_EN not in preview("Refugees must have the right to work.")
