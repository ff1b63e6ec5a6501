"""A live SLA countdown that redraws only itself when the app's clock ticks."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from cs_console.tui.format import sla_state, sla_text


class SlaBadge(Static):
    """``first reply 12m 03s``, colored ok/warning/breached, bound to ``app.now``."""

    now: reactive[datetime | None] = reactive(None, layout=False)

    def __init__(
        self, label: str, due: datetime | None, *, breached: bool = False, **kwargs: object
    ) -> None:
        super().__init__("", **kwargs)  # type: ignore[arg-type]
        self.label = label
        self.due = due
        self.breached = breached

    def on_mount(self) -> None:
        self.watch(self.app, "now", self._tick, init=True)

    def _tick(self, now: datetime) -> None:
        self.now = now

    @property
    def state(self) -> str:
        return sla_state(self.due, self.now, breached=self.breached) if self.now else "none"

    def render(self) -> Text:
        if self.now is None:
            return Text(self.label)
        self.set_class(self.state == "breached", "-breached")
        self.set_class(self.state == "warning", "-warning")
        return Text.assemble(
            (self.label + " ", "bold"), sla_text(self.due, self.now, breached=self.breached)
        )
