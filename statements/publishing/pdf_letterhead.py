"""A published version on the network's letterhead: its logo and name, a dateline, the
press contact and a QR code of the version's page, around the same text as the plain PDF."""

from __future__ import annotations

import gettext
import io
import logging
from collections.abc import Mapping
from typing import Any

import segno
from fpdf.enums import Align

from statements.publishing.documents import Links
from statements.publishing.pdf import (
    MUTED,
    SMALL_PT,
    Document,
    clean_links,
    finish,
)
from statements.publishing.pdf_blocks import Run, Statement, one_line
from statements.settings import Letterhead

LOGGER = logging.getLogger(__name__)

LOGO_HEIGHT = 18.0  # mm: the logo is fitted into the column's width and this height
NAME_PT = 15.0
QR_SIZE = 28.0  # mm, the code without its quiet zone (drawn as white page around it)
QR_GAP = 4.0  # mm of quiet zone kept free on every side


def letterhead_pdf(
    statement: Mapping[str, Any],
    *,
    links: Links,
    letterhead: Letterhead,
    translations: gettext.NullTranslations | None = None,
) -> bytes:
    """Return the letterhead PDF of one published version (same input, same bytes)."""
    checked = Statement.parse(statement)
    heading = _Heading(
        name=one_line(letterhead.name),
        contact=one_line(letterhead.contact),
        place=one_line(letterhead.place),
        logo=letterhead.logo,
    )
    document = LetterheadDocument(checked, translations or gettext.NullTranslations(), heading)
    document.write_statement(checked, clean_links(links))
    return finish(document)


class _Heading:
    """The letterhead's texts, cleaned, and its logo."""

    def __init__(self, *, name: str, contact: str, place: str, logo: bytes) -> None:
        self.name, self.contact, self.place, self.logo = name, contact, place, logo


def qr_png(url: str) -> bytes:
    """The QR code of `url` as a PNG of one pixel per module, without a quiet zone."""
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=1, border=0)
    return buffer.getvalue()


class LetterheadDocument(Document):
    """The plain PDF's document with the letterhead above and the contact and QR below."""

    def __init__(
        self, statement: Statement, translations: gettext.NullTranslations, heading: _Heading
    ) -> None:
        super().__init__(
            statement, translations, extra_texts=(heading.name, heading.contact, heading.place)
        )
        self.heading = heading

    def write_statement(self, statement: Statement, links: Links) -> None:
        """Letterhead, dateline, the statement as in the plain PDF, then contact and QR."""
        self.letterhead()
        self.dateline(statement)
        super().write_statement(statement, links)
        self.contact_and_code(links)

    def letterhead(self) -> None:
        """The logo and the network's name, centred at the top of the first page."""
        if self.heading.logo and self._logo():
            self.y += LOGO_HEIGHT + 3
        # Its own direction: a Farsi network's name on an English statement reads from the right.
        self.paragraph(
            [Run(self.heading.name, bold=True)], size=NAME_PT, space=0, base=None, align=Align.C
        )
        self.rule(space=2)

    def _logo(self) -> bool:
        """Draw the logo, fitted into a box the column's width and centred; False if it
        cannot be drawn. Start-up checked the file as far as it can without the PDF
        engine; a logo the engine still refuses is left out, not made every reader's 500."""
        try:
            # fpdf2 tells SVG from PNG by the bytes.
            self.image(
                io.BytesIO(self.heading.logo),
                x=self.l_margin,
                y=self.y,
                w=self.epw,
                h=LOGO_HEIGHT,
                keep_aspect_ratio=True,
            )
        except Exception:  # Pillow's and fpdf2's errors are many and unlisted
            LOGGER.warning("letterhead PDF: the logo (LETTERHEAD_LOGO) cannot be drawn; left out")
            return False
        return True

    def dateline(self, statement: Statement) -> None:
        """Place and date of publication, on the statement's side of the page."""
        published = statement.published_on.isoformat()
        line = (
            self.tr.gettext("%(place)s, %(date)s")
            % {"place": self.heading.place, "date": published}
            if self.heading.place
            else published
        )
        self.paragraph([Run(line)], size=self.body_pt, space=2)
        self.y += 4

    def contact_and_code(self, links: Links) -> None:
        """The press contact, and a QR code of the page where the version is checked."""
        if self.heading.contact:
            self.paragraph(
                [
                    Run(self.tr.gettext("Press contact:") + " ", bold=True),
                    Run(self.heading.contact),
                ],
                size=SMALL_PT,
                space=4,
                color=MUTED,
            )
        needed = QR_SIZE + 2 * QR_GAP
        if self.y + needed > self.h - self.b_margin:
            self.add_page()
        top = self.y + QR_GAP
        left = self.w - self.r_margin - QR_SIZE if self.rtl else self.l_margin
        self.image(
            io.BytesIO(qr_png(links.page_url)),
            x=left,
            y=top,
            w=QR_SIZE,
            h=QR_SIZE,
            link=links.page_url,
        )
        self.y = top + QR_SIZE + QR_GAP
