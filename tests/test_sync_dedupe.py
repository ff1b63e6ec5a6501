"""Never twice, never ours: duplicates across addresses and folders, and our own mail."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from cs_console.desk.ingest import IngestConfig
from cs_console.desk.sync import sync_account
from cs_console.store.models import Message, OutboxItem, Ticket
from tests.rig.dovecot import OTHER_USER, Dovecot
from tests.rig.workspace import account_table
from tests.test_sync_support import NOW, SHOP, count, mail, outbox, settings_for


def _trace(raw: bytes, rcpt: str) -> bytes:
    """What a server prepends on delivery: differs between the two copies."""
    return (
        f"Return-Path: <ana@example.org>\r\nDelivered-To: {rcpt}\r\n"
        f"Received: from mx.example.org by mail.example.com for <{rcpt}>; "
        f"Tue, 24 Nov 2026 09:00:0{len(rcpt) % 10} +0000\r\n"
    ).encode() + raw


def _sync_all(settings, engine: Engine) -> list:  # type: ignore[no-untyped-def]
    return [sync_account(settings, engine, a, now_fn=lambda: NOW) for a in settings.accounts]


def test_same_mail_to_two_accounts_is_one_ticket(
    dovecot: Dovecot, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CS_TEST_OTHER_PASSWORD", dovecot.users[OTHER_USER])
    accounts = [
        account_table(dovecot),
        account_table(
            dovecot,
            name="ventas",
            address=OTHER_USER,
            username=OTHER_USER,
            password_env="CS_TEST_OTHER_PASSWORD",
        ),
    ]
    settings = settings_for(tmp_path, accounts=accounts)
    raw = mail(to=f"{SHOP}, {OTHER_USER}", subject="¿Dónde está mi pedido?")
    dovecot.deliver(_trace(raw, SHOP))
    dovecot.deliver(_trace(raw, OTHER_USER), user=OTHER_USER)
    first, second = _sync_all(settings, engine)
    assert first.total("new_tickets") == 1
    assert second.total("duplicates") == 1 and second.total("stored") == 0
    assert count(engine, Ticket) == 1 and count(engine, Message) == 1
    assert len(outbox(engine)) == 1  # one acknowledgement, not two
    assert second.folders[0].error is None
    again = _sync_all(settings, engine)
    assert all(r.folders[0].no_news for r in again)


def test_same_mail_in_two_folders_is_one_message(
    dovecot: Dovecot, engine: Engine, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, dovecot, folders=["INBOX", "Archive"])
    raw = mail()
    dovecot.deliver(raw)
    dovecot.deliver(raw, folder="Archive")
    (report,) = _sync_all(settings, engine)
    assert [f.stored for f in report.folders] == [1, 0]
    assert [f.duplicates for f in report.folders] == [0, 1]
    assert count(engine, Message) == 1


def test_a_reused_message_id_with_other_content_is_not_a_duplicate(
    dovecot: Dovecot, engine: Engine, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, dovecot)
    dovecot.deliver(mail(mid="same@example.org", body="Primer mensaje"))
    dovecot.deliver(
        mail(mid="same@example.org", body="Otro mensaje distinto", sender="b@example.org")
    )
    _sync_all(settings, engine)
    assert count(engine, Message) == 2


def test_sent_folder_as_a_source_is_not_customer_mail(
    dovecot: Dovecot, sqlite_engine: Engine, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, dovecot, folders=["INBOX", "Sent"])
    dovecot.deliver(
        mail(sender=SHOP, name="Tienda", to="ana@example.org", mid="out1@example.com"),
        folder="Sent",
    )
    dovecot.deliver(mail(mid="in1@example.org"))
    (report,) = _sync_all(settings, sqlite_engine)
    assert report.folders[1].own == 1 and report.folders[1].stored == 0
    assert count(sqlite_engine, Message) == 1


def test_bcc_to_the_shop_is_not_customer_mail(
    dovecot: Dovecot, sqlite_engine: Engine, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, dovecot)
    dovecot.deliver(mail(sender=SHOP.upper(), to="ana@example.org", mid="bcc@example.com"))
    (report,) = _sync_all(settings, sqlite_engine)
    assert report.total("own") == 1 and count(sqlite_engine, Ticket) == 0


def test_our_acknowledgement_coming_back_is_recognised_by_message_id(
    dovecot: Dovecot, sqlite_engine: Engine, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, dovecot, folders=["INBOX", "Sent"])
    dovecot.deliver(mail(date=NOW))
    _sync_all(settings, sqlite_engine)
    (ack,) = outbox(sqlite_engine)
    # The copy saved by another client, sent From an alias we do not list as an account.
    copy = ack.raw.replace(
        b"From: Tienda de Prueba <shop@example.com>", b"From: alias@tienda.example"
    )
    assert copy != ack.raw
    dovecot.deliver(copy, folder="Sent")
    (report,) = _sync_all(settings, sqlite_engine)
    assert report.folders[1].own == 1
    assert count(sqlite_engine, Message) == 1


def test_our_outgoing_message_rows_are_recognised(sqlite_engine: Engine, tmp_path: Path) -> None:
    from cs_console.desk.ingest import ingest_raw
    from cs_console.desk.tickets import add_message, create_ticket, get_or_create_customer

    settings = settings_for(tmp_path, None)
    config = IngestConfig.from_settings(settings)
    with Session(sqlite_engine) as session:
        customer = get_or_create_customer(session, "ana@example.org", now=NOW)
        ticket = create_ticket(session, customer=customer, subject="x", now=NOW)
        add_message(session, ticket, direction="out", now=NOW, message_id="reply7@example.com")
        result = ingest_raw(
            session,
            mail(sender="agent@elsewhere.example", mid="reply7@example.com"),
            config=config,
            now=NOW,
        )
        assert result.outcome == "own"
        assert session.get(OutboxItem, 1) is None


def test_after_ingest_never_moves_mail_out_of_the_sent_folder(
    dovecot: Dovecot, sqlite_engine: Engine, tmp_path: Path
) -> None:
    settings = settings_for(
        tmp_path, dovecot, folders=["INBOX", "Sent"], after_ingest="move", move_to="Processed"
    )
    dovecot.deliver(mail(sender=SHOP, to="ana@example.org", mid="out@example.com"), folder="Sent")
    dovecot.deliver(mail(mid="in@example.org"))
    (report,) = _sync_all(settings, sqlite_engine)
    assert report.ok, report.errors
    with dovecot.client() as client:
        assert client.select_folder("Sent")[b"EXISTS"] == 1
        assert client.select_folder("INBOX")[b"EXISTS"] == 0
        assert client.select_folder("Processed")[b"EXISTS"] == 1
