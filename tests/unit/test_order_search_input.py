"""The owner's order search as typed into the query string: defaults, limits and messages."""

from __future__ import annotations

import pytest

from framesell.application.orders import order_search
from framesell.domain.errors import InvalidInput
from framesell.domain.models import OrderSearch, PaymentStatus


def test_nothing_typed_is_the_first_page_of_twenty_of_every_order() -> None:
    assert order_search() == OrderSearch(
        status=None, order_id=None, email_prefix=None, page=1, per_page=20
    )


def test_an_empty_page_is_the_first_and_per_page_stays_at_most_100() -> None:
    assert order_search(page="", per_page="100") == OrderSearch(page=1, per_page=100)
    with pytest.raises(InvalidInput) as refused:
        order_search(per_page="101")
    assert (refused.value.field, str(refused.value)) == ("per_page", "per_page is at most 100")


def test_an_unknown_status_is_refused_naming_every_status() -> None:
    assert order_search(status=" paid ").status is PaymentStatus.PAID
    with pytest.raises(InvalidInput) as refused:
        order_search(status="LOST")
    assert refused.value.field == "status"
    assert str(refused.value) == (
        "status must be one of PENDING, PAID, FAILED, PARTIALLY_REFUNDED, REFUNDED"
    )


def test_a_query_holds_at_most_254_characters() -> None:
    longest = "a" * 250 + "@x.y"
    assert order_search(query=longest).email_prefix == longest
    with pytest.raises(InvalidInput) as refused:
        order_search(query=longest + "z")
    assert (refused.value.field, str(refused.value)) == ("q", "q is at most 254 characters")


def test_an_order_number_has_at_most_18_digits_a_longer_one_is_an_email_start() -> None:
    assert order_search(query="#" + "9" * 18) == OrderSearch(order_id=int("9" * 18))
    assert order_search(query="9" * 19) == OrderSearch(email_prefix="9" * 19)


@pytest.mark.parametrize("name", ["page", "per_page"])
def test_page_numbers_have_at_most_nine_digits(name: str) -> None:
    assert getattr(order_search(**{name: "99"}), name) == 99
    if name == "page":
        assert order_search(page="999999999").page == 999_999_999
    with pytest.raises(InvalidInput) as refused:
        order_search(**{name: "1000000000"})
    assert (refused.value.field, str(refused.value)) == (
        name, f"{name} must be a whole number from 1"
    )
