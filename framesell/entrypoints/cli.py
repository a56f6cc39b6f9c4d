"""The ``framesell`` command: operations on the shop, reading the same ini file as pserve."""

from __future__ import annotations

import argparse
import csv
import getpass
import json
import os
import sys
from collections.abc import Mapping, Sequence
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from framesell.bootstrap import Shop, bootstrap
from framesell.domain.errors import DomainError
from framesell.domain.money import Money
from framesell.settings import ConfigurationError, Settings

DEFAULT_INI = "development.ini"
INI_VARIABLE = "FRAMESELL_INI"
# Set on every real deployment (production.ini requires it); where it is, the development
# default would read a laptop's settings against a real database, so a file must be named.
DEPLOYMENT_VARIABLE = "FRAMESELL_DATABASE_URL"


class CommandError(Exception):
    """A command cannot go on: a file it reads is malformed, or an answer it needs is
    missing. One line on stderr and exit status 1, as a refused domain rule."""


def choose_ini(named: str | None, environ: Mapping[str, str]) -> tuple[str, str]:
    """The ini file to read and why: ``-c``, then FRAMESELL_INI, then development.ini.

    The default is refused where FRAMESELL_DATABASE_URL is set (a deployment), so a
    production host never runs a command on development settings by accident.
    """
    if named:
        return named, "-c"
    if environ.get(INI_VARIABLE, "").strip():
        return environ[INI_VARIABLE].strip(), INI_VARIABLE
    if environ.get(DEPLOYMENT_VARIABLE, "").strip():
        raise ConfigurationError(
            f"no ini file named: give -c FILE or set {INI_VARIABLE} "
            f"(the {DEFAULT_INI} default is not used where {DEPLOYMENT_VARIABLE} is set)"
        )
    return DEFAULT_INI, "the default"


def app_settings(config_uri: str) -> dict[str, Any]:
    """The settings of the app an ini file serves as ``main``, as written in the file.

    ``main`` is the app itself (``[app:main]``) or a pipeline of filters ending in it
    (``[pipeline:main]``, as in production.ini): then the pipeline's last app's.
    """
    import plaster
    from pyramid.paster import get_appsettings

    pipeline = plaster.get_loader(config_uri, protocols=["wsgi"]).get_settings("pipeline:main")
    names = str(pipeline.get("pipeline", "")).split()
    return dict(get_appsettings(config_uri, name=names[-1] if names else "main"))


def load_settings(config_uri: str) -> Settings:
    """Read the app settings of an ini file (with FRAMESELL_* overrides)."""
    from pyramid.paster import setup_logging

    setup_logging(config_uri)
    return Settings.from_mapping(app_settings(config_uri))


def read_catalog(path: Path | None) -> list[tuple[str, str, Money]]:
    """Products from a .json list or a .csv file with description, url, price columns."""
    if path is None:
        text = resources.files("framesell.entrypoints").joinpath("data/catalog.json").read_text()
        rows: list[dict[str, Any]] = json.loads(text)
    elif path.suffix.lower() == ".json":
        rows = json.loads(path.read_text(encoding="utf-8"))
    elif path.suffix.lower() == ".csv":
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    else:
        raise CommandError(f"{path}: expected a .json or .csv file")
    if not isinstance(rows, list):
        raise CommandError(f"{path}: expected a list of products")
    products = []
    for number, row in enumerate(rows, start=1):
        try:
            products.append(
                (
                    str(row["description"]),
                    str(row["url"]),
                    Money.from_major(str(row["price"]), str(row.get("currency") or "usd")),
                )
            )
        except (KeyError, TypeError) as error:
            raise CommandError(f"product {number}: missing field {error}") from None
        except DomainError as error:  # a price Money refuses
            raise CommandError(f"product {number}: {error.message}") from None
    return products


def cmd_migrate(shop: Shop, settings: Settings, args: argparse.Namespace) -> int:
    """Bring the database schema up to date."""
    shop.storage.migrate()
    print("database schema is up to date")
    return 0


def cmd_new_migration(shop: Shop, settings: Settings, args: argparse.Namespace) -> int:
    """Write the next schema revision for you to fill in (or to check, with --autogenerate)."""
    path = shop.storage.new_migration(args.message, args.autogenerate)
    print(f"wrote {path}")
    return 0


def cmd_seed(shop: Shop, settings: Settings, args: argparse.Namespace) -> int:
    """Load the sample catalog into an empty shop."""
    if not shop.catalog.is_empty():
        print("catalog already has products; nothing seeded")
        return 0
    added = shop.catalog.import_products(read_catalog(None))
    print(f"seeded {len(added)} products")
    return 0


def cmd_import(shop: Shop, settings: Settings, args: argparse.Namespace) -> int:
    """Add every product of a CSV or JSON file, all or nothing."""
    added = shop.catalog.import_products(read_catalog(Path(args.file)))
    print(f"imported {len(added)} products")
    return 0


def cmd_create_admin(shop: Shop, settings: Settings, args: argparse.Namespace) -> int:
    """Create an admin account, or make an existing account an admin."""
    password = os.environ.get("FRAMESELL_ADMIN_PASSWORD") or ""
    existing = shop.users.find_by_email(args.email)
    if existing is not None:
        shop.users.make_admin(args.email)
        print(f"{existing.email} is now an admin")
        return 0
    if not password:
        if not sys.stdin.isatty():
            raise CommandError("set FRAMESELL_ADMIN_PASSWORD or run in a terminal to be asked")
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Repeat password: "):
            raise CommandError("the passwords do not match")
    user = shop.users.register(
        first_name=args.first_name,
        last_name=args.last_name,
        email=args.email,
        password=password,
        is_admin=True,
    )
    print(f"created admin {user.email}")
    return 0


def cmd_reconcile(shop: Shop, settings: Settings, args: argparse.Namespace) -> int:
    """Settle PENDING orders from Stripe's truth; safe on several machines at once."""
    report = shop.orders.reconcile(
        older_than=timedelta(seconds=args.older_than),
        give_up_after=timedelta(hours=args.give_up_after_hours),
        limit=args.limit,
    )
    for order_id, status in sorted(report.settled.items()):
        print(f"order {order_id}: {status.value}")
    print(
        f"settled {len(report.settled)}, still pending {len(report.unchanged)}, "
        f"leased elsewhere {len(report.skipped)}"
    )
    return 0


def cmd_purge_keys(shop: Shop, settings: Settings, args: argparse.Namespace) -> int:
    """Delete Idempotency-Keys older than the keeping period (24 hours by default)."""
    print(f"purged {shop.idempotency.purge()} idempotency keys")
    return 0


def cmd_send_mail(shop: Shop, settings: Settings, args: argparse.Namespace) -> int:
    """Deliver the queued mails that are due (retries included); safe on several machines."""
    if shop.mail is None:
        print("mail is off (framesell.mail): nothing to send")
        return 0
    report = shop.mail.deliver(limit=args.limit)
    print(f"sent {len(report.sent)}, failed {len(report.failed)} (to be retried)")
    return 1 if report.failed and not report.sent else 0


def build_parser() -> argparse.ArgumentParser:
    """The command line: global options and one sub-command per operation."""
    parser = argparse.ArgumentParser(prog="framesell", description=__doc__)
    parser.add_argument(
        "-c",
        "--config",
        default=None,
        help=f"the ini file pserve uses (default: ${INI_VARIABLE}, else {DEFAULT_INI}, "
        f"which is refused where ${DEPLOYMENT_VARIABLE} is set)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    commands.add_parser("migrate", help=cmd_migrate.__doc__, description=cmd_migrate.__doc__)
    commands.add_parser("seed", help=cmd_seed.__doc__, description=cmd_seed.__doc__)
    revision = commands.add_parser(
        "new-migration",
        help=cmd_new_migration.__doc__,
        description=f"{cmd_new_migration.__doc__} Alembic's `revision`, on the ini's database.",
    )
    revision.add_argument("message", help='what the revision changes, e.g. "add gift wrapping"')
    revision.add_argument(
        "--autogenerate",
        action="store_true",
        help="write what tables.py has and the database (at the newest revision) lacks",
    )

    admin = commands.add_parser(
        "create-admin",
        help=cmd_create_admin.__doc__,
        description=f"{cmd_create_admin.__doc__} "
        "The password comes from FRAMESELL_ADMIN_PASSWORD or a prompt.",
    )
    admin.add_argument("email")
    admin.add_argument("--first-name", default="Admin")
    admin.add_argument("--last-name", default="FrameSell")

    reconcile = commands.add_parser(
        "reconcile", help=cmd_reconcile.__doc__, description=cmd_reconcile.__doc__
    )
    reconcile.add_argument(
        "--older-than",
        type=int,
        default=300,
        metavar="SECONDS",
        help="only orders PENDING for longer than this (default: 300)",
    )
    reconcile.add_argument(
        "--give-up-after-hours",
        type=int,
        default=24,
        metavar="HOURS",
        help="an order Stripe never charged becomes FAILED after this (default: 24)",
    )
    reconcile.add_argument("--limit", type=int, default=500, help="orders per run (default: 500)")
    send_mail = commands.add_parser(
        "send-mail", help=cmd_send_mail.__doc__, description=cmd_send_mail.__doc__
    )
    send_mail.add_argument("--limit", type=int, default=500, help="mails per run (default: 500)")
    commands.add_parser(
        "purge-idempotency-keys", help=cmd_purge_keys.__doc__, description=cmd_purge_keys.__doc__
    )

    products = commands.add_parser("products", help="Manage the catalog.")
    product_commands = products.add_subparsers(dest="products_command", required=True)
    importer = product_commands.add_parser(
        "import", help=cmd_import.__doc__, description=cmd_import.__doc__
    )
    importer.add_argument("file", help="a .csv (description,url,price[,currency]) or .json file")
    return parser


HANDLERS = {
    "migrate": cmd_migrate,
    "new-migration": cmd_new_migration,
    "seed": cmd_seed,
    "create-admin": cmd_create_admin,
    "products": cmd_import,
    "reconcile": cmd_reconcile,
    "purge-idempotency-keys": cmd_purge_keys,
    "send-mail": cmd_send_mail,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run one sub-command; errors are one line on stderr and exit status 1 or 2."""
    args = build_parser().parse_args(argv)
    try:
        ini, chosen_by = choose_ini(args.config, os.environ)
        if not Path(ini).is_file():
            raise FileNotFoundError(f"{ini} ({chosen_by}): no such file")
        print(f"framesell: settings from {Path(ini).resolve()} ({chosen_by})", file=sys.stderr)
        settings = load_settings(ini)
        shop = bootstrap(settings)
        try:
            return HANDLERS[args.command](shop, settings, args)
        finally:
            shop.close()
    except (ConfigurationError, FileNotFoundError) as error:
        print(f"framesell: {error}", file=sys.stderr)
        return 2
    except CommandError as error:
        print(f"framesell: {error}", file=sys.stderr)
        return 1
    except DomainError as error:
        print(f"framesell: {error.message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
