"""The dashboard: the last seven days in figures, as tables and simple bars."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Footer, Static

from cs_console.i18n import N_, _, format_duration, pgettext, term
from cs_console.tui.format import safe_line
from cs_console.tui.screens._base import ConsoleScreen
from cs_console.tui.widgets import StatusBar

if TYPE_CHECKING:
    from cs_console.desk.metrics import GroupMetrics, MetricsReport, Trend
    from cs_console.tui.app import ConsoleApp

DAYS = 7
BAR_WIDTH = 20


def bar(value: float, most: float, *, width: int = BAR_WIDTH, style: str = "cyan") -> Text:
    """A bar of ``value`` out of ``most`` (eighths of a cell for the last one)."""
    if most <= 0 or value <= 0:
        return Text("")
    eighths = round(width * 8 * min(value, most) / most)
    full, part = divmod(eighths, 8)
    return Text("█" * full + (" ▏▎▍▌▋▊▉"[part] if part else ""), style=style)


def _duration(value: timedelta | None) -> str:
    return format_duration(value) if value is not None else "—"


def _percent(value: float | None) -> str:
    return f"{value:.0f}%" if value is not None else "—"


def _rate(group: GroupMetrics, target: str) -> float | None:
    compliance = group.sla.get(target)
    if compliance is None:
        return None
    rate = compliance.rate
    return None if rate is None else 100.0 * rate


def summary_table(report: MetricsReport) -> Table:
    """The headline figures of the period."""
    total = report.total
    table = Table(title=_("Last {days} days").format(days=DAYS), show_header=False, expand=True)
    table.add_column(style="bold")
    table.add_column(justify="right")
    rows = [
        (_("Received"), str(total.received)),
        (_("Solved"), str(total.solved)),
        (_("Open now"), str(total.backlog)),
        (_("First reply (median)"), _duration(total.first_reply.median)),
        (_("First reply (90%)"), _duration(total.first_reply.p90)),
        (_("Resolution (median)"), _duration(total.resolution.median)),
        (_("Reopened"), str(total.reopened)),
        (_("CSAT"), f"{_percent(total.csat.score)} ({total.csat.responses})"),
        (
            _("NPS"),
            f"{total.nps.score:+.0f} ({total.nps.responses})"
            if total.nps.score is not None
            else "—",
        ),
    ]
    for label, value in rows:
        table.add_row(label, value)
    return table


def sla_table(report: MetricsReport) -> Table:
    """SLA compliance per target, with a bar of the rate met."""
    table = Table(title=_("SLA compliance"), expand=True)
    table.add_column(_("Target"))
    table.add_column(_("Met"), justify="right")
    table.add_column(_("Missed"), justify="right")
    table.add_column(_("Breached"), justify="right")
    table.add_column(_("Rate"), justify="right")
    table.add_column("", width=BAR_WIDTH // 2)
    for name, compliance in report.total.sla.items():
        rate = None if compliance.rate is None else 100.0 * compliance.rate
        style = "green" if rate is not None and rate >= 90 else "yellow"
        table.add_row(
            term(name),
            str(compliance.met),
            str(compliance.missed),
            Text(str(compliance.breached), style="bold red" if compliance.breached else ""),
            _percent(rate),
            bar(rate or 0.0, 100.0, width=BAR_WIDTH // 2, style=style),
        )
    return table


def agents_table(report: MetricsReport) -> Table:
    """The figures of each agent."""
    table = Table(title=_("By agent"), expand=True)
    table.add_column(_("Agent"))
    table.add_column(_("Received"), justify="right")
    table.add_column(_("Solved"), justify="right")
    table.add_column(pgettext("tickets", "Open"), justify="right")
    table.add_column(_("First reply"), justify="right")
    table.add_column(_("SLA 1st"), justify="right")
    table.add_column(_("CSAT"), justify="right")
    table.add_column("", width=BAR_WIDTH // 2)
    most = max((g.solved for g in report.groups), default=0)
    for group in report.groups:
        table.add_row(
            safe_line(group.key, limit=20),
            str(group.received),
            str(group.solved),
            str(group.backlog),
            _duration(group.first_reply.median),
            _percent(_rate(group, "first_reply")),
            _percent(group.csat.score),
            bar(group.solved, most, width=BAR_WIDTH // 2),
        )
    return table


def trends_table(title: str, trends: list[Trend]) -> Table:
    """Top categories or tags, with a bar and the change from the previous period."""
    table = Table(title=title, expand=True)
    table.add_column(_("Name"))
    table.add_column("#", justify="right")
    table.add_column("", width=BAR_WIDTH // 2)
    table.add_column("±", justify="right")
    most = max((t.count for t in trends), default=0)
    for trend in trends[:8]:
        change = trend.change
        table.add_row(
            safe_line(trend.name, limit=20),
            str(trend.count),
            bar(trend.count, most, width=BAR_WIDTH // 2),
            Text(
                f"▲{change}" if change > 0 else f"▼{-change}" if change < 0 else "=",
                style="red" if change > 0 else "green" if change < 0 else "dim",
            ),
        )
    return table


def daily_table(report: MetricsReport) -> Table:
    """Received and solved per day, as bars."""
    table = Table(title=_("Per day"), expand=True)
    table.add_column(_("Day"))
    table.add_column(_("Received"))
    table.add_column(_("Solved"))
    most = max((max(r, s) for _d, r, s in report.daily), default=0)
    for day, received, solved in report.daily:
        table.add_row(
            day.strftime("%a %d"),
            Text.assemble(bar(received, most, width=12), f" {received}"),
            Text.assemble(bar(solved, most, width=12, style="green"), f" {solved}"),
        )
    return table


class DashboardScreen(ConsoleScreen):
    """Totals, SLA compliance, agents, satisfaction and trends of the last days."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("g", "reload", N_("Refresh"), id="dashboard.refresh", tooltip=N_("Compute again")),
        Binding(
            "escape,q", "back", N_("Back"), id="dashboard.back", tooltip=N_("Back to the queue")
        ),
    ]

    app: ConsoleApp  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.report: Any = None

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="dashboard"):
            with Horizontal(classes="dashboard-row"):
                yield Static(Text(_("Computing…"), style="dim"), id="dash-summary")
                yield Static(id="dash-sla")
            yield Static(id="dash-agents")
            with Horizontal(classes="dashboard-row"):
                yield Static(id="dash-categories")
                yield Static(id="dash-tags")
            yield Static(id="dash-daily")
        yield StatusBar()
        yield Footer()

    def on_mount(self) -> None:
        self.action_reload()

    def action_reload(self) -> None:
        self._load()

    @work(thread=True, exclusive=True, group="dashboard", exit_on_error=False)
    def _load(self) -> None:
        report = self.app.gateway.dashboard(days=DAYS)
        self.app.call_from_thread(self._show, report)

    def _show(self, report: MetricsReport) -> None:
        self.report = report
        parts: dict[str, RenderableType] = {
            "#dash-summary": summary_table(report),
            "#dash-sla": Group(sla_table(report)),
            "#dash-agents": agents_table(report),
            "#dash-categories": trends_table(_("Top categories"), report.categories),
            "#dash-tags": trends_table(_("Top tags"), report.tags),
            "#dash-daily": daily_table(report),
        }
        for selector, renderable in parts.items():
            self.query_one(selector, Static).update(renderable)

    def action_back(self) -> None:
        self.dismiss(None)
