"""Threading in a batch sync: by subject across batches, by reference within a batch."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from cs_console.desk.sync import sync_account
from cs_console.store.models import Message, Ticket
from tests.rig.dovecot import Dovecot
from tests.test_sync_support import NOW, mail, settings_for


def test_a_same_subject_message_in_a_later_batch_joins_its_ticket(
    dovecot: Dovecot, engine: Engine, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, dovecot)
    first = [
        mail(mid="a1@x", subject="Devolución del pedido 7", body="Quiero devolverlo."),
        mail(mid="a2@x", subject="Factura", body="¿Me enviáis la factura?"),
        mail(mid="a3@x", subject="Cambio de talla", body="Necesito una L."),
        mail(mid="b1@x", sender="luis@example.org", subject="Factura", body="La mía también."),
    ]
    later = [
        mail(mid="a4@x", subject="RE: Factura", body="Sigo sin la factura."),  # no In-Reply-To
        mail(mid="b2@x", sender="luis@example.org", subject="Cambio de talla", body="Y una M."),
    ]
    for raw in [*first, *later]:
        dovecot.deliver(raw)
    report = sync_account(
        settings, engine, settings.accounts[0], now_fn=lambda: NOW, batch_size=len(first)
    )
    assert report.ok, report.errors
    with Session(engine) as session:
        where = {
            m.message_id: (t.subject, t.customer_id)
            for m, t in session.exec(
                select(Message, Ticket).join(Ticket, Ticket.id == Message.ticket_id)  # type: ignore[arg-type]
            )
        }
    assert where["a4@x"] == where["a2@x"]  # Ana's open "Factura" ticket
    assert where["b2@x"][0] == "Cambio de talla"  # Luis never wrote about it: a new ticket
    assert where["b2@x"][1] != where["a3@x"][1]
    assert report.total("new_tickets") == 5


def test_a_reply_in_the_same_batch_joins_the_ticket_its_original_opened(
    dovecot: Dovecot, engine: Engine, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, dovecot)
    dovecot.deliver(mail(mid="q1@x", subject="Pedido 12", body="¿Dónde está?"))
    dovecot.deliver(
        mail(mid="q2@x", subject="Otra pregunta", body="Y otra cosa.", in_reply_to="q1@x")
    )
    report = sync_account(settings, engine, settings.accounts[0], now_fn=lambda: NOW)
    assert report.ok, report.errors
    with Session(engine) as session:
        tickets = {m.message_id: m.ticket_id for m in session.exec(select(Message))}
    assert tickets["q2@x"] == tickets["q1@x"]
    assert report.total("new_tickets") == 1
