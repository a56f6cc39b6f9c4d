"""Money as an integer number of minor units (cents) and a currency; never a float."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from framesell.domain.errors import InvalidInput

SUPPORTED_CURRENCIES = frozenset({"usd"})
MAX_CENTS = 99_999_999  # $999,999.99: far above any print, far below column limits
# Stripe's smallest charge per currency ("Minimum and maximum charge amounts" in Stripe's
# currency docs): a PaymentIntent for less is refused, so nothing may cost less.
MINIMUM_CHARGE_CENTS = {"usd": 50}


@dataclass(frozen=True, order=True)
class Money:
    """An amount in integer cents of one currency."""

    cents: int
    currency: str = "usd"

    def __post_init__(self) -> None:
        if isinstance(self.cents, bool) or not isinstance(self.cents, int):
            raise InvalidInput("an amount must be a whole number of cents", field="price")
        if self.cents < 0 or self.cents > MAX_CENTS:
            raise InvalidInput("an amount must be between 0 and 999999.99", field="price")
        if self.currency not in SUPPORTED_CURRENCIES:
            raise InvalidInput(f"unsupported currency {self.currency!r}", field="currency")

    @classmethod
    def from_major(cls, value: str | int | Decimal, currency: str = "usd") -> Money:
        """Parse major units (``"59.99"``, ``100``) exactly; more than two decimals is an error."""
        if isinstance(value, bool | float):
            # A float has already lost exactness; callers pass text or Decimal.
            raise InvalidInput("a price must be given as text or an integer", field="price")
        try:
            amount = Decimal(str(value).strip())
        except (InvalidOperation, ValueError):
            raise InvalidInput("a price must be a number", field="price") from None
        if not amount.is_finite():
            raise InvalidInput("a price must be a number", field="price")
        cents = amount * 100
        if cents != cents.to_integral_value():
            raise InvalidInput("a price has at most two decimal places", field="price")
        if amount <= 0:
            raise InvalidInput("a price must be greater than zero", field="price")
        return cls(int(cents), currency)

    @property
    def major(self) -> Decimal:
        """The amount in major units, exactly (``Decimal('59.99')``, ``Decimal('100')``)."""
        if self.cents % 100 == 0:
            return Decimal(self.cents // 100)
        return Decimal(self.cents).scaleb(-2)

    def __str__(self) -> str:
        return f"{Decimal(self.cents).scaleb(-2):.2f} {self.currency.upper()}"
