"""``cs-console enqueue``: other channels and raw mail into the same queue."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from cs_console.cli import app
from cs_console.store.engine import make_engine
from cs_console.store.models import Message, OutboxItem, Ticket
from tests.rig.workspace import account_table, write_config
from tests.test_sync_support import mail


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return write_config(tmp_path, {"accounts": [account_table(None)]})


def _run(config: Path, *args: str, stdin: str | bytes | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, ["--config", str(config), "enqueue", *args], input=stdin)


def _rows(config: Path, model: type) -> list:  # type: ignore[type-arg]
    engine = make_engine(f"sqlite:///{config.parent / 'data' / 'cs-console.db'}")
    with Session(engine) as session:
        rows = list(session.exec(select(model)).all())
    engine.dispose()
    return rows


def test_flags_create_a_ticket_with_channel_and_time(workspace: Path) -> None:
    result = _run(
        workspace,
        "--email",
        "Ana@Example.org",
        "--name",
        "Ana",
        "--subject",
        "Chat",
        "--body",
        "¿Tenéis la talla M?",
        "--channel",
        "chat",
        "--received-at",
        "2026-11-24T09:15:00+01:00",
    )
    assert result.exit_code == 0, result.output
    assert "new ticket #1" in result.output
    (ticket,) = _rows(workspace, Ticket)
    assert ticket.channel == "chat" and ticket.category == "product_question"
    assert ticket.created_at == datetime(2026, 11, 24, 8, 15, tzinfo=UTC)
    (message,) = _rows(workspace, Message)
    assert message.from_address == "ana@example.org" and message.created_at == ticket.created_at


def test_json_on_stdin_and_adding_to_a_ticket(workspace: Path) -> None:
    first = {"email": "ana@example.org", "body": "Quiero devolver el pedido", "channel": "web"}
    assert _run(workspace, stdin=json.dumps(first)).exit_code == 0
    more = {"email": "ana@example.org", "body": "Adjunto el número", "ticket": 1}
    result = _run(workspace, stdin=json.dumps(more))
    assert result.exit_code == 0, result.output
    assert "added to ticket #1" in result.output
    assert len(_rows(workspace, Message)) == 2 and len(_rows(workspace, Ticket)) == 1
    assert _rows(workspace, Ticket)[0].category == "returns"


def test_a_ticket_of_another_customer_is_refused(workspace: Path) -> None:
    _run(workspace, "--email", "ana@example.org", "--body", "hola")
    result = _run(workspace, "--email", "eve@example.net", "--body", "hola", "--ticket", "1")
    assert result.exit_code == 1
    assert len(_rows(workspace, Message)) == 1


@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        ("not json", "not valid JSON"),
        ('{"email": "a@b.c", "body": "x", "colour": 1}', "unknown JSON keys"),
        ('{"body": "x"}', "--email"),
        ('{"email": "a@b.c", "body": "  "}', "empty"),
        ('{"email": "a@b.c", "body": "x", "received_at": "yesterday"}', "not a time"),
    ],
)
def test_bad_input_is_explained(workspace: Path, stdin: str, message: str) -> None:
    result = _run(workspace, stdin=stdin)
    assert result.exit_code == 1
    assert message in result.output


def test_raw_mail_goes_through_parsing_threading_and_dedupe(workspace: Path) -> None:
    raw = mail(subject="Devolución", body="Quiero devolver las botas", date=datetime.now(UTC))
    result = _run(workspace, "--raw", stdin=raw)
    assert result.exit_code == 0, result.output
    assert "new ticket #1" in result.output
    again = _run(workspace, "--raw", stdin=raw)
    assert "already in ticket #1" in again.output
    reply = mail(subject="Re: Devolución", mid="r2@example.org", in_reply_to="m1@example.org")
    assert "added to ticket #1" in _run(workspace, "--raw", stdin=reply).output
    assert len(_rows(workspace, Message)) == 2
    (ticket,) = _rows(workspace, Ticket)
    assert ticket.category == "returns"
    (ack,) = _rows(workspace, OutboxItem)
    assert ack.kind == "auto_reply"


def test_raw_needs_input(workspace: Path) -> None:
    result = _run(workspace, "--raw", stdin=b"")
    assert result.exit_code == 1 and "stdin is empty" in result.output
