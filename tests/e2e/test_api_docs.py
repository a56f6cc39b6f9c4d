"""The interactive API page in a real Chromium: every operation drawn, no CSP violation."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import Shop

# Every violation of the page's Content-Security-Policy, recorded as the browser reports it.
RECORD_CSP_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


def test_the_api_page_shows_every_operation_of_the_document_under_its_strict_policy(
    page: Any, shop: Shop
) -> None:
    document = shop.api("GET", "/api/openapi.json")
    operations = {
        f"{method.upper()} {path}"
        for path, item in document["paths"].items()
        for method in item
        if method in {"get", "post", "put", "delete"}
    }
    page.add_init_script(RECORD_CSP_VIOLATIONS)

    response = page.goto("/api/docs/")
    assert response is not None and "script-src 'self'" in response.headers[
        "content-security-policy"
    ]
    page.locator(".opblock").first.wait_for()

    drawn = {
        f"{block.locator('.opblock-summary-method').inner_text().strip()} "
        f"{block.locator('.opblock-summary-path').get_attribute('data-path')}"
        for block in page.locator(".opblock").all()
    }
    assert operations <= drawn, operations - drawn
    assert page.locator(".info .title").inner_text().startswith("FrameSell")
    assert page.evaluate("window.cspViolations") == []


def test_try_it_out_calls_the_api_from_the_page(page: Any, shop: Shop) -> None:
    page.add_init_script(RECORD_CSP_VIOLATIONS)
    page.goto("/api/docs/")
    catalog = page.locator(".opblock-get").filter(has=page.locator('[data-path="/api/product/"]'))
    catalog.locator(".opblock-summary").first.click()
    page.get_by_role("button", name="Try it out").click()
    page.get_by_role("button", name="Execute").click()

    status = catalog.locator(".live-responses-table tbody .response-col_status").first
    status.wait_for()
    assert status.inner_text().strip() == "200"
    assert shop.products[0]["description"] in catalog.locator(".live-responses-table").inner_text()
    assert page.evaluate("window.cspViolations") == []
