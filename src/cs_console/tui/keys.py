"""The console's key bindings: ids users can rebind from a ``[keys]`` config table.

Every binding the console defines has an id (``queue.reply``, ``ticket.status``...).
A ``[keys]`` table maps ids to keys, e.g. ``"ticket.reply" = "R"`` or
``"queue.down" = "j,down"``; :meth:`KeySettings.keymap` hands it to
:meth:`textual.app.App.set_keymap`.
"""

from __future__ import annotations

import re

from pydantic import RootModel, field_validator

from cs_console.i18n import _

__all__ = ["BINDING_IDS", "KeySettings"]

#: Every binding id the console knows (filled in by the screens' BINDINGS).
BINDING_IDS: frozenset[str] = frozenset(
    {
        "app.help",
        "app.palette",
        "app.quit",
        "queue.down",
        "queue.up",
        "queue.open",
        "queue.search",
        "queue.filter",
        "queue.clear",
        "queue.view_mine",
        "queue.view_unassigned",
        "queue.view_open",
        "queue.view_pending",
        "queue.view_breaching",
        "queue.view_category",
        "queue.refresh",
        "queue.take_next",
        "queue.dashboard",
        "queue.outbox",
        "outbox.retry",
        "outbox.back",
        "dashboard.back",
        "dashboard.refresh",
        "ticket.back",
        "ticket.reply",
        "ticket.note",
        "ticket.status",
        "ticket.priority",
        "ticket.category",
        "ticket.tags",
        "ticket.assign",
        "ticket.merge",
        "ticket.spam",
        "ticket.next",
        "ticket.previous",
        "ticket.toggle_quotes",
        "ticket.save_attachment",
        "ticket.open_attachment",
        "ticket.scroll_down",
        "ticket.scroll_up",
        "editor.send",
        "editor.send_pending",
        "editor.send_solve",
        "editor.canned",
        "editor.quote",
        "editor.close",
        "editor.help",
        "ticket.undo_send",
    }
)

_KEY_RE = re.compile(r"^[A-Za-z0-9_+\-]+$|^.$")


class KeySettings(RootModel[dict[str, str]]):
    """The ``[keys]`` table: binding id to a key or comma-separated keys."""

    root: dict[str, str] = {}

    @staticmethod
    def known_keys() -> list[str]:
        """The binding ids a ``[keys]`` table may name."""
        return sorted(BINDING_IDS)

    @field_validator("root")
    @classmethod
    def _known_ids(cls, value: dict[str, str]) -> dict[str, str]:
        for binding_id, keys in value.items():
            if binding_id not in BINDING_IDS:
                known = ", ".join(sorted(BINDING_IDS))
                raise ValueError(
                    _("unknown key binding id {id}; known ids: {known}").format(
                        id=repr(binding_id), known=known
                    )
                )
            parts = [k.strip() for k in keys.split(",")]
            if not parts or any(not p or not _KEY_RE.match(p) for p in parts):
                raise ValueError(
                    _("{keys} for {id} is not a key (e.g. {first} or {second})").format(
                        keys=repr(keys), id=repr(binding_id), first="'j'", second="'ctrl+s'"
                    )
                )
        return value

    def keymap(self) -> dict[str, str]:
        """The mapping :meth:`App.set_keymap` takes."""
        return {k: ",".join(p.strip() for p in v.split(",")) for k, v in self.root.items()}
