"""Reading the bodies of messages a large sync recorded from their headers.

A first sync of thousands of messages is mostly parsing: bodies, attachments,
quoted text. So that the tickets reach the queue sooner, such a sync records
every message from its header block first (:func:`cs_console.desk.sync_parse.prepare_head`):
the message, its raw bytes, its customer and its ticket (threaded as usual),
committed with the folder's state as any batch (:mod:`cs_console.desk.sync_batch`).
Each such message gets a :class:`~cs_console.store.models.MessageBodyPending`
row, and :func:`read_bodies` finishes it once its body is parsed, in one
transaction per batch:

* the message's text, quoted text, signature, HTML, parse warnings and
  attachments (its search-index entry follows its text);
* for the message that opened its ticket: the routing (category, priority,
  tags, assignee, language), unless someone changed the ticket meanwhile, and
  the acknowledgement owed to the customer;
* the SLA columns of every ticket involved, now that the priority is known;
* the pending row goes.

A sync stopped in between leaves the pending rows; the next sync of the
account reads those bodies from the stored raw bytes first
(:func:`read_owed_bodies`). A message whose body cannot be finished keeps its
headers and raw bytes and says so in its warnings: it is never retried forever.
A database error, though, leaves every body owed for the next sync.
"""

from __future__ import annotations

import logging
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, func
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from cs_console.desk.ingest import (
    IngestConfig,
    acknowledge_new_ticket,
    acknowledgement_may_be_due,
    store_attachments,
)
from cs_console.desk.ingest_batch import BatchLookups, flush_batch, in_chunks
from cs_console.desk.sync_parse import BatchParser, OwedBody, Parsing, Prepared
from cs_console.desk.ticket_sla import sla_columns
from cs_console.desk.tickets import get_or_create_agent, normalize_tag
from cs_console.i18n import normalize_language
from cs_console.store.bulk_sql import update_many
from cs_console.store.models import (
    Customer,
    Message,
    MessageBodyPending,
    MessageRaw,
    Ticket,
    TicketEvent,
    TicketTag,
)
from cs_console.store.search_index import reindex_message_bodies
from cs_console.textsafe import one_line

__all__ = [
    "BODIES_BEHIND",
    "BODIES_MAX_BYTES",
    "BODY_BATCH",
    "BodyReader",
    "count_owed_bodies",
    "owed_body_sources",
    "read_bodies",
    "read_owed_bodies",
]

log = logging.getLogger(__name__)


BODY_BATCH = 500  # messages whose bodies one transaction finishes
#: Batches recorded from their headers whose bodies may wait (parsed or being parsed)
#: before the sync stores some: how far the queue may run ahead of the bodies. The
#: waiting raw messages are held in memory, so their size is bounded too.
BODIES_BEHIND = 20
BODIES_MAX_BYTES = 128 * 1024 * 1024

_MESSAGE: Table = Message.__table__  # type: ignore[attr-defined]
_TICKET: Table = Ticket.__table__  # type: ignore[attr-defined]
_PENDING: Table = MessageBodyPending.__table__  # type: ignore[attr-defined]
_BODY_COLUMNS = ("body_text", "new_text", "quoted_text", "signature", "body_html", "parse_warnings")


@dataclass
class _Owed:
    """One pending message with what finishing it needs from the database."""

    row_id: int
    ticket_id: int
    warnings: str
    opened: bool
    acknowledge: bool
    body: str  # as recorded (empty): its search-index entry was made from it


def read_bodies(
    engine: Engine,
    config: IngestConfig,
    items: Sequence[tuple[int, Prepared]],
    *,
    now: datetime,
) -> int:
    """Finish the pending messages ``items`` (message row id, fully prepared); returns how many.

    Messages no longer pending (finished by an earlier run) are skipped. When
    the batch fails, each message is tried alone; one that still fails keeps
    its headers, with the error among its warnings, and is no longer pending.
    A database error is raised instead: the database, not the message, is at
    fault, and the messages stay pending for the next sync.
    """
    try:
        return _read(engine, config, items, now=now)
    except SQLAlchemyError:
        raise
    except Exception as exc:
        if len(items) == 1:
            _give_up(engine, items[0][0], exc)
            return 1
        log.warning("reading a batch of bodies failed (%r); one message at a time", exc)
    done = 0
    for item in items:
        try:
            done += _read(engine, config, [item], now=now)
        except SQLAlchemyError:
            raise
        except Exception as exc:
            log.warning("message %s: its body could not be stored: %r", item[0], exc)
            _give_up(engine, item[0], exc)
            done += 1
    return done


def _read(
    engine: Engine, config: IngestConfig, items: Sequence[tuple[int, Prepared]], *, now: datetime
) -> int:
    with Session(engine, expire_on_commit=False) as session:
        owed = _owed(session, [row_id for row_id, _ in items])
        if not owed:
            return 0
        lookups = BatchLookups(session)  # its collector takes the new rows
        # Tickets as plain rows, written back with one executemany: thousands of ORM
        # objects and their UPDATEs would cost more than the bodies.
        tickets = _ticket_rows(session, sorted({o.ticket_id for o in owed.values()}))
        tags = _tags(session, [o.ticket_id for o in owed.values() if o.opened])
        updates: list[tuple[object, ...]] = []
        reindexed: list[tuple[int, str, str]] = []
        greet: list[tuple[int, Prepared]] = []
        with session.no_autoflush:
            for row_id, prepared in items:
                entry = owed.get(row_id)
                if entry is None:
                    continue
                parsed = prepared.parsed
                known = [w for w in entry.warnings.split("\n") if w]
                warnings = "\n".join(dict.fromkeys([*parsed.warnings, *known]))
                body = (parsed.text, parsed.new_text, parsed.quoted_text, parsed.signature)
                updates.append((*body, parsed.html, warnings, row_id))
                reindexed.append((row_id, entry.body, parsed.text))
                store_attachments(
                    session, lookups, row_id, parsed, config.attachments_dir, prepared.stored
                )
                ticket = tickets.get(entry.ticket_id)
                if ticket is None or not entry.opened:
                    continue
                ticket_tags = tags.setdefault(entry.ticket_id, [])
                _route(session, config, lookups, ticket, prepared, ticket_tags, now)
                wrote = ticket["created_at"]
                if entry.acknowledge and acknowledgement_may_be_due(
                    config, received_at=wrote, now=now
                ):
                    lookups.new_tags[entry.ticket_id] = ticket_tags
                    greet.append((entry.ticket_id, prepared))
            connection = session.connection()
            update_many(connection, _MESSAGE, _BODY_COLUMNS, ("id",), updates)
            # Still pending now: the search index's trigger left them out for this.
            reindex_message_bodies(connection, reindexed)
            flush_batch(session)
            if config.clock is not None:
                _evaluate_sla(session, config, tickets, now)
            _write_tickets(connection, tickets.values())
            for ticket_id, prepared in greet:
                _acknowledge(session, config, lookups, ticket_id, prepared, now)
            flush_batch(session)
        session.execute(delete(_PENDING).where(_PENDING.c.message_id.in_(list(owed))))
        session.commit()
        return len(owed)


def _owed(session: Session, row_ids: list[int]) -> dict[int, _Owed]:
    found: dict[int, _Owed] = {}
    for chunk in in_chunks(row_ids):
        rows = session.execute(
            sa_select(  # type: ignore[call-overload]
                MessageBodyPending.message_id,
                MessageBodyPending.opened,
                MessageBodyPending.acknowledge,
                Message.ticket_id,
                Message.parse_warnings,
                Message.body_text,
            )
            .join(Message, col(Message.id) == col(MessageBodyPending.message_id))
            .where(col(MessageBodyPending.message_id).in_(chunk))
        ).all()
        for row_id, opened, acknowledge, ticket_id, warnings, body in rows:
            found[row_id] = _Owed(
                row_id, ticket_id, warnings or "", opened, acknowledge, body or ""
            )
    return found


_TICKET_COLUMNS = (
    "id",
    "customer_id",
    "category",
    "priority",
    "channel",
    "language",
    "account",
    "assignee_id",
    "created_at",
    "updated_at",
    "version",
    "first_reply_due",
    "next_reply_due",
    "resolution_due",
    "sla_due_at",
    "sla_breached",
)
_WRITTEN = [name for name in _TICKET_COLUMNS if name not in ("id", "customer_id", "channel")]


def _ticket_rows(session: Session, ids: list[int]) -> dict[int, dict[str, Any]]:
    """The tickets' columns this step reads or changes, with a copy as loaded (``_loaded``)."""
    found: dict[int, dict[str, Any]] = {}
    columns = [_TICKET.c[name] for name in _TICKET_COLUMNS]
    for chunk in in_chunks(ids):
        for values in session.execute(sa_select(*columns).where(_TICKET.c.id.in_(chunk))):
            row = dict(zip(_TICKET_COLUMNS, values, strict=True))
            row["_loaded"] = dict(row)
            found[row["id"]] = row
    return found


def _changed(row: dict[str, Any]) -> tuple[str, ...]:
    """The columns of a ticket's row that differ from what was loaded."""
    loaded = row["_loaded"]
    return tuple(name for name in _WRITTEN if row[name] != loaded[name])


def _write_tickets(connection: Connection, rows: Iterable[dict[str, Any]]) -> None:
    """UPDATE the tickets that changed, only their changed columns (one executemany per set).

    An UPDATE rewrites the entry of every index on a column it sets, changed
    or not: setting all the columns this step may change cost twice the
    bodies' UPDATE (the tickets' indexes on creation time, assignee and last
    activity). The version guard keeps an agent's change made meanwhile.
    """
    by_columns: dict[tuple[str, ...], list[tuple[object, ...]]] = defaultdict(list)
    for row in rows:
        columns = _changed(row)
        if columns:
            values = (*(row[name] for name in columns), row["id"], row["_loaded"]["version"])
            by_columns[columns].append(values)
    for columns, params in by_columns.items():
        update_many(connection, _TICKET, columns, ("id", "version"), params)


def _tags(session: Session, ticket_ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for chunk in in_chunks(ticket_ids):
        rows = session.exec(
            select(TicketTag.ticket_id, TicketTag.tag).where(col(TicketTag.ticket_id).in_(chunk))
        ).all()
        for ticket_id, tag in rows:
            found.setdefault(ticket_id, []).append(tag)
    return found


def _route(
    session: Session,
    config: IngestConfig,
    lookups: BatchLookups,
    ticket: dict[str, Any],
    prepared: Prepared,
    tags: list[str],
    now: datetime,
) -> None:
    """Give a ticket (a row) opened from headers what its first message's body decides.

    The tag and "routed" events are dated when the ticket opened, as a one-pass
    ingest records them; each bumps the ticket's version, as
    :func:`cs_console.desk.tickets.record_event` does. A field someone changed
    since (category, priority, assignee) is left as they set it.
    """
    decision = prepared.route
    unrouted = config.router.unrouted()
    if ticket["category"] == unrouted.category:
        ticket["category"] = decision.category
    if ticket["priority"] == unrouted.priority:
        ticket["priority"] = decision.priority
    language = normalize_language(prepared.parsed.language)
    if ticket["language"] is None and language:
        ticket["language"] = language
    if decision.assignee and ticket["assignee_id"] is None:
        ticket["assignee_id"] = get_or_create_agent(session, decision.assignee, now=now).id
    at = ticket["created_at"]
    for tag in dict.fromkeys(normalize_tag(t) for t in decision.tags):
        if tag in tags:
            continue
        tags.append(tag)
        lookups.rows.add(TicketTag, {"ticket_id": ticket["id"], "tag": tag})
        _event(lookups, ticket, at, "tag", new=tag)
    if decision.matched:
        detail = ", ".join(decision.matched)
        _event(lookups, ticket, at, "routed", new=decision.category, detail=detail)


def _event(
    lookups: BatchLookups,
    ticket: dict[str, Any],
    at: datetime,
    kind: str,
    *,
    new: str,
    detail: str | None = None,
) -> None:
    values = {"ticket_id": ticket["id"], "at": at, "agent_id": None, "kind": kind}
    lookups.rows.add(TicketEvent, {**values, "old_value": None, "new_value": new, "detail": detail})
    ticket["version"] += 1
    if at > ticket["updated_at"]:
        ticket["updated_at"] = at


class _TicketRow:
    """A ticket's row as :meth:`cs_console.desk.ticket_sla.TicketClock.facts_many` reads it."""

    __slots__ = ("category", "channel", "created_at", "id", "priority")

    def __init__(self, row: dict[str, Any]) -> None:
        self.id: int | None = row["id"]
        self.created_at: datetime = row["created_at"]
        self.priority: str = row["priority"]
        self.category: str = row["category"]
        self.channel: str = row["channel"]


def _evaluate_sla(
    session: Session, config: IngestConfig, tickets: dict[int, dict[str, Any]], now: datetime
) -> None:
    """Set the SLA columns of ``tickets`` (rows) from their histories, now that they are routed."""
    assert config.clock is not None
    views = [_TicketRow(row) for row in tickets.values()]
    facts = config.clock.facts_many(session, views)
    for ticket_id, row in tickets.items():
        row.update(sla_columns(config.clock.engine.evaluate(facts[ticket_id], now=now)))


def _acknowledge(
    session: Session,
    config: IngestConfig,
    lookups: BatchLookups,
    ticket_id: int,
    prepared: Prepared,
    now: datetime,
) -> bool:
    """Queue the acknowledgement a ticket opened from headers is owed (its row is written)."""
    ticket = session.get(Ticket, ticket_id)
    customer = session.get(Customer, ticket.customer_id) if ticket is not None else None
    if ticket is None or customer is None:
        return False
    return acknowledge_new_ticket(
        session,
        config=config,
        ticket=ticket,
        customer=customer,
        parsed=prepared.parsed,
        account=ticket.account,
        received_at=ticket.created_at,
        now=now,
        lookups=lookups,
    )


def _give_up(engine: Engine, row_id: int, exc: BaseException) -> None:
    """Stop waiting for a body that cannot be stored: say why on the message."""
    reason = one_line(f"{type(exc).__name__}: {exc}", limit=300)
    with Session(engine) as session:
        message = session.get(Message, row_id)
        if message is not None:
            note = f"the body of this message could not be read: {reason}"
            message.parse_warnings = "\n".join(w for w in (message.parse_warnings, note) if w)
            session.add(message)
        session.execute(
            delete(MessageBodyPending).where(col(MessageBodyPending.message_id) == row_id)
        )
        session.commit()


def _nothing_owed(session: Session) -> bool:
    """Whether no message waits for its body, the usual case: one cheap query."""
    return session.exec(select(MessageBodyPending.message_id).limit(1)).first() is None


def owed_body_sources(engine: Engine) -> list[tuple[str, str]]:
    """The (account, folder) pairs that have messages waiting for their bodies (usually none)."""
    with Session(engine) as session:
        if _nothing_owed(session):
            return []
        rows = session.exec(
            select(Message.source_account, Message.source_folder)
            .join(MessageBodyPending, col(MessageBodyPending.message_id) == col(Message.id))
            .distinct()
        ).all()
    return sorted((a, f) for a, f in rows if a is not None and f is not None)


def count_owed_bodies(engine: Engine, account: str, folder: str) -> int:
    """How many messages of a folder wait for their bodies (usually none: one cheap query)."""
    with Session(engine) as session:
        if _nothing_owed(session):
            return 0  # the no-news poll's case: the join below would walk the folder's messages
        found = session.exec(
            select(func.count())
            .select_from(MessageBodyPending)
            .join(Message, col(Message.id) == col(MessageBodyPending.message_id))
            .where(col(Message.source_account) == account, col(Message.source_folder) == folder)
        ).one()
    return int(found)


PrepareFn = Callable[[list[bytes]], Callable[[], list[Prepared]]]


def read_owed_bodies(
    engine: Engine,
    config: IngestConfig,
    prepare: PrepareFn,
    *,
    account: str,
    folder: str,
    now_fn: Callable[[], datetime],
) -> int:
    """Finish what an earlier sync of a folder left pending, from the stored raw bytes.

    ``prepare`` parses a list of raw messages (inline or in worker processes,
    as :meth:`cs_console.desk.sync_parse.BatchParser.prepare`). Returns how
    many messages were finished.
    """
    done = 0
    last = 0
    while True:
        with Session(engine) as session:
            query = (
                select(MessageBodyPending.message_id, MessageRaw.data)
                .join(MessageRaw, col(MessageRaw.message_id) == col(MessageBodyPending.message_id))
                .join(Message, col(Message.id) == col(MessageBodyPending.message_id))
                .where(
                    col(MessageBodyPending.message_id) > last,
                    col(Message.source_account) == account,
                    col(Message.source_folder) == folder,
                )
                .order_by(col(MessageBodyPending.message_id))
                .limit(BODY_BATCH)
            )
            rows = session.exec(query).all()
        if not rows:
            return done
        last = rows[-1][0]
        prepared = prepare([bytes(data) for _, data in rows])()
        items = [(row_id, p) for (row_id, _), p in zip(rows, prepared, strict=True)]
        done += read_bodies(engine, config, items, now=now_fn())


@dataclass
class _Waiting:
    """A batch's bodies waiting to be stored; ``parsing`` once handed to the parser."""

    bodies: list[OwedBody]
    size: int  # bytes of raw messages
    parsing: Parsing | None = None


class BodyReader:
    """Has the bodies a sync owes parsed in the background and stores them, oldest first.

    The parsing goes to the sync's own parser (its worker processes take it
    up once they have fetched the batches ahead); :meth:`owe` queues a batch
    and stores the oldest ones once more than :data:`BODIES_BEHIND` batches
    (or :data:`BODIES_MAX_BYTES` of raw messages) wait, :meth:`finish` stores
    the rest. Closed before that, what waits stays owed in the database.

    While the sync is still recording headers, one batch of bodies at a time
    is parsed, by one worker: the other fetches ahead, and the sync's own
    process keeps a core to itself, so the tickets reach the queue sooner
    (by 8 to 10% in ``benchmarks/sync_first_run.py``) and the bodies are done
    as soon. From :meth:`finish` on, every batch is split among the workers.
    """

    def __init__(
        self,
        engine: Engine,
        config: IngestConfig,
        parser: BatchParser,
        *,
        now_fn: Callable[[], datetime],
        on_stored: Callable[[int, int], None] | None = None,
        behind: int = BODIES_BEHIND,
        max_bytes: int = BODIES_MAX_BYTES,
    ) -> None:
        self.engine = engine
        self.config = config
        self.parser = parser
        self.now_fn = now_fn
        self.on_stored = on_stored  # called with (bodies stored, bodies owed so far)
        self.behind = behind
        self.max_bytes = max_bytes
        self.waiting: deque[_Waiting] = deque()
        self.waiting_bytes = 0
        self.done = 0
        self.owed = 0

    def owe(self, bodies: list[OwedBody]) -> None:
        """Queue the bodies of a batch just recorded."""
        if bodies:
            size = sum(len(item.raw) for item in bodies)
            self.owed += len(bodies)
            self.waiting.append(_Waiting(bodies, size))
            self.waiting_bytes += size
        self._hand_over(spread=False)
        while len(self.waiting) > self.behind or (
            len(self.waiting) > 1 and self.waiting_bytes > self.max_bytes
        ):
            self._store_oldest()

    def finish(self) -> int:
        """Store every body still waiting; returns how many this reader stored."""
        self._hand_over(spread=True)
        while self.waiting:
            self._store_oldest()
        return self.done

    def _hand_over(self, *, spread: bool) -> None:
        """Give the parser the waiting batches, oldest first: all (``spread``) or the next one.

        Without ``spread`` a batch goes to one worker, and only once the
        worker has finished the one before.
        """
        for batch in self.waiting:
            if batch.parsing is None:
                batch.parsing = self.parser.prepare_bodies(batch.bodies, spread=spread)
                if not spread:
                    return
            elif not spread and not batch.parsing.done():
                return

    def _store_oldest(self) -> None:
        batch = self.waiting.popleft()
        self.waiting_bytes -= batch.size
        if batch.parsing is None:  # about to be waited for: every worker on it
            batch.parsing = self.parser.prepare_bodies(batch.bodies)
        ids = [item.row_id for item in batch.bodies]
        items = list(zip(ids, batch.parsing(), strict=True))
        self.done += read_bodies(self.engine, self.config, items, now=self.now_fn())
        if self.on_stored is not None:
            self.on_stored(self.done, self.owed)

    def close(self) -> None:
        self.waiting.clear()  # left pending in the database: the next sync reads them

    def __enter__(self) -> BodyReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
