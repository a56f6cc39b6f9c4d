"""The strict JSON reader's refusals say what was wrong (the 400's description)."""

from __future__ import annotations

import pytest

from framesell.entrypoints.http.bodies import UnreadableJson, parse_json


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1e999", "number out of range: 1e999"),
        ("-1e999", "number out of range: -1e999"),
        ("1" * 30 + "e999", "number out of range: " + "1" * 20),  # cut at 20 characters
        ("NaN", "NaN is not JSON"),
        ("[Infinity]", "Infinity is not JSON"),
        ('"\\ud800"', "a string with a lone surrogate"),
        ("[" * 40 + "]" * 40, "nested deeper than 32 levels"),
        ("[" + ",".join(["1"] * 1001) + "]", "an array with more than 1000 items"),
        (
            "{" + ",".join(f'"k{i}": 1' for i in range(1001)) + "}",
            "an object with more than 1000 members",
        ),
        ("[" * 100_000 + "]" * 100_000, "nested deeper than 32 levels"),  # Python's own limit
        # Every item is looked at, whatever comes after it.
        ('["\\ud800", "a"]', "a string with a lone surrogate"),
        ('["\\ud800", 1]', "a string with a lone surrogate"),
        ('[{"\\ud800": 1}, "a"]', "a string with a lone surrogate"),
    ],
)
def test_each_refusal_names_its_reason(text: str, message: str) -> None:
    with pytest.raises(UnreadableJson) as error:
        parse_json(text)
    assert str(error.value) == message


def test_a_large_finite_number_32_levels_and_1000_members_are_read() -> None:
    assert parse_json("1e308") == 1e308
    nested = "[" * 32 + "]" * 32
    assert parse_json(nested) is not None
    assert parse_json("[" + ",".join(["1"] * 1000) + "]") == [1] * 1000
    members = parse_json("{" + ",".join(f'"k{i}": {i}' for i in range(1000)) + "}")
    assert members == {f"k{i}": i for i in range(1000)}
