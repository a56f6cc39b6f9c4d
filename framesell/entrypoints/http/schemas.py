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
