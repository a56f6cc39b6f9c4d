"""Reading JSON bodies strictly: hostile JSON is a 400, never a RecursionError or a 500."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from pyramid.request import Request

# Far more than any FrameSell body needs (the deepest is an object of strings).
MAX_DEPTH = 32
MAX_MEMBERS = 1000
# A lone surrogate (from "\ud800") cannot be stored or encoded as UTF-8.
SURROGATE = re.compile("[\ud800-\udfff]")


class UnreadableJson(ValueError):
    """A body that is not JSON FrameSell reads (Cornice answers a ValueError with 400)."""


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise UnreadableJson(f"number out of range: {text[:20]}")
    return number


def _no_constants(name: str) -> Any:
    raise UnreadableJson(f"{name} is not JSON")


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    if len(pairs) > MAX_MEMBERS:
        raise UnreadableJson(f"an object with more than {MAX_MEMBERS} members")
    return dict(pairs)


def parse_json(text: str) -> Any:
    """Parse JSON text, refusing what Python's json would accept but the shop cannot use.

    Nesting deeper than ``MAX_DEPTH``, objects or arrays of more than ``MAX_MEMBERS``,
    numbers out of a float's range (``1e999``), ``NaN``/``Infinity`` and lone surrogates
    raise UnreadableJson.
    """
    try:
        value = json.loads(
            text, parse_float=_finite, parse_constant=_no_constants, object_pairs_hook=_object
        )
    except RecursionError:
        raise UnreadableJson(f"nested deeper than {MAX_DEPTH} levels") from None
    _check(value)
    return value


def _check(value: Any) -> None:
    """Walk the parsed value without recursion: depth, sizes and strings."""
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            if SURROGATE.search(item):
                raise UnreadableJson("a string with a lone surrogate")
            continue
        if isinstance(item, dict):
            children: list[Any] = [*item.keys(), *item.values()]
        elif isinstance(item, list):
            if len(item) > MAX_MEMBERS:
                raise UnreadableJson(f"an array with more than {MAX_MEMBERS} items")
            children = item
        else:
            continue
        if depth > MAX_DEPTH:
            raise UnreadableJson(f"nested deeper than {MAX_DEPTH} levels")
        pending.extend((child, depth + 1) for child in children)


def strict_json_body(request: Request) -> Any:
    """``request.json_body`` as FrameSell reads it (replaces WebOb's; parsed once)."""
    try:
        text = request.body.decode(request.charset or "utf-8")
    except LookupError:
        raise UnreadableJson(f"unknown charset {request.charset[:40]!r}") from None
    return parse_json(text)
