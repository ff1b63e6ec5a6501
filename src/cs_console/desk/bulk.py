"""Rows a batch ingest writes with a few executemany INSERTs instead of one ORM object each.

A batch of mail adds tens of thousands of rows nothing reads back before the
commit: messages, their raw bytes, attachments, tags and events. Building an
ORM object for each costs more than parsing the mail, so a batch collects them
as plain dicts here (:class:`BulkRows`) and writes them table by table, parents
first, when the batch is flushed (:func:`cs_console.desk.ingest.flush_batch`).

While a session has a collector (:func:`collect`), :func:`cs_console.desk.tickets.record_event`
adds its event here too, so every change in the batch, whoever makes it, lands
in the same INSERTs. Customers and tickets stay ORM objects: threading, routing,
acknowledgements and the SLA clock read and change them during the batch.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, insert
from sqlmodel import Session

from cs_console.store.models import Attachment, Message, MessageRaw, TicketEvent, TicketTag

__all__ = ["BulkRows", "bulk_rows", "collect"]

_KEY = "cs_bulk_rows"
_ORDER: tuple[Any, ...] = (Message, MessageRaw, Attachment, TicketTag, TicketEvent)


class BulkRows:
    """New rows of a batch by table, written in foreign-key order by :meth:`write`."""

    def __init__(self) -> None:
        self._rows: dict[Any, list[dict[str, Any]]] = {model: [] for model in _ORDER}

    def add(self, model: Any, values: dict[str, Any]) -> None:
        """Queue one row of ``model`` (one of the collected tables)."""
        self._rows[model].append(values)

    def __len__(self) -> int:
        return sum(len(rows) for rows in self._rows.values())

    def write(self, session: Session) -> None:
        """INSERT the queued rows (one executemany per table) and forget them."""
        for model in _ORDER:
            rows = self._rows[model]
            if not rows:
                continue
            table: Table = model.__table__
            session.execute(insert(table), _complete(table, rows))
            self._rows[model] = []


def collect(session: Session) -> BulkRows:
    """Give ``session`` a collector: from now on its batch rows go there."""
    rows = BulkRows()
    session.info[_KEY] = rows
    return rows


def bulk_rows(session: Session) -> BulkRows | None:
    """The session's collector, if a batch ingest gave it one."""
    found = session.info.get(_KEY)
    return found if isinstance(found, BulkRows) else None


_DEFAULTS: dict[str, dict[str, Any]] = {}


def _complete(table: Table, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every row with the same keys (executemany needs them), missing ones at their defaults."""
    keys: set[str] = set()
    for row in rows:
        keys.update(row)
    defaults = _defaults(table)
    if all(len(row) == len(keys) for row in rows):
        return rows
    return [{key: row[key] if key in row else defaults.get(key) for key in keys} for row in rows]


def _defaults(table: Table) -> dict[str, Any]:
    found = _DEFAULTS.get(table.name)
    if found is None:
        found = {}
        for column in table.columns:
            default = column.default
            if default is not None and getattr(default, "is_scalar", False):
                found[column.name] = default.arg  # type: ignore[attr-defined]
        _DEFAULTS[table.name] = found
    return found
