"""What a shopper buys, in a real browser: downloads, prints in sizes, a cart, an address."""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any

import jwt
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ARTIFACTS, Shop, check_accessibility
from tests.e2e.photos import photo_url
from tests.e2e.test_shop import (
    BRIDGE,
    MACAW,
    PASSWORD,
    VISA,
    fill_card,
    log_in,
    session_token,
    sign_up,
    unique_email,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SINGAPORE = "Singapore by Night"
ALPINE = "Alpine Lake"
# The file a paid download of the bridge delivers (served by the tests' photo route).
BRIDGE_FILE = photo_url("brooklyn-bridge")


def call(shop: Shop, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
    """One API call outside the browser, with a JSON body; the decoded answer."""
    request = urllib.request.Request(
        shop.url + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    if token:
        request.add_header("Authorization", f"JWT {token}")
    with urllib.request.urlopen(request, timeout=15) as response:
        return json.load(response)


def account(shop: Shop, *, admin: bool = False) -> str:
    """A new account made through the API; its token."""
    email = unique_email()
    call(shop, "POST", "/api/signup/", {
        "first_name": "Ada", "last_name": "Owner", "email": email, "password": PASSWORD,
    })  # fmt: skip
    if admin:
        shop.make_admin(email)
    login = call(shop, "POST", "/api/api-token-auth/", {"username": email, "password": PASSWORD})
    return str(login["token"])


_admins: dict[str, str] = {}


def owner_token(shop: Shop) -> str:
    """One admin's token for the whole session (accounts are made sparingly)."""
    if shop.url not in _admins:
        _admins[shop.url] = account(shop, admin=True)
    return _admins[shop.url]


def sizes(shop: Shop, description: str, *labelled_prices: tuple[str, str]) -> list[dict[str, Any]]:
    """Sell a photo in print sizes (through the admin API); the formats added."""
    token = owner_token(shop)
    product = shop.product(description)
    return [
        call(shop, "POST", f"/api/product/{product['id']}/formats/",
             {"label": label, "price": price}, token)
        for label, price in labelled_prices
    ]  # fmt: skip


def screenshot(page: Page, name: str) -> None:
    """The screen as it is, for the README (docs/screenshots/ holds copies)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.mouse.move(0, 0)
    page.screenshot(path=ARTIFACTS / f"{name}.png", animations="disabled")


def open_product(page: Page, description: str) -> None:
    page.goto("/#/")
    page.get_by_test_id("product-link").filter(has_text=description).click()
    expect(page.get_by_test_id("product-heading")).to_have_text(description)


def pay_in_dialog(page: Page) -> None:
    expect(page.get_by_test_id("card-modal")).to_be_visible()
    expect(page.get_by_test_id("submit-payment")).to_be_enabled()
    fill_card(page, VISA)
    page.get_by_test_id("submit-payment").click()
    expect(page.get_by_test_id("order-success")).to_be_visible()


def fill_address(page: Page) -> None:
    for name, value in {
        "name": "Ada Lovelace", "line1": "1 Main Street", "line2": "Apt 2",
        "city": "Brooklyn", "postal_code": "11201", "country": "US",
    }.items():  # fmt: skip
        page.get_by_test_id(f"ship-{name}").fill(value)


def newest_order(page: Page, shop: Shop) -> dict[str, Any]:
    orders = call(shop, "GET", "/api/order/", token=session_token(page))
    return dict(orders[-1])


def test_buying_a_digital_download_and_downloading_it(page: Page, shop: Shop) -> None:
    admin = owner_token(shop)
    bridge = shop.product(BRIDGE)
    call(shop, "PUT", f"/api/product/{bridge['id']}/file/", {"file": BRIDGE_FILE}, admin)
    sign_up(page)

    open_product(page, BRIDGE)
    # The whole photo, uncropped, and enlargeable.
    assert (
        page.get_by_test_id("product-photo").evaluate("img => getComputedStyle(img).objectFit")
        == "contain"
    )
    page.get_by_test_id("enlarge").click()
    expect(page.get_by_test_id("lightbox")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("lightbox")).to_have_count(0)
    check_accessibility(page, "the product page")
    page.get_by_test_id("add-to-cart").click()
    expect(page.get_by_test_id("cart-count")).to_have_text("1")
    page.get_by_test_id("go-to-cart").click()
    expect(page.get_by_test_id("cart-line")).to_have_count(1)
    expect(page.get_by_test_id("address-form")).to_have_count(0)  # nothing to ship
    expect(page.get_by_test_id("cart-total")).to_have_text("$100.00")
    check_accessibility(page, "the cart")
    page.get_by_test_id("checkout").click()
    pay_in_dialog(page)

    order = newest_order(page, shop)
    assert [(i["format"]["kind"], i["quantity"]) for i in order["items"]] == [("digital", 1)]
    page.get_by_test_id("view-order").click()
    expect(page).to_have_url(f"{shop.url}/#/order?id={order['id']}")
    expect(page.get_by_test_id("order-page-status")).to_have_text("Paid")
    expect(page.get_by_test_id("order-page-total")).to_have_text("$100.00")
    check_accessibility(page, "the order page")
    with page.expect_response(lambda r: "/api/download/" in r.url) as redirect:
        page.get_by_test_id("download").click()
    assert redirect.value.status == 302
    # The signed link (no token in it, no file location in the page) sends the browser on.
    assert redirect.value.headers["location"] == BRIDGE_FILE


def test_two_prints_in_two_sizes_with_an_address(page: Page, shop: Shop) -> None:
    small, large = sizes(shop, MACAW, ("20x30 cm", "45"), ("50x75 cm", "99.50"))
    sign_up(page)

    open_product(page, MACAW)
    page.get_by_label("20x30 cm").check()
    page.get_by_test_id("quantity").fill("2")
    page.get_by_test_id("add-to-cart").click()
    page.get_by_label("50x75 cm").check()
    page.get_by_test_id("add-to-cart").click()
    screenshot(page, "product")
    expect(page.get_by_test_id("cart-count")).to_have_text("3")
    page.get_by_test_id("nav-cart").click()

    expect(page.get_by_test_id("cart-format")).to_contain_text(["20x30 cm", "50x75 cm"])
    expect(page.get_by_test_id("cart-shipping")).to_have_text("$9.00")
    expect(page.get_by_test_id("cart-total")).to_have_text("$198.50")  # 2 x 45 + 99.50 + 9
    # The browser can fill the address in: every field says what it is.
    assert (
        page.get_by_test_id("ship-line1").get_attribute("autocomplete") == "shipping address-line1"
    )
    assert (
        page.get_by_test_id("ship-postal_code").get_attribute("autocomplete")
        == "shipping postal-code"
    )
    page.get_by_test_id("checkout").click()
    expect(page.get_by_test_id("ship-name")).to_be_focused()  # no address, no payment
    fill_address(page)
    check_accessibility(page, "the cart with its address form")
    screenshot(page, "cart")
    page.get_by_test_id("checkout").click()
    expect(page.get_by_test_id("checkout-total")).to_have_text("$198.50")
    pay_in_dialog(page)

    order = newest_order(page, shop)
    assert [(i["format"]["id"], i["quantity"]) for i in order["items"]] == [
        (small["id"], 2), (large["id"], 1),
    ]  # fmt: skip
    assert order["shipping"]["city"] == "Brooklyn" and order["total"] == 198.5
    page.get_by_test_id("view-orders").click()
    page.get_by_test_id("order-link").first.click()
    expect(page.get_by_test_id("receipt-line")).to_have_count(2)
    expect(page.get_by_test_id("order-page-address")).to_contain_text("1 Main Street")
    expect(page.get_by_test_id("order-page-total")).to_have_text("$198.50")
    expect(page.get_by_test_id("print-receipt")).to_be_visible()
    expect(page.get_by_test_id("download")).to_have_count(0)  # prints are shipped
    screenshot(page, "order")
    page.get_by_test_id("nav-cart").click()
    expect(page.get_by_test_id("cart-empty")).to_be_visible()  # paid: the cart is emptied


def test_a_2017_style_api_purchase_is_a_digital_download(page: Page, shop: Shop) -> None:
    email = sign_up(page)
    token = session_token(page)
    singapore = shop.product(SINGAPORE)
    placed = call(
        shop, "POST", "/api/order/", {"token": "tok_visa", "product": singapore["id"]}, token
    )
    order = placed["order"]
    assert placed["success"] is True and order["paymentstatus"] == "PAID"
    assert order["product"]["price"] == 150 and order["total"] == 150
    ((line),) = order["items"]
    assert (line["format"]["kind"], line["quantity"], order["shipping"]) == ("digital", 1, None)
    # Declined attempts stay in the API but are not shown as orders.
    try:
        call(
            shop,
            "POST",
            "/api/order/",
            {"token": "tok_chargeDeclined", "product": singapore["id"]},
            token,
        )
    except urllib.error.HTTPError as declined:
        assert declined.code == 402
    page.goto("/#/orders")
    expect(page.get_by_test_id("order-row")).to_have_count(1)
    page.get_by_test_id("order-link").click()
    expect(page.get_by_test_id("receipt-line")).to_contain_text("Digital download")
    assert email


FOCUS_CONTRAST = """(el) => {
  const parse = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const style = getComputedStyle(el);
  let node = el.parentElement;
  let background = [255, 255, 255];
  while (node) {
    const c = parse(getComputedStyle(node).backgroundColor);
    if (c.length >= 3 && (c.length < 4 || c[3] > 0.5)) { background = c.slice(0, 3); break; }
    const image = getComputedStyle(node).backgroundImage;
    // The only gradients (the hero) are the ink colour at their lightest.
    if (image && image !== "none") { background = [47, 54, 70]; break; }
    node = node.parentElement;
  }
  const ring = parse(style.outlineColor).slice(0, 3);
  const [a, b] = [lum(ring), lum(background)].sort((x, y) => y - x);
  const ratio = (a + 0.05) / (b + 0.05);
  return { width: parseFloat(style.outlineWidth), style: style.outlineStyle, ratio };
}"""


def focus_ring(page: Page, selector: str) -> dict[str, Any]:
    """Focus an element from the keyboard (so :focus-visible applies) and measure its ring."""
    target = page.locator(selector).first
    target.focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    expect(target).to_be_focused()
    return dict(target.evaluate(FOCUS_CONTRAST))


def test_focus_is_visible_everywhere_at_3_to_1(page: Page, shop: Shop) -> None:
    page.goto("/#/login")
    expect(page.get_by_test_id("login-form")).to_be_visible()
    for selector in (
        "[data-testid=nav-shop]", "[data-testid=nav-cart]", "[data-testid=login-email]",
        "[data-testid=login-submit]", "[data-testid=forgot-password]",
    ):  # fmt: skip
        ring = focus_ring(page, selector)
        assert ring["style"] != "none" and ring["width"] >= 2, (selector, ring)
        assert ring["ratio"] >= 3, (selector, ring)
    sign_up(page)
    page.locator(
        f'[data-testid="pay-button"][data-product-id="{shop.product(ALPINE)["id"]}"]'
    ).click()
    expect(page.get_by_test_id("card-modal")).to_be_visible()
    for selector in ("[data-testid=card-modal-close]", "[data-testid=submit-payment]"):
        page.get_by_test_id("submit-payment").wait_for()
        ring = focus_ring(page, selector)
        assert ring["style"] != "none" and ring["ratio"] >= 3, (selector, ring)


@pytest.mark.parametrize("where", ["/#/", "/#/login", "/#/cart", "/#/product?id=1"])
def test_nothing_scrolls_sideways_at_320_px(open_page: Any, where: str) -> None:
    phone = open_page(viewport={"width": 320, "height": 640}, is_mobile=True, has_touch=True)
    phone.goto(where)
    phone.wait_for_load_state("networkidle")
    widths = phone.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], widths
    if where == "/#/":
        # On a phone the photos, or a clear button to them, are on the first screen.
        cta = phone.get_by_test_id("hero-cta")
        box = cta.bounding_box()
        assert box is not None and box["y"] + box["height"] <= 640


def test_an_expired_session_mid_checkout_keeps_the_cart_and_comes_back(
    page: Page, shop: Shop
) -> None:
    sizes(shop, ALPINE, ("A3", "60"))
    email = sign_up(page)
    open_product(page, ALPINE)
    page.get_by_label("A3").check()
    page.get_by_test_id("add-to-cart").click()
    page.get_by_test_id("go-to-cart").click()
    fill_address(page)

    # The session runs out while the shopper is at checkout.
    claims = jwt.decode(session_token(page), options={"verify_signature": False})
    claims["exp"] = int(time.time()) - 5
    expired = jwt.encode(claims, shop.settings["framesell.jwt.secret"], algorithm="HS256")
    page.evaluate("(t) => sessionStorage.setItem('framesell.token', t)", expired)
    page.get_by_test_id("checkout").click()
    pay_attempt = page.get_by_test_id("submit-payment")
    expect(pay_attempt).to_be_enabled()
    fill_card(page, VISA)
    pay_attempt.click()
    expect(page.get_by_test_id("session-expired")).to_be_visible()
    expect(page.get_by_test_id("session-expired")).not_to_contain_text("Signature")

    log_in_again(page, email)
    expect(page.get_by_test_id("cart-line")).to_have_count(1)  # back at the cart, intact
    expect(page.get_by_test_id("ship-city")).to_have_value("Brooklyn")  # the address too
    page.get_by_test_id("checkout").click()
    pay_in_dialog(page)

    # And an expired session is noticed as the page loads, not only at Pay.
    page.evaluate("(t) => sessionStorage.setItem('framesell.token', t)", expired)
    page.goto("/#/cart")
    page.reload()
    expect(page.get_by_test_id("session-expired")).to_be_visible()


def log_in_again(page: Page, email: str) -> None:
    page.get_by_test_id("login-email").fill(email)
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("cart-lines")).to_be_visible()


def test_the_owner_sells_a_photo_in_a_print_size_and_sets_its_file(page: Page, shop: Shop) -> None:
    owner = sign_up(page, "Olga", "Owner")
    shop.make_admin(owner)
    page.get_by_test_id("logout").click()
    log_in(page, owner)
    page.get_by_test_id("nav-owner-photos").click()
    dunes = page.get_by_test_id("owner-photo").filter(has_text="Desert Dunes")
    dunes.get_by_test_id("owner-formats").locator("summary").click()
    dunes.get_by_test_id("size-label").fill("A2 poster")
    dunes.get_by_test_id("size-price").fill("130")
    dunes.get_by_test_id("size-add").click()
    expect(dunes.get_by_test_id("owner-size")).to_contain_text(["A2 poster — $130.00"])
    dunes.get_by_test_id("owner-formats").locator("summary").click()
    dunes.get_by_test_id("file-url").fill(photo_url("desert-dunes"))
    dunes.get_by_test_id("file-save").click()
    expect(dunes.get_by_role("status")).to_have_text("Saved.")
    check_accessibility(page, "the owner's photos with a photo's sizes open")

    open_product(page, "Desert Dunes")
    expect(page.get_by_label("A2 poster")).to_be_visible()
    token = session_token(page)
    product = shop.product("Desert Dunes")
    assert call(shop, "GET", f"/api/product/{product['id']}/file/", token=token)["file"] == (
        photo_url("desert-dunes")
    )


def test_a_proxy_error_page_is_never_shown_as_a_message(page: Page, shop: Shop) -> None:
    page.route(
        "**/api/product/",
        lambda route: route.fulfill(
            status=502,
            content_type="text/html",
            body="<html><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>",
        ),
    )
    page.goto("/#/")
    error = page.get_by_test_id("load-error")
    expect(error).to_contain_text("Something went wrong on our side. Please try again in a minute.")
    expect(error).not_to_contain_text("Bad Gateway")
    expect(error).not_to_contain_text("<")
