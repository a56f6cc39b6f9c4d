"""Money is integer cents; major units are parsed and printed exactly."""

from __future__ import annotations

from decimal import Decimal

import pytest

from framesell.domain.errors import InvalidInput
from framesell.domain.money import Money


@pytest.mark.parametrize(
    ("text", "cents"),
    [("100", 10000), ("59.99", 5999), ("0.1", 10), ("0.29", 29), (" 19.90 ", 1990), (7, 700)],
)
def test_major_units_become_exact_cents(text: str | int, cents: int) -> None:
    assert Money.from_major(text).cents == cents


def test_cents_that_floats_would_round_wrongly_stay_exact() -> None:
    # 0.29 * 100 == 28.999999999999996 in binary floating point.
    assert Money.from_major("0.29").cents == 29
    assert Money(29).major == Decimal("0.29")
    assert Money(10000).major == Decimal("100")


@pytest.mark.parametrize("bad", ["1.001", "abc", "", "-5", "0", "NaN", "Infinity", 1.5, True])
def test_prices_that_are_not_whole_cents_or_positive_are_refused(bad: object) -> None:
    with pytest.raises(InvalidInput):
        Money.from_major(bad)  # type: ignore[arg-type]


def test_money_refuses_floats_negative_amounts_and_unknown_currencies() -> None:
    with pytest.raises(InvalidInput):
        Money(10.5)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        Money(-1)
    with pytest.raises(InvalidInput):
        Money(100, "xyz")


def test_money_prints_with_two_decimals_and_its_currency() -> None:
    assert str(Money(5999)) == "59.99 USD"
