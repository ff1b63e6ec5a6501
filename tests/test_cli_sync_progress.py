"""`cs-console sync` shows both phases of a large sync: messages recorded, then their bodies."""

from __future__ import annotations

import pytest
from rich.console import Console
from rich.progress import Progress, TextColumn
from rich.text import Text

from cs_console.cli.commands.sync import _Bars, _Plain
from cs_console.desk.sync import SyncProgress


def test_plain_lines_tell_messages_then_bodies(capsys: pytest.CaptureFixture[str]) -> None:
    show = _Plain()
    show(SyncProgress("shop", "INBOX", 0, 0))  # nothing new: nothing printed
    show(SyncProgress("shop", "INBOX", 500, 1000))
    show(SyncProgress("shop", "INBOX", 1000, 1000, bodies_done=500, bodies_total=1000))
    assert capsys.readouterr().out.splitlines() == [
        "shop/INBOX: 500/1000",
        "shop/INBOX: message bodies 500/1000",
    ]


def test_bars_show_a_folder_name_from_the_server_as_text() -> None:
    console = Console(record=True, width=100, force_terminal=False)
    with Progress(TextColumn("{task.description}"), console=console) as progress:
        bars = _Bars(progress)
        bars(SyncProgress("shop", "[bold]Ventas[/bold]", 10, 20))
        bars(SyncProgress("shop", "[bold]Ventas[/bold]", 20, 20, bodies_done=5, bodies_total=20))
        tasks = {task.description: task for task in progress.tasks}
    labels = [Text.from_markup(description).plain for description in tasks]
    assert labels == ["shop/[bold]Ventas[/bold]", "shop/[bold]Ventas[/bold]: bodies"]
    assert [task.completed for task in tasks.values()] == [10, 5]
