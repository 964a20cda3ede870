"""A word diff shown as the formatted text readers know: headings, emphasis and lists
rendered, deleted and inserted words marked, and each change announced in words.

The words are compared as Markdown (see diff.py); the changes are then marked with
characters of Unicode's private use area, the marked text is rendered like any other
(see markdown.py: parsed safely, then sanitised), and the marks become <del> and <ins>
around each piece of text they cover. Marking text nodes one by one, rather than
replacing the marks in the HTML, keeps the elements nested however a change crosses
emphasis or a link.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from markupsafe import escape

from statements.text.diff import Piece, word_diff
from statements.text.markdown import render

_DELETED, _DELETED_END, _INSERTED, _INSERTED_END = "\ue000", "\ue001", "\ue002", "\ue003"
_MARKS = re.compile("[\ue000-\ue003]")
# What opens a line of a block (a heading's #, a list's bullet or number, a quotation's
# >): kept outside the marks, or the block would not be recognised.
_LINE_PREFIX = re.compile(r"[ \t]*(?:(?:#{1,6}|[-*+]|[0-9]{1,9}[.)]|>)(?:[ \t]+|$))*")


def _marked(pieces: list[Piece]) -> str:
    """The text of both sides, each change's words between marks, line by line."""
    out: list[str] = []
    at_line_start = True
    for piece in pieces:
        if piece.kind == "same":
            out.append(piece.text)
            at_line_start = piece.text.endswith("\n")
            continue
        start, end = (
            (_DELETED, _DELETED_END) if piece.kind == "deleted" else (_INSERTED, _INSERTED_END)
        )
        for number, line in enumerate(piece.text.split("\n")):
            if number:
                out.append("\n")
                at_line_start = True
            if not line:
                continue
            if at_line_start:
                prefix = _LINE_PREFIX.match(line)
                cut = prefix.end() if prefix else 0
                out.append(line[:cut])
                line = line[cut:]
            body = line.rstrip()
            if body:
                out.append(f"{start}{body}{end}{line[len(body) :]}")
            else:
                out.append(line)
            at_line_start = False
    return "".join(out)


class _Marker(HTMLParser):
    """Re-emits sanitised HTML, turning the marks into <del>/<ins> around text."""

    def __init__(self, deleted_label: str, inserted_label: str) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.labels = {"del": deleted_label, "ins": inserted_label}
        self.tag: str | None = None
        # A change's first piece of text carries its label; later pieces do not repeat it.
        self.announced = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.out.append(self.get_starttag_text() or "")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.out.append(self.get_starttag_text() or "")

    def handle_endtag(self, tag: str) -> None:
        self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        for part in re.split("([\ue000-\ue003])", data):
            if part == _DELETED:
                self.tag, self.announced = "del", False
            elif part == _INSERTED:
                self.tag, self.announced = "ins", False
            elif part in (_DELETED_END, _INSERTED_END):
                self.tag = None
            elif self.tag is None or not part.strip():
                self.out.append(str(escape(part)))
            else:
                label = ""
                if not self.announced:
                    label = f'<span class="visually-hidden">{escape(self.labels[self.tag])}</span>'
                    self.announced = True
                self.out.append(f"<{self.tag}>{label}{escape(part)}</{self.tag}>")


def rendered_diff_html(
    old: str,
    new: str,
    *,
    deleted_label: str = "deleted: ",
    inserted_label: str = "inserted: ",
) -> str:
    """The word diff of two Markdown texts as safe, formatted HTML with marked changes."""
    # Marks someone typed would be read as changes: they are replaced, visibly.
    old, new = (_MARKS.sub("\ufffd", text) for text in (old, new))
    html = render(_marked(word_diff(old, new)))
    marker = _Marker(deleted_label, inserted_label)
    marker.feed(html)
    marker.close()
    return "".join(marker.out)
