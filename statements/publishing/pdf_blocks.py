"""What the PDFs are made of: a published statement's checked fields, and its Markdown as
blocks of styled runs. Shared by the plain PDF (pdf.py) and the letterhead PDF."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser
from typing import Any

from statements.languages import RTL_LANGUAGES
from statements.text.markdown import render

LINK_SCHEMES = ("https://", "http://", "mailto:")
STATUSES = frozenset({"published", "corrected", "retracted"})

_HTML_SPACE = re.compile(r"[ \t\n\r\f]+")
# Control characters are dropped: a form feed would break the column, a NUL or a lone
# surrogate would break the PDF, and a noncharacter (U+FFFE, U+FFFF, U+FDD0-U+FDEF),
# which typed text may hold, is not allowed in the Word document's XML. Newlines and
# tabs are handled where they mean something.
_UNWANTED = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]")
_HEX = re.compile(r"[0-9a-fA-F]{1,128}\Z")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")


# --- input ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Statement:
    title: str
    language: str
    version: int
    status: str
    published_on: date
    body_markdown: str
    body_sha256: str
    signatories: tuple[tuple[str, str], ...]
    anonymous_signatories: int

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Statement:
        """Check the fields this renderer relies on; ValueError names the first bad one."""
        try:
            title, language = data["title"], data["language"]
            version, status = data["version"], data["status"]
            published_on, body = data["published_on"], data["body_markdown"]
            body_sha256, signatories = data["body_sha256"], data["signatories"]
            anonymous = data["anonymous_signatories"]
        except KeyError as exc:
            raise ValueError(f"statement has no {exc.args[0]!r}") from None
        for key, value in (("title", title), ("language", language), ("body_markdown", body)):
            if not isinstance(value, str):
                raise ValueError(f"{key} must be text")
        # bool is an int subclass; True is not a version number.
        if type(version) is not int or version < 1:
            raise ValueError("version must be a positive integer")
        if type(anonymous) is not int or anonymous < 0:
            raise ValueError("anonymous_signatories must be a non-negative integer")
        if status not in STATUSES:
            raise ValueError(f"status must be one of {sorted(STATUSES)}")
        if not isinstance(body_sha256, str) or not _HEX.match(body_sha256):
            raise ValueError("body_sha256 must be hexadecimal")
        if not isinstance(published_on, str) or not _DATE.match(published_on):
            raise ValueError("published_on must be YYYY-MM-DD")
        try:
            day = date.fromisoformat(published_on)
        except ValueError:
            raise ValueError("published_on is not a date") from None
        if not isinstance(signatories, Sequence) or isinstance(signatories, str):
            raise ValueError("signatories must be a list")
        names: list[tuple[str, str]] = []
        for signatory in signatories:
            if not isinstance(signatory, Mapping):
                raise ValueError("each signatory must be an object")
            name, country = signatory.get("name"), signatory.get("country") or ""
            if not isinstance(name, str) or not isinstance(country, str):
                raise ValueError("each signatory needs a name and a country (text)")
            names.append((one_line(name), one_line(country)))
        return cls(
            title=one_line(title),
            language=language,
            version=version,
            status=status,
            published_on=day,
            body_markdown=clean(body),
            body_sha256=body_sha256,
            signatories=tuple(names),
            anonymous_signatories=anonymous,
        )

    @property
    def base_language(self) -> str:
        return self.language.replace("_", "-").split("-")[0].lower()

    @property
    def rtl(self) -> bool:
        return self.base_language in RTL_LANGUAGES


def clean(text: str) -> str:
    return _UNWANTED.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def one_line(text: str) -> str:
    return " ".join(clean(text).split())


# --- Markdown to blocks ---------------------------------------------------------------


@dataclass
class Run:
    """A stretch of text with one style."""

    text: str
    bold: bool = False
    code: bool = False
    href: str | None = None


@dataclass
class Block:
    """A paragraph-like box: heading, paragraph, list item text, preformatted text or rule."""

    kind: str
    depth: int = 0
    marker: str = ""
    quoted: bool = False
    runs: list[Run] = field(default_factory=list)


class BlockParser(HTMLParser):
    """Turns the sanitised HTML of statements.text.markdown.render into blocks."""

    BLOCK_TAGS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "pre"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self._current: Block | None = None
        self._bold = 0
        self._code = 0
        self._links: list[str | None] = []
        self._lists: list[list[int]] = []  # [is_ordered, count] per open list
        self._quotes = 0
        self._pending_marker = ""

    # html.parser calls these; the tag set is the one render() lets through.
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.BLOCK_TAGS:
            self._start(tag)
        elif tag == "br":
            self._data("\n", literal=True)
        elif tag == "hr":
            self._end()
            self.blocks.append(Block("hr", depth=self._depth))
        elif tag in ("ul", "ol"):
            self._end()
            self._lists.append([tag == "ol", 0])
        elif tag == "li":
            self._end()
            self._flush_marker()
            if self._lists:
                self._lists[-1][1] += 1
                ordered, count = self._lists[-1]
                self._pending_marker = (
                    f"{count}." if ordered else "\u2022\u2013"[(len(self._lists) - 1) % 2]
                )
        elif tag == "blockquote":
            self._end()
            self._quotes += 1
        elif tag == "strong":
            self._bold += 1
        elif tag == "code":
            self._code += 1
        elif tag == "a":
            href = dict(attrs).get("href") or ""
            # render() already keeps only these schemes; a PDF link is checked here again.
            self._links.append(href if href.startswith(LINK_SCHEMES) else None)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.BLOCK_TAGS:
            self._end()
        elif tag in ("ul", "ol"):
            self._end()
            self._flush_marker()
            if self._lists:
                self._lists.pop()
        elif tag == "li":
            self._end()
            self._flush_marker()
        elif tag == "blockquote":
            self._end()
            self._quotes = max(0, self._quotes - 1)
        elif tag == "strong":
            self._bold = max(0, self._bold - 1)
        elif tag == "code":
            self._code = max(0, self._code - 1)
        elif tag == "a" and self._links:
            href = self._links.pop()
            if href and self._current is not None:
                self._add_target(self._current, href)

    def handle_data(self, data: str) -> None:
        self._data(data)

    def close(self) -> None:
        super().close()
        self._end()
        self._flush_marker()

    @property
    def _depth(self) -> int:
        return len(self._lists) + self._quotes

    def _start(self, kind: str) -> Block:
        self._end()
        block = Block(kind, depth=self._depth, marker=self._pending_marker, quoted=self._quotes > 0)
        self._current, self._pending_marker = block, ""
        return block

    def _end(self) -> None:
        block, self._current = self._current, None
        if block is None:
            return
        if block.kind == "pre":
            if block.runs and block.runs[-1].text.endswith("\n"):
                block.runs[-1].text = block.runs[-1].text[:-1]
        else:
            while block.runs and not block.runs[-1].text.strip():
                block.runs.pop()
            if block.runs:
                block.runs[-1].text = block.runs[-1].text.rstrip(" ")
        if block.runs or block.marker:
            self.blocks.append(block)

    def _flush_marker(self) -> None:
        # An empty list item still shows its bullet or number.
        if self._pending_marker:
            self._start("p")
            self._end()

    def _data(self, data: str, *, literal: bool = False) -> None:
        block = self._current
        if not literal and (block is None or block.kind != "pre"):
            data = _HTML_SPACE.sub(" ", data)
        if block is None:
            if not data.strip():
                return  # whitespace between block tags
            block = self._start("p")
        if not block.runs and block.kind != "pre" and not literal:
            data = data.lstrip(" ")
            if not data:
                return
        href = self._links[-1] if self._links else None
        run = Run(data, bold=self._bold > 0 or block.kind[0] == "h", code=self._code > 0, href=href)
        previous = block.runs[-1] if block.runs else None
        if previous and (previous.bold, previous.code, previous.href) == (
            run.bold,
            run.code,
            run.href,
        ):
            previous.text += data
        else:
            block.runs.append(run)

    @staticmethod
    def _add_target(block: Block, href: str) -> None:
        # On paper a link is only its text: print where it leads unless the text says it.
        shown = "".join(run.text for run in block.runs if run.href == href).strip()
        target = href.removeprefix("mailto:")
        if shown not in (href, target):
            block.runs.append(Run(f" ({target})"))


def blocks(markdown: str) -> list[Block]:
    parser = BlockParser()
    parser.feed(render(markdown))
    parser.close()
    return parser.blocks
