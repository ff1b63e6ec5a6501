"""``cs-console report``: how the shop is doing, as tables and small charts, or JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import typer
from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text

from cs_console.cli.app import app, console, state
from cs_console.clock import utcnow as _utcnow
from cs_console.desk.exports import parse_when
from cs_console.desk.metrics import (
    GROUPINGS,
    DurationStats,
    GroupMetrics,
    MetricsReport,
    Period,
    Trend,
    build_report,
    last_days,
)
from cs_console.errors import DeskError
from cs_console.i18n import N_, NP_, _, format_when, pgettext, term
from cs_console.store.engine import session_scope
from cs_console.textsafe import one_line

PANEL = "Reports"
_SPARKS = "▁▂▃▄▅▆▇█"
_BAR = 20
#: The groupings' names as the per-group table shows them.
_GROUP_NAMES = {
    "agent": N_("agent"),
    "category": N_("category"),
    "channel": N_("channel"),
    "priority": N_("priority"),
}
#: The columns of the per-group table (short: a table may be wide).
_GROUP_COLUMNS = (
    NP_("report column", "in"),
    NP_("report column", "solved"),
    NP_("report column", "open"),
    NP_("report column", "reply"),
    NP_("report column", "resolve"),
    NP_("report column", "SLA"),
    NP_("report column", "reopen"),
    NP_("report column", "CSAT"),
    NP_("report column", "NPS"),
)


def _period(since: str | None, until: str | None, *, now: datetime, zone: ZoneInfo) -> Period:
    if since is None and until is None:
        return last_days(7, now=now, zone=zone)
    end = now
    if until is not None:
        end = parse_when(until, zone=zone)
        if len(until.strip()) == 10:  # a date: up to the end of that day
            end = datetime.combine(end.date() + timedelta(days=1), end.timetz())
    start = parse_when(since, zone=zone) if since is not None else end - timedelta(days=7)
    if end <= start:
        raise DeskError(_("the report's start must be before its end"))
    return Period(start.astimezone(UTC), end.astimezone(UTC))


def duration(value: timedelta | None) -> str:
    """``3h 05m``, ``2d 4h``, ``45m``; ``-`` when unknown."""
    if value is None:
        return "-"
    minutes = round(value.total_seconds() / 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {mins:02d}m"
    return f"{mins}m"


def _stats(business: DurationStats, wall: DurationStats) -> str:
    if not business.count:
        return "-"
    return _("{median} / {p90}  (wall {wall_median} / {wall_p90})").format(
        median=duration(business.median),
        p90=duration(business.p90),
        wall_median=duration(wall.median),
        wall_p90=duration(wall.p90),
    )


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def _score(value: float | None, responses: int) -> str:
    return "-" if value is None else f"{value:.0f} ({responses})"


def sparkline(values: list[int]) -> str:
    """One block character per value, scaled to the largest."""
    top = max(values, default=0)
    if top == 0:
        return _SPARKS[0] * len(values)
    return "".join(
        _SPARKS[min(len(_SPARKS) - 1, round(v / top * (len(_SPARKS) - 1)))] for v in values
    )


def _bar(value: float, top: float, style: str) -> Text:
    width = 0 if top <= 0 else round(value / top * _BAR)
    return Text("█" * width, style=style)


def _summary(report: MetricsReport, zone: ZoneInfo) -> Table:
    total = report.total
    start = format_when(report.period.start, zone)
    end = format_when(report.period.end, zone)
    table = Table(title=f"{start} → {end} ({zone.key})", show_header=False, title_justify="left")
    table.add_column("figure", style="bold")
    table.add_column("value")
    received = [r for _d, r, _s in report.daily]
    solved = [s for _d, _r, s in report.daily]
    table.add_row(_("Received"), Text(f"{total.received:>5}  ").append(sparkline(received), "cyan"))
    table.add_row(_("Solved"), Text(f"{total.solved:>5}  ").append(sparkline(solved), "green"))
    table.add_row(_("Backlog"), f"{total.backlog:>5}")
    table.add_row(
        _("First reply (median / p90)"), _stats(total.first_reply_business, total.first_reply)
    )
    table.add_row(
        _("Resolution (median / p90)"), _stats(total.resolution_business, total.resolution)
    )
    table.add_row(_("Reopened"), f"{total.reopened:>5}  {_pct(total.reopen_rate)}")
    table.add_row(_("CSAT (answers)"), _score(total.csat.score, total.csat.responses))
    table.add_row(_("NPS (answers)"), _score(total.nps.score, total.nps.responses))
    table.add_row(_("Surveys sent"), f"{total.surveys_sent:>5}")
    return table


def _sla(total: GroupMetrics) -> Table:
    table = Table(title=_("SLA compliance"), title_justify="left")
    for name in (N_("target"), N_("met"), N_("missed"), N_("breached"), N_("running"), N_("rate")):
        table.add_column(_(name), justify="left" if name == "target" else "right")
    table.add_column("", justify="left")
    for name, c in total.sla.items():
        rate = c.rate
        table.add_row(
            term(name),
            str(c.met),
            str(c.missed),
            str(c.breached),
            str(c.running),
            _pct(rate),
            _bar(rate or 0, 1, "green" if (rate or 0) >= 0.9 else "yellow"),
        )
    return table


def _groups(report: MetricsReport) -> Table:
    by = report.by or ""
    grouping = _(_GROUP_NAMES[by]) if by in _GROUP_NAMES else by
    table = Table(
        title=_("By {grouping}").format(grouping=grouping),
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
        caption=_("times: business-time medians; SLA: first-reply compliance"),
        caption_justify="left",
    )
    table.add_column(grouping, no_wrap=True, min_width=8, max_width=13, overflow="ellipsis")
    for context, english in _GROUP_COLUMNS:
        name = pgettext(context, english)
        table.add_column(
            name,
            justify="right",
            no_wrap=True,
            min_width=max(len(name), 4, 6 * (english == "reply")),
        )
    for g in report.groups:
        first = g.sla.get("first_reply")
        table.add_row(
            Text(one_line(g.key, limit=40)),
            str(g.received),
            str(g.solved),
            str(g.backlog),
            duration(g.first_reply_business.median),
            duration(g.resolution_business.median),
            _pct(first.rate if first else None),
            _pct(g.reopen_rate),
            _score(g.csat.score, g.csat.responses),
            _score(g.nps.score, g.nps.responses),
        )
    return table


def _trends(title: str, trends: list[Trend]) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column(_("name"), no_wrap=True, max_width=32, overflow="ellipsis")
    table.add_column(_("count"), justify="right")
    table.add_column("")
    table.add_column(_("vs before"), justify="right")
    top = max((t.count for t in trends), default=0)
    for t in trends:
        if t.change > 0:
            change = Text(f"▲ +{t.change}", style="red")
        elif t.change < 0:
            change = Text(f"▼ {t.change}", style="green")
        else:
            change = Text("=")
        table.add_row(
            Text(one_line(t.name, limit=40)), str(t.count), _bar(t.count, top, "cyan"), change
        )
    return table


@app.command(rich_help_panel=PANEL)
def report(
    ctx: typer.Context,
    since: str | None = typer.Option(
        None,
        "--since",
        help="Start: a date (2026-11-01, midnight in the shop's zone) or date-time.",
    ),
    until: str | None = typer.Option(
        None, "--until", help="End: a date (included whole) or a date-time; default now."
    ),
    by: str | None = typer.Option(None, "--by", help=f"Per group: {', '.join(GROUPINGS)}."),
    output: str = typer.Option("table", "--format", help="table or json."),
    top: int = typer.Option(10, "--top", min=1, max=100, help="How many categories and tags."),
) -> None:
    """Volumes, reply and resolution times, SLA compliance, reopens, CSAT and NPS.

    Without dates: the last 7 days. Durations are medians and 90th percentiles
    in business time (opening hours), with wall time beside them.
    --format json prints the same figures for scripts (durations in seconds).
    """
    if by is not None and by not in GROUPINGS:
        raise typer.BadParameter(
            _("choose one of: {choices}").format(choices=", ".join(GROUPINGS)), param_hint="--by"
        )
    if output not in ("table", "json"):
        raise typer.BadParameter(
            _("choose {first} or {second}").format(first="table", second="json"),
            param_hint="--format",
        )
    cli = state(ctx)
    settings = cli.settings()
    zone = ZoneInfo(settings.shop.timezone)
    now = _utcnow()
    period = _period(since, until, now=now, zone=zone)
    with session_scope(cli.engine()) as session:
        result = build_report(session, settings, period=period, now=now, by=by, top=top)
    if output == "json":
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        return
    parts: list[Table] = [_summary(result, zone), _sla(result.total)]
    if result.by:
        parts.append(_groups(result))
    if result.categories:
        parts.append(_trends(_("Categories"), result.categories))
    if result.tags:
        parts.append(_trends(_("Tags"), result.tags))
    console.print(Group(*parts))
