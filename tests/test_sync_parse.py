"""Preparing a sync's batches in worker processes gives what preparing inline gives."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from cs_console.desk.dedupe import dedupe_hash
from cs_console.desk.routing import Router, RoutingSettings, message_routing_input
from cs_console.desk.sync_parse import (
    BatchParser,
    MailboxRef,
    PrepareContext,
    Prepared,
    StoredFile,
    parse_all,
    prepare_all,
    start_method,
)
from cs_console.mail.connect import Credential, imap_connect, logout_quietly
from cs_console.mail.endpoints import imap_endpoint
from cs_console.mail.imap_sync import FetchedMessage, ImapFolder
from cs_console.mail.parse import ParsedMessage
from cs_console.store.attachments import read_blob
from tests.rig.dovecot import PASSWORD, Dovecot
from tests.test_sync_support import mail, settings_for


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


@pytest.fixture
def inbox(dovecot: Dovecot, tmp_path: Path) -> Iterator[tuple[ImapFolder, MailboxRef]]:
    """Seven messages in the rig's INBOX, the writer's folder and the workers' reference to it."""
    for raw in _raws(7):
        dovecot.deliver(raw)
    account = settings_for(tmp_path, dovecot).accounts[0]
    endpoint = imap_endpoint(account)
    client = imap_connect(endpoint, PASSWORD)
    try:
        box = ImapFolder(client, "INBOX")
        ref = MailboxRef(endpoint, Credential.password(PASSWORD), "INBOX", box.status.uidvalidity)
        yield box, ref
    finally:
        logout_quietly(client)


class _CountingFetch:
    """The writer's fetch, counting the UIDs it was asked for."""

    def __init__(self, box: ImapFolder) -> None:
        self.box = box
        self.uids: list[int] = []

    def __call__(self, uids: Sequence[int]) -> list[FetchedMessage]:
        self.uids += uids
        return self.box.fetch(uids)


def _fetch_all(
    parser: BatchParser, fetch_here: _CountingFetch
) -> tuple[list[FetchedMessage], list[Prepared]]:
    jobs = [parser.fetch(part, fetch_here) for part in ([1, 2, 3, 4], [5, 6, 7])]
    fetched: list[FetchedMessage] = []
    prepared: list[Prepared] = []
    for job in jobs:
        got, done = job()
        fetched += got
        prepared += done
    return fetched, prepared


def test_workers_fetch_on_their_own_connections_what_the_writer_would(
    context: PrepareContext, inbox: tuple[ImapFolder, MailboxRef]
) -> None:
    box, ref = inbox
    here = _CountingFetch(box)
    with BatchParser(context, total=5000, workers=2, min_messages=1, mailbox=lambda: ref) as parser:
        parser.wait_started()
        fetched, prepared = _fetch_all(parser, here)
        assert parser.mailbox is not None
    assert here.uids == []  # the writer fetched nothing
    assert fetched == box.fetch(range(1, 8))  # bytes, UIDs and INTERNALDATEs
    assert all(m.internal_date is not None for m in fetched)
    raws = [m.raw for m in fetched]
    assert prepared == _expected(raws, context)
    assert not any(b"\\Seen" in flags for flags in box.client.get_flags(range(1, 8)).values())


@pytest.mark.parametrize("trouble", ["uidvalidity", "password"])
def test_a_worker_that_cannot_fetch_leaves_the_fetching_to_the_writer(
    context: PrepareContext, inbox: tuple[ImapFolder, MailboxRef], trouble: str
) -> None:
    box, ref = inbox
    if trouble == "uidvalidity":  # the folder was recreated since the writer selected it
        ref = replace(ref, uidvalidity=ref.uidvalidity + 1)
    else:
        ref = replace(ref, credential=Credential.password("wrong"))
    here = _CountingFetch(box)
    with BatchParser(context, total=5000, workers=2, min_messages=1, mailbox=lambda: ref) as parser:
        parser.wait_started()
        fetched, prepared = _fetch_all(parser, here)
        assert parser.mailbox is None and parser.pool is not None  # still parsing
    assert here.uids == [1, 2, 3, 4, 5, 6, 7]
    assert [m.uid for m in fetched] == [1, 2, 3, 4, 5, 6, 7]
    assert prepared == _expected([m.raw for m in fetched], context)


def test_a_process_running_threads_spawns_its_workers_which_fetch_too(
    context: PrepareContext, inbox: tuple[ImapFolder, MailboxRef]
) -> None:
    """The console's background sync: its workers start fresh, given the mailbox by pickle."""
    box, ref = inbox
    here = _CountingFetch(box)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)  # as the console's interface
    other.start()
    try:
        assert start_method() == "spawn"
        with BatchParser(
            context, total=5000, workers=2, min_messages=1, mailbox=lambda: ref
        ) as parser:
            parser.wait_started()
            fetched, prepared = _fetch_all(parser, here)
            assert parser.pool is not None and parser.mailbox is not None
    finally:
        stop.set()
        other.join()
    assert here.uids == []
    assert fetched == box.fetch(range(1, 8))
    assert prepared == _expected([m.raw for m in fetched], context)
