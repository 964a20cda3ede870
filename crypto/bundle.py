"""Bundles of published statements: build them, and verify them offline.

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
import copy
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

import rfc8785

from crypto.changes import CHANGE_FIELDS, Changes, ChangesError, read_changes
from crypto.commitments import COMMITMENT_FIELDS, CommitmentsError, read_commitments
from crypto.commitments import check as check_commitments
from crypto.merkle import (
    HASH_SIZE,
    inclusion_proof,
    leaf_hash,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)
from crypto.reveal import SALT_BYTES, commitment, commitment_leaf
from crypto.signing import (
    PUBLIC_KEY_BYTES,
    SIGNATURE_BYTES,
    SigningKey,
    key_id,
    minisign_public_key,
    minisign_signature,
    note_verifier_key,
    open_note,
    parse_checkpoint,
    sign,
    verify,
    verify_minisign,
)

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

# RFC 8785 serialises numbers as IEEE 754 doubles, so an integer beyond 2**53 - 1 has no
# canonical form (the rfc8785 package refuses it): such a statement could never be signed.
_MAX_JSON_INT = 2**53 - 1
_HEX_SHA256 = re.compile(r"[0-9a-f]{64}")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_SHOWN_CHARS = 60
_TRUSTED_PREFIX = "trusted comment: "


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
class _Statement:
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
class _Log:
    origin: str
    index: int
    tree_size: int
    inclusion_proof: tuple[str, ...]
    checkpoint: str
    # A statement released after an embargo: the leaf is its commitment (crypto/reveal.py).
    salt: bytes | None = None


@dataclass(frozen=True)
class _Bundle:
    format: str
    statement: Mapping[str, Any]
    fields: _Statement
    alg: str
    key_id: str
    signature: str
    minisig: str
    log: _Log


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


# Building


def make_log_entry(
    leaf_hashes: Sequence[bytes],
    index: int,
    origin: str,
    signed_checkpoint_text: str,
    salt: bytes | None = None,
) -> dict[str, Any]:
    """Return a bundle's log part: leaf `index` in the tree of all `leaf_hashes`.

    With `salt`, the leaf is not the statement but the commitment to it made when it was
    scheduled (crypto/reveal.py), and the salt that opens it goes with the proof.
    """
    body_end = signed_checkpoint_text.rfind("\n\n")
    if body_end < 0:
        raise ValueError("signed_checkpoint_text is not a signed note")
    # Refuse to publish a bundle whose proof and checkpoint disagree: it could never verify.
    checkpoint_origin, size, root = parse_checkpoint(signed_checkpoint_text[: body_end + 1])
    if (checkpoint_origin, size) != (origin, len(leaf_hashes)):
        raise ValueError("the checkpoint is not of this origin and tree size")
    if root != root_from_leaf_hashes(leaf_hashes):
        raise ValueError("the checkpoint root is not the root of these leaves")
    proof = inclusion_proof(leaf_hashes, index)
    entry = {
        "origin": origin,
        "index": index,
        "tree_size": len(leaf_hashes),
        "inclusion_proof": [_b64encode(element) for element in proof],
        "checkpoint": signed_checkpoint_text,
    }
    if salt is not None:
        if len(salt) != SALT_BYTES:
            raise ValueError(f"the salt must be {SALT_BYTES} bytes")
        entry["commitment_salt"] = _b64encode(salt)
    return entry


def make_bundle(
    statement: Mapping[str, Any], signing_key: SigningKey, log: Mapping[str, Any]
) -> dict[str, Any]:
    """Return the bundle of a statement: signed, minisigned, with its log entry."""
    fields = _read_statement(statement)
    if fields.body_sha256 != body_sha256(fields.body_markdown):
        raise ValueError("body_sha256 is not the SHA-256 of body_markdown")
    _read_log(log)
    message = canonical(statement)
    minisig = minisign_signature(
        signing_key.private_key,
        signing_key.public_key,
        fields.body_markdown.encode("utf-8"),
        minisign_trusted_comment(fields.slug, fields.version),
    )
    return {
        "format": fields.format,
        # Copies, so a caller editing its dicts later cannot change a signed bundle.
        "statement": copy.deepcopy(dict(statement)),
        "signature": {
            "alg": SIGNATURE_ALG,
            "key_id": key_id(signing_key.public_key),
            "value": _b64encode(sign(signing_key.private_key, message)),
        },
        "minisig": minisig,
        "log": copy.deepcopy(dict(log)),
    }


def key_record(
    public_key: bytes,
    note_key_name: str,
    valid_from: date,
    valid_until: date | None = None,
) -> dict[str, Any]:
    """Return a key's entry for statement-keys.json, from its raw public key."""
    if len(public_key) != PUBLIC_KEY_BYTES:
        raise ValueError(f"public_key must be {PUBLIC_KEY_BYTES} bytes")
    return {
        "key_id": key_id(public_key),
        "public_key": _b64encode(public_key),
        "minisign_public_key": minisign_public_key(public_key),
        "note_key_name": note_key_name,
        "note_verifier_key": note_verifier_key(note_key_name, public_key),
        "valid_from": _date_text(valid_from),
        "valid_until": None if valid_until is None else _date_text(valid_until),
    }


def keys_document(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Return the statement-keys.json document listing these key records."""
    return {"keys": [dict(record) for record in records]}


def make_key_rotation(
    old_key: SigningKey, new_key: SigningKey, note_key_name: str, rotated_on: date
) -> dict[str, Any]:
    """Return the log entry announcing a new signing key, signed by the old key and the new.

    The old key's signature says its holders chose the successor; the new key's says the
    successor's holders hold it. The entry's canonical JSON is the log leaf.
    """
    rotation = {
        "previous_key_id": key_id(old_key.public_key),
        "key": key_record(new_key.public_key, note_key_name, rotated_on),
        "rotated_on": _date_text(rotated_on),
    }
    message = canonical(rotation)
    return {
        "format": ROTATION_FORMAT,
        "rotation": rotation,
        "signatures": [
            {
                "alg": SIGNATURE_ALG,
                "key_id": key_id(signer.public_key),
                "value": _b64encode(sign(signer.private_key, message)),
            }
            for signer in (old_key, new_key)
        ],
    }


def verify_key_rotation(entry: object, keys: Sequence[KeyRecord]) -> bool:
    """Return whether a key-rotation entry is sound against the published keys.

    Both keys must sign it; the old key must have been valid on the rotation day (a key
    retired earlier, even if later stolen, cannot name a successor), and the new key must
    be listed with the record the entry announces.
    """
    try:
        document = _mapping(entry, "the rotation entry")
        rotation = _mapping(_field(document, "rotation", "the entry"), "rotation")
        previous = _string(_field(rotation, "previous_key_id", "rotation"), "previous_key_id")
        new = _read_key(_field(rotation, "key", "rotation"), "rotation.key")
        rotated_on = _iso_date(_field(rotation, "rotated_on", "rotation"), "rotated_on")
        signatures = _list(_field(document, "signatures", "the entry"), "signatures")
        by_key = {
            _string(_field(item, "key_id", "signature"), "key_id"): _string(
                _field(item, "value", "signature"), "value"
            )
            for item in (_mapping(item, "signature") for item in signatures)
        }
        message = canonical(rotation)
    except (MalformedBundle, ValueError, TypeError, rfc8785.CanonicalizationError):
        return False
    if document.get("format") != ROTATION_FORMAT:
        return False
    old = next((record for record in keys if record.key_id == previous), None)
    listed = next((record for record in keys if record.key_id == new.key_id), None)
    if old is None or listed is None or previous == new.key_id:
        return False
    # The listed record may since have gained a valid_until (a later rotation).
    if replace(listed, valid_until=None) != new or new.valid_from != rotated_on:
        return False
    if rotated_on < old.valid_from or (
        old.valid_until is not None and rotated_on > old.valid_until
    ):
        return False
    for signer in (old.public_key, new.public_key):
        value = _b64decode(by_key.get(key_id(signer), ""))
        if value is None or not verify(signer, message, value):
            return False
    return True


def _date_text(value: date) -> str:
    # A datetime is a date too, but its isoformat() carries a time no reader accepts.
    if isinstance(value, datetime) or not isinstance(value, date):
        raise ValueError("validity dates must be datetime.date values")
    return value.isoformat()


# Reading


def validate_statement(statement: object) -> None:
    """Raise MalformedBundle unless the statement has exactly the format's fields and types."""
    _read_statement(statement)


def parse_keys(data: object) -> list[KeyRecord]:
    """Return the keys of a statement-keys.json document; MalformedBundle if it is malformed."""
    document = _mapping(data, "the keys file")
    entries = _list(_field(document, "keys", "the keys file"), "keys")
    records: list[KeyRecord] = []
    for position, entry in enumerate(entries):
        records.append(_read_key(entry, f"keys[{position}]"))
    ids = [record.key_id for record in records]
    if len(set(ids)) != len(ids):
        raise MalformedBundle("the keys file lists the same key_id twice")
    return records


def parse_consistency_proof(data: object) -> list[bytes]:
    """Return the hashes of a consistency proof, {"proof": [base64...]} or a bare list."""
    if isinstance(data, Mapping):
        data = _field(data, "proof", "the consistency proof")
    elements = _list(data, "the consistency proof")
    proof: list[bytes] = []
    for position, element in enumerate(elements):
        decoded = _b64decode(_string(element, f"consistency proof element {position}"))
        if decoded is None or len(decoded) != HASH_SIZE:
            raise MalformedBundle(f"consistency proof element {position} is not a base64 hash")
        proof.append(decoded)
    return proof


def _read_key(entry: object, where: str) -> KeyRecord:
    record = _mapping(entry, where)
    for name in KEY_FIELDS:
        _field(record, name, where)
    public_key = _b64decode(_string(record["public_key"], f"{where}.public_key"))
    if public_key is None or len(public_key) != PUBLIC_KEY_BYTES:
        raise MalformedBundle(f"{where}.public_key is not base64 of {PUBLIC_KEY_BYTES} bytes")
    name = _string(record["note_key_name"], f"{where}.note_key_name")
    try:
        expected_verifier = note_verifier_key(name, public_key)
    except ValueError:
        raise MalformedBundle(f"{where}.note_key_name is not a signed-note key name") from None
    # The three encodings all derive from the one public key; a listing where they disagree
    # is corrupt (or doctored), and would let one check pass under a key another never saw.
    derived = {
        "key_id": key_id(public_key),
        "minisign_public_key": minisign_public_key(public_key),
        "note_verifier_key": expected_verifier,
    }
    for field_name, expected in derived.items():
        if _string(record[field_name], f"{where}.{field_name}") != expected:
            raise MalformedBundle(f"{where}.{field_name} is not derived from its public_key")
    valid_from = _iso_date(record["valid_from"], f"{where}.valid_from")
    valid_until = (
        None
        if record["valid_until"] is None
        else _iso_date(record["valid_until"], f"{where}.valid_until")
    )
    if valid_until is not None and valid_until < valid_from:
        raise MalformedBundle(f"{where} is valid until before it is valid from")
    return KeyRecord(
        key_id=derived["key_id"],
        public_key=public_key,
        minisign_public_key=derived["minisign_public_key"],
        note_key_name=name,
        note_verifier_key=expected_verifier,
        valid_from=valid_from,
        valid_until=valid_until,
    )


def _read_statement(statement: object) -> _Statement:
    fields = _mapping(statement, "statement")
    # Which format's fields are expected follows from the statement itself, so a format-1
    # statement cannot be read as format 2 or the reverse; the format check then holds the
    # bundle's "format" to it.
    expected = STATEMENT_FIELDS
    for group in (FAMILY_FIELDS, CHANGE_FIELDS, COMMITMENT_FIELDS):
        if group & fields.keys():
            expected = expected | group
    missing = expected - fields.keys()
    extra = fields.keys() - expected
    if missing or extra:
        # Exactly these fields: anything else would be signed but shown by no reader.
        names = ", ".join(sorted(map(str, missing | extra)))
        raise MalformedBundle(f"statement has missing or unknown fields: {_show(names)}")
    slug = _string(fields["slug"], "statement.slug", nonempty=True)
    # The slug names the statement in the one-line minisign trusted comment and in URLs.
    if any(char.isspace() or not char.isprintable() for char in slug):
        raise MalformedBundle("statement.slug holds spaces or control characters")
    _string(fields["title"], "statement.title", nonempty=True)
    language = _string(fields["language"], "statement.language", nonempty=True)
    version = _integer(fields["version"], "statement.version", minimum=1)
    if fields["status"] not in STATUSES:
        raise MalformedBundle(f"statement.status is not one of {', '.join(STATUSES)}")
    published_on = _iso_date(fields["published_on"], "statement.published_on")
    body = _string(fields["body_markdown"], "statement.body_markdown")
    digest = _hex_sha256(fields["body_sha256"], "statement.body_sha256")
    previous = fields["previous_bundle_sha256"]
    if previous is not None:
        _hex_sha256(previous, "statement.previous_bundle_sha256")
    # Version 1 starts a chain and every later version links to the one before, so a
    # correction or retraction cannot be passed off as a first publication, nor vice versa.
    if (version == 1) != (previous is None):
        raise MalformedBundle("previous_bundle_sha256 must be null for version 1 and only then")
    for position, entry in enumerate(_list(fields["signatories"], "statement.signatories")):
        where = f"statement.signatories[{position}]"
        signatory = _mapping(entry, where)
        if signatory.keys() != SIGNATORY_FIELDS:
            raise MalformedBundle(f"{where} must have exactly the fields name and country")
        _string(signatory["name"], f"{where}.name", nonempty=True)
        if signatory["country"] is not None:
            _string(signatory["country"], f"{where}.country")
    _integer(fields["anonymous_signatories"], "statement.anonymous_signatories", minimum=0)
    authoritative: str | None = None
    family: tuple[tuple[str, str], ...] = ()
    if "family" in fields:
        authoritative, family = _read_family(fields, slug, language)
    changes = None
    if "changes" in fields:
        try:
            changes = read_changes(fields)
        except ChangesError as error:
            raise MalformedBundle(str(error)) from None
    commitments = "anonymous_commitments" in fields
    if commitments:
        try:
            read_commitments(fields)
        except CommitmentsError as error:
            raise MalformedBundle(str(error)) from None
    return _Statement(
        slug=slug,
        version=version,
        published_on=published_on,
        body_markdown=body,
        body_sha256=digest,
        language=language,
        authoritative_language=authoritative,
        family=family,
        changes=changes,
        commitments=commitments,
    )


def _read_family(
    fields: Mapping[str, Any], slug: str, language: str
) -> tuple[str, tuple[tuple[str, str], ...]]:
    """The authoritative language and the family's (language, slug) pairs, checked."""
    members: list[tuple[str, str]] = []
    for position, entry in enumerate(_list(fields["family"], "statement.family")):
        where = f"statement.family[{position}]"
        member = _mapping(entry, where)
        if member.keys() != MEMBER_FIELDS:
            raise MalformedBundle(f"{where} must have exactly the fields language and slug")
        members.append(
            (
                _string(member["language"], f"{where}.language", nonempty=True),
                _string(member["slug"], f"{where}.slug", nonempty=True),
            )
        )
    languages = [member[0] for member in members]
    slugs = [member[1] for member in members]
    # One text per language and one address per text, else a reader could be sent to a
    # second "English" text the signers never saw named.
    if len(set(languages)) != len(languages) or len(set(slugs)) != len(slugs):
        raise MalformedBundle("statement.family names a language or a slug twice")
    if (language, slug) not in members:
        raise MalformedBundle("statement.family does not hold the statement's own language")
    authoritative = _string(
        fields["authoritative_language"], "statement.authoritative_language", nonempty=True
    )
    if authoritative not in languages:
        raise MalformedBundle("statement.authoritative_language is not a language of the family")
    return authoritative, tuple(members)


def _read_log(log: object) -> _Log:
    # Only the JSON shape is checked here; whether the values are right is for the checks.
    entry = _mapping(log, "log")
    proof = _list(_field(entry, "inclusion_proof", "log"), "log.inclusion_proof")
    salt: bytes | None = None
    if "commitment_salt" in entry:
        salt = _b64decode(_string(entry["commitment_salt"], "log.commitment_salt"))
        if salt is None or len(salt) != SALT_BYTES:
            raise MalformedBundle(f"log.commitment_salt is not base64 of {SALT_BYTES} bytes")
    return _Log(
        origin=_string(_field(entry, "origin", "log"), "log.origin"),
        index=_integer(_field(entry, "index", "log"), "log.index", minimum=0),
        tree_size=_integer(_field(entry, "tree_size", "log"), "log.tree_size", minimum=1),
        inclusion_proof=tuple(
            _string(element, f"log.inclusion_proof[{position}]")
            for position, element in enumerate(proof)
        ),
        checkpoint=_string(_field(entry, "checkpoint", "log"), "log.checkpoint"),
        salt=salt,
    )


def _read_bundle(data: object) -> _Bundle:
    # Unknown top-level, signature and log fields are ignored, as the issue promises "at
    # least" these: the statement is the signed part, and it is held to exactly its fields.
    bundle = _mapping(data, "the bundle")
    statement = _mapping(_field(bundle, "statement", "the bundle"), "statement")
    signature = _mapping(_field(bundle, "signature", "the bundle"), "signature")
    return _Bundle(
        format=_string(_field(bundle, "format", "the bundle"), "format"),
        statement=statement,
        fields=_read_statement(statement),
        alg=_string(_field(signature, "alg", "signature"), "signature.alg"),
        key_id=_string(_field(signature, "key_id", "signature"), "signature.key_id"),
        signature=_string(_field(signature, "value", "signature"), "signature.value"),
        minisig=_string(_field(bundle, "minisig", "the bundle"), "minisig"),
        log=_read_log(_field(bundle, "log", "the bundle")),
    )


def _mapping(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise MalformedBundle(f"{where} is not a JSON object")
    if not all(isinstance(name, str) for name in value):
        raise MalformedBundle(f"{where} has a field name that is not a string")
    return value


def _field(value: Mapping[str, Any], name: str, where: str) -> object:
    if name not in value:
        raise MalformedBundle(f"{where} has no field {name}")
    return value[name]


def _list(value: object, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise MalformedBundle(f"{where} is not a JSON array")
    return value


def _string(value: object, where: str, *, nonempty: bool = False) -> str:
    if not isinstance(value, str):
        raise MalformedBundle(f"{where} is not a string")
    if nonempty and not value:
        raise MalformedBundle(f"{where} is empty")
    try:
        # A Python str can hold lone surrogates (JSON "\ud800" decodes to one), which
        # have no UTF-8 form and so no canonical JSON, hash or signature.
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise MalformedBundle(f"{where} is not valid Unicode text") from None
    return value


def _integer(value: object, where: str, *, minimum: int) -> int:
    # bool is an int subclass in Python; JSON true is not a number. Every number is held
    # to a range: one past 2**63 once reached the database and the proofs unchecked.
    if isinstance(value, bool) or not isinstance(value, int):
        raise MalformedBundle(f"{where} is not an integer")
    if not minimum <= value <= _MAX_JSON_INT:
        raise MalformedBundle(f"{where} is not an integer from {minimum} to {_MAX_JSON_INT}")
    return value


def _iso_date(value: object, where: str) -> date:
    text = _string(value, where)
    # The pattern first: date.fromisoformat also takes "20240501" and other ISO forms.
    if not _ISO_DATE.fullmatch(text):
        raise MalformedBundle(f"{where} is not a YYYY-MM-DD date")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise MalformedBundle(f"{where} is not a calendar date") from None


def _hex_sha256(value: object, where: str) -> str:
    text = _string(value, where)
    if not _HEX_SHA256.fullmatch(text):
        raise MalformedBundle(f"{where} is not 64 lowercase hex digits")
    return text


def _b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _b64decode(text: str) -> bytes | None:
    """Return the bytes of canonical standard base64, or None."""
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    # One spelling per value, as crypto.signing reads base64: no stray padding bits.
    return data if _b64encode(data) == text else None


def _show(value: object) -> str:
    """Return a short, escaped rendering of untrusted text, safe to print on a terminal."""
    text = repr(value)
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 3] + "..."


# Verifying


def verify_bundle(
    bundle: Mapping[str, Any],
    keys: Sequence[KeyRecord],
    old_checkpoint: str | None = None,
    consistency_proof: Sequence[bytes] | None = None,
) -> Report:
    """Check a bundle against the published keys; MalformedBundle if it is not a bundle."""
    parts = _read_bundle(bundle)
    message = canonical(parts.statement)
    key = next((record for record in keys if record.key_id == parts.key_id), None)
    checks = [
        _check_format(parts),
        _check_body_hash(parts.fields),
        _check_key(parts, key),
        _check_signature(parts, key, message),
        _check_minisign(parts, key),
    ]
    checkpoint_check, tree = _check_checkpoint(parts.log, key)
    checks += [checkpoint_check, _check_inclusion(parts.log, tree, _log_leaf(parts))]
    if parts.fields.commitments:
        checks.append(_check_commitments(parts.statement))
    if old_checkpoint is not None:
        checks.append(_check_consistency(tree, keys, old_checkpoint, consistency_proof or []))
    return Report(
        tuple(checks),
        language=parts.fields.language,
        authoritative_language=parts.fields.authoritative_language,
        family=parts.fields.family,
    )


def log_leaf(bundle: Mapping[str, Any]) -> bytes:
    """The bytes the log holds for a bundle's statement; MalformedBundle if not a bundle.

    The statement's canonical JSON; or, for one released after an embargo, the leaf of
    the commitment to it that entered the log when it was scheduled.
    """
    return _log_leaf(_read_bundle(bundle))


def _log_leaf(parts: _Bundle) -> bytes:
    statement = canonical(parts.statement)
    if parts.log.salt is None:
        return statement
    return commitment_leaf(commitment(parts.log.salt, statement))


def _ok(name: str, detail: str) -> Check:
    return Check(name, True, detail)


def _fail(name: str, detail: str) -> Check:
    return Check(name, False, detail)


def _not_checked(name: str, reason: str) -> Check:
    # A check that cannot run fails: "valid" must mean every check was actually made.
    return _fail(name, f"not checked: {reason}")


_NO_KEY = "no known key"


def _check_format(parts: _Bundle) -> Check:
    expected = parts.fields.format
    if parts.format != expected:
        return _fail("format", f"format is {_show(parts.format)}, not {expected!r}")
    if parts.alg != SIGNATURE_ALG:
        return _fail("format", f"signature.alg is {_show(parts.alg)}, not {SIGNATURE_ALG!r}")
    return _ok("format", f"{expected}, {SIGNATURE_ALG}")


def _check_body_hash(fields: _Statement) -> Check:
    if body_sha256(fields.body_markdown) != fields.body_sha256:
        return _fail("body_hash", "body_sha256 is not the SHA-256 of body_markdown")
    return _ok("body_hash", "body_sha256 matches body_markdown")


def _check_key(parts: _Bundle, key: KeyRecord | None) -> Check:
    if key is None:
        return _fail("key", f"no key with key_id {_show(parts.key_id)} in the keys given")
    published_on = parts.fields.published_on
    window = f"from {key.valid_from}" + (
        "" if key.valid_until is None else f" until {key.valid_until}"
    )
    if published_on < key.valid_from or (
        key.valid_until is not None and published_on > key.valid_until
    ):
        return _fail(
            "key", f"key {key.key_id} is valid {window}, not on {published_on} (published_on)"
        )
    return _ok("key", f"key {key.key_id}, valid {window}")


def _check_signature(parts: _Bundle, key: KeyRecord | None, message: bytes) -> Check:
    if key is None:
        return _not_checked("signature", _NO_KEY)
    signature = _b64decode(parts.signature)
    if signature is None or len(signature) != SIGNATURE_BYTES:
        return _fail("signature", f"signature.value is not base64 of {SIGNATURE_BYTES} bytes")
    if not verify(key.public_key, message, signature):
        return _fail("signature", f"the Ed25519 signature does not verify with key {key.key_id}")
    return _ok("signature", f"Ed25519 signature by key {key.key_id}")


def _check_minisign(parts: _Bundle, key: KeyRecord | None) -> Check:
    if key is None:
        return _not_checked("minisign", _NO_KEY)
    body = parts.fields.body_markdown.encode("utf-8")
    if not verify_minisign(key.minisign_public_key, body, parts.minisig):
        return _fail("minisign", f"minisig does not verify over the body with key {key.key_id}")
    # verify_minisign has checked the trusted comment's signature but does not return it.
    # It read the third line of a well-formed four-line file, so this parse cannot fail.
    trusted_line = parts.minisig.split("\n")[2].removesuffix("\r")
    trusted = trusted_line.removeprefix(_TRUSTED_PREFIX)
    expected = minisign_trusted_comment(parts.fields.slug, parts.fields.version)
    # Without this, a genuine minisig of the same body under another slug or version
    # (a text republished unchanged) would vouch for this one.
    if trusted != expected:
        return _fail("minisign", f"trusted comment is {_show(trusted)}, not {_show(expected)}")
    return _ok("minisign", f"minisig verified, trusted comment {_show(trusted)}")


@dataclass(frozen=True)
class _Tree:
    """A tree head read from a checkpoint whose signature verified."""

    origin: str
    size: int
    root: bytes


def _check_checkpoint(log: _Log, key: KeyRecord | None) -> tuple[Check, _Tree | None]:
    name = "checkpoint_signature"
    if key is None:
        return _not_checked(name, _NO_KEY), None
    body = open_note(log.checkpoint, key.note_verifier_key)
    if body is None:
        return _fail(name, f"checkpoint is not a note signed by {_show(key.note_key_name)}"), None
    try:
        origin, size, root = parse_checkpoint(body)
    except ValueError as error:
        return _fail(name, str(error)), None
    if origin != log.origin:
        detail = f"checkpoint origin {_show(origin)} is not log.origin {_show(log.origin)}"
        return _fail(name, detail), None
    if size != log.tree_size:
        return _fail(
            name, f"checkpoint tree size {size} is not log.tree_size {log.tree_size}"
        ), None
    tree = _Tree(origin, size, root)
    return _ok(name, f"checkpoint of {_show(origin)} at size {size}, signed"), tree


def _check_inclusion(log: _Log, tree: _Tree | None, leaf: bytes) -> Check:
    name = "log_inclusion"
    if tree is None:
        return _not_checked(name, "no checkpoint with a verified signature")
    proof: list[bytes] = []
    for position, element in enumerate(log.inclusion_proof):
        decoded = _b64decode(element)
        if decoded is None or len(decoded) != HASH_SIZE:
            return _fail(name, f"inclusion_proof[{position}] is not a base64 SHA-256 hash")
        proof.append(decoded)
    what = "the statement" if log.salt is None else "the commitment to the statement"
    if not verify_inclusion(leaf_hash(leaf), log.index, tree.size, proof, tree.root):
        return _fail(name, f"{what} is not entry {log.index} of the log at size {tree.size}")
    if log.salt is not None:
        return _ok(
            name,
            f"entry {log.index} of {tree.size}: the commitment made when the statement was "
            "scheduled, opened by its salt",
        )
    return _ok(name, f"entry {log.index} of {tree.size}")


def _check_commitments(statement: Mapping[str, Any]) -> Check:
    # The signed count must be the number of signed commitments, and the signed root
    # theirs: otherwise the count could be typed, and endorsers' proofs would prove nothing.
    name = "anonymous_commitments"
    problems = check_commitments(statement)
    if problems:
        return _fail(name, "; ".join(problems))
    count = len(statement["anonymous_commitments"])
    return _ok(name, f"{count} commitments, root matches, count matches")


def _check_consistency(
    tree: _Tree | None, keys: Sequence[KeyRecord], old_checkpoint: str, proof: Sequence[bytes]
) -> Check:
    name = "log_consistency"
    if tree is None:
        return _not_checked(name, "no checkpoint with a verified signature")
    # Any key ever listed: the old checkpoint may predate a key rotation.
    body = next(
        (
            opened
            for record in keys
            if (opened := open_note(old_checkpoint, record.note_verifier_key)) is not None
        ),
        None,
    )
    if body is None:
        return _fail(name, "the old checkpoint is not a note signed by a known key")
    try:
        origin, old_size, old_root = parse_checkpoint(body)
    except ValueError as error:
        return _fail(name, f"the old checkpoint: {error}")
    if origin != tree.origin:
        return _fail(name, f"the old checkpoint is of another log, {_show(origin)}")
    if old_size > tree.size:
        # Either the log was rolled back, or this bundle predates the old checkpoint (its
        # own checkpoint is the one of its publication): then check a newer bundle.
        return _fail(
            name,
            f"the old checkpoint has {old_size} entries, the bundle's only {tree.size}: "
            "the log shrank, or the bundle is older than the checkpoint",
        )
    if not verify_consistency(old_size, tree.size, old_root, tree.root, proof):
        return _fail(
            name,
            f"the log at size {tree.size} does not extend the old checkpoint at size "
            f"{old_size}: entries were changed or removed, or the proof is wrong",
        )
    return _ok(name, f"the log grew from {old_size} to {tree.size} entries, append-only")
