"""Word-level differences between two versions of a text, and their accessible HTML.

Every comparison here runs on a budget. difflib's matcher is quadratic or worse on
repetitive input, and a draft may hold 200,000 characters: without a bound, one edit of a
long draft, or one look at the versions page, would tie up a worker for minutes. The
matcher below is difflib's own, but it refines a pair of sequences only while the budget
lasts; what is left unrefined is shown as replaced whole, which is coarser but never
wrong, and the same on every run (a time limit would not be).
"""

from __future__ import annotations

import difflib
import re
from collections import deque
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from markupsafe import escape

# Runs of whitespace are tokens too, so that joining the tokens gives the text back.
_TOKENS = re.compile(r"\s+|\S+")

PieceKind = Literal["same", "inserted", "deleted"]
Opcode = tuple[str, int, int, int, int]
_Item = TypeVar("_Item", bound=Hashable)

# Steps of difflib's inner loop one diff may take: about a quarter of a second of one
# core. Enough to compare, word by word, changed paragraphs of ten thousand characters.
MAX_STEPS = 2_000_000


@dataclass(frozen=True)
class Piece:
    """A stretch of text that both versions share, or that one of them added or removed."""

    kind: PieceKind
    text: str


class Budget:
    """The work one diff may still do, shared by all its passes (lines, then words)."""

    def __init__(self, steps: int = MAX_STEPS) -> None:
        self.left = steps
        self.spent = 0
        # Comparisons refused for want of budget: each left a stretch replaced whole.
        self.refused = 0

    def take(self, steps: int) -> bool:
        """Spend `steps` if that many are left; otherwise spend nothing and say no."""
        if steps > self.left:
            self.refused += 1
            return False
        self.left -= steps
        self.spent += steps
        return True


class _BoundedMatcher(difflib.SequenceMatcher[_Item]):
    """difflib's matcher, looking for matching blocks only while the budget lasts."""

    # Set by difflib (documented in its source, not declared in its type stubs).
    a: Sequence[_Item]
    b: Sequence[_Item]
    b2j: dict[_Item, list[int]]

    def __init__(
        self, a: Sequence[_Item], b: Sequence[_Item], budget: Budget, *, autojunk: bool
    ) -> None:
        self._budget = budget
        self._blocks: list[difflib.Match] | None = None
        super().__init__(None, a, b, autojunk=autojunk)

    def get_matching_blocks(self) -> list[difflib.Match]:
        """difflib's matching blocks, but a stretch too costly to search is left unmatched."""
        if self._blocks is not None:
            return self._blocks
        a, b2j = self.a, self.b2j
        # find_longest_match(alo, ahi, ...) walks, for each i in [alo, ahi), every index of
        # b holding a[i]: its cost is known before it runs, from these running sums.
        cost = [0]
        for item in a:
            cost.append(cost[-1] + 1 + len(b2j.get(item, ())))
        found: list[tuple[int, int, int]] = []
        # Breadth first, so that a spent budget leaves coarse stretches all along the
        # text rather than a fine start and one long unmatched end.
        queue = deque([(0, len(a), 0, len(self.b))])
        while queue:
            alo, ahi, blo, bhi = queue.popleft()
            if not self._budget.take(cost[ahi] - cost[alo] + (bhi - blo)):
                continue
            i, j, k = self.find_longest_match(alo, ahi, blo, bhi)
            if k:
                found.append((i, j, k))
                if alo < i and blo < j:
                    queue.append((alo, i, blo, j))
                if i + k < ahi and j + k < bhi:
                    queue.append((i + k, ahi, j + k, bhi))
        found.sort()
        # Adjacent blocks are merged, as difflib does, so equal runs come out whole.
        merged: list[difflib.Match] = []
        i1 = j1 = k1 = 0
        for i2, j2, k2 in found:
            if i1 + k1 == i2 and j1 + k1 == j2:
                k1 += k2
                continue
            if k1:
                merged.append(difflib.Match(i1, j1, k1))
            i1, j1, k1 = i2, j2, k2
        if k1:
            merged.append(difflib.Match(i1, j1, k1))
        merged.append(difflib.Match(len(a), len(self.b), 0))
        self._blocks = merged
        return merged


def bounded_matcher(budget: Budget) -> Any:
    """A matcher class, called as difflib's (isjunk, a, b), that spends this budget.

    For merge3, which takes the class of its matcher: every comparison one merge makes
    shares the one budget. Not autojunk: a merge must not ignore any word.
    """

    class Matcher(_BoundedMatcher[Any]):
        def __init__(
            self, isjunk: object = None, a: Sequence[Any] = (), b: Sequence[Any] = ()
        ) -> None:
            super().__init__(a, b, budget, autojunk=False)

    return Matcher


# Items of the common start and end left for the matcher to see, so that it still chooses
# where a change begins: "End now." -> "End all now." is "End" + " all" + " now.", not
# "End " + "all " + "now.".
_MARGIN = 2


def _affixes(a: Sequence[_Item], b: Sequence[_Item]) -> tuple[int, int]:
    """Lengths of the common start and the common end (not overlapping) of a and b."""
    shortest = min(len(a), len(b))
    start = 0
    while start < shortest and a[start] == b[start]:
        start += 1
    end = 0
    while end < shortest - start and a[-1 - end] == b[-1 - end]:
        end += 1
    return max(start - _MARGIN, 0), max(end - _MARGIN, 0)


def opcodes(
    a: Sequence[_Item], b: Sequence[_Item], budget: Budget, *, autojunk: bool = True
) -> list[Opcode]:
    """difflib-style opcodes turning a into b, found within the budget."""
    # A shared start and end cost one pass to find and nothing from the budget: a small
    # edit of a long text leaves little in the middle to compare.
    start, end = _affixes(a, b)
    middle = _BoundedMatcher(
        a[start : len(a) - end], b[start : len(b) - end], budget, autojunk=autojunk
    )
    codes: list[Opcode] = [("equal", 0, start, 0, start)] if start else []
    codes.extend(
        (tag, i1 + start, i2 + start, j1 + start, j2 + start)
        for tag, i1, i2, j1, j2 in middle.get_opcodes()
    )
    if end:
        codes.append(("equal", len(a) - end, len(a), len(b) - end, len(b)))
    return codes


def matched(
    a: Sequence[_Item], b: Sequence[_Item], budget: Budget, *, enough: int | None = None
) -> int:
    """How many items of a and b match, as far as the budget lets difflib look.

    With `enough`, a common start and end that reach it are the answer, found for free.
    """
    start, end = _affixes(a, b)
    if enough is not None and start + end >= enough:
        return start + end
    middle = _BoundedMatcher(
        a[start : len(a) - end], b[start : len(b) - end], budget, autojunk=False
    )
    return start + end + sum(block.size for block in middle.get_matching_blocks())


def word_diff(old: str, new: str, budget: Budget | None = None) -> list[Piece]:
    """Word-level diff of old and new; whitespace and newlines survive in the pieces.

    Lines are matched first; words are then compared only within changed blocks of lines.
    Both passes spend one budget, so the work stays bounded however long the texts.
    """
    budget = budget if budget is not None else Budget()
    old_lines = old.splitlines(keepends=True)
    new_lines = new.splitlines(keepends=True)
    pieces: list[Piece] = []
    # autojunk: lines that fill more than one in a hundred of the text (blank lines,
    # rules) anchor nothing, or a draft of many short paragraphs would cost n squared.
    for tag, i1, i2, j1, j2 in opcodes(old_lines, new_lines, budget, autojunk=True):
        if tag == "equal":
            pieces.append(Piece("same", "".join(old_lines[i1:i2])))
        else:
            pieces.extend(_token_diff("".join(old_lines[i1:i2]), "".join(new_lines[j1:j2]), budget))
    return _merge(_fold_spaces(pieces))


def _token_diff(old: str, new: str, budget: Budget) -> list[Piece]:
    """Word-level diff of one changed block; shown replaced whole once the budget is spent."""
    old_tokens = _TOKENS.findall(old)
    new_tokens = _TOKENS.findall(new)
    pieces: list[Piece] = []
    # Not autojunk: the spaces between words are the commonest tokens, and a matcher
    # that ignored them could only pair single words, not runs of them.
    for tag, i1, i2, j1, j2 in opcodes(old_tokens, new_tokens, budget, autojunk=False):
        if tag == "equal":
            pieces.append(Piece("same", "".join(old_tokens[i1:i2])))
            continue
        if i2 > i1:
            pieces.append(Piece("deleted", "".join(old_tokens[i1:i2])))
        if j2 > j1:
            pieces.append(Piece("inserted", "".join(new_tokens[j1:j2])))
    return pieces


def _fold_spaces(pieces: list[Piece]) -> list[Piece]:
    """Fold a lone space between two changes into both, so "a b" -> "x y" is one change.

    Without this, rewording a phrase reads as del a, ins x, " ", del b, ins y. Spaces
    holding a newline stay shared, so changes are still shown line by line.
    """
    result: list[Piece] = []
    index = 0
    while index < len(pieces):
        if pieces[index].kind == "same":
            result.append(pieces[index])
            index += 1
            continue
        # Gather a run of changes, taking in spaces that sit between two changes.
        end = index
        while end < len(pieces):
            kind, text = pieces[end].kind, pieces[end].text
            if kind != "same" or (
                not text.strip()
                and "\n" not in text
                and end + 1 < len(pieces)
                and pieces[end + 1].kind != "same"
            ):
                end += 1
            else:
                break
        run = pieces[index:end]
        deleted = "".join(piece.text for piece in run if piece.kind != "inserted")
        inserted = "".join(piece.text for piece in run if piece.kind != "deleted")
        if deleted:
            result.append(Piece("deleted", deleted))
        if inserted:
            result.append(Piece("inserted", inserted))
        index = end
    return result


def _merge(pieces: Iterable[Piece]) -> list[Piece]:
    merged: list[Piece] = []
    for piece in pieces:
        if not piece.text:
            continue
        if merged and merged[-1].kind == piece.kind:
            merged[-1] = Piece(piece.kind, merged[-1].text + piece.text)
        else:
            merged.append(piece)
    return merged


def _html_text(text: str) -> str:
    return "<br>".join(str(escape(line)) for line in text.split("\n"))


def diff_html(
    old: str,
    new: str,
    *,
    deleted_label: str = "deleted: ",
    inserted_label: str = "inserted: ",
) -> str:
    """The word diff as safe HTML, changes marked by <del>/<ins> and words, not colour alone."""
    # The labels are parameters so that views can pass translated text.
    old = old.replace("\r\n", "\n").replace("\r", "\n")
    new = new.replace("\r\n", "\n").replace("\r", "\n")
    return pieces_html(
        word_diff(old, new), deleted_label=deleted_label, inserted_label=inserted_label
    )


def pieces_html(
    pieces: Iterable[Piece],
    *,
    deleted_label: str = "deleted: ",
    inserted_label: str = "inserted: ",
) -> str:
    """Already computed diff pieces as safe HTML (see diff_html)."""
    html: list[str] = []
    for piece in pieces:
        if piece.kind == "same":
            html.append(_html_text(piece.text))
            continue
        tag, label = ("del", deleted_label) if piece.kind == "deleted" else ("ins", inserted_label)
        html.append(
            f'<{tag}><span class="visually-hidden">{escape(label)}</span>'
            f"{_html_text(piece.text)}</{tag}>"
        )
    return "".join(html)


def counts(pieces: Iterable[Piece]) -> tuple[int, int]:
    """(words inserted, words deleted) in a diff, counting runs of non-space characters."""
    inserted = deleted = 0
    for piece in pieces:
        if piece.kind == "inserted":
            inserted += len(piece.text.split())
        elif piece.kind == "deleted":
            deleted += len(piece.text.split())
    return inserted, deleted
