"""The shop in a real browser, against the real server and the fake Stripe."""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Callable
from typing import Any

import jwt
import pytest

from tests.conftest import missing_component
from tests.e2e.conftest import XSS_DESCRIPTION, Shop

try:
    from playwright.sync_api import Page, expect
except ImportError as error:  # a laptop without Playwright: a skip there, a failure in CI
    missing_component(f"Playwright for Python cannot be imported ({error})")

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PASSWORD = "a good long password"
VISA = "4242424242424242"
DECLINED = "4000000000000002"
THREE_D_SECURE = "4000002760003184"
MACAW = "Scarlet Macaw"
BRIDGE = "Brooklyn Bridge at Dusk"
SUBMITTED = "Your order has been submitted for processing."
_numbers = itertools.count(1)


def unique_email() -> str:
    """An email no other test (and no earlier run against the same server) uses."""
    return f"shopper-{uuid.uuid4().hex[:8]}-{next(_numbers)}@example.com"


def sign_up(page: Page, first_name: str = "Ada", last_name: str = "Lovelace") -> str:
    """Sign up on the log-in page (which logs in) and wait for the catalog; returns the email."""
    email = unique_email()
    page.goto("/#/login")
    page.get_by_test_id("signup-first-name").fill(first_name)
    page.get_by_test_id("signup-last-name").fill(last_name)
    page.get_by_test_id("signup-email").fill(email)
    page.get_by_test_id("signup-password").fill(PASSWORD)
    page.get_by_test_id("signup-password-repeat").fill(PASSWORD)
    page.get_by_test_id("signup-submit").click()
    expect(page.get_by_test_id("catalog")).to_be_visible()
    return email


def log_in(page: Page, email: str) -> None:
    """Log in on the log-in page (from the menu if it is not shown) and wait for the catalog."""
    if not page.get_by_test_id("login-form").is_visible():
        page.get_by_test_id("nav-login").click()
    page.get_by_test_id("login-email").fill(email)
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("catalog")).to_be_visible()


def open_card_form(page: Page, shop: Shop, description: str, *, tap: bool = False) -> None:
    """Press the Pay button of one product and wait for the card form to be ready."""
    product = shop.product(description)
    button = page.locator(f'[data-testid="pay-button"][data-product-id="{product["id"]}"]')
    if tap:
        button.tap()
    else:
        button.click()
    expect(page.get_by_test_id("card-modal")).to_be_visible()
    expect(page.get_by_test_id("submit-payment")).to_be_enabled()


def fill_card(page: Page, number: str) -> None:
    """Type a card into the card element, as the Stripe.js in the page renders it.

    Stripe's own Stripe.js draws one iframe; the fake Stripe's stand-in draws plain inputs
    (number, exp_month, exp_year, cvc, postal_code) inside the card element.
    """
    card = page.get_by_test_id("card-element")
    if card.locator("iframe").count():
        frame = card.frame_locator("iframe").first
        frame.locator('[name="cardnumber"]').fill(number)
        frame.locator('[name="exp-date"]').fill("12 / 34")
        frame.locator('[name="cvc"]').fill("123")
        frame.locator('[name="postal"]').fill("10001")
        return
    card.get_by_placeholder("number").fill(number)
    card.get_by_placeholder("exp_month").fill("12")
    card.get_by_placeholder("exp_year").fill("34")
    card.get_by_placeholder("cvc").fill("123")
    card.get_by_placeholder("postal_code").fill("10001")


def pay(page: Page, number: str) -> None:
    """Fill in the card and press Pay."""
    fill_card(page, number)
    page.get_by_test_id("submit-payment").click()


def see_my_orders(page: Page) -> None:
    """From the success panel to the orders page."""
    page.get_by_test_id("view-orders").click()
    expect(page.get_by_test_id("orders-list")).to_be_visible()


def session_token(page: Page) -> str:
    """The JWT the shop keeps for this tab."""
    token = page.evaluate("() => sessionStorage.getItem('framesell.token')")
    assert token, "the shop keeps no token in sessionStorage"
    return str(token)


def test_a_new_shopper_signs_up_logs_in_and_buys_a_photo_that_shows_paid(
    page: Page, shop: Shop
) -> None:
    email = sign_up(page)
    page.get_by_test_id("logout").click()
    expect(page.get_by_test_id("logout-notice")).to_be_visible()
    log_in(page, email)
    expect(page.get_by_test_id("product-card")).to_have_count(len(shop.products))
    expect(page.get_by_test_id("product-title")).to_contain_text([BRIDGE, MACAW])

    open_card_form(page, shop, MACAW)
    expect(page.get_by_test_id("submit-payment")).to_have_text("Pay $59.99")
    pay(page, VISA)

    expect(page.get_by_test_id("order-success")).to_contain_text(SUBMITTED)
    see_my_orders(page)
    expect(page.get_by_test_id("orders-greeting")).to_have_text("Hello, Ada Lovelace")
    row = page.get_by_test_id("order-row")
    expect(row).to_have_count(1)
    expect(row.get_by_test_id("order-title")).to_have_text(MACAW)
    expect(row.get_by_test_id("order-price")).to_have_text("$59.99")
    expect(row.get_by_test_id("order-status")).to_have_text("PAID")
    expect(row).to_have_attribute("data-status", "PAID")


def test_a_declined_card_shows_the_decline_and_a_second_card_pays(page: Page, shop: Shop) -> None:
    sign_up(page)
    open_card_form(page, shop, BRIDGE)
    pay(page, DECLINED)

    expect(page.get_by_test_id("payment-error")).to_have_text("Your card was declined.")
    expect(page.get_by_test_id("order-success")).to_be_hidden()
    pay(page, VISA)

    expect(page.get_by_test_id("order-success")).to_contain_text(SUBMITTED)
    see_my_orders(page)
    rows = page.get_by_test_id("order-row")
    # The declined attempt is not an order to the shopper (the API still lists it).
    expect(rows).to_have_count(1)
    expect(rows.get_by_test_id("order-status")).to_have_text(["PAID"])
    expect(rows.get_by_test_id("order-price")).to_have_text(["$100.00"])
    orders = shop.api("GET", "/api/order/", session_token(page))
    assert [o["paymentstatus"] for o in orders] == ["FAILED", "PAID"]


def test_a_3d_secure_card_pays_once_the_shopper_completes_the_challenge(
    page: Page, shop: Shop
) -> None:
    sign_up(page)
    open_card_form(page, shop, MACAW)
    pay(page, THREE_D_SECURE)

    page.get_by_role("button", name="Complete authentication").click()

    expect(page.get_by_test_id("order-success")).to_contain_text(SUBMITTED)
    see_my_orders(page)
    row = page.get_by_test_id("order-row")
    expect(row).to_have_count(1)
    expect(row.get_by_test_id("order-status")).to_have_text("PAID")
    expect(row.get_by_test_id("order-price")).to_have_text("$59.99")


def test_a_3d_secure_card_is_not_charged_when_the_challenge_fails(page: Page, shop: Shop) -> None:
    sign_up(page)
    open_card_form(page, shop, MACAW)
    pay(page, THREE_D_SECURE)

    page.get_by_role("button", name="Fail authentication").click()

    expect(page.get_by_test_id("payment-error")).to_be_visible()
    expect(page.get_by_test_id("order-success")).to_be_hidden()
    orders = shop.api("GET", "/api/order/", session_token(page))
    assert [order["paymentstatus"] for order in orders] == ["FAILED"]
    page.get_by_test_id("card-modal-close").click()
    page.get_by_test_id("nav-orders").click()
    # A declined attempt is not shown as an order.
    expect(page.get_by_test_id("orders-empty")).to_be_visible()


def test_double_clicking_pay_buys_the_photo_only_once(page: Page, shop: Shop) -> None:
    sign_up(page)
    open_card_form(page, shop, BRIDGE)
    fill_card(page, VISA)

    page.get_by_test_id("submit-payment").dblclick()

    expect(page.get_by_test_id("order-success")).to_contain_text(SUBMITTED)
    orders = shop.api("GET", "/api/order/", session_token(page))
    assert [(o["product"]["description"], o["paymentstatus"]) for o in orders] == [(BRIDGE, "PAID")]
    see_my_orders(page)
    expect(page.get_by_test_id("order-row")).to_have_count(1)


def test_a_product_description_with_markup_is_shown_as_text(page: Page, shop: Shop) -> None:
    sign_up(page)
    product = shop.product(XSS_DESCRIPTION)
    card = page.locator(f'[data-testid="product-card"][data-product-id="{product["id"]}"]')

    expect(card.get_by_test_id("product-title")).to_have_text(XSS_DESCRIPTION)
    expect(card.get_by_test_id("photo-placeholder")).to_be_visible()
    open_card_form(page, shop, XSS_DESCRIPTION)
    expect(page.get_by_test_id("card-modal")).to_contain_text(f"Buy “{XSS_DESCRIPTION}”")
    pay(page, VISA)
    expect(page.get_by_test_id("order-success")).to_contain_text(XSS_DESCRIPTION)
    see_my_orders(page)

    expect(page.get_by_test_id("order-title")).to_have_text(XSS_DESCRIPTION)
    expect(page.locator('img[src="x"]')).to_have_count(0)
    # The page fixture fails the test if alert() (or any dialog) was called.


def expired_copy(token: str, secret: str) -> str:
    """The same token, signed with the same secret, but expired a minute ago."""
    claims = jwt.decode(token, options={"verify_signature": False})
    now = int(time.time())
    claims.update(iat=now - 3660, exp=now - 60)
    return jwt.encode(claims, secret, algorithm="HS256")


def test_an_expired_session_sends_the_shopper_back_to_login(page: Page, shop: Shop) -> None:
    email = sign_up(page)
    expired = expired_copy(session_token(page), shop.settings["framesell.jwt.secret"])
    page.evaluate("(token) => sessionStorage.setItem('framesell.token', token)", expired)

    page.get_by_test_id("nav-orders").click()

    expect(page.get_by_test_id("session-expired")).to_have_text(
        "Your session has expired, please log in again."
    )
    expect(page.get_by_test_id("login-form")).to_be_visible()
    expect(page.get_by_test_id("logout")).to_be_hidden()
    expect(page.get_by_test_id("nav-orders")).to_be_hidden()
    assert page.evaluate("() => sessionStorage.getItem('framesell.token')") is None
    # Logging in again comes back to where the shopper was: the orders page.
    page.get_by_test_id("login-email").fill(email)
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("orders-greeting")).to_have_text("Hello, Ada Lovelace")


def test_a_shopper_on_a_phone_buys_a_photo(open_page: Callable[..., Any], shop: Shop) -> None:
    phone = open_page(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    sign_up(phone, "Grace", "Hopper")
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= 390

    open_card_form(phone, shop, MACAW, tap=True)
    fill_card(phone, VISA)
    phone.get_by_test_id("submit-payment").tap()

    expect(phone.get_by_test_id("order-success")).to_contain_text(SUBMITTED)
    phone.get_by_test_id("view-orders").tap()
    row = phone.get_by_test_id("order-row")
    expect(row.get_by_test_id("order-status")).to_have_text("PAID")
    expect(row.get_by_test_id("order-price")).to_have_text("$59.99")
    expect(phone.get_by_test_id("orders-greeting")).to_have_text("Hello, Grace Hopper")
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= 390


def test_the_card_form_pays_with_a_payment_method_made_by_stripe_js(
    page: Page, shop: Shop
) -> None:
    sign_up(page)
    open_card_form(page, shop, BRIDGE)
    with page.expect_request(
        lambda r: r.method == "POST" and r.url.endswith("/api/order/")
    ) as sent:
        pay(page, VISA)
    # A pm_ from createPaymentMethod, so the server makes one Stripe call, not a tok_.
    assert sent.value.post_data_json["token"].startswith("pm_")
    expect(page.get_by_test_id("order-success")).to_contain_text(SUBMITTED)
