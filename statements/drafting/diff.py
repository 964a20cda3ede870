"""Word-level differences between two versions of a text, and their accessible HTML."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from markupsafe import escape

# Runs of whitespace are tokens too, so that joining the tokens gives the text back.
_TOKENS = re.compile(r"\s+|\S+")

PieceKind = Literal["same", "inserted", "deleted"]


@dataclass(frozen=True)
class Piece:
    """A stretch of text that both versions share, or that one of them added or removed."""

    kind: PieceKind
    text: str


# A changed block of more words than this is shown as replaced whole: the word-level
# matcher is quadratic, and a page must not let anyone tie up a worker for minutes.
MAX_BLOCK_TOKENS = 3000


def word_diff(old: str, new: str) -> list[Piece]:
    """Word-level diff of old and new; whitespace and newlines survive in the pieces.

    Lines are matched first; words are then compared only within changed blocks of lines,
    which keeps the cost bounded on long drafts.
    """
    old_lines = old.splitlines(keepends=True)
    new_lines = new.splitlines(keepends=True)
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    pieces: list[Piece] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            pieces.append(Piece("same", "".join(old_lines[i1:i2])))
        else:
            pieces.extend(_token_diff("".join(old_lines[i1:i2]), "".join(new_lines[j1:j2])))
    return _merge(_fold_spaces(pieces))


def _token_diff(old: str, new: str) -> list[Piece]:
    """Word-level diff of one changed block."""
    old_tokens = _TOKENS.findall(old)
    new_tokens = _TOKENS.findall(new)
    if len(old_tokens) + len(new_tokens) > MAX_BLOCK_TOKENS:
        whole = [Piece("deleted", old)] if old else []
        return whole + ([Piece("inserted", new)] if new else [])
    matcher = difflib.SequenceMatcher(None, old_tokens, new_tokens, autojunk=False)
    pieces: list[Piece] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
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
