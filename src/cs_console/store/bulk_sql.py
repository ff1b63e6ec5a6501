"""INSERT and UPDATE many rows with one executemany, at the cost of the driver alone.

A sync writes tens of thousands of rows per 10,000 messages. Handed to
SQLAlchemy as a list of dicts, every row goes through its per-row parameter
machinery (about a third of the statement's time on SQLite); here the SQL is
built once per table and column list, the columns' own bind processors
convert the values (aware datetimes, booleans, bytes: the same conversions
SQLAlchemy applies) and the driver gets plain tuples. Other databases get the
plain Core statements: PostgreSQL's driver has its own batching.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Table, bindparam, insert, update
from sqlalchemy.engine import Connection

__all__ = ["insert_many", "scalar_defaults", "update_many"]

_Processor = Callable[[Any], Any] | None
_PlanKey = tuple[str, str, tuple[str, ...], tuple[str, ...]]
_PLANS: dict[_PlanKey, tuple[str, list[_Processor]]] = {}
_DEFAULTS: dict[str, tuple[dict[str, Any], frozenset[str]]] = {}


def _plan(
    connection: Connection,
    table: Table,
    kind: str,
    columns: tuple[str, ...],
    where: tuple[str, ...] = (),
) -> tuple[str, list[_Processor]]:
    """The SQL text (``?`` placeholders) and the value converters, made once per shape."""
    dialect = connection.dialect
    cache_key = (kind, table.name, where, columns)
    found = _PLANS.get(cache_key)
    if found is None:
        quote = dialect.identifier_preparer.quote
        if kind == "insert":
            names = ", ".join(quote(c) for c in columns)
            marks = ", ".join("?" for _ in columns)
            sql = f"INSERT INTO {quote(table.name)} ({names}) VALUES ({marks})"
        else:
            sets = ", ".join(f"{quote(c)} = ?" for c in columns)
            matches = " AND ".join(f"{quote(c)} = ?" for c in where)
            sql = f"UPDATE {quote(table.name)} SET {sets} WHERE {matches}"
        processors: list[_Processor] = [
            table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
            for name in (*columns, *where)
        ]
        found = (sql, processors)
        _PLANS[cache_key] = found
    return found


def insert_many(connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """INSERT ``rows`` into ``table``; every row has the same keys (the columns given)."""
    if not rows:
        return
    if connection.dialect.name != "sqlite":
        connection.execute(insert(table), list(rows))
        return
    given = tuple(rows[0])
    defaults = _defaults(table, given)
    columns = (*given, *defaults)
    sql, processors = _plan(connection, table, "insert", columns)
    pairs = list(zip(given, processors[: len(given)], strict=True))
    extra = zip(defaults.values(), processors[len(given) :], strict=True)
    tail = [p(value) if p else value for value, p in extra]
    connection.exec_driver_sql(
        sql, [(*(p(row[n]) if p else row[n] for n, p in pairs), *tail) for row in rows]
    )


def _column_defaults(table: Table) -> tuple[dict[str, Any], frozenset[str]]:
    """The table's scalar column defaults, and the columns whose default is computed."""
    found = _DEFAULTS.get(table.name)
    if found is None:
        scalar: dict[str, Any] = {}
        computed: set[str] = set()
        for column in table.columns:
            default = column.default
            if default is None:
                continue
            if getattr(default, "is_scalar", False):
                scalar[column.key] = default.arg  # type: ignore[attr-defined]
            else:
                computed.add(column.key)
        found = _DEFAULTS[table.name] = (scalar, frozenset(computed))
    return found


def scalar_defaults(table: Table) -> dict[str, Any]:
    """The table's columns that have a fixed default, with it (do not change the dict)."""
    return _column_defaults(table)[0]


def _defaults(table: Table, given: tuple[str, ...]) -> dict[str, Any]:
    """The defaults of the columns the rows leave out, as Core's INSERT would apply them."""
    scalar, computed = _column_defaults(table)
    missing = computed.difference(given)
    if missing:
        name = sorted(missing)[0]
        raise ValueError(f"{table.name}.{name} has a computed default: give its value")
    return {key: value for key, value in scalar.items() if key not in given}


def update_many(
    connection: Connection,
    table: Table,
    columns: Sequence[str],
    where: Sequence[str],
    rows: Sequence[Sequence[Any]],
) -> int:
    """Set ``columns`` where the ``where`` columns equal the given values; returns rows changed.

    Each row is a tuple: the new values of ``columns``, then the values the
    ``where`` columns must have.
    """
    if not rows:
        return 0
    names, keys = tuple(columns), tuple(where)
    if connection.dialect.name != "sqlite":
        statement = (
            update(table)
            .where(*(table.c[k] == bindparam(f"_w{i}") for i, k in enumerate(keys)))
            .values({n: bindparam(f"_v{i}") for i, n in enumerate(names)})
        )
        params = [
            {
                **{f"_v{i}": row[i] for i in range(len(names))},
                **{f"_w{i}": row[len(names) + i] for i in range(len(keys))},
            }
            for row in rows
        ]
        return int(connection.execute(statement, params).rowcount or 0)
    sql, processors = _plan(connection, table, "update", names, keys)
    converted = [
        tuple(p(value) if p else value for value, p in zip(row, processors, strict=True))
        for row in rows
    ]
    return int(connection.exec_driver_sql(sql, converted).rowcount or 0)
