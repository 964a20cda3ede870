"""What a correction or retraction changed, and why: the signed part of format-2 bundles.

A version after the first carries two more statement fields in bundle format 2:

- `reason`: the public reason for the correction or retraction, as the coordinators
  wrote it (never empty);
- `changes`: what changed from the version before it, so any reader (and this project's
  offline verifier) can print the same summary as the statement page:
  `previous_version`, `signatories_added` and `signatories_removed` (lists of
  {name, country}), `removed_for_safety` (how many signatories were removed at their own
  request for their safety: counted, never named again) and `anonymous_before` (the
  previous version's anonymous count; the new one is the statement's own).

A retraction names no signatories, so its `changes` lists none added or removed.
Given the previous bundle too, `compare` checks that the summary is the true difference.
No Flask, no SQLAlchemy.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

CHANGE_FIELDS = frozenset({"reason", "changes"})
CHANGES_FIELDS = frozenset(
    {
        "previous_version",
        "signatories_added",
        "signatories_removed",
        "removed_for_safety",
        "anonymous_before",
    }
)
MAX_REASON = 2000
_JSON_INT = 2**53 - 1

Signatory = tuple[str, str]


class ChangesError(ValueError):
    """A `reason` or `changes` field that is not shaped as format 2 says."""


@dataclass(frozen=True)
class Changes:
    """A version's signed reason and summary of changes, read and checked for shape."""

    reason: str
    previous_version: int
    added: tuple[Signatory, ...]
    removed: tuple[Signatory, ...]
    removed_for_safety: int
    anonymous_before: int
    anonymous_after: int


def _signatory(item: Mapping[str, Any]) -> Signatory:
    return (str(item["name"]), str(item.get("country") or ""))


def _as_dicts(items: Sequence[Signatory]) -> list[dict[str, str]]:
    return [{"name": name, "country": country} for name, country in items]


def make_changes(
    previous: Mapping[str, Any],
    *,
    status: str,
    signatories: Sequence[Mapping[str, Any]],
    anonymous: int,
    reason: str,
    for_safety: bool = False,
) -> dict[str, Any]:
    """The `reason` and `changes` fields of the version after `previous` (a statement)."""
    if not reason.strip():
        raise ChangesError("a correction or retraction needs a reason")
    before = Counter(_signatory(item) for item in previous["signatories"])
    after = Counter(_signatory(item) for item in signatories)
    if status == "retracted":
        added: list[Signatory] = []
        removed: list[Signatory] = []
        safety = 0
    else:
        added = sorted((after - before).elements())
        removed = sorted((before - after).elements())
        safety = len(removed) if for_safety else 0
        if for_safety:
            # Counted, never named again: the page and the verifier say only how many.
            removed = []
    return {
        "reason": reason,
        "changes": {
            "previous_version": int(previous["version"]),
            "signatories_added": _as_dicts(added),
            "signatories_removed": _as_dicts(removed),
            "removed_for_safety": safety,
            "anonymous_before": int(previous["anonymous_signatories"]),
        },
    }


def _int(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _JSON_INT:
        raise ChangesError(f"{where} is not a whole number from 0")
    return value


def _people(value: object, where: str) -> tuple[Signatory, ...]:
    if not isinstance(value, list):
        raise ChangesError(f"{where} is not a list")
    found = []
    for position, item in enumerate(value):
        if not isinstance(item, Mapping) or set(item) != {"name", "country"}:
            raise ChangesError(f"{where}[{position}] must have exactly the fields name and country")
        name, country = item["name"], item["country"]
        if not isinstance(name, str) or not name or not isinstance(country, str | None):
            raise ChangesError(f"{where}[{position}] has a name or country that is not text")
        found.append((name, country or ""))
    return tuple(found)


def read_changes(fields: Mapping[str, Any]) -> Changes:
    """The `reason` and `changes` of a statement, checked for shape (ChangesError if not)."""
    reason = fields["reason"]
    if not isinstance(reason, str) or not reason.strip() or len(reason) > MAX_REASON:
        raise ChangesError("statement.reason must be text, not empty")
    changes = fields["changes"]
    if not isinstance(changes, Mapping) or set(changes) != CHANGES_FIELDS:
        raise ChangesError(
            "statement.changes must have exactly the fields " + ", ".join(sorted(CHANGES_FIELDS))
        )
    version = fields["version"]
    previous = _int(changes["previous_version"], "statement.changes.previous_version")
    if not isinstance(version, int) or previous != version - 1:
        raise ChangesError("statement.changes.previous_version is not the version before")
    if fields["status"] not in ("corrected", "retracted"):
        raise ChangesError("only a correction or a retraction carries a reason")
    added = _people(changes["signatories_added"], "statement.changes.signatories_added")
    signed = Counter(_signatory(item) for item in fields["signatories"])
    if Counter(added) - signed:
        raise ChangesError("statement.changes names an added signatory the statement lacks")
    return Changes(
        reason=reason,
        previous_version=previous,
        added=added,
        removed=_people(changes["signatories_removed"], "statement.changes.signatories_removed"),
        removed_for_safety=_int(
            changes["removed_for_safety"], "statement.changes.removed_for_safety"
        ),
        anonymous_before=_int(changes["anonymous_before"], "statement.changes.anonymous_before"),
        anonymous_after=_int(fields["anonymous_signatories"], "statement.anonymous_signatories"),
    )


def compare(previous: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """What in `current`'s signed summary is not the true change from `previous` (both
    statements, already verified); an empty list when it is."""
    if not current.keys() >= CHANGE_FIELDS:
        # Format 1 signed no summary: there is nothing to hold to the truth.
        return []
    changes = read_changes(current)
    problems = []
    if changes.previous_version != previous["version"]:
        problems.append("previous_version is not the earlier bundle's version")
    if changes.anonymous_before != previous["anonymous_signatories"]:
        problems.append("anonymous_before is not the earlier version's anonymous count")
    if current["status"] == "retracted":
        if changes.added or changes.removed or changes.removed_for_safety:
            problems.append("a retraction lists signatories added or removed")
        return problems
    before = Counter(_signatory(item) for item in previous["signatories"])
    after = Counter(_signatory(item) for item in current["signatories"])
    if Counter(changes.added) != after - before:
        problems.append("signatories_added is not who was added")
    gone = before - after
    named = Counter(changes.removed)
    if named - gone or sum(gone.values()) != sum(named.values()) + changes.removed_for_safety:
        problems.append("signatories_removed and removed_for_safety are not who was removed")
    return problems


def computed(previous: Mapping[str, Any], current: Mapping[str, Any]) -> Changes:
    """For format-1 pairs, which sign no summary: the changes as the two versions show them."""
    before = Counter(_signatory(item) for item in previous["signatories"])
    after = Counter(_signatory(item) for item in current["signatories"])
    return Changes(
        reason="(none signed: format 1)",
        previous_version=int(previous["version"]),
        added=tuple(sorted((after - before).elements())),
        removed=tuple(sorted((before - after).elements())),
        removed_for_safety=0,
        anonymous_before=int(previous["anonymous_signatories"]),
        anonymous_after=int(current["anonymous_signatories"]),
    )


def _who(item: Signatory) -> str:
    name, country = item
    return f"{name} ({country})" if country else name


def summary(changes: Changes) -> list[str]:
    """The signed summary as lines of plain text, in the order the statement page shows."""
    lines = [f"reason: {changes.reason}"]
    lines += [f"signatory added: {_who(item)}" for item in changes.added]
    lines += [f"signatory removed: {_who(item)}" for item in changes.removed]
    if changes.removed_for_safety:
        lines.append(
            f"signatories removed at their request for their safety: {changes.removed_for_safety}"
        )
    if changes.anonymous_before != changes.anonymous_after:
        lines.append(
            f"anonymous endorsements: {changes.anonymous_before} -> {changes.anonymous_after}"
        )
    return lines


def text_diff(previous: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """A unified diff of the two versions' titles and Markdown bodies, line by line."""
    old = [f"# title: {previous['title']}", *str(previous["body_markdown"]).splitlines()]
    new = [f"# title: {current['title']}", *str(current["body_markdown"]).splitlines()]
    return list(
        difflib.unified_diff(
            old,
            new,
            fromfile=f"version {previous['version']}",
            tofile=f"version {current['version']}",
            lineterm="",
        )
    )
