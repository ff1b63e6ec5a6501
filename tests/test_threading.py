"""Threading: which ticket a reply joins, and when it reopens or follows up."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from sqlmodel import Session

from cs_console.desk.ingest import IngestConfig, IngestResult, ingest_raw
from cs_console.desk.threading import normalize_subject, subject_with_token, ticket_tokens
from cs_console.desk.tickets import set_status
from cs_console.store.models import Ticket
from tests.test_sync_support import NOW, mail, outbox, settings_for


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Re: Pedido 123", "pedido 123"),
        ("RE: Fwd: AW: Pedido 123", "pedido 123"),
        ("RV: ¿Dónde está mi pedido?", "¿donde esta mi pedido?"),
        ("Fw: WG: SV: Vs: pedido", "pedido"),
        ("Re[2]: pedido", "pedido"),
        ("Re: [#42] Hemos recibido tu mensaje", "hemos recibido tu mensaje"),
        ("Hemos recibido tu mensaje [#42]", "hemos recibido tu mensaje"),
        ("  Pedido    123  ", "pedido 123"),
        ("Reembolso pendiente", "reembolso pendiente"),  # "Re" inside a word is not a prefix
        ("", ""),
    ],
)
def test_normalize_subject(subject: str, expected: str) -> None:
    assert normalize_subject(subject) == expected


@given(st.text(max_size=60), st.sampled_from(["Re: ", "RE: ", "Fwd: ", "AW: ", "RV: ", "Fw: "]))
def test_a_reply_prefix_never_changes_the_normalised_subject(subject: str, prefix: str) -> None:
    assert normalize_subject(prefix + subject) == normalize_subject(subject)
    assert normalize_subject(normalize_subject(subject)) == normalize_subject(subject)


def test_tokens() -> None:
    assert ticket_tokens("Re: Pedido [#12] y [#7]") == [12, 7]
    assert subject_with_token("Pedido", 12) == "Pedido [#12]"
    assert subject_with_token("Re: Pedido [#12]", 12) == "Re: Pedido [#12]"


@pytest.fixture
def config(tmp_path: Path) -> IngestConfig:
    return IngestConfig.from_settings(settings_for(tmp_path, None))


def _ingest(engine: Engine, config: IngestConfig, raw: bytes, *, now=NOW) -> IngestResult:  # type: ignore[no-untyped-def]
    with Session(engine, expire_on_commit=False) as session:
        result = ingest_raw(session, raw, config=config, now=now)
        session.commit()
    return result


def _ticket(engine: Engine, number: int) -> Ticket:
    with Session(engine) as session:
        ticket = session.get(Ticket, number)
        assert ticket is not None
        return ticket


def test_token_from_the_customer_joins(sqlite_engine: Engine, config: IngestConfig) -> None:
    first = _ingest(sqlite_engine, config, mail(subject="Pedido 123"))
    reply = _ingest(
        sqlite_engine, config, mail(subject=f"Otra cosa [#{first.ticket_id}]", mid="m2@x")
    )
    assert reply.outcome == "appended" and reply.ticket_id == first.ticket_id


def test_token_from_a_stranger_opens_a_new_ticket(engine: Engine, config: IngestConfig) -> None:
    first = _ingest(engine, config, mail(subject="Pedido 123"))
    other = _ingest(
        engine,
        config,
        mail(
            sender="mallory@example.net", subject=f"Re: Pedido 123 [#{first.ticket_id}]", mid="m2@x"
        ),
    )
    assert other.outcome == "new_ticket" and other.ticket_id != first.ticket_id


def test_token_from_a_participant_joins(sqlite_engine: Engine, config: IngestConfig) -> None:
    first = _ingest(sqlite_engine, config, mail(to="shop@example.com, Luis <luis@example.org>"))
    reply = _ingest(
        sqlite_engine,
        config,
        mail(sender="luis@example.org", subject=f"Re: Hola [#{first.ticket_id}]", mid="m2@x"),
    )
    assert reply.outcome == "appended" and reply.ticket_id == first.ticket_id


def test_in_reply_to_their_message_and_to_our_acknowledgement(
    sqlite_engine: Engine, config: IngestConfig
) -> None:
    first = _ingest(sqlite_engine, config, mail(subject="Pregunta", date=NOW))
    reply = _ingest(
        sqlite_engine, config, mail(subject="Más datos", mid="m2@x", in_reply_to="m1@example.org")
    )
    assert reply.ticket_id == first.ticket_id
    (ack,) = outbox(sqlite_engine)
    to_ack = _ingest(
        sqlite_engine, config, mail(subject="Gracias", mid="m3@x", in_reply_to=ack.message_id)
    )
    assert to_ack.outcome == "appended" and to_ack.ticket_id == first.ticket_id


def test_in_reply_to_from_a_stranger_opens_a_new_ticket(
    sqlite_engine: Engine, config: IngestConfig
) -> None:
    first = _ingest(sqlite_engine, config, mail(subject="Pregunta"))
    other = _ingest(
        sqlite_engine,
        config,
        mail(
            sender="eve@example.net",
            subject="Re: Pregunta",
            mid="m2@x",
            in_reply_to="m1@example.org",
        ),
    )
    assert other.outcome == "new_ticket" and other.ticket_id != first.ticket_id


def test_same_customer_and_subject_within_the_window(
    sqlite_engine: Engine, config: IngestConfig
) -> None:
    first = _ingest(sqlite_engine, config, mail(subject="¿Dónde está mi pedido?"))
    same = _ingest(
        sqlite_engine,
        config,
        mail(subject="RE: ¿donde esta mi pedido?", mid="m2@x", date=NOW),
    )
    assert same.outcome == "appended" and same.ticket_id == first.ticket_id
    other_subject = _ingest(sqlite_engine, config, mail(subject="Factura", mid="m3@x"))
    assert other_subject.outcome == "new_ticket"
    later = NOW + timedelta(days=9)
    late = _ingest(
        sqlite_engine,
        config,
        mail(subject="Re: ¿Dónde está mi pedido?", mid="m4@x", date=later),
        now=later,
    )
    assert late.outcome == "new_ticket"


def test_other_customer_same_subject_is_a_new_ticket(
    sqlite_engine: Engine, config: IngestConfig
) -> None:
    first = _ingest(sqlite_engine, config, mail(subject="Pedido"))
    other = _ingest(
        sqlite_engine, config, mail(sender="b@example.org", subject="Re: Pedido", mid="m2@x")
    )
    assert other.ticket_id != first.ticket_id


def _solve(engine: Engine, number: int, status: str = "solved") -> None:
    with Session(engine) as session:
        ticket = session.get(Ticket, number)
        assert ticket is not None
        set_status(session, ticket, status, now=NOW)
        session.commit()


def test_reply_to_a_recently_solved_ticket_reopens_it(engine: Engine, config: IngestConfig) -> None:
    first = _ingest(engine, config, mail(subject="Pedido"))
    assert first.ticket_id is not None
    _solve(engine, first.ticket_id)
    at = NOW + timedelta(days=3)
    reply = _ingest(
        engine,
        config,
        mail(subject=f"Re: Pedido [#{first.ticket_id}]", mid="m2@x", date=at),
        now=at,
    )
    assert reply.outcome == "reopened" and reply.ticket_id == first.ticket_id
    assert _ticket(engine, first.ticket_id).status == "open"


def test_reply_long_after_the_solution_opens_a_follow_up(
    sqlite_engine: Engine, config: IngestConfig
) -> None:
    first = _ingest(sqlite_engine, config, mail(subject="Pedido"))
    assert first.ticket_id is not None
    _solve(sqlite_engine, first.ticket_id)
    at = NOW + timedelta(days=20)
    reply = _ingest(
        sqlite_engine,
        config,
        mail(subject=f"Re: Pedido [#{first.ticket_id}]", mid="m2@x", date=at),
        now=at,
    )
    assert reply.outcome == "follow_up" and reply.ticket_id != first.ticket_id
    assert reply.ticket_id is not None
    assert _ticket(sqlite_engine, reply.ticket_id).follow_up_of_id == first.ticket_id
    assert _ticket(sqlite_engine, first.ticket_id).status == "solved"


def test_reply_to_a_closed_ticket_opens_a_follow_up(
    sqlite_engine: Engine, config: IngestConfig
) -> None:
    first = _ingest(sqlite_engine, config, mail(subject="Pedido"))
    assert first.ticket_id is not None
    _solve(sqlite_engine, first.ticket_id, "closed")
    reply = _ingest(
        sqlite_engine, config, mail(subject="Re: Pedido", mid="m2@x", in_reply_to="m1@example.org")
    )
    assert reply.outcome == "follow_up"


def test_an_auto_reply_never_reopens(sqlite_engine: Engine, config: IngestConfig) -> None:
    first = _ingest(sqlite_engine, config, mail(subject="Pedido"))
    assert first.ticket_id is not None
    _solve(sqlite_engine, first.ticket_id)
    ooo = _ingest(
        sqlite_engine,
        config,
        mail(
            subject=f"Fuera de la oficina: Re: Pedido [#{first.ticket_id}]",
            mid="m2@x",
            headers={"Auto-Submitted": "auto-replied"},
        ),
    )
    assert ooo.outcome == "appended" and ooo.ticket_id == first.ticket_id
    assert _ticket(sqlite_engine, first.ticket_id).status == "solved"


def test_a_merged_ticket_sends_replies_to_its_target(
    sqlite_engine: Engine, config: IngestConfig
) -> None:
    first = _ingest(sqlite_engine, config, mail(subject="Uno"))
    second = _ingest(sqlite_engine, config, mail(subject="Dos", mid="m2@x"))
    with Session(sqlite_engine) as session:
        ticket = session.get(Ticket, first.ticket_id)
        assert ticket is not None
        ticket.merged_into_id = second.ticket_id
        session.add(ticket)
        session.commit()
    reply = _ingest(
        sqlite_engine, config, mail(subject=f"Re: Uno [#{first.ticket_id}]", mid="m3@x")
    )
    assert reply.ticket_id == second.ticket_id
