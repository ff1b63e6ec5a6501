"""The queue: which tickets to work on, most urgent first, a page at a time.

Order: breached tickets first, then the soonest SLA due time (tickets without a
running SLA target last), then the ticket number. Pages are fetched by key
(keyset pagination): the caller passes the :class:`QueueKey` of the last row it
has and gets the rows after it, so no query ever reads the whole queue.

To stay on the ``ix_ticket_queue`` index (status, sla_breached, sla_due_at, id)
each page is read as a few small index range scans, one per (status, breached,
has-due) segment, each already in order and limited, and merged here.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, or_, select, text, true
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from cs_console.desk.queue_row import QueueKey, QueueRow, View, sortable_key
from cs_console.store.models import (
    OPEN_STATUSES,
    Agent,
    Customer,
    FolderState,
    OutboxItem,
    OutboxStatus,
    Status,
    Ticket,
)

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "AccountSync",
    "DeskStatus",
    "QueueFilter",
    "QueueKey",
    "QueueRow",
    "View",
    "breaching_count",
    "change_marker",
    "desk_status",
    "fetch_page",
    "search_query_terms",
    "search_ticket_ids",
]

DEFAULT_PAGE_SIZE = 150
#: How soon a due time counts as "breaching" in the breaching view.
DEFAULT_WARN_WITHIN = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class QueueFilter:
    """What the queue shows: a view, a category, a quick filter and a search.

    Args:
        view: Which tickets (see :class:`View`).
        agent_id: The current agent, for the "mine" view.
        category: The category, for the "category" view.
        text: A quick filter: every word must appear in the subject, the
            customer's name or address, or be the ticket number.
        search: Full-text search over subjects and message bodies.
    """

    view: View = View.OPEN
    agent_id: int | None = None
    category: str | None = None
    text: str = ""
    search: str = ""
    warn_within: timedelta = field(default=DEFAULT_WARN_WITHIN)


_OPEN = tuple(s.value for s in OPEN_STATUSES)


def _statuses(view: View) -> tuple[str, ...]:
    if view is View.PENDING:
        return (Status.PENDING.value,)
    return _OPEN


def _conditions(session: Session, flt: QueueFilter, *, now: datetime) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    if flt.view is View.MINE:
        conds.append(col(Ticket.assignee_id) == flt.agent_id if flt.agent_id else false())
    elif flt.view is View.UNASSIGNED:
        conds.append(col(Ticket.assignee_id).is_(None))
    elif flt.view is View.CATEGORY and flt.category:
        conds.append(col(Ticket.category) == flt.category)
    elif flt.view is View.BREACHING:
        conds.append(
            or_(
                col(Ticket.sla_breached).is_(True),
                col(Ticket.sla_due_at) <= now + flt.warn_within,
            )
        )
    for word in flt.text.split()[:8]:
        if word.startswith("#") and word[1:].isdigit():
            conds.append(col(Ticket.id) == int(word[1:]))
            continue
        pattern = "%" + _escape_like(word.lower()) + "%"
        word_conds: list[ColumnElement[bool]] = [
            func.lower(col(Ticket.subject)).like(pattern, escape="\\"),
            func.lower(col(Customer.name)).like(pattern, escape="\\"),
            col(Customer.email).like(pattern, escape="\\"),
        ]
        if word.isdigit():
            word_conds.append(col(Ticket.id) == int(word))
        conds.append(or_(*word_conds))
    if flt.search.strip():
        ids = search_ticket_ids(session, flt.search)
        conds.append(col(Ticket.id).in_(ids) if ids else false())
    return conds


def _escape_like(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _segment_after(
    breached: bool, has_due: bool, after: QueueKey | None
) -> ColumnElement[bool] | None:
    """The keyset condition inside one segment; None means the segment is skipped."""
    if after is None:
        return true()
    seg = (0 if breached else 1, 0 if has_due else 1)
    pos = (0 if after.breached else 1, 0 if after.due is not None else 1)
    if seg < pos:
        return None
    if seg > pos:
        return true()
    if has_due:
        return or_(
            col(Ticket.sla_due_at) > after.due,
            and_(col(Ticket.sla_due_at) == after.due, col(Ticket.id) > after.id),
        )
    return col(Ticket.id) > after.id


def fetch_page(
    session: Session,
    flt: QueueFilter,
    *,
    now: datetime,
    after: QueueKey | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
) -> list[QueueRow]:
    """The next ``limit`` rows of the queue after ``after`` (from the top when None)."""
    conds = _conditions(session, flt, now=now)
    assignee = aliased(Agent)
    result: list[QueueRow] = []
    # Segments come in queue order (breached with a due time first...); within one,
    # each status is an index range already in order: merge those, stop when full.
    for breached, has_due in ((True, True), (True, False), (False, True), (False, False)):
        segments: list[list[QueueRow]] = []
        for status in _statuses(flt.view):
            keyset = _segment_after(breached, has_due, after)
            if keyset is None:
                continue
            stmt = (
                select(
                    col(Ticket.id),
                    col(Ticket.subject),
                    col(Customer.name),
                    col(Customer.email),
                    col(Ticket.category),
                    col(Ticket.priority),
                    col(Ticket.status),
                    func.coalesce(assignee.display_name, assignee.name),
                    col(Ticket.sla_due_at),
                    col(Ticket.sla_breached),
                    col(Ticket.updated_at),
                    col(Ticket.unread),
                )
                .join(Customer, col(Customer.id) == col(Ticket.customer_id))
                .outerjoin(assignee, col(assignee.id) == col(Ticket.assignee_id))
                .where(
                    col(Ticket.status) == status,
                    col(Ticket.sla_breached).is_(breached),
                    col(Ticket.sla_due_at).isnot(None)
                    if has_due
                    else col(Ticket.sla_due_at).is_(None),
                    keyset,
                    *conds,
                )
                .limit(limit - len(result))
            )
            if has_due:
                stmt = stmt.order_by(col(Ticket.sla_due_at), col(Ticket.id))
            else:
                stmt = stmt.order_by(col(Ticket.id))
            segments.append([QueueRow(*row) for row in session.execute(stmt)])
        merged = heapq.merge(*segments, key=lambda row: sortable_key(row.key))
        result.extend(row for _, row in zip(range(limit - len(result)), merged, strict=False))
        if len(result) >= limit:
            break
    return result


def change_marker(session: Session) -> tuple[Any, ...]:
    """A cheap value that changes when any ticket changes (or one is added)."""
    latest = session.execute(select(func.max(col(Ticket.updated_at)))).scalar()
    count, last_id = session.execute(select(func.count(), func.max(col(Ticket.id)))).one()
    return (latest, count, last_id)


def breaching_count(session: Session) -> int:
    """How many open tickets have breached an SLA target."""
    total = 0
    for status in _OPEN:
        total += session.execute(
            select(func.count()).where(
                col(Ticket.status) == status, col(Ticket.sla_breached).is_(True)
            )
        ).scalar_one()
    return total


_WORD_RE = re.compile(r"\w+", re.UNICODE)


def search_query_terms(query: str) -> list[str]:
    """The words of a search, without any operator syntax (searched as prefixes, all required)."""
    return _WORD_RE.findall(query.lower())[:10]


def _fts5_query(terms: Sequence[str]) -> str:
    return " AND ".join(f'"{t}"*' for t in terms)


def _pg_query(terms: Sequence[str]) -> str:
    return " & ".join(f"{t}:*" for t in terms)


def search_ticket_ids(session: Session, query: str, *, limit: int = 500) -> list[int]:
    """The most recent tickets (at most ``limit``) whose subject or a message matches.

    Every word of ``query`` must match, as a word prefix. Matches are read newest
    first and reading stops at ``limit`` distinct tickets, so a common word costs
    no more than a rare one; the queue then orders these tickets by urgency.
    """
    terms = search_query_terms(query)
    if not terms or limit <= 0:
        return []
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        q = _fts5_query(terms)
        subjects = text(
            "SELECT rowid FROM ticket_fts WHERE ticket_fts MATCH :q ORDER BY rowid DESC LIMIT :n"
        )
        messages = text(
            "SELECT m.ticket_id FROM message_fts JOIN message AS m ON m.id = message_fts.rowid "
            "WHERE message_fts MATCH :q ORDER BY message_fts.rowid DESC"
        )
    else:
        q = _pg_query(terms)
        subjects = text(
            "SELECT id FROM ticket WHERE to_tsvector('simple', subject) "
            "@@ to_tsquery('simple', :q) ORDER BY id DESC LIMIT :n"
        )
        messages = text(
            "SELECT ticket_id FROM message WHERE to_tsvector('simple', body_text) "
            "@@ to_tsquery('simple', :q) ORDER BY id DESC"
        )
    found: dict[int, None] = dict.fromkeys(
        session.execute(subjects, {"q": q, "n": limit}).scalars()
    )
    result = session.execute(messages.execution_options(yield_per=1000), {"q": q})
    try:
        for ticket_id in result.scalars():
            if len(found) >= limit:
                break
            found.setdefault(ticket_id, None)
    finally:
        result.close()
    return list(found)[:limit]


def rows_by_id(rows: Iterable[QueueRow]) -> dict[int, QueueRow]:
    return {row.id: row for row in rows}


@dataclass(frozen=True, slots=True)
class AccountSync:
    """How an account's last sync went (from its folders' sync positions)."""

    account: str
    last_success_at: datetime | None
    last_error: str | None
    failures: int


@dataclass(frozen=True, slots=True)
class DeskStatus:
    """What the status bar shows: breaching tickets, the outbox, sync per account."""

    breaching: int
    outbox_queued: int
    outbox_failed: int
    accounts: tuple[AccountSync, ...]


def desk_status(session: Session, *, accounts: Sequence[str] = ()) -> DeskStatus:
    """Counts for the status bar; cheap (indexed counts and one row per folder)."""
    outbox = dict(
        session.execute(
            select(col(OutboxItem.status), func.count())
            .where(
                col(OutboxItem.status).in_(
                    [
                        OutboxStatus.QUEUED.value,
                        OutboxStatus.SENDING.value,
                        OutboxStatus.FAILED.value,
                    ]
                )
            )
            .group_by(col(OutboxItem.status))
        ).all()
    )
    by_account: dict[str, list[FolderState]] = {name: [] for name in accounts}
    for state in session.scalars(select(FolderState)).all():
        by_account.setdefault(state.account, []).append(state)
    syncs = []
    for name, states in by_account.items():
        successes = [s.last_success_at for s in states if s.last_success_at]
        errors = [s.last_error for s in states if s.last_error and s.consecutive_failures]
        syncs.append(
            AccountSync(
                account=name,
                last_success_at=min(successes) if successes else None,
                last_error=errors[0] if errors else None,
                failures=max((s.consecutive_failures for s in states), default=0),
            )
        )
    return DeskStatus(
        breaching=breaching_count(session),
        outbox_queued=outbox.get(OutboxStatus.QUEUED.value, 0)
        + outbox.get(OutboxStatus.SENDING.value, 0),
        outbox_failed=outbox.get(OutboxStatus.FAILED.value, 0),
        accounts=tuple(syncs),
    )
