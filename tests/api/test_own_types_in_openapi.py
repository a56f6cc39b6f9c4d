"""Types, validators and preparers of our own describe their JSON Schema themselves: a new one
shows up in the OpenAPI document without the converter knowing it."""

from __future__ import annotations

from typing import Any

import colander
import pytest
from openapi_schema_validator import OAS30Validator

from framesell.entrypoints.http.openapi import JsonSchemaConverter
from framesell.entrypoints.http.schemas import (
    PositiveId,
    Price,
    Quantity,
    StrictString,
    match_pattern,
    not_blank,
    strip_blanks,
)


class Colour(colander.SchemaType):
    """A test's own type: "#" and six hex digits."""

    def deserialize(self, node: colander.SchemaNode, cstruct: Any) -> Any:
        return cstruct

    def json_schema(self) -> dict[str, Any]:
        return {"type": "string", "pattern": "^#[0-9a-f]{6}$"}


class EndsWithX:
    """A test's own validator: text ending in x."""

    def __call__(self, node: colander.SchemaNode, value: str) -> None:
        if not value.endswith("x"):
            raise colander.Invalid(node, "must end with x")

    def json_schema(self, *, trims: bool) -> dict[str, Any]:
        return {"pattern": match_pattern("^.*x$", trims=trims), "maxLength": 9}


class Squash:
    """A test's own preparer that trims blanks, and says so."""

    trims_blanks = True

    def __call__(self, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value


def test_a_new_type_validator_and_preparer_of_our_own_describe_themselves() -> None:
    class Paint(colander.MappingSchema):
        """Paint."""

        colour = colander.SchemaNode(Colour(), description="the colour")
        word = colander.SchemaNode(
            StrictString(), preparer=Squash(), validator=colander.All(not_blank, EndsWithX())
        )
        loose = colander.SchemaNode(StrictString(), validator=EndsWithX())

    converter = JsonSchemaConverter()
    converter.convert(Paint(), "request")

    assert converter.components["Paint"]["properties"] == {
        "colour": {"type": "string", "pattern": "^#[0-9a-f]{6}$", "description": "the colour"},
        "word": {
            "type": "string",
            "minLength": 1,
            "pattern": r"\S",
            "allOf": [{"pattern": r"^\s*(?:.*x)\s*$"}],
            "maxLength": 9,
        },
        "loose": {"type": "string", "minLength": 1, "pattern": "^(?:.*x)$", "maxLength": 9},
    }


def test_a_thing_that_says_nothing_about_its_json_stops_the_document() -> None:
    class Mystery(colander.SchemaType):
        """Says nothing about the JSON it reads."""

    def mute(node: colander.SchemaNode, value: Any) -> None:
        """A validator that says nothing about what it refuses."""

    converter = JsonSchemaConverter()

    with pytest.raises(TypeError, match="Mystery"):
        converter.convert(colander.SchemaNode(Mystery(), name="m"), "request")
    with pytest.raises(TypeError, match="mute"):
        converter.convert(colander.SchemaNode(StrictString(), validator=mute), "request")


@pytest.mark.parametrize(
    ("typ", "accepted", "refused"),
    [
        (PositiveId(), [1, "12", " 7 ", 2**53], [0, -1, 1.5, "x", True, 2**53 + 1]),
        (Quantity(), [1, 99], [0, 100, "3", 2.5]),
        (Price(), [100, 59.99, "59.99", " 7 "], [0, -1, "1.234", "abc", 1000000]),
    ],
)
def test_the_shops_own_types_describe_what_they_read(
    typ: colander.SchemaType, accepted: list[Any], refused: list[Any]
) -> None:
    node = colander.SchemaNode(typ, name="value")
    validator = OAS30Validator(JsonSchemaConverter().convert(node, "request"))

    for value in accepted:
        assert node.deserialize(value) is not colander.null, value
        assert validator.is_valid(value), value
    for value in refused:
        with pytest.raises(colander.Invalid):
            node.deserialize(value)
        assert not validator.is_valid(value), value


def test_the_shops_trimming_preparer_says_it_trims() -> None:
    node = colander.SchemaNode(
        StrictString(), preparer=strip_blanks, validator=colander.Regex("^[a-z]+$")
    )

    assert JsonSchemaConverter().convert(node, "request")["pattern"] == r"^\s*(?:[a-z]+)\s*$"
