"""The OpenAPI 3.1 description of the public API, served at /api/v1/openapi.json.

It describes what the views in statements/publishing/public.py answer, field for field:
every object schema lists exactly the fields the code writes (`additionalProperties:
false`, every field required), so a response that drifts from this document fails the
tests in tests/statements/publishing/test_openapi.py. The API's own answers (the list,
a statement, its versions) are derived from the TypedDicts the views build, in
statements/publishing/api_shapes.py. The shapes of the signed formats (the bundle, the
statement, the keys file, key rotations) follow crypto/bundle_format.py.

Built by a function rather than kept as a JSON file because the `servers` entry is the
site's own root, known only per request.
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

OPENAPI_VERSION = "3.1.0"
API_VERSION = "1.0.0"

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
_MINISIG = (
    r"^untrusted comment: [^\n]*\n[A-Za-z0-9+/]{99}=\n"
    r"trusted comment: [^\n]*\n[A-Za-z0-9+/]{86}==\n$"
)
# A C2SP checkpoint (origin, tree size, base64 root hash) then its signature lines.
_CHECKPOINT = "^[^\\n]+\\n[0-9]+\\n[A-Za-z0-9+/]{43}=\\n\\n(?:\u2014 [^\\n]+\\n)+$"

_REF = "#/components/schemas/"

DESCRIPTION = """\
Every published joint statement, signed and verifiable without trusting this server.

**Signatures.** Each published version is a *bundle* (format `joint-statement-bundle/1`,
or `joint-statement-bundle/2` when its statement carries either optional group: for a
statement published in several languages at once, the `authoritative_language` and the
`family` of every language's slug (each language is a bundle of its own); for a correction
or retraction, its public `reason` and the `changes` from the version before).
Its `signature` is an Ed25519 signature over the RFC 8785 (JSON Canonicalization Scheme)
canonical JSON of its `statement` object; `minisig` is a minisign signature over the UTF-8
Markdown body, for the standard `minisign` tool. The keys are listed at
`/.well-known/statement-keys.json`.

**The log.** Every publication and key rotation is a leaf of an append-only Merkle tree
hashed as RFC 9162 (Certificate Transparency v2) specifies: SHA-256, leaf hash
`SHA-256(0x00 || leaf)`, node hash `SHA-256(0x01 || left || right)`. A leaf is the RFC 8785
canonical JSON of a statement or a key rotation. Hashes are standard base64 (with padding).
Tree heads are C2SP tlog-checkpoint signed notes (c2sp.org/tlog-checkpoint,
c2sp.org/signed-note), signed by the same Ed25519 key under its `note_key_name`.

**Caching.** Successful answers carry an `ETag` and a `Cache-Control` header; a GET with
`If-None-Match` holding the current ETag is answered `304 Not Modified` with no body.
Published versions, proofs and old checkpoints never change and are cached as immutable.

**Errors.** An unknown statement or version is answered `404` with an HTML error page;
a log position, size or range that does not exist (or a malformed query parameter) is
answered `404` with the JSON `Error` object.
"""


def _ref(name: str) -> dict[str, Any]:
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
    return {"type": "array", "description": description, "items": _ref("Hash")}


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
        schema: dict[str, Any] = _ref(described.ref)
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
        items = _ref(item.__name__) if item in COMPONENTS else shape_schema(item)
        return {"type": "array", "items": items}
    raise TypeError(f"no schema for {hint!r}")


def _schemas() -> dict[str, Any]:
    log_fields = {
        "origin": _string("The log's origin line (also the note key name).", minLength=1),
        "index": _integer("The leaf's position in the log, from 0."),
        "tree_size": _integer("The size of the tree the proof and checkpoint are for.", 1),
        "inclusion_proof": _hash_list(
            "The RFC 9162 inclusion proof of the leaf in the tree of tree_size."
        ),
        "checkpoint": _string(
            "The C2SP tlog-checkpoint signed note of the log at tree_size.",
            pattern=_CHECKPOINT,
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
                "items": _ref("Signatory"),
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
                "items": _ref("Signatory"),
            },
            "signatories_removed": {
                "type": "array",
                "description": "Signatories this version removes, named.",
                "items": _ref("Signatory"),
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
            "oneOf": [_ref("StatementV1"), _ref("StatementV2")],
        },
        "StatementV1": statement,
        "StatementV2": statement_v2,
        "BundleSignature": signature,
        "BundleLog": {
            "description": "The statement's place in the public log: an RFC 9162 inclusion "
            "proof of its leaf up to a checkpoint signed by the same key. For a statement "
            "released after an embargo the leaf is the commitment made when it was scheduled "
            "(`Commitment`), and `commitment_salt` opens it.",
            "oneOf": [_ref("BundleLogStatement"), _ref("BundleLogCommitment")],
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
                "statement": _ref("Statement"),
                "signature": _ref("BundleSignature"),
                "minisig": _string(
                    "The minisign signature of body_markdown, as statement.md.minisig "
                    'serves it; its trusted comment is "joint statement <slug> version <n>".',
                    pattern=_MINISIG,
                ),
                "log": _ref("BundleLog"),
            },
        ),
        # The API's own answers, from the TypedDicts the views build.
        **{shape.__name__: shape_schema(shape) for shape in COMPONENTS},
        "Key": key,
        "KeysDocument": _object(
            "statement-keys.json: every signing key ever used, oldest first, the one in use last.",
            {"keys": {"type": "array", "items": _ref("Key")}},
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
                        "key": _ref("Key"),
                        "rotated_on": _date("The day of the rotation."),
                    },
                ),
                "signatures": {
                    "type": "array",
                    "description": "The old key's signature, then the new key's.",
                    "items": _ref("BundleSignature"),
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
                _ref("Statement"),
                _ref("KeyRotation"),
                _ref("Commitment"),
                _ref("Withdrawal"),
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


def _components() -> dict[str, Any]:
    return {
        "schemas": _schemas(),
        "headers": {
            "ETag": {
                "description": "The answer's entity tag; send it back as If-None-Match.",
                "schema": {"type": "string"},
            },
            "Cache-Control": {
                "description": "`public, max-age=60`, or `public, max-age=31536000, "
                "immutable` for what never changes (published versions, proofs, old "
                "checkpoints, log entries).",
                "schema": {"type": "string"},
            },
        },
        "parameters": {
            "IfNoneMatch": {
                "name": "If-None-Match",
                "in": "header",
                "required": False,
                "description": "An ETag from an earlier answer: 304 when it is still current.",
                "schema": {"type": "string"},
            },
            "Slug": {
                "name": "slug",
                "in": "path",
                "required": True,
                "description": "The statement's address.",
                "schema": {"type": "string", "pattern": _SLUG, "maxLength": 80},
            },
            "Number": {
                "name": "number",
                "in": "path",
                "required": True,
                "description": "The version number, from 1.",
                "schema": {"type": "integer", "minimum": 1},
            },
        },
        "responses": {
            "NotModified": {
                "description": "The reader's copy (If-None-Match) is current: no body.",
                "headers": _cache_headers(),
            },
            "StatementNotFound": {
                "description": "No such statement or version: an HTML error page.",
                "content": {"text/html": {"schema": {"type": "string"}}},
            },
            "JsonNotFound": {
                "description": "No such statement or version.",
                "content": {"application/json": {"schema": _ref("Error")}},
            },
            "LogNotFound": {
                "description": "No such log position, size or range.",
                "content": {"application/json": {"schema": _ref("Error")}},
            },
            "BadQuery": {
                "description": "A query parameter is missing or not a whole number.",
                "content": {"application/json": {"schema": _ref("Error")}},
            },
        },
    }


def _cache_headers() -> dict[str, Any]:
    return {
        "ETag": {"$ref": "#/components/headers/ETag"},
        "Cache-Control": {"$ref": "#/components/headers/Cache-Control"},
    }


def _get(
    *,
    operation_id: str,
    tag: str,
    summary: str,
    description: str,
    media_type: str,
    schema: dict[str, Any],
    parameters: list[dict[str, Any]] | None = None,
    not_found: str | None = None,
    bad_request: str | None = None,
) -> dict[str, Any]:
    """A cacheable GET: 200 with ETag and Cache-Control, 304, and optionally a 404 and 400."""
    responses: dict[str, Any] = {
        "200": {
            "description": "OK.",
            "headers": _cache_headers(),
            "content": {media_type: {"schema": schema}},
        },
        "304": {"$ref": "#/components/responses/NotModified"},
    }
    if not_found is not None:
        responses["404"] = {"$ref": f"#/components/responses/{not_found}"}
    if bad_request is not None:
        responses["400"] = {"$ref": f"#/components/responses/{bad_request}"}
    return {
        "get": {
            "operationId": operation_id,
            "tags": [tag],
            "summary": summary,
            "description": description,
            "parameters": [
                *(parameters or []),
                {"$ref": "#/components/parameters/IfNoneMatch"},
            ],
            "responses": responses,
        }
    }


def _param(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/parameters/{name}"}


def _count(name: str, where: str, description: str, minimum: int) -> dict[str, Any]:
    return {
        "name": name,
        "in": where,
        "required": True,
        "description": description,
        "schema": {"type": "integer", "minimum": minimum, "maximum": 999_999_999_999},
    }


def _text() -> dict[str, Any]:
    return {"type": "string"}


def _version() -> list[dict[str, Any]]:
    return [_param("Slug"), _param("Number")]


def _paths() -> dict[str, Any]:
    return {
        "/api/v1/statements": _get(
            operation_id="listStatements",
            tag="statements",
            summary="List every published statement",
            description="Every published statement, most recently updated first.",
            media_type="application/json",
            schema=_ref("StatementList"),
        ),
        "/api/v1/statements/{slug}": _get(
            operation_id="getStatement",
            tag="statements",
            summary="Get one statement",
            description="The statement's latest signed text and the files of every version. "
            "An unknown slug is answered 404 with a JSON error.",
            media_type="application/json",
            schema=_ref("StatementDetail"),
            parameters=[_param("Slug")],
            not_found="JsonNotFound",
        ),
        "/api/v1/openapi.json": _get(
            operation_id="getOpenApi",
            tag="meta",
            summary="This document",
            description="The OpenAPI 3.1 description of the public API.",
            media_type="application/json",
            schema={"type": "object"},
        ),
        "/statements/{slug}": _get(
            operation_id="statementPage",
            tag="pages",
            summary="A statement's page",
            description="The latest version of a statement, its history and how to verify it.",
            media_type="text/html",
            schema=_text(),
            parameters=[_param("Slug")],
            not_found="StatementNotFound",
        ),
        "/statements/{slug}/v/{number}": _get(
            operation_id="statementVersionPage",
            tag="pages",
            summary="One version's page",
            description="One version of a statement, as a web page.",
            media_type="text/html",
            schema=_text(),
            parameters=_version(),
            not_found="StatementNotFound",
        ),
        "/statements/{slug}/v/{number}/bundle.json": _get(
            operation_id="getBundle",
            tag="files",
            summary="A version's signed bundle",
            description="The bundle, byte for byte as published: RFC 8785 canonical JSON. "
            "Its `signature` is Ed25519 over the RFC 8785 canonical JSON of its `statement`; "
            "its `log` proves the statement's inclusion (RFC 9162) in a C2SP checkpoint. "
            "Immutable.",
            media_type="application/json",
            schema=_ref("Bundle"),
            parameters=_version(),
            not_found="JsonNotFound",
        ),
        "/statements/{slug}/v/{number}/statement.md": _get(
            operation_id="getMarkdown",
            tag="files",
            summary="A version's Markdown body",
            description="The body, UTF-8: exactly the bytes the minisign signature covers "
            "and whose SHA-256 is the statement's body_sha256. Immutable.",
            media_type="text/markdown",
            schema=_text(),
            parameters=_version(),
            not_found="StatementNotFound",
        ),
        "/statements/{slug}/v/{number}/statement.md.minisig": _get(
            operation_id="getMinisig",
            tag="files",
            summary="The minisign signature of statement.md",
            description="Check with `minisign -V -P <minisign_public_key> -m statement.md`. "
            "Immutable.",
            media_type="text/plain",
            schema={"type": "string", "pattern": _MINISIG},
            parameters=_version(),
            not_found="StatementNotFound",
        ),
        "/statements/{slug}/v/{number}/statement.pdf": _get(
            operation_id="getPdf",
            tag="files",
            summary="A version as PDF",
            description="The version as a PDF for printing and sharing (not signed itself: "
            "verify the bundle). Immutable; its ETag is `pdf-<bundle_sha256>`.",
            media_type="application/pdf",
            schema={"type": "string", "contentMediaType": "application/pdf"},
            parameters=_version(),
            not_found="StatementNotFound",
        ),
        "/statements/{slug}/v/{number}/card.png": _get(
            operation_id="getCard",
            tag="files",
            summary="A version's card image",
            description="A 1200 x 630 PNG of the title and the network's name, for link "
            "previews (the page's og:image). The same bytes for the same version. Immutable.",
            media_type="image/png",
            schema={"type": "string", "contentMediaType": "image/png"},
            parameters=_version(),
            not_found="StatementNotFound",
        ),
        "/statements/{slug}/embed": _get(
            operation_id="statementEmbed",
            tag="pages",
            summary="A statement in brief, to frame",
            description="The latest version's title, first paragraph and signatory count, "
            "with a link to the statement: the one page other sites may show in an iframe.",
            media_type="text/html",
            schema=_text(),
            parameters=[_param("Slug")],
            not_found="StatementNotFound",
        ),
        "/statements/{slug}/v/{number}/letterhead.pdf": _get(
            operation_id="getLetterheadPdf",
            tag="files",
            summary="A version as PDF on the network's letterhead",
            description="The PDF with the site's letterhead: the network's name and logo, "
            "a dateline, its press contact and a QR code of the version's page (not signed "
            "itself: verify the bundle, whose SHA-256 it prints). 404 where the site has no "
            "letterhead. Immutable; its ETag is `letterhead-<bundle_sha256>-<letterhead>`.",
            media_type="application/pdf",
            schema={"type": "string", "contentMediaType": "application/pdf"},
            parameters=_version(),
            not_found="StatementNotFound",
        ),
        "/statements/{slug}/v/{number}/statement.docx": _get(
            operation_id="getDocx",
            tag="files",
            summary="A version as a Word document",
            description="The version as a Word document (.docx), to quote from and share "
            "(not signed itself: verify the bundle, whose SHA-256 it prints). The same bytes "
            "for the same version. Immutable; its ETag is `docx-<bundle_sha256>`.",
            media_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            schema={
                "type": "string",
                "contentMediaType": "application/vnd.openxmlformats-officedocument"
                ".wordprocessingml.document",
            },
            parameters=_version(),
            not_found="StatementNotFound",
        ),
        "/.well-known/statement-keys.json": _get(
            operation_id="getKeys",
            tag="keys",
            summary="Every signing key ever used",
            description="The Ed25519 keys that sign bundles, minisig files and checkpoints, "
            "with the days each was valid, ordered by valid_from.",
            media_type="application/json",
            schema=_ref("KeysDocument"),
        ),
        "/log/checkpoint": _get(
            operation_id="getCheckpoint",
            tag="log",
            summary="The latest checkpoint",
            description="The log's latest tree head as a C2SP tlog-checkpoint signed note: "
            "origin, tree size and base64 SHA-256 root hash (RFC 9162), then an Ed25519 "
            "signature line. 404 while the log is empty.",
            media_type="text/plain",
            schema={"type": "string", "pattern": _CHECKPOINT},
            not_found="LogNotFound",
        ),
        "/log/checkpoints/{size}": _get(
            operation_id="getCheckpointAt",
            tag="log",
            summary="The checkpoint at an earlier size",
            description="The C2SP signed checkpoint of the log when it had `size` entries. "
            "Immutable.",
            media_type="text/plain",
            schema={"type": "string", "pattern": _CHECKPOINT},
            parameters=[_count("size", "path", "The tree size, from 1.", 1)],
            not_found="LogNotFound",
        ),
        "/log/entries/{position}": _get(
            operation_id="getLogEntry",
            tag="log",
            summary="One log leaf",
            description="The leaf's canonical bytes (RFC 8785 JSON): a statement, a key "
            "rotation, the commitment to a statement scheduled for later, or the withdrawal "
            "of one. Its RFC 9162 leaf hash is SHA-256(0x00 || these bytes). Immutable.",
            media_type="application/json",
            schema=_ref("LogEntry"),
            parameters=[_count("position", "path", "The leaf's position, from 0.", 0)],
            not_found="LogNotFound",
        ),
        "/log/entries/{position}/bundle.json": _get(
            operation_id="getLogEntryBundle",
            tag="log",
            summary="The bundle of a log entry",
            description="The bundle of the published version whose entry this is: for a "
            "statement, its own; for a commitment, the bundle of the statement released since, "
            "whose `log.commitment_salt` opens it. 404 for a key rotation, a withdrawal, or a "
            "commitment whose statement is not yet released. Immutable once there.",
            media_type="application/json",
            schema=_ref("Bundle"),
            parameters=[_count("position", "path", "The leaf's position, from 0.", 0)],
            not_found="LogNotFound",
        ),
        "/log/proof/inclusion": _get(
            operation_id="getInclusionProof",
            tag="log",
            summary="An inclusion proof",
            description="The RFC 9162 inclusion proof of the leaf at `index` in the tree "
            "of `size` (0 <= index < size <= log size). Immutable.",
            media_type="application/json",
            schema=_ref("InclusionProof"),
            parameters=[
                _count("index", "query", "The leaf's position, from 0.", 0),
                _count("size", "query", "The tree size.", 1),
            ],
            not_found="LogNotFound",
            bad_request="BadQuery",
        ),
        "/log/proof/consistency": _get(
            operation_id="getConsistencyProof",
            tag="log",
            summary="A consistency proof",
            description="The RFC 9162 consistency proof from the tree of size `first` to "
            "the tree of size `second` (0 < first <= second <= log size). Immutable.",
            media_type="application/json",
            schema=_ref("ConsistencyProof"),
            parameters=[
                _count("first", "query", "The older tree size.", 1),
                _count("second", "query", "The newer tree size.", 1),
            ],
            not_found="LogNotFound",
            bad_request="BadQuery",
        ),
        "/feed.atom": _get(
            operation_id="getFeed",
            tag="feed",
            summary="The Atom feed",
            description="Every publication, correction and retraction, newest first "
            "(RFC 4287 Atom).",
            media_type="application/atom+xml",
            schema=_text(),
        ),
    }


def document(server_url: str) -> dict[str, Any]:
    """Return the OpenAPI 3.1 description of the public API, served at /api/v1/openapi.json."""
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Joint statements: public API",
            "version": API_VERSION,
            "summary": "Published joint statements, their signed bundles, keys and log.",
            "description": DESCRIPTION,
        },
        "servers": [{"url": server_url, "description": "This site."}],
        "tags": [
            {"name": "statements", "description": "Published statements, as JSON."},
            {"name": "pages", "description": "Published statements, as web pages."},
            {"name": "files", "description": "The files of one published version."},
            {"name": "keys", "description": "The signing keys."},
            {"name": "log", "description": "The public append-only log (RFC 9162, C2SP)."},
            {"name": "feed", "description": "What was published, as a feed."},
            {"name": "meta", "description": "This description."},
        ],
        "paths": _paths(),
        "components": _components(),
    }
