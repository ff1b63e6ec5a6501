"""Builders shared by the ingest and sync tests (no tests here)."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from cs_console.config import Settings, settings_from_mapping
from cs_console.store.models import Message, OutboxItem, Ticket
from tests.rig.dovecot import Dovecot
from tests.rig.workspace import account_table

NOW = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)
SHOP = "shop@example.com"


def mail(
    *,
    sender: str = "ana@example.org",
    name: str = "Ana García",
    to: str = SHOP,
    subject: str = "Hola",
    body: str = "Hola, tengo una pregunta.",
    mid: str | None = "m1@example.org",
    date: datetime | None = None,
    in_reply_to: str | None = None,
    headers: dict[str, str] | None = None,
    attachment: tuple[str, bytes] | None = None,
) -> bytes:
    """A small, valid email."""
    msg = EmailMessage()
    msg["From"] = f"{name} <{sender}>" if name else sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date or NOW.replace(hour=9))
    if mid:
        msg["Message-ID"] = f"<{mid}>"
    if in_reply_to:
        msg["In-Reply-To"] = f"<{in_reply_to}>"
        msg["References"] = f"<{in_reply_to}>"
    for key, value in (headers or {}).items():
        msg[key] = value
    msg.set_content(body)
    if attachment:
        msg.add_attachment(
            attachment[1], maintype="application", subtype="octet-stream", filename=attachment[0]
        )
    return msg.as_bytes()


def settings_for(
    tmp_path: Path,
    dovecot: Dovecot | None = None,
    *,
    extra: dict[str, Any] | None = None,
    accounts: list[dict[str, Any]] | None = None,
    **account: Any,
) -> Settings:
    data: dict[str, Any] = {
        "shop": {
            "name": "Tienda de Prueba",
            "timezone": "Europe/Madrid",
            "language": "es",
            "country": "ES",
        },
        "storage": {"data_dir": str(tmp_path / "data")},
        "accounts": accounts if accounts is not None else [account_table(dovecot, None, **account)],
    }
    data.update(extra or {})
    return settings_from_mapping(data)


def count(engine: Engine, model: type, *where: Any) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(model).where(*where)).one())


def messages(engine: Engine) -> list[Message]:
    with Session(engine) as session:
        return list(session.exec(select(Message).order_by(Message.id)).all())


def tickets(engine: Engine) -> list[Ticket]:
    with Session(engine) as session:
        return list(session.exec(select(Ticket).order_by(Ticket.id)).all())


def outbox(engine: Engine) -> list[OutboxItem]:
    with Session(engine) as session:
        return list(session.exec(select(OutboxItem).order_by(OutboxItem.id)).all())
