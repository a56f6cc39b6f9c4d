"""Colander schemas of the JSON the API answers: what serializers.py and errors.py produce.

They validate nothing at run time; the OpenAPI document is generated from them (views name
theirs with ``openapi.responses``), and the fuzzing job checks every answer against it.
Every mapping here is closed: a field the serializers add must be added here too.
"""

from __future__ import annotations

import colander

from framesell.domain.models import PaymentStatus


def _closed_mapping() -> colander.Mapping:
    return colander.Mapping(unknown="raise")


def _open_mapping() -> colander.Mapping:
    return colander.Mapping(unknown="preserve")


class ClosedMappingSchema(colander.MappingSchema):
    """A JSON object with exactly the fields declared (``additionalProperties: false``)."""

    schema_type = staticmethod(_closed_mapping)


def _text(description: str = "") -> colander.SchemaNode:
    return colander.SchemaNode(colander.String(), description=description)


def _flag(value: bool) -> colander.SchemaNode:
    return colander.SchemaNode(colander.Boolean(), validator=colander.OneOf([value]))


def _optional(node: colander.SchemaNode) -> colander.SchemaNode:
    node.missing = colander.drop
    return node


# --- errors -------------------------------------------------------------------------------


class ErrorEntryJson(ClosedMappingSchema):
    """One problem with a request, as Cornice reports validation errors."""

    location = _text("body, querystring, header, url or server")
    name = _text("the field, or empty for the whole body")
    description = _text("what is wrong, for people")


class ErrorEntriesJson(colander.SequenceSchema):
    """The problems with a request."""

    entry = ErrorEntryJson()


class ErrorsJson(ClosedMappingSchema):
    """The error shape of the endpoints that are new in FrameSell."""

    status = colander.SchemaNode(colander.String(), validator=colander.OneOf(["error"]))
    errors = ErrorEntriesJson()


class DetailJson(ClosedMappingSchema):
    """A refusal with its reason (a missing or bad token, a failed or throttled login)."""

    detail = _text("why the request was refused")
    errors = _optional(ErrorEntriesJson())


class FailureJson(ClosedMappingSchema):
    """The error shape of sign-up and ordering, kept from the original shop."""

    success = _flag(False)
    error = _text("what went wrong, for people")
    errors = _optional(ErrorEntriesJson())


# --- accounts -------------------------------------------------------------------------------


class TokenJson(ClosedMappingSchema):
    """A JWT to send as ``Authorization: JWT <token>`` (or ``Bearer <token>``)."""

    token = _text("a JWT, valid for an hour by default")


class SignedUpJson(ClosedMappingSchema):
    """The account was created; log in to get a token."""

    success = _flag(True)


class ResetRequestedJson(ClosedMappingSchema):
    """The same answer whether or not the email has an account."""

    detail = _text("what happens next, for people")


class PasswordChangedJson(ClosedMappingSchema):
    """The new password is set; the old one and the token no longer work."""

    success = _flag(True)


class UserJson(ClosedMappingSchema):
    """The calling shopper's own account."""

    id = colander.SchemaNode(colander.Integer())
    email = _text("trimmed and lower-cased")
    first_name = _text()
    last_name = _text()
    is_admin = colander.SchemaNode(colander.Boolean(), description="whether the caller is an admin")


# --- catalog --------------------------------------------------------------------------------


class ProductJson(ClosedMappingSchema):
    """A photo print for sale, or the snapshot an order keeps of what was bought."""

    id = colander.SchemaNode(colander.Integer())
    price = colander.SchemaNode(
        colander.Float(), description="major units: 100 is $100.00, 59.99 is $59.99"
    )
    description = _text()
    url = _text("an https:// address of the picture")
    currency = _text("ISO 4217, lower case, e.g. usd")


class FormatJson(ClosedMappingSchema):
    """One way to buy a photo: its digital download, or a print in one size."""

    id = colander.SchemaNode(colander.Integer())
    kind = colander.SchemaNode(colander.String(), validator=colander.OneOf(["digital", "print"]))
    label = _text("e.g. Digital download, 30x45 cm")
    price = colander.SchemaNode(colander.Float(), description="major units, like price")


class FormatListJson(colander.SequenceSchema):
    """A photo's formats: the digital download first, then the print sizes."""

    format = FormatJson()


class CatalogProductJson(ProductJson):
    """A photo for sale; ``price`` is its digital download's, as the original shop sold it."""

    formats = FormatListJson()


class ProductListJson(colander.SequenceSchema):
    """Every product on sale, ordered by id."""

    product = CatalogProductJson()


class DownloadLinkJson(ClosedMappingSchema):
    """A signed link to a purchased file, valid until ``expires``; open it to get the file."""

    url = _text("an absolute path under /api/download/, to open without a token")
    expires = colander.SchemaNode(colander.DateTime(), description="ISO 8601 in UTC")


class ProductFileJson(ClosedMappingSchema):
    """The photo's full-resolution file is set (it is never shown in the catalog)."""

    id = colander.SchemaNode(colander.Integer())
    file = colander.SchemaNode(
        colander.String(),
        missing=None,
        description="the https:// address a paid digital purchase is sent to; null while unset",
    )


# --- orders ---------------------------------------------------------------------------------


class ItemFormatJson(ClosedMappingSchema):
    """The format a line was bought in, as it was then."""

    id = colander.SchemaNode(colander.Integer(), description="the format's id when bought")
    kind = colander.SchemaNode(colander.String(), validator=colander.OneOf(["digital", "print"]))
    label = _text()


class OrderItemJson(ClosedMappingSchema):
    """One line of an order: a photo in one format, how many, and the unit price paid."""

    id = colander.SchemaNode(colander.Integer(), description="the line's number in its order")
    product = ProductJson()
    format = ItemFormatJson()
    quantity = colander.SchemaNode(colander.Integer())
    price = colander.SchemaNode(colander.Float(), description="per piece, in major units")


class OrderItemListJson(colander.SequenceSchema):
    """The order's lines, in the order they were bought."""

    item = OrderItemJson()


class ShippingJson(ClosedMappingSchema):
    """Where the prints go (Stripe's address field names)."""

    name = _text()
    line1 = _text()
    line2 = _text("empty when not given")
    city = _text()
    postal_code = _text()
    country = _text("two-letter country code, upper case")


class OrderJson(ClosedMappingSchema):
    """An order with what was bought at the price paid.

    ``product`` is the first line's photo, kept for the original's clients; ``items``,
    ``shipping``, ``shipping_price`` and ``total`` say the whole of it.
    """

    id = colander.SchemaNode(colander.Integer())
    user = colander.SchemaNode(colander.Integer(), description="the buyer's id")
    orderdate = colander.SchemaNode(colander.DateTime(), description="ISO 8601 in UTC")
    paymentstatus = colander.SchemaNode(
        colander.String(), validator=colander.OneOf([status.value for status in PaymentStatus])
    )
    product = ProductJson()
    refunded = colander.SchemaNode(
        colander.Float(),
        description="given back so far, in the unit of price (0 when nothing); "
        "PARTIALLY_REFUNDED while below the price, REFUNDED once it is all",
    )
    items = OrderItemListJson()
    shipping = ShippingJson(missing=None, description="null when nothing is shipped")
    shipping_price = colander.SchemaNode(
        colander.Float(), description="the flat shipping price charged (0 without prints)"
    )
    total = colander.SchemaNode(
        colander.Float(), description="what was charged: the lines plus shipping"
    )


class OrderListJson(colander.SequenceSchema):
    """The caller's orders, oldest first."""

    order = OrderJson()


class ShopperOrderJson(OrderJson):
    """An order as the owner's list shows it: the order, its shopper and its payment."""

    email = _text("the shopper's email")
    payment_id = colander.SchemaNode(
        colander.String(), missing=None, description="Stripe's PaymentIntent id, or null"
    )
    dispute = colander.SchemaNode(
        colander.String(), missing=None, description="where a chargeback stands, or null"
    )


class ShopperOrderListJson(colander.SequenceSchema):
    """One page of orders, newest first."""

    order = ShopperOrderJson()


class OrderPageJson(ClosedMappingSchema):
    """One page of every shopper's orders and how many match in all."""

    orders = ShopperOrderListJson()
    total = colander.SchemaNode(colander.Integer(), description="orders matching, all pages")
    page = colander.SchemaNode(colander.Integer())
    per_page = colander.SchemaNode(colander.Integer())


class OrderPlacedJson(ClosedMappingSchema):
    """The order is paid (or, after a refund, was)."""

    success = _flag(True)
    order = OrderJson()


class OrderPendingJson(ClosedMappingSchema):
    """The gateway accepted the payment and settles it later; the order is PENDING."""

    success = _flag(True)
    pending = _flag(True)
    order = OrderJson()


class PaymentFailedJson(ClosedMappingSchema):
    """Not paid: the card was declined (FAILED) or the gateway was unreachable (PENDING)."""

    success = _flag(False)
    error = _text("the card's decline message, or why the payment could not be made")
    order = OrderJson()


class AuthenticationRequiredJson(ClosedMappingSchema):
    """The bank wants 3-D Secure: finish it with Stripe.js, then confirm the order."""

    success = _flag(False)
    requires_action = _flag(True)
    client_secret = _text("for Stripe.js handleNextAction or confirmCardPayment")
    order = OrderJson()


# --- operations -----------------------------------------------------------------------------


class HealthJson(ClosedMappingSchema):
    """Whether the shop is up and its database answers."""

    status = colander.SchemaNode(colander.String(), validator=colander.OneOf(["ok", "error"]))
    database = colander.SchemaNode(
        colander.String(), validator=colander.OneOf(["ok", "unavailable"])
    )


class EventReceivedJson(ClosedMappingSchema):
    """The event was verified; ``applied`` says whether it changed an order."""

    received = _flag(True)
    applied = colander.SchemaNode(colander.Boolean())


class OpenApiJson(colander.MappingSchema):
    """An OpenAPI 3.0 document."""

    schema_type = staticmethod(_open_mapping)
