"""Proposals as changes through the app: diffs on every page that shows a change, Accept
with edits, the three-way merge screen and its bad inputs, comments addressed, and two
coordinators' edits of the draft merged."""

from __future__ import annotations

import html
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from statements.drafting import contributions
from statements.drafting.versions import MAX_DRAFT
from statements.models import Contribution, Room
from tests.statements.drafting.test_views import (
    Round,
    _anchors,
    _contribute,
    _post,
    _second_coordinator,
    drafting_round,
)
from tests.support import DRAFT, csrf_token, dump_database

__all__ = ["drafting_round"]

SECTION = "Refugees in the region are denied the right to work."


def _box(page: str) -> str:
    """The text in the page's merged-text box, as the browser would show it."""
    found = re.search(r'<textarea[^>]*name="merged_text"[^>]*>\r?\n?(.*?)</textarea>', page, re.S)
    assert found, page
    return html.unescape(found.group(1))


def _accept(client: FlaskClient, room_id: str, cid: str, **data: object) -> TestResponse:
    return _post(client, f"/rooms/{room_id}/moderation/{cid}", {"action": "accept", **data})


def _ids(session: Session) -> dict[str, str]:
    """Contribution ids by kind and section anchor (for the first of each)."""
    session.expire_all()
    return {f"{c.kind}:{c.anchor}": c.id for c in session.scalars(select(Contribution))}


def _other_id(session: Session, known: str) -> str:
    """The one contribution that is not `known`."""
    session.expire_all()
    (found,) = set(session.scalars(select(Contribution.id))) - {known}
    return found


def test_a_change_is_shown_as_a_diff_of_its_section_and_merged_when_accepted(
    session: Session, drafting_round: Round
) -> None:
    room_id = drafting_round.room_id
    coordinator, first, second = (
        drafting_round.coordinator,
        drafting_round.first,
        drafting_round.second,
    )
    anchor = _anchors(first, room_id)[1]
    across = SECTION.replace("in the", "across the")
    assert _contribute(first, room_id, "amendment", anchor, across).status_code == 302
    ids = _ids(session)
    first_id = ids[f"amendment:{anchor}"]

    # Shown as a word diff, formatted, its changes announced: to all, to the author, and
    # in moderation, where a change can be accepted as it is or with edits.
    for client, path in (
        (second, "contributions"),
        (first, "mine"),
        (coordinator, "moderation"),
    ):
        page = client.get(f"/rooms/{room_id}/{path}").get_data(as_text=True)
        assert '<del><span class="visually-hidden">deleted: </span>in</del>' in page, path
        assert '<ins><span class="visually-hidden">inserted: </span>across</ins>' in page, path
    queue = coordinator.get(f"/rooms/{room_id}/moderation").get_data(as_text=True)
    assert f"/moderation/{first_id}/accept" in queue
    edits = coordinator.get(f"/rooms/{room_id}/moderation/{first_id}/accept")
    assert edits.status_code == 200
    page = edits.get_data(as_text=True)
    assert _box(page) == across
    assert "Cancel" in page
    assert "Reject instead" in page
    assert 'name="reason"' in page

    # A second change to the same section, written before the first was accepted.
    lawful = SECTION.replace("to work", "to lawful work")
    assert _contribute(second, room_id, "amendment", anchor, lawful).status_code == 302
    second_id = _other_id(session, first_id)
    assert _accept(coordinator, room_id, first_id, expected_version="1").status_code == 302

    # Today's text differs from what it was written against: a second diff, against today.
    listing = second.get(f"/rooms/{room_id}/contributions").get_data(as_text=True)
    assert "The section has changed since" in listing
    clash = _accept(coordinator, room_id, second_id, expected_version="2")
    assert clash.status_code == 409
    merged = "Refugees across the region are denied the right to lawful work."
    assert _box(clash.get_data(as_text=True)) == merged
    assert (
        _accept(
            coordinator, room_id, second_id, expected_version="2", merged_text=merged
        ).status_code
        == 302
    )
    assert merged in first.get(f"/rooms/{room_id}").get_data(as_text=True)


def test_the_merge_screen_refuses_conflicts_left_in_stale_text_and_huge_text(
    session: Session, drafting_round: Round
) -> None:
    room_id = drafting_round.room_id
    coordinator, first = drafting_round.coordinator, drafting_round.first
    anchor = _anchors(first, room_id)[1]
    across = SECTION.replace("in the", "across the")
    _contribute(first, room_id, "amendment", anchor, across)
    first_id = _ids(session)[f"amendment:{anchor}"]
    _contribute(drafting_round.second, room_id, "amendment", anchor, "Refugees here cannot work.")
    rival = _other_id(session, first_id)
    assert _accept(coordinator, room_id, first_id, expected_version="1").status_code == 302

    # The rival rewrote the same words: the box holds both, marked, never the rival alone.
    clash = _accept(coordinator, room_id, rival, expected_version="2")
    assert clash.status_code == 409
    page = clash.get_data(as_text=True)
    offered = _box(page)
    assert "across" in offered
    assert "<<<<<<< the text now" in offered
    assert "1 conflict" in page

    # Saved as offered, with the markers: refused, the text kept, nothing saved.
    refused = _accept(coordinator, room_id, rival, expected_version="2", merged_text=offered)
    assert refused.status_code == 400
    assert "still holds a conflict" in html.unescape(refused.get_data(as_text=True))
    assert _box(refused.get_data(as_text=True)) == offered.strip()
    # Far too long: refused with the limit named.
    huge = _accept(
        coordinator, room_id, rival, expected_version="2", merged_text="word " * (MAX_DRAFT // 4)
    )
    assert huge.status_code == 400
    assert "longer than" in huge.get_data(as_text=True)
    # Edited against version 1, which is no longer the draft: merged again, not saved.
    stale = _accept(
        coordinator,
        room_id,
        rival,
        expected_version="1",
        merged_text="Refugees in the region are denied the right to work at once.",
    )
    assert stale.status_code == 409
    assert _box(stale.get_data(as_text=True)) == (
        "Refugees across the region are denied the right to work at once."
    )
    assert 'name="expected_version" value="2"' in stale.get_data(as_text=True)
    assert across in first.get(f"/rooms/{room_id}").get_data(as_text=True)


def test_a_comment_is_addressed_not_accepted(session: Session, drafting_round: Round) -> None:
    room_id = drafting_round.room_id
    coordinator, first = drafting_round.coordinator, drafting_round.first
    assert _contribute(first, room_id, "comment", None, "Cite the survey?").status_code == 302
    cid = _ids(session)["comment:None"]
    queue = coordinator.get(f"/rooms/{room_id}/moderation").get_data(as_text=True)
    article = queue[queue.index(f'id="contribution-{cid}"') :]
    article = article[: article.index("</article>")]
    assert 'value="accept"' not in article
    assert "Mark as addressed" in article
    assert _accept(coordinator, room_id, cid, expected_version="1").status_code == 409
    assert coordinator.get(f"/rooms/{room_id}/moderation/{cid}/accept").status_code == 409
    too_long = _post(
        coordinator, f"/rooms/{room_id}/moderation/{cid}", {"action": "address", "note": "n" * 2001}
    )
    assert too_long.status_code == 400
    done = _post(
        coordinator,
        f"/rooms/{room_id}/moderation/{cid}",
        {"action": "address", "note": "Cited in the second paragraph."},
    )
    assert done.status_code == 302
    mine = first.get(f"/rooms/{room_id}/mine").get_data(as_text=True)
    assert "addressed" in mine
    assert "Addressed: Cited in the second paragraph." in mine
    assert "comment addressed" in coordinator.get(f"/rooms/{room_id}/moderation").get_data(
        as_text=True
    )
    # The note is sealed like a decision's: not readable at rest.
    session.expire_all()
    blob = b"\x00".join(dump_database(session))
    assert b"Cited in the second" not in blob
    assert b"addressed" in blob  # positive control: the status itself is plain


def test_two_coordinators_edits_merge_or_come_back_merged(
    app: Flask, session: Session, drafting_round: Round
) -> None:
    room_id = drafting_round.room_id
    first = drafting_round.coordinator
    second = _second_coordinator(app, session, first, room_id)

    def save(client: FlaskClient, text: str, expected: str = "1") -> TestResponse:
        return client.post(
            f"/rooms/{room_id}/draft",
            data={
                "csrf_token": csrf_token(client, f"/rooms/{room_id}/draft"),
                "markdown": text,
                "note": "An edit",
                "expected_version": expected,
            },
        )

    assert save(first, DRAFT.replace("in the region", "across the region")).status_code == 302
    # Another section: merged and saved.
    merged = save(second, DRAFT.replace("without delay", "at once"))
    assert merged.status_code == 302
    draft = first.get(f"/rooms/{room_id}").get_data(as_text=True)
    assert "across the region" in draft
    assert "at once" in draft
    # The same section: the box holds the merge, never the stale text.
    clash = save(second, DRAFT.replace("in the region", "here"))
    assert clash.status_code == 409
    page = clash.get_data(as_text=True)
    found = re.search(r'<textarea[^>]*name="markdown"[^>]*>\r?\n?(.*?)</textarea>', page, re.S)
    assert found
    box = html.unescape(found.group(1))
    assert "across" in box
    assert "at once" in box
    assert 'name="expected_version" value="3"' in page
    refused = save(second, box, "3")
    assert refused.status_code == 400
    assert "still holds a conflict" in html.unescape(refused.get_data(as_text=True))
    resolved = re.sub(r"<<<<<<< .*?\n(.*?)=======\n.*?>>>>>>> [^\n]*\n", r"\1", box, flags=re.S)
    assert save(second, resolved, "3").status_code == 302
    assert "across" in first.get(f"/rooms/{room_id}").get_data(as_text=True)


MARKED = [
    f"{SECTION}\n<<<<<<< the text now\nold words",
    f"{SECTION}\n=======\nnew words",
    f"{SECTION}\n>>>>>>> the proposal",
]


def test_conflict_markers_typed_into_a_proposal_are_refused_and_the_text_kept(
    session: Session, drafting_round: Round
) -> None:
    room_id, first = drafting_round.room_id, drafting_round.first
    anchor = _anchors(first, room_id)[1]
    for text in MARKED:
        response = _contribute(first, room_id, "amendment", anchor, text)
        assert response.status_code == 400
        page = response.get_data(as_text=True)
        assert "these mark conflicts when texts are merged" in page
        assert html.escape(text.splitlines()[1]) in page  # still in the box
    assert _ids(session) == {}
    # Seven "=" inside a line, or a longer rule, are words, not a marker.
    fine = f"{SECTION} a=======b\n\n========"
    assert _contribute(first, room_id, "amendment", anchor, fine).status_code == 302
    cid = _ids(session)[f"amendment:{anchor}"]
    # Nor may an edit bring one in.
    edit = f"/rooms/{room_id}/contributions/{cid}/edit"
    response = first.post(edit, data={"csrf_token": csrf_token(first, edit), "text": MARKED[0]})
    assert response.status_code == 400
    assert "these mark conflicts when texts are merged" in response.get_data(as_text=True)


def test_a_stored_proposal_holding_markers_is_never_accepted_into_a_version(
    session: Session, drafting_round: Round, monkeypatch: pytest.MonkeyPatch
) -> None:
    room_id, first = drafting_round.room_id, drafting_round.first
    coordinator = drafting_round.coordinator
    anchor = _anchors(first, room_id)[1]
    # As a proposal stored before proposals were checked for markers would be.
    monkeypatch.setattr(contributions, "has_any_conflict_marker", lambda _text: False)
    assert _contribute(first, room_id, "amendment", anchor, MARKED[0]).status_code == 302
    monkeypatch.undo()
    cid = _ids(session)[f"amendment:{anchor}"]
    response = _accept(coordinator, room_id, cid, expected_version="1")
    assert response.status_code == 400
    assert "The text still holds a conflict" in response.get_data(as_text=True)
    assert "old words" not in coordinator.get(f"/rooms/{room_id}").get_data(as_text=True)
    session.expire_all()
    room = session.get(Room, room_id)
    assert room is not None
    assert room.current_version == 1
