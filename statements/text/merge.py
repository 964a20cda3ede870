"""Three-way merges of a text: what it was, what it is now, and what someone proposed.

The merge itself is merge3's (the algorithm of bzr and Breezy): regions only one side
changed are taken from that side; regions both changed differently are conflicts, kept
whole from both sides between markers for a person to resolve. Nothing either side
wrote is ever dropped silently, so a merged text cannot undo a change already made.

Words are merged, not lines: a section of a statement is often one long line, and two
people changing different words of it do not conflict. The matching runs on the same
step budget as the word diff (see diff.py): a text too costly to compare finely is
matched coarsely, which can only mark more of it as a conflict, never lose a word.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from merge3 import Merge3

from statements.text.diff import Budget, bounded_matcher, opcodes
from statements.text.markdown import split_sections

# A word with the spaces after it; a text's leading spaces are a token of their own.
# Joining the tokens gives the text back.
_TOKENS = re.compile(r"^\s+|\S+\s*")

CONFLICT_START = "<<<<<<<"
CONFLICT_MIDDLE = "======="
CONFLICT_END = ">>>>>>>"
# A conflict left in a text: its first or last marker at the start of a line. The middle
# one alone is not looked for: seven "=" under a line are also a Markdown heading.
_LEFT_MARKER = re.compile(r"^[ \t]*(<{7}|>{7})", re.MULTILINE)


@dataclass(frozen=True)
class Merged:
    """A merged text, and how many conflicts it still marks for a person to resolve."""

    text: str
    conflicts: int


@dataclass(frozen=True)
class ThreeWay:
    """A three-way merge as a person checks it: the three texts, and the merge of them."""

    base: str
    current: str
    proposed: str
    merged: str
    conflicts: int


@dataclass(frozen=True)
class Labels:
    """What the markers of a conflict say: whose text is above, and whose below."""

    current: str = "now"
    proposed: str = "proposed"


def _tokens(text: str) -> list[str]:
    return _TOKENS.findall(text)


# What a member may not type into a proposal: any of the three markers on a line of its
# own, the middle one too. A proposal is merged with the draft later, and markers already
# in it could not be told from the merge's own, nor would they be caught once merged.
_ANY_MARKER = re.compile(r"^[ \t]*(<{7}|>{7})|^={7}[ \t]*$", re.MULTILINE)


def has_any_conflict_marker(text: str) -> bool:
    """Whether a text has a line starting with <<<<<<< or >>>>>>>, or a line of =======."""
    return _ANY_MARKER.search(text) is not None


def has_conflict_markers(text: str) -> bool:
    """Whether a text still holds a conflict's start or end marker at the start of a line."""
    return _LEFT_MARKER.search(text) is not None


def _common_ends(base: list[str], current: list[str], proposed: list[str]) -> tuple[int, int]:
    """Tokens all three share at the start and at the end (never overlapping)."""
    shortest = min(len(base), len(current), len(proposed))
    start = 0
    while start < shortest and base[start] == current[start] == proposed[start]:
        start += 1
    end = 0
    while end < shortest - start and base[-1 - end] == current[-1 - end] == proposed[-1 - end]:
        end += 1
    # Keep a token of each in the middle, so an insertion next to them is placed by merge3.
    return max(start - 1, 0), max(end - 1, 0)


def _conflict(current: str, proposed: str, labels: Labels, *, at_line_start: bool) -> str:
    """One conflict as it reads in the text box: both sides, each on lines of its own."""
    lead = "" if at_line_start else "\n"
    # A paragraph break after the conflicting words is kept after the last marker.
    tail = "\n" if current[len(current.rstrip()) :].count("\n") >= 2 else ""
    return (
        f"{lead}{CONFLICT_START} {labels.current}\n{current.strip()}\n"
        f"{CONFLICT_MIDDLE}\n{proposed.strip()}\n{CONFLICT_END} {labels.proposed}\n{tail}"
    )


def merge_texts(base: str, current: str, proposed: str, labels: Labels | None = None) -> Merged:
    """Merge what changed from base to current with what changed from base to proposed."""
    labels = labels or Labels()
    base_tokens, current_tokens, proposed_tokens = (
        _tokens(base),
        _tokens(current),
        _tokens(proposed),
    )
    start, end = _common_ends(base_tokens, current_tokens, proposed_tokens)

    def middle(tokens: list[str]) -> list[str]:
        return tokens[start : len(tokens) - end]

    merger: Merge3[str] = Merge3(
        middle(base_tokens),
        middle(current_tokens),
        middle(proposed_tokens),
        sequence_matcher=bounded_matcher(Budget()),
    )
    out: list[str] = ["".join(current_tokens[:start])]
    conflicts = 0
    for region in merger.merge_regions():
        kind = region[0]
        if kind == "unchanged":
            out.append("".join(merger.base[region[1] : region[2]]))
        elif kind in ("same", "a"):
            out.append("".join(merger.a[region[1] : region[2]]))
        elif kind == "b":
            out.append("".join(merger.b[region[1] : region[2]]))
        else:
            _, _z1, _z2, a1, a2, b1, b2 = _conflict_region(region)
            conflicts += 1
            so_far = "".join(out)
            out.append(
                _conflict(
                    "".join(merger.a[a1:a2]),
                    "".join(merger.b[b1:b2]),
                    labels,
                    at_line_start=not so_far or so_far.endswith("\n"),
                )
            )
    out.append("".join(current_tokens[len(current_tokens) - end :]))
    return Merged("".join(out), conflicts)


def _conflict_region(region: Sequence[Any]) -> tuple[str, int, int, int, int, int, int]:
    kind, z1, z2, a1, a2, b1, b2 = region
    return str(kind), int(z1), int(z2), int(a1), int(a2), int(b1), int(b2)


@dataclass(frozen=True)
class DraftMerge:
    """Two edits of a whole draft merged: the text, and whether they touched one section."""

    text: str
    # Both edits changed the same section(s): a person must look, even where the words
    # themselves merged cleanly.
    overlapping: bool
    conflicts: int


def _changes(base: list[str], other: list[str], budget: Budget) -> list[tuple[int, int, list[str]]]:
    """What one edit did to the base's sections: (start, end, sections put in their place)."""
    return [
        (i1, i2, other[j1:j2])
        for tag, i1, i2, j1, j2 in opcodes(base, other, budget, autojunk=False)
        if tag != "equal"
    ]


def _touch(first: tuple[int, int, list[str]], second: tuple[int, int, list[str]]) -> bool:
    """Whether two changes of the base's sections touch the same section (or the same gap)."""
    (a1, a2, _), (b1, b2, _) = first, second
    if a1 == a2 and b1 == b2:
        return a1 == b1
    if a1 == a2:
        return b1 < a1 < b2
    if b1 == b2:
        return a1 < b1 < a2
    return max(a1, b1) < min(a2, b2)


def merge_drafts(
    base: str, current: str, proposed: str, labels: Labels | None = None
) -> DraftMerge:
    """Merge two edits of a draft section by section (top-level blocks of Markdown).

    When the two edits changed different sections, each keeps its changes and the merge
    is done. When they touched the same section, the whole text is merged word by word
    (conflicts marked) and the merge says so: a person must look at it.
    """
    budget = Budget()
    base_blocks, current_blocks, proposed_blocks = (
        split_sections(base),
        split_sections(current),
        split_sections(proposed),
    )
    theirs = _changes(base_blocks, current_blocks, budget)
    mine = _changes(base_blocks, proposed_blocks, budget)
    if any(_touch(a, b) for a in theirs for b in mine):
        merged = merge_texts(base, current, proposed, labels)
        return DraftMerge(merged.text, True, merged.conflicts)
    out: list[str] = []
    position = 0
    # Sorted by where they start; an insertion comes before a change starting there.
    for start, end, blocks in sorted(theirs + mine, key=lambda c: (c[0], c[1] != c[0])):
        out.extend(base_blocks[position:start])
        out.extend(blocks)
        position = max(position, end)
    out.extend(base_blocks[position:])
    return DraftMerge("\n\n".join(out), False, 0)
