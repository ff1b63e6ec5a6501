"""Parsing a sync's batches in worker processes gives what parsing inline gives."""

from __future__ import annotations

from cs_console.desk.routing import routing_text
from cs_console.desk.sync_parse import BatchParser, Prepared, parse_all, prepare_all
from tests.test_sync_support import mail


def _raws(count: int) -> list[bytes]:
    return [
        mail(
            sender=f"c{i}@example.org",
            mid=f"p{i}@example.org",
            subject=f"Pedido {i}",
            body=f"Hola, ¿dónde está el pedido {i}?\n\n> citado\n",
            attachment=(f"f{i}.pdf", b"%PDF") if i % 2 else None,
        )
        for i in range(count)
    ]


def test_worker_processes_parse_like_inline_and_keep_the_order() -> None:
    raws = _raws(7)
    with BatchParser(total=5000, workers=2, min_messages=1) as parser:
        assert parser.pool is not None
        parser.wait_started()
        first = parser.prepare(raws[:4])
        second = parser.prepare(raws[4:])
        results = [p.parsed for p in first() + second()]
    assert results == parse_all(raws)
    assert [p.message_id for p in results] == [f"p{i}@example.org" for i in range(7)]


def test_batches_before_the_workers_start_are_parsed_inline_when_asked_for() -> None:
    raws = _raws(5)
    with BatchParser(total=5000, workers=2, min_messages=1) as parser:
        early = parser.prepare(raws[:3])  # the workers are still starting: parsed inline
        parser.wait_started()
        late = parser.prepare(raws[3:])
        assert parser.pool is not None
        assert [p.parsed for p in early() + late()] == parse_all(raws)


def test_small_syncs_parse_inline() -> None:
    with BatchParser(total=20, workers=2) as parser:
        assert parser.pool is None
        raws = _raws(2)
        assert [p.parsed for p in parser.prepare(raws)()] == parse_all(raws)
    with BatchParser(total=50_000, workers=0) as parser:
        assert parser.pool is None


def test_workers_prepare_the_routing_text_of_each_message() -> None:
    raws = _raws(6)
    expected = [Prepared(p, routing_text(p.subject, p.new_text or p.text)) for p in parse_all(raws)]
    assert prepare_all(raws) == expected
    with BatchParser(total=5000, workers=2, min_messages=1) as parser:
        parser.wait_started()
        assert parser.prepare(raws)() == expected
