"""The shop's mails: the same content as text and HTML, every value escaped in the HTML."""

from __future__ import annotations

from datetime import timedelta

from framesell.application.mail import ShopMail
from framesell.domain.models import Order, PaymentStatus, ProductSnapshot, User
from framesell.domain.money import Money
from tests.contract.helpers import T0

MARKUP = '<img src=x onerror="alert(1)">'
SHOPPER = User(7, "ada@example.com", "Ada <b>", "L", "hash", False)
ORDER = Order(
    12, 7, ProductSnapshot(3, MARKUP, "https://p.example/x.jpg", Money(5999)), T0,
    PaymentStatus.PAID,
)  # fmt: skip


def test_values_are_text_in_the_plain_part_and_escaped_in_the_html_part() -> None:
    mail = ShopMail(owner="owner@example.com").order_confirmation(ORDER, SHOPPER)
    assert f"“{MARKUP}” for $59.99" in mail.text
    assert "<img" not in mail.html and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in mail.html
    assert "Hello Ada &lt;b&gt;," in mail.html


def test_the_sale_notice_goes_to_the_owner_and_the_reset_mail_holds_the_link_once() -> None:
    shop = ShopMail(owner="owner@example.com")
    assert shop.sale_notice(ORDER, SHOPPER).to == "owner@example.com"
    reset = shop.password_reset(SHOPPER, "https://shop.example/#/reset-password?token=abc",
                                timedelta(hours=1))  # fmt: skip
    assert reset.to == SHOPPER.email
    assert reset.text.count("https://shop.example/#/reset-password?token=abc") == 1
    assert "within 60 minutes" in reset.text
