"""Reading bundles, keys files and consistency proofs: strictly, field by field.

A document whose JSON shape or types are wrong (or whose statement breaks the field
rules) raises MalformedBundle, and nothing here raises anything else on bad input.
"""

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from crypto.bundle_format import (
    FAMILY_FIELDS,
    KEY_FIELDS,
    MEMBER_FIELDS,
    SIGNATORY_FIELDS,
    STATEMENT_FIELDS,
    STATUSES,
    BundleParts,
    KeyRecord,
    LogPart,
    MalformedBundle,
    StatementFields,
    b64decode,
)
from crypto.changes import CHANGE_FIELDS, ChangesError, read_changes
from crypto.commitments import COMMITMENT_FIELDS, CommitmentsError, read_commitments
from crypto.merkle import (
    HASH_SIZE,
)
from crypto.reveal import SALT_BYTES
from crypto.signing import (
    PUBLIC_KEY_BYTES,
    key_id,
    minisign_public_key,
    note_verifier_key,
)

# RFC 8785 serialises numbers as IEEE 754 doubles, so an integer beyond 2**53 - 1 has no
# canonical form (the rfc8785 package refuses it): such a statement could never be signed.
_MAX_JSON_INT = 2**53 - 1
_HEX_SHA256 = re.compile(r"[0-9a-f]{64}")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_SHOWN_CHARS = 60


def validate_statement(statement: object) -> None:
    """Raise MalformedBundle unless the statement has exactly the format's fields and types."""
    read_statement(statement)


def parse_keys(data: object) -> list[KeyRecord]:
    """Return the keys of a statement-keys.json document; MalformedBundle if it is malformed."""
    document = read_mapping(data, "the keys file")
    entries = read_list(read_field(document, "keys", "the keys file"), "keys")
    records: list[KeyRecord] = []
    for position, entry in enumerate(entries):
        records.append(read_key(entry, f"keys[{position}]"))
    ids = [record.key_id for record in records]
    if len(set(ids)) != len(ids):
        raise MalformedBundle("the keys file lists the same key_id twice")
    return records


def parse_consistency_proof(data: object) -> list[bytes]:
    """Return the hashes of a consistency proof, {"proof": [base64...]} or a bare list."""
    if isinstance(data, Mapping):
        data = read_field(data, "proof", "the consistency proof")
    elements = read_list(data, "the consistency proof")
    proof: list[bytes] = []
    for position, element in enumerate(elements):
        decoded = b64decode(read_string(element, f"consistency proof element {position}"))
        if decoded is None or len(decoded) != HASH_SIZE:
            raise MalformedBundle(f"consistency proof element {position} is not a base64 hash")
        proof.append(decoded)
    return proof


def read_key(entry: object, where: str) -> KeyRecord:
    record = read_mapping(entry, where)
    for name in KEY_FIELDS:
        read_field(record, name, where)
    public_key = b64decode(read_string(record["public_key"], f"{where}.public_key"))
    if public_key is None or len(public_key) != PUBLIC_KEY_BYTES:
        raise MalformedBundle(f"{where}.public_key is not base64 of {PUBLIC_KEY_BYTES} bytes")
    name = read_string(record["note_key_name"], f"{where}.note_key_name")
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
        if read_string(record[field_name], f"{where}.{field_name}") != expected:
            raise MalformedBundle(f"{where}.{field_name} is not derived from its public_key")
    valid_from = read_iso_date(record["valid_from"], f"{where}.valid_from")
    valid_until = (
        None
        if record["valid_until"] is None
        else read_iso_date(record["valid_until"], f"{where}.valid_until")
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


def read_statement(statement: object) -> StatementFields:
    fields = read_mapping(statement, "statement")
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
        raise MalformedBundle(f"statement has missing or unknown fields: {show(names)}")
    slug = read_string(fields["slug"], "statement.slug", nonempty=True)
    # The slug names the statement in the one-line minisign trusted comment and in URLs.
    if any(char.isspace() or not char.isprintable() for char in slug):
        raise MalformedBundle("statement.slug holds spaces or control characters")
    read_string(fields["title"], "statement.title", nonempty=True)
    language = read_string(fields["language"], "statement.language", nonempty=True)
    version = read_integer(fields["version"], "statement.version", minimum=1)
    if fields["status"] not in STATUSES:
        raise MalformedBundle(f"statement.status is not one of {', '.join(STATUSES)}")
    published_on = read_iso_date(fields["published_on"], "statement.published_on")
    body = read_string(fields["body_markdown"], "statement.body_markdown")
    digest = read_hex_sha256(fields["body_sha256"], "statement.body_sha256")
    previous = fields["previous_bundle_sha256"]
    if previous is not None:
        read_hex_sha256(previous, "statement.previous_bundle_sha256")
    # Version 1 starts a chain and every later version links to the one before, so a
    # correction or retraction cannot be passed off as a first publication, nor vice versa.
    if (version == 1) != (previous is None):
        raise MalformedBundle("previous_bundle_sha256 must be null for version 1 and only then")
    for position, entry in enumerate(read_list(fields["signatories"], "statement.signatories")):
        where = f"statement.signatories[{position}]"
        signatory = read_mapping(entry, where)
        if signatory.keys() != SIGNATORY_FIELDS:
            raise MalformedBundle(f"{where} must have exactly the fields name and country")
        read_string(signatory["name"], f"{where}.name", nonempty=True)
        if signatory["country"] is not None:
            read_string(signatory["country"], f"{where}.country")
    read_integer(fields["anonymous_signatories"], "statement.anonymous_signatories", minimum=0)
    authoritative: str | None = None
    family: tuple[tuple[str, str], ...] = ()
    if "family" in fields:
        authoritative, family = read_family(fields, slug, language)
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
    return StatementFields(
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


def read_family(
    fields: Mapping[str, Any], slug: str, language: str
) -> tuple[str, tuple[tuple[str, str], ...]]:
    """The authoritative language and the family's (language, slug) pairs, checked."""
    members: list[tuple[str, str]] = []
    for position, entry in enumerate(read_list(fields["family"], "statement.family")):
        where = f"statement.family[{position}]"
        member = read_mapping(entry, where)
        if member.keys() != MEMBER_FIELDS:
            raise MalformedBundle(f"{where} must have exactly the fields language and slug")
        members.append(
            (
                read_string(member["language"], f"{where}.language", nonempty=True),
                read_string(member["slug"], f"{where}.slug", nonempty=True),
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
    authoritative = read_string(
        fields["authoritative_language"], "statement.authoritative_language", nonempty=True
    )
    if authoritative not in languages:
        raise MalformedBundle("statement.authoritative_language is not a language of the family")
    return authoritative, tuple(members)


def read_log(log: object) -> LogPart:
    # Only the JSON shape is checked here; whether the values are right is for the checks.
    entry = read_mapping(log, "log")
    proof = read_list(read_field(entry, "inclusion_proof", "log"), "log.inclusion_proof")
    salt: bytes | None = None
    if "commitment_salt" in entry:
        salt = b64decode(read_string(entry["commitment_salt"], "log.commitment_salt"))
        if salt is None or len(salt) != SALT_BYTES:
            raise MalformedBundle(f"log.commitment_salt is not base64 of {SALT_BYTES} bytes")
    return LogPart(
        origin=read_string(read_field(entry, "origin", "log"), "log.origin"),
        index=read_integer(read_field(entry, "index", "log"), "log.index", minimum=0),
        tree_size=read_integer(read_field(entry, "tree_size", "log"), "log.tree_size", minimum=1),
        inclusion_proof=tuple(
            read_string(element, f"log.inclusion_proof[{position}]")
            for position, element in enumerate(proof)
        ),
        checkpoint=read_string(read_field(entry, "checkpoint", "log"), "log.checkpoint"),
        salt=salt,
    )


def read_bundle(data: object) -> BundleParts:
    # Unknown top-level, signature and log fields are ignored, as the issue promises "at
    # least" these: the statement is the signed part, and it is held to exactly its fields.
    bundle = read_mapping(data, "the bundle")
    statement = read_mapping(read_field(bundle, "statement", "the bundle"), "statement")
    signature = read_mapping(read_field(bundle, "signature", "the bundle"), "signature")
    return BundleParts(
        format=read_string(read_field(bundle, "format", "the bundle"), "format"),
        statement=statement,
        fields=read_statement(statement),
        alg=read_string(read_field(signature, "alg", "signature"), "signature.alg"),
        key_id=read_string(read_field(signature, "key_id", "signature"), "signature.key_id"),
        signature=read_string(read_field(signature, "value", "signature"), "signature.value"),
        minisig=read_string(read_field(bundle, "minisig", "the bundle"), "minisig"),
        log=read_log(read_field(bundle, "log", "the bundle")),
    )


def read_mapping(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise MalformedBundle(f"{where} is not a JSON object")
    if not all(isinstance(name, str) for name in value):
        raise MalformedBundle(f"{where} has a field name that is not a string")
    return value


def read_field(value: Mapping[str, Any], name: str, where: str) -> object:
    if name not in value:
        raise MalformedBundle(f"{where} has no field {name}")
    return value[name]


def read_list(value: object, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise MalformedBundle(f"{where} is not a JSON array")
    return value


def read_string(value: object, where: str, *, nonempty: bool = False) -> str:
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


def read_integer(value: object, where: str, *, minimum: int) -> int:
    # bool is an int subclass in Python; JSON true is not a number. Every number is held
    # to a range: one past 2**63 once reached the database and the proofs unchecked.
    if isinstance(value, bool) or not isinstance(value, int):
        raise MalformedBundle(f"{where} is not an integer")
    if not minimum <= value <= _MAX_JSON_INT:
        raise MalformedBundle(f"{where} is not an integer from {minimum} to {_MAX_JSON_INT}")
    return value


def read_iso_date(value: object, where: str) -> date:
    text = read_string(value, where)
    # The pattern first: date.fromisoformat also takes "20240501" and other ISO forms.
    if not _ISO_DATE.fullmatch(text):
        raise MalformedBundle(f"{where} is not a YYYY-MM-DD date")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise MalformedBundle(f"{where} is not a calendar date") from None


def read_hex_sha256(value: object, where: str) -> str:
    text = read_string(value, where)
    if not _HEX_SHA256.fullmatch(text):
        raise MalformedBundle(f"{where} is not 64 lowercase hex digits")
    return text


def show(value: object) -> str:
    """Return a short, escaped rendering of untrusted text, safe to print on a terminal."""
    text = repr(value)
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 3] + "..."
