"""The schemas of the OpenAPI document (statements/publishing/openapi.py): the API's own
answers, derived from the TypedDicts in api_shapes.py, and the signed formats (bundles,
statements, keys, log entries), which follow crypto/bundle_format.py and crypto/reveal.py.

Every object schema is closed (`additionalProperties: false`, every field required), so a
response that drifts from it fails tests/statements/publishing/test_openapi.py.
"""

from __future__ import annotations

import inspect
from types import NoneType, UnionType
from typing import Annotated, Any, get_args, get_origin, get_type_hints

from crypto.bundle_format import (
    BUNDLE_FORMAT,
    BUNDLE_FORMAT_V1,
    BUNDLE_FORMATS,
    ROTATION_FORMAT,
    SIGNATURE_ALG,
    STATUSES,
)
from crypto.reveal import COMMITMENT_FORMAT, WITHDRAWAL_FORMAT
from statements.publishing.api_shapes import (
    COMPONENTS,
    DATE_PATTERN,
    HEX_SHA256_PATTERN,
    SLUG_PATTERN,
    Doc,
)

_MAX_JSON_INT = 2**53 - 1
_SLUG = SLUG_PATTERN
_DATE = DATE_PATTERN
_HEX_SHA256 = HEX_SHA256_PATTERN
# base64 of 32 bytes: 43 characters and one "=".
_SALT = r"^[A-Za-z0-9+/]{43}=$"
_KEY_ID = r"^[0-9a-f]{16}$"
# Standard base64 with padding, of exactly 32, 42, 33 and 64 bytes.
_B64_32 = r"^[A-Za-z0-9+/]{43}=$"
_B64_42 = r"^[A-Za-z0-9+/]{56}$"
_B64_64 = r"^[A-Za-z0-9+/]{86}==$"
_NOTE_VERIFIER_KEY = r"^[^+\s]+\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}$"
# minisign's four lines: untrusted comment, signature (74 bytes), trusted comment,
# global signature (64 bytes).
MINISIG_PATTERN = (
    r"^untrusted comment: [^\n]*\n[A-Za-z0-9+/]{99}=\n"
    r"trusted comment: [^\n]*\n[A-Za-z0-9+/]{86}==\n$"
)
# A C2SP checkpoint (origin, tree size, base64 root hash) then its signature lines.
CHECKPOINT_PATTERN = "^[^\\n]+\\n[0-9]+\\n[A-Za-z0-9+/]{43}=\\n\\n(?:\u2014 [^\\n]+\\n)+$"

_REF = "#/components/schemas/"


def ref(name: str) -> dict[str, Any]:
    return {"$ref": _REF + name}


def _object(description: str, properties: dict[str, Any]) -> dict[str, Any]:
    """A closed object: exactly these properties, all of them required."""
    return {
        "type": "object",
        "description": description,
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def _string(description: str, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "description": description, **extra}


def _integer(description: str, minimum: int = 0) -> dict[str, Any]:
    return {
        "type": "integer",
        "description": description,
        "minimum": minimum,
        "maximum": _MAX_JSON_INT,
    }


def _date(description: str) -> dict[str, Any]:
    return _string(description, format="date", pattern=_DATE)


def _url(description: str) -> dict[str, Any]:
    return _string(description, format="uri")


def _hash_list(description: str) -> dict[str, Any]:
    return {"type": "array", "description": description, "items": ref("Hash")}


def _status() -> dict[str, Any]:
    return _string(
        "`published` for version 1, `corrected` for a correction, `retracted` for a "
        "retraction notice.",
        enum=list(STATUSES),
    )


def _bundle(description: str, properties: dict[str, Any]) -> dict[str, Any]:
    """The bundle object: format 2 exactly when its statement names a family, or gives a
    reason and its changes."""
    schema = _object(description, properties)
    schema["if"] = {
        "properties": {
            "statement": {
                "anyOf": [
                    {"required": ["authoritative_language"]},
                    {"required": ["reason"]},
                    {"required": ["anonymous_commitments"]},
                ]
            }
        },
    }
    schema["then"] = {"properties": {"format": {"const": BUNDLE_FORMAT}}}
    schema["else"] = {"properties": {"format": {"const": BUNDLE_FORMAT_V1}}}
    return schema


def shape_schema(shape: type) -> dict[str, Any]:
    """The closed object schema of one of api_shapes.py's TypedDicts, from its fields."""
    hints = get_type_hints(shape, include_extras=True)
    return _object(
        inspect.getdoc(shape) or "", {name: _field_schema(hint) for name, hint in hints.items()}
    )


def _field_schema(hint: Any) -> dict[str, Any]:
    described: Doc | None = None
    if get_origin(hint) is Annotated:
        hint, *extras = get_args(hint)
        described = next((extra for extra in extras if isinstance(extra, Doc)), None)
    if described is not None and described.ref is not None:
        schema: dict[str, Any] = ref(described.ref)
    else:
        schema = _type_schema(hint)
    if described is not None:
        schema = {**schema, "description": described.description, **described.keywords}
    return schema


def _type_schema(hint: Any) -> dict[str, Any]:
    args = get_args(hint)
    if get_origin(hint) is UnionType and NoneType in args:
        (inner,) = (arg for arg in args if arg is not NoneType)
        schema = _type_schema(inner)
        return {**schema, "type": [schema["type"], "null"]}
    if hint is str:
        return {"type": "string"}
    if hint is int:
        return {"type": "integer", "minimum": 0, "maximum": _MAX_JSON_INT}
    if get_origin(hint) is list:
        (item,) = args
        items = ref(item.__name__) if item in COMPONENTS else shape_schema(item)
        return {"type": "array", "items": items}
    raise TypeError(f"no schema for {hint!r}")


def schemas() -> dict[str, Any]:
    log_fields = {
        "origin": _string("The log's origin line (also the note key name).", minLength=1),
        "index": _integer("The leaf's position in the log, from 0."),
        "tree_size": _integer("The size of the tree the proof and checkpoint are for.", 1),
        "inclusion_proof": _hash_list(
            "The RFC 9162 inclusion proof of the leaf in the tree of tree_size."
        ),
        "checkpoint": _string(
            "The C2SP tlog-checkpoint signed note of the log at tree_size.",
            pattern=CHECKPOINT_PATTERN,
        ),
    }
    statement = _object(
        "The signed statement: exactly these fields. Its RFC 8785 canonical JSON is what "
        "the Ed25519 signature covers and what the log holds as a leaf.",
        {
            "slug": _string("The statement's address.", pattern=_SLUG, maxLength=80),
            "title": _string("The title.", minLength=1),
            "language": _string("The language of the text (a language tag).", minLength=1),
            "version": _integer("The version number, from 1.", minimum=1),
            "status": _status(),
            "published_on": _date("The day this version was published (YYYY-MM-DD)."),
            "body_markdown": _string(
                "The text, in Markdown: exactly the bytes statement.md serves and minisig covers."
            ),
            "body_sha256": _string(
                "Hex SHA-256 of the UTF-8 bytes of body_markdown.", pattern=_HEX_SHA256
            ),
            "previous_bundle_sha256": {
                "type": ["string", "null"],
                "description": "Hex SHA-256 of the RFC 8785 canonical JSON of the previous "
                "version's bundle; null for version 1 and only then.",
                "pattern": _HEX_SHA256,
            },
            "signatories": {
                "type": "array",
                "description": "The organisations that signed publicly, alphabetical.",
                "items": ref("Signatory"),
            },
            "anonymous_signatories": _integer(
                "How many organisations signed but cannot be named for their safety."
            ),
        },
    )
    # Format 2: a correction or retraction also signs its public reason and what changed.
    statement["properties"]["reason"] = _string(
        "Format 2: the public reason for this correction or retraction.", minLength=1
    )
    statement["properties"]["changes"] = _object(
        "Format 2: what changed from the previous version (crypto/changes.py). Signatories "
        "removed at their own request for their safety are counted, never named.",
        {
            "previous_version": _integer("The version this one follows.", minimum=1),
            "signatories_added": {
                "type": "array",
                "description": "Signatories this version adds.",
                "items": ref("Signatory"),
            },
            "signatories_removed": {
                "type": "array",
                "description": "Signatories this version removes, named.",
                "items": ref("Signatory"),
            },
            "removed_for_safety": _integer(
                "How many signatories were removed at their request, for their safety."
            ),
            "anonymous_before": _integer("The previous version's anonymous count."),
        },
    )
    # Format 2: the anonymous endorsements' commitments (crypto/commitments.py), a group.
    commitment_group = {
        "anonymous_commitments": {
            "type": "array",
            "description": "Format 2: each anonymous endorsement's commitment (hex SHA-256 "
            "of a secret only its endorser keeps), sorted, each once; as many as "
            "anonymous_signatories.",
            "items": _string("A commitment.", pattern=_HEX_SHA256),
        },
        "anonymous_commitments_root": _string(
            "Format 2: the RFC 9162 Merkle tree hash of the sorted commitments (each leaf "
            "the commitment's 32 bytes).",
            pattern=_HEX_SHA256,
        ),
        "anonymous_by_letter": {
            "type": "array",
            "description": "Format 2: the commitments a coordinator generated for anonymous "
            "endorsements received by letter, sorted.",
            "items": _string("A commitment.", pattern=_HEX_SHA256),
        },
        "anonymous_removed": {
            "type": "array",
            "description": "Format 2: the commitments this version removed, with reasons.",
            "items": _object(
                "A removed commitment.",
                {
                    "commitment": _string("The commitment.", pattern=_HEX_SHA256),
                    "reason": _string("The public reason.", minLength=1),
                },
            ),
        },
    }
    statement["properties"].update(commitment_group)
    statement["dependentRequired"] = {
        "reason": ["changes"],
        "changes": ["reason"],
        **{
            name: [other for other in commitment_group if other != name]
            for name in commitment_group
        },
    }
    # Version 1 starts the chain; every later version links to the one before.
    statement["if"] = {"properties": {"version": {"const": 1}}}
    statement["then"] = {"properties": {"previous_bundle_sha256": {"type": "null"}}}
    statement["else"] = {"properties": {"previous_bundle_sha256": {"type": "string"}}}
    # Format 2: the same, and the family it was published in.
    statement_v2 = {
        **statement,
        "description": "The signed statement of a format-2 bundle: a statement published in "
        "several languages at once. Exactly the fields of a format-1 statement, and the "
        "authoritative language and the family.",
        "properties": {
            **statement["properties"],
            "authoritative_language": _string(
                "The language whose text prevails in case of difference.", minLength=1
            ),
            "family": {
                "type": "array",
                "description": "Every language the statement was published in, with its "
                "slug, this one among them.",
                "minItems": 2,
                "items": _object(
                    "One language of the family.",
                    {
                        "language": _string("The language.", minLength=1),
                        "slug": _string("Its statement's address.", pattern=_SLUG, maxLength=80),
                    },
                ),
            },
        },
    }
    # The reason and changes of a correction stay optional, as a group, in both.
    statement_v2["required"] = [
        name
        for name in statement_v2["properties"]
        if name not in ("reason", "changes", *commitment_group)
    ]

    key = _object(
        "One signing key, in the encodings each verifier needs; all derive from public_key.",
        {
            "key_id": _string(
                "The key's id: the first 16 hex digits of SHA-256 of "
                '"statements/key-id/v1" followed by the public key.',
                pattern=_KEY_ID,
            ),
            "public_key": _string("The raw Ed25519 public key, base64.", pattern=_B64_32),
            "minisign_public_key": _string(
                "The key as minisign reads it (the second line of a .pub file).",
                pattern=_B64_42,
            ),
            "note_key_name": _string(
                "The name checkpoints are signed under: the log's origin.", minLength=1
            ),
            "note_verifier_key": _string(
                "The signed-note verifier key `<name>+<key id hex>+<base64(0x01 || key)>`.",
                pattern=_NOTE_VERIFIER_KEY,
            ),
            "valid_from": _date("The first day the key signs (YYYY-MM-DD)."),
            "valid_until": {
                "type": ["string", "null"],
                "description": "The last day the key signed, or null while it is in use.",
                "format": "date",
                "pattern": _DATE,
            },
        },
    )

    signature = _object(
        "The Ed25519 signature over the RFC 8785 canonical JSON of the bundle's statement.",
        {
            "alg": _string("The signature algorithm.", const=SIGNATURE_ALG),
            "key_id": _string("The id of the signing key in statement-keys.json.", pattern=_KEY_ID),
            "value": _string("The 64-byte Ed25519 signature, base64.", pattern=_B64_64),
        },
    )

    return {
        "Hash": _string("A SHA-256 hash (RFC 9162 tree node), standard base64.", pattern=_B64_32),
        "Signatory": _object(
            "An organisation that signed publicly.",
            {
                "name": _string("The organisation's name.", minLength=1),
                "country": {
                    "type": ["string", "null"],
                    "description": "Its country; empty (or null) when not given.",
                },
            },
        ),
        "Statement": {
            "description": "The signed statement: a format-1 statement, or a format-2 one that "
            "also names its family. Its RFC 8785 canonical JSON is what the Ed25519 signature "
            "covers and what the log holds as a leaf.",
            "oneOf": [ref("StatementV1"), ref("StatementV2")],
        },
        "StatementV1": statement,
        "StatementV2": statement_v2,
        "BundleSignature": signature,
        "BundleLog": {
            "description": "The statement's place in the public log: an RFC 9162 inclusion "
            "proof of its leaf up to a checkpoint signed by the same key. For a statement "
            "released after an embargo the leaf is the commitment made when it was scheduled "
            "(`Commitment`), and `commitment_salt` opens it.",
            "oneOf": [ref("BundleLogStatement"), ref("BundleLogCommitment")],
        },
        "BundleLogStatement": _object("The log leaf is the statement itself.", log_fields),
        "BundleLogCommitment": _object(
            "The log leaf is the commitment to the statement, made when it was scheduled.",
            {
                **log_fields,
                "commitment_salt": _string(
                    "Base64 of the 32-byte salt of the commitment at index.", pattern=_SALT
                ),
            },
        ),
        "Bundle": _bundle(
            f"One published version with everything needed to verify it offline (format "
            f"`{BUNDLE_FORMAT_V1}`, or `{BUNDLE_FORMAT}` when its statement names a family or "
            f"gives a reason and its changes). Served as RFC 8785 canonical JSON, byte for byte "
            f"as published. This server writes exactly these fields; verifiers ignore unknown "
            f"fields outside `statement`, which is held to exactly its fields.",
            {
                "format": _string("The bundle format.", enum=list(BUNDLE_FORMATS)),
                "statement": ref("Statement"),
                "signature": ref("BundleSignature"),
                "minisig": _string(
                    "The minisign signature of body_markdown, as statement.md.minisig "
                    'serves it; its trusted comment is "joint statement <slug> version <n>".',
                    pattern=MINISIG_PATTERN,
                ),
                "log": ref("BundleLog"),
            },
        ),
        # The API's own answers, from the TypedDicts the views build.
        **{shape.__name__: shape_schema(shape) for shape in COMPONENTS},
        "Key": key,
        "KeysDocument": _object(
            "statement-keys.json: every signing key ever used, oldest first, the one in use last.",
            {"keys": {"type": "array", "items": ref("Key")}},
        ),
        "KeyRotation": _object(
            f"A log entry announcing a new signing key (format `{ROTATION_FORMAT}`), signed "
            f"by the old key and by the new one over the RFC 8785 canonical JSON of "
            f"`rotation`.",
            {
                "format": _string("The entry format.", const=ROTATION_FORMAT),
                "rotation": _object(
                    "What the signatures cover.",
                    {
                        "previous_key_id": _string("The key replaced.", pattern=_KEY_ID),
                        "key": ref("Key"),
                        "rotated_on": _date("The day of the rotation."),
                    },
                ),
                "signatures": {
                    "type": "array",
                    "description": "The old key's signature, then the new key's.",
                    "items": ref("BundleSignature"),
                    "minItems": 2,
                    "maxItems": 2,
                },
            },
        ),
        "Commitment": _object(
            f"A log entry committing to a statement scheduled for release on a date (format "
            f"`{COMMITMENT_FORMAT}`): the SHA-256 of a fixed prefix, a random 32-byte salt "
            f"and the statement's RFC 8785 canonical JSON. The statement's bundle carries "
            f"the salt (`log.commitment_salt`) once it is published.",
            {
                "format": _string("The entry format.", const=COMMITMENT_FORMAT),
                "commitment": _string("The commitment, lowercase hex.", pattern=_HEX_SHA256),
            },
        ),
        "Withdrawal": _object(
            f"A log entry saying a commitment will never be opened: the statement was "
            f"called off, or moved to another time (format `{WITHDRAWAL_FORMAT}`).",
            {
                "format": _string("The entry format.", const=WITHDRAWAL_FORMAT),
                "commitment": _string(
                    "The commitment withdrawn, lowercase hex.", pattern=_HEX_SHA256
                ),
            },
        ),
        "LogEntry": {
            "description": (
                "A log leaf: a signed statement, a key rotation, the commitment to a "
                "scheduled statement, or the withdrawal of one."
            ),
            "oneOf": [
                ref("Statement"),
                ref("KeyRotation"),
                ref("Commitment"),
                ref("Withdrawal"),
            ],
        },
        "InclusionProof": _object(
            "The RFC 9162 inclusion proof of the leaf at index in the tree of tree_size.",
            {
                "index": _integer("The leaf's position, from 0."),
                "tree_size": _integer("The tree size the proof is for.", 1),
                "inclusion_proof": _hash_list("The audit path, from the leaf upwards."),
            },
        ),
        "ConsistencyProof": _object(
            "The RFC 9162 consistency proof between the tree at size first and at second.",
            {
                "first": _integer("The older tree size.", 1),
                "second": _integer("The newer tree size.", 1),
                "proof": _hash_list("The proof; empty when first equals second."),
            },
        ),
        "Error": _object(
            "Why a log request has no answer.",
            {"error": _string("What was wrong.", minLength=1)},
        ),
    }
