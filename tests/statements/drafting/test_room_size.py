"""What a room's pages cost does not grow with the room: at 10 contributions and 2 versions
and at 1,000 contributions and 100 versions, the same SQL statements, the draft decrypted
once per request, no more contributions decrypted than one page shows, and the reject
menu rendered once per page, whatever the items."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session
from wtforms.widgets import Select

from statements.drafting.access import PAGE_SIZE, Keyring
from statements.drafting.forms import REASON_LABELS
from tests.statements.drafting.test_query_counts import (
    _room,
    coordinator_and_member,
    counting,
    signed_in_clients,
)


@contextmanager
def opened(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The kinds of record decrypted inside the block (the real Keyring does the work)."""
    kinds: list[str] = []
    real = Keyring.open

    def counting_open(self: Keyring, kind: str, *args: Any, **kwargs: Any) -> Any:
        kinds.append(kind)
        return real(self, kind, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(Keyring, "open", counting_open)
        yield kinds


@contextmanager
def options_rendered(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    """Every <option> a select widget renders inside the block."""
    rendered: list[object] = []
    real = Select.render_option.__func__  # type: ignore[attr-defined]

    def counting_render(cls: type[Select], *args: Any, **kwargs: Any) -> Any:
        rendered.append(args[0])
        return real(cls, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(Select, "render_option", classmethod(counting_render))
        yield rendered


def test_room_pages_cost_the_same_at_ten_and_a_thousand(
    app: Flask, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    staff, coordinator, codename, member = coordinator_and_member(app, session)

    small = _room(app, session, coordinator, member, contributions=10, versions=2)
    large = _room(app, session, coordinator, member, contributions=1000, versions=100)

    member_client, coordinator_client = signed_in_clients(app, staff, codename)

    # Each page, and whether it is one page of a list (the member wrote every contribution
    # here, so "Yours" lists them all).
    pages = [
        (coordinator_client, "/rooms/{}/moderation", True),
        (member_client, "/rooms/{}/contributions", True),
        (member_client, "/rooms/{}/mine", False),
        (member_client, "/rooms/{}", False),
        (coordinator_client, "/rooms/{}/contributions", True),
    ]
    for client, path, paged in pages:
        counts = []
        for room_id in (small, large):
            client.get(path.format(room_id))
            with counting(app) as statements, opened(monkeypatch) as kinds:
                response = client.get(path.format(room_id))
            assert response.status_code == 200, path
            counts.append(len(statements))
            assert kinds.count("version") == 1, (path, room_id, kinds.count("version"))
            if paged:
                # The rows shown and nothing more: never every contribution of the room.
                decrypted = kinds.count("contribution")
                assert decrypted <= PAGE_SIZE, (path, room_id, decrypted)
        assert counts[0] == counts[1], (path, counts)

    # The large room's queue shows a full page; the reject menu is rendered once for it.
    for room_id, items in ((small, None), (large, 25)):
        with options_rendered(monkeypatch) as rendered:
            page = coordinator_client.get(f"/rooms/{room_id}/moderation")
        html = page.get_data(as_text=True)
        if items is not None:
            assert html.count("<summary>Reject…</summary>") == items
        reject_options = [o for o in rendered if getattr(o, "value", None) in REASON_LABELS]
        assert len(reject_options) == len(REASON_LABELS), len(reject_options)
