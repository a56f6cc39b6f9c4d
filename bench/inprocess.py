"""FrameSell's own cost per request, in process: the WSGI app called directly, no server.

Where the microsecond figures in RESULTS.md come from. The app is built by ``framesell.main``
behind the fast lane, as production.ini's pipeline serves it, on a scratch SQLite
file or MariaDB database, with the fake payment gateway and the JSON request log written to
/dev/null; a catalog of 20 photos and a shopper with 10 orders.

    python -m bench.inprocess                      # both databases: (a), (b), a purchase
    python -m bench.inprocess --threads 1,2,8      # the same requests from N threads at once
    python -m bench.inprocess --profile b          # cProfile of (a), (b), buy or login, top 30
"""

from __future__ import annotations

import argparse
import cProfile
import io
import logging
import logging.config
import os
import pstats
import tempfile
import threading
import time
import uuid
from collections.abc import Callable

import sqlalchemy as sa
from webtest import TestApp

from bench import shop
from framesell import main
from framesell.domain.money import Money
from framesell.entrypoints.http.fastlane import filter_factory
from framesell.entrypoints.logs import flush_access_logs

SCRATCH_DATABASE = "framesell_bench_inprocess"


def _configure_logging() -> None:
    """Production's logging: JSON lines on the root logger, INFO for framesell, to /dev/null."""
    logging.config.dictConfig(
        {
            "version": 1,
            "formatters": {"json": {"()": "framesell.entrypoints.logs.JsonFormatter"}},
            "handlers": {
                "console": {
                    "class": "logging.StreamHandler",
                    "stream": open(os.devnull, "w"),  # noqa: SIM115 (lives as long as the run)
                    "formatter": "json",
                }
            },
            "root": {"level": "WARN", "handlers": ["console"]},
            "loggers": {"framesell": {"level": "INFO"}},
        }
    )


def _database_url(kind: str, mysql_server: str) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tempfile.mkdtemp(prefix='framesell-inprocess-')}/shop.db"
    engine = sa.create_engine(mysql_server)
    with engine.begin() as connection:
        connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {SCRATCH_DATABASE}")
        connection.exec_driver_sql(f"CREATE DATABASE {SCRATCH_DATABASE}")
    engine.dispose()
    return f"{mysql_server.rstrip('/')}/{SCRATCH_DATABASE}"


class Shop:
    """The app with its data, and the requests to measure."""

    def __init__(self, kind: str, mysql_server: str) -> None:
        router = main(
            {},
            **{
                "framesell.environment": "test",
                "framesell.database_url": _database_url(kind, mysql_server),
                "framesell.auto_migrate": "true",
                "framesell.payment": "fake",
                "framesell.jwt.secret": "in-process-benchmark-secret-" + "x" * 20,
                "framesell.argon2.memory_cost_kib": "1024",
                "framesell.argon2.time_cost": "1",
            },
        )
        self.app = filter_factory({})(router)  # production.ini's [pipeline:main]
        catalog = self.app.registry.framesell_shop.catalog
        for number in range(shop.CATALOG_SIZE):
            catalog.add_product(
                f"Photo {number}", f"https://photos.example.com/{number}.jpg", Money(5999)
            )
        self.client = TestApp(self.app)
        self.product_id = self.client.get("/api/product/").json[0]["id"]
        # The reader's 10 orders are (b)'s; the buyer's purchases go to another account.
        self.authorization = self._shopper("reader@example.com")
        for _ in range(10):
            self._buy(self.authorization)
        self.buyer = self._shopper("buyer@example.com")

    def _shopper(self, email: str) -> str:
        names = {"first_name": "A", "last_name": "B", "email": email}
        self.client.post_json("/api/signup/", {**names, "password": shop.PASSWORD})
        token = self.client.post_json(
            "/api/api-token-auth/", {"username": email, "password": shop.PASSWORD}
        ).json["token"]
        return f"JWT {token}"

    def get(self, path: str, authorization: str | None = None) -> None:
        """One GET straight through the WSGI app, as waitress would call it."""
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "6543",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "127.0.0.1:6543",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(b""),
        }
        if authorization:
            environ["HTTP_AUTHORIZATION"] = authorization
        b"".join(self.app(environ, lambda status, headers, exc_info=None: None))

    def catalog(self) -> None:
        """(a)"""
        self.get("/api/product/")

    def orders(self) -> None:
        """(b)"""
        self.get("/api/order/", self.authorization)

    def buy(self) -> None:
        """(c) with the fake gateway: FrameSell's work for a purchase, Stripe left out.

        Through WebTest (a JSON body to build and a response to parse), so a little more
        than the server's own work.
        """
        self._buy(self.buyer)

    def login(self) -> None:
        """(d) with argon2 at 1 MiB and one pass: the work around the hash, nearly alone."""
        self.client.post_json(
            "/api/api-token-auth/",
            {"username": "reader@example.com", "password": shop.PASSWORD},
            status=200,
        )

    def _buy(self, authorization: str) -> None:
        self.client.post_json(
            "/api/order/",
            {"product": self.product_id, "token": "tok_visa"},
            headers={"Authorization": authorization, "Idempotency-Key": uuid.uuid4().hex},
            status=201,
        )


def per_call(call: Callable[[], None], count: int, threads: int = 1) -> tuple[float, float]:
    """Best of five: wall and CPU microseconds per call, with ``threads`` threads calling."""
    for _ in range(max(count // 10, 5)):
        call()
    best = (float("inf"), float("inf"))
    for _ in range(5):

        def work() -> None:
            for _ in range(count):
                call()

        workers = [threading.Thread(target=work) for _ in range(threads)]
        started, cpu = time.perf_counter(), time.process_time()
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        flush_access_logs()  # the request log lines still queued are part of the cost
        calls = count * threads
        wall = (time.perf_counter() - started) / calls * 1e6
        best = min(best, (wall, (time.process_time() - cpu) / calls * 1e6))
    return best


def main_() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--databases", default="sqlite,mysql")
    parser.add_argument("--threads", default="1", help="comma-separated thread counts")
    parser.add_argument("--profile", choices=["a", "b", "buy", "login"])
    parser.add_argument("--mysql-server", default=shop.DEFAULT_MYSQL_SERVER)
    args = parser.parse_args()
    _configure_logging()
    for kind in args.databases.split(","):
        bench = Shop(kind, args.mysql_server)
        cases: dict[str, tuple[Callable[[], None], int]] = {
            "a": (bench.catalog, 3000),
            "b": (bench.orders, 600),
            "buy": (bench.buy, 100),
            "login": (bench.login, 200),
        }
        if args.profile:
            call, count = cases[args.profile]
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(count):
                call()
            profiler.disable()
            print(f"== {kind}: {args.profile}, {count} calls")
            pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
            continue
        for threads in (int(n) for n in args.threads.split(",")):
            for name, (call, count) in cases.items():
                wall, cpu = per_call(call, count, threads)
                print(
                    f"{kind:6} {name:3} threads={threads}: "
                    f"{wall:8.0f} µs wall, {cpu:8.0f} µs CPU per request"
                )
        if kind == "mysql":
            engine = sa.create_engine(args.mysql_server)
            with engine.begin() as connection:
                connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {SCRATCH_DATABASE}")
            engine.dispose()


if __name__ == "__main__":
    main_()
