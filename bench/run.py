"""The benchmark: FrameSell on SQLite and on MariaDB against its floor, in one run.

For each database it starts the fake Stripe and FrameSell (pserve, production.ini's
waitress threads), prepares the data, starts the floor app, and runs wrk (2 threads,
16 connections, a warm-up then the timed run) for
(a) GET /api/product/, (b) GET /api/order/ of a shopper with 10 orders (on an empty
table, then among 100,000 other shoppers' orders), (c) POST /api/order/ with fresh
PaymentMethods, (d) POST /api/api-token-auth/. It prints every figure and its ratio to
the floor, and writes them all as JSON to bench/out/.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import argon2

from bench import shop
from fakestripe.launcher import start_fake_stripe
from framesell.adapters.argon2 import OWASP_MEMORY_COST_KIB, OWASP_PARALLELISM, OWASP_TIME_COST
from tests.fixtures.network import free_port
from tests.fixtures.processes import REPOSITORY, AppProcess, call

OUT = REPOSITORY / "bench" / "out"


def argon2_seconds_per_hash(samples: int = 15) -> float:
    """Median seconds of one argon2id verify with production's parameters (as a login does)."""
    hasher = argon2.PasswordHasher(
        time_cost=OWASP_TIME_COST, memory_cost=OWASP_MEMORY_COST_KIB, parallelism=OWASP_PARALLELISM
    )
    encoded = hasher.hash(shop.PASSWORD)
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        hasher.verify(encoded, shop.PASSWORD)
        times.append(time.perf_counter() - started)
    return sorted(times)[len(times) // 2]


def argon2_hashes_per_second_on_all_cores(seconds: float = 4.0) -> float:
    """argon2id verifies per second with one thread per core hashing at once, nothing else.

    The issue's bound (cores ÷ seconds per hash) assumes the cores scale perfectly; this is
    what they do on the machine at hand (the hashes share caches and memory bandwidth).
    """
    hasher = argon2.PasswordHasher(
        time_cost=OWASP_TIME_COST, memory_cost=OWASP_MEMORY_COST_KIB, parallelism=OWASP_PARALLELISM
    )
    encoded = hasher.hash(shop.PASSWORD)
    cores = os.cpu_count() or 1
    counts = [0] * cores
    deadline = time.perf_counter() + seconds

    def hash_until_deadline(slot: int) -> None:
        while time.perf_counter() < deadline:
            hasher.verify(encoded, shop.PASSWORD)
            counts[slot] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=hash_until_deadline, args=(n,)) for n in range(cores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.perf_counter() - started)


def machine() -> dict[str, Any]:
    """Cores, memory, CPU model and the versions the figures depend on."""
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory_kib = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal:")
    )

    def version_of(command: list[str]) -> str:
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)
        except FileNotFoundError:
            return "missing"
        return (
            (done.stdout + done.stderr).strip().splitlines()[0] if done.stdout + done.stderr else ""
        )

    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cores": len(Path("/proc/cpuinfo").read_text().split("processor\t:")) - 1,
        "memory_gib": round(memory_kib / 1024 / 1024, 1),
        "cpu": cpu,
        "python": platform.python_version(),
        "waitress": metadata.version("waitress"),
        "sqlalchemy": metadata.version("SQLAlchemy"),
        "pyramid": metadata.version("pyramid"),
        "argon2_cffi": metadata.version("argon2-cffi"),
        "mariadb": version_of(["mysql", "-h127.0.0.1", "-uroot", "-NBe", "SELECT VERSION()"]),
        "wrk": version_of(["wrk", "--version"]),
        "nginx": version_of(["nginx", "-v"]),
        "sqlite": __import__("sqlite3").sqlite_version,
    }


class Bench:
    """One database's run: its processes, its data and its figures."""

    def __init__(self, kind: str, folder: Path, args: argparse.Namespace) -> None:
        self.kind = kind
        self.folder = folder
        self.args = args
        self.figures: dict[str, Any] = {}
        self.profiles: dict[str, Any] = {}

    def wrk(self, url: str, script: str, *, warm: bool = True, **env: str) -> dict[str, Any]:
        """A warm-up of the same load, then the timed run."""
        if warm and self.args.warmup > 0:
            shop.wrk(url, script, duration=self.args.warmup, env=env)
        return shop.wrk(url, script, duration=self.args.duration, env=env)

    def run(self) -> dict[str, Any]:
        """Every figure for this database."""
        args = self.args
        database = f"framesell_bench_{self.kind}"
        url = shop.scratch_database(self.kind, self.folder, args.mysql_server, database)
        stripe = start_fake_stripe(0)
        app: AppProcess | None = None
        floor: subprocess.Popen[bytes] | None = None
        try:
            app = shop.new_app(self.folder, "app", url, stripe.url)
            shop.migrate_and_import_catalog(app, self.folder)
            app.start()
            assert app.process is not None
            base = app.url
            log(f"[{self.kind}] preparing: shoppers, 10 orders, PaymentMethods")
            reader = shop.new_shopper(base, "reader")
            for token in shop.payment_methods(stripe.url, 10):
                assert shop.buy(base, reader, token) == 201
            buyer = shop.new_shopper(base, "buyer")
            catalog_body = urlopen_bytes(f"{base}/api/product/")
            orders_body = urlopen_bytes(f"{base}/api/order/", reader.authorization)
            assert len(json.loads(catalog_body)) == shop.CATALOG_SIZE
            assert len(json.loads(orders_body)) == 10
            (self.folder / "catalog.body").write_bytes(catalog_body)
            (self.folder / "orders.body").write_bytes(orders_body)
            floor, floor_url = start_floor(self.folder)

            log(f"[{self.kind}] floor")
            self.figures["floor_a"] = self.wrk(floor_url, "get.lua", BENCH_PATH="/api/product/")
            self.figures["floor_b"] = self.wrk(
                floor_url, "get.lua", BENCH_PATH="/api/order/", BENCH_AUTH=reader.authorization
            )
            log(f"[{self.kind}] (a) catalog")
            self.figures["a"] = self.wrk(base, "get.lua", BENCH_PATH="/api/product/")
            headers = call("GET", f"{base}/api/product/")[2]
            etag = next(value for name, value in headers.items() if name.lower() == "etag")
            self.figures["a_304"] = self.wrk(
                base, "get.lua", BENCH_PATH="/api/product/", BENCH_IF_NONE_MATCH=etag
            )
            log(f"[{self.kind}] (b) orders, empty table")
            self.figures["b"] = self.wrk(
                base, "get.lua", BENCH_PATH="/api/order/", BENCH_AUTH=reader.authorization
            )
            self.buying(app, stripe.url, buyer)
            log(f"[{self.kind}] (d) login")
            self.figures["d"] = self.wrk(
                base, "login.lua", BENCH_EMAIL=buyer.email, BENCH_PASSWORD=shop.PASSWORD
            )
            log(f"[{self.kind}] inserting {args.other_orders} orders of other shoppers")
            self.figures["insert_seconds"] = shop.insert_other_orders(url, args.other_orders)
            log(f"[{self.kind}] (b) orders among {args.other_orders} others")
            self.figures["b_100k"] = self.wrk(
                base, "get.lua", BENCH_PATH="/api/order/", BENCH_AUTH=reader.authorization
            )
            self.figures["rss_mib_after"] = shop.rss_mib(app.process.pid)
            if args.profile:
                self.profile(app, reader, stripe.url, buyer)
            return {"figures": self.figures, "profiles": self.profiles}
        finally:
            if floor is not None:
                floor.terminate()
                floor.wait(10)
            if app is not None:
                app.stop()
            stripe.stop()
            if self.kind == "mysql" and not args.keep:
                shop.drop_mysql_database(args.mysql_server, database)

    def buying(self, app: AppProcess, stripe_url: str, buyer: shop.Shopper) -> None:
        """(c): a serial run for the time per order, then the loaded run."""
        assert app.process is not None
        args = self.args
        log(f"[{self.kind}] (c) making PaymentMethods on the fake Stripe")
        # A short probe tells how many PaymentMethods the timed runs will use.
        probe = shop.payment_methods(stripe_url, 200)
        probe_file = self.folder / "probe.tokens"
        probe_file.write_text("\n".join(probe) + "\n")
        probe_run = shop.wrk(
            app.url, "order.lua", duration=2, env=self.order_env(buyer, probe_file)
        )
        per_second = max(probe_run["rps"], 20.0)
        count = int(per_second * (args.duration + args.warmup) * 1.5) + 200
        tokens = shop.payment_methods(stripe_url, count)
        warm_file, timed_file = self.folder / "warm.tokens", self.folder / "timed.tokens"
        cut = int(per_second * args.warmup * 1.5) + 100
        warm_file.write_text("\n".join(tokens[:cut]) + "\n")
        timed_file.write_text("\n".join(tokens[cut:]) + "\n")
        serial = shop.payment_methods(stripe_url, int(per_second * 5 * 2) + 100)
        serial_file = self.folder / "serial.tokens"
        serial_file.write_text("\n".join(serial) + "\n")

        log(f"[{self.kind}] (c) one connection: time per order")
        shop.settle_timing()
        before = shop.gateway_totals(app)
        one = shop.wrk(
            app.url,
            "order.lua",
            duration=5,
            threads=1,
            connections=1,
            env=self.order_env(buyer, serial_file, threads=1),
        )
        shop.settle_timing()
        after = shop.gateway_totals(app)
        one_orders = one["requests"]
        stripe_ms = (after["seconds"] - before["seconds"]) / max(one_orders, 1) * 1000
        one["stripe_ms_per_order"] = stripe_ms
        one["stripe_calls_per_order"] = (after["calls"] - before["calls"]) / max(one_orders, 1)
        one["own_ms_per_order"] = one["mean_us"] / 1000 - stripe_ms
        self.figures["c_serial"] = one

        log(f"[{self.kind}] (c) buying under load")
        if args.warmup > 0:
            shop.wrk(
                app.url, "order.lua", duration=args.warmup, env=self.order_env(buyer, warm_file)
            )
        shop.settle_timing()
        before = shop.gateway_totals(app)
        cpu_before = shop.cpu_seconds(app.process.pid)
        loaded = shop.wrk(
            app.url, "order.lua", duration=args.duration, env=self.order_env(buyer, timed_file)
        )
        cpu_after = shop.cpu_seconds(app.process.pid)
        shop.settle_timing()
        after = shop.gateway_totals(app)
        orders = max(loaded["requests"], 1)
        loaded["cpu_ms_per_order"] = (cpu_after - cpu_before) / orders * 1000
        loaded["stripe_ms_per_order"] = (after["seconds"] - before["seconds"]) / orders * 1000
        self.figures["c"] = loaded

        log(f"[{self.kind}] (c) the fake Stripe alone: PaymentIntents at the same concurrency")
        direct = shop.payment_methods(stripe_url, int(per_second * args.duration * 3) + 500)
        direct_file = self.folder / "direct.tokens"
        direct_file.write_text("\n".join(direct) + "\n")
        self.figures["stripe_alone"] = shop.wrk(
            stripe_url,
            "stripe_intent.lua",
            duration=args.duration,
            env={
                "BENCH_TOKENS": str(direct_file),
                "BENCH_RUN_ID": secrets.token_hex(4),
                "BENCH_AUTH": f"Bearer {shop.STRIPE_SECRET_KEY}",
            },
        )

    def order_env(self, buyer: shop.Shopper, tokens: Path, threads: int = 2) -> dict[str, str]:
        """The environment order.lua reads."""
        return {
            "BENCH_TOKENS": str(tokens),
            "BENCH_AUTH": buyer.authorization,
            "BENCH_PRODUCT": "1",
            "BENCH_RUN_ID": secrets.token_hex(4),
            "BENCH_THREADS": str(threads),
        }

    def profile(
        self, app: AppProcess, reader: shop.Shopper, stripe_url: str, buyer: shop.Shopper
    ) -> None:
        """py-spy on the server during extra runs of (a), (b) and (c); not in the figures."""
        assert app.process is not None
        runs = {
            "a": ("get.lua", {"BENCH_PATH": "/api/product/"}),
            "b": ("get.lua", {"BENCH_PATH": "/api/order/", "BENCH_AUTH": reader.authorization}),
        }
        tokens = shop.payment_methods(stripe_url, 3000)
        token_file = self.folder / "profile.tokens"
        token_file.write_text("\n".join(tokens) + "\n")
        runs["c"] = ("order.lua", self.order_env(buyer, token_file))
        for name, (script, env) in runs.items():
            raw = OUT / f"profile-{self.kind}-{name}.txt"
            spy = subprocess.Popen(
                [
                    str(Path(sys.executable).parent / "py-spy"),
                    "record",
                    "-p",
                    str(app.process.pid),
                    "-d",
                    "8",
                    "-r",
                    "200",
                    "--gil",
                    "-f",
                    "raw",
                    "-o",
                    str(raw),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            time.sleep(1)
            shop.wrk(app.url, script, duration=8, env=env)
            spy.wait(30)
            self.profiles[name] = summarize_profile(raw)


def summarize_profile(raw: Path, top: int = 25) -> dict[str, list[tuple[str, float]]]:
    """The functions with the most samples (inclusive, and on top of the stack) in %."""
    inclusive: Counter[str] = Counter()
    on_top: Counter[str] = Counter()
    total = 0
    if not raw.exists():
        return {}
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [frame for frame in stack.split(";") if not frame.startswith("process ")]
        # Idle waitress threads wait in select/Condition.wait: leave them out.
        if not frames or any(idle in frames[-1] for idle in ("wait (threading", "select (")):
            continue
        total += count
        for frame in set(frames):
            inclusive[_short(frame)] += count
        on_top[_short(frames[-1])] += count
    if not total:
        return {}

    def share(counter: Counter[str]) -> list[tuple[str, float]]:
        return [(name, round(100 * n / total, 1)) for name, n in counter.most_common(top)]

    return {"inclusive": share(inclusive), "self": share(on_top)}


def _short(frame: str) -> str:
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    for marker in ("site-packages/", "framesell/", "python3.11/"):
        if marker in where:
            where = where.split(marker, 1)[1]
            break
    return f"{name} ({where.rsplit(':', 1)[0]})"


def start_floor(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    """The floor app on waitress with production's thread count; returns it and its URL."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bench.floor",
            "--port",
            str(port),
            "--threads",
            str(shop.server_threads()),
            "--catalog",
            str(folder / "catalog.body"),
            "--orders",
            str(folder / "orders.body"),
            "--secret",
            shop.JWT_SECRET,
        ],
        cwd=REPOSITORY,
        stdout=subprocess.DEVNULL,
        stderr=(folder / "floor.log").open("wb"),
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urlopen_bytes(f"{url}/api/product/")
            return process, url
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the floor app did not start")


def urlopen_bytes(url: str, authorization: str | None = None) -> bytes:
    """GET a URL's body."""
    import urllib.request

    request = urllib.request.Request(url)
    if authorization:
        request.add_header("Authorization", authorization)
    with urllib.request.urlopen(request, timeout=10) as response:
        return bytes(response.read())


def log(message: str) -> None:
    """Progress on stderr."""
    print(f"{time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


def report(results: dict[str, Any]) -> str:
    """The human-readable table of every figure and ratio."""
    info = results["machine"]
    hash_s = results["argon2_seconds_per_hash"]
    others = results.get("other_orders", 100_000)
    cores = info["cores"]
    bound = 0.9 * cores / hash_s
    lines = [
        f"FrameSell benchmark {info['date']} — {cores} cores, {info['memory_gib']} GiB, "
        f"{info['cpu']}",
        f"Python {info['python']}, waitress {info['waitress']}, SQLAlchemy {info['sqlalchemy']}, "
        f"{info['mariadb']}, SQLite {info['sqlite']}, {info['wrk'].split(' [')[0]}",
        f"wrk: 2 threads, 16 connections, {results['duration']} s per run after a "
        f"{results['warmup']} s warm-up",
        f"argon2id m={OWASP_MEMORY_COST_KIB} KiB t={OWASP_TIME_COST} p={OWASP_PARALLELISM}: "
        f"{hash_s * 1000:.1f} ms per hash → login bound 0.9 × {cores} ÷ {hash_s:.4f} s "
        f"= {bound:.1f} req/s",
        f"argon2id alone on all {cores} cores at once (one thread each, nothing else running): "
        f"{results['argon2_all_cores_per_second']:.1f} hashes/s "
        f"= {results['argon2_all_cores_per_second'] * hash_s / cores:.2f}× perfect scaling",
        "",
    ]
    header = (
        f"{'':34} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non2xx':>7} {'sock':>5} "
        f"{'ratio':>7}  target"
    )
    for kind, result in results["databases"].items():
        f = result["figures"]
        lines += [f"== {kind} ==", header]

        def row(
            label: str,
            key: str,
            floor: float | None,
            target: str = "",
            f: dict[str, Any] = f,
            lines: list[str] = lines,
        ) -> None:
            if key not in f:
                return
            figure = f[key]
            ratio = f"{figure['rps'] / floor:.2f}×" if floor else ""
            lines.append(
                f"{label:34} {figure['rps']:9.1f} {figure['p50_us'] / 1000:8.2f} "
                f"{figure['p99_us'] / 1000:8.2f} {figure['non2xx']:7d} "
                f"{figure['socket_errors']:5d} {ratio:>7}  {target}"
            )

        floor_a, floor_b = f["floor_a"]["rps"], f["floor_b"]["rps"]
        row("floor: catalog bytes", "floor_a", None)
        row("floor: JWT check + orders bytes", "floor_b", None)
        row("(a) GET /api/product/", "a", floor_a, "≥ 0.50× floor")
        row("(a) … with If-None-Match → 304", "a_304", floor_a)
        row("(b) GET /api/order/, empty table", "b", floor_b, "≥ 0.40× floor")
        row(f"(b) … among {others:,} other orders", "b_100k", floor_b, "within 10 % of empty")
        row("(c) POST /api/order/", "c", floor_a, "(ratio to floor a)")
        row("(c) the fake Stripe alone", "stripe_alone", floor_a)
        row("(c) one connection", "c_serial", floor_a)
        row("(d) POST /api/api-token-auth/", "d", floor_a, "(ratio to floor a)")
        b_change = f["b_100k"]["rps"] / f["b"]["rps"] - 1
        serial, loaded = f["c_serial"], f["c"]
        lines += [
            f"(b) with {others:,} other orders: {b_change:+.1%} against the empty table",
            f"(c) buying: {loaded['rps'] / f['stripe_alone']['rps']:.2f}× the fake Stripe's own "
            f"PaymentIntent rate; {serial['stripe_calls_per_order']:.2f} Stripe calls per order",
            "(c) FrameSell's own time per order, one connection: "
            f"{serial['mean_us'] / 1000:.2f} ms per request − "
            f"{serial['stripe_ms_per_order']:.2f} ms waiting on Stripe = "
            f"{serial['own_ms_per_order']:.2f} ms (target < 3 ms)",
            f"(c) FrameSell's CPU per order under load: {loaded['cpu_ms_per_order']:.2f} ms "
            f"(Stripe wait per order under load {loaded['stripe_ms_per_order']:.2f} ms)",
            f"(d) login: {f['d']['rps']:.1f} req/s = {f['d']['rps'] / bound:.2f}× the argon2 bound "
            f"{bound:.1f} (target ≥ 1.00×); "
            f"{f['d']['rps'] / results['argon2_all_cores_per_second']:.2f}× argon2 alone "
            f"on all cores",
            f"resident memory of the server process after the run: {f['rss_mib_after']:.0f} MiB",
            "",
        ]
        for name, summary in result.get("profiles", {}).items():
            lines.append(f"profile ({name}), top frames by inclusive samples:")
            lines += [
                f"    {share:5.1f} %  {frame}" for frame, share in summary.get("inclusive", [])
            ]
            lines.append(f"profile ({name}), top frames on top of the stack:")
            lines += [f"    {share:5.1f} %  {frame}" for frame, share in summary.get("self", [])]
            lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the report."""
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--databases", default="sqlite,mysql", help="comma-separated: sqlite, mysql (default: both)"
    )
    parser.add_argument("--duration", type=float, default=10, help="seconds per timed run")
    parser.add_argument("--warmup", type=float, default=3, help="seconds of warm-up per run")
    parser.add_argument("--other-orders", type=int, default=100_000)
    parser.add_argument(
        "--mysql-server",
        default=shop.DEFAULT_MYSQL_SERVER,
        help="SQLAlchemy URL of the MySQL/MariaDB server (no database)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also sample the server with py-spy during extra runs",
    )
    parser.add_argument("--keep", action="store_true", help="keep the MariaDB database")
    args = parser.parse_args(argv)
    if args.duration < 10:
        log("note: the issue's figures need --duration 10 or more")
    OUT.mkdir(exist_ok=True)
    results: dict[str, Any] = {
        "machine": machine(),
        "command": "python -m bench " + " ".join(argv if argv is not None else sys.argv[1:]),
        "duration": args.duration,
        "other_orders": args.other_orders,
        "warmup": args.warmup,
        "argon2_seconds_per_hash": argon2_seconds_per_hash(),
        "argon2_all_cores_per_second": argon2_hashes_per_second_on_all_cores(),
        "databases": {},
    }
    with tempfile.TemporaryDirectory(prefix="framesell-bench-") as scratch:
        for kind in args.databases.split(","):
            folder = Path(scratch) / kind
            folder.mkdir()
            results["databases"][kind] = Bench(kind, folder, args).run()
    text = report(results)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (OUT / f"results-{stamp}.json").write_text(json.dumps(results, indent=2))
    (OUT / f"results-{stamp}.txt").write_text(text + "\n")
    print(text)
    return 0
