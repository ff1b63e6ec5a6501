"""Sending through the rig's real SMTP server: delivery, retries, failures, Sent copies."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from random import Random
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from cs_console.desk.outbox import LEASE_NAME, MAX_ATTEMPTS, OutboxDrainer, drain_outbox
from cs_console.desk.replies import reply_to_ticket
from cs_console.mail.compose import (
    AUTO_REPLIED,
    Recipient,
    as_bytes,
    compose_message,
    reply_subject,
)
from cs_console.mail.smtp_send import PermanentSendError, classify_code
from cs_console.store.engine import session_scope
from cs_console.store.models import Lease, OutboxItem, TicketEvent
from tests.rig.dovecot import Dovecot
from tests.rig.smtp import SmtpServer
from tests.test_outbox_support import Clock, make_settings, new_ticket, rig_passwords


def queue_reply(engine: Engine, settings, now: datetime, body: str = "Hola María") -> int:  # type: ignore[no-untyped-def]
    number = new_ticket(engine, now=now, message_id="<pedido-1@example.org>")
    with session_scope(engine) as session:
        return reply_to_ticket(session, settings, number, body, now=now).outbox_id


def item(engine: Engine, item_id: int) -> OutboxItem:
    with session_scope(engine) as session:
        found = session.get(OutboxItem, item_id)
        assert found is not None
        return found


async def test_reply_leaves_after_the_undo_window(
    sqlite_engine: Engine, smtp_server: SmtpServer, now: datetime
) -> None:
    settings = make_settings(smtp_server, undo=10)
    item_id = queue_reply(sqlite_engine, settings, now, "Hola María, tu pedido sale mañana 😀")
    clock = Clock(now)
    report = await drain_outbox(settings, sqlite_engine, now_fn=clock, password_fn=rig_passwords)
    assert report.sent == 0 and smtp_server.received == []
    clock.advance(seconds=10)
    report = await drain_outbox(settings, sqlite_engine, now_fn=clock, password_fn=rig_passwords)
    assert report.sent == 1 and report.ok
    [received] = smtp_server.wait_for(1)
    assert received.mail_from == "shop@example.com"
    assert received.rcpt_tos == ["maria@example.org"]
    message = received.message
    stored = item(sqlite_engine, item_id)
    assert message["Message-ID"] == f"<{stored.message_id}>"
    assert message["In-Reply-To"] == "<pedido-1@example.org>"
    assert message["Subject"].endswith(f"[#{stored.ticket_id}]")
    assert message["From"].addresses[0].display_name == "Tienda Ñandú"
    body = message.get_body(("plain",))
    assert body is not None and "mañana 😀" in body.get_content()
    assert stored.status == "sent" and stored.sent_at == clock.now and stored.attempts == 1
    # The server got exactly the stored bytes (modulo the transport's dot-stuffing).
    assert (
        received.data.replace(b"\r\n", b"\n").strip() == stored.raw.replace(b"\r\n", b"\n").strip()
    )


async def test_421_is_retried_later_with_backoff(
    sqlite_engine: Engine, smtp_server: SmtpServer, now: datetime
) -> None:
    settings = make_settings(smtp_server, undo=0)
    item_id = queue_reply(sqlite_engine, settings, now)
    smtp_server.fail_next("421 4.3.2 Service shutting down, try later")
    clock = Clock(now)
    drainer = OutboxDrainer(
        settings, sqlite_engine, now_fn=clock, rng=Random(1), password_fn=rig_passwords
    )
    report = await drainer.drain()
    assert report.retrying == 1 and report.sent == 0 and report.failed == 0
    waiting = item(sqlite_engine, item_id)
    assert waiting.status == "queued" and waiting.attempts == 1
    assert "421" in (waiting.last_error or "")
    assert now + timedelta(seconds=15) <= waiting.not_before <= now + timedelta(seconds=30)
    # Not due yet: a drain now leaves it alone.
    report = await drainer.drain()
    assert report.sent == 0 and smtp_server.received == []
    clock.now = waiting.not_before
    report = await drainer.drain()
    assert report.sent == 1
    assert len(smtp_server.wait_for(1)) == 1
    done = item(sqlite_engine, item_id)
    assert done.status == "sent" and done.attempts == 2 and done.last_error is None


async def test_refused_connection_is_retried_and_reported(
    sqlite_engine: Engine, smtp_server: SmtpServer, now: datetime
) -> None:
    settings = make_settings(smtp_server, undo=0)
    first = queue_reply(sqlite_engine, settings, now)
    second = queue_reply(sqlite_engine, settings, now)
    clock = Clock(now)
    smtp_server.stop()
    try:
        report = await drain_outbox(
            settings, sqlite_engine, now_fn=clock, password_fn=rig_passwords
        )
    finally:
        smtp_server.start()
    assert not report.ok and report.unreachable == ["shop"] and report.retrying == 2
    for item_id in (first, second):
        waiting = item(sqlite_engine, item_id)
        assert waiting.status == "queued" and waiting.attempts == 1
        assert waiting.not_before > now and "reach" in (waiting.last_error or "")
    clock.advance(minutes=5)
    report = await drain_outbox(settings, sqlite_engine, now_fn=clock, password_fn=rig_passwords)
    assert report.ok and report.sent == 2
    assert {r.message["Message-ID"] for r in smtp_server.wait_for(2)} == {
        f"<{item(sqlite_engine, first).message_id}>",
        f"<{item(sqlite_engine, second).message_id}>",
    }


async def test_550_fails_for_good_with_the_servers_words(
    engine: Engine, smtp_server: SmtpServer, now: datetime
) -> None:
    settings = make_settings(smtp_server, undo=0)
    bad = queue_reply(engine, settings, now)
    good = queue_reply(engine, settings, now)
    smtp_server.fail_next("550 5.1.1 <maria@example.org>: Recipient address rejected")
    clock = Clock(now)
    report = await drain_outbox(settings, engine, now_fn=clock, password_fn=rig_passwords)
    assert report.failed == 1 and report.sent == 1 and not report.ok
    failed = item(engine, bad)
    assert failed.status == "failed"
    assert failed.last_error == "550 5.1.1 <maria@example.org>: Recipient address rejected"
    assert item(engine, good).status == "sent"
    with session_scope(engine) as session:
        events = session.exec(select(TicketEvent).where(TicketEvent.kind == "send_failed")).all()
        assert [e.ticket_id for e in events] == [failed.ticket_id]
    clock.advance(hours=2)
    report = await drain_outbox(settings, engine, now_fn=clock, password_fn=rig_passwords)
    assert report.sent == 0 and report.failed == 0, "a permanent failure is not retried"
    assert len(smtp_server.received) == 1


async def test_an_item_left_sending_by_a_crash_is_resent_with_the_same_bytes(
    engine: Engine, smtp_server: SmtpServer, now: datetime
) -> None:
    settings = make_settings(smtp_server, undo=0)
    item_id = queue_reply(engine, settings, now)
    with session_scope(engine) as session:
        row = session.get(OutboxItem, item_id)
        assert row is not None
        row.status, row.attempts = "sending", 1  # what a crash mid-transaction leaves
        session.add(row)
        # ... and the crashed sender's lease, on this host, by a process that is gone.
        session.add(Lease(name=LEASE_NAME, holder="nohost:1:x", expires_at=now - timedelta(1)))
    report = await drain_outbox(settings, engine, now_fn=lambda: now, password_fn=rig_passwords)
    assert report.sent == 1
    [received] = smtp_server.wait_for(1)
    assert received.message["Message-ID"] == f"<{item(engine, item_id).message_id}>"
    assert item(engine, item_id).attempts == 2


async def test_a_live_sender_holds_the_outbox(
    sqlite_engine: Engine, smtp_server: SmtpServer, now: datetime
) -> None:
    settings = make_settings(smtp_server, undo=0)
    queue_reply(sqlite_engine, settings, now)
    with session_scope(sqlite_engine) as session:
        session.add(
            Lease(name=LEASE_NAME, holder="otherhost:1:x", expires_at=now + timedelta(minutes=1))
        )
    report = await drain_outbox(
        settings, sqlite_engine, now_fn=lambda: now, password_fn=rig_passwords
    )
    assert report.busy and report.sent == 0 and smtp_server.received == []


async def test_sent_copy_lands_in_sent_flagged_seen(
    sqlite_engine: Engine, smtp_server: SmtpServer, dovecot: Dovecot, now: datetime
) -> None:
    settings = make_settings(smtp_server, dovecot, undo=0)
    item_id = queue_reply(sqlite_engine, settings, now, "Copia para Enviados ñ")
    report = await drain_outbox(
        settings, sqlite_engine, now_fn=lambda: now, password_fn=rig_passwords
    )
    assert report.sent == 1 and report.copies_saved == 1 and report.ok
    stored = item(sqlite_engine, item_id)
    assert stored.sent_copy_saved
    with dovecot.client() as client:
        client.select_folder("Sent", readonly=True)
        uids = client.search(["ALL"])
        assert len(uids) == 1
        data = client.fetch(uids, ["FLAGS", "BODY.PEEK[]"])[uids[0]]
    assert b"\\Seen" in data[b"FLAGS"]
    assert data[b"BODY[]"] == stored.raw


async def test_sent_copy_failure_does_not_resend_and_is_retried(
    sqlite_engine: Engine, smtp_server: SmtpServer, dovecot: Dovecot, now: datetime
) -> None:
    broken = make_settings(smtp_server, dovecot, undo=0, sent_folder="NoSuchFolder")
    item_id = queue_reply(sqlite_engine, broken, now)
    clock = Clock(now)
    report = await drain_outbox(broken, sqlite_engine, now_fn=clock, password_fn=rig_passwords)
    assert report.sent == 1 and report.copies_saved == 0
    assert any("sent cop" in e for e in report.errors)
    assert not item(sqlite_engine, item_id).sent_copy_saved
    report = await drain_outbox(broken, sqlite_engine, now_fn=clock, password_fn=rig_passwords)
    assert report.sent == 0
    assert len(smtp_server.received) == 1, "a failed copy never sends the mail again"
    fixed = make_settings(smtp_server, dovecot, undo=0)
    report = await drain_outbox(fixed, sqlite_engine, now_fn=clock, password_fn=rig_passwords)
    assert report.copies_saved == 1 and report.sent == 0
    assert item(sqlite_engine, item_id).sent_copy_saved
    with dovecot.client() as client:
        assert client.select_folder("Sent", readonly=True)[b"EXISTS"] == 1


async def test_a_sender_that_lost_its_lease_stops(
    sqlite_engine: Engine, smtp_server: SmtpServer, now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(smtp_server, undo=0)
    first = queue_reply(sqlite_engine, settings, now)
    second = queue_reply(sqlite_engine, settings, now)
    original = smtp_server.handler.handle_DATA

    async def steal_lease_on_first(server: Any, session: Any, envelope: Any) -> str:
        # Another sender takes over while this one is talking to the server.
        with session_scope(sqlite_engine) as db:
            lease = db.get(Lease, LEASE_NAME)
            assert lease is not None
            lease.holder = "otherhost:1:x"
            db.add(lease)
        return await original(server, session, envelope)

    monkeypatch.setattr(smtp_server.handler, "handle_DATA", steal_lease_on_first)
    report = await drain_outbox(
        settings, sqlite_engine, now_fn=lambda: now, password_fn=rig_passwords
    )
    assert report.sent == 1 and any("took over" in e for e in report.errors)
    assert item(sqlite_engine, first).status == "sent"
    untouched = item(sqlite_engine, second)
    assert untouched.status == "queued" and untouched.attempts == 0
    with session_scope(sqlite_engine) as db:
        lease = db.get(Lease, LEASE_NAME)
        assert lease is not None and lease.holder == "otherhost:1:x", "the new holder keeps it"


async def test_an_automatic_row_written_by_ingest_is_sent_as_is(
    sqlite_engine: Engine, smtp_server: SmtpServer, now: datetime
) -> None:
    settings = make_settings(smtp_server, undo=0)
    number = new_ticket(sqlite_engine, now=now)
    message = compose_message(
        from_address="shop@example.com",
        from_name="Tienda Ñandú",
        to=[Recipient("maria@example.org", "María")],
        subject=reply_subject("Pedido", number),
        body="Hemos recibido tu mensaje.",
        message_id="<ack1.cs@example.com>",
        date=now,
        auto_submitted=AUTO_REPLIED,
    )
    with session_scope(sqlite_engine) as session:
        # The shape ingest uses: bare Message-ID, JSON recipients, due now.
        session.add(
            OutboxItem(
                ticket_id=number,
                account="shop",
                kind="auto_reply",
                message_id="ack1.cs@example.com",
                mail_from="shop@example.com",
                rcpt_to=json.dumps(["maria@example.org"]),
                raw=as_bytes(message),
                created_at=now,
                not_before=now,
            )
        )
    report = await drain_outbox(
        settings, sqlite_engine, now_fn=lambda: now, password_fn=rig_passwords
    )
    assert report.sent == 1
    [received] = smtp_server.wait_for(1)
    assert received.message["Auto-Submitted"] == "auto-replied"
    assert received.message["Message-ID"] == "<ack1.cs@example.com>"


async def test_html_replies_when_the_account_enables_them(
    sqlite_engine: Engine, smtp_server: SmtpServer, now: datetime
) -> None:
    settings = make_settings(smtp_server, undo=0, html_replies=True, display_name="Soporte Ñ")
    queue_reply(sqlite_engine, settings, now, "Hola **María**, <b>sin HTML</b>")
    await drain_outbox(settings, sqlite_engine, now_fn=lambda: now, password_fn=rig_passwords)
    message = smtp_server.wait_for(1)[0].message
    assert message["From"].addresses[0].display_name == "Soporte Ñ"
    html = message.get_body(("html",))
    assert html is not None
    assert "<strong>María</strong>" in html.get_content()
    assert "&lt;b&gt;sin HTML&lt;/b&gt;" in html.get_content()


async def test_a_message_the_sender_keeps_dying_on_is_failed_not_retried_forever(
    sqlite_engine: Engine, smtp_server: SmtpServer, now: datetime
) -> None:
    settings = make_settings(smtp_server, undo=0)
    poison = queue_reply(sqlite_engine, settings, now)
    broken = queue_reply(sqlite_engine, settings, now)
    with session_scope(sqlite_engine) as session:
        row = session.get(OutboxItem, poison)
        assert row is not None
        row.status, row.attempts = "sending", MAX_ATTEMPTS
        session.add(row)
        other = session.get(OutboxItem, broken)
        assert other is not None
        other.rcpt_to = "not json"
        session.add(other)
    report = await drain_outbox(
        settings, sqlite_engine, now_fn=lambda: now, password_fn=rig_passwords
    )
    assert report.failed == 2 and not report.ok
    assert "stopped 40 times" in (item(sqlite_engine, poison).last_error or "")
    assert item(sqlite_engine, broken).last_error == "the message has no usable recipient"
    assert smtp_server.received == []


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
async def test_the_sender_logs_in_where_the_server_requires_it(
    sqlite_engine: Engine, now: datetime
) -> None:
    server = SmtpServer(require_auth=True)
    server.start()
    try:
        settings = make_settings(server, undo=0)
        item_id = queue_reply(sqlite_engine, settings, now)
        report = await drain_outbox(
            settings, sqlite_engine, now_fn=lambda: now, password_fn=rig_passwords
        )
        assert report.sent == 1, report.errors
        assert len(server.wait_for(1)) == 1
        assert item(sqlite_engine, item_id).status == "sent"
    finally:
        server.stop()


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
async def test_authentication_required_waits_instead_of_failing(
    sqlite_engine: Engine, now: datetime
) -> None:
    server = SmtpServer(require_auth=True)
    server.start()
    try:
        settings = make_settings(server, undo=0)
        item_id = queue_reply(sqlite_engine, settings, now)
        report = await drain_outbox(
            settings, sqlite_engine, now_fn=lambda: now, password_fn=lambda _a, _p: None
        )
        assert report.failed == 0 and report.retrying == 1
        waiting = item(sqlite_engine, item_id)
        assert waiting.status == "queued" and "530" in (waiting.last_error or "")
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("code", "permanent"),
    [(421, False), (451, False), (550, True), (554, True), (535, False), (None, False)],
)
def test_classify_codes(code: int | None, permanent: bool) -> None:
    assert (classify_code(code) is PermanentSendError) == permanent


async def test_two_senders_at_once_send_each_message_once(
    engine: Engine, smtp_server: SmtpServer, now: datetime
) -> None:
    settings = make_settings(smtp_server, undo=0)
    ids = [queue_reply(engine, settings, now) for _ in range(6)]
    first, second = (
        OutboxDrainer(settings, engine, now_fn=lambda: now, password_fn=rig_passwords)
        for _ in range(2)
    )
    reports = await asyncio.gather(first.drain(), second.drain())
    assert sum(r.sent for r in reports) == 6
    assert sorted(r.busy for r in reports) in ([False, False], [False, True])
    received = smtp_server.wait_for(6)
    assert sorted(str(r.message["Message-ID"]) for r in received) == sorted(
        f"<{item(engine, i).message_id}>" for i in ids
    )
