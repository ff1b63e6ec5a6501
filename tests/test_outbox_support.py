"""Shared set-up for the outbox and sending tests (no tests of its own)."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from cs_console.config import Settings, settings_from_mapping
from cs_console.desk.tickets import add_message, create_ticket, get_or_create_customer
from cs_console.store.engine import session_scope
from cs_console.store.models import Direction, Ticket
from tests.rig.dovecot import Dovecot
from tests.rig.smtp import SMTP_PASSWORD, SmtpServer
from tests.rig.workspace import PASSWORD, account_table

_ids = count(1)


def make_settings(
    smtp: SmtpServer | None = None,
    dovecot: Dovecot | None = None,
    *,
    undo: int = 10,
    deliver_to: Path | None = None,
    **account: Any,
) -> Settings:
    table = account_table(dovecot, smtp, **account)
    if table.get("password_env") is None:
        table.pop("password_env", None)
    data: dict[str, Any] = {
        "shop": {"name": "Tienda Ñandú"},
        "agent": {"name": "lucia", "display_name": "Lucía"},
        "accounts": [table],
        "outbox": {"undo_seconds": undo},
    }
    if deliver_to is not None:
        data["outbox"]["deliver_to_folder"] = str(deliver_to)
    return settings_from_mapping(data)


def rig_passwords(_account: Any, purpose: str) -> str:
    """The rig's SMTP and IMAP servers know different passwords for the shop."""
    return SMTP_PASSWORD if purpose == "smtp" else PASSWORD


def seed_ticket(
    session: Session,
    *,
    now: datetime,
    subject: str = "¿Dónde está mi pedido?",
    address: str = "maria@example.org",
    name: str = "María Muñoz",
    message_id: str | None = None,
    account: str = "shop",
) -> Ticket:
    """A ticket with one message from the customer, written an hour before ``now``."""
    customer = get_or_create_customer(session, address, name=name, now=now)
    at = now - timedelta(hours=1)
    ticket = create_ticket(session, customer=customer, subject=subject, now=at, account=account)
    add_message(
        session,
        ticket,
        direction=Direction.IN.value,
        now=at,
        from_name=name,
        from_address=address,
        to_addresses="shop@example.com",
        subject=subject,
        message_id=(message_id or f"customer{next(_ids)}@example.org").strip("<>"),
        body_text="Hola, ¿dónde está mi pedido 1234?",
        new_text="Hola, ¿dónde está mi pedido 1234?",
    )
    return ticket


def new_ticket(engine: Engine, *, now: datetime, **fields: Any) -> int:
    with session_scope(engine) as session:
        ticket = seed_ticket(session, now=now, **fields)
        assert ticket.id is not None
        return ticket.id


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now
