"""``python -m bench.nginx``: the benchmark through nginx with one, then two FrameSell backends.

Both backends share one MariaDB database and one fake Stripe; nginx (1 worker) balances
them round-robin with passive health checks. The same wrk runs as ``python -m bench``
((a) catalog, (b) a shopper's 10 orders, (c) buying, (d) login) go through nginx once with
only backend 1 in the upstream, and once with both.

``--galera``: the same on a three-node Galera cluster (bench/galera.py) instead of the one
MariaDB server, backend 1 connected to node 1 and backend 2 to node 2 (each reading with
``wsrep_sync_wait=3`` and the other nodes as ``fallback``).
"""

from __future__ import annotations

import argparse
import json
import secrets
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import shop
from bench.galera import start_cluster
from bench.nginx import start_nginx
from bench.run import log
from fakestripe.launcher import start_fake_stripe
from tests.fixtures.network import free_port
from tests.fixtures.processes import REPOSITORY

OUT = REPOSITORY / "bench" / "out"


def _runs(
    base: str,
    stripe_url: str,
    reader: shop.Shopper,
    buyer: shop.Shopper,
    folder: Path,
    duration: float,
    warmup: float,
) -> dict[str, Any]:
    def timed(script: str, **env: str) -> dict[str, Any]:
        shop.wrk(base, script, duration=warmup, env=env)
        return shop.wrk(base, script, duration=duration, env=env)

    figures = {
        "a": timed("get.lua", BENCH_PATH="/api/product/"),
        "b": timed("get.lua", BENCH_PATH="/api/order/", BENCH_AUTH=reader.authorization),
    }

    def buying_env(seconds: float) -> dict[str, str]:
        # Each run its own PaymentMethods and Idempotency-Keys: a key repeated from the
        # warm-up would be replayed (or 409 while still in flight), not bought again.
        tokens = shop.payment_methods(stripe_url, int(120 * seconds) + 100)
        token_file = folder / f"tokens-{secrets.token_hex(3)}"
        token_file.write_text("\n".join(tokens) + "\n")
        return {
            "BENCH_TOKENS": str(token_file),
            "BENCH_AUTH": buyer.authorization,
            "BENCH_PRODUCT": "1",
            "BENCH_RUN_ID": secrets.token_hex(4),
        }

    warm_env, timed_env = buying_env(warmup), buying_env(duration)
    shop.wrk(base, "order.lua", duration=warmup, env=warm_env)
    figures["c"] = shop.wrk(base, "order.lua", duration=duration, env=timed_env)
    figures["d"] = timed("login.lua", BENCH_EMAIL=buyer.email, BENCH_PASSWORD=shop.PASSWORD)
    return figures


def main(argv: list[str] | None = None) -> int:
    """Run both configurations and print them side by side."""
    parser = argparse.ArgumentParser(prog="python -m bench.nginx", description=__doc__)
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--mysql-server", default=shop.DEFAULT_MYSQL_SERVER)
    parser.add_argument("--galera", action="store_true", help="on a three-node Galera cluster")
    args = parser.parse_args(argv)
    OUT.mkdir(exist_ok=True)
    name = "framesell_bench_nginx"
    results: dict[str, Any] = {"database": "galera" if args.galera else "mariadb"}
    cluster = start_cluster() if args.galera else None
    if cluster is not None:
        args.mysql_server = cluster.nodes[0].url()
    with tempfile.TemporaryDirectory(prefix="framesell-nginx-") as scratch:
        folder = Path(scratch)
        url = shop.scratch_database("mysql", folder, args.mysql_server, name)
        stripe = start_fake_stripe(0)
        urls = [url, url]
        if cluster is not None:
            urls = [cluster.url_with_fallback(name, own) for own in (0, 1)]
        apps = [shop.new_app(folder, f"app{n}", urls[n - 1], stripe.url) for n in (1, 2)]
        try:
            shop.migrate_and_import_catalog(apps[0], folder)
            for app in apps:
                app.start()
            reader = shop.new_shopper(apps[0].url, "reader")
            for token in shop.payment_methods(stripe.url, 10):
                assert shop.buy(apps[0].url, reader, token) == 201
            buyer = shop.new_shopper(apps[0].url, "buyer")
            for backends in (1, 2):
                nginx = start_nginx(
                    folder / f"nginx{backends}", free_port(), [a.port for a in apps[:backends]]
                )
                try:
                    log(f"through nginx, {backends} backend(s)")
                    results[f"{backends}"] = _runs(
                        nginx.url, stripe.url, reader, buyer, folder, args.duration, args.warmup
                    )
                finally:
                    nginx.stop()
                time.sleep(1)
            results["rss_mib"] = [shop.rss_mib(a.process.pid) for a in apps if a.process]
            # Keep the request-log lines of every answer that was not a success.
            failed = [
                line
                for app in apps
                for line in app.log_path.read_text(errors="replace").splitlines()
                if '"status": 4' in line or '"status": 5' in line or '"level": "ERROR"' in line
            ]
            results["failed_log_lines"] = failed[:200]
        finally:
            for app in apps:
                app.stop()
            stripe.stop()
            shop.drop_mysql_database(args.mysql_server, name)
            if cluster is not None:
                cluster.stop()
    lines = [
        f"{'through nginx':28} {'1 backend req/s':>16} {'2 backends req/s':>17} {'×':>6}"
        f" {'p99 ms (1 / 2)':>16} {'errors (1 / 2)':>15}"
    ]
    labels = {
        "a": "(a) GET /api/product/",
        "b": "(b) GET /api/order/",
        "c": "(c) POST /api/order/",
        "d": "(d) POST /api/api-token-auth/",
    }
    for key, label in labels.items():
        one, two = results["1"][key], results["2"][key]
        errors = [r["non2xx"] + r["socket_errors"] for r in (one, two)]
        lines.append(
            f"{label:28} {one['rps']:16.1f} {two['rps']:17.1f} {two['rps'] / one['rps']:6.2f}"
            f" {one['p99_us'] / 1000:7.1f} / {two['p99_us'] / 1000:6.1f}"
            f" {errors[0]:7d} / {errors[1]:5d}"
        )
    text = "\n".join(lines)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    text = f"{results['database']}\n{text}"
    (OUT / f"nginx-{stamp}.json").write_text(json.dumps(results, indent=2))
    (OUT / f"nginx-{stamp}.txt").write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
