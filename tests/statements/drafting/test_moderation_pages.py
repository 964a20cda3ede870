"""The moderation queue a page at a time: plain links to the pages before and after that
keep the filters, and page numbers that are no numbers or out of range never an error."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from statements.drafting import service as drafting
from statements.drafting.access import PAGE_SIZE
from tests.statements.drafting.test_query_counts import coordinator_and_member, signed_in_clients
from tests.support import app_today, join_room, make_room

COMMENTS = PAGE_SIZE + 5


def _queue(app: Flask, session: Session) -> tuple[FlaskClient, str]:
    """A coordinator's browser, and a room with a page and a bit of pending comments and
    one pending amendment."""
    staff, coordinator, codename, member = coordinator_and_member(app, session)
    room_id = make_room(session, coordinator)
    join_room(session, coordinator, room_id, member)
    access = drafting.open_room(session, room_id, member)
    access.room.pending_cap = COMMENTS + 10
    for n in range(COMMENTS):
        drafting.submit_contribution(session, access, "comment", None, f"Comment {n}.", app_today())
    anchor = drafting.version(session, access).sections[0].anchor
    drafting.submit_contribution(session, access, "amendment", anchor, "A change.", app_today())
    session.commit()
    _member_client, coordinator_client = signed_in_clients(app, staff, codename)
    return coordinator_client, room_id


def _page(client: FlaskClient, room_id: str, query: str = "") -> tuple[str, list[str]]:
    response = client.get(f"/rooms/{room_id}/moderation{query}")
    assert response.status_code == 200, query
    html = response.get_data(as_text=True)
    shown = re.findall(r'<article class="contribution[^"]*" id="contribution-([0-9a-f]+)"', html)
    assert html.count("<summary>Reject…</summary>") == len(shown)
    return html, shown


def _links(html: str) -> dict[str, str]:
    """The queue's page links by their words."""
    nav = re.search(r'<nav aria-label="Pages" class="pages">(.*?)</nav>', html, re.S)
    assert nav is not None
    found = re.findall(r'<a href="([^"]+)">(Previous page|Next page)</a>', nav.group(1))
    return {words: href.replace("&amp;", "&") for href, words in found}


def test_the_queue_is_paged_with_plain_links(app: Flask, session: Session) -> None:
    client, room_id = _queue(app, session)
    base = f"/rooms/{room_id}/moderation"

    first, first_ids = _page(client, room_id)
    assert len(first_ids) == PAGE_SIZE
    assert f"{COMMENTS + 1} pending." in first
    assert _links(first) == {"Next page": f"{base}?page=2"}

    second, second_ids = _page(client, room_id, "?page=2")
    assert len(second_ids) == COMMENTS + 1 - PAGE_SIZE
    assert _links(second) == {"Previous page": f"{base}?page=1"}
    # Every pending contribution on one page or the other, none on both.
    assert len(set(first_ids) | set(second_ids)) == COMMENTS + 1
    assert not set(first_ids) & set(second_ids)
    # Asked again, a page shows the same contributions in the same order.
    assert _page(client, room_id, "?page=2")[1] == second_ids

    # The links keep the filters.
    comments, comment_ids = _page(client, room_id, "?kind=comment")
    assert len(comment_ids) == PAGE_SIZE
    assert _links(comments) == {"Next page": f"{base}?page=2&kind=comment"}
    rest, rest_ids = _page(client, room_id, "?page=2&kind=comment")
    assert len(rest_ids) == COMMENTS - PAGE_SIZE
    assert _links(rest) == {"Previous page": f"{base}?page=1&kind=comment"}
    assert "A change." not in comments + rest


def test_bad_page_numbers_show_the_first_page(app: Flask, session: Session) -> None:
    client, room_id = _queue(app, session)
    _html, first_ids = _page(client, room_id)
    for raw in ("abc", "-1", "0", "1.5", "2abc", "", "%202", "%EF%BC%92", "١", str(10**20)):
        _html, shown = _page(client, room_id, f"?page={raw}")
        assert shown == first_ids, raw
    _html, shown = _page(client, room_id, "?page=1&page=2")
    assert shown == first_ids
    # A control character in the query is refused before any page is made.
    assert client.get(f"/rooms/{room_id}/moderation?page=%00").status_code == 400


def test_a_page_past_the_end_is_empty_and_leads_back_to_the_last(
    app: Flask, session: Session
) -> None:
    client, room_id = _queue(app, session)
    for raw in ("3", "99999"):
        html, shown = _page(client, room_id, f"?page={raw}")
        assert shown == []
        assert "Nothing is waiting." in html
        assert _links(html) == {"Previous page": f"/rooms/{room_id}/moderation?page=2"}
    # An empty filter's queue past its end leads back to its first page.
    html, shown = _page(client, room_id, "?page=4&kind=translation")
    assert shown == []
    assert _links(html) == {"Previous page": f"/rooms/{room_id}/moderation?page=1&kind=translation"}
