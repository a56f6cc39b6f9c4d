"""Colander schemas for request bodies, strict about types (no silent str() or int())."""

from __future__ import annotations

import re
from typing import Any

import colander

PAYMENT_TOKEN = re.compile(r"^(tok|pm|ctoken)_[A-Za-z0-9_]{1,250}$")
DIGITS = re.compile(r"^\s*[0-9]{1,18}\s*$")


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
        if not 1 <= value <= 2**53:
            raise colander.Invalid(node, "must be a product id (a positive integer)")
        return value


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _not_blank(node: colander.SchemaNode, value: str) -> None:
    if not value:
        raise colander.Invalid(node, "may not be blank")


class LoginSchema(colander.MappingSchema):
    """POST /api/api-token-auth/: the email (as ``username``) and the password."""

    username = colander.SchemaNode(StrictString(), validator=colander.Length(max=1024))
    password = colander.SchemaNode(StrictString(), validator=colander.Length(max=4096))


class SignupSchema(colander.MappingSchema):
    """POST /api/signup/: a new shopper's names, email and password."""

    first_name = colander.SchemaNode(StrictString(), preparer=_strip, validator=_not_blank)
    last_name = colander.SchemaNode(StrictString(), preparer=_strip, validator=_not_blank)
    email = colander.SchemaNode(StrictString(), preparer=_strip, validator=_not_blank)
    password = colander.SchemaNode(StrictString())


class PlaceOrderSchema(colander.MappingSchema):
    """POST /api/order/: a Stripe.js token or PaymentMethod and the product to buy."""

    token = colander.SchemaNode(
        StrictString(),
        preparer=_strip,
        validator=colander.Regex(
            PAYMENT_TOKEN,
            msg="must be a Stripe card token (tok_…), PaymentMethod (pm_…) "
            "or ConfirmationToken (ctoken_…)",
        ),
    )
    product = colander.SchemaNode(PositiveId())


class Price(colander.SchemaType):
    """A price in major units as a JSON number or string (``100``, ``59.99``, ``"59.99"``)."""

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
        if not re.fullmatch(r"[0-9]{1,6}(\.[0-9]{1,2})?", text):
            raise colander.Invalid(
                node, "must be a positive amount with at most two decimals, below 1000000"
            )
        if re.fullmatch(r"0+(\.0+)?", text):
            raise colander.Invalid(node, "must be greater than zero")
        return text


def _https_url(node: colander.SchemaNode, value: str) -> None:
    if not re.fullmatch(r"https://[^\s/$.?#][^\s]*", value) or len(value) > 2048:
        raise colander.Invalid(node, "must be an https:// address of an image")


class ProductSchema(colander.MappingSchema):
    """POST /api/product/ and PUT /api/product/{id}/: a photo for sale."""

    description = colander.SchemaNode(
        StrictString(),
        preparer=_strip,
        validator=colander.All(_not_blank, colander.Length(max=500)),
    )
    url = colander.SchemaNode(StrictString(), preparer=_strip, validator=_https_url)
    price = colander.SchemaNode(Price())
    currency = colander.SchemaNode(
        StrictString(), missing="usd", validator=colander.OneOf(["usd"])
    )
