"""The OpenAPI 3.1 description of the public API, served at /api/v1/openapi.json.

It describes what the views in statements/publishing/public.py answer, field for field:
every object schema lists exactly the fields the code writes (`additionalProperties:
false`, every field required), so a response that drifts from this document fails the
tests in tests/statements/publishing/test_openapi.py. The schemas are in
openapi_schemas.py: the API's own answers (the list, a statement, its versions) derived
from the TypedDicts the views build (api_shapes.py), and the signed formats (the bundle,
the statement, the keys file, key rotations), which follow crypto/bundle_format.py. This
module holds the paths, parameters, responses and the document around them.

Built by a function rather than kept as a JSON file because the `servers` entry is the
site's own root, known only per request.
"""

from __future__ import annotations

from typing import Any

from statements.publishing.api_shapes import SLUG_PATTERN
from statements.publishing.openapi_schemas import CHECKPOINT_PATTERN, MINISIG_PATTERN, ref, schemas

OPENAPI_VERSION = "3.1.0"
API_VERSION = "1.0.0"

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


def _components() -> dict[str, Any]:
    return {
        "schemas": schemas(),
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
                "schema": {"type": "string", "pattern": SLUG_PATTERN, "maxLength": 80},
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
                "content": {"application/json": {"schema": ref("Error")}},
            },
            "LogNotFound": {
                "description": "No such log position, size or range.",
                "content": {"application/json": {"schema": ref("Error")}},
            },
            "BadQuery": {
                "description": "A query parameter is missing or not a whole number.",
                "content": {"application/json": {"schema": ref("Error")}},
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
            schema=ref("StatementList"),
        ),
        "/api/v1/statements/{slug}": _get(
            operation_id="getStatement",
            tag="statements",
            summary="Get one statement",
            description="The statement's latest signed text and the files of every version. "
            "An unknown slug is answered 404 with a JSON error.",
            media_type="application/json",
            schema=ref("StatementDetail"),
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
            schema=ref("Bundle"),
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
            schema={"type": "string", "pattern": MINISIG_PATTERN},
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
            schema=ref("KeysDocument"),
        ),
        "/log/checkpoint": _get(
            operation_id="getCheckpoint",
            tag="log",
            summary="The latest checkpoint",
            description="The log's latest tree head as a C2SP tlog-checkpoint signed note: "
            "origin, tree size and base64 SHA-256 root hash (RFC 9162), then an Ed25519 "
            "signature line. 404 while the log is empty.",
            media_type="text/plain",
            schema={"type": "string", "pattern": CHECKPOINT_PATTERN},
            not_found="LogNotFound",
        ),
        "/log/checkpoints/{size}": _get(
            operation_id="getCheckpointAt",
            tag="log",
            summary="The checkpoint at an earlier size",
            description="The C2SP signed checkpoint of the log when it had `size` entries. "
            "Immutable.",
            media_type="text/plain",
            schema={"type": "string", "pattern": CHECKPOINT_PATTERN},
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
            schema=ref("LogEntry"),
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
            schema=ref("Bundle"),
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
            schema=ref("InclusionProof"),
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
            schema=ref("ConsistencyProof"),
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
