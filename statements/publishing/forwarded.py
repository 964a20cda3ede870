"""Which published version a forwarded text is: found through an index of their words.

Each published version's text is brought to its comparison key once per process (see
crypto/plaintext.py) and kept, with a sample of its stretches of characters in an
inverted index. A forwarded text's key is compared with every kept key (a substring
search, fast however many there are); when none matches, the version sharing the most
sampled stretches is the closest, shown with a word diff. No version is rendered again
per request. Published text never changes, so an entry never goes stale; the index only
takes in versions published since it last looked.

Kept in memory, per process, like the rendered pages (render_cache.py), and for the same
reason: nothing is written when someone checks a text.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from crypto import plaintext
from statements.models import PublishedStatement, PublishedVersion
from statements.text.diff import Budget, Piece, word_diff

# Versions ranked when looking for the closest.
CANDIDATES = 8
# Versions fetched per query when the index takes them in.
BATCH = 200
# The closest version is shown with a word diff only when it shares at least this share
# of the forwarded text's sampled stretches: below it, nothing published is close.
CLOSE_ENOUGH = 0.2


@dataclass(frozen=True)
class Entry:
    """One published version, as the index keeps it."""

    slug: str
    version: int
    title: str
    language: str
    status: str
    text: str  # what a reader sees, paragraph by paragraph (for the word diff)
    key: str
    shingles: frozenset[int]


@dataclass(frozen=True)
class Found:
    """A version the forwarded text matches, and whether it is its statement's latest."""

    entry: Entry
    match: plaintext.Match
    latest: int
    statement_status: str
    # A whole match: the forwarded words before and after the version's text (not compared).
    before: str = ""
    after: str = ""


@dataclass(frozen=True)
class Closest:
    """No version matches: the nearest one, and the words that differ."""

    entry: Entry
    latest: int
    pieces: list[Piece]


@dataclass(frozen=True)
class Verdict:
    """What a forwarded text is: the versions it matches, else the closest (if any)."""

    found: list[Found]
    closest: Closest | None
    too_short: bool  # too few words to tell one statement from another


class TextIndex:
    """Published versions by their words; shared by one app's requests."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, int], Entry] = {}
        self._postings: dict[int, list[tuple[str, int]]] = {}
        self._lock = threading.Lock()

    def refresh(self, db: Session) -> None:
        """Take in the versions published since the last look (one small query if none).

        Versions are counted rather than followed by log position: a statement released
        after an embargo has the place its commitment took, before later publications.
        """
        count = db.scalar(select(func.count()).select_from(PublishedVersion)) or 0
        if count <= len(self._entries):
            return
        with self._lock:
            known = db.execute(select(PublishedVersion.slug, PublishedVersion.version))
            missing = [
                (slug, version) for slug, version in known if (slug, version) not in self._entries
            ]
            for start in range(0, len(missing), BATCH):
                rows = db.execute(
                    select(
                        PublishedVersion.slug, PublishedVersion.version, PublishedVersion.bundle
                    ).where(
                        tuple_(PublishedVersion.slug, PublishedVersion.version).in_(
                            missing[start : start + BATCH]
                        )
                    )
                )
                for slug, version, bundle in rows:
                    self._add(slug, version, bytes(bundle))

    def _add(self, slug: str, version: int, bundle: bytes) -> None:
        statement = json.loads(bundle)["statement"]
        text = plaintext.markdown_text(statement["body_markdown"])
        key = plaintext.key(text)
        entry = Entry(
            slug=slug,
            version=version,
            title=statement["title"],
            language=statement["language"],
            status=statement["status"],
            text=text,
            key=key,
            shingles=frozenset(plaintext.shingles(key)),
        )
        self._entries[(slug, version)] = entry
        for value in entry.shingles:
            self._postings.setdefault(value, []).append((slug, version))

    def entries(self) -> list[Entry]:
        """Every published version taken in so far."""
        with self._lock:
            return list(self._entries.values())

    def holds_whole(self, keys: list[str]) -> bool:
        """Whether some version's whole key is one of these keys."""
        return any(entry.key in keys for entry in self.entries())

    def candidates(self, forwarded_key: str) -> list[tuple[Entry, int]]:
        """The versions sharing the most sampled stretches with a key, most first."""
        counts: Counter[tuple[str, int]] = Counter()
        wanted = plaintext.shingles(forwarded_key)
        # Another request may be taking in new versions: read under the same lock.
        with self._lock:
            for value in wanted:
                counts.update(self._postings.get(value, ()))
            # Among versions sharing as much, the newest first: it is the one to compare with.
            ranked = sorted(counts.items(), key=lambda item: (-item[1], -item[0][1]))
            return [(self._entries[name], shared) for name, shared in ranked[:CANDIDATES]]


def index_of(extensions: dict[str, object]) -> TextIndex:
    """The app's index (kept in app.extensions: two apps in one process never mix)."""
    found = extensions.get("text_index")
    if not isinstance(found, TextIndex):
        found = TextIndex()
        extensions["text_index"] = found
    return found


def identify(db: Session, index: TextIndex, text: str) -> Verdict:
    """Which published versions a forwarded text matches, or the closest one."""
    index.refresh(db)
    forwarded = plaintext.readable(text)
    keys = plaintext.forwarded_keys(text)
    key = keys[0]
    if len(key) < plaintext.MIN_EXCERPT and not index.holds_whole(keys):
        # A short text still matches a whole (short) statement, but is never a guess.
        return Verdict([], None, too_short=True)
    # Exact comparisons run over every version: a substring search in C, milliseconds for
    # millions of characters, and no sampled stretch can be missed.
    matched = [
        (entry, match)
        for entry in index.entries()
        if (match := _first(plaintext.compare(entry.key, k) for k in keys)) is not None
    ]
    latest = _latest(db, {entry.slug for entry, _ in matched})
    found = []
    for entry, match in matched:
        number, status = latest[entry.slug]
        before, after = plaintext.around(forwarded, entry.key) if match.extra else ("", "")
        found.append(Found(entry, match, number, status, before, after))
    if found:
        return Verdict(_best(found), None, too_short=False)
    # The closest is found by the sampled stretches it shares with the text.
    ranked = index.candidates(key)
    sampled = len(plaintext.shingles(key))
    if not ranked or not sampled or ranked[0][1] < CLOSE_ENOUGH * sampled:
        return Verdict([], None, too_short=False)
    entry = ranked[0][0]
    newest = _latest(db, {entry.slug})[entry.slug][0]
    return Verdict([], Closest(entry, newest, _diff(entry, forwarded)), False)


def _first(matches: Iterable[plaintext.Match | None]) -> plaintext.Match | None:
    return next((match for match in matches if match is not None), None)


def _best(found: list[Found]) -> list[Found]:
    """A whole match names the fullest version the text holds (version 2 holds all of a
    version 1 it only added to); an excerpt names every version it is in, in order."""
    wholes = [item for item in found if item.match.kind == "whole"]
    if wholes:
        fullest = max(len(item.entry.key) for item in wholes)
        found = [item for item in wholes if len(item.entry.key) == fullest]
    return sorted(found, key=lambda item: (item.entry.slug, item.entry.version))


def _latest(db: Session, slugs: set[str]) -> dict[str, tuple[int, str]]:
    if not slugs:
        return {}
    rows = db.execute(
        select(
            PublishedStatement.slug, PublishedStatement.latest_version, PublishedStatement.status
        ).where(PublishedStatement.slug.in_(slugs))
    )
    return {slug: (number, status) for slug, number, status in rows}


def _diff(entry: Entry, forwarded: str) -> list[Piece]:
    """The word diff from the version's paragraphs the forwarded text overlaps to it."""
    wanted = plaintext.shingles(plaintext.key(forwarded))
    paragraphs = entry.text.split("\n\n")
    touched = [
        number
        for number, paragraph in enumerate(paragraphs)
        if plaintext.shingles(plaintext.key(paragraph)) & wanted
    ]
    if touched:
        paragraphs = paragraphs[touched[0] : touched[-1] + 1]
    # One line each: a PDF's line breaks are not the statement's paragraphs, and would
    # show as changes of their own.
    old, new = " ".join(" ".join(paragraphs).split()), " ".join(forwarded.split())
    return word_diff(old, new, Budget())
