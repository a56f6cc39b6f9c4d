"""The soak: mixed traffic through nginx and two FrameSell processes on one MariaDB.

``python -m bench.soak [--minutes 10]``: catalog reads, order lists, purchases (a fresh
PaymentMethod made on the fake Stripe for each, as Stripe.js would) and logins from
several client threads; in the middle one backend is killed with SIGKILL and restarted.
At the end it compares the client's own log of 201s with the orders in MariaDB and the
PaymentIntents on the fake Stripe, lists every 5xx and whether it was in flight on the
killed process, and shows the backends' resident memory sampled over time.

``python -m bench.soak --galera``: the same on a three-node Galera cluster (bench/galera.py),
each backend connected to its own node (with the other nodes as ``fallback`` in its URL);
in the middle the first backend's database node is SIGKILLed instead, restarted
``--down-seconds`` later, and waited for until it is Synced again.
"""

from __future__ import annotations

import argparse
import json
import random
import secrets
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench import memory, shop
from bench.galera import start_cluster
from bench.nginx import start_nginx
from fakestripe.launcher import start_fake_stripe
from framesell.adapters.sql.engine import make_engine
from tests.fixtures.network import free_port
from tests.fixtures.processes import REPOSITORY, AppProcess, framesell_command
from tests.fixtures.stripe import StripeLedger

OUT = REPOSITORY / "bench" / "out"
MIX = [("catalog", 40), ("orders", 30), ("buy", 20), ("login", 10)]


def call(
    method: str, url: str, body: Any = None, *, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    """One request; the status and the JSON body (None when the body is not JSON: nginx's 502)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status, payload = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, payload = error.code, error.read()
    try:
        return status, json.loads(payload) if payload else None
    except ValueError:
        return status, None


@dataclass
class Outcome:
    """One request the client made."""

    kind: str
    started: float
    ended: float
    status: int
    order_id: int | None = None
    key: str | None = None


def _client(
    base: str,
    stripe_url: str,
    shoppers: list[shop.Shopper],
    deadline: float,
    outcomes: list[Outcome],
    lock: threading.Lock,
    seed: int,
    product_ids: list[int],
) -> None:
    chooser = random.Random(seed)
    ledger = StripeLedger(stripe_url)
    kinds = [kind for kind, _ in MIX]
    weights = [weight for _, weight in MIX]
    while time.monotonic() < deadline:
        kind = chooser.choices(kinds, weights)[0]
        shopper = chooser.choice(shoppers)
        auth = {"Authorization": shopper.authorization}
        order_id = key = None
        started = time.monotonic()
        try:
            if kind == "catalog":
                status = call("GET", f"{base}/api/product/")[0]
            elif kind == "orders":
                status = call("GET", f"{base}/api/order/", headers=auth)[0]
            elif kind == "login":
                status = call(
                    "POST",
                    f"{base}/api/api-token-auth/",
                    {"username": shopper.email, "password": shop.PASSWORD},
                )[0]
            else:
                token = ledger.payment_method("4242424242424242")
                key = secrets.token_hex(12)
                started = time.monotonic()
                status, answer = call(
                    "POST",
                    f"{base}/api/order/",
                    {"product": chooser.choice(product_ids), "token": token},
                    headers={**auth, "Idempotency-Key": key},
                )
                if isinstance(answer, dict) and isinstance(answer.get("order"), dict):
                    order_id = answer["order"].get("id")
        except Exception:  # the connection itself failed, or the answer was cut
            status = 0
        with lock:
            outcomes.append(Outcome(kind, started, time.monotonic(), status, order_id, key))


def main(argv: list[str] | None = None) -> int:
    """Run the soak and print its report."""
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument(
        "--shoppers",
        type=int,
        default=60,
        help="accounts the clients buy and list as (12 until 2026-12-01: by the end of a long"
        " soak each had hundreds of orders, and every order list carried them all)",
    )
    parser.add_argument("--mysql-server", default=shop.DEFAULT_MYSQL_SERVER)
    parser.add_argument("--galera", action="store_true", help="kill a node of a Galera cluster")
    parser.add_argument("--down-seconds", type=float, default=10)
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="trace backend 1's allocations (bench/memory.py): its process started after the"
        " kill, minute 5 against the end",
    )
    args = parser.parse_args(argv)
    OUT.mkdir(exist_ok=True)
    name = "framesell_bench_soak"
    cluster = start_cluster() if args.galera else None
    if cluster is not None:
        args.mysql_server = cluster.nodes[0].url()
    with tempfile.TemporaryDirectory(prefix="framesell-soak-") as scratch:
        folder = Path(scratch)
        url = shop.scratch_database("mysql", folder, args.mysql_server, name)
        stripe = start_fake_stripe(0)
        urls = [url, url]
        if cluster is not None:
            urls = [cluster.url_with_fallback(name, own) for own in (0, 1)]
            url = urls[1]  # the survivor's node, for the counts
        apps = [shop.new_app(folder, f"app{n}", urls[n - 1], stripe.url) for n in (1, 2)]
        traces = folder / "tracemalloc"
        if args.tracemalloc:
            apps[0].extra_env[memory.DIRECTORY_VARIABLE] = str(traces)
        args.cluster = cluster
        nginx = None
        try:
            shop.migrate_and_import_catalog(apps[0], folder)
            for app in apps:
                app.start()
            nginx = start_nginx(folder / "nginx", free_port(), [app.port for app in apps])
            # Each from its own address (TEST-NET-2): sign-ups are limited per address.
            shoppers = [
                shop.new_shopper(nginx.url, f"soak{n}", address=f"198.51.100.{n % 250 + 1}")
                for n in range(args.shoppers)
            ]
            report = _soak(args, nginx.url, stripe.url, apps, shoppers, url)
            (OUT / "soak-client-side.json").write_text(json.dumps(report, indent=2, default=str))
            report["reconcile"] = framesell_command(
                apps[1].ini, "reconcile", "--older-than", "0"
            ).strip()
            report["after_reconcile"] = _ledgers(url, stripe.url)
            report["memory_verdict"] = _memory_verdict(report)
            if args.tracemalloc:
                report["tracemalloc"] = _traced_growth(traces)
            # Each backend's own log of the answers that were not a success.
            report["failed_log_lines"] = [
                f"{app.log_path.stem}: {line}"
                for app in apps
                for line in app.log_path.read_text(errors="replace").splitlines()
                if '"status": 5' in line or '"level": "ERROR"' in line
            ][:50]
        finally:
            if nginx is not None:
                nginx.stop()
            for app in apps:
                app.stop()
            stripe.stop()
            shop.drop_mysql_database(args.mysql_server, name)
            if cluster is not None:
                cluster.stop()
    text = _text(report)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    (OUT / f"soak-{stamp}.json").write_text(json.dumps(report, indent=2, default=str))
    (OUT / f"soak-{stamp}.txt").write_text(text + "\n")
    print(text)
    return 0


def _soak(
    args: argparse.Namespace,
    base: str,
    stripe_url: str,
    apps: list[AppProcess],
    shoppers: list[shop.Shopper],
    database_url: str,
) -> dict[str, Any]:
    # The catalog's ids: on Galera they step by the cluster size (auto_increment_increment).
    product_ids = [product["id"] for product in call("GET", f"{base}/api/product/")[1]]
    assert len(product_ids) == shop.CATALOG_SIZE, product_ids
    seconds = args.minutes * 60
    started = time.monotonic()
    deadline = started + seconds
    outcomes: list[Outcome] = []
    lock = threading.Lock()
    clients = [
        threading.Thread(
            target=_client,
            args=(base, stripe_url, shoppers, deadline, outcomes, lock, seed, product_ids),
            daemon=True,
        )
        for seed in range(args.clients)
    ]
    for client in clients:
        client.start()
    memory: list[dict[str, Any]] = []
    node_report: dict[str, Any] = {}
    killed_at = restarted_at = None
    killed_pid = None
    while time.monotonic() < deadline:
        now = time.monotonic()
        sample: dict[str, Any] = {"t": round(now - started, 1)}
        for index, app in enumerate(apps):
            if app.process is not None and app.process.poll() is None:
                sample[f"app{index + 1}"] = round(shop.rss_mib(app.process.pid), 1)
        memory.append(sample)
        if killed_at is None and now - started >= seconds / 2 and args.cluster is not None:
            node = args.cluster.nodes[0]
            killed_pid = node.pid
            killed_at = time.monotonic()
            args.cluster.kill(node)  # SIGKILL: the node's connections are cut mid-request
            time.sleep(args.down_seconds)
            log_offset = node.log.stat().st_size
            resync = args.cluster.restart(node)
            restarted_at = time.monotonic() - resync
            node_report = {
                "killed_node": node.index,
                "down_s": round(restarted_at - killed_at, 1),
                "restart_to_synced_s": round(resync, 1),
                "rejoined_by": _rejoin_method(node.log, log_offset),
            }
        elif killed_at is None and now - started >= seconds / 2:
            assert apps[0].process is not None
            killed_pid = apps[0].process.pid
            # Taken before the kill: a request cut by it can be answered (502) before wait()
            # returns, and must still count as in flight at the kill.
            killed_at = time.monotonic()
            apps[0].process.kill()  # SIGKILL: no goodbye, requests in flight are cut
            apps[0].process.wait()
            time.sleep(5)
            apps[0].start()
            restarted_at = time.monotonic()
        time.sleep(min(10.0, max(0.0, deadline - time.monotonic())))
    for client in clients:
        client.join(120)
    by_kind = Counter((o.kind, o.status) for o in outcomes)
    errors = [o for o in outcomes if o.status >= 500 or o.status == 0]
    in_flight = [o for o in errors if killed_at is not None and o.started <= killed_at <= o.ended]
    created = [o for o in outcomes if o.kind == "buy" and o.status == 201]
    return {
        "minutes": args.minutes,
        "clients": args.clients,
        "shoppers": len(shoppers),
        "requests": len(outcomes),
        "by_kind_and_status": {f"{k} {s}": n for (k, s), n in sorted(by_kind.items())},
        "killed_pid": killed_pid,
        "database_node": node_report,
        "killed_at_s": round((killed_at or started) - started, 1),
        "restarted_after_s": round((restarted_at or 0) - (killed_at or 0), 1),
        "errors": [
            {
                "kind": o.kind,
                "status": o.status,
                "at_s": round(o.started - started, 2),
                "in_flight_at_kill": o in in_flight,
            }
            for o in errors
        ],
        "errors_not_in_flight": len(errors) - len(in_flight),
        "slowest_around_kill_s": _slowest_around(outcomes, killed_at, started),
        "client_201_orders": len(created),
        "client_201_order_ids_unique": len({o.order_id for o in created}) == len(created),
        "client_201_ids": sorted(o.order_id for o in created if o.order_id is not None),
        "before_reconcile": _orders(database_url),
        "memory_mib": memory,
    }


SETTLED_AFTER_S = 300.0  # "after the first five minutes"


def _memory_verdict(report: dict[str, Any]) -> dict[str, Any]:
    """Each backend's resident size a minute at a time, and its growth after its first five
    minutes: backend 2 from the start, backend 1 from its restart (it was killed midway)."""
    samples: list[dict[str, Any]] = report["memory_mib"]
    restarted = report["killed_at_s"] + report["restarted_after_s"]
    verdict: dict[str, Any] = {}
    for name, born in (("app1", restarted if not report.get("database_node") else 0.0),
                       ("app2", 0.0)):
        own = [(s["t"], s[name]) for s in samples if name in s and s["t"] >= born]
        settled = [(t, v) for t, v in own if t >= born + SETTLED_AFTER_S]
        per_minute: dict[int, float] = {}
        for t, value in own:
            per_minute.setdefault(int(t // 60), value)
        entry: dict[str, Any] = {"per_minute_mib": per_minute}
        if len(settled) >= 2:
            first, last = settled[0], settled[-1]
            entry.update(
                {
                    "from_s": first[0], "to_s": last[0], "from_mib": first[1], "to_mib": last[1],
                    "growth_percent": round((last[1] - first[1]) / first[1] * 100, 2),
                    "max_mib": max(v for _, v in settled),
                }
            )
        verdict[name] = entry
    return verdict  # fmt: skip


def _traced_growth(folder: Path) -> dict[str, Any]:
    """tracemalloc: the allocation sites of backend 1's last process (started after the kill)
    that grew from its minute 5 to its last snapshot."""
    processes = sorted(
        (p for p in folder.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime
    )
    if not processes:
        return {"error": "no snapshots"}
    snapshots = sorted(processes[-1].glob("minute-*.snapshot"))
    settled = [p for p in snapshots if int(p.stem.split("-")[1]) >= SETTLED_AFTER_S / 60]
    if len(settled) < 2:
        return {"snapshots": [p.stem for p in snapshots], "error": "fewer than two after 5 min"}
    return {
        "snapshots": [p.stem for p in snapshots],
        "minute_5_to_end": memory.growth(settled[0], settled[-1]),
        "middle_to_end": memory.growth(settled[len(settled) // 2], settled[-1]),
    }


def _slowest_around(
    outcomes: list[Outcome], killed_at: float | None, started: float
) -> list[dict[str, Any]]:
    """The five slowest requests that were running within 30 s after the kill."""
    if killed_at is None:
        return []
    near = [o for o in outcomes if o.ended >= killed_at and o.started <= killed_at + 30]
    near.sort(key=lambda o: o.ended - o.started, reverse=True)
    return [
        {
            "kind": o.kind,
            "status": o.status,
            "at_s": round(o.started - started, 2),
            "took_s": round(o.ended - o.started, 2),
        }
        for o in near[:5]
    ]


def _rejoin_method(log: Path, offset: int) -> str:
    """IST (from the others' write-set cache) or SST (a full copy), as the node's log says."""
    with log.open("rb") as file:
        file.seek(offset)
        tail = file.read().decode(errors="replace")
    if "IST received" in tail or "Receiving IST" in tail:
        return "IST"
    if "SST received" in tail or "SST succeeded" in tail:
        return "SST"
    return "unknown"


def _orders(database_url: str) -> dict[str, Any]:
    """Orders in MariaDB by status."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT status, COUNT(*) FROM orders GROUP BY status")
            ).all()
    finally:
        engine.dispose()
    return {"orders_by_status": {str(k): int(v) for k, v in rows}}


def _ledgers(database_url: str, stripe_url: str) -> dict[str, Any]:
    """Orders in MariaDB by status, PaymentIntents on the fake Stripe, and duplicates.

    Listing is slow on localstripe (each PaymentIntent's export scans the whole store for
    its charges and their refunds), so this runs once, at the end.
    """
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            statuses = dict(
                connection.execute(
                    sa.text("SELECT status, COUNT(*) FROM orders GROUP BY status")
                ).all()
            )
            paid_ids = list(
                connection.execute(
                    sa.text("SELECT id FROM orders WHERE status = 'PAID' ORDER BY id")
                ).scalars()
            )
            keys_with_two_orders = connection.execute(
                sa.text(
                    "SELECT COUNT(*) FROM (SELECT order_id FROM request_keys WHERE order_id "
                    "IS NOT NULL GROUP BY order_id HAVING COUNT(*) > 1) AS doubled"
                )
            ).scalar_one()
    finally:
        engine.dispose()
    ledger = StripeLedger(stripe_url)
    intents = list(ledger._client.v1.payment_intents.list(params={"limit": 100}).auto_paging_iter())
    per_order = Counter(intent.to_dict().get("metadata", {}).get("order_id") for intent in intents)
    succeeded = Counter(intent.status for intent in intents)
    return {
        "orders_by_status": {str(k): int(v) for k, v in statuses.items()},
        "paid_order_ids": paid_ids,
        "payment_intents": len(intents),
        "payment_intents_by_status": dict(succeeded),
        "orders_with_two_payment_intents": sum(1 for n in per_order.values() if n > 1),
        "request_keys_sharing_an_order": int(keys_with_two_orders),
    }


def _text(report: dict[str, Any]) -> str:
    before, after = report["before_reconcile"], report["after_reconcile"]
    paid_after = set(after["paid_order_ids"])
    missing = [i for i in report["client_201_ids"] if i not in paid_after]
    rss = report["memory_mib"]
    lines = [
        f"soak: {report['minutes']} min, {report['clients']} client threads, "
        f"{report.get('shoppers', 12)} shoppers, "
        f"{report['requests']} requests through nginx → 2 FrameSell processes → MariaDB",
        "requests by kind and status: "
        + ", ".join(f"{k}: {n}" for k, n in report["by_kind_and_status"].items()),
        (
            f"database node {report['database_node']} (pid {report['killed_pid']}) SIGKILLed "
            f"at {report['killed_at_s']} s"
            if report.get("database_node")
            else f"backend 1 (pid {report['killed_pid']}) SIGKILLed at {report['killed_at_s']} s, "
            f"restarted {report['restarted_after_s']} s later"
        ),
        f"5xx or failed connections: {len(report['errors'])} "
        f"({report['errors_not_in_flight']} not in flight on the killed process)",
        *[f"    {e}" for e in report["errors"]],
        f"slowest requests within 30 s of the kill: {report['slowest_around_kill_s']}",
        f"client's 201s: {report['client_201_orders']} "
        f"(order ids unique: {report['client_201_order_ids_unique']})",
        f"before reconcile: orders {before['orders_by_status']}",
        f"reconcile: {report['reconcile']}",
        f"after reconcile: orders {after['orders_by_status']}, PaymentIntents "
        f"{after['payment_intents']} {after['payment_intents_by_status']}",
        f"201s missing from PAID orders: {missing}; orders with two PaymentIntents: "
        f"{after['orders_with_two_payment_intents']}; Idempotency-Keys sharing an order: "
        f"{after['request_keys_sharing_an_order']}",
        "resident memory (MiB) over time: "
        + "; ".join(
            f"{s['t']:.0f}s " + " ".join(f"{k}={v}" for k, v in s.items() if k != "t")
            for s in rss[:: max(1, len(rss) // 12)]
        ),
        "memory after each backend's first five minutes: "
        + "; ".join(
            f"{name} {v['from_mib']} MiB at {v['from_s']:.0f} s → {v['to_mib']} MiB at "
            f"{v['to_s']:.0f} s ({v['growth_percent']:+.2f} %, max {v['max_mib']})"
            for name, v in report.get("memory_verdict", {}).items()
            if "growth_percent" in v
        ),
        *(
            [
                "tracemalloc (backend 1 after its restart), its minute 5 → end: traced "
                f"{t['traced_mib'][0]} → {t['traced_mib'][1]} MiB, grown {t['grown_kib']} KiB, "
                f"shrunk {t['shrunk_kib']} KiB; sites that grew most:",
                *[
                    f"    +{site['kib']} KiB ({site['blocks']:+d} blocks) "
                    + " ← ".join(site["where"][:4])
                    for site in t["sites"]
                ],
            ]
            if (t := report.get("tracemalloc", {}).get("minute_5_to_end"))
            else []
        ),
        "backends' 5xx and error log lines:",
        *[f"    {line[:400]}" for line in report.get("failed_log_lines", [])],
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
