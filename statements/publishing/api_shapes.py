"""The shapes of the public API's own answers, field by field: one source for both.

The views in statements/publishing/public.py build these TypedDicts (mypy holds them to
every field), and statements/publishing/openapi.py derives their schemas from them, so
the document cannot describe a field the API does not write, or miss one it does. Each
field's meaning, and the JSON Schema keywords beyond its type, ride on it as a `Doc`.

The signed formats (bundles, statements, keys, log entries) are crypto/'s, not the API's:
their schemas follow crypto/bundle_format.py in openapi.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, TypedDict

from crypto.bundle_format import STATUSES

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
HEX_SHA256_PATTERN = r"^[0-9a-f]{64}$"


@dataclass(frozen=True)
class Doc:
    """What a field means, and the JSON Schema keywords beyond its type (`ref`: the
    component schema an untyped mapping follows)."""

    description: str
    keywords: Mapping[str, Any] = field(default_factory=dict)
    ref: str | None = None


def doc(description: str, *, ref: str | None = None, **keywords: Any) -> Doc:
    """A field's Doc."""
    return Doc(description, keywords, ref)


def _slug(description: str) -> Doc:
    return doc(description, pattern=SLUG_PATTERN, maxLength=80)


def _date(description: str) -> Doc:
    return doc(description, format="date", pattern=DATE_PATTERN)


def _url(description: str) -> Doc:
    return doc(description, format="uri")


STATUS = doc(
    "`published` for version 1, `corrected` for a correction, `retracted` for a retraction notice.",
    enum=list(STATUSES),
)


class StatementFacts(TypedDict):
    """What the list and a statement's own answer both say of it."""

    slug: Annotated[str, _slug("The statement's address.")]
    title: Annotated[str, doc("The title of the latest version.", minLength=1)]
    language: Annotated[str, doc("The language of the text.", minLength=1)]
    status: Annotated[str, STATUS]
    latest_version: Annotated[int, doc("The newest version's number.", minimum=1)]
    first_published_on: Annotated[str, _date("The day version 1 was published.")]
    updated_on: Annotated[str, _date("The day the newest version was published.")]
    signatory_count: Annotated[
        int, doc("Organisations that signed the newest version, named and anonymous.")
    ]
    url: Annotated[str, _url("The statement's page.")]
    bundle_url: Annotated[str, _url("The newest version's bundle.")]


class StatementSummary(StatementFacts):
    """A published statement in the list."""

    translation_of: Annotated[
        str | None,
        doc(
            "For a statement in another language than its family's first: the slug of that "
            "first statement (the authoritative text, when they were published together); "
            "null otherwise.",
            pattern=SLUG_PATTERN,
        ),
    ]


class StatementList(TypedDict):
    """Every published statement, most recently updated first."""

    statements: list[StatementSummary]


class Translation(TypedDict):
    """A statement of the same family in another language."""

    slug: Annotated[str, _slug("Its address.")]
    language: Annotated[str, doc("Its language.", minLength=1)]
    url: Annotated[str, _url("Its page.")]


class VersionLink(TypedDict):
    """One version of a statement and the addresses of its files."""

    version: Annotated[int, doc("The version number.", minimum=1)]
    status: Annotated[str, STATUS]
    published_on: Annotated[str, _date("The day it was published.")]
    bundle_sha256: Annotated[
        str,
        doc(
            "Hex SHA-256 of the RFC 8785 canonical JSON of its bundle.",
            pattern=HEX_SHA256_PATTERN,
        ),
    ]
    log_index: Annotated[int, doc("Its leaf's position in the log (/log/entries/{n}).")]
    bundle_url: Annotated[str, _url("Its bundle.json.")]
    markdown_url: Annotated[str, _url("Its statement.md.")]
    minisig_url: Annotated[str, _url("Its statement.md.minisig.")]
    pdf_url: Annotated[str, _url("Its statement.pdf.")]
    docx_url: Annotated[str, _url("Its statement.docx (Word).")]
    letterhead_pdf_url: Annotated[
        str | None,
        _url(
            "Its letterhead.pdf, on the network's letterhead; null where the site has no "
            "letterhead configured."
        ),
    ]


class StatementDetail(StatementFacts):
    """One statement: its latest signed text and every version's files."""

    statement: Annotated[
        Mapping[str, Any], doc("The newest version's signed statement.", ref="Statement")
    ]
    authoritative_language: Annotated[
        str | None,
        doc(
            "For a statement published in several languages at once: the language whose "
            "text prevails in case of difference; null otherwise."
        ),
    ]
    translations: Annotated[
        list[Translation],
        doc(
            "The same statement in other languages: each a statement of its own, signed on its own."
        ),
    ]
    versions: Annotated[list[VersionLink], doc("Every version, oldest first.", minItems=1)]


# The shapes that are components of the OpenAPI document, by name; a shape used inside
# another and not named here (Translation) is written out in place.
COMPONENTS: tuple[type, ...] = (StatementSummary, StatementList, VersionLink, StatementDetail)
