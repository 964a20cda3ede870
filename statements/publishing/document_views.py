"""The documents of a published version, made from its bundle on request: the PDF, the
letterhead PDF and the Word document. Routes of the public blueprint (public.py).

Each is immutable (a published version never changes) and tagged before it is rendered,
so a reader who has it gets 304 for free; the rendered bytes are kept per process. The
heavy libraries (fpdf2, python-docx, lxml) are imported on the first request for one.
"""

from __future__ import annotations

import functools
import gettext
import hashlib
import json
from collections.abc import Callable

from babel.support import Translations
from flask import Response, request, url_for

from statements.db import get_session
from statements.i18n import TRANSLATIONS, catalogue_locale
from statements.publishing import service
from statements.publishing.documents import Links
from statements.publishing.errors import StatementNotFound
from statements.publishing.public import IMMUTABLE, blueprint, letterhead_settings
from statements.settings import Letterhead

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _words(language: str) -> gettext.NullTranslations:
    """A document's own words, in the statement's language whoever asks: a document is
    shared onwards as it is."""
    return Translations.load(str(TRANSLATIONS), [catalogue_locale(language)])


@functools.lru_cache(maxsize=32)
def _pdf(bundle: bytes, links: Links) -> bytes:
    """A version's PDF, kept per process: a long text takes seconds to lay out, and a
    published version never changes (the key holds its bundle)."""
    # Imported here: fpdf2 and its fonts load only when someone asks for a PDF.
    from statements.publishing.pdf import statement_pdf

    statement = json.loads(bundle)["statement"]
    return statement_pdf(
        statement,
        page_url=links.page_url,
        bundle_url=links.bundle_url,
        bundle_sha256=links.bundle_sha256,
        verify_url=links.verify_url,
        translations=_words(statement["language"]),
    )


@functools.lru_cache(maxsize=16)
def _letterhead_pdf(bundle: bytes, links: Links, letterhead: Letterhead) -> bytes:
    """A version's PDF on the deployment's letterhead, kept per process like the PDF."""
    from statements.publishing.pdf_letterhead import letterhead_pdf

    statement = json.loads(bundle)["statement"]
    return letterhead_pdf(
        statement,
        links=links,
        letterhead=letterhead,
        translations=_words(statement["language"]),
    )


@functools.lru_cache(maxsize=32)
def _docx(bundle: bytes, links: Links) -> bytes:
    """A version's Word document, kept per process like the PDF."""
    # Imported here: python-docx and lxml load only when someone asks for a document.
    from statements.publishing.word import statement_docx

    statement = json.loads(bundle)["statement"]
    return statement_docx(statement, links=links, translations=_words(statement["language"]))


def _version(slug: str, number: int) -> service.PublishedView:
    return service.published_version(get_session(), slug, number)


def _links(view: service.PublishedView) -> Links:
    """Where this version is read and checked, as its documents print them."""
    slug, number = view.row.slug, view.row.version
    return Links(
        page_url=url_for("public.statement_version", slug=slug, number=number, _external=True),
        bundle_url=url_for("public.bundle", slug=slug, number=number, _external=True),
        bundle_sha256=view.row.bundle_sha256,
        verify_url=url_for("public.verify", _external=True),
    )


def _document(etag: str, mimetype: str, disposition: str, render: Callable[[], bytes]) -> Response:
    """An immutable document of a version: 304 before rendering when the reader has it."""
    if request.if_none_match.contains(etag):
        response = Response(status=304)
    else:
        response = Response(render(), mimetype=mimetype)
        response.headers["Content-Disposition"] = disposition
    response.set_etag(etag)
    response.cacheable = True  # type: ignore[attr-defined]
    response.headers["Cache-Control"] = IMMUTABLE
    return response


@blueprint.route("/statements/<slug>/v/<int(max=2147483647):number>/statement.pdf")
def pdf(slug: str, number: int) -> Response:
    """The version as a PDF, for printing and sharing."""
    view = _version(slug, number)
    # The bundle never changes, so neither does its PDF: answer 304 before rendering.
    return _document(
        f"pdf-{view.row.bundle_sha256}",
        "application/pdf",
        f'inline; filename="{slug}-v{number}.pdf"',
        lambda: _pdf(view.row.bundle, _links(view)),
    )


def _letterhead_tag(letterhead: Letterhead) -> str:
    """What the letterhead is made of, for the ETag: a new logo or name is a new PDF."""
    digest = hashlib.sha256()
    for part in (letterhead.name, letterhead.contact, letterhead.place):
        encoded = part.encode()
        digest.update(len(encoded).to_bytes(8, "big") + encoded)
    digest.update(letterhead.logo)
    return digest.hexdigest()[:16]


@blueprint.route("/statements/<slug>/v/<int(max=2147483647):number>/letterhead.pdf")
def letterhead(slug: str, number: int) -> Response:
    """The version as a PDF on the network's letterhead (404 where none is configured)."""
    view = _version(slug, number)
    found = letterhead_settings()
    if found is None:
        raise StatementNotFound
    return _document(
        f"letterhead-{view.row.bundle_sha256}-{_letterhead_tag(found)}",
        "application/pdf",
        f'inline; filename="{slug}-v{number}-letterhead.pdf"',
        lambda: _letterhead_pdf(view.row.bundle, _links(view), found),
    )


@blueprint.route("/statements/<slug>/v/<int(max=2147483647):number>/statement.docx")
def docx(slug: str, number: int) -> Response:
    """The version as a Word document, to quote from and to share."""
    view = _version(slug, number)
    return _document(
        f"docx-{view.row.bundle_sha256}",
        DOCX,
        f'attachment; filename="{slug}-v{number}.docx"',
        lambda: _docx(view.row.bundle, _links(view)),
    )
