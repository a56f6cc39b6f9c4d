"""GET /api/docs/: the interactive API page, its vendored Swagger UI and its own strict CSP."""

from __future__ import annotations

from webtest import TestApp

from framesell.entrypoints.http.tweens import API_DOCS_CONTENT_SECURITY_POLICY

DOCS_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def test_the_page_loads_swagger_ui_and_its_starter_from_files_without_inline_code(
    app: TestApp,
) -> None:
    page = app.get("/api/docs/", status=200)

    assert page.content_type == "text/html"
    assert '<script src="vendor/swagger-ui-bundle.js"></script>' in page.text
    assert '<script src="apidocs.js"></script>' in page.text
    assert "<script>" not in page.text and "<style" not in page.text and "style=" not in page.text
    assert page.headers["Content-Security-Policy"] == DOCS_POLICY == (
        API_DOCS_CONTENT_SECURITY_POLICY
    )
    assert page.headers["X-Frame-Options"] == "DENY"


def test_the_page_answers_without_its_trailing_slash_too(app: TestApp) -> None:
    assert "swagger-ui" in app.get("/api/docs", status=200).text


def test_the_vendored_files_are_served_with_their_types(app: TestApp) -> None:
    bundle = app.get("/api/docs/vendor/swagger-ui-bundle.js", status=200)
    css = app.get("/api/docs/vendor/swagger-ui.css", status=200)
    starter = app.get("/api/docs/apidocs.js", status=200)

    assert bundle.content_type in {"text/javascript", "application/javascript"}
    assert "SwaggerUIBundle" in bundle.text
    assert css.content_type == "text/css"
    assert "../openapi.json" in starter.text
    assert "validatorUrl: null" in starter.text  # no badge fetched from validator.swagger.io


def test_the_api_itself_keeps_its_stricter_policy(app: TestApp) -> None:
    response = app.get("/api/openapi.json", status=200)
    policy = response.headers["Content-Security-Policy"]
    assert policy == "default-src 'none'; frame-ancestors 'none'"


def test_an_unknown_file_under_the_page_is_a_json_404(app: TestApp) -> None:
    response = app.get("/api/docs/no-such-file.js", status=404)
    assert response.content_type == "application/json"


def test_the_page_is_only_read(app: TestApp) -> None:
    app.post("/api/docs/", status=404)
