"""GET /api/openapi.json: the OpenAPI document, generated from the Cornice endpoints.

Nothing in it is written by hand: paths and methods come from the endpoints the app
registered, summaries from the views' docstrings, request bodies from their Colander
``schema`` (through ``json_schema``, a small Colander → JSON Schema converter), and
responses from the ``@responses`` decorator next to each view.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from importlib import metadata
from typing import Any, Literal, TypeAlias, TypeVar

import colander
from cornice import Service
from pyramid.request import Request

from framesell.entrypoints.http.errors import Endpoint, error_shape_of
from framesell.entrypoints.http.response_schemas import (
    ClosedMappingSchema,
    DetailJson,
    ErrorsJson,
    OpenApiJson,
)
from framesell.entrypoints.http.schemas import DescribedType, DescribedValidator, match_pattern
from framesell.entrypoints.http.security import ADMIN, PUBLIC, SHOPPER

OPENAPI_VERSION = "3.0.3"
SECURITY_SCHEME = "jwt"
PERMISSIONS = (PUBLIC, SHOPPER, ADMIN)
# A response is a Colander schema (class or instance), several (any of them), or no body.
Body: TypeAlias = type[colander.SchemaNode] | colander.SchemaNode | tuple[Any, ...] | None
View = TypeVar("View", bound=Callable[..., Any])


@dataclass(frozen=True)
class Declared:
    """What ``@responses`` says about one view."""

    statuses: Mapping[int, Body]
    headers: tuple[colander.SchemaNode, ...]
    query: tuple[colander.SchemaNode, ...] = ()


_DECLARED = "__framesell_openapi__"


def responses(
    statuses: Mapping[int, Body],
    *,
    headers: Sequence[colander.SchemaNode] = (),
    query: Sequence[colander.SchemaNode] = (),
) -> Callable[[View], View]:
    """Declare a view's answers for the OpenAPI document: ``{201: OrderPlacedJson, 204: None}``.

    ``headers`` and ``query`` are Colander nodes of the request headers and query string
    parameters the view reads. Who may call the view is its ``permission=`` (security.py),
    read from the same Cornice definition; errors the framework answers for every view (403
    where the permission needs a token, 400 for a body its schema refuses, 413, 415) are
    added by the generator.
    """

    def declare(view: View) -> View:
        setattr(view, _DECLARED, Declared(dict(statuses), tuple(headers), tuple(query)))
        return view

    return declare


def declared(view: Any) -> Declared | None:
    """What ``@responses`` attached to a view, if anything."""
    found = getattr(view, _DECLARED, None)
    return found if isinstance(found, Declared) else None


# --- Colander → JSON Schema -------------------------------------------------------------------

Schema = dict[str, Any]
Direction = Literal["request", "response"]


class JsonSchemaConverter:
    """Colander nodes to OpenAPI 3.0 schemas; named schema classes become components.

    Requests are described as Colander reads them (a required string may not be empty,
    ``missing=`` makes a field optional, a trimming preparer allows surrounding blanks),
    responses as the serializers write them. Where the API checks more than Colander
    (the email's form, the password's length), the schema is the looser Colander one.
    It knows Colander's own types and validators; ours describe themselves (schemas.py).
    """

    def __init__(self) -> None:
        self.components: dict[str, Schema] = {}

    def convert(self, node: colander.SchemaNode, direction: Direction) -> Schema:
        """The schema of a node, a ``$ref`` for a named Mapping or Sequence schema class."""
        if not (isinstance(node.typ, colander.Mapping | colander.Sequence) and _named(node)):
            return self._build(node, direction)
        name = type(node).__name__
        if name not in self.components:
            self.components[name] = {}  # a placeholder, in case of recursion
            self.components[name] = self._build(node, direction)
        return {"$ref": f"#/components/schemas/{name}"}

    def _build(self, node: colander.SchemaNode, direction: Direction) -> Schema:
        typ = node.typ
        if isinstance(typ, DescribedType):  # a type of our own says what it accepts
            schema = typ.json_schema()
        elif isinstance(typ, colander.Mapping):
            schema = self._object(node, direction)
        elif isinstance(typ, colander.Sequence):
            schema = {"type": "array", "items": self.convert(node.children[0], direction)}
        elif isinstance(typ, colander.String):
            schema = {"type": "string"}
            if direction == "request" and node.required and not typ.allow_empty:
                schema["minLength"] = 1  # Colander reads "" as a missing value
        elif isinstance(typ, colander.Boolean):
            schema = {"type": "boolean"}
        elif isinstance(typ, colander.Integer):
            schema = {"type": "integer"}
        elif isinstance(typ, colander.Float | colander.Decimal):
            schema = {"type": "number"}
        elif isinstance(typ, colander.DateTime):
            schema = {"type": "string", "format": "date-time"}
        else:
            raise TypeError(f"no JSON Schema for the Colander type {type(typ).__name__}")
        trims = direction == "request" and _trims(node.preparer)
        for validator in _validators(node.validator):
            _constrain(schema, validator, trims=trims)
        description = node.description
        if not description and _named(node):
            description = _first_line(inspect.getdoc(type(node)))
        if description and "description" not in schema and "$ref" not in schema:
            schema["description"] = str(description)
        example = getattr(node, "example", None)  # SchemaNode keeps any keyword it is given
        if example is not None:
            schema["example"] = example
        return schema

    def _object(self, node: colander.SchemaNode, direction: Direction) -> Schema:
        properties: dict[str, Schema] = {}
        required: list[str] = []
        for child in node.children:
            schema = self.convert(child, direction)
            if direction == "response" and child.missing is None:
                # A field the serializers always write, as null or as its object.
                required.append(child.name)
                schema = {"anyOf": [schema, {"type": "object", "nullable": True, "enum": [None]}]}
            elif child.required:
                required.append(child.name)
            elif direction == "request":
                schema = _optional(schema, child)
            properties[child.name] = schema
        result: Schema = {"type": "object", "properties": properties}
        if required:
            result["required"] = required
        choices = getattr(node, "one_of_fields", ())
        if choices and direction == "request":
            # Exactly one of these fields, present and neither null nor empty.
            result["oneOf"] = [
                {"required": [name], "properties": {name: {"not": {"enum": [None, ""]}}}}
                for name in choices
            ]
        unknown = node.typ.unknown
        if unknown == "raise":
            result["additionalProperties"] = False
        return result


def _named(node: colander.SchemaNode) -> bool:
    """Whether the node is an instance of a schema class of our own (not Colander's)."""
    kind = type(node)
    return not kind.__module__.startswith("colander") and kind is not ClosedMappingSchema


def _validators(validator: Any) -> Iterable[Any]:
    if validator is None:
        return []
    if isinstance(validator, colander.All):
        return [v for inner in validator.validators for v in _validators(inner)]
    return [validator]


def _trims(preparer: Any) -> bool:
    """Whether a preparer (of our own, see schemas.py) trims blanks before validation."""
    preparers = preparer if isinstance(preparer, list | tuple) else [preparer]
    return any(getattr(each, "trims_blanks", False) for each in preparers)


def _add_pattern(schema: Schema, pattern: str) -> None:
    if "pattern" not in schema:
        schema["pattern"] = pattern
    else:
        schema.setdefault("allOf", []).append({"pattern": pattern})


def _constrain(schema: Schema, validator: Any, *, trims: bool) -> None:
    """Add what one validator refuses to the schema (as loosely as needed, never stricter)."""
    is_array = schema.get("type") == "array"
    if isinstance(validator, colander.Length):
        if is_array:
            if validator.min is not None:
                schema["minItems"] = validator.min
            if validator.max is not None:
                schema["maxItems"] = validator.max
        elif trims:  # the length of the trimmed text: blanks around it do not count
            low = validator.min or 0
            high = "" if validator.max is None else validator.max
            _add_pattern(schema, rf"^\s*[\s\S]{{{low},{high}}}\s*$")
        else:
            if validator.min is not None:
                schema["minLength"] = max(validator.min, schema.get("minLength", 0))
            if validator.max is not None:
                schema["maxLength"] = validator.max
    elif isinstance(validator, colander.Regex):
        _add_pattern(schema, match_pattern(validator.match_object.pattern, trims=trims))
    elif isinstance(validator, colander.OneOf):
        schema["enum"] = list(validator.choices)
    elif isinstance(validator, colander.Range):
        if validator.min is not None:
            schema["minimum"] = validator.min
        if validator.max is not None:
            schema["maximum"] = validator.max
    elif isinstance(validator, DescribedValidator):  # a validator of our own says it
        for keyword, value in validator.json_schema(trims=trims).items():
            if keyword == "pattern":
                _add_pattern(schema, value)
            else:
                schema[keyword] = value
    else:
        raise TypeError(f"no JSON Schema for the Colander validator {validator!r}")


def _optional(schema: Schema, node: colander.SchemaNode) -> Schema:
    """An optional field: Colander reads null, and "" for text, as absent."""
    result = dict(schema)
    result["nullable"] = True
    if "enum" in result:
        empties = ["", None] if isinstance(node.typ, colander.String) else [None]
        result["enum"] = [*result["enum"], *empties]
    if node.missing not in (colander.drop, colander.null):
        result["default"] = node.missing
    return result


# --- the document ---------------------------------------------------------------------------

PARAMETER = re.compile(r"{(\w+)(?::[^}]*)?}")
BODY_METHODS = {"POST", "PUT", "PATCH"}
JSON = "application/json"


def _first_line(text: str | None) -> str:
    return (text or "").strip().split("\n")[0]


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


class DocumentBuilder:
    """Builds the OpenAPI document of a set of Cornice endpoints."""

    def __init__(self) -> None:
        self.converter = JsonSchemaConverter()
        self.tags: dict[str, str] = {}

    def build(self, endpoints: Iterable[Service]) -> dict[str, Any]:
        """The whole document for the endpoints under /api/."""
        paths: dict[str, Any] = {}
        for endpoint in sorted(endpoints, key=lambda s: s.path):
            if not endpoint.path.startswith("/api/"):
                continue
            item = self._path_item(endpoint)
            if item:
                paths[endpoint.path] = item
        return {
            "openapi": OPENAPI_VERSION,
            "info": {
                "title": "FrameSell",
                "version": _version(),
                "description": DESCRIPTION,
            },
            "tags": [{"name": name, "description": text} for name, text in self.tags.items()],
            "paths": paths,
            "components": {
                "schemas": dict(sorted(self.converter.components.items())),
                "securitySchemes": {
                    SECURITY_SCHEME: {
                        "type": "apiKey",
                        "in": "header",
                        "name": "Authorization",
                        "description": "`JWT <token>` (the original's scheme) or "
                        "`Bearer <token>`, the token from POST /api/api-token-auth/.",
                    }
                },
                "responses": {
                    "MethodNotAllowed": {
                        "description": "A method the path does not have; `Allow` lists them.",
                        "content": {JSON: {"schema": self._ref(ErrorsJson)}},
                    }
                },
            },
        }

    def _ref(self, schema: Any) -> Schema:
        node = schema() if isinstance(schema, type) else schema
        return self.converter.convert(node, "response")

    def _path_item(self, endpoint: Service) -> dict[str, Any]:
        item: dict[str, Any] = {}
        if endpoint.description:
            item["description"] = endpoint.description
        names = PARAMETER.findall(endpoint.path)
        if names:
            item["parameters"] = [
                {
                    "name": name,
                    "in": "path",
                    "required": True,
                    "schema": {"type": "integer", "minimum": 1},
                    "example": 1,
                }
                for name in names
            ]
        for method, view, args in endpoint.definitions:
            if method in ("OPTIONS",) or method.lower() in item:
                continue
            item[method.lower()] = self._operation(endpoint, method, view, args)
        return item

    def _operation(
        self, endpoint: Service, method: str, view: Any, args: Mapping[str, Any]
    ) -> dict[str, Any]:
        found = declared(view)
        if found is None:
            raise LookupError(f"{endpoint.name} {method}: the view has no @responses")
        if args.get("permission") not in PERMISSIONS:
            raise LookupError(f"{endpoint.name} {method}: the view declares no permission=")
        auth = None if args["permission"] == PUBLIC else args["permission"]
        doc = inspect.getdoc(view) or ""
        summary, _, rest = doc.partition("\n")
        module = view.__module__.rsplit(".", 1)[-1]
        self.tags.setdefault(module, _first_line(inspect.getdoc(inspect.getmodule(view))))
        operation: dict[str, Any] = {
            "tags": [module],
            "operationId": view.__name__ + ("_head" if method == "HEAD" else ""),
            "summary": summary.strip(),
        }
        notes = [rest.strip()] if rest.strip() else []
        if auth == ADMIN:
            notes.append("Admins only: anyone else gets 403.")
        if notes:
            operation["description"] = "\n\n".join(notes)
        if auth:
            operation["security"] = [{SECURITY_SCHEME: []}]
        if found.headers or found.query:
            operation["parameters"] = [self._header(node) for node in found.headers] + [
                self._header(node, where="query") for node in found.query
            ]
        schema = args.get("schema")
        content_types = [c for c in _as_list(args.get("content_type")) if isinstance(c, str)]
        if schema is not None:
            body = self.converter.convert(schema, "request")
            operation["requestBody"] = {
                # A body whose every field is optional may be left out (a full refund).
                "required": any(child.required for child in schema.children),
                "content": {kind: {"schema": body} for kind in content_types or [JSON]},
            }
        statuses: dict[int, tuple[Body, str]] = {
            status: (body, "") for status, body in found.statuses.items()
        }
        shape = error_shape_of(endpoint).schema  # the shape its error answers take
        if schema is not None:
            statuses.setdefault(400, (shape, "The body is not what the schema allows."))
        if auth:
            reason = "A missing, malformed, expired or forged token"
            if auth == ADMIN:
                reason += ", or the caller is not an admin"
            statuses.setdefault(403, (DetailJson, reason + "."))
        if method in BODY_METHODS:
            # The size limit answers before routing, always in the same shape.
            statuses.setdefault(413, (ErrorsJson, "The body is larger than 64 KiB."))
        if content_types:
            unsupported = "A Content-Type other than " + " or ".join(content_types) + "."
            statuses.setdefault(415, (shape, unsupported))
        operation["responses"] = {
            str(status): self._response(status, body, text, with_content=method != "HEAD")
            for status, (body, text) in sorted(statuses.items())
        }
        return operation

    def _header(self, node: colander.SchemaNode, where: str = "header") -> dict[str, Any]:
        return {
            "name": node.name,
            "in": where,
            "required": bool(node.required),
            "description": str(node.description or ""),
            "schema": self.converter.convert(node, "response"),
        }

    def _response(
        self, status: int, body: Body, text: str, *, with_content: bool
    ) -> dict[str, Any]:
        choices: list[Any] = (
            list(body) if isinstance(body, tuple) else [body] if body is not None else []
        )
        nodes = [c() if isinstance(c, type) else c for c in choices]
        if not text and status < 400:  # a success is described by what it answers
            text = " Or: ".join(_first_line(inspect.getdoc(type(n))) for n in nodes)
        answer: dict[str, Any] = {"description": text or HTTPStatus(status).phrase}
        if nodes and with_content:
            schemas = [self.converter.convert(n, "response") for n in nodes]
            schema = schemas[0] if len(schemas) == 1 else {"anyOf": schemas}
            answer["content"] = {JSON: {"schema": schema}}
        return answer


def _version() -> str:
    try:
        return metadata.version("framesell")
    except metadata.PackageNotFoundError:  # running from a checkout that was never installed
        return "0"


DESCRIPTION = """\
The HTTP API of FrameSell, a shop for photo prints paid by card through Stripe.

Every path ends with a slash, as in the original shop; the same path without the trailing
slash answers the same (no redirect). Bodies are JSON (`application/json`); logging in and
signing up also accept `application/x-www-form-urlencoded`. Bodies over 64 KiB get 413, a
method a path does not have gets 405 with `Allow`, and an unknown path 404, all as JSON.
Endpoints with a lock need `Authorization: JWT <token>` (or `Bearer <token>`); a missing,
malformed, expired or forged token is 403 `{"detail": "<reason>"}`.

This document is generated from the running application's Cornice services and Colander
schemas."""


# --- the endpoint ---------------------------------------------------------------------------

openapi = Endpoint(
    name="openapi",
    path="/api/openapi.json",
    description="The machine-readable description of every endpoint (this document).",
)
_DOCUMENT = "framesell.openapi_document"


def openapi_document(request: Request) -> dict[str, Any]:
    """The document of the endpoints this app registered, built once per app."""
    document: dict[str, Any] | None = request.registry.get(_DOCUMENT)
    if document is None:
        endpoints = request.registry.cornice_services.values()
        document = request.registry[_DOCUMENT] = DocumentBuilder().build(endpoints)
    return document


@openapi.get(permission=PUBLIC)
@responses({200: OpenApiJson})
def show_openapi(request: Request) -> dict[str, Any]:
    """This OpenAPI 3.0 document, generated from the Cornice services."""
    return openapi_document(request)
