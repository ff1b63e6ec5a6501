"""The SLA columns of the tickets a batch ingest opened, from the batch's own rows.

:meth:`cs_console.desk.ticket_sla.TicketClock.refresh_many` reads a ticket's
history back from the database, so it runs after the batch's rows are
written and then UPDATEs every ticket it evaluated. A ticket the batch opened
has its whole history in the batch (:class:`cs_console.desk.bulk.BulkRows`):
its messages, events and tags are queued there. :func:`evaluate_new_tickets`
builds the same :class:`~cs_console.desk.sla.TicketFacts` from those rows and
sets the cached columns before the ticket is INSERTed, so the batch writes
each new ticket once. Tickets that existed before the batch are left to
``refresh_many``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from sqlmodel import Session

from cs_console.desk.bulk import BulkRows, set_fields
from cs_console.desk.sla import ClockEvent, TicketFacts
from cs_console.desk.ticket_sla import TicketClock, sla_columns
from cs_console.store.models import Direction, Message, Ticket, TicketEvent, TicketTag

__all__ = ["evaluate_new_tickets"]


def evaluate_new_tickets(
    session: Session,
    clock: TicketClock,
    rows: BulkRows,
    tickets: Iterable[Ticket],
    *,
    now: datetime,
) -> set[int]:
    """Set the cached SLA columns of ``tickets`` (opened by this batch, not yet written).

    A ticket with a message, event or tag the batch added as an ORM object
    instead of a queued row is skipped: its history is not all in ``rows``.
    Returns the ids of the tickets evaluated; refresh the others from the
    database after the batch is written.
    """
    wanted = {t.id: t for t in tickets if t.id is not None}
    if not wanted:
        return set()
    skipped: set[int] = set()
    for item in session.new:
        if isinstance(item, Message | TicketEvent | TicketTag) and item.ticket_id in wanted:
            skipped.add(item.ticket_id)
    statuses: dict[int, list[ClockEvent]] = defaultdict(list)
    survey_answers: set[tuple[int, datetime]] = set()
    for event in rows.of(TicketEvent):
        ticket_id = event["ticket_id"]
        if ticket_id not in wanted:
            continue
        if event.get("kind") == "survey":
            survey_answers.add((ticket_id, event["at"]))
        elif event.get("kind") == "status" and event.get("new_value"):
            statuses[ticket_id].append(ClockEvent.status_change(event["at"], event["new_value"]))
    messages: dict[int, list[ClockEvent]] = defaultdict(list)
    for message in rows.of(Message):
        ticket_id = message["ticket_id"]
        if ticket_id not in wanted:
            continue
        direction = message.get("direction")
        at = message["created_at"]
        if direction == Direction.IN.value:
            # Auto-replies (out of office...) and survey answers move no clock.
            if message.get("automated") or (ticket_id, at) in survey_answers:
                continue
            messages[ticket_id].append(ClockEvent.customer_message(at))
        elif direction == Direction.OUT.value:
            messages[ticket_id].append(ClockEvent.agent_reply(at))
    tags: dict[int, set[str]] = defaultdict(set)
    for tag in rows.of(TicketTag):
        if tag["ticket_id"] in wanted:
            tags[tag["ticket_id"]].add(tag["tag"])
    done: set[int] = set()
    for ticket_id, ticket in wanted.items():
        if ticket_id in skipped:
            continue
        facts = TicketFacts(
            created_at=ticket.created_at,
            priority=ticket.priority,
            category=ticket.category,
            channel=ticket.channel,
            tags=frozenset(tags[ticket_id]),
            events=sorted([*statuses[ticket_id], *messages[ticket_id]], key=lambda e: e.at),
        )
        set_fields(rows, ticket, sla_columns(clock.engine.evaluate(facts, now=now)))
        done.add(ticket_id)
    return done
