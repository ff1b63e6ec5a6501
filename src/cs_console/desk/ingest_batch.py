"""What a batch of incoming mail shares: reserved ids and the rows it looks up once.

A sync batch (:func:`cs_console.desk.sync.sync_account`) reads before its loop
everything its messages will look up — duplicates, threads, customers, open
tickets with the same subject — with a few ``IN`` queries
(:meth:`BatchLookups.prefetch`), takes the primary keys of the rows it adds
from an :class:`IdAllocator`, and writes its rows together at the end
(:func:`flush_batch`). :mod:`cs_console.desk.ingest` does the per-message work
with or without these lookups.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import select as sa_select
from sqlalchemy import text
from sqlmodel import Session, col, select

from cs_console.desk.bulk import BulkRows, bulk_rows, collect
from cs_console.desk.threading import ThreadLookup, normalize_subject
from cs_console.desk.tickets import get_or_create_agent
from cs_console.mail.parse import ParsedMessage
from cs_console.store.models import (
    OPEN_STATUSES,
    Customer,
    Direction,
    Message,
    OutboxItem,
    Survey,
    Ticket,
)

if TYPE_CHECKING:
    from cs_console.desk.ingest import IngestConfig

__all__ = ["IN_CHUNK", "BatchLookups", "IdAllocator", "flush_batch", "in_chunks"]

_OPEN_VALUES = frozenset(s.value for s in OPEN_STATUSES)

IN_CHUNK = 400  # values per ``IN (...)`` list: well under every driver's parameter limit

V = TypeVar("V")


def in_chunks(values: Sequence[V], size: int = IN_CHUNK) -> list[list[V]]:
    """``values`` in lists of at most ``size``, for one ``IN (...)`` query each."""
    return [list(values[i : i + size]) for i in range(0, len(values), size)]


class IdAllocator:
    """Primary keys reserved for a batch, so its rows reach the database in a few statements.

    Rows with their ids set need no flush each to learn them: the batch is
    written by the unit of work in one go at commit. PostgreSQL hands out
    sequence values (safe beside any other writer); on SQLite the batch's
    write transaction (``BEGIN IMMEDIATE``) keeps other writers out, so
    counting on from ``max(id)`` is safe. Every customer, ticket and message
    the batch adds must take its id from here.
    """

    BLOCK = 256  # a batch of 500 messages needs a few blocks per table

    def __init__(self, session: Session) -> None:
        self.session = session
        self.postgres = session.get_bind().dialect.name == "postgresql"
        self.pools: dict[str, list[int]] = {}
        self.next: dict[str, int] = {}

    def __call__(self, model: type[Customer] | type[Ticket] | type[Message]) -> int:
        table = str(model.__tablename__)
        if self.postgres:
            pool = self.pools.setdefault(table, [])
            if not pool:
                values = self.session.execute(
                    text(
                        "SELECT nextval(pg_get_serial_sequence(:t, 'id')) "
                        "FROM generate_series(1, :n)"
                    ),
                    {"t": table, "n": self.BLOCK},
                ).scalars()
                pool.extend(sorted((int(v) for v in values), reverse=True))
            return pool.pop()
        if table not in self.next:
            current = self.session.execute(
                text(f"SELECT coalesce(max(id), 0) FROM {table}")  # a table name of ours
            ).scalar_one()
            self.next[table] = int(current) + 1
        value = self.next[table]
        self.next[table] = value + 1
        return value


class BatchLookups(ThreadLookup):
    """What a batch of messages needs from the database, fetched in a few queries.

    Built by :meth:`prefetch` from the batch's parsed messages, then kept up to
    date by :func:`ingest_raw` as it adds customers, tickets and messages, so
    the batch costs a handful of SELECTs instead of several per message. It
    also gives the session a collector (:mod:`cs_console.desk.bulk`): the
    batch's messages, raw bytes, attachments, tags and events are written by
    :func:`flush_batch` in a few executemany INSERTs.
    """

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self.rows: BulkRows = collect(session)
        self.stored: dict[tuple[str | None, str], tuple[str, int, int | None]] = {}
        self.ours: set[str] = set()
        self.customers: dict[str, Customer] = {}
        self.ref_tickets: dict[str, int] = {}
        self.open_by_customer: dict[int, list[Ticket]] = {}
        self.ids = IdAllocator(session)
        self.acknowledged: set[int] = set()  # customers acknowledged in this batch
        self.new_tags: dict[int, list[str]] = {}  # tags of the tickets this batch opened
        self.agents: dict[str, int] = {}
        self.absent: set[str] = set()  # senders looked up in the prefetch and not found
        self.survey_checked: set[int] = set()  # tickets whose survey the prefetch looked for
        self.surveyed: set[int] = set()  # ... and those that have a sent survey
        self.opened: dict[int, Ticket] = {}  # the tickets this batch opened, by id
        self.referenced: list[Ticket] = []  # the tickets the batch's replies point at
        self.batch_tickets: dict[int, Ticket] = {}  # tickets a message of this batch went to

    @classmethod
    def prefetch(
        cls,
        session: Session,
        items: list[tuple[ParsedMessage, str]],
        *,
        config: IngestConfig,
        earliest: datetime,
    ) -> BatchLookups:
        """Fetch duplicates, our Message-IDs, customers, referenced and open tickets at once."""
        self = cls(session)
        for rule in config.routing.all_rules():
            if rule.assignee and rule.assignee not in self.agents:
                agent = get_or_create_agent(session, rule.assignee, now=earliest)
                assert agent.id is not None
                self.agents[rule.assignee] = agent.id
        mids = sorted({p.message_id[:998] for p, _ in items if p.message_id})
        refs = sorted({r for p, _ in items for r in (*p.in_reply_to, *p.references) if r})
        no_mid_hashes = [h for p, h in items if not p.message_id]
        for chunk in in_chunks(sorted(set(mids) | set(refs))):
            rows = session.execute(
                sa_select(  # type: ignore[call-overload]
                    Message.message_id,
                    Message.content_hash,
                    Message.direction,
                    Message.ticket_id,
                    Message.id,
                ).where(col(Message.message_id).in_(chunk))
            ).all()
            for mid, digest, direction, ticket_id, row_id in rows:
                if mid is None:
                    continue
                self.stored.setdefault((mid, digest or ""), (direction, ticket_id, row_id))
                self.ref_tickets.setdefault(mid, ticket_id)
                if direction == Direction.OUT.value:
                    self.ours.add(mid)
            bracketed = [f"<{m}>" for m in chunk]
            rows2 = session.exec(
                select(OutboxItem.message_id, OutboxItem.ticket_id).where(
                    col(OutboxItem.message_id).in_(chunk + bracketed)
                )
            ).all()
            for mid, ticket_id in rows2:
                self.ours.add(mid.strip("<>"))
                if ticket_id is not None:
                    self.ref_tickets.setdefault(mid.strip("<>"), ticket_id)
        for chunk in in_chunks(no_mid_hashes):
            rows3 = session.exec(
                select(
                    Message.content_hash, Message.direction, Message.ticket_id, Message.id
                ).where(col(Message.message_id).is_(None), col(Message.content_hash).in_(chunk))
            ).all()
            for digest, direction, ticket_id, row_id in rows3:
                self.stored.setdefault((None, digest or ""), (direction, ticket_id, row_id))
        senders = sorted({p.sender.address.strip().lower()[:320] for p, _ in items if p.sender})
        for chunk in in_chunks(senders):
            for customer in session.exec(select(Customer).where(col(Customer.email).in_(chunk))):
                self.customers[customer.email] = customer
        self.absent = set(senders) - set(self.customers)
        ticket_ids = sorted(set(self.ref_tickets.values()))
        for numbers in in_chunks(ticket_ids):
            # kept: the session's identity map holds its objects only while someone does
            self.referenced += session.exec(select(Ticket).where(col(Ticket.id).in_(numbers))).all()
        customer_ids = [c.id for c in self.customers.values() if c.id is not None]
        since = earliest - config.threading.subject_window_delta
        for cid in customer_ids:
            self.open_by_customer[cid] = []
        # Threading by subject only looks at open tickets with the subject of a message
        # of the batch from the same customer: only those are loaded as objects.
        keys: dict[int, set[str]] = {}
        for p, _prepared in items:
            owner = self.customers.get(p.sender.address.strip().lower()[:320]) if p.sender else None
            key = normalize_subject(p.subject)
            if owner is not None and owner.id is not None and key:
                keys.setdefault(owner.id, set()).add(key)
        alike: list[int] = []
        for numbers in in_chunks(customer_ids):
            light = session.execute(
                sa_select(Ticket.id, Ticket.customer_id, Ticket.subject).where(  # type: ignore[call-overload]
                    col(Ticket.customer_id).in_(numbers),
                    col(Ticket.status).in_([s.value for s in OPEN_STATUSES]),
                    col(Ticket.updated_at) >= since,
                )
            ).all()
            alike += [
                ticket_id
                for ticket_id, customer_id, subject in light
                if normalize_subject(subject) in keys.get(customer_id, ())
            ]
        alike.sort()
        for numbers in in_chunks(alike):
            for ticket in session.exec(select(Ticket).where(col(Ticket.id).in_(numbers))):
                self.open_by_customer[ticket.customer_id].append(ticket)
        checked = set(ticket_ids)
        checked.update(t.id for ts in self.open_by_customer.values() for t in ts if t.id)
        ordered = sorted(checked)
        for numbers in in_chunks(ordered):
            self.surveyed.update(
                session.exec(
                    select(Survey.ticket_id).where(
                        col(Survey.ticket_id).in_(numbers),
                        col(Survey.sent_at).is_not(None),
                    )
                ).all()
            )
        self.survey_checked = checked
        return self

    def may_have_survey(self, ticket: Ticket) -> bool:
        """False when the prefetch knows ``ticket`` has no sent survey (or the batch opened it)."""
        if ticket.id is None or ticket.id in self.new_tags:
            return False
        return ticket.id not in self.survey_checked or ticket.id in self.surveyed

    def duplicate(
        self, message_id: str | None, content_hash: str
    ) -> tuple[str, int, int | None] | None:
        return self.stored.get((message_id[:998] if message_id else None, content_hash))

    def tickets_by_message_ids(self, ids: list[str]) -> dict[str, Ticket]:
        found: dict[str, Ticket] = {}
        for mid in ids:
            ticket_id = self.ref_tickets.get(mid)
            if ticket_id is not None:
                ticket = self.ticket(ticket_id)
                if ticket is not None:
                    found[mid] = ticket
        return found

    def ticket(self, number: int) -> Ticket | None:
        # A ticket this batch opened is not written yet: the session cannot find it by id.
        return self.batch_tickets.get(number) or self.session.get(Ticket, number)

    def open_tickets(self, customer_id: int, since: datetime) -> list[Ticket]:
        if customer_id not in self.open_by_customer:
            return super().open_tickets(customer_id, since)
        tickets = [
            t
            for t in self.open_by_customer[customer_id]
            if t.status in _OPEN_VALUES and t.updated_at >= since and t.merged_into_id is None
        ]
        return sorted(tickets, key=lambda t: t.updated_at, reverse=True)

    def remember(
        self,
        message_id: str | None,
        content_hash: str,
        row_id: int,
        ticket: Ticket,
        *,
        new_ticket: bool,
    ) -> None:
        key = (message_id, content_hash)
        self.stored.setdefault(key, (Direction.IN.value, ticket.id or 0, row_id))
        if ticket.id is not None:
            self.batch_tickets[ticket.id] = ticket
        if message_id and ticket.id is not None:
            self.ref_tickets.setdefault(message_id, ticket.id)
        if new_ticket:
            self.open_by_customer.setdefault(ticket.customer_id, []).append(ticket)


_FLUSH_ORDER: tuple[type, ...] = (Customer, Ticket, Message)


def flush_batch(session: Session) -> None:
    """Write a batch's new rows parents first: customers, tickets, messages, then the rest.

    The tables have foreign keys but no ORM relationships, so one flush would
    not order the inserts; a batch ingest runs under ``no_autoflush`` and calls
    this before committing. The customers and tickets the session's
    collector (:mod:`cs_console.desk.bulk`) holds go in after the ORM ones of
    their table, its rows after the ORM messages and before the other ORM
    objects, which may point at them.
    """
    pending = list(session.new)
    for item in pending:
        session.expunge(item)
    rows = bulk_rows(session)
    for model in _FLUSH_ORDER:
        session.add_all([item for item in pending if type(item) is model])
        session.flush()
        if rows is not None and model in (Customer, Ticket):
            rows.write_held(session, model)
    if rows is not None:
        rows.write(session)
    session.add_all([item for item in pending if type(item) not in _FLUSH_ORDER])
    session.flush()
