"""Threading as a real client sees it: Dovecot's THREAD REFERENCES joins our replies."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Engine

from cs_console.desk.outbox import drain_outbox
from cs_console.desk.replies import reply_to_ticket
from cs_console.desk.tickets import add_message, get_ticket
from cs_console.store.engine import session_scope
from cs_console.store.models import Direction
from tests.rig.dovecot import Dovecot
from tests.rig.smtp import SmtpServer
from tests.test_outbox_support import Clock, make_settings, new_ticket, rig_passwords

CUSTOMER_FIRST = (
    b"From: =?utf-8?q?Mar=C3=ADa?= <maria@example.org>\r\n"
    b"To: shop@example.com\r\n"
    b"Subject: =?utf-8?q?=C2=BFD=C3=B3nde_est=C3=A1_mi_pedido=3F?=\r\n"
    b"Date: Tue, 24 Nov 2026 09:30:00 +0000\r\n"
    b"Message-ID: <c1@example.org>\r\n"
    b"\r\n"
    b"Hola, mi pedido 1234 no llega.\r\n"
)


def customer_answer(reply_id: str) -> bytes:
    return (
        "From: maria@example.org\r\n"
        "To: shop@example.com\r\n"
        "Subject: Re: pedido\r\n"
        "Date: Tue, 24 Nov 2026 11:00:00 +0000\r\n"
        "Message-ID: <c2@example.org>\r\n"
        f"In-Reply-To: {reply_id}\r\n"
        f"References: <c1@example.org> {reply_id}\r\n"
        "\r\n"
        "Gracias, pero sigue sin llegar.\r\n"
    ).encode()


async def test_replies_join_the_customers_thread_in_dovecot(
    sqlite_engine: Engine, smtp_server: SmtpServer, dovecot: Dovecot, now: datetime
) -> None:
    settings = make_settings(smtp_server, undo=0)
    clock = Clock(now)
    number = new_ticket(sqlite_engine, now=now, message_id="<c1@example.org>")
    dovecot.append(CUSTOMER_FIRST)
    # An unrelated message, so a thread of everything would prove nothing.
    dovecot.append(
        b"From: otro@example.net\r\nSubject: Otra cosa\r\nMessage-ID: <x1@example.net>\r\n\r\nx\r\n"
    )

    with session_scope(sqlite_engine) as session:
        first = reply_to_ticket(session, settings, number, "Lo miramos ya.", now=clock.now)
    await drain_outbox(settings, sqlite_engine, now_fn=clock, password_fn=rig_passwords)
    [ours] = smtp_server.wait_for(1)
    dovecot.append(ours.data)

    answer = customer_answer(f"<{first.message_id}>")
    dovecot.append(answer)
    with session_scope(sqlite_engine) as session:
        ticket = get_ticket(session, number)
        add_message(
            session,
            ticket,
            direction=Direction.IN.value,
            now=clock.advance(minutes=30),
            from_address="maria@example.org",
            message_id="c2@example.org",  # stored without brackets, as ingest does
            in_reply_to=first.message_id,
            references=f"c1@example.org {first.message_id}",
            body_text="Gracias, pero sigue sin llegar.",
        )
    with session_scope(sqlite_engine) as session:
        reply_to_ticket(session, settings, number, "Reenviamos el paquete.", now=clock.now)
    await drain_outbox(settings, sqlite_engine, now_fn=clock, password_fn=rig_passwords)
    second = smtp_server.wait_for(2)[1]
    assert second.message["In-Reply-To"] == "<c2@example.org>"
    assert second.message["References"].split() == [
        "<c1@example.org>",
        f"<{first.message_id}>",
        "<c2@example.org>",
    ]
    dovecot.append(second.data)

    with dovecot.client() as client:
        client.select_folder("INBOX", readonly=True)
        uids = client.search(["ALL"])
        assert len(uids) == 5
        threads = client.thread(algorithm="REFERENCES")
    flat = [sorted(_flatten(thread)) for thread in threads]
    unrelated = uids[1]
    ours_thread = [uid for uid in uids if uid != unrelated]
    assert sorted(flat) == sorted([ours_thread, [unrelated]])


def _flatten(node: object) -> list[int]:
    if isinstance(node, int):
        return [node]
    assert isinstance(node, tuple | list)
    return [uid for child in node for uid in _flatten(child)]
