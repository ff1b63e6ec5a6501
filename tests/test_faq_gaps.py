"""Frequent questions answered by hand, grouped by similarity (hand-checked groups)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from sqlmodel import Session
from typer.testing import CliRunner

from cs_console.cli import app
from cs_console.config import load_settings
from cs_console.desk.canned import starter_answers
from cs_console.desk.canned.gaps import GapTicket, find_gaps, group_questions, hand_written
from cs_console.desk.canned.store import record_use
from cs_console.desk.tickets import (
    add_message,
    create_ticket,
    get_or_create_agent,
    get_or_create_customer,
)
from cs_console.store.database import open_database
from cs_console.store.engine import session_scope
from cs_console.store.models import Direction
from tests.rig.workspace import write_config

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

SIZES = [
    "¿Puedo cambiar la talla de la camiseta? Me queda pequeña",
    "Hola, quiero cambiar la talla del pantalón, me queda grande",
    "Cambio de talla: la chaqueta me queda pequeña, ¿cómo la cambio?",
    "Buenas, ¿se puede cambiar la talla? La camiseta me queda grande",
]
INVOICES = [
    "Necesito la factura de mi compra con mi NIF",
    "¿Me podéis enviar la factura a nombre de mi empresa?",
    "No encuentro la factura del pedido, ¿me la mandáis?",
]
SINGLES = [
    "¿Tenéis tienda física en Sevilla?",
    "Quiero trabajar con vosotros, ¿aceptáis currículums?",
]


def _ticket(
    session: Session,
    text: str,
    *,
    at: datetime,
    replied: bool = True,
    canned: str | None = None,
) -> int:
    customer = get_or_create_customer(session, f"c{at.timestamp():.0f}@example.org", now=at)
    ticket = create_ticket(session, customer=customer, subject="Consulta", now=at)
    add_message(
        session,
        ticket,
        direction=Direction.IN.value,
        now=at,
        from_address=customer.email,
        body_text=text,
        new_text=text,
    )
    agent = get_or_create_agent(session, "lucia", now=at)
    if replied:
        add_message(
            session,
            ticket,
            direction=Direction.OUT.value,
            now=at + timedelta(hours=1),
            agent_id=agent.id,
            body_text="Respuesta escrita a mano.",
            new_text="Respuesta escrita a mano.",
        )
    if canned:
        record_use(
            session,
            canned,
            agent_id=agent.id,
            ticket_id=ticket.id,
            now=at,
            answer=next(a for a in starter_answers("es") if a.slug == canned),
        )
    assert ticket.id is not None
    return ticket.id


def _seed(session: Session) -> dict[str, list[int]]:
    ids: dict[str, list[int]] = {"sizes": [], "invoices": [], "other": []}
    texts = [("sizes", t) for t in SIZES] + [("invoices", t) for t in INVOICES]
    texts += [("other", t) for t in SINGLES]
    # Interleave the topics so grouping does not depend on their order.
    order = [texts[i] for i in (0, 4, 7, 1, 5, 2, 8, 6, 3)]
    for n, (topic, text) in enumerate(order):
        ids[topic].append(_ticket(session, text, at=START + timedelta(hours=n)))
    # Not gaps: answered with a canned answer, or not answered at all.
    _ticket(session, SIZES[0], at=START + timedelta(days=1), canned="devolucion-como-devolver")
    _ticket(session, SIZES[1], at=START + timedelta(days=1, hours=1), replied=False)
    return ids


def test_groups_are_the_hand_checked_ones(engine: Engine) -> None:
    with session_scope(engine) as session:
        ids = _seed(session)
        assert len(hand_written(session)) == 9
        gaps = find_gaps(session, min_count=3, answers=starter_answers("es"))
    assert [(g.count, sorted(g.ticket_ids)) for g in gaps] == [
        (4, sorted(ids["sizes"])),
        (3, sorted(ids["invoices"])),
    ]
    sizes, invoices = gaps
    assert "talla" in sizes.words and "factura" in invoices.words
    assert sizes.example.endswith(tuple(SIZES)) and invoices.example.endswith(tuple(INVOICES))
    assert sizes.language == "es"
    assert sizes.closest is not None


def test_since_and_min_count(engine: Engine) -> None:
    with session_scope(engine) as session:
        _seed(session)
        later = find_gaps(session, since=START + timedelta(hours=4), min_count=2)
        everything = find_gaps(session, min_count=1)
    assert [g.count for g in later] == [2, 2]
    assert sum(g.count for g in everything) == 9 and len(everything) == 4


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(max_size=60), max_size=25), st.integers(min_value=1, max_value=4))
def test_every_question_in_at_most_one_group(texts: list[str], min_count: int) -> None:
    questions = [GapTicket(n, "es", t) for n, t in enumerate(texts)]
    gaps = group_questions(questions, min_count=min_count)
    seen = [t for g in gaps for t in g.ticket_ids]
    assert len(seen) == len(set(seen))
    assert all(g.count == len(g.ticket_ids) >= min_count for g in gaps)
    assert [g.count for g in gaps] == sorted((g.count for g in gaps), reverse=True)


def test_gaps_cli_json(tmp_path: Path) -> None:
    config = write_config(tmp_path, {"agent": {"name": "lucia"}})
    engine = open_database(load_settings(config).database_url)
    with session_scope(engine) as session:
        ids = _seed(session)
    result = CliRunner().invoke(
        app, ["--config", str(config), "faq", "gaps", "--min-count", "3", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [sorted(g["tickets"]) for g in data] == [sorted(ids["sizes"]), sorted(ids["invoices"])]
    text = CliRunner().invoke(
        app, ["--config", str(config), "faq", "gaps", "--since", "2030-01-01"]
    )
    assert text.exit_code == 0 and "No question" in text.stdout
    bad = CliRunner().invoke(app, ["--config", str(config), "faq", "gaps", "--since", "ayer"])
    assert bad.exit_code == 1


@pytest.mark.parametrize("threshold", [0.2, 0.3, 0.4])
def test_grouping_is_stable_around_the_threshold(engine: Engine, threshold: float) -> None:
    with session_scope(engine) as session:
        ids = _seed(session)
        gaps = find_gaps(session, min_count=3, threshold=threshold)
    assert [sorted(g.ticket_ids) for g in gaps] == [sorted(ids["sizes"]), sorted(ids["invoices"])]
