"""The canned-answer library in the database: import, export, retire, usage, variables."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from cs_console.config import Settings, settings_from_mapping
from cs_console.desk.canned import CannedAnswer, dump_answer, load_library, starter_answers
from cs_console.desk.canned.store import (
    RETIRED_TAG,
    answers_for,
    ensure_library,
    export_answers,
    import_folder,
    record_use,
    usage_by_agent,
    usage_counts,
)
from cs_console.desk.canned.variables import expected_answer_text, ticket_variables
from cs_console.desk.replies import canned_reply
from cs_console.desk.tickets import add_message, get_or_create_agent, get_ticket
from cs_console.errors import ConfigError
from cs_console.store.engine import session_scope
from cs_console.store.models import CannedAnswerRow, CannedAnswerUse, Direction
from tests.test_outbox_support import seed_ticket

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def _answer(slug: str, **fields: object) -> CannedAnswer:
    base: dict[str, object] = {
        "slug": slug,
        "title": f"Title {slug}",
        "language": "es",
        "category": "returns",
        "tags": ("devoluciones",),
        "keywords": ("devolver", "talla"),
        "public": True,
        "body": "Hola {{ customer_first_name }}:\n\nTexto de " + slug + ".",
    }
    base.update(fields)
    return CannedAnswer(**base)  # type: ignore[arg-type]


def _write(folder: Path, answer: CannedAnswer, sub: str = "") -> Path:
    target = folder / sub if sub else folder
    target.mkdir(parents=True, exist_ok=True)
    path = target / f"{answer.slug}.md"
    path.write_text(dump_answer(answer), encoding="utf-8")
    return path


def _settings(tmp_path: Path, **canned: object) -> Settings:
    config = tmp_path / "config.toml"
    return settings_from_mapping(
        {
            "shop": {"name": "Tienda", "language": "es", "timezone": "Europe/Madrid"},
            "agent": {"name": "lucia", "display_name": "Lucía Pérez"},
            "storage": {"data_dir": "data"},
            "canned": canned,
        },
        source=config,
    )


def test_import_export_round_trip(engine: Engine, tmp_path: Path) -> None:
    source = tmp_path / "answers"
    answers = [
        _answer("devolver-talla", title='Cambiar de talla "rápido"', set_status="pending"),
        _answer("factura", category="payment", tags=(), keywords=(), public=False),
    ]
    _write(source, answers[0], sub="devoluciones")
    _write(source, answers[1])
    with session_scope(engine) as session:
        report = import_folder(session, source, now=NOW)
    assert sorted(report.added) == ["devolver-talla", "factura"] and not report.problems
    out = tmp_path / "exported"
    with session_scope(engine) as session:
        assert answers_for(session) == answers
        written = export_answers(session, out)
    assert sorted(p.name for p in written) == ["devolver-talla.md", "factura.md"]
    assert list(load_library(out)) == answers
    # Exporting into the source folder writes over the files where they are.
    with session_scope(engine) as session:
        export_answers(session, source)
    assert sorted(p.relative_to(source).as_posix() for p in source.rglob("*.md")) == [
        "devoluciones/devolver-talla.md",
        "factura.md",
    ]
    with session_scope(engine) as session:
        again = import_folder(session, source, now=NOW + timedelta(hours=1))
    assert sorted(again.unchanged) == ["devolver-talla", "factura"] and not again.updated


def test_bad_file_reported_rest_imported_and_row_kept(engine: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "answers"
    good = _write(folder, _answer("bueno"))
    kept = _write(folder, _answer("roto"))
    with session_scope(engine) as session:
        import_folder(session, folder, now=NOW)
    kept.write_text("+++\ntitle = 'sin cierre'\n", encoding="utf-8")
    (folder / "Mal Nombre.md").write_text(dump_answer(_answer("x")), encoding="utf-8")
    good.write_text(dump_answer(_answer("bueno", title="Nuevo título")), encoding="utf-8")
    with session_scope(engine) as session:
        report = import_folder(session, folder, now=NOW)
        rows = {r.slug: r for r in session.exec(select(CannedAnswerRow)).all()}
    assert report.updated == ["bueno"]
    assert sorted(p.path.name for p in report.problems) == ["Mal Nombre.md", "roto.md"]
    assert any("closing '+++'" in p.message for p in report.problems)
    assert set(rows) == {"bueno", "roto"}, "a bad file keeps its row as it was"
    assert rows["bueno"].title == "Nuevo título" and rows["roto"].title == "Title roto"


def test_gone_files_deleted_or_retired_when_used(engine: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "answers"
    paths = [_write(folder, _answer(slug)) for slug in ("usada", "sin-usar", "queda")]
    with session_scope(engine) as session:
        import_folder(session, folder, now=NOW)
        agent = get_or_create_agent(session, "lucia", now=NOW)
        record_use(session, "usada", agent_id=agent.id, ticket_id=None, now=NOW)
    for path in paths[:2]:
        path.unlink()
    with session_scope(engine) as session:
        report = import_folder(session, folder, now=NOW)
        assert report.removed == ["sin-usar"] and report.retired == ["usada"]
        assert [a.slug for a in answers_for(session)] == ["queda"]
        retired = [a.slug for a in answers_for(session, include_retired=True)]
        assert retired == ["queda", "usada"]
        assert usage_counts(session) == {"usada": 1}
        assert RETIRED_TAG not in answers_for(session, include_retired=True)[1].tags
    _write(folder, _answer("usada"))
    with session_scope(engine) as session:
        report = import_folder(session, folder, now=NOW)
        assert report.updated == ["usada"], "the file back revives the row"
        assert [a.slug for a in answers_for(session)] == ["queda", "usada"]


def test_usage_counts_per_answer_and_agent(engine: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "answers"
    for slug in ("a1", "a2"):
        _write(folder, _answer(slug))
    with session_scope(engine) as session:
        import_folder(session, folder, now=NOW)
        ana = get_or_create_agent(session, "ana", now=NOW)
        luis = get_or_create_agent(session, "luis", now=NOW)
        for agent, slug, hours in (
            (ana, "a1", 0),
            (ana, "a1", 1),
            (luis, "a1", 2),
            (luis, "a2", 3),
        ):
            record_use(
                session, slug, agent_id=agent.id, ticket_id=None, now=NOW + timedelta(hours=hours)
            )
        assert record_use(session, "nope", agent_id=None, ticket_id=None, now=NOW) is None
        assert usage_counts(session) == {"a1": 3, "a2": 1}
        assert usage_counts(session, since=NOW + timedelta(hours=2)) == {"a1": 1, "a2": 1}
        by_agent = [(u.agent, u.slug, u.count) for u in usage_by_agent(session)]
        assert by_agent == [("ana", "a1", 2), ("luis", "a1", 1), ("luis", "a2", 1)]


def test_first_use_seeds_the_folder_in_the_shop_language(engine: Engine, tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    with session_scope(engine) as session:
        report = ensure_library(session, settings, now=NOW)
        assert report is not None
        assert len(report.seeded) == len(starter_answers("es")) == len(report.added)
        assert ensure_library(session, settings, now=NOW) is None
        assert {a.language for a in answers_for(session)} == {"es"}
    assert (tmp_path / "data" / "answers" / "pedido-donde-esta.md").is_file()


def test_relative_folder_and_bad_pattern_in_config(tmp_path: Path) -> None:
    settings = _settings(tmp_path, folder="respuestas")
    assert settings.canned.folder == (tmp_path / "respuestas").resolve()
    with pytest.raises(ConfigError, match="order_patterns"):
        _settings(tmp_path, order_patterns=["pedido (sin cerrar"])


def test_variables_from_a_seeded_ticket(engine: Engine, tmp_path: Path) -> None:
    settings = _settings(tmp_path, order_patterns=[r"\bref\.?\s*(?P<number>R\d{4,})"])
    with session_scope(engine) as session:
        ticket = seed_ticket(session, now=NOW, name="  María  Muñoz ")
        add_message(
            session,
            ticket,
            direction=Direction.IN.value,
            now=NOW - timedelta(minutes=10),
            from_address="maria@example.org",
            body_text="Perdón, es la ref. R55501",
            new_text="Perdón, es la ref. R55501",
        )
        ticket.resolution_due = NOW + timedelta(hours=5, minutes=10)
        agent = get_or_create_agent(session, "ana", now=NOW, display_name="Ana Gil")
        values = ticket_variables(session, settings, ticket, agent=agent, now=NOW)
    assert values == {
        "customer_first_name": "María",
        "customer_name": "María Muñoz",
        "order_number": "R55501",
        "ticket_number": str(ticket.id),
        "agent_name": "Ana Gil",
        "shop_name": "Tienda",
        "expected_answer_time": "6 horas (antes del martes 24 de noviembre a las 16:10)",
    }


def test_default_patterns_find_the_order_in_the_thread(engine: Engine, tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    with session_scope(engine) as session:
        ticket = seed_ticket(session, now=NOW)
        values = ticket_variables(session, settings, ticket, agent=None, now=NOW)
    assert values["order_number"] == "1234"
    assert values["agent_name"] == "Lucía Pérez"
    assert values["expected_answer_time"] == ""


def test_expected_answer_text() -> None:
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("Europe/Madrid")
    assert expected_answer_text(None, now=NOW, zone=zone, language="en") == ""
    assert expected_answer_text(NOW - timedelta(1), now=NOW, zone=zone, language="en") == ""
    assert (
        expected_answer_text(NOW + timedelta(minutes=5), now=NOW, zone=zone, language="en")
        == "1 hour (by Tuesday 24 November, 11:05)"
    )
    assert expected_answer_text(
        NOW + timedelta(hours=49), now=NOW, zone=zone, language="es"
    ).startswith("3 días (antes del jueves 26 de noviembre")


def test_canned_reply_uses_the_library_and_counts(engine: Engine, tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    folder = tmp_path / "data" / "answers"
    _write(
        folder, _answer("propia", body="Hola {{ customer_first_name }}, pedido {{ order_number }}.")
    )
    with session_scope(engine) as session:
        number = seed_ticket(session, now=NOW).id
        assert number is not None
        reply = canned_reply(session, settings, number, "propia", now=NOW)
        assert reply.text == "Hola María, pedido 1234." and reply.ok
        starter = canned_reply(session, settings, number, "returns-how-to-return", now=NOW)
        assert starter.slug == "returns-how-to-return", "falls back to the starter set"
        uses = session.exec(select(CannedAnswerUse)).all()
        assert len(uses) == 2 and {u.ticket_id for u in uses} == {number}
        assert usage_counts(session) == {"propia": 1, "returns-how-to-return": 1}
        get_ticket(session, number)
    assert not (folder / "pedido-donde-esta.md").exists(), "a folder with answers is not seeded"
