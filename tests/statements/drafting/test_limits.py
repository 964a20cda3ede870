"""Drafts at the size limits save and compare; over them, the form says so and keeps the text."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from statements.drafting import service as drafting
from statements.drafting.errors import InvalidInput
from statements.models import DraftVersion, Room
from statements.text import diff
from statements.text.markdown import split_sections
from tests.support import app_today, csrf_token, login_staff, make_room, make_staff, staff_identity

WORDS = ("refugees", "detention", "asylum", "border", "rights", "protection", "return")


def _section(number: int, length: int) -> str:
    """One paragraph of exactly `length` characters, different from every other section."""
    text = f"Section {number}:"
    n = 0
    while len(text) < length:
        text += f" {WORDS[(n * 7 + number) % len(WORDS)]}{n % 11}"
        n += 1
    return text[:length].rstrip() + "x" * (length - len(text[:length].rstrip()))


def _maximal_draft() -> str:
    """Exactly MAX_DRAFT characters as stored, every section but the last at MAX_SECTION."""
    full = (drafting.MAX_DRAFT + 2) // (drafting.MAX_SECTION + 2)
    sections = [_section(n, drafting.MAX_SECTION) for n in range(full)]
    used = len("\n\n".join(sections)) + 2
    sections.append(_section(full, drafting.MAX_DRAFT - used))
    # As a browser sends it: CRLF newlines, which count once, as they are stored.
    return "\r\n\r\n".join(sections)


def _open_room(app: Flask, session: Session, client: FlaskClient, markdown: str) -> TestResponse:
    return client.post(
        "/rooms/new",
        data={
            "csrf_token": csrf_token(client, "/rooms/new"),
            "title": "A long statement",
            "language": "en",
            "summary": "",
            "markdown": markdown,
            "contribution_deadline": (app_today() + timedelta(days=14)).isoformat(),
            "signon_deadline": (app_today() + timedelta(days=28)).isoformat(),
        },
    )


def _edit(client: FlaskClient, room_id: str, markdown: str, expected: int = 1) -> TestResponse:
    return client.post(
        f"/rooms/{room_id}/draft",
        data={
            "csrf_token": csrf_token(client, f"/rooms/{room_id}/draft"),
            "markdown": markdown,
            "note": "One letter",
            "expected_version": str(expected),
        },
    )


@pytest.fixture
def coordinator(app: Flask, session: Session, client: FlaskClient) -> FlaskClient:
    """A signed-in coordinator's browser."""
    assert login_staff(client, app, make_staff(app, session)).status_code == 302
    return client


def _versions(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(DraftVersion)) or 0


def test_a_maximal_draft_edited_by_one_letter_saves_and_compares(
    app: Flask, session: Session, coordinator: FlaskClient
) -> None:
    draft = _maximal_draft()
    stored = draft.replace("\r\n", "\n")
    assert len(stored) == drafting.MAX_DRAFT
    assert max(len(block) for block in split_sections(stored)) == drafting.MAX_SECTION

    opened = _open_room(app, session, coordinator, draft)
    assert opened.status_code == 302, opened.get_data(as_text=True)[-2000:]
    room_id = opened.headers["Location"].rsplit("/", 1)[-1]
    middle = len(draft) // 2
    assert draft[middle] != "Q"
    edited = draft[:middle] + "Q" + draft[middle + 1 :]

    saved = _edit(coordinator, room_id, edited)

    assert saved.status_code == 302, saved.get_data(as_text=True)[-2000:]
    assert _versions(session) == 2
    page = coordinator.get(f"/rooms/{room_id}/versions")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Q" in "".join(part.split("</ins>")[0] for part in html.split("<ins>")[1:])
    assert len(html.split("<ins>")) == 2  # one change, shown as one change


def test_an_over_long_draft_is_refused_with_the_limit_and_the_text_kept(
    app: Flask, session: Session, coordinator: FlaskClient
) -> None:
    opened = _open_room(app, session, coordinator, "# Title\n\nA short first draft.\n")
    room_id = opened.headers["Location"].rsplit("/", 1)[-1]
    over = _maximal_draft() + " marker-kept-in-the-form"

    refused = _edit(coordinator, room_id, over)

    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert "longer than 200,000 characters" in page
    assert "marker-kept-in-the-form" in page
    assert _versions(session) == 1


def test_an_over_long_section_is_refused_with_its_number_and_the_text_kept(
    app: Flask, session: Session, coordinator: FlaskClient
) -> None:
    opened = _open_room(app, session, coordinator, "# Title\n\nA short first draft.\n")
    room_id = opened.headers["Location"].rsplit("/", 1)[-1]
    long_section = _section(2, drafting.MAX_SECTION + 1)
    text = f"# Title\n\n{long_section}\n\nLast words, kept.\n"

    refused = _edit(coordinator, room_id, text)

    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert "Section 2 is longer than 20,000 characters" in page
    assert "Last words, kept." in page
    assert _versions(session) == 1


def test_a_new_room_with_an_over_long_section_is_refused_and_nothing_is_written(
    app: Flask, session: Session, coordinator: FlaskClient
) -> None:
    refused = _open_room(app, session, coordinator, _section(1, drafting.MAX_SECTION + 1))

    assert refused.status_code == 400
    assert "Section 1 is longer than 20,000 characters" in refused.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Room)) == 0


def test_the_service_refuses_over_long_sections_whoever_calls_it(
    app: Flask, session: Session
) -> None:
    coordinator = staff_identity(app, session, "direct-caller")
    room_id = make_room(session, coordinator)
    access = drafting.open_room(session, room_id, coordinator)
    current = drafting.version(session, access)

    with pytest.raises(InvalidInput) as refused:
        drafting.edit_draft(
            session,
            access,
            current.markdown + "\n" + _section(9, drafting.MAX_SECTION + 1),
            "Too long",
            current.number,
            app_today(),
        )

    assert refused.value.reason == "section_too_long"
    assert drafting.version(session, access).number == current.number


def test_the_service_refuses_a_draft_that_accepted_additions_would_make_too_long(
    app: Flask, session: Session
) -> None:
    coordinator = staff_identity(app, session, "adder")
    room_id = make_room(session, coordinator)
    access = drafting.open_room(session, room_id, coordinator)
    current = drafting.version(session, access)
    sections = [
        *current.sections,
        *(drafting.Section(f"s-{n:08x}", _section(n, 20_000)) for n in range(10)),
    ]

    with pytest.raises(InvalidInput) as refused:
        drafting.check_draft_size(sections)

    assert refused.value.reason == "too_long"


def test_a_versions_page_of_adversarial_drafts_stays_within_the_budget(
    app: Flask, session: Session, coordinator: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Thousands of identical short paragraphs, changed at both ends.
    body = "\n\n".join(["Same."] * 5_000)
    opened = _open_room(app, session, coordinator, f"First.\n\n{body}\n\nLast.")
    room_id = opened.headers["Location"].rsplit("/", 1)[-1]
    assert _edit(coordinator, room_id, f"Opening.\n\n{body}\n\nClosing.").status_code == 302
    budgets: list[diff.Budget] = []
    real_budget = diff.Budget

    def recorded(steps: int = diff.MAX_STEPS) -> diff.Budget:
        budgets.append(real_budget(steps))
        return budgets[-1]

    monkeypatch.setattr(diff, "Budget", recorded)

    assert coordinator.get(f"/rooms/{room_id}/versions").status_code == 200
    assert budgets
    assert all(budget.spent <= diff.MAX_STEPS for budget in budgets)
