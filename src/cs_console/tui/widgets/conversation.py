"""The conversation's pieces: one message, and the customer's history."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from rich.text import Text
from textual.widgets import Static

from cs_console.desk.ticket_view import CustomerInfo, MessageInfo
from cs_console.i18n import N_, _, format_when, term
from cs_console.tui.format import duration, safe_line, safe_text

__all__ = ["MessageView", "history_text"]

_DIRECTION = {
    "in": (N_("customer"), "bold cyan"),
    "out": (N_("reply"), "bold green"),
    "note": (N_("internal note"), "bold yellow"),
}


def _size(n: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


class MessageView(Static):
    """One message of the conversation; quoted text and signature fold behind a key."""

    def __init__(self, message: MessageInfo, *, numbers: dict[int, int], show_quotes: bool) -> None:
        super().__init__(classes=f"message -{message.direction}")
        self.message = message
        self.numbers = numbers
        self.show_quotes = show_quotes

    def render(self) -> Text:
        m = self.message
        label, style = _DIRECTION.get(m.direction, (m.direction, "bold"))
        text = Text()
        text.append(f"{_(label)} ", style=style)
        text.append_text(safe_line(m.author or "?", limit=60, style="bold"))
        if m.from_address and m.direction == "in":
            text.append(" <")
            text.append_text(safe_line(m.from_address, limit=80))
            text.append(">")
        zone = ZoneInfo(self.app.settings.shop.timezone)  # times as the shop reads its clock
        text.append(f"  {format_when(m.created_at, zone)}", style="dim")
        if m.automated:
            text.append("  " + _("automated"), style="dim italic")
        text.append("\n")
        if m.body_pending and not m.new_text:
            text.append(_("(the text of this message is still being read)"), style="dim italic")
        text.append_text(safe_text(m.new_text.rstrip()))
        hidden = [part for part in (m.quoted_text, m.signature) if part.strip()]
        if hidden:
            if self.show_quotes:
                for part in hidden:
                    text.append("\n")
                    text.append_text(safe_text(part.rstrip(), style="dim"))
            else:
                text.append(
                    "\n… " + _("quoted text and signature hidden (z shows them)"),
                    style="dim italic",
                )
        for att in m.attachments:
            text.append(f"\n📎 [{self.numbers.get(att.id, '?')}] ", style="magenta")
            text.append_text(safe_line(att.filename, limit=80))
            text.append(f"  {_size(att.size)}", style="dim")
        return text


def history_text(customer: CustomerInfo) -> Text:
    """The customer's other tickets and how they went (first reply, time to solve)."""
    history = Text(_("Other tickets") + "\n", style="bold")
    if not customer.other_tickets:
        history.append(_("none — first contact") + "\n", style="dim")
    for past in customer.other_tickets:
        history.append(f"#{past.id} ", style="bold")
        history.append(
            term(past.status), style="green" if past.status in ("solved", "closed") else "yellow"
        )
        history.append(f"  {past.created_at:%Y-%m-%d}\n", style="dim")
        history.append_text(safe_line(past.subject, limit=34))
        history.append("\n")
        parts = []
        if past.first_reply_time is not None:
            parts.append(
                _("first reply {duration}").format(duration=duration(past.first_reply_time))
            )
        if past.resolution_time is not None:
            parts.append(_("solved in {duration}").format(duration=duration(past.resolution_time)))
        if parts:
            history.append("  " + "\n  ".join(parts) + "\n", style="dim")
    return history
