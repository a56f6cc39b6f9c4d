"""Alembic environment: migrates the database whose URL the caller passed programmatically."""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy.engine import Connection

from framesell.adapters.sql.engine import make_engine
from framesell.adapters.sql.tables import metadata

config = context.config
if config.config_file_name is not None:  # run from the alembic command line
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def _database_url() -> str:
    # Programmatic callers (migrate.py) set the attribute; on the command line use
    # ``alembic -c framesell/adapters/sql/migrations/alembic.ini -x url=... <command>``.
    url = (
        config.attributes.get("url")
        or context.get_x_argument(as_dictionary=True).get("url")
        or config.get_main_option("sqlalchemy.url")
    )
    if not url:
        raise RuntimeError(
            "no database URL: set config.attributes['url'], pass -x url=..., or set sqlalchemy.url"
        )
    return str(url)


def run_migrations_offline() -> None:
    """Write the migration SQL to the output instead of running it."""
    context.configure(
        url=_database_url(),
        target_metadata=metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run the migrations on a live connection (one the caller lent us, or our own)."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_on(connection)
        return
    engine = make_engine(_database_url())
    try:
        with engine.connect() as own_connection:
            _run_on(own_connection)
    finally:
        engine.dispose()


def _run_on(connection: Connection) -> None:
    # Batch mode lets later migrations ALTER tables on SQLite by copying them.
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
