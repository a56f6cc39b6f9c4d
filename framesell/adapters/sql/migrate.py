"""Running the Alembic migrations that ship inside the package, without an alembic.ini."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext

from framesell.adapters.sql.engine import make_engine

MIGRATIONS_DIRECTORY = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic configuration for this package's migrations against ``url``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIRECTORY))
    # The URL travels as an attribute: set_main_option would choke on a "%" in a password.
    config.attributes["url"] = url
    return config


def upgrade_to_head(url: str) -> None:
    """Bring the database at ``url`` up to the newest schema revision."""
    command.upgrade(alembic_config(url), "head")


def current_revision(url: str) -> str | None:
    """The schema revision the database at ``url`` is at, or None before any migration."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
