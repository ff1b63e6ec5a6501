"""Alembic environment: runs on the connection :mod:`cs_console.store.migrate` passes in."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from cs_console.store import models  # noqa: F401  (registers the tables)
from cs_console.store.migrate import include_object

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.attributes.get("engine_url")
    if url is None:
        raise SystemExit("run migrations with `cs-console db upgrade`")
    connectable = create_engine(url, poolclass=pool.NullPool)
    with connectable.connect() as conn:
        _run(conn)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=include_object,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; use `cs-console db upgrade`")
run_migrations_online()
