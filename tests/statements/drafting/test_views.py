"""Drafting through HTTP, as browsers use it, and what that leaves at rest."""

from __future__ import annotations

import glob
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import MetaData, event, func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from statements.models import Contribution, ContributionStatus, DraftVersion, Room, RoomKey
from tests.support import DRAFT, app_today, csrf_token, invitation_link, login_staff, make_staff


def _post(client: FlaskClient, path: str, data: dict[str, object] | None = None) -> TestResponse:
    return client.post(path, data={"csrf_token": csrf_token(client, "/account"), **(data or {})})


def _open_room(
    app: Flask, session: Session, client: FlaskClient, title: str = "Right to work"
) -> str:
    staff = make_staff(app, session)
    assert login_staff(client, app, staff).status_code == 302
    response = client.post(
        "/rooms/new",
        data={
            "csrf_token": csrf_token(client, "/rooms/new"),
            "title": title,
            "language": "en",
            "summary": "What we ask of governments.",
            "markdown": DRAFT,
            "contribution_deadline": (app_today() + timedelta(days=14)).isoformat(),
            "signon_deadline": (app_today() + timedelta(days=28)).isoformat(),
            # These tests follow members who see each other's words at once.
            "moderation": "post",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"].rsplit("/", 1)[-1]


def _invite(client: FlaskClient, room_id: str, uses: int = 5) -> str:
    return invitation_link(client, room_id, app_today() + timedelta(days=7), uses)


def _join(app: Flask, link: str) -> tuple[FlaskClient, str]:
    """A newcomer follows the link and creates a codename account in one step."""
    client = app.test_client()
    page = client.get(link)
    assert page.status_code == 200
    assert "Right to work" in page.get_data(as_text=True)
    token = re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"', page.get_data(as_text=True)
    )
    assert token
    joined = client.post(link, data={"csrf_token": token.group(1)})
    assert joined.status_code == 201
    codename = re.search(r'<p class="codename"[^>]*>([a-z -]+)</p>', joined.get_data(as_text=True))
    assert codename
    return client, codename.group(1)


def _anchors(client: FlaskClient, room_id: str) -> list[str]:
    page = client.get(f"/rooms/{room_id}").get_data(as_text=True)
    return re.findall(r'<li id="(s-[0-9a-f]{8})" class="section">', page)


def _contribute(
    client: FlaskClient, room_id: str, kind: str, section: str | None, text: str
) -> TestResponse:
    data = {
        "csrf_token": csrf_token(client, f"/rooms/{room_id}/contribute"),
        "kind": kind,
        "text": text,
        "submit": "1",
    }
    if section:
        data["section"] = section
    return client.post(f"/rooms/{room_id}/contribute", data=data)


@dataclass
class Round:
    """A room in drafting, seen from three browsers."""

    room_id: str
    coordinator: FlaskClient
    first: FlaskClient
    second: FlaskClient
    codenames: list[str]
    link: str


@pytest.fixture
def drafting_round(app: Flask, session: Session, client: FlaskClient) -> Round:
    """A coordinator opens a room and invites; two members join by link."""
    room_id = _open_room(app, session, client)
    link = _invite(client, room_id)
    first, first_codename = _join(app, link)
    second, second_codename = _join(app, link)
    return Round(room_id, client, first, second, [first_codename, second_codename], link)


def test_a_drafting_round_leaves_nothing_readable_or_linkable_at_rest(
    app: Flask, session: Session, drafting_round: Round
) -> None:
    room_id = drafting_round.room_id
    coordinator, first, second = (
        drafting_round.coordinator,
        drafting_round.first,
        drafting_round.second,
    )
    anchors = _anchors(first, room_id)
    typed = [
        "Refugees across the whole region are denied lawful work",
        "Please name the bilateral agreements explicitly",
        "Offensive remark about a neighbouring community",
        "Add a paragraph on access to healthcare for families",
    ]
    assert _contribute(first, room_id, "amendment", anchors[1], typed[0]).status_code == 302
    assert _contribute(second, room_id, "comment", anchors[2], typed[1]).status_code == 302
    assert _contribute(second, room_id, "comment", None, typed[2]).status_code == 302
    assert _contribute(first, room_id, "addition", anchors[2], typed[3]).status_code == 302

    queue = coordinator.get(f"/rooms/{room_id}/moderation").get_data(as_text=True)
    ids = {
        text: cid
        for cid, text in re.findall(
            r'id="contribution-([0-9a-f]{32})".*?<div class="contribution-text"[^>]*>'
            r"<p>(.*?)</p>",
            queue,
            re.S,
        )
    }
    assert set(ids) == set(typed)
    # Support from the other member, then moderation of every kind.
    assert (
        _post(
            second, f"/rooms/{room_id}/contributions/{ids[typed[0]]}/support", {"supported": "1"}
        ).status_code
        == 302
    )
    accept = _post(
        coordinator,
        f"/rooms/{room_id}/moderation/{ids[typed[0]]}",
        {"action": "accept", "expected_version": "1"},
    )
    assert accept.status_code == 302
    reject = _post(
        coordinator,
        f"/rooms/{room_id}/moderation/{ids[typed[1]]}",
        {"action": "reject", "reason": "out_of_scope", "note": "Keep it for the annex"},
    )
    assert reject.status_code == 302
    assert (
        _post(
            coordinator, f"/rooms/{room_id}/moderation/{ids[typed[2]]}", {"action": "hide"}
        ).status_code
        == 302
    )
    mine = second.get(f"/rooms/{room_id}/mine").get_data(as_text=True)
    assert "Out of scope for this statement" in mine
    assert "Keep it for the annex" in mine
    assert typed[2] not in second.get(f"/rooms/{room_id}/contributions").get_data(as_text=True)
    draft = first.get(f"/rooms/{room_id}").get_data(as_text=True)
    assert typed[0] in draft
    versions = first.get(f"/rooms/{room_id}/versions?from=1&to=2").get_data(as_text=True)
    assert "<ins>" in versions
    assert "<del>" in versions
    assert "inserted: " in versions

    # At rest: no typed text anywhere, and nothing that links a contribution,
    # a support or a log entry to an account.
    metadata = MetaData()
    metadata.reflect(bind=session.connection())
    blob = b""
    for table in metadata.sorted_tables:
        for row in session.execute(select(table)):
            for value in row:
                blob += (
                    bytes(value) if isinstance(value, bytes | memoryview) else str(value).encode()
                )
                blob += b"\x00"
    for text in [
        *typed,
        "Right to work",
        "What we ask of governments",
        "denied the right to work",
        "Keep it for the annex",
        *drafting_round.codenames,
    ]:
        assert str(text).encode() not in blob, text
    assert b"Refugees" not in blob
    for name in ("contributions", "supports", "moderation_log"):
        table = metadata.tables[name]
        assert not any("account" in column.name for column in table.columns), name
        assert not [fk for fk in table.foreign_keys if fk.column.table.name == "accounts"], name
    account_ids = [row[0] for row in session.execute(select(metadata.tables["accounts"].c.id))]
    for name in ("contributions", "supports", "moderation_log"):
        for row in session.execute(select(metadata.tables[name])):
            for value in row:
                for account_id in account_ids:
                    assert account_id.encode() not in (
                        bytes(value)
                        if isinstance(value, bytes | memoryview)
                        else str(value).encode()
                    )


def test_pages_show_nothing_that_tells_authors_apart(
    app: Flask, session: Session, drafting_round: Round
) -> None:
    room_id = drafting_round.room_id
    coordinator, first, second = (
        drafting_round.coordinator,
        drafting_round.first,
        drafting_round.second,
    )
    _contribute(first, room_id, "comment", None, "Alpha words")
    _contribute(second, room_id, "comment", None, "Bravo words")

    def articles(page: str) -> list[str]:
        found = re.findall(r'<article class="contribution".*?</article>', page, re.S)
        normalised = []
        for article in found:
            article = re.sub(r"[0-9a-f]{32}", "ID", article)
            article = re.sub(r'name="csrf_token" type="hidden" value="[^"]+"', "", article)
            normalised.append(article.replace("Alpha words", "TEXT").replace("Bravo words", "TEXT"))
        return normalised

    for viewer in (coordinator,):
        for path in (f"/rooms/{room_id}/contributions", f"/rooms/{room_id}/moderation"):
            shown = articles(viewer.get(path).get_data(as_text=True))
            assert len(shown) == 2
            assert shown[0] == shown[1]
    # To a third member, both look the same too; to each author, only theirs says "yours".
    third, _ = _join(app, drafting_round.link)
    shown = articles(third.get(f"/rooms/{room_id}/contributions").get_data(as_text=True))
    assert shown[0] == shown[1]
    assert "yours" not in "".join(shown)
    own = articles(first.get(f"/rooms/{room_id}/contributions").get_data(as_text=True))
    assert sum("yours" in article for article in own) == 1


def test_bad_contributions_are_refused_and_write_nothing(
    app: Flask, session: Session, drafting_round: Round
) -> None:
    room_id = drafting_round.room_id
    coordinator, first = drafting_round.coordinator, drafting_round.first
    anchors = _anchors(first, room_id)

    def count() -> int:
        session.expire_all()
        return session.scalar(select(func.count()).select_from(Contribution)) or 0

    cases = [
        (
            _contribute(first, room_id, "amendment", "s-00000000", "Forged anchor"),
            400,
            "does not exist",
        ),
        (_contribute(first, room_id, "comment", anchors[1], "x" * 10_001), 400, "10,000"),
        (
            _contribute(first, room_id, "comment", anchors[1], "<script>alert(1)</script>"),
            400,
            "scripts are not allowed",
        ),
        (
            _contribute(first, room_id, "comment", anchors[1], "[x](javascript:alert(1))"),
            400,
            "scripts are not allowed",
        ),
        (_contribute(first, "0" * 32, "comment", None, "Not my room"), 404, "not a member"),
    ]
    outsider = app.test_client()
    outsider.post("/join", data={"csrf_token": csrf_token(outsider, "/join")})
    cases.append((_contribute(outsider, room_id, "comment", None, "Outsider"), 404, "not a member"))
    for response, status, message in cases:
        assert response.status_code == status
        assert message in response.get_data(as_text=True)
        assert "<script>alert" not in response.get_data(as_text=True)
    assert count() == 0

    _post(coordinator, f"/rooms/{room_id}/state", {"target": "consolidating"})
    closed = _contribute(first, room_id, "comment", None, "Too late")
    assert closed.status_code == 409
    assert "does not allow" in closed.get_data(as_text=True)
    assert count() == 0


def test_preview_works_without_javascript_and_saves_nothing(
    app: Flask, session: Session, drafting_round: Round
) -> None:
    room_id = drafting_round.room_id
    first = drafting_round.first
    response = first.post(
        f"/rooms/{room_id}/contribute",
        data={
            "csrf_token": csrf_token(first, f"/rooms/{room_id}/contribute"),
            "kind": "comment",
            "text": "Some *emphasis* and [a link](https://example.org)",
            "preview": "1",
        },
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<em>emphasis</em>" in page
    assert 'rel="nofollow noopener noreferrer"' in page
    assert session.scalar(select(func.count()).select_from(Contribution)) == 0


def test_an_error_while_accepting_leaves_everything_as_it_was(
    app: Flask, session: Session, drafting_round: Round
) -> None:
    room_id = drafting_round.room_id
    coordinator, first = drafting_round.coordinator, drafting_round.first
    anchors = _anchors(first, room_id)
    _contribute(first, room_id, "amendment", anchors[1], "A better sentence.")
    contribution_id = session.scalar(select(Contribution.id))
    assert contribution_id

    bind = app.extensions["db"].sessionmaker.kw["bind"]
    engine = getattr(bind, "engine", bind)

    def fail_on_log(conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO MODERATION_LOG"):
            raise RuntimeError("the database failed mid-request")

    event.listen(engine, "before_cursor_execute", fail_on_log)
    try:
        response = _post(
            coordinator,
            f"/rooms/{room_id}/moderation/{contribution_id}",
            {"action": "accept", "expected_version": "1"},
        )
    finally:
        event.remove(engine, "before_cursor_execute", fail_on_log)
    assert response.status_code == 500
    session.expire_all()
    room = session.get(Room, room_id)
    assert room is not None
    assert room.current_version == 1
    assert session.scalar(select(func.count()).select_from(DraftVersion)) == 1
    contribution = session.get(Contribution, contribution_id)
    assert contribution is not None
    assert contribution.status == ContributionStatus.PENDING
    assert "A better sentence." not in first.get(f"/rooms/{room_id}").get_data(as_text=True)


def test_invitation_links_that_do_not_work_get_a_clear_page(
    app: Flask, drafting_round: Round
) -> None:
    link = drafting_round.link
    mistyped = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")
    response = app.test_client().get(mistyped)
    assert response.status_code == 404
    assert "mistyped" in response.get_data(as_text=True)
    assert app.test_client().get("/invitation/nonsense").status_code == 404


def _second_coordinator(
    app: Flask, session: Session, coordinator: FlaskClient, room_id: str
) -> FlaskClient:
    other = make_staff(app, session, "second")
    response = coordinator.post(
        f"/rooms/{room_id}/members",
        data={
            "csrf_token": csrf_token(coordinator, f"/rooms/{room_id}/members"),
            "username": "second",
        },
    )
    assert response.status_code == 302
    client = app.test_client()
    assert login_staff(client, app, other).status_code == 302
    return client


def test_two_coordinators_editing_at_once_keep_both_texts(
    app: Flask, session: Session, drafting_round: Round
) -> None:
    room_id = drafting_round.room_id
    first = drafting_round.coordinator
    second = _second_coordinator(app, session, first, room_id)
    form_a = first.get(f"/rooms/{room_id}/draft").get_data(as_text=True)
    form_b = second.get(f"/rooms/{room_id}/draft").get_data(as_text=True)
    assert 'name="expected_version" value="1"' in form_a
    assert 'name="expected_version" value="1"' in form_b

    def save(client: FlaskClient, text: str) -> TestResponse:
        return client.post(
            f"/rooms/{room_id}/draft",
            data={
                "csrf_token": csrf_token(client, f"/rooms/{room_id}/draft"),
                "markdown": DRAFT + text,
                "note": "An edit",
                "expected_version": "1",
            },
        )

    assert save(first, "\nFirst coordinator's paragraph.\n").status_code == 302
    clash = save(second, "\nSecond coordinator's paragraph.\n")
    assert clash.status_code == 409
    page = clash.get_data(as_text=True)
    assert "Someone else saved version 2" in page
    assert "Second coordinator&#39;s paragraph." in page  # their text is kept in the form
    assert 'name="expected_version" value="2"' in page
    draft = first.get(f"/rooms/{room_id}").get_data(as_text=True)
    assert "First coordinator" in draft
    assert "Second coordinator" not in draft


def test_accepting_over_a_changed_section_shows_the_merge_screen(
    app: Flask, session: Session, drafting_round: Round
) -> None:
    room_id = drafting_round.room_id
    coordinator, member = drafting_round.coordinator, drafting_round.first
    anchors = _anchors(member, room_id)
    _contribute(member, room_id, "amendment", anchors[1], "The member's sentence.")
    contribution_id = session.scalar(select(Contribution.id))
    edited = DRAFT.replace("Refugees in the region", "Refugees throughout the region")
    coordinator.post(
        f"/rooms/{room_id}/draft",
        data={
            "csrf_token": csrf_token(coordinator, f"/rooms/{room_id}/draft"),
            "markdown": edited,
            "note": "Wording",
            "expected_version": "1",
        },
    )
    clash = _post(
        coordinator,
        f"/rooms/{room_id}/moderation/{contribution_id}",
        {"action": "accept", "expected_version": "2"},
    )
    assert clash.status_code == 409
    page = clash.get_data(as_text=True)
    assert "Refugees throughout the region" in page
    assert "The member&#39;s sentence." in page
    merged = _post(
        coordinator,
        f"/rooms/{room_id}/moderation/{contribution_id}",
        {"action": "accept", "expected_version": "2", "merged_text": "Merged by the coordinator."},
    )
    assert merged.status_code == 302
    assert "Merged by the coordinator." in member.get(f"/rooms/{room_id}").get_data(as_text=True)


def test_removing_a_member_locks_them_out(app: Flask, drafting_round: Round) -> None:
    room_id = drafting_round.room_id
    coordinator, member = drafting_round.coordinator, drafting_round.first
    number = re.search(
        r"member number in this room is <code>([0-9a-f]{6})</code>",
        member.get(f"/rooms/{room_id}").get_data(as_text=True),
    )
    assert number
    listing = coordinator.get(f"/rooms/{room_id}/members").get_data(as_text=True)
    assert number.group(1) in listing
    removed = _post(coordinator, f"/rooms/{room_id}/members/{number.group(1)}/remove")
    assert removed.status_code == 302
    assert member.get(f"/rooms/{room_id}").status_code == 404
    assert _post(coordinator, f"/rooms/{room_id}/members/ffffff/remove").status_code == 404
    # Open invitations keep working: they received the new key.
    assert app.test_client().get(drafting_round.link).status_code == 200


def test_revoked_invitations_and_member_only_actions(app: Flask, drafting_round: Round) -> None:
    room_id = drafting_round.room_id
    coordinator, member = drafting_round.coordinator, drafting_round.first
    for path in ("invitations", "members", "moderation", "draft", "seal"):
        assert member.get(f"/rooms/{room_id}/{path}").status_code == 403, path
    page = coordinator.get(f"/rooms/{room_id}/invitations").get_data(as_text=True)
    invitation_id = re.search(r"/invitations/([0-9a-f]{32})/revoke", page)
    assert invitation_id
    assert (
        _post(member, f"/rooms/{room_id}/invitations/{invitation_id.group(1)}/revoke").status_code
        == 403
    )
    assert (
        _post(
            coordinator, f"/rooms/{room_id}/invitations/{invitation_id.group(1)}/revoke"
        ).status_code
        == 302
    )
    response = app.test_client().get(drafting_round.link)
    assert response.status_code == 404
    assert "withdrawn" in response.get_data(as_text=True)


def test_sealing_through_the_page(app: Flask, session: Session, drafting_round: Round) -> None:
    room_id = drafting_round.room_id
    coordinator, member = drafting_round.coordinator, drafting_round.first
    _contribute(member, room_id, "comment", None, "Written before sealing")
    wrong = coordinator.post(
        f"/rooms/{room_id}/seal",
        data={
            "csrf_token": csrf_token(coordinator, f"/rooms/{room_id}/seal"),
            "title": "Not the title",
        },
    )
    assert wrong.status_code == 400
    assert member.get(f"/rooms/{room_id}").status_code == 200
    sealed = coordinator.post(
        f"/rooms/{room_id}/seal",
        data={
            "csrf_token": csrf_token(coordinator, f"/rooms/{room_id}/seal"),
            "title": "Right to work",
        },
    )
    assert sealed.status_code == 302
    for client in (coordinator, member):
        response = client.get(f"/rooms/{room_id}")
        assert response.status_code == 410
        assert "sealed" in response.get_data(as_text=True)
    assert "A sealed room" in coordinator.get("/rooms").get_data(as_text=True)
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Contribution)) == 1


def test_members_edit_and_withdraw_only_their_own(
    app: Flask, session: Session, drafting_round: Round
) -> None:
    room_id = drafting_round.room_id
    first, second = drafting_round.first, drafting_round.second
    _contribute(first, room_id, "comment", None, "Original wording")
    contribution_id = session.scalar(select(Contribution.id))
    assert second.get(f"/rooms/{room_id}/contributions/{contribution_id}/edit").status_code == 404
    assert (
        _post(second, f"/rooms/{room_id}/contributions/{contribution_id}/withdraw").status_code
        == 404
    )
    edited = first.post(
        f"/rooms/{room_id}/contributions/{contribution_id}/edit",
        data={
            "csrf_token": csrf_token(first, f"/rooms/{room_id}/mine"),
            "text": "Improved wording",
        },
    )
    assert edited.status_code == 302
    assert "Improved wording" in first.get(f"/rooms/{room_id}/mine").get_data(as_text=True)
    assert (
        _post(first, f"/rooms/{room_id}/contributions/{contribution_id}/withdraw").status_code
        == 302
    )
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Contribution)) == 0


def test_following_invitations_shares_the_join_budget(
    app: Flask, session: Session, app_with: Callable[..., Flask]
) -> None:
    throttled = app_with(join_rate_limit="2 per minute")
    coordinator = throttled.test_client()
    room_id = _open_room(throttled, session, coordinator)  # one staff sign-in
    link = _invite(coordinator, room_id)
    newcomer = throttled.test_client()
    for expected in (201, 201, 429):
        token = csrf_token(newcomer, link)
        assert newcomer.post(link, data={"csrf_token": token}).status_code == expected
        newcomer.delete_cookie("auth")


def test_sealing_leaves_no_key_in_the_sqlite_log(
    app: Flask, session: Session, settings: object, drafting_round: Round
) -> None:
    url = str(settings.database_url)
    if not url.startswith("sqlite:///"):
        pytest.skip("SQLite's write-ahead log; PostgreSQL's is covered in the threat model")
    wraps = [bytes(key.sealed_key) for key in session.scalars(select(RoomKey))]
    assert wraps
    coordinator = drafting_round.coordinator
    sealed = coordinator.post(
        f"/rooms/{drafting_round.room_id}/seal",
        data={
            "csrf_token": csrf_token(coordinator, f"/rooms/{drafting_round.room_id}/seal"),
            "title": "Right to work",
        },
    )
    assert sealed.status_code == 302
    session.close()
    path = url.removeprefix("sqlite:///")
    raw = b"".join(Path(name).read_bytes() for name in glob.glob(path + "*"))
    for wrap in wraps:
        assert wrap[:48] not in raw


def _new_room_form(client: FlaskClient, **fields: object) -> TestResponse:
    data: dict[str, object] = {
        "csrf_token": csrf_token(client, "/rooms/new"),
        "title": "Uploaded statement",
        "language": "en",
        "summary": "",
        "markdown": "",
        "contribution_deadline": (app_today() + timedelta(days=3)).isoformat(),
        "signon_deadline": (app_today() + timedelta(days=5)).isoformat(),
        **fields,
    }
    return client.post("/rooms/new", data=data, content_type="multipart/form-data")


def test_the_first_draft_can_be_uploaded_as_markdown(
    app: Flask, session: Session, client: FlaskClient
) -> None:
    staff = make_staff(app, session)
    login_staff(client, app, staff)
    bad = _new_room_form(client, upload=(io.BytesIO(b"\xff\xfe not text"), "draft.md"))
    assert bad.status_code == 400
    assert "UTF-8" in bad.get_data(as_text=True)
    wrong_type = _new_room_form(client, upload=(io.BytesIO(b"x"), "draft.exe"))
    assert wrong_type.status_code == 400
    past = _new_room_form(client, markdown="Text.", contribution_deadline="2000-01-01")
    assert past.status_code == 400
    assert session.scalar(select(func.count()).select_from(Room)) == 0
    good = _new_room_form(
        client, upload=(io.BytesIO(b"# Titre\n\nPremier paragraphe.\n"), "draft.md")
    )
    assert good.status_code == 302
    assert "Premier paragraphe." in client.get(good.headers["Location"]).get_data(as_text=True)


def test_the_moderation_queue_filters_by_section_and_kind(drafting_round: Round) -> None:
    room_id, member, coordinator = (
        drafting_round.room_id,
        drafting_round.first,
        drafting_round.coordinator,
    )
    anchors = _anchors(member, room_id)
    _contribute(member, room_id, "comment", anchors[1], "Comment on one")
    _contribute(member, room_id, "amendment", anchors[1], "Change to one")
    _contribute(member, room_id, "comment", anchors[2], "Comment on two")

    def shown(query: str) -> set[str]:
        page = coordinator.get(f"/rooms/{room_id}/moderation{query}").get_data(as_text=True)
        return set(re.findall(r'<div class="contribution-text"[^>]*><p>(.*?)</p>', page))

    assert shown("") == {"Comment on one", "Change to one", "Comment on two"}
    assert shown(f"?section={anchors[1]}") == {"Comment on one", "Change to one"}
    assert shown("?kind=comment") == {"Comment on one", "Comment on two"}
    assert shown(f"?section={anchors[1]}&kind=amendment") == {"Change to one"}
    assert shown("?kind=nonsense") == {"Comment on one", "Change to one", "Comment on two"}


def test_small_rooms_warn_that_authors_may_be_guessed(app: Flask, drafting_round: Round) -> None:
    page = drafting_round.first.get(f"/rooms/{drafting_round.room_id}").get_data(as_text=True)
    assert "This room has only 3 members" in page
    for _ in range(2):
        _join(app, drafting_round.link)
    page = drafting_round.first.get(f"/rooms/{drafting_round.room_id}").get_data(as_text=True)
    assert "This room has only" not in page
