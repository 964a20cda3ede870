"""The API's own answers are described from the TypedDicts the views build: each kind of
field gives the schema the document promises, and a field of no known kind is refused
rather than described loosely."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, TypedDict, get_type_hints

import pytest

from statements.publishing.api_shapes import COMPONENTS, doc
from statements.publishing.openapi import document
from statements.publishing.openapi_schemas import shape_schema

MAX_JSON_INT = 2**53 - 1


class Inner(TypedDict):
    """An object written out in place."""

    name: Annotated[str, doc("A name.", minLength=1)]


class Sample(TypedDict):
    """Every kind of field the shapes use."""

    text: Annotated[str, doc("Some text.", pattern="^a$")]
    count: Annotated[int, doc("A count.", minimum=1)]
    maybe: Annotated[str | None, doc("Text or null.", format="uri")]
    items: Annotated[list[Inner], doc("Objects in place.", minItems=1)]
    signed: Annotated[Mapping[str, Any], doc("A signed statement.", ref="Statement")]
    plain: int


class Loose(TypedDict):
    """A field of a kind the document cannot describe."""

    anything: Annotated[dict[str, Any], doc("Anything at all.")]


def test_each_kind_of_field_gives_its_schema() -> None:
    assert shape_schema(Sample) == {
        "type": "object",
        "description": "Every kind of field the shapes use.",
        "properties": {
            "text": {"type": "string", "description": "Some text.", "pattern": "^a$"},
            "count": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_JSON_INT,
                "description": "A count.",
            },
            "maybe": {"type": ["string", "null"], "description": "Text or null.", "format": "uri"},
            "items": {
                "type": "array",
                "items": {
                    "type": "object",
                    "description": "An object written out in place.",
                    "properties": {
                        "name": {"type": "string", "description": "A name.", "minLength": 1}
                    },
                    "required": ["name"],
                    "additionalProperties": False,
                },
                "description": "Objects in place.",
                "minItems": 1,
            },
            "signed": {
                "$ref": "#/components/schemas/Statement",
                "description": "A signed statement.",
            },
            "plain": {"type": "integer", "minimum": 0, "maximum": MAX_JSON_INT},
        },
        "required": ["text", "count", "maybe", "items", "signed", "plain"],
        "additionalProperties": False,
    }


def test_a_field_of_no_known_kind_is_refused() -> None:
    with pytest.raises(TypeError):
        shape_schema(Loose)


def test_the_document_holds_every_shape_with_exactly_its_fields() -> None:
    schemas = document("https://statements.example.org")["components"]["schemas"]
    for shape in COMPONENTS:
        schema = schemas[shape.__name__]
        assert list(schema["properties"]) == list(get_type_hints(shape))
        assert schema["required"] == list(get_type_hints(shape))
        assert schema["additionalProperties"] is False
