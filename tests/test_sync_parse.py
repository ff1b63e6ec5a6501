"""Preparing a sync's batches in worker processes gives what preparing inline gives."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from cs_console.desk.dedupe import dedupe_hash
from cs_console.desk.routing import Router, RoutingSettings, message_routing_input
from cs_console.desk.sync_parse import (
    BatchParser,
    PrepareContext,
    Prepared,
    StoredFile,
    parse_all,
    prepare_all,
    start_method,
)
from cs_console.mail.parse import ParsedMessage
from cs_console.store.attachments import read_blob
from tests.test_sync_support import mail


def _raws(count: int) -> list[bytes]:
    return [
        mail(
            sender=f"c{i}@example.org",
            mid=f"p{i}@example.org",
            subject=f"Pedido {i}" if i % 3 else f"Devolución del pedido {i}",
            body=f"Hola, ¿dónde está el pedido {i}?\n\n> citado\n",
            attachment=(f"f{i}.pdf", b"%PDF-" + bytes([i])) if i % 2 else None,
        )
        for i in range(count)
    ]


@pytest.fixture
def context(tmp_path: Path) -> PrepareContext:
    return PrepareContext(tmp_path / "attachments", RoutingSettings())


def _without_data(parsed_list: list[ParsedMessage]) -> list[ParsedMessage]:
    return [
        replace(p, attachments=[replace(a, data=b"") for a in p.attachments]) for p in parsed_list
    ]


def test_worker_processes_parse_like_inline_and_keep_the_order(context: PrepareContext) -> None:
    raws = _raws(7)
    with BatchParser(context, total=5000, workers=2, min_messages=1) as parser:
        assert parser.pool is not None
        parser.wait_started()
        first = parser.prepare(raws[:4])
        second = parser.prepare(raws[4:])
        results = [p.parsed for p in first() + second()]
    assert results == _without_data(parse_all(raws))
    assert [p.message_id for p in results] == [f"p{i}@example.org" for i in range(7)]


def test_batches_before_the_workers_start_are_parsed_inline_when_asked_for(
    context: PrepareContext,
) -> None:
    raws = _raws(5)
    with BatchParser(context, total=5000, workers=2, min_messages=1) as parser:
        early = parser.prepare(raws[:3])  # the workers are still starting: parsed inline
        parser.wait_started()
        late = parser.prepare(raws[3:])
        assert parser.pool is not None
        assert [p.parsed for p in early() + late()] == _without_data(parse_all(raws))


def test_a_process_running_threads_spawns_its_workers(context: PrepareContext) -> None:
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)  # as the console's background sync
    other.start()
    try:
        assert start_method() == "spawn"
        raws = _raws(4)
        with BatchParser(context, total=5000, workers=2, min_messages=1) as parser:
            parser.wait_started()
            assert parser.pool is not None
            assert [p.parsed for p in parser.prepare(raws)()] == _without_data(parse_all(raws))
    finally:
        stop.set()
        other.join()


def test_small_syncs_parse_inline(context: PrepareContext) -> None:
    with BatchParser(context, total=20, workers=2) as parser:
        assert parser.pool is None
        raws = _raws(2)
        assert [p.parsed for p in parser.prepare(raws)()] == _without_data(parse_all(raws))
    with BatchParser(context, total=50_000, workers=0) as parser:
        assert parser.pool is None


def _expected(raws: list[bytes], context: PrepareContext) -> list[Prepared]:
    router = Router(context.routing)
    expected = []
    for raw, parsed in zip(raws, parse_all(raws), strict=True):
        files = tuple(StoredFile(_sha256(a.data), len(a.data)) for a in parsed.attachments)
        expected.append(
            Prepared(
                _without_data([parsed])[0],
                dedupe_hash(raw, parsed),
                router.route(message_routing_input(parsed)),
                files,
            )
        )
    return expected


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_workers_hash_route_and_store_the_attachments_of_each_message(
    context: PrepareContext,
) -> None:
    raws = _raws(6)
    expected = _expected(raws, context)
    assert {p.route.category for p in expected} == {"returns", "order_status"}
    assert prepare_all(raws, context) == expected
    with BatchParser(context, total=5000, workers=2, min_messages=1) as parser:
        parser.wait_started()
        assert parser.prepare(raws)() == expected
    for raw, prepared in zip(raws, expected, strict=True):
        for part, file in zip(parse_all([raw])[0].attachments, prepared.stored or (), strict=True):
            assert read_blob(context.attachments_dir, file.sha256) == part.data


def test_an_attachment_store_that_cannot_be_written_leaves_the_data_to_the_ingest(
    tmp_path: Path,
) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("a file where the data folder should be")
    context = PrepareContext(blocker / "attachments", RoutingSettings())
    [prepared] = prepare_all(_raws(2)[1:], context)
    assert prepared.stored is None
    assert prepared.parsed.attachments[0].data.startswith(b"%PDF-")
