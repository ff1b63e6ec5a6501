"""The bottom line: who you are, sync state per account, the outbox, breaching tickets."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from cs_console.i18n import _
from cs_console.tui.format import ago

if TYPE_CHECKING:
    from cs_console.desk.queue import DeskStatus


@dataclass(frozen=True)
class StatusInfo:
    """What the status bar shows; the app replaces it as a whole."""

    agent: str = ""
    desk: DeskStatus | None = None
    notice: str = ""  # e.g. "database locked, retrying"
    syncing: frozenset[str] = field(default_factory=frozenset)


class StatusBar(Static):
    """Bound to ``app.status`` and ``app.now``; nothing else redraws it."""

    info: reactive[StatusInfo] = reactive(StatusInfo, layout=False)
    now: reactive[datetime | None] = reactive(None, layout=False)

    def on_mount(self) -> None:
        self.watch(self.app, "status", self._set_info, init=True)

    def _set_info(self, info: StatusInfo) -> None:
        self.info = info
        self.now = getattr(self.app, "now", None)

    def render(self) -> Text:
        info = self.info
        parts: list[Text] = [Text.assemble(("● ", "green"), (info.agent, "bold"))]
        desk = info.desk
        if desk is not None:
            for acc in desk.accounts:
                if acc.account in info.syncing:
                    parts.append(
                        Text(_("{account}: syncing…").format(account=acc.account), style="cyan")
                    )
                elif acc.last_error:
                    parts.append(
                        Text(
                            _("{account}: sync failed").format(account=acc.account),
                            style="bold red",
                        )
                    )
                elif acc.last_success_at and self.now:
                    parts.append(
                        Text(
                            _("{account}: synced {ago}").format(
                                account=acc.account, ago=ago(acc.last_success_at, self.now)
                            )
                        )
                    )
                else:
                    parts.append(
                        Text(_("{account}: not synced").format(account=acc.account), style="dim")
                    )
            outbox = Text(_("outbox {count}").format(count=desk.outbox_queued))
            if desk.outbox_failed:
                outbox.append(
                    _(" ({count} failed)").format(count=desk.outbox_failed), style="bold red"
                )
                outbox.append(" [o]", style="dim")  # the queue's key for the failed items
            parts.append(outbox)
            parts.append(
                Text(
                    _("{count} breaching").format(count=desk.breaching),
                    style="bold red" if desk.breaching else "green",
                )
            )
        if info.notice:
            parts.append(Text(info.notice, style="bold yellow"))
        return Text("  │  ").join(parts)
