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


def new_revision(url: str, message: str, *, autogenerate: bool = False) -> Path:
    """Write the next revision file (``NNNN_<message>.py``) and return its path.

    Revision ids are the next four-digit number after the newest file's. With
    ``autogenerate``, Alembic fills it with what ``tables.py`` has and the database at
    ``url`` (which must be at the newest revision) has not.
    """
    numbers = [
        int(path.name[:4])
        for path in (MIGRATIONS_DIRECTORY / "versions").glob("[0-9][0-9][0-9][0-9]_*.py")
    ]
    script = command.revision(
        alembic_config(url),
        message=message,
        autogenerate=autogenerate,
        rev_id=f"{max(numbers, default=0) + 1:04d}",
    )
    assert script is not None and not isinstance(script, list)
    return Path(script.path)


def current_revision(url: str) -> str | None:
    """The schema revision the database at ``url`` is at, or None before any migration."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
