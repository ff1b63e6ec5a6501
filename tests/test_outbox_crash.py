"""kill -9 of a real ``cs-console send`` in the middle of a drain: nothing lost, no double send.

The rig's SMTP server is made observable: it accepts the 5th message, then holds
its "250" until the test has killed the sender. That is the worst moment, the
server has the message and the sender has not recorded it. The next ``send``
sends that one again with the same bytes and Message-ID (so the recipient's
client shows it once) and every other message exactly once.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from cs_console.config import load_settings
from cs_console.desk.replies import reply_to_ticket
from cs_console.store.database import open_database
from cs_console.store.engine import session_scope
from cs_console.store.models import OutboxItem
from tests.rig.smtp import SmtpServer
from tests.rig.workspace import PASSWORD_ENV, account_table, write_config
from tests.test_outbox_support import seed_ticket

ITEMS = 12
HOLD_AT = 5


def cli(config: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "cs_console", "--config", str(config), *args]


def env() -> dict[str, str]:
    clean = dict(os.environ)
    clean.pop(PASSWORD_ENV, None)
    return clean


def test_kill_9_mid_drain_loses_nothing_and_sends_nothing_twice(
    tmp_path: Path, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = account_table(None, smtp_server)
    del account["password_env"]  # the rig's SMTP server takes mail without a login
    config = write_config(
        tmp_path, {"accounts": [account], "outbox": {"undo_seconds": 0}, "agent": {"name": "lucia"}}
    )
    settings = load_settings(config)
    engine = open_database(settings.database_url)
    now = datetime.now(UTC) - timedelta(minutes=1)
    with session_scope(engine) as session:
        for index in range(ITEMS):
            ticket = seed_ticket(session, now=now, address=f"cliente{index}@example.org")
            assert ticket.id is not None
            reply_to_ticket(session, settings, ticket.id, f"Respuesta {index} ñ", now=now)

    held = threading.Event()
    release = threading.Event()
    calls = Counter[str]()
    original = smtp_server.handler.handle_DATA

    async def observable_data(server: Any, session: Any, envelope: Any) -> str:
        answer = await original(server, session, envelope)
        calls["data"] += 1
        if calls["data"] == HOLD_AT:
            held.set()
            await asyncio.get_running_loop().run_in_executor(None, release.wait)
        return answer

    monkeypatch.setattr(smtp_server.handler, "handle_DATA", observable_data)
    first = subprocess.Popen(
        cli(config, "send"), env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        assert held.wait(timeout=60), "the sender never reached the held message"
        with session_scope(engine) as session:
            states = Counter(item.status for item in session.exec(select(OutboxItem)).all())
        # Marked before the SMTP transaction: the crash leaves evidence.
        assert states == {"sent": HOLD_AT - 1, "sending": 1, "queued": ITEMS - HOLD_AT}
        first.kill()
        first.wait(timeout=30)
    finally:
        release.set()
        if first.poll() is None:
            first.kill()
            first.wait(timeout=30)
    assert first.returncode == -9

    second = subprocess.run(
        cli(config, "send"), env=env(), capture_output=True, text=True, timeout=120, check=False
    )
    assert second.returncode == 0, second.stderr
    assert "sent 8" in second.stdout  # the one in flight and the seven never tried

    received = smtp_server.wait_for(ITEMS + 1)
    with session_scope(engine) as session:
        items = session.exec(select(OutboxItem).order_by(OutboxItem.id)).all()
    assert [item.status for item in items] == ["sent"] * ITEMS
    ids = Counter(str(r.message["Message-ID"]).strip("<>") for r in received)
    assert set(ids) == {item.message_id for item in items}, "nothing lost"
    in_flight = items[HOLD_AT - 1]
    assert ids == Counter({item.message_id: 1 for item in items} | {in_flight.message_id: 2})
    copies = [r.data for r in received if r.message["Message-ID"] == f"<{in_flight.message_id}>"]
    assert copies[0] == copies[1], "the resend is the same message, byte for byte"
    assert in_flight.attempts == 2
    assert all(item.attempts == 1 for item in items if item.id != in_flight.id)
    engine.dispose()
