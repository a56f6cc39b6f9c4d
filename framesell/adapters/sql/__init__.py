"""SQL storage adapters (SQLAlchemy Core) for SQLite and MySQL/MariaDB, with Alembic migrations."""
