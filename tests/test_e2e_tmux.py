"""End to end in a real terminal: open a ticket, write a reply, send it over SMTP.

The console runs in tmux (120x40) on a seeded workspace whose account points
at the rig's aiosmtpd; the test types like a person (send-keys) and reads the
screen (capture-pane), waiting for expected text with a deadline.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import tomlkit

from cs_console.store.database import open_database
from tests.rig.smtp import SmtpServer
from tests.test_tui_support import seed

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

DEADLINE = 30.0


class Terminal:
    """One tmux server of our own (``-L``), one session, one pane."""

    def __init__(self, socket: str) -> None:
        self.socket = socket

    def tmux(self, *args: str) -> str:
        result = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=True
        )
        return result.stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "console")

    def keys(self, *keys: str, literal: bool = False) -> None:
        self.tmux("send-keys", "-t", "console", *(["-l"] if literal else []), *keys)

    def wait_for(self, text: str, *, deadline: float = DEADLINE) -> str:
        end = time.monotonic() + deadline
        screen = ""
        while time.monotonic() < end:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{text!r} never appeared; the screen was:\n{screen}")


@pytest.fixture
def workspace(tmp_path: Path, smtp_server: SmtpServer) -> Path:
    config = {
        "shop": {"name": "Tienda E2E", "language": "es"},
        "agent": {"name": "ana", "display_name": "Ana"},
        "storage": {"data_dir": "data"},
        "outbox": {"undo_seconds": 1},
        "accounts": [
            {
                "name": "shop",
                "address": "hola@tienda.example",
                "imap_host": "127.0.0.1",
                "imap_port": 1,
                "imap_security": "none",
                "username": "hola",
                "smtp_host": "127.0.0.1",
                "smtp_port": smtp_server.port,
                "smtp_security": "none",
            }
        ],
    }
    path = tmp_path / "config.toml"
    path.write_text(tomlkit.dumps(config), encoding="utf-8")
    engine = open_database(f"sqlite:///{tmp_path / 'data' / 'cs-console.db'}")
    seed(engine, datetime.now(UTC) - timedelta(minutes=5))
    engine.dispose()
    return path


@pytest.fixture
def terminal(workspace: Path) -> Iterator[Terminal]:
    term = Terminal(f"cs-console-e2e-{os.getpid()}")
    env = {**os.environ, "TERM": "xterm-256color", "COLORTERM": "truecolor"}
    command = f"{sys.executable} -m cs_console --config {workspace}"
    subprocess.run(
        [
            "tmux",
            "-L",
            term.socket,
            "new-session",
            "-d",
            "-x",
            "120",
            "-y",
            "40",
            "-s",
            "console",
            command,
        ],
        check=True,
        env=env,
    )
    try:
        yield term
    finally:
        subprocess.run(["tmux", "-L", term.socket, "kill-server"], check=False, capture_output=True)


def test_open_reply_send_in_a_real_terminal(terminal: Terminal, smtp_server: SmtpServer) -> None:
    terminal.wait_for("Dónde está mi pedido")
    terminal.wait_for("breaching")  # the status bar has polled the database
    terminal.keys("Enter")  # the first row: the breached ticket
    terminal.wait_for("Hola, mi pedido 1234 no ha llegado.")
    terminal.keys("r")
    terminal.wait_for("Hola Lucía,")
    terminal.keys("Ya sale hoy por mensajero.", literal=True)
    terminal.wait_for("Ya sale hoy por mensajero.")
    terminal.keys("C-s")
    terminal.wait_for("Reply queued")
    received = smtp_server.wait_for(1, timeout=DEADLINE)
    message = received[0].message
    assert received[0].rcpt_tos == ["lucia@example.com"]
    body = message.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "Hola Lucía," in text and "Ya sale hoy por mensajero." in text
    assert "[#2]" in str(message["Subject"])
    terminal.keys("q")
    terminal.wait_for("Dónde está mi pedido")
    terminal.keys("q")
