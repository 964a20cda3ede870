"""The OpenAPI document: valid 3.1, covering every public route, and true to real answers."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from openapi_spec_validator import OpenAPIV31SpecValidator, validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from statements.auth.service import Identity
from statements.drafting import service as drafting
from statements.models import Role
from statements.publishing import embargo, signing_keys
from statements.publishing import service as publishing
from statements.publishing.openapi import document
from tests.support import (
    app_now,
    app_today,
    published_statement,
    scheduled_statement,
    staff_identity,
)

ROOT = "https://statements.example.org"
DOC = document(ROOT)
DOC_URI = "urn:joint-statements:openapi"
PUBLIC_PREFIXES = ("/api", "/log", "/statements", "/.well-known", "/feed")
_FLASK_VARIABLE = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
_TEMPLATE_VARIABLE = re.compile(r"\{([^{}]+)\}")


def _schema_validator(name: str) -> Draft202012Validator:
    """A validator of one components/schemas entry, its $refs resolved in the document."""
    registry: Registry[Any] = Registry().with_resource(
        DOC_URI, Resource.from_contents(DOC, default_specification=DRAFT202012)
    )
    return Draft202012Validator(
        {"$ref": f"{DOC_URI}#/components/schemas/{name}"},
        registry=registry,
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def _resolve(item: dict[str, Any]) -> dict[str, Any]:
    """A parameter, response or schema with its local $ref followed."""
    while "$ref" in item and len(item) == 1:
        node: Any = DOC
        for part in item["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        item = node
    return item


def _ok_schema(path: str, media_type: str) -> dict[str, Any]:
    """The documented 200 schema of a path for a media type."""
    response = _resolve(DOC["paths"][path]["get"]["responses"]["200"])
    schema: dict[str, Any] = response["content"][media_type]["schema"]
    return schema


def _check(
    response: TestResponse, path: str, media_type: str, schema_name: str | None = None
) -> None:
    """A 200 of the documented media type whose body fits the documented schema."""
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == media_type
    assert media_type in DOC["paths"][path]["get"]["responses"]["200"]["content"]
    assert response.headers.get("ETag")
    assert response.headers.get("Cache-Control", "").startswith("public")
    schema = _ok_schema(path, media_type)
    if schema_name is not None:
        assert schema == {"$ref": f"#/components/schemas/{schema_name}"}
        _schema_validator(schema_name).validate(json.loads(response.get_data()))
    else:
        Draft202012Validator(schema).validate(response.get_data(as_text=True))


# --- the document itself -------------------------------------------------------------


def test_document_is_valid_openapi_31() -> None:
    assert DOC["openapi"].startswith("3.1.")
    validate(DOC, cls=OpenAPIV31SpecValidator)
    assert DOC["servers"] == [{"url": ROOT, "description": "This site."}]


def test_every_schema_is_valid_json_schema_and_closed() -> None:
    for name, schema in DOC["components"]["schemas"].items():
        Draft202012Validator.check_schema(schema)
        if schema.get("type") == "object":
            assert schema["additionalProperties"] is False, name
            # Optional only as a group that must come together (format 2's fields).
            optional = set(schema.get("dependentRequired", {}))
            assert sorted(schema["required"]) == sorted(set(schema["properties"]) - optional), name


def test_every_operation_is_described() -> None:
    for path, item in DOC["paths"].items():
        operation = item["get"]
        assert operation["summary"], path
        assert operation["description"], path
        assert "200" in operation["responses"], path
        assert "304" in operation["responses"], path


def test_the_description_names_the_formats() -> None:
    text = json.dumps(DOC)
    for needle in ("Ed25519", "RFC 8785", "RFC 9162", "SHA-256", "base64", "C2SP", "ETag"):
        assert needle in text, needle
    assert "404" in DOC["info"]["description"]
    assert "304" in DOC["info"]["description"]


# --- the document and the routes -----------------------------------------------------


def _flask_rule(path: str) -> str:
    """The Flask rule a documented path should be: {x} as <x>, or <int:x> for integers."""
    parameters = [_resolve(p) for p in DOC["paths"][path]["get"].get("parameters", [])]
    types = {p["name"]: p["schema"]["type"] for p in parameters if p["in"] == "path"}

    def rule_variable(match: re.Match[str]) -> str:
        name = match.group(1)
        return f"<int(max=2147483647):{name}>" if types[name] == "integer" else f"<{name}>"

    assert set(types) == set(_TEMPLATE_VARIABLE.findall(path)), path
    return _TEMPLATE_VARIABLE.sub(rule_variable, path)


def test_every_documented_path_is_a_get_route(app: Flask) -> None:
    rules = {rule.rule: rule for rule in app.url_map.iter_rules()}
    for path in DOC["paths"]:
        rule = rules.get(_flask_rule(path))
        assert rule is not None, path
        assert rule.endpoint.startswith("public."), path
        assert "GET" in (rule.methods or set()), path


def test_every_public_get_route_is_documented(app: Flask) -> None:
    public = [
        rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("public.")
        and "GET" in (rule.methods or set())
        and rule.rule.startswith(PUBLIC_PREFIXES)
    ]
    assert len(public) >= 15
    for rule in public:
        path = _FLASK_VARIABLE.sub(r"{\1}", rule.rule)
        assert path in DOC["paths"], rule.rule
        assert _flask_rule(path) == rule.rule


# --- real answers against the schemas -------------------------------------------------


@dataclass(frozen=True)
class Published:
    """A statement in two versions, the signing key rotated in between."""

    coordinator: Identity
    slug: str


@pytest.fixture
def published(app: Flask, session: Session) -> Published:
    admin = staff_identity(app, session, "openapi-admin", Role.ADMIN)
    coordinator, slug = published_statement(app, session)
    session.commit()
    signing_keys.rotate_signing_key(session, admin, app_today())
    publishing.correct(
        session,
        coordinator,
        slug,
        app_today(),
        title="Right to work, corrected",
        body="# Corrected\n\nWe call on governments to grant work permits.\n",
        signatories="Refugee Rights Network | Thailand\nLegal Aid Collective",
        reason="A correction.",
    )
    session.commit()
    return Published(coordinator, slug)


def test_statement_list_fits_its_schema(client: FlaskClient, published: Published) -> None:
    response = client.get("/api/v1/statements")
    _check(response, "/api/v1/statements", "application/json", "StatementList")
    assert [item["slug"] for item in response.get_json()["statements"]] == [published.slug]


def test_statement_detail_fits_its_schema(client: FlaskClient, published: Published) -> None:
    response = client.get(f"/api/v1/statements/{published.slug}")
    _check(response, "/api/v1/statements/{slug}", "application/json", "StatementDetail")
    body = response.get_json()
    assert [v["status"] for v in body["versions"]] == ["published", "corrected"]


def test_bundles_fit_their_schema(client: FlaskClient, published: Published) -> None:
    for number in (1, 2):
        response = client.get(f"/statements/{published.slug}/v/{number}/bundle.json")
        _check(response, "/statements/{slug}/v/{number}/bundle.json", "application/json", "Bundle")


def test_version_files_fit_their_schemas(client: FlaskClient, published: Published) -> None:
    base = f"/statements/{published.slug}/v/1"
    _check(
        client.get(f"{base}/statement.md"),
        "/statements/{slug}/v/{number}/statement.md",
        "text/markdown",
    )
    _check(
        client.get(f"{base}/statement.md.minisig"),
        "/statements/{slug}/v/{number}/statement.md.minisig",
        "text/plain",
    )
    _check(client.get(f"/statements/{published.slug}"), "/statements/{slug}", "text/html")
    _check(client.get(base), "/statements/{slug}/v/{number}", "text/html")


def test_keys_fit_their_schema(client: FlaskClient, published: Published) -> None:
    response = client.get("/.well-known/statement-keys.json")
    _check(response, "/.well-known/statement-keys.json", "application/json", "KeysDocument")
    keys = response.get_json()["keys"]
    assert len(keys) == 2
    # Both valid from today: all_keys breaks the tie by key_id, so the order is not fixed.
    assert sorted(keys, key=lambda key: key["valid_until"] is None)[0]["valid_until"] == (
        app_today().isoformat()
    )
    assert [key["valid_until"] for key in keys].count(None) == 1


def test_log_answers_fit_their_schemas(client: FlaskClient, published: Published) -> None:
    # Leaves: version 1, the key rotation, version 2.
    _check(client.get("/log/checkpoint"), "/log/checkpoint", "text/plain")
    _check(client.get("/log/checkpoints/2"), "/log/checkpoints/{size}", "text/plain")
    for position in range(3):
        response = client.get(f"/log/entries/{position}")
        _check(response, "/log/entries/{position}", "application/json", "LogEntry")
    rotation = client.get("/log/entries/1").get_json()
    _schema_validator("KeyRotation").validate(rotation)
    for index, size in ((0, 1), (0, 3), (2, 3)):
        response = client.get(f"/log/proof/inclusion?index={index}&size={size}")
        _check(response, "/log/proof/inclusion", "application/json", "InclusionProof")
    for first, second in ((1, 1), (1, 3), (2, 3)):
        response = client.get(f"/log/proof/consistency?first={first}&second={second}")
        _check(response, "/log/proof/consistency", "application/json", "ConsistencyProof")


def test_scheduled_statements_in_the_log_fit_their_schemas(
    app: Flask, session: Session, client: FlaskClient
) -> None:
    """A commitment, its withdrawal, a released statement's bundle and the log's way from
    an entry to its bundle."""
    coordinator = staff_identity(app, session, "openapi-embargo")
    now = app_now()
    for slug, hours in (("called-off", 1), ("released", 2)):
        room_id = scheduled_statement(app, session, coordinator, slug, now + timedelta(hours=hours))
        access = drafting.open_room(session, room_id, coordinator)
        if slug == "called-off":
            embargo.cancel(session, access, app_today())
    assert embargo.release_due(session, now + timedelta(hours=3)).released == ["released"]
    session.commit()
    # Leaves: the first commitment, its withdrawal, the second commitment.
    for position, kind in ((0, "Commitment"), (1, "Withdrawal"), (2, "Commitment")):
        response = client.get(f"/log/entries/{position}")
        _check(response, "/log/entries/{position}", "application/json", "LogEntry")
        _schema_validator(kind).validate(response.get_json())
    bundle = client.get("/statements/released/v/1/bundle.json")
    _check(bundle, "/statements/{slug}/v/{number}/bundle.json", "application/json", "Bundle")
    _schema_validator("BundleLogCommitment").validate(bundle.get_json()["log"])
    opened = client.get("/log/entries/2/bundle.json")
    _check(opened, "/log/entries/{position}/bundle.json", "application/json", "Bundle")
    assert opened.get_data() == bundle.get_data()
    for position in (0, 1, 3, 2**31 - 1):
        assert client.get(f"/log/entries/{position}/bundle.json").status_code == 404
    assert client.get(f"/log/entries/{2**31}/bundle.json").status_code == 404


def test_feed_is_documented_as_served(client: FlaskClient, published: Published) -> None:
    _check(client.get("/feed.atom"), "/feed.atom", "application/atom+xml")


def test_not_found_answers_are_as_documented(client: FlaskClient, published: Published) -> None:
    # Pages: an HTML error page; JSON documents: the JSON Error object.
    statement_404 = _resolve(DOC["components"]["responses"]["StatementNotFound"])
    for path in ("/statements/no-such-statement", f"/statements/{published.slug}/v/9"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.mimetype in statement_404["content"]
    for path in (
        "/api/v1/statements/no-such-statement",
        f"/statements/{published.slug}/v/9/bundle.json",
    ):
        response = client.get(path)
        assert response.status_code == 404
        assert response.mimetype == "application/json"
        _schema_validator("Error").validate(response.get_json())
    # The log: the JSON Error object.
    log_404 = _resolve(DOC["components"]["responses"]["LogNotFound"])
    assert log_404["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    for path in (
        "/log/entries/99",
        "/log/checkpoints/99",
        "/log/proof/inclusion?index=3&size=3",
        "/log/proof/consistency?first=0&second=1",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.mimetype == "application/json"
        _schema_validator("Error").validate(response.get_json())
    for path in ("/log/proof/inclusion?index=x&size=1", "/log/proof/consistency?first=1"):
        response = client.get(path)
        assert response.status_code == 400, path
        _schema_validator("Error").validate(response.get_json())


def test_conditional_gets_answer_304(client: FlaskClient, published: Published) -> None:
    for path in (
        "/api/v1/statements",
        f"/api/v1/statements/{published.slug}",
        f"/statements/{published.slug}/v/1/bundle.json",
        "/.well-known/statement-keys.json",
        "/log/checkpoint",
        "/log/proof/consistency?first=1&second=3",
        "/api/v1/openapi.json",
    ):
        etag = client.get(path).headers["ETag"]
        again = client.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304, path
        assert not again.get_data()


# --- the schemas are strict ------------------------------------------------------------


def _drop(*keys: str) -> Callable[[dict[str, Any]], None]:
    def mutate(bundle: dict[str, Any]) -> None:
        node = bundle
        for key in keys[:-1]:
            node = node[key]
        del node[keys[-1]]

    return mutate


def _set(value: Any, *keys: str) -> Callable[[dict[str, Any]], None]:
    def mutate(bundle: dict[str, Any]) -> None:
        node = bundle
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = value

    return mutate


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(_set("extra", "comment"), id="extra top-level field"),
        pytest.param(_set("extra", "statement", "comment"), id="extra statement field"),
        pytest.param(_set("extra", "signature", "comment"), id="extra signature field"),
        pytest.param(_set("extra", "log", "comment"), id="extra log field"),
        pytest.param(_drop("minisig"), id="no minisig"),
        pytest.param(_drop("statement", "anonymous_signatories"), id="no anonymous count"),
        pytest.param(_drop("log", "checkpoint"), id="no checkpoint"),
        pytest.param(_set("RSA", "signature", "alg"), id="another algorithm"),
        # The fixture counts an anonymous endorsement: its bundle is format 2.
        pytest.param(_set("joint-statement-bundle/1", "format"), id="another format"),
        pytest.param(_set("1", "statement", "version"), id="version as text"),
        pytest.param(_set("draft", "statement", "status"), id="unknown status"),
        pytest.param(_set("1 May 2024", "statement", "published_on"), id="not a date"),
        pytest.param(_set("ab" * 32, "statement", "previous_bundle_sha256"), id="v1 with link"),
        pytest.param(_set(["not base64"], "log", "inclusion_proof"), id="bad proof hash"),
        pytest.param(_set([{"name": "X"}], "statement", "signatories"), id="no country"),
    ],
)
def test_a_drifted_bundle_fails_the_schema(
    client: FlaskClient, published: Published, mutate: Callable[[dict[str, Any]], None]
) -> None:
    bundle = client.get(f"/statements/{published.slug}/v/1/bundle.json").get_json()
    validator = _schema_validator("Bundle")
    validator.validate(bundle)
    drifted = copy.deepcopy(bundle)
    mutate(drifted)
    with pytest.raises(ValidationError):
        validator.validate(drifted)


def test_a_drifted_statement_list_fails_the_schema(
    client: FlaskClient, published: Published
) -> None:
    body = client.get("/api/v1/statements").get_json()
    body["statements"][0]["summary"] = "not a field the API has"
    with pytest.raises(ValidationError):
        _schema_validator("StatementList").validate(body)
    del body["statements"][0]["summary"]
    del body["statements"][0]["updated_on"]
    with pytest.raises(ValidationError):
        _schema_validator("StatementList").validate(body)


# --- the document as served -------------------------------------------------------------


def test_openapi_json_is_served(app: Flask, client: FlaskClient) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    with app.test_request_context():
        root = url_for("public.index", _external=True).rstrip("/")
    assert response.get_json() == document(root)
    assert response.get_json()["servers"][0]["url"] == root
