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


def test_a_cart_order_mail_names_each_line_the_address_and_the_downloads() -> None:
    from dataclasses import replace

    from framesell.domain.models import FormatKind, OrderItem, ShippingAddress

    print_line = OrderItem(1, 3, "Macaw", "https://p.example/m.jpg", 8, FormatKind.PRINT,
                           "30x45 cm", 2, Money(4500))
    download = OrderItem(2, 4, "Bridge", "https://p.example/b.jpg", 9, FormatKind.DIGITAL,
                         "Digital download", 1, Money(2000))
    address = ShippingAddress.new(name="Ada L", line1="1 Main St", city="Brooklyn",
                                  postal_code="11201", country="US")
    order = replace(ORDER, items=(print_line, download), shipping=address,
                    shipping_price=Money(900))
    text = ShopMail().order_confirmation(order, SHOPPER).text
    assert "2 x “Macaw” (30x45 cm), “Bridge” (Digital download) for $119.00." in text
    assert "preparing your prints for Ada L, Brooklyn." in text
    assert "Your download is ready" in text
    downloads_only = replace(ORDER, items=(download,))
    assert "prints" not in ShopMail().order_confirmation(downloads_only, SHOPPER).text
