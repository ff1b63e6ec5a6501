"""How the shop is doing: volumes, speed, SLA compliance, reopens and satisfaction.

One implementation serves ``cs-console report``, the ``metrics`` export and
the console's dashboard. The query layer (:mod:`cs_console.desk.metric_rows`)
reads what a period needs into plain rows; everything here is pure functions of
those rows, the period and ``now``, plus :func:`build_report` that joins both.

Definitions (a period is ``[start, end)``; "at the end" means ``min(end, now)``):

- **received**: tickets created in the period.
- **solved**: tickets that became solved or closed (from an open status) in the period.
- **backlog**: tickets created before the end and open (new, open, pending, on hold) at the end.
- **first-reply time**: for tickets whose first agent reply is in the period,
  from creation to that reply (outreach tickets, which the shop starts, are left out).
- **resolution time**: for tickets solved in the period, from creation to their
  last solution in the period.
- Both durations in wall time and in the shop's business time (the SLA
  calendar: opening hours, holidays), as median and 90th percentile
  (linear interpolation between the closest ranks).
- **SLA compliance**: per target, the cycles of tickets received in the period,
  evaluated at the end (see :func:`cs_console.desk.sla.compliance`).
- **reopen rate**: of the tickets solved in the period, the share reopened
  (solved or closed, then open again) after that solution, up to ``now``.
- **CSAT**: of CSAT surveys answered in the period, the share scoring 4 or 5 (x 100).
- **NPS**: of NPS surveys answered in the period, (promoters (9-10) minus
  detractors (0-6)) / respondents x 100.
- **trends**: categories and tags of tickets received in the period against the
  period of the same length just before.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any, Literal

from sqlmodel import Session

from cs_console.desk.metric_rows import (
    OPEN,
    UNASSIGNED,
    MetricRows,
    Period,
    SurveyRow,
    TicketRow,
    last_days,
    load_rows,
)
from cs_console.desk.sla import BusinessCalendar, TargetCompliance, TicketSla, compliance

if TYPE_CHECKING:
    from cs_console.config import Settings
    from cs_console.desk.ticket_sla import TicketClock

__all__ = [
    "GROUPINGS",
    "UNASSIGNED",
    "CsatScore",
    "DurationStats",
    "GroupMetrics",
    "MetricRows",
    "MetricsReport",
    "NpsScore",
    "Period",
    "SurveyRow",
    "TicketRow",
    "Trend",
    "build_report",
    "compute_metrics",
    "csat_score",
    "daily_counts",
    "dashboard_report",
    "duration_stats",
    "last_days",
    "load_rows",
    "nps_score",
    "percentile",
    "report_rows",
]

Grouping = Literal["agent", "category", "channel", "priority"]
GROUPINGS: tuple[str, ...] = ("agent", "category", "channel", "priority")


# --------------------------------------------------------------------------- figures


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values`` by linear interpolation between closest ranks.

    ``percentile([1, 2, 3, 4], 0.5) == 2.5``; ``percentile(x, 0.9)`` sits at rank
    ``0.9 * (n - 1)`` of the sorted values.

    Raises:
        ValueError: no values, or ``q`` outside 0..1.
    """
    if not values:
        raise ValueError("no values")
    if not 0 <= q <= 1:
        raise ValueError("q must be between 0 and 1")
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    fraction = position - low
    return ordered[low] + (ordered[high] - ordered[low]) * fraction


@dataclass(frozen=True, slots=True)
class DurationStats:
    """Median and 90th percentile of some durations."""

    count: int = 0
    median: timedelta | None = None
    p90: timedelta | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "median_seconds": _seconds(self.median),
            "p90_seconds": _seconds(self.p90),
        }


def duration_stats(values: Iterable[timedelta]) -> DurationStats:
    """Count, median and 90th percentile (rounded to the second)."""
    seconds = [v.total_seconds() for v in values]
    if not seconds:
        return DurationStats()
    return DurationStats(
        count=len(seconds),
        median=timedelta(seconds=round(percentile(seconds, 0.5))),
        p90=timedelta(seconds=round(percentile(seconds, 0.9))),
    )


@dataclass(frozen=True, slots=True)
class CsatScore:
    """CSAT: share of answers scoring 4 or 5, x 100 (None without answers)."""

    responses: int = 0
    satisfied: int = 0

    @property
    def score(self) -> float | None:
        return 100.0 * self.satisfied / self.responses if self.responses else None

    def to_dict(self) -> dict[str, Any]:
        return {"responses": self.responses, "satisfied": self.satisfied, "score": self.score}


@dataclass(frozen=True, slots=True)
class NpsScore:
    """NPS: (promoters - detractors) / respondents x 100 (None without answers)."""

    promoters: int = 0
    passives: int = 0
    detractors: int = 0

    @property
    def responses(self) -> int:
        return self.promoters + self.passives + self.detractors

    @property
    def score(self) -> float | None:
        n = self.responses
        return 100.0 * (self.promoters - self.detractors) / n if n else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "responses": self.responses,
            "promoters": self.promoters,
            "passives": self.passives,
            "detractors": self.detractors,
            "score": self.score,
        }


def csat_score(scores: Iterable[int]) -> CsatScore:
    """CSAT of 1-5 scores."""
    values = list(scores)
    return CsatScore(len(values), sum(1 for s in values if s >= 4))


def nps_score(scores: Iterable[int]) -> NpsScore:
    """NPS of 0-10 scores: promoters 9-10, passives 7-8, detractors 0-6."""
    values = list(scores)
    return NpsScore(
        promoters=sum(1 for s in values if s >= 9),
        passives=sum(1 for s in values if 7 <= s <= 8),
        detractors=sum(1 for s in values if s <= 6),
    )


@dataclass(frozen=True)
class GroupMetrics:
    """The figures of one group (or of everything, key ``all``)."""

    key: str
    received: int = 0
    solved: int = 0
    backlog: int = 0
    first_reply: DurationStats = DurationStats()
    first_reply_business: DurationStats = DurationStats()
    resolution: DurationStats = DurationStats()
    resolution_business: DurationStats = DurationStats()
    sla: dict[str, TargetCompliance] = field(default_factory=dict)
    reopened: int = 0
    surveys_sent: int = 0
    csat: CsatScore = CsatScore()
    nps: NpsScore = NpsScore()

    @property
    def reopen_rate(self) -> float | None:
        return self.reopened / self.solved if self.solved else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "received": self.received,
            "solved": self.solved,
            "backlog": self.backlog,
            "first_reply": self.first_reply.to_dict(),
            "first_reply_business": self.first_reply_business.to_dict(),
            "resolution": self.resolution.to_dict(),
            "resolution_business": self.resolution_business.to_dict(),
            "sla": {
                name: {
                    "met": c.met,
                    "missed": c.missed,
                    "breached": c.breached,
                    "running": c.running,
                    "rate": c.rate,
                }
                for name, c in self.sla.items()
            },
            "reopened": self.reopened,
            "reopen_rate": self.reopen_rate,
            "surveys_sent": self.surveys_sent,
            "csat": self.csat.to_dict(),
            "nps": self.nps.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class Trend:
    """A category's or tag's count now and in the previous period."""

    name: str
    count: int
    previous: int

    @property
    def change(self) -> int:
        return self.count - self.previous

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "count": self.count,
            "previous": self.previous,
            "change": self.change,
        }


@dataclass(frozen=True)
class MetricsReport:
    """Everything a report shows."""

    period: Period
    now: datetime
    by: str | None
    total: GroupMetrics
    groups: list[GroupMetrics]
    categories: list[Trend]
    tags: list[Trend]
    daily: list[tuple[date, int, int]]  # day, received, solved

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary (durations in seconds, times in ISO 8601)."""
        return {
            "period": {"start": self.period.start.isoformat(), "end": self.period.end.isoformat()},
            "now": self.now.isoformat(),
            "by": self.by,
            "total": self.total.to_dict(),
            "groups": [g.to_dict() for g in self.groups],
            "categories": [t.to_dict() for t in self.categories],
            "tags": [t.to_dict() for t in self.tags],
            "daily": [{"day": d.isoformat(), "received": r, "solved": s} for d, r, s in self.daily],
        }


def _seconds(value: timedelta | None) -> float | None:
    return None if value is None else value.total_seconds()


def _group_metrics(
    key: str,
    tickets: Sequence[TicketRow],
    surveys: Sequence[SurveyRow],
    *,
    period: Period,
    now: datetime,
    calendar: BusinessCalendar,
    slas: dict[int, TicketSla],
) -> GroupMetrics:
    at_end = min(period.end, now)

    def inside(at: datetime | None) -> bool:
        # Only what happened in the period and by ``now`` counts.
        return at is not None and period.start <= at < at_end

    received = [t for t in tickets if inside(t.created_at)]
    backlog = sum(1 for t in tickets if t.created_at < at_end and t.status_at(at_end) in OPEN)
    first_wall: list[timedelta] = []
    first_business: list[timedelta] = []
    for t in tickets:
        if t.first_reply_at is not None and inside(t.first_reply_at) and t.channel != "outreach":
            first_wall.append(t.first_reply_at - t.created_at)
            first_business.append(calendar.business_time_between(t.created_at, t.first_reply_at))
    solved = 0
    reopened = 0
    res_wall: list[timedelta] = []
    res_business: list[timedelta] = []
    for t in tickets:
        solves = [s for s in t.solves() if inside(s)]
        if not solves:
            continue
        solved += 1
        last = solves[-1]
        res_wall.append(last - t.created_at)
        res_business.append(calendar.business_time_between(t.created_at, last))
        if any(solves[0] < r <= now for r in t.reopens()):
            reopened += 1
    report = compliance(slas[t.id] for t in received if t.id in slas)
    answered = [s for s in surveys if inside(s.answered_at) and s.score is not None]
    return GroupMetrics(
        key=key,
        received=len(received),
        solved=solved,
        backlog=backlog,
        first_reply=duration_stats(first_wall),
        first_reply_business=duration_stats(first_business),
        resolution=duration_stats(res_wall),
        resolution_business=duration_stats(res_business),
        sla=dict(report.targets),
        reopened=reopened,
        surveys_sent=sum(1 for s in surveys if inside(s.sent_at)),
        csat=csat_score(s.score for s in answered if s.kind == "csat" and s.score is not None),
        nps=nps_score(s.score for s in answered if s.kind == "nps" and s.score is not None),
    )


def _trends(now_counts: Counter[str], before_counts: Counter[str], *, top: int) -> list[Trend]:
    names = sorted(now_counts, key=lambda n: (-now_counts[n], n))[:top]
    return [Trend(n, now_counts[n], before_counts.get(n, 0)) for n in names]


def compute_metrics(
    rows: MetricRows,
    *,
    period: Period,
    now: datetime,
    calendar: BusinessCalendar,
    by: str | None = None,
    zone: tzinfo | None = None,
    top: int = 10,
) -> MetricsReport:
    """All the figures of ``period`` from ``rows`` (pure).

    Args:
        rows: Tickets (including those of the previous period, for trends), surveys
            and the SLA of the tickets received in the period.
        calendar: Business time is measured on it (the shop's SLA calendar).
        by: ``agent``, ``category``, ``channel`` or ``priority`` for per-group figures.
        zone: Days of the daily series are counted in this zone (default: the calendar's).
        top: How many categories and tags to list.
    """
    if by is not None and by not in GROUPINGS:
        raise ValueError(f"cannot group by {by!r}; use one of {', '.join(GROUPINGS)}")

    def measure(
        key: str, tickets: Sequence[TicketRow], surveys: Sequence[SurveyRow]
    ) -> GroupMetrics:
        return _group_metrics(
            key, tickets, surveys, period=period, now=now, calendar=calendar, slas=rows.slas
        )

    total = measure("all", rows.tickets, rows.surveys)
    groups: list[GroupMetrics] = []
    if by is not None:
        tickets_by: dict[str, list[TicketRow]] = defaultdict(list)
        surveys_by: dict[str, list[SurveyRow]] = defaultdict(list)
        for t in rows.tickets:
            tickets_by[t.group(by)].append(t)
        for s in rows.surveys:
            surveys_by[s.group(by)].append(s)
        for key in sorted(set(tickets_by) | set(surveys_by)):
            metrics = measure(key, tickets_by[key], surveys_by[key])
            groups.append(metrics)
    previous = period.previous()
    cats_now: Counter[str] = Counter()
    cats_before: Counter[str] = Counter()
    tags_now: Counter[str] = Counter()
    tags_before: Counter[str] = Counter()
    for t in rows.tickets:
        if t.created_at in period:
            cats_now[t.category] += 1
            tags_now.update(set(t.tags))
        elif t.created_at in previous:
            cats_before[t.category] += 1
            tags_before.update(set(t.tags))
    return MetricsReport(
        period=period,
        now=now,
        by=by,
        total=total,
        groups=groups,
        categories=_trends(cats_now, cats_before, top=top),
        tags=_trends(tags_now, tags_before, top=top),
        daily=daily_counts(rows.tickets, period=period, zone=zone or calendar.zone),
    )


def daily_counts(
    tickets: Iterable[TicketRow], *, period: Period, zone: tzinfo
) -> list[tuple[date, int, int]]:
    """Received and solved per local day of the period (for sparklines), oldest first."""
    first = period.start.astimezone(zone).date()
    last = (period.end - timedelta(microseconds=1)).astimezone(zone).date()
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    received: Counter[date] = Counter()
    solved: Counter[date] = Counter()
    for t in tickets:
        if t.created_at in period:
            received[t.created_at.astimezone(zone).date()] += 1
        for s in t.solves():
            if s in period:
                solved[s.astimezone(zone).date()] += 1
    return [(d, received[d], solved[d]) for d in days]


def report_rows(report: MetricsReport) -> Iterator[dict[str, Any]]:
    """Flat rows (one per group, the total first) for the ``metrics`` export."""
    for group in [report.total, *report.groups]:
        row: dict[str, Any] = {
            "period_start": report.period.start.isoformat(),
            "period_end": report.period.end.isoformat(),
            "by": report.by or "",
            "group": group.key,
            "received": group.received,
            "solved": group.solved,
            "backlog": group.backlog,
        }
        for name, stats in (
            ("first_reply", group.first_reply),
            ("first_reply_business", group.first_reply_business),
            ("resolution", group.resolution),
            ("resolution_business", group.resolution_business),
        ):
            row[f"{name}_median_s"] = _seconds(stats.median)
            row[f"{name}_p90_s"] = _seconds(stats.p90)
        for name, c in group.sla.items():
            row[f"sla_{name}_met"] = c.met
            row[f"sla_{name}_failed"] = c.failed
            row[f"sla_{name}_rate"] = c.rate
        row["reopened"] = group.reopened
        row["reopen_rate"] = group.reopen_rate
        row["surveys_sent"] = group.surveys_sent
        row["csat_responses"] = group.csat.responses
        row["csat"] = group.csat.score
        row["nps_responses"] = group.nps.responses
        row["nps"] = group.nps.score
        yield row


def build_report(
    session: Session,
    settings: Settings,
    *,
    period: Period,
    now: datetime,
    by: str | None = None,
    top: int = 10,
    clock: TicketClock | None = None,
) -> MetricsReport:
    """Load and compute a report for a workspace (what the CLI and the dashboard call)."""
    from cs_console.desk.ticket_sla import TicketClock

    clock = clock or TicketClock(settings)
    rows = load_rows(session, period, now=now, clock=clock)
    return compute_metrics(
        rows, period=period, now=now, calendar=clock.calendars.business, by=by, top=top
    )


def dashboard_report(
    session: Session, settings: Settings, *, now: datetime, days: int = 7
) -> MetricsReport:
    """The last ``days`` days by agent: what the console's dashboard shows."""
    from zoneinfo import ZoneInfo

    period = last_days(days, now=now, zone=ZoneInfo(settings.shop.timezone))
    return build_report(session, settings, period=period, now=now, by="agent")
