"""Failed outbox items, with the server's answer; one key sends an item again."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Static

from cs_console.i18n import N_, _
from cs_console.tui.format import safe_line
from cs_console.tui.gateway import FailedItem
from cs_console.tui.screens._base import ConsoleScreen
from cs_console.tui.widgets import StatusBar

if TYPE_CHECKING:
    from cs_console.tui.app import ConsoleApp


class OutboxScreen(ConsoleScreen):
    """The replies and notices that could not be sent; ``r`` queues one again."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "r",
            "retry",
            N_("Retry"),
            id="outbox.retry",
            tooltip=N_("Queue the highlighted item again"),
        ),
        Binding("escape,q", "back", N_("Back"), id="outbox.back", tooltip=N_("Back to the queue")),
    ]

    app: ConsoleApp  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.items: list[FailedItem] = []

    def compose(self) -> ComposeResult:
        yield Static(
            Text(_("Outbox: items that could not be sent"), style="bold"), id="outbox-title"
        )
        table: DataTable[object] = DataTable(id="outbox", cursor_type="row", zebra_stripes=True)
        table.add_column("#", key="id", width=5)
        table.add_column(_("Ticket"), key="ticket", width=7)
        table.add_column(_("Kind"), key="kind", width=10)
        table.add_column(_("To"), key="to", width=26)
        table.add_column(_("Tries"), key="attempts", width=5)
        table.add_column(_("Server's answer"), key="error", width=50)
        yield table
        yield Static(id="outbox-detail")
        yield StatusBar()
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).focus()
        self.reload()

    def reload(self) -> None:
        self._load()

    @work(thread=True, exclusive=True, group="outbox-load", exit_on_error=False)
    def _load(self) -> None:
        items = self.app.gateway.failed_outbox()
        self.app.call_from_thread(self._show, items)

    def _show(self, items: list[FailedItem]) -> None:
        self.items = items
        table = self.query_one(DataTable)
        table.clear()
        for item in items:
            table.add_row(
                Text(str(item.id)),
                Text(f"#{item.ticket_id}" if item.ticket_id else "—"),
                Text(item.kind),
                safe_line(item.to, limit=60),
                Text(str(item.attempts)),
                safe_line(item.error, limit=200, style="red"),
                key=str(item.id),
            )
        detail = self.query_one("#outbox-detail", Static)
        if not items:
            detail.update(
                Text(_("Nothing failed: every item was sent or is on its way."), style="green")
            )
        else:
            detail.update(Text(_("r sends the highlighted item again."), style="dim"))

    @property
    def current(self) -> FailedItem | None:
        table = self.query_one(DataTable)
        if not self.items or not 0 <= table.cursor_row < len(self.items):
            return None
        return self.items[table.cursor_row]

    def action_retry(self) -> None:
        item = self.current
        if item is not None:
            self._retry(item.id)

    @work(thread=True, exclusive=True, group="outbox-retry", exit_on_error=False)
    def _retry(self, item_id: int) -> None:
        self.app.gateway.retry_outbox(item_id)
        self.app.call_from_thread(self._retried, item_id)

    def _retried(self, item_id: int) -> None:
        self.app.notify(_("Item {number} queued again.").format(number=item_id), timeout=3)
        self.app.poll_now()
        self.reload()

    def action_back(self) -> None:
        self.dismiss(None)
