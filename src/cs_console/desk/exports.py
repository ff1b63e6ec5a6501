"""Exports of tickets, messages, surveys and metrics, for people and for cron.

An export reads in batches (keyset pages by id) and writes each row as it
comes (:mod:`cs_console.desk.export_formats`), so its memory does not grow
with the database. Which rows:

- ``tickets``: changed (``updated_at``) in the window;
- ``messages``: stored (``created_at``) in the window;
- ``surveys``: sent or answered in the window;
- ``metrics``: the figures of the window as a period (one row per group).

The window is ``[since, until)``. An incremental export takes ``since`` from
the output's :class:`~cs_console.store.models.ExportCursor` (everything on the
first run) and ``until`` from ``now``; the cursor moves to ``until`` only
after the file is complete and in place, so a failed run is simply repeated
by the next one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, or_, select

from cs_console.desk.export_formats import ExportFileError, open_writer
from cs_console.i18n import _
from cs_console.store.engine import session_scope
from cs_console.store.models import (
    Agent,
    Customer,
    ExportCursor,
    Message,
    Survey,
    Ticket,
    TicketTag,
)

if TYPE_CHECKING:
    from cs_console.config import Settings

__all__ = [
    "DATASETS",
    "ExportResult",
    "cursor_key",
    "export_dataset",
    "iter_rows",
    "parse_when",
    "read_cursor",
]

DATASETS: tuple[str, ...] = ("tickets", "messages", "metrics", "surveys")
BATCH = 1000
Progress = Callable[[int], None]

TICKET_COLUMNS = (
    "id", "subject", "status", "priority", "category", "channel", "language", "account",
    "customer_email", "customer_name", "assignee", "tags", "created_at", "updated_at",
    "first_reply_at", "solved_at", "closed_at", "sla_breached", "merged_into_id",
    "follow_up_of_id",
)  # fmt: skip
MESSAGE_COLUMNS = (
    "id", "ticket_id", "direction", "created_at", "sent_at", "from_name", "from_address",
    "to_addresses", "cc_addresses", "subject", "text", "agent", "automated",
)  # fmt: skip
SURVEY_COLUMNS = (
    "ticket_id", "kind", "score", "comment", "sent_at", "answered_at", "category",
    "priority", "channel", "assignee", "customer_email",
)  # fmt: skip


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote."""

    dataset: str
    rows: int
    since: datetime | None
    until: datetime
    path: Path | None


def parse_when(text: str, *, zone: tzinfo) -> datetime:
    """A date (``2026-11-01``: midnight in ``zone``) or an ISO 8601 date-time.

    A date-time without an offset is read in ``zone``.

    Raises:
        ExportFileError: the text is neither.
    """
    value = text.strip()
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time(), zone)
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ExportFileError(
            _("{text} is not a date ({date}) or a date and time ({datetime})").format(
                text=repr(text), date="2026-11-01", datetime="2026-11-01T09:30"
            )
        ) from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=zone)


def cursor_key(dataset: str, fmt: str, out: Path) -> str:
    """The cursor's name for an output: the dataset, format and absolute path."""
    return f"{dataset}:{fmt}:{out.expanduser().resolve()}"[:1000]


def read_cursor(session: Session, key: str) -> datetime | None:
    """Where the last successful incremental export to ``key`` stopped."""
    row = session.get(ExportCursor, key)
    return row.exported_until if row else None


def _window(column: Any, since: datetime | None, until: datetime) -> list[Any]:
    conditions = [column < until]
    if since is not None:
        conditions.append(column >= since)
    return conditions


def _names(session: Session) -> dict[int | None, str]:
    return {a.id: a.name for a in session.exec(select(Agent)).all()}


def _ticket_rows(
    session: Session, since: datetime | None, until: datetime
) -> Iterator[Sequence[Any]]:
    agents = _names(session)
    last = 0
    while True:
        batch = session.exec(
            select(Ticket, Customer)
            .join(Customer, col(Customer.id) == col(Ticket.customer_id))
            .where(col(Ticket.id) > last, *_window(col(Ticket.updated_at), since, until))
            .order_by(col(Ticket.id))
            .limit(BATCH)
        ).all()
        if not batch:
            return
        ids = [t.id for t, _c in batch]
        tags: dict[int, list[str]] = {}
        for ticket_id, tag in session.exec(
            select(TicketTag.ticket_id, TicketTag.tag)
            .where(col(TicketTag.ticket_id).in_(ids))
            .order_by(col(TicketTag.tag))
        ):
            tags.setdefault(ticket_id, []).append(tag)
        for t, c in batch:
            yield (
                t.id, t.subject, t.status, t.priority, t.category, t.channel, t.language,
                t.account, c.email, c.name, agents.get(t.assignee_id) if t.assignee_id else None,
                " ".join(tags.get(t.id or 0, [])), t.created_at, t.updated_at, t.first_reply_at,
                t.solved_at, t.closed_at, t.sla_breached, t.merged_into_id, t.follow_up_of_id,
            )  # fmt: skip
        last = batch[-1][0].id or last
        session.expunge_all()


def _message_rows(
    session: Session, since: datetime | None, until: datetime
) -> Iterator[Sequence[Any]]:
    agents = _names(session)
    last = 0
    while True:
        batch = session.exec(
            select(Message)
            .where(col(Message.id) > last, *_window(col(Message.created_at), since, until))
            .order_by(col(Message.id))
            .limit(BATCH)
        ).all()
        if not batch:
            return
        for m in batch:
            yield (
                m.id, m.ticket_id, m.direction, m.created_at, m.sent_at, m.from_name,
                m.from_address, m.to_addresses, m.cc_addresses, m.subject,
                m.new_text or m.body_text, agents.get(m.agent_id) if m.agent_id else None,
                m.automated,
            )  # fmt: skip
        last = batch[-1].id or last
        session.expunge_all()


def _survey_rows(
    session: Session, since: datetime | None, until: datetime
) -> Iterator[Sequence[Any]]:
    agents = _names(session)
    sent = _window(col(Survey.sent_at), since, until)
    answered = _window(col(Survey.answered_at), since, until)
    last = 0
    while True:
        batch = session.exec(
            select(Survey, Ticket, Customer)
            .join(Ticket, col(Ticket.id) == col(Survey.ticket_id))
            .join(Customer, col(Customer.id) == col(Ticket.customer_id))
            .where(col(Survey.id) > last)
            .where(or_(_all(sent), _all(answered)))
            .order_by(col(Survey.id))
            .limit(BATCH)
        ).all()
        if not batch:
            return
        for s, t, c in batch:
            yield (
                s.ticket_id, s.kind, s.score, s.comment, s.sent_at, s.answered_at, t.category,
                t.priority, t.channel, agents.get(t.assignee_id) if t.assignee_id else None,
                c.email,
            )  # fmt: skip
        last = batch[-1][0].id or last
        session.expunge_all()


def _all(conditions: list[Any]) -> Any:
    from sqlalchemy import and_

    return and_(*conditions)


def iter_rows(
    session: Session,
    dataset: str,
    *,
    since: datetime | None,
    until: datetime,
    settings: Settings | None = None,
    now: datetime | None = None,
    by: str | None = None,
) -> tuple[Sequence[str], Iterator[Sequence[Any]]]:
    """The columns and the rows of ``dataset`` in ``[since, until)``.

    Raises:
        ExportFileError: an unknown dataset, or metrics without settings or ``since``.
    """
    if dataset == "tickets":
        return TICKET_COLUMNS, _ticket_rows(session, since, until)
    if dataset == "messages":
        return MESSAGE_COLUMNS, _message_rows(session, since, until)
    if dataset == "surveys":
        return SURVEY_COLUMNS, _survey_rows(session, since, until)
    if dataset == "metrics":
        from cs_console.desk.metrics import Period, build_report, report_rows

        if settings is None:
            raise ExportFileError(_("the metrics export needs the workspace settings"))
        start = since if since is not None else until - timedelta(days=30)
        report = build_report(
            session, settings, period=Period(start, until), now=now or until, by=by
        )
        rows = list(report_rows(report))
        columns = list(rows[0]) if rows else []
        return columns, iter([[row[c] for c in columns] for row in rows])
    raise ExportFileError(
        _("unknown export {dataset}; use one of {choices}").format(
            dataset=repr(dataset), choices=", ".join(DATASETS)
        )
    )


def export_dataset(
    engine: Engine,
    dataset: str,
    *,
    fmt: str,
    now: datetime,
    out: Path | None,
    stdout: IO[str],
    since: datetime | None = None,
    until: datetime | None = None,
    incremental: bool = False,
    settings: Settings | None = None,
    by: str | None = None,
    progress: Progress | None = None,
) -> ExportResult:
    """Write one export; move the output's cursor when ``incremental``.

    Args:
        now: The run's time; the end of the window unless ``until`` is given.
        out: The file (written atomically); None writes CSV or JSON Lines to ``stdout``.
        since: Start of the window (ignored when ``incremental``).
        incremental: Start where the last successful export to ``out`` stopped.
        progress: Called with the running row count after each batch.

    Raises:
        ExportFileError: bad options, or the file cannot be written.
    """
    if incremental and out is None:
        raise ExportFileError(
            _("an incremental export needs {option} (the cursor is per file)").format(
                option="--out FILE"
            )
        )
    if incremental and since is not None:
        raise ExportFileError(
            _("give either {first} or {second}, not both").format(
                first="--since", second="--incremental"
            )
        )
    end = until or now
    key = cursor_key(dataset, fmt, out) if incremental and out is not None else None
    with Session(engine, expire_on_commit=False) as session:
        if key is not None:
            since = read_cursor(session, key)
        if key is None and since is not None and since >= end:
            raise ExportFileError(_("the window is empty: the start is not before the end"))
        # An incremental run at (or, after a clock change, before) the cursor exports nothing.
        columns, rows = iter_rows(
            session, dataset, since=since, until=end, settings=settings, now=now, by=by
        )
        count = 0
        with open_writer(fmt, path=out, stdout=stdout, sheet=dataset) as writer:
            writer.header(columns)
            for values in rows:
                writer.row(values)
                count += 1
                if progress is not None and count % BATCH == 0:
                    progress(count)
            if progress is not None and count % BATCH:
                progress(count)
    if key is not None:
        with session_scope(engine) as session:
            cursor = session.get(ExportCursor, key)
            if cursor is None:
                session.add(ExportCursor(output=key, exported_until=end))
            elif end > cursor.exported_until:  # never backwards
                cursor.exported_until = end
                session.add(cursor)
    return ExportResult(dataset=dataset, rows=count, since=since, until=end, path=out)
