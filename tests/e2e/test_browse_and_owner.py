"""Browse first, the owner's pages and the pages' accessibility, in a real browser."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ARTIFACTS, Shop, check_accessibility
from tests.e2e.photos import photo_url
from tests.e2e.test_shop import (
    MACAW,
    PASSWORD,
    SUBMITTED,
    VISA,
    fill_card,
    log_in,
    sign_up,
    unique_email,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_a_visitor_browses_picks_a_photo_signs_up_in_place_and_pays(
    page: Page, shop: Shop
) -> None:
    page.goto("/")
    expect(page.get_by_test_id("product-card")).to_have_count(len(shop.products))
    expect(page.get_by_test_id("login-form")).to_have_count(0)
    expect(page.get_by_test_id("nav-login")).to_be_visible()
    expect(page.get_by_test_id("logout")).to_be_hidden()
    check_accessibility(page, "the catalog, to a visitor")

    macaw = shop.product(MACAW)
    page.locator(f'[data-testid="pay-button"][data-product-id="{macaw["id"]}"]').click()
    dialog = page.get_by_test_id("auth-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading", level=2).first).to_have_text(
        f"Log in or sign up to buy “{MACAW}”"
    )
    check_accessibility(page, "the log-in or sign-up dialog")
    dialog.get_by_test_id("signup-first-name").fill("Vera")
    dialog.get_by_test_id("signup-last-name").fill("Visitor")
    email = unique_email()
    dialog.get_by_test_id("signup-email").fill(email)
    dialog.get_by_test_id("signup-password").fill(PASSWORD)
    dialog.get_by_test_id("signup-password-repeat").fill(PASSWORD)
    dialog.get_by_test_id("signup-submit").click()

    # The card form opens for the photo chosen before signing up.
    expect(dialog).to_be_hidden()
    expect(page.get_by_test_id("card-modal")).to_contain_text(f"Buy “{MACAW}”")
    expect(page.get_by_test_id("submit-payment")).to_be_enabled()
    expect(page.get_by_test_id("logout")).to_be_visible()
    check_accessibility(page, "the card form")
    fill_card(page, VISA)
    page.get_by_test_id("submit-payment").click()
    expect(page.get_by_test_id("order-success")).to_contain_text(SUBMITTED)
    page.get_by_test_id("view-orders").click()
    row = page.get_by_test_id("order-row")
    expect(row.get_by_test_id("order-title")).to_have_text(MACAW)
    expect(row.get_by_test_id("order-status")).to_have_text("PAID")
    check_accessibility(page, "the orders page")

    # The confirmation came through the real local SMTP server, as text and as HTML.
    (mail,) = shop.mails_to(email)
    order_id = row.get_attribute("data-order-id")
    assert mail["Subject"] == f"Your FrameSell order #{order_id} is paid"
    text = mail.get_body(preferencelist=("plain",)).get_content()
    html = mail.get_body(preferencelist=("html",)).get_content()
    # The mail names the line bought: the photo and its format (the catalog's Pay is its download).
    bought = f"“{MACAW}” (Digital download) for $59.99"
    assert bought in text and bought in html
    assert "Hello Vera," in text


def test_the_log_in_page_passes_the_accessibility_checks(page: Page, shop: Shop) -> None:
    page.goto("/#/login")
    expect(page.get_by_test_id("signup-form")).to_be_visible()
    page.get_by_test_id("signup-submit").click()  # every field's error shown
    expect(page.get_by_test_id("signup-first-name")).to_have_attribute("aria-invalid", "true")
    check_accessibility(page, "the log-in page with errors")


def test_the_owner_adds_a_photo_finds_the_order_and_refunds_part_of_it(
    page: Page, shop: Shop
) -> None:
    owner_email = sign_up(page, "Olga", "Owner")
    shop.make_admin(owner_email)
    page.get_by_test_id("logout").click()
    log_in(page, owner_email)
    expect(page.get_by_test_id("nav-owner-photos")).to_be_visible()
    check_accessibility(page, "the catalog, to the logged-in owner")

    # A new photo, with a preview of its picture before it is saved.
    page.get_by_test_id("nav-owner-photos").click()
    title = f"Northern Lights {uuid.uuid4().hex[:6]}"
    page.get_by_test_id("photo-description").fill(title)
    page.get_by_test_id("photo-url").fill(photo_url("alpine-lake"))
    page.get_by_test_id("photo-price").fill("42.50")
    expect(page.get_by_test_id("photo-preview").locator("img")).to_have_attribute(
        "src", photo_url("alpine-lake")
    )
    check_accessibility(page, "the owner's photos page")
    _screenshot(page, "owner-photos")
    page.get_by_test_id("photo-save").click()
    expect(page.get_by_test_id("photo-saved")).to_have_text(f"“{title}” is now for sale.")
    added = page.get_by_test_id("owner-photo").filter(has_text=title)
    expect(added.get_by_test_id("owner-photo-price")).to_have_text("$42.50")

    # A shopper sees it in the public catalog and buys it.
    shopper = page.context.browser.new_context(base_url=shop.url)  # type: ignore[union-attr]
    try:
        buyer = shopper.new_page()
        buyer_email = sign_up(buyer, "Bea", "Buyer")
        card = buyer.get_by_test_id("product-card").filter(has_text=title)
        expect(card.get_by_test_id("pay-button")).to_have_text("Pay $42.50")
        card.get_by_test_id("pay-button").click()
        expect(buyer.get_by_test_id("submit-payment")).to_be_enabled()
        fill_card(buyer, VISA)
        buyer.get_by_test_id("submit-payment").click()
        expect(buyer.get_by_test_id("order-success")).to_contain_text(SUBMITTED)
    finally:
        shopper.close()

    # The owner finds the order by the shopper's email and refunds $10 of it.
    page.get_by_test_id("nav-owner-orders").click()
    expect(page.get_by_test_id("owner-order").first).to_be_visible()
    page.get_by_test_id("orders-status").select_option("PAID")
    page.get_by_test_id("orders-q").fill(buyer_email)
    page.get_by_test_id("orders-search").click()
    order = page.get_by_test_id("owner-order")
    expect(order).to_have_count(1)
    expect(order.get_by_test_id("owner-order-email")).to_have_text(buyer_email)
    expect(order.get_by_test_id("owner-order-product")).to_have_text(title)
    expect(order.get_by_test_id("owner-order-amount")).to_have_text("$42.50")
    expect(order.get_by_test_id("owner-order-payment")).to_contain_text("pi_")
    expect(page.get_by_test_id("owner-orders-summary")).to_have_text("1 order found · page 1 of 1")
    check_accessibility(page, "the owner's orders page")

    order.get_by_test_id("order-refund").click()
    refund = page.get_by_test_id("refund-dialog")
    expect(refund.get_by_test_id("refund-amount")).to_have_value("42.50")
    check_accessibility(page, "the refund dialog")
    refund.get_by_test_id("refund-amount").fill("10")
    refund.get_by_test_id("refund-submit").click()
    expect(refund).to_have_count(0)
    page.get_by_test_id("orders-status").select_option("")
    page.get_by_test_id("orders-search").click()
    order = page.get_by_test_id("owner-order")
    expect(order.get_by_test_id("owner-order-status")).to_have_text("PARTIALLY_REFUNDED")
    expect(order.get_by_test_id("owner-order-refunded")).to_have_text("$10.00")
    _screenshot(page, "owner-orders")

    # Then the photo is edited and taken off sale again.
    page.get_by_test_id("nav-owner-photos").click()
    added = page.get_by_test_id("owner-photo").filter(has_text=title)
    added.get_by_test_id("photo-edit").click()
    page.get_by_test_id("photo-price").fill("45")
    page.get_by_test_id("photo-save").click()
    expect(added.get_by_test_id("owner-photo-price")).to_have_text("$45.00")
    expect(added.get_by_test_id("photo-remove-confirm")).to_be_hidden()
    added.get_by_test_id("photo-remove").click()
    expect(added.get_by_test_id("photo-edit")).to_be_hidden()  # asked first, in place
    added.get_by_test_id("photo-remove-confirm").click()
    expect(page.get_by_test_id("owner-photo").filter(has_text=title)).to_have_count(0)
    assert title not in [p["description"] for p in shop.api("GET", "/api/product/")]


def _screenshot(page: Page, name: str) -> None:
    """The screen as it is, for the README (docs/screenshots/ holds copies)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.mouse.move(0, 0)
    page.screenshot(path=ARTIFACTS / f"{name}.png", animations="disabled")


def test_a_shopper_is_not_offered_the_owners_pages(page: Page, shop: Shop) -> None:
    sign_up(page)
    expect(page.get_by_test_id("nav-owner-orders")).to_be_hidden()
    page.goto("/#/owner/orders")
    expect(page.get_by_test_id("catalog")).to_be_visible()
    assert page.evaluate("() => location.hash") == "#/"


def test_a_forgotten_password_is_reset_from_the_mails_link(page: Page, shop: Shop) -> None:
    email = sign_up(page, "Fay", "Forgetful")
    page.get_by_test_id("logout").click()
    page.get_by_test_id("nav-login").click()
    page.get_by_test_id("forgot-password").click()
    check_accessibility(page, "the forgot-password page")
    page.get_by_test_id("reset-email").fill(email)
    page.get_by_test_id("reset-request-submit").click()
    expect(page.get_by_test_id("reset-requested")).to_contain_text("works once, within an hour")

    (mail,) = shop.mails_to(email)
    assert mail["Subject"] == "Choose a new FrameSell password"
    text = mail.get_body(preferencelist=("plain",)).get_content()
    (link,) = [word for word in text.split() if word.startswith(shop.url)]
    assert "#/reset-password?token=" in link
    page.goto(link)
    expect(page.get_by_test_id("reset-form")).to_be_visible()
    check_accessibility(page, "the choose-a-new-password page")
    page.get_by_test_id("new-password").fill("my brand new password")
    page.get_by_test_id("new-password-repeat").fill("my brand new password")
    page.get_by_test_id("reset-submit").click()

    expect(page.get_by_test_id("password-changed")).to_be_visible()
    assert "token" not in page.evaluate("() => location.href")
    page.get_by_test_id("login-email").fill(email)
    page.get_by_test_id("login-password").fill("my brand new password")
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("catalog")).to_be_visible()
    # The link worked once.
    page.goto(link)
    page.get_by_test_id("new-password").fill("yet another password")
    page.get_by_test_id("new-password-repeat").fill("yet another password")
    page.get_by_test_id("reset-submit").click()
    expect(page.get_by_test_id("reset-error")).to_have_text(
        "this link is invalid, used or expired; ask for a new one"
    )
    check_accessibility(page, "the choose-a-new-password page with its error")


def test_a_returning_shopper_logs_in_from_pay_and_the_card_form_keeps_the_photo(
    open_page: Any, shop: Shop
) -> None:
    phone = open_page(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    email = sign_up(phone, "Rita", "Returning")
    phone.get_by_test_id("logout").tap()
    bridge = shop.product("Brooklyn Bridge at Dusk")
    phone.locator(f'[data-testid="pay-button"][data-product-id="{bridge["id"]}"]').tap()
    dialog = phone.get_by_test_id("auth-dialog")
    dialog.get_by_test_id("login-email").fill(email)
    dialog.get_by_test_id("login-password").fill(PASSWORD)
    dialog.get_by_test_id("login-submit").tap()

    expect(phone.get_by_test_id("card-modal")).to_contain_text("Buy “Brooklyn Bridge at Dusk”")
    expect(phone.get_by_test_id("submit-payment")).to_have_text("Pay $100.00")
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= 390
