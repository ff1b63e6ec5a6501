"""Rows a batch ingest writes with a few executemany INSERTs instead of one ORM object each.

A batch of mail adds tens of thousands of rows nothing reads back before the
commit: messages, their raw bytes, attachments, tags and events. Building an
ORM object for each costs more than parsing the mail, so a batch collects them
as plain dicts here (:class:`BulkRows`) and writes them table by table, parents
first, when the batch is flushed (:func:`cs_console.desk.ingest_batch.flush_batch`);
synced messages are added to the search index in the same go
(:mod:`cs_console.store.search_index`).

While a session has a collector (:func:`collect`), :func:`cs_console.desk.tickets.record_event`
adds its event here too, so every change in the batch, whoever makes it, lands
in the same INSERTs. The batch's new customers and tickets are ORM objects,
since threading, routing, acknowledgements and the SLA clock read and change
them during the batch, but they are not added to the session: the collector
holds them (:meth:`BulkRows.hold`, built by :func:`new_object`, which skips
the per-field work of the model's constructor) and INSERTs them with the rows,
then hands them to the session as if loaded from it, so a later change is an
UPDATE as usual. The unit of work would cost more than the batch's parsing.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic_core import PydanticUndefined
from sqlalchemy import Table
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Session, SQLModel

from cs_console.store.bulk_sql import insert_many, scalar_defaults
from cs_console.store.models import (
    Attachment,
    Customer,
    Message,
    MessageBodyPending,
    MessageRaw,
    Ticket,
    TicketEvent,
    TicketTag,
)
from cs_console.store.search_index import index_message_bodies

__all__ = ["BulkRows", "bulk_rows", "collect", "keep", "new_object", "set_fields"]

M = TypeVar("M", bound=SQLModel)

_KEY = "cs_bulk_rows"
_ORDER: tuple[Any, ...] = (
    Message,
    MessageRaw,
    MessageBodyPending,
    Attachment,
    TicketTag,
    TicketEvent,
)
_HELD: tuple[Any, ...] = (Customer, Ticket)  # new objects written as rows, parents first


class BulkRows:
    """New rows of a batch by table, written in foreign-key order by :meth:`write`."""

    def __init__(self) -> None:
        self._rows: dict[Any, list[dict[str, Any]]] = {model: [] for model in _ORDER}
        self._held: dict[Any, list[SQLModel]] = {model: [] for model in _HELD}
        self._held_ids: set[int] = set()

    def hold(self, obj: Customer | Ticket) -> None:
        """Keep a new customer or ticket (with its id set) to INSERT with the rows.

        Instead of ``session.add``: until :meth:`write` the object is in no
        session, and :func:`keep` leaves it out of it.
        """
        self._held[type(obj)].append(obj)
        self._held_ids.add(id(obj))

    def holds(self, obj: object) -> bool:
        """Whether ``obj`` is a new object waiting here for :meth:`write`."""
        return id(obj) in self._held_ids

    def write_held(self, session: Session, model: type[Customer] | type[Ticket]) -> None:
        """INSERT the held objects of ``model`` and hand them to ``session`` as loaded."""
        objs = self._held[model]
        if not objs:
            return
        table: Table = model.__table__  # type: ignore[union-attr]
        names = [column.key for column in table.columns]
        rows = [{n: obj.__dict__.get(n) for n in names} for obj in objs]
        insert_many(session.connection(), table, rows)
        for obj in objs:
            make_transient_to_detached(obj)
            self._held_ids.discard(id(obj))
        session.add_all(objs)
        self._held[model] = []

    def add(self, model: Any, values: dict[str, Any]) -> None:
        """Queue one row of ``model`` (one of the collected tables)."""
        self._rows[model].append(values)

    def of(self, model: Any) -> list[dict[str, Any]]:
        """The rows of ``model`` queued so far (not a copy: do not change them)."""
        return self._rows[model]

    def __len__(self) -> int:
        held = sum(len(objs) for objs in self._held.values())
        return held + sum(len(rows) for rows in self._rows.values())

    def write(self, session: Session) -> None:
        """INSERT the held objects and the queued rows (one executemany per table).

        The held objects then join ``session`` as persistent objects, their
        values taken as loaded; the rows are forgotten.
        """
        for model in _HELD:
            self.write_held(session, model)
        for model in _ORDER:
            rows = self._rows[model]
            if not rows:
                continue
            table: Table = model.__table__
            insert_many(session.connection(), table, _complete(table, rows))
            if model is Message:
                synced = [
                    (r["id"], r.get("body_text", ""))
                    for r in rows
                    if r.get("source_uid") is not None
                ]
                index_message_bodies(session.connection(), synced)
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


def set_fields(rows: BulkRows | None, obj: SQLModel, values: dict[str, Any]) -> None:
    """Set fields of ``obj``: into its state when ``rows`` holds it, else through the ORM.

    A held object is INSERTed from its state (:meth:`BulkRows.write_held`), so
    its changes need none of the ORM's tracking, which costs a batch more than
    the change itself; any other object is changed as usual.
    """
    if rows is not None and rows.holds(obj):
        obj.__dict__.update(values)
        return
    for name, value in values.items():
        setattr(obj, name, value)


def keep(session: Session, obj: SQLModel) -> None:
    """Make sure ``session`` writes ``obj``'s changes: add it unless it is there or held.

    ``Session.add`` of an object the session holds changes nothing but walks
    its relationships' cascades, which a batch ingest would do for every
    message; an object the batch's collector holds is written with its rows.
    """
    if obj in session:
        return
    rows = bulk_rows(session)
    if rows is None or not rows.holds(obj):
        session.add(obj)


def _complete(table: Table, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every row with the same keys (executemany needs them), missing ones at their defaults."""
    keys: set[str] = set()
    for row in rows:
        keys.update(row)
    if all(len(row) == len(keys) for row in rows):
        return rows
    defaults = scalar_defaults(table)
    return [{key: row[key] if key in row else defaults.get(key) for key in keys} for row in rows]


_FIELD_DEFAULTS: dict[type[Any], tuple[dict[str, Any], dict[str, Any]]] = {}


def new_object(model: type[M], values: dict[str, Any]) -> M:
    """A new (transient) ORM object of ``model``: ``model(**values)`` without its per-field cost.

    The model's constructor sets every field through the instrumented
    ``__setattr__`` of SQLModel, pydantic and SQLAlchemy (a few hundred
    microseconds for a ticket); here the values and the fields' defaults go
    into the object's state at once, as when SQLAlchemy loads a row. The
    object is the same to the session: added, it is INSERTed with these
    values; later assignments are tracked as usual. ``values`` are not
    validated, as the constructor of a table model does not validate either.
    """
    found = _FIELD_DEFAULTS.get(model)
    if found is None:
        plain: dict[str, Any] = {}
        factories: dict[str, Any] = {}
        for name, info in model.model_fields.items():
            if info.default_factory is not None:
                factories[name] = info.default_factory
            elif info.default is not PydanticUndefined:
                plain[name] = info.default
        found = _FIELD_DEFAULTS[model] = (plain, factories)
    plain, factories = found
    unknown = values.keys() - model.model_fields.keys()
    if unknown:
        raise TypeError(f"{model.__name__} has no field {sorted(unknown)[0]!r}")
    obj: M = model._sa_class_manager.new_instance()  # type: ignore[attr-defined]
    state = {**plain, **{k: f() for k, f in factories.items() if k not in values}, **values}
    obj.__dict__.update(state)
    object.__setattr__(obj, "__pydantic_fields_set__", set(values))
    return obj
