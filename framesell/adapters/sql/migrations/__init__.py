"""Alembic migrations of the SQL schema; a package so that installs ship the scripts."""
