"""Each endpoint answers its errors in the shape it declares; a DomainError's class decides the
status, the most specific class winning."""

from __future__ import annotations

from typing import Any

import colander
import pytest
from cornice.validators import colander_body_validator
from pyramid.config import Configurator
from webtest import TestApp

from framesell.application.errors import StorageUnavailable, WriteConflict
from framesell.bootstrap import Settings, bootstrap
from framesell.domain import errors
from framesell.entrypoints.http import includeme
from framesell.entrypoints.http.errors import (
    DetailShape,
    Endpoint,
    ErrorShape,
    FailureShape,
    most_specific,
    status_of,
    validation_failed,
)
from framesell.entrypoints.http.openapi import responses
from framesell.entrypoints.http.response_schemas import ProductJson
from framesell.entrypoints.http.schemas import StrictString
from framesell.entrypoints.http.security import PUBLIC
from tests.api.conftest import SETTINGS


class NoteSchema(colander.MappingSchema):
    """A test's own body."""

    note = colander.SchemaNode(StrictString(), validator=colander.Length(max=5))


def app_with_endpoint(path: str, shape: ErrorShape | None) -> TestApp:
    """The API plus one endpoint at ``path`` that declares ``shape`` (or nothing)."""
    shop = bootstrap(Settings.from_mapping(SETTINGS))
    declared = {} if shape is None else {"error_shape": shape}
    endpoint = Endpoint(
        name=path.strip("/").replace("/", "_"),
        path=path,
        description="A test's own endpoint.",
        error_handler=validation_failed,
        **declared,
    )

    @endpoint.post(
        schema=NoteSchema(),
        validators=(colander_body_validator,),
        content_type=("application/json",),
        permission=PUBLIC,
    )
    @responses({200: ProductJson})
    def post_note(request: Any) -> dict[str, Any]:
        """Refuse every note that gets through the schema."""
        raise errors.ProductNotFound()

    with Configurator(settings=dict(SETTINGS)) as config:
        config.registry.framesell_shop = shop
        config.add_request_method(lambda request: shop, "shop", reify=True)
        config.include(includeme)
        config.add_cornice_service(endpoint)
        return TestApp(config.make_wsgi_app())


def test_a_service_answers_refused_bodies_and_domain_errors_in_the_shape_it_declares() -> None:
    app = app_with_endpoint("/api/test-failure/", FailureShape())

    refused = app.post_json("/api/test-failure/", {"note": "too long"}, status=400)
    missing = app.post_json("/api/test-failure/", {"note": "ok"}, status=404)
    document = app.get("/api/openapi.json").json

    assert refused.json == {
        "success": False,
        "error": "note: Longer than maximum length 5",
        "errors": [
            {"location": "body", "name": "note", "description": "Longer than maximum length 5"}
        ],
    }
    assert missing.json == {
        "success": False,
        "error": "product not found",
        "errors": [{"location": "body", "name": "", "description": "product not found"}],
    }
    responses_ = document["paths"]["/api/test-failure/"]["post"]["responses"]
    for status in ("400", "415"):
        schema = responses_[status]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/FailureJson"}, status


def test_a_declared_refusal_replaces_the_field_names_in_the_message() -> None:
    app = app_with_endpoint("/api/test-detail/", DetailShape(refused_body="no good"))

    refused = app.post_json("/api/test-detail/", {"note": 7}, status=400)

    assert refused.json == {
        "detail": "no good",
        "errors": [{"location": "body", "name": "note", "description": "must be a string"}],
    }


def test_a_service_that_declares_no_shape_answers_the_errors_list() -> None:
    app = app_with_endpoint("/api/test-plain/", None)

    refused = app.post_json("/api/test-plain/", {}, status=400)
    missing = app.post_json("/api/test-plain/", {"note": "ok"}, status=404)

    assert refused.json == {
        "status": "error",
        "errors": [{"location": "body", "name": "note", "description": "Required"}],
    }
    assert missing.json == {
        "status": "error",
        "errors": [{"location": "body", "name": "", "description": "product not found"}],
    }


@pytest.mark.parametrize(
    ("error", "status"),
    [
        # Listed itself although its base, PaymentError, is listed with another status.
        (errors.PaymentDeclined(), 402),
        (errors.PaymentUnavailable(), 503),  # not listed: its base PaymentError's
        (errors.OrderNotFound(), 404),  # not listed: NotFound's
        (errors.InvalidResetToken(), 400),  # not listed: InvalidInput's
        (WriteConflict(), 503),  # not listed: StorageUnavailable's
        (errors.MailUnavailable(), 400),  # listed nowhere: DomainError's
        (errors.TooManyAttempts(30), 429),
        (errors.IdempotencyKeyReused(), 422),
    ],
)
def test_the_most_specific_class_decides_the_status(error: errors.DomainError, status: int) -> None:
    assert status_of(error) == status


def test_the_most_specific_class_wins_whatever_the_order_of_the_table() -> None:
    first_base = {errors.PaymentError: 503, errors.PaymentDeclined: 402}
    first_subclass = {errors.PaymentDeclined: 402, errors.PaymentError: 503}

    assert most_specific(first_base, errors.PaymentDeclined()) == 402
    assert most_specific(first_subclass, errors.PaymentDeclined()) == 402
    assert most_specific(first_base, errors.PaymentUnavailable()) == 503
    assert most_specific(first_base, StorageUnavailable()) is None
