"""Database fixtures' helpers: a SQLite file, or a fresh PostgreSQL schema per run."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cs_console.store.engine import make_engine
from cs_console.store.migrate import upgrade

POSTGRES_URL = os.environ.get(
    "CS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


class PostgresUnavailable(RuntimeError):
    """PostgreSQL is not running: the suite fails, it never silently skips."""


def check_postgres() -> None:
    try:
        engine = sa.create_engine(POSTGRES_URL)
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
        engine.dispose()
    except Exception as exc:
        raise PostgresUnavailable(
            f"PostgreSQL is not reachable at {POSTGRES_URL}: {exc}. Start it with "
            "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`"
        ) from exc


@contextmanager
def postgres_schema(*, migrate: bool = True) -> Iterator[tuple[Engine, str]]:
    """A new schema in the test database, dropped afterwards; yields (engine, schema)."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    engine = make_engine(POSTGRES_URL, schema=schema)
    try:
        if migrate:
            upgrade(engine)
        yield engine, schema
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()


def postgres_url_for(schema: str) -> str:
    """A URL for subprocesses (the CLI) that puts them in ``schema``."""
    return f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
