"""Turning data into what the console shows; text from outside is always data.

Every string that came from an email (subjects, names, bodies, file names) goes
through :func:`safe_text` or :func:`safe_line`: a :class:`rich.text.Text` built
from the plain string (so ``[bold]`` stays literal brackets) after control and
bidi characters are stripped (so no escape sequence reaches the terminal).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from rich.text import Text

from cs_console.i18n import _, format_duration, term
from cs_console.textsafe import one_line, strip_controls

__all__ = [
    "WARNING_WITHIN",
    "ago",
    "countdown",
    "duration",
    "safe_line",
    "safe_text",
    "sla_state",
    "sla_text",
]

#: A due time this close counts as a warning (yellow).
WARNING_WITHIN = timedelta(hours=1)


def safe_text(value: str, style: str = "") -> Text:
    """Multi-line text from outside, as data."""
    return Text(strip_controls(value), style=style)


def safe_line(value: str, *, limit: int | None = None, style: str = "") -> Text:
    """One line of text from outside, as data."""
    return Text(one_line(value, limit=limit), style=style, no_wrap=True, overflow="ellipsis")


def duration(delta: timedelta) -> str:
    """A short human duration: ``45s``, ``12m``, ``3h 05m``, ``2d 4h`` (``3h 05min`` in Spanish)."""
    return format_duration(delta)


def countdown(due: datetime | None, now: datetime) -> str:
    """Time left until ``due`` (``-`` prefix once overdue); empty without a due time."""
    if due is None:
        return ""
    left = due - now
    return ("-" if left.total_seconds() < 0 else "") + duration(left)


def sla_state(due: datetime | None, now: datetime, *, breached: bool = False) -> str:
    """``none``, ``ok``, ``warning`` or ``breached``."""
    if due is None:
        return "breached" if breached else "none"
    if breached or due <= now:
        return "breached"
    if due - now <= WARNING_WITHIN:
        return "warning"
    return "ok"


_SLA_STYLE = {
    "ok": "green",
    "warning": "bold yellow",
    "breached": "bold white on red",
    "none": "dim",
}


def sla_text(due: datetime | None, now: datetime, *, breached: bool = False) -> Text:
    """The countdown, colored by state."""
    state = sla_state(due, now, breached=breached)
    label = countdown(due, now) or (term("breached") if breached else "—")
    return Text(label, style=_SLA_STYLE[state], no_wrap=True)


def ago(when: datetime | None, now: datetime) -> str:
    """``5m ago``, ``3h 02m ago``..."""
    if when is None:
        return ""
    if when > now:
        return _("just now")
    return _("{duration} ago").format(duration=duration(now - when))
