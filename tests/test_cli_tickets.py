"""The scriptable commands: list, show, reply, note, set, send and unsend against a workspace."""

from __future__ import annotations

import email
import email.policy
import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select
from typer.testing import CliRunner, Result

from cs_console.cli import app
from cs_console.config import load_settings
from cs_console.store.database import open_database
from cs_console.store.engine import session_scope
from cs_console.store.models import Draft, Message, OutboxItem, Ticket, TicketTag
from tests.rig.smtp import SmtpServer
from tests.rig.workspace import PASSWORD_ENV, account_table, write_config
from tests.test_outbox_support import seed_ticket

runner = CliRunner()


class Workspace:
    def __init__(self, folder: Path, smtp: SmtpServer | None = None, **outbox: Any) -> None:
        account = account_table(None, smtp)
        del account["password_env"]
        self.outgoing = folder / "outgoing"
        settings: dict[str, Any] = {"undo_seconds": 0, **outbox}
        if smtp is None:
            settings.setdefault("deliver_to_folder", "outgoing")
        self.config = write_config(
            folder, {"accounts": [account], "outbox": settings, "agent": {"name": "lucia"}}
        )
        self.engine: Engine = open_database(load_settings(self.config).database_url)
        self.now = datetime.now(UTC) - timedelta(minutes=1)

    def ticket(self, **fields: Any) -> int:
        with session_scope(self.engine) as session:
            ticket = seed_ticket(session, now=self.now, **fields)
            assert ticket.id is not None
            return ticket.id

    def run(self, *args: str, input: str | None = None) -> Result:
        return runner.invoke(app, ["--config", str(self.config), *args], input=input)


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    return Workspace(tmp_path)


def test_reply_from_stdin_is_queued_and_sent_to_the_folder(ws: Workspace) -> None:
    number = ws.ticket(message_id="<c1@example.org>")
    result = ws.run("reply", str(number), "--status", "pending", input="Hola María,\nsale hoy.\n")
    assert result.exit_code == 0, result.output
    assert f"Reply to #{number} queued" in result.stderr
    with session_scope(ws.engine) as session:
        ticket = session.get(Ticket, number)
        assert ticket is not None and ticket.status == "pending" and ticket.first_reply_at
        [item] = session.exec(select(OutboxItem)).all()
        assert item.status == "queued"
    sent = ws.run("send")
    assert sent.exit_code == 0, sent.output
    assert sent.stdout.strip().startswith("sent 1, retrying 0, failed 0")
    [eml] = list(ws.outgoing.iterdir())
    assert b"In-Reply-To: <c1@example.org>" in eml.read_bytes()
    assert ws.run("send").stdout.strip().startswith("sent 0")


def test_reply_from_a_file_and_refusals(ws: Workspace, tmp_path: Path) -> None:
    number = ws.ticket()
    body = tmp_path / "reply.md"
    body.write_text("Texto desde un fichero ñ", encoding="utf-8")
    assert ws.run("reply", str(number), "--file", str(body)).exit_code == 0
    missing = ws.run("reply", "999", input="Hola")
    assert missing.exit_code == 1
    assert "there is no ticket #999" in missing.stderr
    empty = ws.run("reply", str(number), input="   \n")
    assert empty.exit_code == 1 and "empty" in empty.stderr
    bad_status = ws.run("reply", str(number), "--status", "closed", input="Hola otra vez")
    assert bad_status.exit_code == 1
    with session_scope(ws.engine) as session:
        [draft] = session.exec(select(Draft)).all()
        assert draft.body == "Hola otra vez", "a reply that could not be queued is kept"


def test_unsend_within_the_window_gives_the_text_back(tmp_path: Path) -> None:
    ws = Workspace(tmp_path, undo_seconds=600)
    number = ws.ticket()
    assert ws.run("reply", str(number), input="Mejor no").exit_code == 0
    with session_scope(ws.engine) as session:
        [item] = session.exec(select(OutboxItem)).all()
    result = ws.run("unsend", str(item.id))
    assert result.exit_code == 0, result.output
    assert result.stdout == "Mejor no\n"
    with session_scope(ws.engine) as session:
        assert session.exec(select(Message).where(Message.direction == "out")).all() == []
        [draft] = session.exec(select(Draft)).all()
        assert draft.body == "Mejor no"
    again = ws.run("unsend", str(item.id))
    assert again.exit_code == 1 and "too late" in again.stderr


def test_note_and_set(ws: Workspace) -> None:
    number = ws.ticket()
    assert ws.run("note", str(number), input="Llamar al almacén").exit_code == 0
    result = ws.run(
        "set",
        str(number),
        "--status",
        "on_hold",
        "--priority",
        "high",
        "--category",
        "delivery",
        "--assign",
        "me",
        "--tag",
        "VIP",
        "--tag",
        "retraso",
    )
    assert result.exit_code == 0, result.output
    assert "status on_hold" in result.stderr and "assigned to lucia" in result.stderr
    assert ws.run("set", str(number), "--untag", "retraso").exit_code == 0
    unknown = ws.run("set", str(number), "--assign", "pepe")
    assert unknown.exit_code == 1 and "no agent named 'pepe'" in unknown.stderr
    bad = ws.run("set", str(number), "--priority", "asap")
    assert bad.exit_code == 1 and "not a priority" in bad.stderr
    with session_scope(ws.engine) as session:
        ticket = session.get(Ticket, number)
        assert ticket is not None
        assert (ticket.status, ticket.priority, ticket.category) == ("on_hold", "high", "delivery")
        assert [t.tag for t in session.exec(select(TicketTag)).all()] == ["vip"]
        notes = session.exec(select(Message).where(Message.direction == "note")).all()
        assert [n.body_text for n in notes] == ["Llamar al almacén"]
        assert session.exec(select(OutboxItem)).all() == []


def test_list_views_and_json(ws: Workspace) -> None:
    first = ws.ticket(subject="Pedido 1")
    second = ws.ticket(subject="Pedido 2")
    ws.run("set", str(second), "--status", "pending")
    ws.run("set", str(first), "--assign", "me")
    data = json.loads(ws.run("list", "--format", "json").stdout)
    assert [t["id"] for t in data] == [first]
    assert data[0]["customer"] == {"name": "María Muñoz", "email": "maria@example.org"}
    pending = json.loads(ws.run("list", "--view", "pending", "--format", "json").stdout)
    assert [t["id"] for t in pending] == [second]
    mine = json.loads(ws.run("list", "--view", "mine", "--format", "json").stdout)
    assert [t["id"] for t in mine] == [first]
    unassigned = json.loads(ws.run("list", "--view", "unassigned", "--format", "json").stdout)
    assert [t["id"] for t in unassigned] == [second]
    everything = json.loads(
        ws.run("list", "--view", "all", "--limit", "1", "--format", "json").stdout
    )
    assert len(everything) == 1
    table = ws.run("list", "--view", "all")
    assert table.exit_code == 0 and "Pedido 1" in table.stdout and "Pedido 2" in table.stdout
    assert ws.run("list", "--view", "nope").exit_code == 1


def test_show_prints_email_text_as_data(ws: Workspace) -> None:
    hostile = "Hola \x1b]52;c;ZXZpbA==\x07[bold red]falso[/] \x1b[2J \x9b2J \u202eoirav fin"
    number = ws.ticket(subject=f"Asunto {hostile}", name="[link=http://x]Ana[/link]")
    with session_scope(ws.engine) as session:
        message = session.exec(select(Message)).one()
        message.new_text = message.body_text = hostile
        session.add(message)
    ws.run("reply", str(number), input="Respuesta")
    text = ws.run("show", str(number))
    assert text.exit_code == 0, text.output
    assert "\x1b" not in text.stdout and "\x07" not in text.stdout
    assert "\x9b" not in text.stdout and "\u202e" not in text.stdout
    assert "[bold red]falso[/]" in text.stdout, "markup in an email is printed literally"
    assert "[link=http://x]Ana[/link]" in text.stdout
    assert "[queued]" in text.stdout
    raw_json = ws.run("show", str(number), "--format", "json").stdout
    assert "\x1b" not in raw_json and "\x9b" not in raw_json and "\u202e" not in raw_json
    data = json.loads(raw_json)
    assert data["messages"][0]["text"] == hostile, "JSON keeps the data, escaped"
    assert [m["direction"] for m in data["messages"]] == ["in", "out"]
    assert data["messages"][1]["delivery"]["status"] == "queued"
    assert data["messages"][1]["agent"] == "lucia"
    assert {"policy", "targets"} <= set(data["sla"])
    # The first-reply clock stopped when the outbox took the reply.
    assert data["sla"]["targets"]["first_reply"]["stopped_at"] is not None
    assert data["sla"]["targets"]["first_reply"]["state"] in ("met", "missed")
    assert set(data["sla"]) >= {
        "first_reply_due",
        "next_reply_due",
        "resolution_due",
        "due_at",
        "breached",
    }


def test_send_exits_non_zero_when_the_server_is_down_or_refuses(
    tmp_path: Path, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    ws = Workspace(tmp_path, smtp_server)
    ws.run("reply", str(ws.ticket()), input="Hola")
    smtp_server.stop()
    try:
        down = ws.run("send")
    finally:
        smtp_server.start()
    assert down.exit_code == 1
    assert "unreachable: shop" in down.stderr
    with session_scope(ws.engine) as session:
        item = session.exec(select(OutboxItem)).one()
        assert item.status == "queued" and item.attempts == 1
        item.not_before = ws.now  # skip the backoff for the test
        session.add(item)
    smtp_server.fail_next("550 5.7.1 Message rejected as spam")
    refused = ws.run("send")
    assert refused.exit_code == 1
    assert "550 5.7.1 Message rejected as spam" in refused.stderr
    assert "failed 1" in refused.stderr


def test_send_watch_delivers_and_stops_cleanly_on_ctrl_c(
    tmp_path: Path, smtp_server: SmtpServer
) -> None:
    ws = Workspace(tmp_path, smtp_server)
    ws.run("reply", str(ws.ticket()), input="Hola desde --watch")
    environment = dict(os.environ)
    environment.pop(PASSWORD_ENV, None)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cs_console",
            "--config",
            str(ws.config),
            "send",
            "--watch",
            "--interval",
            "0.2",
        ],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        [received] = smtp_server.wait_for(1, timeout=60)
        assert "Hola desde --watch" in received.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "Traceback" not in err
    assert "Stopped." in out


def test_reply_with_an_attachment(ws: Workspace, tmp_path: Path) -> None:
    invoice = tmp_path / "factura ñ.pdf"
    invoice.write_bytes(b"%PDF-1.4 fake")
    number = ws.ticket()
    result = ws.run("reply", str(number), "--attach", str(invoice), input="Adjunto la factura.")
    assert result.exit_code == 0, result.output
    assert ws.run("send").exit_code == 0
    [eml] = list(ws.outgoing.iterdir())
    parsed = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    [attachment] = list(parsed.iter_attachments())
    assert attachment.get_filename() == "factura ñ.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == b"%PDF-1.4 fake"
    missing = ws.run("reply", str(number), "--attach", str(tmp_path / "nope.pdf"), input="x")
    assert missing.exit_code == 1 and "cannot read" in missing.stderr


def test_reply_with_a_canned_answer(ws: Workspace) -> None:
    number = ws.ticket(subject="Pedido 1234")  # the customer's text names order 1234
    result = ws.run("reply", str(number), "--answer", "recibido-estamos-en-ello", input="")
    assert result.exit_code == 0, result.output
    with session_scope(ws.engine) as session:
        reply = session.exec(select(Message).where(Message.direction == "out")).one()
        assert reply.body_text.startswith("Hola, María:")
        assert "⟦missing" not in reply.body_text
        ticket = session.get(Ticket, number)
        assert ticket is not None and ticket.status == "pending", "the answer's set_status"
    unknown = ws.run("reply", str(number), "--answer", "no-such-answer", input="")
    assert unknown.exit_code == 1 and "no canned answer" in unknown.stderr


async def test_the_demo_workspace_replies_into_its_folder(tmp_path: Path) -> None:
    from cs_console.desk.demo import create_demo_workspace
    from cs_console.desk.outbox import drain_outbox

    config = create_demo_workspace(tmp_path / "demo", now=datetime.now(UTC), count=3)
    result = runner.invoke(app, ["--config", str(config), "reply", "1"], input="Hola desde la demo")
    assert result.exit_code == 0, result.output
    settings = load_settings(config)
    engine = open_database(settings.database_url)
    later = datetime.now(UTC) + timedelta(seconds=settings.outbox.undo_seconds + 1)
    report = await drain_outbox(settings, engine, now_fn=lambda: later)
    assert report.sent == 1 and report.ok
    [eml] = list((tmp_path / "demo" / "outbox-sent").glob("*.eml"))
    parsed = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert parsed["From"].addresses[0].display_name == "Tienda Demo"
    assert parsed["Subject"].endswith("[#1]")
    engine.dispose()
