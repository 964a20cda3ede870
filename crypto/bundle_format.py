"""Bundles of published statements: what one is. Its formats and fields, the verdict's
shapes, and the canonical forms that are signed and hashed.

Built in crypto/bundle.py, read strictly in crypto/bundle_reading.py, verified offline in
crypto/bundle_checks.py.

A bundle (format "joint-statement-bundle/1") carries one published version of a statement
with everything needed to check it without trusting the server that handed it out: an
Ed25519 signature over the RFC 8785 canonical JSON of the statement, a minisign signature
over its Markdown body (for the standard `minisign` tool), and the statement's place in the
public log (a RFC 9162 inclusion proof up to a C2SP checkpoint signed by the same key). The
keys come separately, from `/.well-known/statement-keys.json`.

Format "joint-statement-bundle/2" is the same with one or both of
two optional groups of signed statement fields. One is for a statement published in
several languages at once: `authoritative_language` (the text that prevails in case of
difference) and `family` (every language's slug, this one among them); each language is
still a bundle of its own, signed on its own. The other is for a correction or
retraction: `reason` (the public reason) and `changes` (what changed from the version
before: signatories added and removed, how many were removed for their safety, the
anonymous count before), described in crypto/changes.py. A group comes whole or not at
all; a statement with neither keeps format 1, so copies of the verifier made before
format 2 still check it; this verifier checks both.

Readers draw one line: a document whose JSON shape or types are wrong (or whose statement
breaks the field rules) raises MalformedBundle; a well-shaped bundle whose contents do not
check out gets a Report naming each check, the first failing one first. Nothing here raises
anything else on bad input, so a verifier can tell "not a bundle" from "not genuine".
"""

import base64
import binascii
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import rfc8785

from crypto.changes import CHANGE_FIELDS, Changes
from crypto.commitments import COMMITMENT_FIELDS

BUNDLE_FORMAT_V1 = "joint-statement-bundle/1"
BUNDLE_FORMAT = "joint-statement-bundle/2"
BUNDLE_FORMATS = (BUNDLE_FORMAT_V1, BUNDLE_FORMAT)
ROTATION_FORMAT = "joint-statement-key-rotation/1"
SIGNATURE_ALG = "Ed25519"
STATUSES = ("published", "corrected", "retracted")
STATEMENT_FIELDS = frozenset(
    {
        "slug",
        "title",
        "language",
        "version",
        "status",
        "published_on",
        "body_markdown",
        "body_sha256",
        "previous_bundle_sha256",
        "signatories",
        "anonymous_signatories",
    }
)
FAMILY_FIELDS = frozenset({"authoritative_language", "family"})
STATEMENT_FIELDS_V2 = STATEMENT_FIELDS | FAMILY_FIELDS | CHANGE_FIELDS | COMMITMENT_FIELDS
SIGNATORY_FIELDS = frozenset({"name", "country"})
MEMBER_FIELDS = frozenset({"language", "slug"})
KEY_FIELDS = (
    "key_id",
    "public_key",
    "minisign_public_key",
    "note_key_name",
    "note_verifier_key",
    "valid_from",
    "valid_until",
)
CHECK_NAMES = (
    "format",
    "body_hash",
    "key",
    "signature",
    "minisign",
    "checkpoint_signature",
    "log_inclusion",
    "log_consistency",
)


class MalformedBundle(ValueError):
    """A bundle, keys file or proof file that is not shaped as its format says."""

    # Defined here rather than in crypto/errors.py, whose CryptoError deliberately carries
    # no detail: a malformed *public* document should say exactly what is wrong with it.
    # A ValueError, so builders can raise it for misuse as the rest of crypto/ does.


@dataclass(frozen=True)
class Check:
    """The outcome of one named check of a bundle."""

    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class Report:
    """Every check run on a bundle, in order, and the languages the statement declares."""

    checks: tuple[Check, ...]
    language: str = ""
    # Format 2 only: the language whose text prevails, and (language, slug) of each text.
    authoritative_language: str | None = None
    family: tuple[tuple[str, str], ...] = ()

    @property
    def valid(self) -> bool:
        """Return whether every check passed."""
        return bool(self.checks) and all(check.ok for check in self.checks)

    @property
    def first_failure(self) -> Check | None:
        """Return the first failing check, or None when all passed."""
        return next((check for check in self.checks if not check.ok), None)


@dataclass(frozen=True)
class KeyRecord:
    """One signing key as listed in statement-keys.json, decoded."""

    key_id: str
    public_key: bytes
    minisign_public_key: str
    note_key_name: str
    note_verifier_key: str
    valid_from: date
    valid_until: date | None


@dataclass(frozen=True)
class StatementFields:
    """The fields of a validated statement that the checks need, typed."""

    slug: str
    version: int
    published_on: date
    body_markdown: str
    body_sha256: str
    language: str = ""
    authoritative_language: str | None = None
    family: tuple[tuple[str, str], ...] = ()
    # Format 2 only: the signed reason and summary of what changed (crypto/changes.py).
    changes: Changes | None = None
    # Format 2 only: the anonymous endorsements' commitments (crypto/commitments.py).
    commitments: bool = False

    @property
    def format(self) -> str:
        """The bundle format a statement of these fields belongs in."""
        if self.authoritative_language is None and self.changes is None and not self.commitments:
            return BUNDLE_FORMAT_V1
        return BUNDLE_FORMAT


@dataclass(frozen=True)
class LogPart:
    origin: str
    index: int
    tree_size: int
    inclusion_proof: tuple[str, ...]
    checkpoint: str
    # A statement released after an embargo: the leaf is its commitment (crypto/reveal.py).
    salt: bytes | None = None


@dataclass(frozen=True)
class BundleParts:
    format: str
    statement: Mapping[str, Any]
    fields: StatementFields
    alg: str
    key_id: str
    signature: str
    minisig: str
    log: LogPart


# Canonical forms


def canonical(statement: Mapping[str, Any]) -> bytes:
    """Return the RFC 8785 canonical JSON of a statement: the signed bytes and the log leaf."""
    return rfc8785.dumps(statement)


def body_sha256(body_markdown: str) -> str:
    """Return the hex SHA-256 of the UTF-8 bytes of a statement's Markdown body."""
    return hashlib.sha256(body_markdown.encode("utf-8")).hexdigest()


def bundle_sha256(bundle: Mapping[str, Any]) -> str:
    """Return the hex SHA-256 of a bundle's canonical JSON: what previous_bundle_sha256 holds."""
    # Canonical JSON rather than the served file's bytes, so the link survives the bundle
    # being pretty-printed, re-served or mirrored by export-site.
    return hashlib.sha256(rfc8785.dumps(bundle)).hexdigest()


def minisign_trusted_comment(slug: str, version: int) -> str:
    """Return the minisign trusted comment of a statement version."""
    return f"joint statement {slug} version {version}"


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64decode(text: str) -> bytes | None:
    """Return the bytes of canonical standard base64, or None."""
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    # One spelling per value, as crypto.signing reads base64: no stray padding bits.
    return data if b64encode(data) == text else None
