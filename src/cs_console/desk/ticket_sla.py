"""The SLA of stored tickets: their history read from the tables, evaluated, cached.

The queue orders by the cached columns (``sla_due_at``, ``sla_breached``);
whoever changes a ticket calls :func:`refresh_sla` in the same transaction,
and :func:`mark_breaches` flips the breached flag of tickets whose time ran
out since (one UPDATE, run by the console's refresh and by ``sync``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import update
from sqlmodel import Session, col, select

from cs_console.config import Settings
from cs_console.desk.sla import (
    CalendarSet,
    ClockEvent,
    EscalationAction,
    SlaEngine,
    TicketFacts,
    TicketSla,
    escalations,
    queue_fields,
)
from cs_console.store.models import (
    OPEN_STATUSES,
    Direction,
    Message,
    Ticket,
    TicketEvent,
    TicketTag,
)


class TicketFields(Protocol):
    """What :meth:`TicketClock.facts_many` reads of a ticket: a :class:`Ticket` or a plain row."""

    @property
    def id(self) -> int | None: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def priority(self) -> str: ...
    @property
    def category(self) -> str: ...
    @property
    def channel(self) -> str: ...


class TicketClock:
    """Evaluates stored tickets under one workspace's SLA settings."""

    def __init__(self, settings: Settings) -> None:
        calendars = CalendarSet.from_settings(
            settings.business_hours,
            timezone=settings.shop.timezone,
            country=settings.shop.country,
            region=settings.shop.region,
        )
        self.settings = settings
        self.calendars = calendars
        self.engine = SlaEngine(settings.sla, calendars)

    def facts(self, session: Session, ticket: Ticket) -> TicketFacts:
        """The history of one ticket as the SLA engine reads it."""
        assert ticket.id is not None
        return self.facts_many(session, [ticket])[ticket.id]

    def facts_many(
        self, session: Session, tickets: Sequence[TicketFields]
    ) -> dict[int, TicketFacts]:
        """Histories of many tickets in three queries (rows will do: :class:`TicketFields`)."""
        ids = [t.id for t in tickets if t.id is not None]
        events: dict[int, list[ClockEvent]] = defaultdict(list)
        tags: dict[int, set[str]] = defaultdict(set)
        if ids:
            # A survey answer arrives as a customer message at the instant its
            # "survey" event is recorded; it asks for nothing, so it moves no clock.
            survey_answers: set[tuple[int, datetime]] = set()
            for ticket_id, at, kind, status in session.exec(
                select(
                    TicketEvent.ticket_id, TicketEvent.at, TicketEvent.kind, TicketEvent.new_value
                ).where(
                    col(TicketEvent.ticket_id).in_(ids),
                    col(TicketEvent.kind).in_(["status", "survey"]),
                )
            ):
                if kind == "survey":
                    survey_answers.add((ticket_id, at))
                elif status:
                    events[ticket_id].append(ClockEvent.status_change(at, status))
            for ticket_id, direction, at, automated in session.exec(
                select(
                    Message.ticket_id, Message.direction, Message.created_at, Message.automated
                ).where(
                    col(Message.ticket_id).in_(ids),
                    col(Message.direction).in_([Direction.IN.value, Direction.OUT.value]),
                )
            ):
                if direction == Direction.IN.value:
                    # Auto-replies (out of office...) and survey answers move no clock.
                    if automated or (ticket_id, at) in survey_answers:
                        continue
                    events[ticket_id].append(ClockEvent.customer_message(at))
                else:
                    events[ticket_id].append(ClockEvent.agent_reply(at))
            for ticket_id, tag in session.exec(
                select(TicketTag.ticket_id, TicketTag.tag).where(col(TicketTag.ticket_id).in_(ids))
            ):
                tags[ticket_id].add(tag)
        result: dict[int, TicketFacts] = {}
        for ticket in tickets:
            if ticket.id is None:
                continue
            history = sorted(events[ticket.id], key=lambda e: e.at)
            result[ticket.id] = TicketFacts(
                created_at=ticket.created_at,
                priority=ticket.priority,
                category=ticket.category,
                channel=ticket.channel,
                tags=frozenset(tags[ticket.id]),
                events=history,
            )
        return result

    def evaluate(self, session: Session, ticket: Ticket, *, now: datetime) -> TicketSla:
        """The ticket's SLA state at ``now``."""
        return self.engine.evaluate(self.facts(session, ticket), now=now)

    def refresh(self, session: Session, ticket: Ticket, *, now: datetime) -> TicketSla:
        """Evaluate and store the cached SLA columns of one ticket."""
        session.flush()
        sla = self.evaluate(session, ticket, now=now)
        _store(ticket, sla)
        session.add(ticket)
        return sla

    def refresh_many(self, session: Session, tickets: Iterable[Ticket], *, now: datetime) -> int:
        """Refresh a batch of tickets (the demo, a settings change); returns how many."""
        batch = list(tickets)
        session.flush()
        facts = self.facts_many(session, batch)
        for ticket in batch:
            if ticket.id is not None:
                _store(ticket, self.engine.evaluate(facts[ticket.id], now=now))
                session.add(ticket)
        return len(batch)

    def refresh_open(self, session: Session, *, now: datetime, batch: int = 500) -> int:
        """Refresh every open ticket (after the SLA settings changed)."""
        done = 0
        last_id = 0
        open_values = [s.value for s in OPEN_STATUSES]
        while True:
            rows = session.exec(
                select(Ticket)
                .where(col(Ticket.status).in_(open_values), col(Ticket.id) > last_id)
                .order_by(col(Ticket.id))
                .limit(batch)
            ).all()
            if not rows:
                return done
            done += self.refresh_many(session, rows, now=now)
            last_id = rows[-1].id or last_id


def sla_columns(sla: TicketSla) -> dict[str, Any]:
    """The ticket's cached SLA columns for ``sla``, by column name."""
    fields = queue_fields(sla)
    return {
        "first_reply_due": fields.first_reply_due,
        "next_reply_due": fields.next_reply_due,
        "resolution_due": fields.resolution_due,
        "sla_due_at": fields.earliest_due,
        "sla_breached": fields.breached,
    }


def _store(ticket: Ticket, sla: TicketSla) -> None:
    for name, value in sla_columns(sla).items():
        setattr(ticket, name, value)


def mark_breaches(session: Session, *, now: datetime) -> int:
    """Flag open tickets whose earliest due time has passed; returns how many changed."""
    result = session.execute(
        update(Ticket)
        .where(
            col(Ticket.status).in_([s.value for s in OPEN_STATUSES]),
            col(Ticket.sla_breached).is_(False),
            col(Ticket.sla_due_at).is_not(None),
            col(Ticket.sla_due_at) <= now,
        )
        .values(sla_breached=True)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


ESCALATION_LOOKAHEAD = timedelta(days=3)


def apply_escalations(session: Session, clock: TicketClock, *, now: datetime) -> int:
    """Apply the ``[[sla.escalation]]`` rules to open tickets near or past their due time.

    Each action is recorded as an ``escalation`` event whose detail is the
    action's key, so it fires once per ticket, rule and target. Returns how
    many actions were applied.
    """
    rules = clock.settings.sla.escalation
    if not rules:
        return 0
    candidates = session.exec(
        select(Ticket).where(
            col(Ticket.status).in_([s.value for s in OPEN_STATUSES]),
            col(Ticket.sla_due_at).is_not(None),
            col(Ticket.sla_due_at) <= now + ESCALATION_LOOKAHEAD,
        )
    ).all()
    if not candidates:
        return 0
    ids = [t.id for t in candidates]
    applied: dict[int, set[str]] = defaultdict(set)
    for ticket_id, key in session.exec(
        select(TicketEvent.ticket_id, TicketEvent.detail).where(
            col(TicketEvent.ticket_id).in_(ids), TicketEvent.kind == "escalation"
        )
    ):
        if key:
            applied[ticket_id].add(key)
    facts = clock.facts_many(session, candidates)
    count = 0
    for ticket in candidates:
        assert ticket.id is not None
        sla = clock.engine.evaluate(facts[ticket.id], now=now)
        for action in escalations(sla, rules, applied=applied[ticket.id]):
            _apply(session, ticket, action, now=now)
            count += 1
        if count:
            clock.refresh(session, ticket, now=now)
    return count


def _apply(session: Session, ticket: Ticket, action: EscalationAction, *, now: datetime) -> None:
    from cs_console.desk import tickets

    record_detail = action.key
    tickets.record_event(
        session,
        ticket,
        "escalation",
        now=now,
        new=f"{action.when}:{action.target}",
        detail=record_detail,
    )
    if action.set_priority:
        tickets.set_priority(session, ticket, action.set_priority, now=now)
    if action.add_tag:
        tickets.add_tag(session, ticket, action.add_tag, now=now)
    if action.assign:
        agent = tickets.get_or_create_agent(session, action.assign, now=now)
        tickets.assign(session, ticket, agent, now=now)
