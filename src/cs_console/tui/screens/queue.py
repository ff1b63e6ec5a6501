"""The queue: tickets by urgency, a page at a time, with live SLA countdowns.

The screen can open on a first page read without the database layer
(:mod:`cs_console.tui.first_page`); :mod:`cs_console.desk.queue` (SQLAlchemy) is
imported once the workspace is loaded, when those rows become queue rows.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Input, Static

from cs_console.desk.queue_row import QueueRow, View
from cs_console.i18n import N_, _, term
from cs_console.tui.format import duration, safe_line, sla_text
from cs_console.tui.screens._base import ConsoleScreen
from cs_console.tui.widgets import StatusBar

if TYPE_CHECKING:
    from cs_console.desk.queue import QueueFilter
    from cs_console.tui.app import ConsoleApp
    from cs_console.tui.first_page import FirstPage

PAGE = 150
#: Fetch the next page when the cursor is this close to the last loaded row.
PREFETCH_MARGIN = 40

#: The views and their labels.
_VIEW_LABELS = [
    (View.MINE, N_("1 Mine")),
    (View.UNASSIGNED, N_("2 Unassigned")),
    (View.OPEN, N_("3 All open")),
    (View.PENDING, N_("4 Pending")),
    (View.BREACHING, N_("5 Breaching")),
    (View.CATEGORY, N_("6 Category")),
]

COLUMNS = [
    ("#", "id", 5),
    ("", "unread", 1),
    (N_("Customer"), "customer", 15),
    (N_("Subject"), "subject", 26),
    (N_("Category"), "category", 13),
    (N_("Prio"), "priority", 6),
    (N_("Status"), "status", 7),
    (N_("Assignee"), "assignee", 8),
    (N_("SLA"), "sla", 8),
    (N_("Activity"), "activity", 10),
]


def _activity(when: datetime, now: datetime) -> str:
    return duration(now - when) if when <= now else _("just now")


_PRIORITY_STYLE = {"urgent": "bold red", "high": "yellow", "normal": "", "low": "dim"}


class QueueScreen(ConsoleScreen):
    """Tickets ordered by urgency; Enter opens one."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "j", "cursor_down", N_("Down"), show=False, id="queue.down", tooltip=N_("Next ticket")
        ),
        Binding(
            "k", "cursor_up", N_("Up"), show=False, id="queue.up", tooltip=N_("Previous ticket")
        ),
        Binding("enter", "open", N_("Open"), id="queue.open", tooltip=N_("Open the ticket")),
        Binding("slash", "search", N_("Search"), id="queue.search", tooltip=N_("Full-text search")),
        Binding(
            "f", "filter", N_("Filter"), id="queue.filter", tooltip=N_("Quick filter as you type")
        ),
        Binding(
            "escape",
            "clear",
            N_("Clear"),
            show=False,
            id="queue.clear",
            tooltip=N_("Clear the filter"),
        ),
        Binding("1", "view('mine')", N_("Mine"), show=False, id="queue.view_mine"),
        Binding(
            "2", "view('unassigned')", N_("Unassigned"), show=False, id="queue.view_unassigned"
        ),
        Binding("3", "view('open')", N_("All open"), show=False, id="queue.view_open"),
        Binding("4", "view('pending')", N_("Pending"), show=False, id="queue.view_pending"),
        Binding("5", "view('breaching')", N_("Breaching"), show=False, id="queue.view_breaching"),
        Binding("6", "view('category')", N_("By category"), show=False, id="queue.view_category"),
        Binding("g", "reload", N_("Refresh"), show=False, id="queue.refresh", tooltip=N_("Reload")),
        Binding(
            "n",
            "take_next",
            N_("Take next"),
            id="queue.take_next",
            tooltip=N_("Assign yourself the most urgent unassigned ticket and open it"),
        ),
        Binding(
            "d",
            "dashboard",
            N_("Dashboard"),
            id="queue.dashboard",
            tooltip=N_("The last seven days in figures"),
        ),
        Binding(
            "o",
            "outbox",
            N_("Outbox"),
            show=False,
            id="queue.outbox",
            tooltip=N_("Replies that could not be sent; retry them"),
        ),
        Binding("q", "app.quit", N_("Quit"), id="app.quit", tooltip=N_("Leave the console")),
    ]

    app: ConsoleApp  # type: ignore[assignment]

    def __init__(self, *, first_page: FirstPage | None = None) -> None:
        super().__init__()
        self.first_page = first_page
        self._flt: QueueFilter | None = None
        #: A reload was asked for before the workspace was loaded.
        self._reload_wanted = False
        self.rows: list[QueueRow] = []
        self.more = False
        self._generation = 0
        self._loading_more = False
        self._cells: dict[tuple[int, str], str] = {}
        self._input_mode = "filter"
        self._filter_timer: object | None = None
        self._seen_version = 0

    def compose(self) -> ComposeResult:
        yield Static(id="views")
        yield Input(placeholder=_("/ search   f filter"), id="queue-input")
        table: DataTable[object] = DataTable(
            id="queue",
            cursor_type="row",
            zebra_stripes=True,
            cursor_foreground_priority="renderable",
        )
        for label, key, width in COLUMNS:
            table.add_column(_(label) if label else "", key=key, width=width)
        yield table
        yield StatusBar()
        yield Footer()

    def on_mount(self) -> None:
        self._show_views()
        # At once, not after the first paint: focus restyles the table, a second full render.
        self.set_focus(self.query_one(DataTable))
        self.watch(self.app, "now", self._tick, init=False)
        self.watch(self.app, "data_version", self._data_changed, init=False)
        self.watch(self.app, "agent_id", self._agent_known, init=False)
        if self.first_page is not None:
            self._apply(self._generation, list(self.first_page.rows), self.first_page.more, False)
        else:
            self.reload()

    @property
    def flt(self) -> QueueFilter:
        """What the queue shows (the "all open" view until changed)."""
        if self._flt is None:
            from cs_console.desk.queue import QueueFilter

            self._flt = QueueFilter()
        return self._flt

    @flt.setter
    def flt(self, value: QueueFilter) -> None:
        self._flt = value

    def workspace_loaded(self, *, current: bool, same_database: bool) -> None:
        """The database layer is loaded: the first page's rows become queue rows.

        The page is read again with the real query if a reload was asked for
        meanwhile, or:

        Args:
            current: Nothing was committed since the first page was read (which was
                before the change watcher started); else the page is read again.
            same_database: The validated config names the database the first page
                came from (else it is read again, the cursor not kept).
        """
        self.first_page = None
        if self._reload_wanted or not (current and same_database):
            self.reload(keep=same_database)

    # -- loading

    def _agent_known(self, agent_id: int | None) -> None:
        # Called at mount too: nothing to do then, and nothing to import (SQLAlchemy).
        if agent_id == (self._flt.agent_id if self._flt is not None else None):
            return
        self.flt = replace(self.flt, agent_id=agent_id)
        if self.flt.view is View.MINE:
            self.reload()

    def _data_changed(self, version: int) -> None:
        if version and version != self._seen_version and self.is_current:
            self._seen_version = version
            self.reload(keep=True)

    def on_screen_resume(self) -> None:
        if self.rows and self.first_page is None:  # a first page: see workspace_loaded
            self.reload(keep=True)

    def reload(self, *, keep: bool = False) -> None:
        """Fetch the first page again (as many rows as are loaded when ``keep``).

        Before the workspace is loaded this waits for it (:meth:`workspace_loaded`).
        """
        if self.first_page is not None:
            self._reload_wanted = True
            return
        self._generation += 1
        limit = max(PAGE, len(self.rows)) if keep else PAGE
        self._load(self._generation, self.flt, limit, keep)

    @work(thread=True, exclusive=True, group="queue-load", exit_on_error=False)
    def _load(self, generation: int, flt: QueueFilter, limit: int, keep: bool) -> None:
        if flt.view is View.MINE and flt.agent_id is None:
            flt = replace(flt, agent_id=self.app.gateway.agent()[0])
        rows = self.app.gateway.page(flt, limit=limit + 1)
        self.app.call_from_thread(self._apply, generation, rows[:limit], len(rows) > limit, keep)

    @work(thread=True, exclusive=True, group="queue-more", exit_on_error=False)
    def _load_more(self, generation: int, flt: QueueFilter, after: object) -> None:
        if flt.view is View.MINE and flt.agent_id is None:
            flt = replace(flt, agent_id=self.app.gateway.agent()[0])
        try:
            rows = self.app.gateway.page(flt, after=after, limit=PAGE + 1)  # type: ignore[arg-type]
            self.app.call_from_thread(self._append, generation, rows[:PAGE], len(rows) > PAGE)
        finally:
            self._loading_more = False

    def _apply(self, generation: int, rows: list[QueueRow], more: bool, keep: bool) -> None:
        if generation != self._generation:
            return
        table = self.query_one(DataTable)
        current = self.current_id if keep else None
        self.rows = []
        self._cells.clear()
        table.clear()
        self._append(generation, rows, more)
        if current is not None:
            for index, row in enumerate(self.rows):
                if row.id == current:
                    table.move_cursor(row=index, animate=False)
                    break
        self._show_views()
        self.call_after_refresh(self.app.start_background)

    def _append(self, generation: int, rows: list[QueueRow], more: bool) -> None:
        if generation != self._generation:
            return
        table = self.query_one(DataTable)
        now = self.app.now
        for row in rows:
            table.add_row(*self._cells_of(row, now), key=str(row.id))
        self.rows.extend(rows)
        self.more = more
        self._show_views()

    def _cells_of(self, row: QueueRow, now: datetime) -> list[object]:
        sla = sla_text(row.sla_due_at, now, breached=row.sla_breached)
        activity = _activity(row.updated_at, now)
        self._cells[(row.id, "sla")] = sla.plain
        self._cells[(row.id, "activity")] = activity
        return [
            Text(str(row.id), style="bold" if row.unread else ""),
            Text("●", style="cyan") if row.unread else Text(""),
            safe_line(row.customer_name or row.customer_email),
            safe_line(row.subject, style="bold" if row.unread else ""),
            Text(row.category),
            Text(term(row.priority), style=_PRIORITY_STYLE.get(row.priority, "")),
            Text(term(row.status)),
            safe_line(row.assignee or "—"),
            sla,
            Text(activity, style="dim"),
        ]

    def _tick(self, now: datetime) -> None:
        """Redraw only the countdown and activity cells whose text changed."""
        table = self.query_one(DataTable)
        for row in self.rows:
            sla = sla_text(row.sla_due_at, now, breached=row.sla_breached)
            if self._cells.get((row.id, "sla")) != sla.plain:
                self._cells[(row.id, "sla")] = sla.plain
                table.update_cell(str(row.id), "sla", sla)
            activity = _activity(row.updated_at, now)
            if self._cells.get((row.id, "activity")) != activity:
                self._cells[(row.id, "activity")] = activity
                table.update_cell(str(row.id), "activity", Text(activity, style="dim"))

    def _show_views(self) -> None:
        flt = self._flt
        current = flt.view if flt is not None else View.OPEN
        line = Text()
        for view, label in _VIEW_LABELS:
            if view is current:
                category = flt.category if flt is not None else None
                shown = _(label) if view is not View.CATEGORY else f"6 {category or '?'}"
                line.append(f" {shown} ", style="bold reverse")
            else:
                line.append(f" {_(label)} ", style="dim")
            line.append(" ")
        count = _("{count} tickets").format(count=f"{len(self.rows)}{'+' if self.more else ''}")
        line.append(f"  {count}", style="italic")
        if flt is not None and flt.search:
            line.append("  " + _("search: "), style="dim")
            line.append_text(safe_line(flt.search, limit=40))
        if flt is not None and flt.text:
            line.append("  " + _("filter: "), style="dim")
            line.append_text(safe_line(flt.text, limit=40))
        self.query_one("#views", Static).update(line)

    @property
    def current_id(self) -> int | None:
        table = self.query_one(DataTable)
        if not self.rows or table.cursor_row < 0 or table.cursor_row >= len(self.rows):
            return None
        return self.rows[table.cursor_row].id

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if (
            self.more
            and not self._loading_more
            and self.first_page is None
            and event.cursor_row >= len(self.rows) - PREFETCH_MARGIN
        ):
            self._loading_more = True
            self._load_more(self._generation, self.flt, self.rows[-1].key)

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        self.action_open()

    # -- actions

    def action_cursor_down(self) -> None:
        self.query_one(DataTable).action_cursor_down()

    def action_cursor_up(self) -> None:
        self.query_one(DataTable).action_cursor_up()

    def action_open(self) -> None:
        ticket_id = self.current_id
        if ticket_id is not None:
            self.app.open_ticket(ticket_id, [r.id for r in self.rows])

    def action_search(self) -> None:
        self._focus_input("search", self.flt.search, _("search subjects and messages, Enter"))

    def action_filter(self) -> None:
        self._focus_input("filter", self.flt.text, _("filter: words, a customer, #number"))

    def _focus_input(self, mode: str, value: str, placeholder: str) -> None:
        self._input_mode = mode
        box = self.query_one("#queue-input", Input)
        box.placeholder = placeholder
        with box.prevent(Input.Changed):
            box.value = value
        box.focus()

    def action_clear(self) -> None:
        if self._filter_timer is not None:
            self._filter_timer.stop()  # type: ignore[attr-defined]
            self._filter_timer = None
        box = self.query_one("#queue-input", Input)
        with box.prevent(Input.Changed):
            box.value = ""
        box.placeholder = _("/ search   f filter")
        if self.flt.text or self.flt.search:
            self.flt = replace(self.flt, text="", search="")
            self.reload()
        self.query_one(DataTable).focus()

    def action_reload(self) -> None:
        self.reload(keep=True)

    def action_dashboard(self) -> None:
        from cs_console.tui.screens.dashboard import DashboardScreen

        self.app.push_screen(DashboardScreen())

    def action_outbox(self) -> None:
        from cs_console.tui.screens.outbox import OutboxScreen

        self.app.push_screen(OutboxScreen())

    def action_take_next(self) -> None:
        self._take_next()

    @work(thread=True, exclusive=True, group="queue-take-next", exit_on_error=False)
    def _take_next(self) -> None:
        ticket_id = self.app.gateway.take_next()
        self.app.call_from_thread(self._taken, ticket_id)

    def _taken(self, ticket_id: int | None) -> None:
        if ticket_id is None:
            self.app.notify(_("Nothing waiting."), timeout=3)
            return
        self.app.poll_now()
        self.app.open_ticket(ticket_id, [r.id for r in self.rows])

    def action_view(self, name: str) -> None:
        view = View(name)
        if view is View.CATEGORY:
            from cs_console.tui.screens.dialogs import ChoiceScreen

            options = [(c, c) for c in self.app.gateway.categories()]

            def chosen(category: str | None) -> None:
                if category:
                    self.flt = replace(self.flt, view=View.CATEGORY, category=category)
                    self.reload()

            self.app.push_screen(
                ChoiceScreen(_("Category"), options, current=self.flt.category), chosen
            )
            return
        self.flt = replace(self.flt, view=view, agent_id=self.app.agent_id)
        self.reload()

    @on(Input.Changed, "#queue-input")
    def _typed(self, event: Input.Changed) -> None:
        if self._input_mode != "filter":
            return
        if self._filter_timer is not None:
            self._filter_timer.stop()  # type: ignore[attr-defined]
        value = event.value
        self._filter_timer = self.set_timer(0.25, lambda: self._apply_filter(value))

    def _apply_filter(self, value: str) -> None:
        if value != self.flt.text:
            self.flt = replace(self.flt, text=value)
            self.reload()

    @on(Input.Submitted, "#queue-input")
    def _submitted(self, event: Input.Submitted) -> None:
        if self._filter_timer is not None:
            self._filter_timer.stop()  # type: ignore[attr-defined]
            self._filter_timer = None
        if self._input_mode == "search":
            self.flt = replace(self.flt, search=event.value.strip())
        else:
            self.flt = replace(self.flt, text=event.value)
        self.reload()
        self.query_one(DataTable).focus()
