"""FrameSell under pserve (waitress) behind a real nginx: each client is told apart."""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import missing_component
from tests.fixtures.nginx import Nginx, nginx_binary, start_nginx
from tests.fixtures.processes import AppProcess, framesell_command, new_app

pytestmark = pytest.mark.slow

PASSWORD = "correct horse battery"
ADDRESS_LIMIT = 3
# Two shoppers on two machines: on one host, two loopback source addresses.
CLIENT_A = "127.0.0.2"
CLIENT_B = "127.0.0.3"


@pytest.fixture
def app(tmp_path: Path) -> Iterator[AppProcess]:
    """FrameSell under pserve on SQLite, trusting the nginx on this host (127.0.0.1)."""
    process = new_app(
        tmp_path,
        "behind-nginx",
        {
            "framesell.database_url": f"sqlite:///{tmp_path / 'shop.sqlite'}",
            "framesell.payment": "fake",
            "framesell.trusted_proxies": "127.0.0.1 ::1",
            "framesell.login.address_max_failures": str(ADDRESS_LIMIT),
        },
    )
    framesell_command(process.ini, "migrate")
    process.start()
    yield process
    process.stop()


@pytest.fixture
def nginx(tmp_path: Path, app: AppProcess) -> Iterator[Nginx]:
    """Debian's nginx, started by the test in the foreground with its own config and port."""
    binary = nginx_binary()
    if binary is None:
        missing_component("nginx is not installed (apt-get install nginx)")
        raise AssertionError("unreachable")
    proxy = start_nginx(binary, tmp_path / "nginx", app.port)
    yield proxy
    proxy.stop()


def request(
    port: int,
    method: str,
    path: str,
    body: Any = None,
    *,
    source: str = "127.0.0.1",
    headers: dict[str, str] | None = None,
) -> tuple[int, Any, http.client.HTTPResponse]:
    """One HTTP request sent from the ``source`` address."""
    connection = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=30, source_address=(source, 0)
    )
    try:
        payload = json.dumps(body).encode() if body is not None else None
        connection.request(
            method,
            path,
            body=payload,
            headers={"Content-Type": "application/json", **(headers or {})},
        )
        response = connection.getresponse()
        data = response.read()
    finally:
        connection.close()
    return response.status, json.loads(data) if data else None, response


def sign_up(port: int, email: str, source: str) -> None:
    body = {"first_name": "Foo", "last_name": "Bar", "email": email, "password": PASSWORD}
    status, answer, _ = request(port, "POST", "/api/signup/", body, source=source)
    assert status == 201, answer


def log_in(port: int, email: str, password: str, source: str, **kwargs: Any) -> int:
    body = {"username": email, "password": password}
    status, _, _ = request(port, "POST", "/api/api-token-auth/", body, source=source, **kwargs)
    return status


def test_two_clients_behind_nginx_get_separate_login_throttles(nginx: Nginx) -> None:
    port = nginx.port
    sign_up(port, "a@example.com", CLIENT_A)
    sign_up(port, "b@example.com", CLIENT_B)
    for number in range(ADDRESS_LIMIT):
        # Client A guesses at made-up emails and forges X-Forwarded-For every time.
        forged = {"X-Forwarded-For": f"198.51.100.{number}"}
        status = log_in(port, f"guess{number}@example.com", "wrong", CLIENT_A, headers=forged)
        assert status == 400
    # A is locked out, whatever it writes into X-Forwarded-For …
    assert log_in(port, "a@example.com", PASSWORD, CLIENT_A) == 429
    forged = {"X-Forwarded-For": "198.51.100.99"}
    assert log_in(port, "a@example.com", PASSWORD, CLIENT_A, headers=forged) == 429
    # … and B, behind the same nginx, is not.
    assert log_in(port, "b@example.com", PASSWORD, CLIENT_B) == 200
    assert log_in(port, "a@example.com", PASSWORD, "127.0.0.4") == 200


def test_hsts_is_sent_only_when_the_trusted_proxy_says_https(app: AppProcess, nginx: Nginx) -> None:
    # nginx listens on plain http and says so in X-Forwarded-Proto, replacing the client's.
    forged = {"X-Forwarded-Proto": "https"}
    _, _, through_nginx = request(nginx.port, "GET", "/api/health/", headers=forged)
    assert through_nginx.getheader("Strict-Transport-Security") is None
    # A trusted proxy (this host) that terminated TLS: waitress passes the header on.
    _, _, trusted = request(app.port, "GET", "/api/health/", headers=forged)
    assert trusted.getheader("Strict-Transport-Security") == "max-age=31536000"
    # The same header from an address that is not a trusted proxy is ignored.
    _, _, untrusted = request(app.port, "GET", "/api/health/", source=CLIENT_A, headers=forged)
    assert untrusted.getheader("Strict-Transport-Security") is None


def test_waitress_refuses_a_body_over_the_apps_limit_without_waiting_for_it(
    app: AppProcess,
) -> None:
    with socket.create_connection(("127.0.0.1", app.port), timeout=10) as connection:
        connection.sendall(
            b"POST /api/signup/ HTTP/1.1\r\nHost: shop\r\nContent-Type: application/json\r\n"
            b"Content-Length: 10000000\r\n\r\n{"
        )
        answer = connection.recv(4096)  # a timeout here: waitress waits for 10 MB first
    assert answer.startswith(b"HTTP/1.1 413")
