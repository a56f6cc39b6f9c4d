"""What every benchmark script needs: FrameSell and its data, wrk, and process figures.

FrameSell runs as ``pserve`` on an ini derived from production.ini (same threads, argon2
parameters and JSON request logs), started and stopped by the test suite's AppProcess.
"""

from __future__ import annotations

import configparser
import json
import os
import secrets
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from bench.timing import TIMING_FILE_VARIABLE
from framesell.adapters.sql.engine import make_engine
from framesell.adapters.sql.tables import orders, users
from tests.fixtures.network import free_port
from tests.fixtures.processes import REPOSITORY, AppProcess, call, framesell_command
from tests.fixtures.stripe import StripeLedger

LUA = Path(__file__).resolve().parent / "lua"
PRODUCTION_INI = REPOSITORY / "production.ini"
JWT_SECRET = "bench-jwt-secret-" + "x" * 40
STRIPE_SECRET_KEY = "sk_test_bench"
WEBHOOK_SECRET = "whsec_bench"
PASSWORD = "correct horse battery staple"
DEFAULT_MYSQL_SERVER = "mysql+pymysql://root@127.0.0.1:3306/"
CATALOG_SIZE = 20


def bench_ini(
    folder: Path, name: str, database_url: str, stripe_url: str, port: int, **extra: str
) -> Path:
    """production.ini with the benchmark's database, fake Stripe, secrets and port."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(PRODUCTION_INI)
    app = parser["app:framesell"]
    app.update(
        {
            "framesell.database_url": database_url,
            "framesell.stripe.api_base": stripe_url,
            "framesell.stripe.secret_key": STRIPE_SECRET_KEY,
            "framesell.stripe.publishable_key": "pk_test_bench",
            "framesell.stripe.webhook_secret": WEBHOOK_SECRET,
            "framesell.jwt.secret": JWT_SECRET,
            # The production StripeGateway, with its calls timed (bench/timing.py).
            "framesell.payment": "bench.timing:timed_stripe_gateway",
            "framesell.trusted_proxies": "127.0.0.1",
            # No SMTP server here: mail is off (production refuses "not set", not "off").
            # With smtp a PAID order also queues its mail in the settling transaction and
            # sends it after; that wait is the mail server's, as Stripe's is Stripe's.
            "framesell.mail": "off",
            **extra,
        }
    )
    parser["server:main"]["port"] = str(port)
    path = folder / f"{name}.ini"
    with path.open("w") as out:
        parser.write(out)
    return path


def server_threads() -> int:
    """The waitress thread count production.ini gives."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(PRODUCTION_INI)
    return int(parser["server:main"].get("threads", "4"))


def new_app(folder: Path, name: str, database_url: str, stripe_url: str) -> AppProcess:
    """A FrameSell process (not started) with its own port, ini, log and timing file."""
    port = free_port()
    ini = bench_ini(folder, name, database_url, stripe_url, port)
    return AppProcess(
        ini=ini,
        port=port,
        log_path=folder / f"{name}.log",
        extra_env={TIMING_FILE_VARIABLE: str(folder / f"{name}.timing.json")},
    )


def gateway_totals(app: AppProcess) -> dict[str, float]:
    """Calls to and seconds spent waiting on Stripe so far in this app process."""
    path = Path(app.extra_env[TIMING_FILE_VARIABLE])
    for _ in range(50):
        try:
            data = json.loads(path.read_text())
            if app.process is None or data.get("pid") == app.process.pid:
                return {"calls": data["calls"], "seconds": data["seconds"]}
        except (FileNotFoundError, json.JSONDecodeError):
            pass
        time.sleep(0.1)
    return {"calls": 0, "seconds": 0.0}


def settle_timing() -> None:
    """Wait for the timing thread's next write (every 0.25 s)."""
    time.sleep(0.6)


def scratch_database(kind: str, folder: Path, mysql_server: str, name: str) -> str:
    """A fresh empty database: a SQLite file in ``folder`` or ``name`` on the MySQL server."""
    if kind == "sqlite":
        path = folder / f"{name}.sqlite"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    server = make_engine(mysql_server, pool_size=1)
    try:
        with server.connect() as connection:
            connection.execute(sa.text(f"DROP DATABASE IF EXISTS `{name}`"))
            connection.execute(
                sa.text(
                    f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
                )
            )
    finally:
        server.dispose()
    return make_url(mysql_server).set(database=name).render_as_string(hide_password=False)


def drop_mysql_database(mysql_server: str, name: str) -> None:
    """Drop a scratch database on the MySQL server."""
    server = make_engine(mysql_server, pool_size=1)
    try:
        with server.connect() as connection:
            connection.execute(sa.text(f"DROP DATABASE IF EXISTS `{name}`"))
    finally:
        server.dispose()


def migrate_and_import_catalog(app: AppProcess, folder: Path, size: int = CATALOG_SIZE) -> None:
    """``framesell migrate`` and ``framesell products import`` of ``size`` photos."""
    framesell_command(app.ini, "migrate")
    catalog = [
        {
            "description": f"Photo {number}: a print of a city at night",
            "url": f"https://photos.example.com/prints/{number}.jpg",
            "price": f"{19 + number}.99",
        }
        for number in range(1, size + 1)
    ]
    path = folder / "catalog.json"
    path.write_text(json.dumps(catalog))
    framesell_command(app.ini, "products", "import", str(path))


@dataclass
class Shopper:
    """A signed-up shopper and the Authorization header of a fresh login."""

    email: str
    authorization: str


def new_shopper(base_url: str, prefix: str = "shopper", address: str | None = None) -> Shopper:
    """Sign up and log in through the API; from ``address`` (as X-Forwarded-For, which the
    benchmark's ini trusts from 127.0.0.1) when more shoppers sign up than one address may."""
    email = f"{prefix}-{secrets.token_hex(4)}@bench.example.com"
    body = {"first_name": "Bench", "last_name": "Shopper", "email": email, "password": PASSWORD}
    forwarded = {"X-Forwarded-For": address} if address else None
    status, answer, _ = call("POST", f"{base_url}/api/signup/", body, headers=forwarded)
    if status != 201:
        raise RuntimeError(f"sign-up failed: {status} {answer}")
    status, answer, _ = call(
        "POST", f"{base_url}/api/api-token-auth/", {"username": email, "password": PASSWORD}
    )
    if status != 200:
        raise RuntimeError(f"login failed: {status} {answer}")
    return Shopper(email, f"JWT {answer['token']}")


def payment_methods(stripe_url: str, count: int, workers: int = 8) -> list[str]:
    """``count`` fresh card PaymentMethods made on the fake Stripe, as Stripe.js would."""
    ledgers = [StripeLedger(stripe_url) for _ in range(workers)]
    with ThreadPoolExecutor(workers) as pool:
        return list(
            pool.map(
                lambda number: ledgers[number % workers].payment_method("4242424242424242"),
                range(count),
            )
        )


def buy(base_url: str, shopper: Shopper, token: str, product: int = 1) -> int:
    """POST /api/order/ once; returns the status."""
    status, _, _ = call(
        "POST",
        f"{base_url}/api/order/",
        {"product": product, "token": token},
        headers={"Authorization": shopper.authorization, "Idempotency-Key": secrets.token_hex(8)},
    )
    return status


def insert_other_orders(database_url: str, count: int, shoppers: int = 1000) -> float:
    """Add ``count`` PAID orders of ``shoppers`` new shoppers straight into the database."""
    engine = make_engine(database_url)
    started = time.monotonic()
    try:
        with engine.begin() as connection:
            product = connection.execute(sa.text("SELECT MIN(id) FROM products")).scalar_one()
            at = datetime.now(UTC)
            tag = secrets.token_hex(4)
            connection.execute(
                users.insert(),
                [
                    {
                        "email": f"other-{tag}-{n}@bench.example.com",
                        "first_name": "Other",
                        "last_name": "Shopper",
                        "password_hash": "$argon2id$not-a-real-hash",
                        "is_admin": False,
                        "created_at": at,
                    }
                    for n in range(shoppers)
                ],
            )
            user_ids = list(
                connection.execute(
                    sa.select(users.c.id).where(users.c.email.like(f"other-{tag}-%"))
                ).scalars()
            )
            batch: list[dict[str, Any]] = []
            for n in range(count):
                batch.append(
                    {
                        "user_id": user_ids[n % len(user_ids)],
                        "product_id": product,
                        "product_description": "Photo",
                        "product_url": "https://photos.example.com/prints/1.jpg",
                        "product_price_cents": 1999,
                        "product_currency": "usd",
                        "created_at": at,
                        "updated_at": at,
                        "status": "PAID",
                        "reference": f"{tag}{n:08d}",
                        "attempt_number": 1,
                        "attempt_idempotency_key": f"other-{tag}-{n}",
                        "payment_id": f"pi_other_{tag}_{n}",
                    }
                )
                if len(batch) == 5000:
                    connection.execute(orders.insert(), batch)
                    batch = []
            if batch:
                connection.execute(orders.insert(), batch)
        if engine.dialect.name == "sqlite":
            with engine.connect() as connection:
                connection.exec_driver_sql("ANALYZE")
        else:
            with engine.connect() as connection:
                connection.exec_driver_sql("ANALYZE TABLE orders")
    finally:
        engine.dispose()
    return time.monotonic() - started


def rss_mib(pid: int) -> float:
    """Resident memory of a process, MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process used so far, seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(
    url: str,
    script: str,
    *,
    duration: float,
    threads: int = 2,
    connections: int = 16,
    env: dict[str, str] | None = None,
    timeout: float = 10.0,
) -> dict[str, Any]:
    """Run wrk with one of bench/lua/*.lua and return its figures (requests/s and more)."""
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        f"--timeout={timeout:g}s",
        "-s",
        str(LUA / script),
        url,
    ]
    environment = {
        **os.environ,
        "BENCH_LUA_DIR": str(LUA),
        "BENCH_THREADS": str(threads),
        **(env or {}),
    }
    result = subprocess.run(
        command,
        env=environment,
        capture_output=True,
        text=True,
        timeout=duration + timeout + 60,
        check=False,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("BENCH_JSON ")]
    if result.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    figures: dict[str, Any] = json.loads(lines[-1].removeprefix("BENCH_JSON "))
    seconds = figures["duration_us"] / 1e6
    figures["rps"] = figures["requests"] / seconds if seconds else 0.0
    figures["socket_errors"] = sum(
        figures[key] for key in ("connect_errors", "read_errors", "write_errors", "timeouts")
    )
    return figures
