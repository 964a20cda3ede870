"""The public page computes each published diff once, not on every view."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from statements.publishing import public
from statements.publishing import service as publishing
from statements.text import diff
from tests.support import app_today, published_statement


@pytest.fixture
def word_diffs(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Every word diff computed, in a fresh cache (the real diff still runs)."""
    monkeypatch.setattr(public, "PUBLISHED_DIFFS", public.DiffCache(max_chars=8_000_000))
    calls: list[tuple[str, str]] = []
    real = diff.word_diff

    def counted(old: str, new: str, budget: diff.Budget | None = None) -> list[diff.Piece]:
        calls.append((old, new))
        return real(old, new, budget)

    monkeypatch.setattr(diff, "word_diff", counted)
    return calls


def test_the_statement_page_computes_each_diff_once(
    app: Flask, session: Session, word_diffs: list[tuple[str, str]]
) -> None:
    coordinator, slug = published_statement(app, session)
    for n in range(3):
        latest = publishing.latest(session, slug).statement
        publishing.correct(
            session,
            coordinator,
            slug,
            app_today(),
            title=f"{latest['title']} ({n})",
            body=latest["body_markdown"] + f"\n\nCorrection {n}.",
            signatories="Refugee Rights Network | Thailand",
            reason="A correction.",
        )
    session.commit()
    reader = app.test_client()

    first = reader.get(f"/statements/{slug}")
    computed = len(word_diffs)
    again = [reader.get(path) for path in (f"/statements/{slug}", f"/statements/{slug}/v/2")]

    assert first.status_code == 200
    assert all(page.status_code == 200 for page in again)
    # Three corrections: three body diffs and three title diffs, each computed once.
    assert computed == 6
    assert len(word_diffs) == computed
    assert "Correction 2." in again[0].get_data(as_text=True)
    assert again[0].get_data(as_text=True) == reader.get(f"/statements/{slug}").get_data(
        as_text=True
    )


def test_the_cache_holds_no_more_characters_than_its_bound(
    word_diffs: list[tuple[str, str]],
) -> None:
    cache = public.DiffCache(max_chars=100)
    cache.pieces("a" * 40, "b" * 40)  # 80 characters of pieces
    cache.pieces("c" * 10, "d" * 10)  # 20 more: at the bound
    cache.pieces("a" * 40, "b" * 40)  # a hit, now the most recently used
    assert len(word_diffs) == 2

    cache.pieces("e" * 5, "f" * 5)  # over the bound: the least recently used goes

    cache.pieces("a" * 40, "b" * 40)
    assert len(word_diffs) == 3
    cache.pieces("c" * 10, "d" * 10)
    assert len(word_diffs) == 4


def test_a_diff_larger_than_the_cache_is_computed_but_not_kept(
    word_diffs: list[tuple[str, str]],
) -> None:
    cache = public.DiffCache(max_chars=10)
    pieces = cache.pieces("a long old text", "a long new text")
    assert "".join(p.text for p in pieces if p.kind != "deleted") == "a long new text"
    cache.pieces("a long old text", "a long new text")
    assert len(word_diffs) == 2
