"""Opening the interactive console (or, until it can open, saying what to do)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cs_console.cli.app import CliState


def open_console(state: CliState) -> None:
    """Open the Textual console on the configured workspace."""
    from cs_console.cli.app import console
    from cs_console.i18n import _

    try:
        from cs_console.tui.app import start_console
    except ImportError:
        settings = state.settings()
        console.print(
            _("Workspace {name} ({file}). Run `cs-console --help` for the commands.").format(
                name=repr(settings.shop.name), file=state.config_file
            ),
            markup=False,
        )
        return
    start_console(state.config, load_settings=state.settings, lang=state.lang)
