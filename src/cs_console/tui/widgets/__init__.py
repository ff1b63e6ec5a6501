"""Widgets of the console."""

from __future__ import annotations

from cs_console.tui.widgets.sla_badge import SlaBadge
from cs_console.tui.widgets.status_bar import StatusBar

__all__ = ["SlaBadge", "StatusBar"]
