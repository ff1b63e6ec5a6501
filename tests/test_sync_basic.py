"""Syncing the rig's Dovecot: new mail becomes tickets, once."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine

from cs_console.desk.sync import SyncProgress, sync_account
from cs_console.store.models import Attachment, FolderState, Message, MessageRaw, Ticket
from tests.rig.dovecot import Dovecot
from tests.test_sync_support import NOW, count, mail, messages, settings_for, tickets


def test_first_sync_makes_tickets_and_a_second_finds_no_news(
    dovecot: Dovecot, engine: Engine, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, dovecot)
    account = settings.accounts[0]
    for i in range(5):
        dovecot.deliver(
            mail(sender=f"c{i}@example.org", mid=f"m{i}@example.org", subject=f"Pedido {i}")
        )
    seen: list[SyncProgress] = []
    report = sync_account(
        settings, engine, account, now_fn=lambda: NOW, progress=seen.append, batch_size=2
    )
    assert report.ok, report.errors
    assert report.total("new_tickets") == 5
    assert count(engine, Ticket) == 5
    assert count(engine, MessageRaw) == 5
    assert seen[-1].done == seen[-1].total == 5
    again = sync_account(settings, engine, account, now_fn=lambda: NOW)
    assert again.ok and again.folders[0].no_news
    assert count(engine, Message) == 5


def test_attachments_are_stored_by_hash(dovecot: Dovecot, engine: Engine, tmp_path: Path) -> None:
    settings = settings_for(tmp_path, dovecot)
    dovecot.deliver(mail(attachment=("../../factura.pdf", b"%PDF-1.4 data")))
    report = sync_account(settings, engine, settings.accounts[0], now_fn=lambda: NOW)
    assert report.ok, report.errors
    assert count(engine, Attachment) == 1
    from sqlmodel import Session, select

    with Session(engine) as session:
        att = session.exec(select(Attachment)).one()
    assert "/" not in att.filename and ".." not in att.filename.split(".")[0:1]
    path = settings.attachments_dir / att.sha256[:2] / att.sha256
    assert path.read_bytes() == b"%PDF-1.4 data"
    assert path.stat().st_mode & 0o777 == 0o600
    assert [m.new_text.strip() for m in messages(engine)] == ["Hola, tengo una pregunta."]
    assert tickets(engine)[0].subject == "Hola"


def test_folder_state_moves_with_messages(dovecot: Dovecot, engine: Engine, tmp_path: Path) -> None:
    settings = settings_for(tmp_path, dovecot)
    dovecot.deliver(mail())
    sync_account(settings, engine, settings.accounts[0], now_fn=lambda: NOW)
    from sqlmodel import Session, select

    with Session(engine) as session:
        state = session.exec(select(FolderState)).one()
    assert state.last_uid == 1 and state.uidvalidity and state.last_success_at == NOW
    assert state.consecutive_failures == 0
