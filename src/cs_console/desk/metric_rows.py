"""The rows metrics are computed from, and the query that reads them.

:func:`load_rows` reads what a period needs (its tickets with their status
history and tags, the SLA of those received in it, the surveys sent or answered
in it) into plain rows; :mod:`cs_console.desk.metrics` computes every figure
from those rows alone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING

from sqlmodel import Session, col, or_, select

from cs_console.desk.sla import TicketSla
from cs_console.store.models import (
    OPEN_STATUSES,
    Agent,
    Status,
    Survey,
    Ticket,
    TicketEvent,
    TicketTag,
)

if TYPE_CHECKING:
    from cs_console.desk.ticket_sla import TicketClock

__all__ = [
    "OPEN",
    "UNASSIGNED",
    "MetricRows",
    "Period",
    "SurveyRow",
    "TicketRow",
    "last_days",
    "load_rows",
]

UNASSIGNED = "(unassigned)"
OPEN = frozenset(s.value for s in OPEN_STATUSES)
"""The statuses a ticket is open in (the backlog counts them)."""
_DONE = frozenset({Status.SOLVED.value, Status.CLOSED.value})
_CHUNK = 500


@dataclass(frozen=True, slots=True)
class Period:
    """A time range ``[start, end)`` of aware datetimes."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("a period needs aware datetimes")
        if self.end <= self.start:
            raise ValueError("a period must end after it starts")

    def __contains__(self, at: object) -> bool:
        return isinstance(at, datetime) and self.start <= at < self.end

    @property
    def length(self) -> timedelta:
        return self.end - self.start

    def previous(self) -> Period:
        """The period of the same length just before this one."""
        return Period(self.start - self.length, self.start)


@dataclass(frozen=True, slots=True)
class TicketRow:
    """What metrics need of one ticket.

    Attributes:
        statuses: Status changes ``(at, old, new)`` in time order.
        agent: The assignee's name, or None.
    """

    id: int
    created_at: datetime
    status: str = Status.NEW.value
    priority: str = "normal"
    category: str = "other"
    channel: str = "email"
    agent: str | None = None
    first_reply_at: datetime | None = None
    statuses: tuple[tuple[datetime, str | None, str], ...] = ()
    tags: tuple[str, ...] = ()

    def status_at(self, at: datetime) -> str | None:
        """The status at ``at`` (None before the ticket existed)."""
        if at < self.created_at:
            return None
        current = Status.NEW.value
        for when, _old, new in self.statuses:
            if when > at:
                break
            current = new
        return current

    def solves(self) -> list[datetime]:
        """When the ticket became solved or closed from an open status."""
        found: list[datetime] = []
        current = Status.NEW.value
        for when, _old, new in self.statuses:
            if new in _DONE and current not in _DONE:
                found.append(when)
            current = new
        return found

    def reopens(self) -> list[datetime]:
        """When the ticket went from solved or closed back to an open status."""
        found: list[datetime] = []
        current = Status.NEW.value
        for when, _old, new in self.statuses:
            if current in _DONE and new in OPEN:
                found.append(when)
            current = new
        return found

    def group(self, by: str | None) -> str:
        """The ticket's value for a grouping."""
        if by == "agent":
            return self.agent or UNASSIGNED
        if by == "category":
            return self.category
        if by == "channel":
            return self.channel
        if by == "priority":
            return self.priority
        return "all"


@dataclass(frozen=True, slots=True)
class SurveyRow:
    """A survey with the grouping fields of its ticket."""

    ticket_id: int
    kind: str
    sent_at: datetime | None
    score: int | None
    answered_at: datetime | None
    priority: str = "normal"
    category: str = "other"
    channel: str = "email"
    agent: str | None = None

    def group(self, by: str | None) -> str:
        return TicketRow.group(self, by)  # type: ignore[arg-type]


@dataclass
class MetricRows:
    """The rows a report is computed from (see :func:`load_rows`)."""

    tickets: list[TicketRow] = field(default_factory=list)
    surveys: list[SurveyRow] = field(default_factory=list)
    slas: dict[int, TicketSla] = field(default_factory=dict)


def last_days(days: int, *, now: datetime, zone: tzinfo) -> Period:
    """The ``days`` local days up to and including today, as a period ending at midnight."""
    today = now.astimezone(zone).date()
    start = datetime.combine(today - timedelta(days=days - 1), datetime.min.time(), zone)
    end = datetime.combine(today + timedelta(days=1), datetime.min.time(), zone)
    return Period(start, end)


def _chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for i in range(0, len(ids), _CHUNK):
        yield ids[i : i + _CHUNK]


def load_rows(
    session: Session,
    period: Period,
    *,
    now: datetime,
    clock: TicketClock | None = None,
) -> MetricRows:
    """Read the tickets and surveys ``period`` (and the one before, for trends) needs.

    A ticket matters when it was created before the end and is open now or
    changed since the previous period began (every change bumps ``updated_at``).

    Args:
        clock: Evaluates the SLA of tickets received in the period; without it
            SLA figures are empty.
    """
    window_start = period.previous().start
    tickets = session.exec(
        select(Ticket)
        .where(
            col(Ticket.created_at) < period.end,
            col(Ticket.merged_into_id).is_(None),
            or_(col(Ticket.status).in_(list(OPEN)), col(Ticket.updated_at) >= window_start),
        )
        .order_by(col(Ticket.id))
    ).all()
    agents = {a.id: a.name for a in session.exec(select(Agent)).all()}
    ids = [t.id for t in tickets if t.id is not None]
    statuses: dict[int, list[tuple[datetime, str | None, str]]] = defaultdict(list)
    tags: dict[int, list[str]] = defaultdict(list)
    for chunk in _chunks(ids):
        for ticket_id, at, old, new in session.exec(
            select(
                TicketEvent.ticket_id, TicketEvent.at, TicketEvent.old_value, TicketEvent.new_value
            )
            .where(col(TicketEvent.ticket_id).in_(chunk), TicketEvent.kind == "status")
            .order_by(col(TicketEvent.at), col(TicketEvent.id))
        ):
            if new:
                statuses[ticket_id].append((at, old, new))
        for ticket_id, tag in session.exec(
            select(TicketTag.ticket_id, TicketTag.tag).where(col(TicketTag.ticket_id).in_(chunk))
        ):
            tags[ticket_id].append(tag)
    rows = [
        TicketRow(
            id=t.id,
            created_at=t.created_at,
            status=t.status,
            priority=t.priority,
            category=t.category,
            channel=t.channel,
            agent=agents.get(t.assignee_id) if t.assignee_id is not None else None,
            first_reply_at=t.first_reply_at,
            statuses=tuple(statuses[t.id]),
            tags=tuple(sorted(tags[t.id])),
        )
        for t in tickets
        if t.id is not None
    ]
    slas: dict[int, TicketSla] = {}
    if clock is not None:
        at_end = min(period.end, now)
        received = [t for t in tickets if t.created_at in period]
        for i in range(0, len(received), _CHUNK):
            batch = received[i : i + _CHUNK]
            for ticket_id, facts in clock.facts_many(session, batch).items():
                slas[ticket_id] = clock.engine.evaluate(facts, now=at_end)
    surveys = [
        SurveyRow(
            ticket_id=s.ticket_id,
            kind=s.kind,
            sent_at=s.sent_at,
            score=s.score,
            answered_at=s.answered_at,
            priority=t.priority,
            category=t.category,
            channel=t.channel,
            agent=agents.get(t.assignee_id) if t.assignee_id is not None else None,
        )
        for s, t in session.exec(
            select(Survey, Ticket)
            .join(Ticket, col(Ticket.id) == col(Survey.ticket_id))
            .where(
                or_(
                    (col(Survey.sent_at) >= period.start) & (col(Survey.sent_at) < period.end),
                    (col(Survey.answered_at) >= period.start)
                    & (col(Survey.answered_at) < period.end),
                )
            )
        )
    ]
    return MetricRows(tickets=rows, surveys=surveys, slas=slas)
