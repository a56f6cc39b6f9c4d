"""Colander schemas for request bodies and headers, strict about types (never str() or int()).

Each type, validator and preparer of our own says how it changes the JSON it accepts, for
the OpenAPI document (``openapi.JsonSchemaConverter``): a type by its ``json_schema()``, a
validator by the keywords its ``json_schema(trims=...)`` adds, a preparer that trims blanks
by ``trims_blanks``. Colander's own types and validators the converter knows itself.
"""

from __future__ import annotations

import re
from typing import Any, Protocol, runtime_checkable

import colander

from framesell.application.idempotency import MAX_KEY_LENGTH
from framesell.domain.models import MAX_ORDER_LINES, MAX_QUANTITY

PAYMENT_TOKEN = re.compile(r"^(tok|pm|ctoken)_[A-Za-z0-9_]{1,250}$")
# The column that keeps a payment token (orders.attempt_payment_token) holds 255 characters.
MAX_PAYMENT_TOKEN_LENGTH = 255
DIGITS = re.compile(r"^\s*[0-9]{1,18}\s*$")
MAX_ID = 2**53  # the largest integer every JSON client reads exactly
PRICE_TEXT = re.compile(r"[0-9]{1,6}(\.[0-9]{1,2})?")

JsonSchema = dict[str, Any]


@runtime_checkable
class DescribedType(Protocol):
    """A Colander type that describes the JSON it accepts as a JSON Schema (OpenAPI 3.0)."""

    def json_schema(self) -> JsonSchema:
        """The schema of the values this type reads."""
        ...


@runtime_checkable
class DescribedValidator(Protocol):
    """A Colander validator that says which JSON Schema keywords describe what it refuses."""

    def json_schema(self, *, trims: bool) -> JsonSchema:
        """The keywords to add; ``trims`` when a preparer trims blanks before validating."""
        ...


def match_pattern(pattern: str, *, trims: bool) -> str:
    """Colander's ``re.match`` of ``pattern`` as a JSON Schema (searching) pattern.

    Anchored at the start, and at the end if the pattern was; blanks allowed around the
    text when a preparer trims them before the validator sees it.
    """
    core = pattern.removeprefix("^")
    ends = core.endswith("$") and not core.endswith("\\$")
    if ends:
        core = core[:-1]
    blank = r"\s*" if trims else ""
    return f"^{blank}(?:{core}){blank + '$' if ends else ''}"


class StrictString(colander.String):
    """A string that refuses numbers, lists and objects instead of calling str() on them."""

    def deserialize(self, node: colander.SchemaNode, cstruct: Any) -> Any:
        """Return the text, colander.null for null, or raise Invalid for other types."""
        if cstruct is None or cstruct is colander.null:
            return colander.null
        if not isinstance(cstruct, str):
            raise colander.Invalid(node, "must be a string")
        return super().deserialize(node, cstruct)


class PositiveId(colander.SchemaType):
    """An id given as a JSON integer or a numeric string; refuses floats, booleans, lists."""

    def json_schema(self) -> JsonSchema:
        """An integer from 1 to ``MAX_ID``, or the digits of one."""
        return {
            "anyOf": [
                {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                {"type": "string", "pattern": DIGITS.pattern},
            ]
        }

    def serialize(self, node: colander.SchemaNode, appstruct: Any) -> Any:
        """Ids are sent back as plain integers."""
        return colander.null if appstruct is colander.null else int(appstruct)

    def deserialize(self, node: colander.SchemaNode, cstruct: Any) -> Any:
        """Return a positive int or raise Invalid with a readable message."""
        if cstruct is None or cstruct is colander.null or cstruct == "":
            return colander.null
        if isinstance(cstruct, bool):
            raise colander.Invalid(node, "must be a product id (a positive integer)")
        if isinstance(cstruct, int):
            value = cstruct
        elif isinstance(cstruct, str) and DIGITS.match(cstruct):
            value = int(cstruct)
        else:
            raise colander.Invalid(node, "must be a product id (a positive integer)")
        if not 1 <= value <= MAX_ID:
            raise colander.Invalid(node, "must be a product id (a positive integer)")
        return value


class StripBlanks:
    """Preparer: text without surrounding blanks (validators then see the trimmed text)."""

    trims_blanks = True  # so the OpenAPI document allows blanks around what validators check

    def __call__(self, value: Any) -> Any:
        """The text trimmed; anything else as it is."""
        return value.strip() if isinstance(value, str) else value


strip_blanks = StripBlanks()


class NotBlank:
    """Validator: refuse text that is empty once trimmed."""

    def __call__(self, node: colander.SchemaNode, value: str) -> None:
        """Raise Invalid for empty text."""
        if not value:
            raise colander.Invalid(node, "may not be blank")

    def json_schema(self, *, trims: bool) -> JsonSchema:
        """Something other than blanks."""
        return {"pattern": r"\S"}


not_blank = NotBlank()


class LoginSchema(colander.MappingSchema):
    """POST /api/api-token-auth/: the email (as ``username``) and the password."""

    username = colander.SchemaNode(
        StrictString(), validator=colander.Length(max=1024), example="dummy@user.com"
    )
    password = colander.SchemaNode(
        StrictString(), validator=colander.Length(max=4096), example="password"
    )


class SignupSchema(colander.MappingSchema):
    """POST /api/signup/: a new shopper's names, email and password."""

    first_name = colander.SchemaNode(
        StrictString(), preparer=strip_blanks, validator=not_blank, example="foo"
    )
    last_name = colander.SchemaNode(
        StrictString(), preparer=strip_blanks, validator=not_blank, example="bar"
    )
    email = colander.SchemaNode(
        StrictString(),
        preparer=strip_blanks,
        validator=not_blank,
        example="foobar@gmail.com",
        description="an email address, not registered yet (compared case-insensitively)",
    )
    password = colander.SchemaNode(
        StrictString(), example="password", description="8 to 1024 characters"
    )


class Quantity(colander.SchemaType):
    """How many of a line: a JSON integer from 1 to 99 (not a float, boolean or text)."""

    def json_schema(self) -> JsonSchema:
        """An integer from 1 to ``MAX_QUANTITY``."""
        return {"type": "integer", "minimum": 1, "maximum": MAX_QUANTITY}

    def serialize(self, node: colander.SchemaNode, appstruct: Any) -> Any:
        """Quantities are sent back as plain integers."""
        return appstruct

    def deserialize(self, node: colander.SchemaNode, cstruct: Any) -> Any:
        """Return the int or raise Invalid."""
        if cstruct is None or cstruct is colander.null:
            return colander.null
        if isinstance(cstruct, bool) or not isinstance(cstruct, int):
            raise colander.Invalid(node, f"must be a whole number from 1 to {MAX_QUANTITY}")
        if not 1 <= cstruct <= MAX_QUANTITY:
            raise colander.Invalid(node, f"must be a whole number from 1 to {MAX_QUANTITY}")
        return cstruct


class FormatId(PositiveId):
    """A format's id; null or absent means the digital download, "" is no id at all."""

    def deserialize(self, node: colander.SchemaNode, cstruct: Any) -> Any:
        """Refuse "" (which PositiveId reads as absent); otherwise as PositiveId."""
        if cstruct == "":
            raise colander.Invalid(node, "must be a format id (a positive integer)")
        return super().deserialize(node, cstruct)


class CartItemSchema(colander.MappingSchema):
    """One line of a cart: a photo, a format of it, how many."""

    product = colander.SchemaNode(PositiveId(), example=1)
    format = colander.SchemaNode(
        FormatId(),
        missing=None,
        example=2,
        description="one of the product's format ids; its digital download when absent",
    )
    quantity = colander.SchemaNode(
        Quantity(), missing=1, example=1, description=f"1 to {MAX_QUANTITY}; a download is 1"
    )


class NullableSequence(colander.Sequence):
    """A JSON array, or null for "not given"."""

    def deserialize(
        self, node: colander.SchemaNode, cstruct: Any, accept_scalar: Any = None
    ) -> Any:
        """Read null as absent; otherwise as Colander's Sequence does."""
        return super().deserialize(node, colander.null if cstruct is None else cstruct)


def _nullable_sequence() -> colander.Sequence:
    return NullableSequence()


class CartItemsSchema(colander.SequenceSchema):
    """The lines of a cart."""

    schema_type = staticmethod(_nullable_sequence)

    item = CartItemSchema()


def _address_text(example: str, *, required: bool = True) -> colander.SchemaNode:
    return colander.SchemaNode(
        StrictString(),
        preparer=strip_blanks,
        validator=colander.Length(max=200),
        missing=colander.required if required else "",
        example=example,
    )


class NullableMapping(colander.Mapping):
    """A JSON object, or null for "not given"."""

    def deserialize(self, node: colander.SchemaNode, cstruct: Any) -> Any:
        """Read null as absent; otherwise as Colander's Mapping does."""
        return super().deserialize(node, colander.null if cstruct is None else cstruct)


def _nullable_mapping() -> colander.Mapping:
    return NullableMapping()


class ShippingSchema(colander.MappingSchema):
    """Where prints are shipped, in Stripe's address field names."""

    schema_type = staticmethod(_nullable_mapping)

    name = _address_text("Ada Lovelace")
    line1 = _address_text("1 Main Street")
    line2 = _address_text("Apt 2", required=False)
    city = _address_text("Brooklyn")
    postal_code = _address_text("11201")
    country = colander.SchemaNode(
        StrictString(),
        preparer=strip_blanks,
        validator=colander.Regex(r"^[A-Za-z]{2}$", msg="must be a two-letter country code"),
        example="US",
        description="ISO 3166-1 alpha-2",
    )


class PasswordResetSchema(colander.MappingSchema):
    """POST /api/password-reset/: the account's email."""

    email = colander.SchemaNode(
        StrictString(),
        preparer=strip_blanks,
        validator=colander.All(not_blank, colander.Length(max=1024)),
        example="foobar@gmail.com",
    )


class NewPasswordSchema(colander.MappingSchema):
    """POST /api/password-reset/confirm/: the token from the mail's link and a new password."""

    token = colander.SchemaNode(
        StrictString(), validator=colander.Length(min=1, max=128), example="f9Kq…"
    )
    password = colander.SchemaNode(
        StrictString(), example="a new password", description="8 to 1024 characters"
    )


class PlaceOrderSchema(colander.MappingSchema):
    """POST /api/order/: a Stripe.js token or PaymentMethod, and the product (its digital
    download) or a cart's items with, for prints, the shipping address."""

    one_of_fields = ("product", "items")  # the view checks it; the OpenAPI document says it

    token = colander.SchemaNode(
        StrictString(),
        preparer=strip_blanks,
        validator=colander.All(
            colander.Regex(
                PAYMENT_TOKEN,
                msg="must be a Stripe card token (tok_…), PaymentMethod (pm_…) "
                "or ConfirmationToken (ctoken_…)",
            ),
            colander.Length(max=MAX_PAYMENT_TOKEN_LENGTH),
        ),
        example="pm_card_visa",
    )
    product = colander.SchemaNode(
        PositiveId(),
        missing=None,
        example=1,
        description="the photo whose digital download to buy (the original's request); "
        "or send items instead",
    )
    items = CartItemsSchema(
        missing=None,
        validator=colander.Length(min=1, max=MAX_ORDER_LINES),
        description="the cart: one order and one payment for all of it",
    )
    shipping = ShippingSchema(
        missing=None, description="required when an item is a print; ignored otherwise"
    )


class Price(colander.SchemaType):
    """A price in major units as a JSON number or string (``100``, ``59.99``, ``"59.99"``)."""

    def json_schema(self) -> JsonSchema:
        """A positive number below a million, or its text, with at most two decimals."""
        return {
            "anyOf": [
                {
                    "type": "number",
                    "minimum": 0,
                    "exclusiveMinimum": True,
                    "maximum": 999999.99,
                },
                {"type": "string", "pattern": rf"^\s*(?:{PRICE_TEXT.pattern})\s*$"},
            ],
            "description": "dollars: 100, 59.99 or \"59.99\"; at most two decimals",
        }

    def serialize(self, node: colander.SchemaNode, appstruct: Any) -> Any:
        """Prices go out through the serializers, not through Colander."""
        return appstruct

    def deserialize(self, node: colander.SchemaNode, cstruct: Any) -> Any:
        """Return the exact decimal text, or raise Invalid for other types and bad numbers."""
        if cstruct is None or cstruct is colander.null or cstruct == "":
            return colander.null
        if isinstance(cstruct, bool) or not isinstance(cstruct, int | float | str):
            raise colander.Invalid(node, "must be a number of dollars, e.g. 59.99")
        # repr of a JSON float is the shortest text that reads back as it: 59.99 → "59.99".
        text = repr(cstruct) if isinstance(cstruct, float) else str(cstruct).strip()
        if not PRICE_TEXT.fullmatch(text):
            raise colander.Invalid(
                node, "must be a positive amount with at most two decimals, below 1000000"
            )
        if re.fullmatch(r"0+(\.0+)?", text):
            raise colander.Invalid(node, "must be greater than zero")
        return text


HTTPS_URL = re.compile(r"https://[^\s/$.?#][^\s]*")
MAX_URL_LENGTH = 2048


class HttpsImageUrl:
    """Validator: an https:// address of at most 2048 characters."""

    def __call__(self, node: colander.SchemaNode, value: str) -> None:
        """Raise Invalid for anything but an https:// address of at most 2048 characters."""
        if not HTTPS_URL.fullmatch(value) or len(value) > MAX_URL_LENGTH:
            raise colander.Invalid(node, "must be an https:// address of an image")

    def json_schema(self, *, trims: bool) -> JsonSchema:
        """The address's form (its length is left to words)."""
        return {"pattern": match_pattern(HTTPS_URL.pattern + "$", trims=trims)}


https_image_url = HttpsImageUrl()


class ProductSchema(colander.MappingSchema):
    """POST /api/product/ and PUT /api/product/{id}/: a photo for sale."""

    description = colander.SchemaNode(
        StrictString(),
        preparer=strip_blanks,
        validator=colander.All(not_blank, colander.Length(max=500)),
        example="Brooklyn Bridge",
    )
    url = colander.SchemaNode(
        StrictString(),
        preparer=strip_blanks,
        validator=https_image_url,
        example="https://photos.example.com/brooklyn-bridge.jpg",
    )
    price = colander.SchemaNode(Price(), example=59.99)
    currency = colander.SchemaNode(
        StrictString(), missing="usd", validator=colander.OneOf(["usd"]), example="usd"
    )


class FormatSchema(colander.MappingSchema):
    """POST /api/product/{id}/formats/ and PUT …/formats/{format}/: a print size and price."""

    label = colander.SchemaNode(
        StrictString(),
        preparer=strip_blanks,
        validator=colander.All(not_blank, colander.Length(max=100)),
        example="30x45 cm",
    )
    price = colander.SchemaNode(Price(), example=79)
    currency = colander.SchemaNode(
        StrictString(), missing="usd", validator=colander.OneOf(["usd"]), example="usd"
    )


class ProductFileSchema(colander.MappingSchema):
    """PUT /api/product/{id}/file/: the full-resolution file a digital purchase delivers."""

    file = colander.SchemaNode(
        StrictString(),
        preparer=strip_blanks,
        validator=https_image_url,
        example="https://files.example.com/originals/brooklyn-bridge.tif",
    )


class RefundAmount(Price):
    """A refund's amount: a price, never blank or null (leave the field out to refund all)."""

    def deserialize(self, node: colander.SchemaNode, cstruct: Any) -> Any:
        """Refuse a blank or null amount; otherwise read it as a price."""
        if cstruct is None or (isinstance(cstruct, str) and not cstruct.strip()):
            raise colander.Invalid(node, "must be a number of dollars, e.g. 59.99")
        return super().deserialize(node, cstruct)


class RefundSchema(colander.MappingSchema):
    """POST /api/order/{id}/refund/: how much to give back; all that is left when absent."""

    amount = colander.SchemaNode(
        RefundAmount(),
        missing=None,
        example=10,
        description="in major units like price; more than is left to refund is 409",
    )


# Request headers, described as Colander nodes so the OpenAPI document is generated from them
# like the bodies (the views read and check these headers themselves).
IDEMPOTENCY_KEY = colander.SchemaNode(
    StrictString(),
    name="Idempotency-Key",
    missing=colander.drop,
    validator=colander.Regex(rf"^[\x20-\x7e]{{1,{MAX_KEY_LENGTH}}}$"),
    description="Optional, chosen by the client: repeating a request with the same key and "
    "body replays the first answer and never charges twice; another body with the same "
    "key is 422, and 409 while the first request is still in flight.",
)
STRIPE_SIGNATURE = colander.SchemaNode(
    StrictString(),
    name="Stripe-Signature",
    description="Stripe's signature of the raw body with the webhook secret (400 if bad).",
)
IF_NONE_MATCH = colander.SchemaNode(
    StrictString(),
    name="If-None-Match",
    missing=colander.drop,
    description="The ETag of a copy the client has; 304 without a body if it is current.",
)


def _query(name: str, description: str) -> colander.SchemaNode:
    return colander.SchemaNode(
        colander.String(), name=name, missing=colander.drop, description=description
    )


ORDER_SEARCH = (
    _query("status", "only orders in this status (PENDING, PAID, FAILED, PARTIALLY_REFUNDED, "
           "REFUNDED)"),
    _query("q", "an order id (123 or #123) or the beginning of a shopper's email"),
    _query("page", "the page, from 1 (default 1)"),
    _query("per_page", "orders per page, 1 to 100 (default 20)"),
)
