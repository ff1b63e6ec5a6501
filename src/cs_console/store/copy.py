"""Copy a whole workspace database into another (SQLite to PostgreSQL for a team).

Tables are copied in dependency order, in batches, through the same typed
columns on both sides; each table is then verified by its row count and a
checksum of every row, so a copy that lost or changed anything is reported.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, func, select, text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel

from cs_console.errors import StoreError
from cs_console.i18n import _
from cs_console.store import models  # noqa: F401  (registers the tables)
from cs_console.store.search_index import rebuild_message_index

BATCH = 1000


@dataclass(frozen=True)
class TableCopy:
    """What was copied of one table."""

    name: str
    rows: int
    checksum: str


def tables() -> list[Table]:
    """The application's tables, parents before children."""
    return list(SQLModel.metadata.sorted_tables)


def copy_database(
    source: Engine, target: Engine, *, progress: Callable[[str, int], None] | None = None
) -> list[TableCopy]:
    """Copy every table from ``source`` into the empty, migrated ``target`` and verify it.

    Raises:
        StoreError: the target already holds data, or a table differs after the copy.
    """
    with target.connect() as connection:
        for table in tables():
            if connection.execute(select(func.count()).select_from(table)).scalar():
                raise StoreError(
                    _(
                        "the target database already has data in {table}; "
                        "migrate into an empty database"
                    ).format(table=repr(table.name))
                )
    with source.connect() as reader, target.begin() as writer:
        for table in tables():
            copied = 0
            for batch in _batches(reader, table):
                writer.execute(table.insert(), batch)
                copied += len(batch)
                if progress:
                    progress(table.name, copied)
        if target.dialect.name == "postgresql":
            _reset_sequences(writer)
        rebuild_message_index(writer)  # synced messages are not indexed by the trigger
    results = []
    with source.connect() as left, target.connect() as right:
        for table in tables():
            expected, got = _fingerprint(left, table), _fingerprint(right, table)
            if expected != got:
                raise StoreError(
                    _(
                        "table {table} differs after the copy: "
                        "{source} rows in the source, {target} in the target"
                    ).format(table=repr(table.name), source=expected[0], target=got[0])
                )
            results.append(TableCopy(table.name, expected[0], expected[1]))
    return results


def _ordered(table: Table) -> Any:
    return select(table).order_by(*table.primary_key.columns)


def _batches(connection: Connection, table: Table) -> Iterator[list[dict[str, Any]]]:
    result = connection.execution_options(stream_results=True).execute(_ordered(table))
    while rows := result.mappings().fetchmany(BATCH):
        yield [dict(row) for row in rows]


def _fingerprint(connection: Connection, table: Table) -> tuple[int, str]:
    digest = hashlib.sha256()
    count = 0
    for row in connection.execute(_ordered(table)):
        count += 1
        digest.update(repr(tuple(_canonical(v) for v in row)).encode())
    return count, digest.hexdigest()


def _canonical(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, memoryview):
        return bytes(value)
    return value


def _reset_sequences(connection: Connection) -> None:
    """After inserting explicit ids, move PostgreSQL's sequences past them."""
    for table in tables():
        keys = list(table.primary_key.columns)
        if len(keys) != 1 or keys[0].type.python_type is not int:
            continue
        column = keys[0].name
        connection.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column}'), "
                f"COALESCE((SELECT MAX({column}) FROM {table.name}), 0) + 1, false)"
            )
        )
