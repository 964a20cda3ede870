"""One published statement version as a Word document (.docx), for quoting and editing.

Built from the Markdown parser's tokens (statements.text.markdown.tokens): headings,
lists, quotations, emphasis and links become Word's own styles and run properties, so the
document reads well in Word and LibreOffice alike. Right-to-left statements (Farsi,
Pashto, Arabic...) get right-to-left paragraphs (w:bidi) and runs (w:rtl), a font that
covers the script and the language on every run.

Same input, same bytes: the package's dates are the version's publication date, and the
zip is written with fixed times, so the ETag of a version's document never changes.
"""

from __future__ import annotations

import gettext
import io
import unicodedata
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Any

from docx import Document as new_document
from docx.document import Document
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt
from docx.text.paragraph import Paragraph
from markdown_it.token import Token

from statements.publishing.documents import Links
from statements.publishing.pdf_blocks import LINK_SCHEMES, Statement, clean
from statements.text.markdown import tokens

# Fonts the reader's Word or LibreOffice uses for the statement's script, by language;
# the Noto families are free and widespread, and the PDF embeds the same ones.
LATIN_FONT = "Noto Sans"
SCRIPT_FONTS = {
    "ar": "Noto Naskh Arabic",
    "fa": "Noto Naskh Arabic",
    "prs": "Noto Naskh Arabic",
    "ps": "Noto Naskh Arabic",
    "ur": "Noto Naskh Arabic",
    "ckb": "Noto Naskh Arabic",
    "sd": "Noto Naskh Arabic",
    "ug": "Noto Naskh Arabic",
    "th": "Noto Sans Thai",
    "my": "Noto Sans Myanmar",
    "km": "Noto Sans Khmer",
    "bn": "Noto Sans Bengali",
}
CODE_FONT = "Courier New"
# The language tags Word knows these languages by (it lists regional variants only).
WORD_LANGUAGES = {
    "ar": "ar-SA",
    "fa": "fa-IR",
    "fa-af": "fa-AF",
    "prs": "fa-AF",
    "ps": "ps-AF",
    "ur": "ur-PK",
    "en": "en-GB",
    "th": "th-TH",
    "my": "my-MM",
    "ms": "ms-MY",
}
MAX_LIST_STYLE = 3  # Word's template has "List Bullet", "List Bullet 2", "List Bullet 3"
_STRONG_RTL = frozenset({"R", "AL"})
_STRONG_LTR = frozenset({"L"})
# What follows w:bidi in a paragraph's properties (ECMA-376 17.3.1.26): it goes before them.
_AFTER_BIDI = (
    "w:adjustRightInd",
    "w:snapToGrid",
    "w:spacing",
    "w:ind",
    "w:contextualSpacing",
    "w:mirrorIndents",
    "w:suppressOverlap",
    "w:jc",
    "w:textDirection",
    "w:textAlignment",
    "w:textboxTightWrap",
    "w:outlineLvl",
    "w:divId",
    "w:cnfStyle",
    "w:rPr",
    "w:sectPr",
    "w:pPrChange",
)
_AFTER_LANG = ("w:eastAsianLayout", "w:specVanish", "w:oMath")
_AFTER_SZ_CS = (
    "w:highlight",
    "w:u",
    "w:effect",
    "w:bdr",
    "w:shd",
    "w:fitText",
    "w:vertAlign",
    "w:rtl",
    "w:cs",
    "w:em",
    "w:lang",
    *_AFTER_LANG,
)


def statement_docx(
    statement: Mapping[str, Any],
    *,
    links: Links,
    translations: gettext.NullTranslations | None = None,
) -> bytes:
    """Return the Word document of one published version (same input, same bytes)."""
    checked = Statement.parse(statement)
    writer = _Writer(checked, translations or gettext.NullTranslations())
    writer.write(checked, Links(*(clean(value) for value in vars(links).values())))
    return writer.save()


@dataclass(frozen=True)
class _Piece:
    """A stretch of text with one style."""

    text: str
    bold: bool = False
    italic: bool = False
    code: bool = False


@dataclass
class _Style:
    """Inline state while walking a paragraph's tokens."""

    bold: int = 0
    italic: int = 0
    # Per open link: its target (None if not one we print) and where its text starts.
    links: list[tuple[str | None, int]] = field(default_factory=list)

    def piece(self, text: str, *, code: bool = False) -> _Piece:
        """Text in the current style."""
        return _Piece(text, self.bold > 0, self.italic > 0, code)


def _has(text: str, classes: frozenset[str]) -> bool:
    return any(unicodedata.bidirectional(char) in classes for char in text)


class _Writer:
    """Builds the document top to bottom."""

    def __init__(self, statement: Statement, translations: gettext.NullTranslations) -> None:
        self.tr = translations
        self.statement = statement
        self.rtl = statement.rtl
        base = statement.base_language
        tag = statement.language.replace("_", "-")
        self.language = WORD_LANGUAGES.get(tag.lower(), WORD_LANGUAGES.get(base, tag))
        self.script_font = SCRIPT_FONTS.get(base, LATIN_FONT)
        self.doc: Document = new_document()
        self._lists: list[tuple[bool, int]] = []  # (ordered, numId) per open list
        self._quotes = 0
        self._item_start = False  # the next paragraph is a list item's first
        self._core_properties()
        if self.rtl:
            self._rtl_styles()

    # --- the document, top to bottom ---

    def write(self, statement: Statement, links: Links) -> None:
        """Title, version line, notice, body, signatories and where to verify."""
        self.runs(self.paragraph("Title"), [_Piece(statement.title)])
        self.runs(
            self.paragraph("Subtitle"),
            [
                _Piece(
                    self.tr.gettext("Version %(number)s, published %(date)s")
                    % {"number": statement.version, "date": statement.published_on.isoformat()}
                )
            ],
        )
        notice = ""
        if statement.status == "corrected":
            notice = self.tr.gettext(
                "This is a corrected version; it replaces version %(number)s."
            ) % {"number": statement.version - 1}
        elif statement.status == "retracted":
            notice = self.tr.gettext(
                "This statement has been retracted. The notice below explains why."
            )
        if notice:
            self.runs(self.paragraph("Intense Quote"), [_Piece(notice, bold=True)])
        self.body(statement.body_markdown)
        if statement.status != "retracted":
            self.signatories(statement)
        self.verification(statement, links)

    def body(self, markdown: str) -> None:
        """The statement's own text, from the parser's block tokens."""
        items = tokens(markdown)
        index = 0
        while index < len(items):
            token = items[index]
            kind = token.type
            if kind == "heading_open":
                level = min(int(token.tag[1:]), 6)
                self.inline(self.paragraph(f"Heading {level}"), items[index + 1])
                index += 2
            elif kind == "paragraph_open":
                if self._item_start:
                    paragraph = self.list_paragraph()
                elif self._lists:
                    # A later paragraph of a list item: indented as the list, unmarked.
                    depth = min(len(self._lists), MAX_LIST_STYLE)
                    paragraph = self.paragraph(
                        "List Continue" + ("" if depth == 1 else f" {depth}")
                    )
                else:
                    paragraph = self.paragraph("Quote" if self._quotes else None)
                self.inline(paragraph, items[index + 1])
                index += 2
            elif kind in ("bullet_list_open", "ordered_list_open"):
                ordered = kind == "ordered_list_open"
                start = int(token.attrGet("start") or 1) if ordered else 1
                self._lists.append((ordered, self._numbering(ordered, start)))
            elif kind in ("bullet_list_close", "ordered_list_close"):
                self._lists.pop()
            elif kind == "list_item_open":
                # An item whose first block is not a paragraph still shows its marker.
                following = items[index + 1] if index + 1 < len(items) else None
                if following is not None and following.type == "paragraph_open":
                    self._item_start = True
                else:
                    self.list_paragraph()
            elif kind == "blockquote_open":
                self._quotes += 1
            elif kind == "blockquote_close":
                self._quotes -= 1
            elif kind in ("fence", "code_block"):
                self.code(token.content.rstrip("\n"))
            elif kind == "hr":
                self.rule()
            index += 1

    def signatories(self, statement: Statement) -> None:
        """Signed by: each named organisation, then the count of those that cannot be named."""
        self.runs(self.paragraph("Heading 2"), [_Piece(self.tr.gettext("Signed by"))])
        for name, country in statement.signatories:
            self.runs(
                self.paragraph("List Bullet"),
                [_Piece(f"{name} ({country})" if country else name)],
            )
        count = statement.anonymous_signatories
        if count:
            sentence = self.tr.ngettext(
                "And %(num)d organisation that cannot be named for its safety.",
                "And %(num)d organisations that cannot be named for their safety.",
                count,
            ) % {"num": count}
            self.runs(self.paragraph(), [_Piece(sentence)])
        elif not statement.signatories:
            self.runs(
                self.paragraph(),
                [_Piece(self.tr.gettext("No organisation signed this version."))],
            )

    def verification(self, statement: Statement, links: Links) -> None:
        """Where to check the text, the bundle and its hash, and the hash of the text."""
        self.rule()
        lines = [
            (self.tr.gettext("Verify this text:"), links.page_url),
            (self.tr.gettext("Bundle:"), links.bundle_url),
        ]
        # The bundle's hash is of the bundle's bytes; this document is not in the bundle.
        if links.bundle_sha256:
            lines.append((self.tr.gettext("SHA-256 of the bundle:"), links.bundle_sha256))
        if links.verify_url:
            lines.append((self.tr.gettext("Check the bundle at:"), links.verify_url))
        lines.append((self.tr.gettext("SHA-256 of the text:"), statement.body_sha256))
        for label, value in lines:
            paragraph = self.paragraph()
            paragraph.paragraph_format.space_after = Pt(2)
            self.runs(paragraph, [_Piece(label + " ", bold=True), _Piece(value)], size=9)

    # --- building blocks ---

    def paragraph(self, style: str | None = None) -> Paragraph:
        """A new paragraph, right to left (so aligned right) in a right-to-left statement."""
        paragraph = self.doc.add_paragraph(style=style)
        if self.rtl:
            properties = paragraph._p.get_or_add_pPr()
            properties.insert_element_before(OxmlElement("w:bidi"), *_AFTER_BIDI)
            # No w:jc: a bidi paragraph starts on the right. In one, Word and LibreOffice
            # read jc="right" as its end, the left; jc="left" would align it right but
            # read wrongly to anyone (or any tool) taking it at its word.
        return paragraph

    def list_paragraph(self) -> Paragraph:
        """A list item's paragraph in the innermost open list, numbered as that list."""
        self._item_start = False
        depth = min(len(self._lists), MAX_LIST_STYLE)
        ordered, num_id = self._lists[-1]
        suffix = "" if depth == 1 else f" {depth}"
        paragraph = self.paragraph(("List Number" if ordered else "List Bullet") + suffix)
        numbering = paragraph._p.get_or_add_pPr().get_or_add_numPr()
        numbering.get_or_add_ilvl().val = 0
        numbering.get_or_add_numId().val = num_id
        return paragraph

    def _numbering(self, ordered: bool, start: int) -> int:
        """A numbering of its own for each list, so each ordered list starts at its start."""
        depth = min(len(self._lists) + 1, MAX_LIST_STYLE)
        suffix = "" if depth == 1 else f" {depth}"
        style = self.doc.styles[("List Number" if ordered else "List Bullet") + suffix]
        style_num = style.element.pPr.numPr.numId.val
        numbering = self.doc.part.numbering_part.element
        abstract = numbering.num_having_numId(style_num).abstractNumId.val
        num = numbering.add_num(abstract)
        num.add_lvlOverride(ilvl=0).add_startOverride(start)
        return int(num.numId)

    def code(self, text: str) -> None:
        """Preformatted text, in a monospaced font, left to right in any statement."""
        paragraph = self.doc.add_paragraph()
        run = paragraph.add_run(clean(text))
        run.font.name = CODE_FONT
        run.font.size = Pt(9.5)

    def rule(self) -> None:
        """A thin line across the column: an empty paragraph with a bottom border."""
        paragraph = self.paragraph()
        borders = OxmlElement("w:pBdr")
        bottom = OxmlElement("w:bottom")
        for name, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1")):
            bottom.set(qn(name), value)
        bottom.set(qn("w:color"), "AAAAAA")
        borders.append(bottom)
        properties = paragraph._p.get_or_add_pPr()
        properties.insert_element_before(
            borders, "w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", *_AFTER_BIDI
        )

    def inline(self, paragraph: Paragraph, token: Token) -> None:
        """A paragraph's inline tokens as runs: bold, italic, code, links, line breaks."""
        state = _Style()
        pieces: list[_Piece] = []
        for child in token.children or []:
            kind = child.type
            if kind in ("text", "html_inline"):
                pieces.append(state.piece(child.content))
            elif kind == "softbreak":
                pieces.append(state.piece(" "))
            elif kind == "hardbreak":
                pieces.append(state.piece("\n"))
            elif kind == "strong_open":
                state.bold += 1
            elif kind == "strong_close":
                state.bold = max(0, state.bold - 1)
            elif kind == "em_open":
                state.italic += 1
            elif kind == "em_close":
                state.italic = max(0, state.italic - 1)
            elif kind == "code_inline":
                pieces.append(state.piece(child.content, code=True))
            elif kind == "image":
                # An image is its alt text, as on the page: nothing is fetched.
                alt = "".join(part.content for part in child.children or [])
                pieces.append(state.piece(alt))
            elif kind == "link_open":
                wanted = str(child.attrGet("href") or "")
                state.links.append(
                    (wanted if wanted.startswith(LINK_SCHEMES) else None, len(pieces))
                )
            elif kind == "link_close" and state.links:
                href, first = state.links.pop()
                shown = "".join(piece.text for piece in pieces[first:]).strip()
                target = (href or "").removeprefix("mailto:")
                # On paper a link is its text: print where it leads unless the text says it.
                if href and shown not in (href, target):
                    pieces.append(_Piece(f" ({target})"))
        self.runs(paragraph, pieces)

    def runs(
        self,
        paragraph: Paragraph,
        pieces: Sequence[_Piece],
        *,
        size: float | None = None,
    ) -> None:
        """Add pieces as runs, each with its script's font and its language."""
        for piece in pieces:
            text, bold, italic = clean(piece.text), piece.bold, piece.italic
            if not text:
                continue
            run = paragraph.add_run(text)
            if bold:
                run.bold = True
            if italic:
                run.italic = True
            if size is not None:
                run.font.size = Pt(size)
            properties = run._r.get_or_add_rPr()
            fonts = properties.get_or_add_rFonts()
            latin = CODE_FONT if piece.code else LATIN_FONT
            fonts.set(qn("w:ascii"), latin)
            fonts.set(qn("w:hAnsi"), latin)
            fonts.set(qn("w:cs"), self.script_font)
            if self.rtl:
                # Complex-script bold and italic are their own properties in Word.
                if bold:
                    properties.get_or_add_bCs()
                if italic:
                    properties.get_or_add_iCs()
                if size is not None:
                    size_cs = OxmlElement("w:szCs")
                    size_cs.set(qn("w:val"), str(round(size * 2)))
                    properties.insert_element_before(size_cs, *_AFTER_SZ_CS)
                # Right to left unless the run is Latin (a URL, an organisation's name in
                # English): those keep their own direction inside the paragraph.
                if _has(text, _STRONG_RTL) or not _has(text, _STRONG_LTR):
                    properties.get_or_add_rtl()
            language = OxmlElement("w:lang")
            if self.rtl:
                language.set(qn("w:bidi"), self.language)
            else:
                language.set(qn("w:val"), self.language)
            properties.insert_element_before(language, *_AFTER_LANG)

    # --- the package ---

    def _core_properties(self) -> None:
        """Dates from the version, no names: python-docx would stamp the clock and itself."""
        moment = datetime.combine(self.statement.published_on, time(0), tzinfo=UTC)
        properties = self.doc.core_properties
        properties.title = self.statement.title
        properties.language = self.language
        properties.author = ""
        properties.last_modified_by = ""
        properties.comments = ""
        properties.created = moment
        properties.modified = moment
        properties.last_printed = moment
        properties.revision = 1
        properties.keywords = ""
        properties.subject = ""
        properties.category = ""
        properties.identifier = ""

    def _rtl_styles(self) -> None:
        """Complex-script sizes beside the Latin ones in the headings' styles, and a
        right-to-left page: Word sizes Arabic-script text by szCs, not sz."""
        for style in self.doc.styles:
            element = getattr(style, "element", None)
            properties = element.rPr if element is not None else None
            if properties is None or properties.sz is None:
                continue
            # Letter spacing (the Title style has some) pulls Arabic letters apart.
            for old in properties.findall(qn("w:szCs")) + properties.findall(qn("w:spacing")):
                properties.remove(old)
            size_cs = OxmlElement("w:szCs")
            size_cs.set(qn("w:val"), str(properties.sz.val.pt * 2).removesuffix(".0"))
            properties.insert_element_before(size_cs, *_AFTER_SZ_CS)
        section = self.doc.sections[0]._sectPr
        section.append(OxmlElement("w:bidi"))

    def save(self) -> bytes:
        """The package's bytes, each part written with the version's date as its time."""
        written = io.BytesIO()
        self.doc.save(written)
        day = self.statement.published_on
        stamp = (max(day.year, 1980), day.month, day.day, 0, 0, 0)
        packed = io.BytesIO()
        with (
            zipfile.ZipFile(io.BytesIO(written.getvalue())) as source,
            zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as target,
        ):
            for info in source.infolist():
                fixed = zipfile.ZipInfo(info.filename, date_time=stamp)
                fixed.compress_type = zipfile.ZIP_DEFLATED
                fixed.external_attr = 0o644 << 16
                target.writestr(fixed, source.read(info.filename))
        return packed.getvalue()
