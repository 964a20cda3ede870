"""One published statement version as a PDF, for printing and sharing."""

from __future__ import annotations

import gettext
import logging
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import astuple
from datetime import UTC, datetime, time
from functools import cache
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.bidi import BidiParagraph, auto_detect_base_direction
from fpdf.enums import Align, TextDirection, WrapMode, XPos, YPos
from fpdf.fonts import TTFFont

from statements.publishing.documents import Links
from statements.publishing.pdf_blocks import (
    LINK_SCHEMES,
    Block,
    Run,
    Statement,
    blocks,
    clean,
)

LOGGER = logging.getLogger(__name__)

# Also served to browsers as static files, for scripts a device lacks (see style.css).
FONT_DIR = Path(__file__).resolve().parents[1] / "static" / "fonts"

# family -> style -> file. Only Noto Sans and Noto Naskh have a bold face; bold text in the
# other scripts falls back to their regular face. No family has an italic face (the size
# budget went to script coverage instead), so emphasis is rendered upright.
FONT_FILES: dict[str, dict[str, str]] = {
    "sans": {"": "NotoSans-Regular.ttf", "B": "NotoSans-Bold.ttf"},
    "naskh": {"": "NotoNaskhArabic-Regular.ttf", "B": "NotoNaskhArabic-Bold.ttf"},
    "thai": {"": "NotoSansThai-Regular.ttf"},
    "myanmar": {"": "NotoSansMyanmar-Regular.ttf"},
    "khmer": {"": "NotoSansKhmer-Regular.ttf"},
    "bengali": {"": "NotoSansBengali-Regular.ttf"},
}

# The Unicode blocks each family is there for. fpdf2 embeds every font it was given, even
# unused, so a family is only loaded when the statement has a character in its blocks.
SCRIPT_RANGES: dict[str, tuple[tuple[int, int], ...]] = {
    "naskh": (
        (0x0600, 0x06FF),
        (0x0750, 0x077F),
        (0x08A0, 0x08FF),
        (0xFB50, 0xFDFF),
        (0xFE70, 0xFEFF),
    ),
    "thai": ((0x0E00, 0x0E7F),),
    "myanmar": ((0x1000, 0x109F), (0xA9E0, 0xA9FF), (0xAA60, 0xAA7F)),
    "khmer": ((0x1780, 0x17FF), (0x19E0, 0x19FF)),
    "bengali": ((0x0980, 0x09FF),),
}

MARGIN = 20.0  # mm, all four sides
BODY_PT = 11.0
NASKH_BODY_PT = 12.5  # Naskh draws smaller than Noto Sans at the same size
TITLE_PT = 20.0
SMALL_PT = 9.5
HEADING_PT = {"h1": 16.0, "h2": 14.0, "h3": 12.5, "h4": 11.5, "h5": 11.5, "h6": 11.5}
INDENT = 7.0  # mm per level of list or quotation
MAX_DEPTH = 6  # deeper nesting is drawn at this depth, so the column never vanishes

TEXT = (25, 25, 25)
MUTED = (90, 90, 90)
LINK = (0, 70, 140)
CODE = (120, 40, 40)
RETRACTED = (150, 0, 0)

# The page-count alias is switched on only while the page footer is drawn and once all the
# text is laid out: a statement that says "{nb}" must not have it replaced by a number.
PAGE_COUNT_ALIAS = "{nb}"

_LANGUAGE_TAG = re.compile(r"[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*\Z")
_STRONG_RTL = frozenset({"R", "AL", "AN", "RLE", "RLO", "RLI", "FSI"})


def statement_pdf(
    statement: Mapping[str, Any],
    *,
    page_url: str,
    bundle_url: str,
    bundle_sha256: str = "",
    verify_url: str = "",
    translations: gettext.NullTranslations | None = None,
) -> bytes:
    """Return a PDF of one published statement version (deterministic: same input, same bytes).

    Its own words (version line, notices, "Signed by") come from `translations`, which
    callers load for the statement's language: the PDF reads in one language throughout.
    """
    checked = Statement.parse(statement)
    document = Document(checked, translations or gettext.NullTranslations())
    document.write_statement(
        checked, clean_links(Links(page_url, bundle_url, bundle_sha256, verify_url))
    )
    return finish(document)


def clean_links(links: Links) -> Links:
    """The links without control characters: they are printed as they are."""
    return Links(*(clean(value) for value in astuple(links)))


def finish(document: Document) -> bytes:
    """The document's bytes, once its text is laid out; warns of characters left blank."""
    if document.missing:
        # With text shaping on, fpdf2 itself does not report these: they print as blanks.
        LOGGER.warning(
            "statement PDF: %d characters have no glyph in the bundled fonts: %s",
            len(document.missing),
            " ".join(f"U+{ord(char):04X}" for char in sorted(document.missing)[:10]),
        )
    # All the text is laid out; fpdf2 fills in the page count as it writes the file.
    document.alias_nb_pages(PAGE_COUNT_ALIAS)
    return bytes(document.output())


# --- layout ---------------------------------------------------------------------------


def _script_line_height(text: str) -> float:
    """Line spacing that leaves room for the tallest script in the text."""
    tallest = 1.45
    for char in text:
        point = ord(char)
        if 0x1000 <= point <= 0x109F or 0xA9E0 <= point <= 0xAA7F:
            return 1.95  # Myanmar stacks marks far above and below the line
        if (
            0x0E00 <= point <= 0x0EFF  # Thai, Lao
            or 0x1780 <= point <= 0x17FF  # Khmer
            or 0x0980 <= point <= 0x09FF  # Bengali
            or 0x0600 <= point <= 0x06FF  # Arabic
        ):
            tallest = 1.7
    return tallest


def _undrawable(text: str, covered: frozenset[int]) -> set[str]:
    """Characters no bundled font has, leaving out the invisible ones."""
    return {
        char
        for char in set(text)
        if ord(char) not in covered
        and not char.isspace()
        and unicodedata.category(char) not in ("Cc", "Cf", "Mn")
    }


def _has_rtl(text: str) -> bool:
    return any(unicodedata.bidirectional(char) in _STRONG_RTL for char in text)


def _bidi_pieces(text: str, base: TextDirection) -> list[tuple[int, int, TextDirection]]:
    """Spans of text in one direction, in reading order, by the Unicode bidi algorithm."""
    if base == TextDirection.LTR and not _has_rtl(text):
        return [(0, len(text), TextDirection.LTR)]
    pieces: list[tuple[int, int, TextDirection]] = []
    start = 0
    segments = BidiParagraph(text, base_direction=base, preserve_bn_chars=True)
    for segment, direction in segments.get_bidi_fragments():
        pieces.append((start, start + len(segment), direction))
        start += len(segment)
    if start != len(text):
        # The algorithm did not give back every character: keep the text, lose the reordering.
        return [(0, len(text), base)]
    return pieces


def _families(statement: Statement, main: str, extra: Sequence[str] = ()) -> list[str]:
    """The font families this statement (and any extra text) needs, in FONT_FILES order."""
    texts = [statement.title, statement.body_markdown, *extra]
    texts.extend(name + country for name, country in statement.signatories)
    points = {ord(char) for text in texts for char in text if ord(char) >= 0x0590}
    needed = {"sans", main}  # our own words (labels, URLs, the hash) are in Noto Sans
    for family, ranges in SCRIPT_RANGES.items():
        if any(low <= point <= high for point in points for low, high in ranges):
            needed.add(family)
    return [family for family in FONT_FILES if family in needed]


@cache
def _font_path(name: str) -> str:
    path = FONT_DIR / name
    if not path.is_file():
        raise FileNotFoundError(f"font missing from the package: {path}")
    return str(path)


class Document(FPDF):
    """An A4 page with the statement's fonts, direction and page numbers."""

    def __init__(
        self,
        statement: Statement,
        translations: gettext.NullTranslations,
        extra_texts: Sequence[str] = (),
    ) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.tr = translations
        self.rtl = statement.rtl
        self.base_direction = TextDirection.RTL if self.rtl else TextDirection.LTR
        self.start_align = Align.R if self.rtl else Align.L
        self.main_family = "naskh" if self.rtl else "sans"
        self.body_pt = NASKH_BODY_PT if self.rtl else BODY_PT
        families = _families(statement, self.main_family, extra_texts)
        for family in families:
            for style, name in FONT_FILES[family].items():
                self.add_font(family, style, _font_path(name))
        # Each character the main family lacks is drawn in the first other family that
        # has it: Latin names in a Farsi statement, a Thai word in an English one.
        self.set_fallback_fonts(families, exact_match=False)
        self.covered: frozenset[int] = frozenset().union(
            *(font.cmap for font in self.fonts.values() if isinstance(font, TTFFont))
        )
        self.missing: set[str] = set()
        self.set_text_shaping(True)
        self.alias_nb_pages(None)  # type: ignore[arg-type]
        # Everything fpdf2 would stamp with the clock is derived from the statement.
        self.set_creation_date(datetime.combine(statement.published_on, time(0), tzinfo=UTC))
        self.set_producer("joint-statements")
        self.set_creator("joint-statements")
        self.set_title(statement.title)
        if _LANGUAGE_TAG.match(statement.language):
            self.set_lang(statement.language)
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(True, margin=MARGIN)
        self.set_text_color(*TEXT)
        self.add_page()

    # FPDF calls this at the bottom of every page.
    def footer(self) -> None:
        """Page N of M, centred at the foot of the page."""
        self.set_y(-MARGIN + 6)
        self.set_font("sans", "", 8.5)
        self.set_text_color(*MUTED)
        alias = self.str_alias_nb_pages
        self.alias_nb_pages(PAGE_COUNT_ALIAS)
        try:
            words = self.tr.gettext("Page %(page)s of %(pages)s")
            self.cell(
                0, 6, words % {"page": self.page_no(), "pages": PAGE_COUNT_ALIAS}, align=Align.C
            )
        finally:
            self.alias_nb_pages(alias)
        self.set_text_color(*TEXT)

    # --- the document, top to bottom ---

    def write_statement(self, statement: Statement, links: Links) -> None:
        """Title, version line, notice, body, signatories and the verification footer."""
        self.paragraph([Run(statement.title, bold=True)], size=TITLE_PT, space=0)
        published = statement.published_on.isoformat()
        self.paragraph(
            [
                Run(
                    self.tr.gettext("Version %(number)s, published %(date)s")
                    % {"number": statement.version, "date": published}
                )
            ],
            size=SMALL_PT,
            color=MUTED,
            base=None,
            space=1.5,
        )
        if statement.status == "corrected":
            self.notice(
                self.tr.gettext("This is a corrected version; it replaces version %(number)s.")
                % {"number": statement.version - 1},
                color=TEXT,
                fill=(240, 240, 240),
                bold=False,
            )
        elif statement.status == "retracted":
            self.notice(
                self.tr.gettext(
                    "This statement has been retracted. The notice below explains why."
                ),
                color=RETRACTED,
                fill=(252, 236, 236),
                bold=True,
            )
        self.body(blocks(statement.body_markdown))
        # A retraction notice is signed by the publisher alone, as on the public page.
        if statement.status != "retracted":
            self.signatories(statement)
        self.verification(statement, links)

    def notice(
        self, text: str, *, color: tuple[int, int, int], fill: tuple[int, int, int], bold: bool
    ) -> None:
        """A boxed line of our own words: the correction or retraction notice."""
        self.ln(4)
        self.set_font("sans", "B" if bold else "", BODY_PT)
        self.set_text_color(*color)
        self.set_draw_color(*color)
        self.set_fill_color(*fill)
        self.set_line_width(0.6 if bold else 0.2)
        self.multi_cell(
            0,
            self.font_size * 1.5,
            text,
            border=1,
            fill=True,
            align=self.start_align,
            padding=(3, 4),
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        self.set_text_color(*TEXT)
        self.set_draw_color(0, 0, 0)
        self.set_line_width(0.2)

    def body(self, blocks: list[Block]) -> None:
        """The statement's own text, block by block."""
        previous = "title"
        for block in blocks:
            if block.kind == "hr":
                self.rule(depth=block.depth)
                previous = "hr"
                continue
            heading = block.kind.startswith("h")
            if heading:
                size = HEADING_PT[block.kind]
                space = 7.0 if block.kind == "h1" else 5.5
            else:
                size = self.body_pt * (0.92 if block.kind == "pre" else 1.0)
                space = 1.5 if block.marker and previous == "item" else 3.0
            if previous in HEADING_PT:
                space = 1.5
            self.paragraph(
                block.runs,
                size=size,
                space=space,
                depth=block.depth,
                marker=block.marker,
                color=MUTED if block.quoted else TEXT,
                keep_lines=3 if heading else 1,
                preformatted=block.kind == "pre",
            )
            previous = block.kind if not block.marker else "item"

    def signatories(self, statement: Statement) -> None:
        """Signed by: each named organisation, then the count of those that cannot be named."""
        self.paragraph(
            [Run(self.tr.gettext("Signed by"), bold=True)],
            size=HEADING_PT["h2"],
            space=8,
            keep_lines=3,
        )
        first = True
        for name, country in statement.signatories:
            runs = [Run(f"{name} ({country})" if country else name)]
            # Each name keeps its own direction: a Latin name in a Farsi statement reads
            # left to right, placed on the statement's side of the page.
            self.paragraph(runs, size=self.body_pt, space=2.5 if first else 0.8, base=None)
            first = False
        count = statement.anonymous_signatories
        if count:
            sentence = self.tr.ngettext(
                "And %(num)d organisation that cannot be named for its safety.",
                "And %(num)d organisations that cannot be named for their safety.",
                count,
            ) % {"num": count}
            self.paragraph([Run(sentence)], size=self.body_pt, space=2.5, base=None)
        elif not statement.signatories:
            self.paragraph(
                [Run(self.tr.gettext("No organisation signed this version."))],
                size=self.body_pt,
                space=2.5,
                base=None,
            )

    def verification(self, statement: Statement, links: Links) -> None:
        """Where to check the text, the bundle and its hash, and the hash of the text."""
        self.rule(space=8)
        lines = [
            (self.tr.gettext("Verify this text:") + " ", links.page_url),
            (self.tr.gettext("Bundle:") + " ", links.bundle_url),
        ]
        # The bundle's hash is of the bundle's bytes; this document is not in the bundle.
        if links.bundle_sha256:
            lines.append((self.tr.gettext("SHA-256 of the bundle:") + " ", links.bundle_sha256))
        if links.verify_url:
            lines.append((self.tr.gettext("Check the bundle at:") + " ", links.verify_url))
        lines.append((self.tr.gettext("SHA-256 of the text:") + " ", statement.body_sha256))
        for index, (label, value) in enumerate(lines):
            href = value if value.startswith(LINK_SCHEMES[:2]) else None
            self.paragraph(
                [Run(label, bold=True), Run(value, href=href)],
                size=SMALL_PT,
                space=0 if index else 1,
                # The label is in the statement's language; the address reads left to
                # right inside it, as the bidi algorithm places it.
                base=self.base_direction,
                color=MUTED,
                family="sans",
            )

    # --- building blocks ---

    def rule(self, *, depth: int = 0, space: float = 4.0) -> None:
        """A thin horizontal line across the column."""
        left, right = self._column(depth)
        if self.y + space * 2 > self.h - self.b_margin:
            self.add_page()
        elif self.y > self.t_margin + 0.01:
            self.y += space
        self.set_draw_color(170, 170, 170)
        self.set_line_width(0.3)
        self.line(left, self.y, right, self.y)
        self.set_draw_color(0, 0, 0)
        self.set_line_width(0.2)
        self.y += 1.0

    def paragraph(
        self,
        runs: Sequence[Run],
        *,
        size: float,
        space: float,
        depth: int = 0,
        marker: str = "",
        color: tuple[int, int, int] = TEXT,
        base: TextDirection | bool | None = True,
        keep_lines: int = 1,
        preformatted: bool = False,
        family: str | None = None,
        align: Align | None = None,
    ) -> None:
        """Lay out one paragraph of styled runs, wrapping lines and breaking pages.

        base: True for the statement's own direction, None to take it from the text.
        align: where the lines go (the statement's side of the page unless given).
        """
        text = "".join(run.text for run in runs)
        self.missing.update(_undrawable(text, self.covered))
        family = family or self.main_family
        direction = self._direction(text, base)
        line_height = _script_line_height(text) if not preformatted else 1.35
        line = size / self.k * line_height
        bottom = self.h - self.b_margin
        # A heading stays with the first lines below it; a list marker with its first line.
        if self.y > self.t_margin + 0.01:
            if self.y + space + line * keep_lines > bottom:
                self.add_page()
            else:
                self.y += space
        left, right = self._column(depth)
        if marker:
            self._marker(marker, left, right, size, line, color)
        if not text:
            self.y += line
            return
        self.set_xy(left, self.y)
        with (
            self.text_columns(
                text_align=align or self.start_align,
                line_height=line_height,
                l_margin=left,
                r_margin=self.w - right,
                wrapmode=WrapMode.WORD,
                skip_leading_spaces=not preformatted,
            ) as columns,
            columns.paragraph() as paragraph,
        ):
            start = 0
            pieces = _bidi_pieces(text, direction)
            for run in runs:
                end = start + len(run.text)
                style = ("B" if run.bold else "") + ("U" if run.href else "")
                self.set_font(family, style, size)
                self.set_text_color(*(LINK if run.href else CODE if run.code else color))
                for piece_start, piece_end, piece_direction in pieces:
                    lo, hi = max(start, piece_start), min(end, piece_end)
                    if lo >= hi:
                        continue
                    shaping = self._shaping()
                    # fpdf2 reorders a line's fragments by these two values; text regions
                    # do not run the bidi algorithm themselves.
                    shaping["fragment_direction"] = piece_direction
                    shaping["paragraph_direction"] = direction
                    chunk = text[lo:hi].replace("\t", "    ")
                    paragraph.write(chunk, link=run.href)
                start = end
        self.set_text_color(*TEXT)
        self.x = self.l_margin

    def _shaping(self) -> dict[str, Any]:
        # set_text_shaping(True) in __init__ makes this a dict for the document's lifetime.
        shaping = self.text_shaping
        if shaping is None:
            raise RuntimeError("text shaping is off")
        return shaping

    def _direction(self, text: str, base: TextDirection | bool | None) -> TextDirection:
        if base is True:
            return self.base_direction
        if isinstance(base, TextDirection):
            return base
        return auto_detect_base_direction(text) or TextDirection.LTR

    def _column(self, depth: int) -> tuple[float, float]:
        indent = min(depth, MAX_DEPTH) * INDENT
        left, right = self.l_margin, self.w - self.r_margin
        return (left, right - indent) if self.rtl else (left + indent, right)

    def _marker(
        self,
        marker: str,
        left: float,
        right: float,
        size: float,
        line: float,
        color: tuple[int, int, int],
    ) -> None:
        """The bullet or number of a list item, in the margin beside its first line."""
        gap = 1.8
        width = INDENT - gap
        self.set_font(self.main_family, "", size)
        self.set_text_color(*color)
        shaping = self._shaping()
        # In right-to-left text "3." reads with the number first, on the right.
        shaping["direction"] = self.base_direction
        try:
            if self.rtl:
                self.set_xy(right + gap, self.y)
                self.cell(width, line, marker, align=Align.L, new_x=XPos.LEFT, new_y=YPos.TOP)
            else:
                self.set_xy(left - INDENT, self.y)
                self.cell(width, line, marker, align=Align.R, new_x=XPos.LEFT, new_y=YPos.TOP)
        finally:
            shaping["direction"] = None
        self.set_text_color(*TEXT)
