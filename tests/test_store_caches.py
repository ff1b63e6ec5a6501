"""What the store and the desk remember between calls: attachment folders, parsed durations,
tickets already in a session. Remembering changes no result."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from cs_console.desk.sla import Duration, parse_duration, parse_duration_minutes
from cs_console.desk.tickets import (
    add_message,
    create_ticket,
    get_or_create_customer,
    record_event,
)
from cs_console.i18n import DEFAULT_LANGUAGE, set_language
from cs_console.store.attachments import blob_path, read_blob, store_blob, stored_blob_path
from cs_console.store.models import Ticket


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def loose_umask() -> Iterator[None]:
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


# -- attachment folders --------------------------------------------------------------------------


def test_a_hash_folder_removed_between_two_stores_is_made_again_private(
    tmp_path: Path, loose_umask: None
) -> None:
    root = tmp_path / "data" / "attachments"
    first = store_blob(root, b"factura 1")
    folder = blob_path(root, first).parent
    shutil.rmtree(folder)
    again = store_blob(root, b"factura 1")
    assert again == first
    assert read_blob(root, first) == b"factura 1"
    assert _mode(folder) == 0o700
    assert _mode(blob_path(root, first)) == 0o600


def test_the_whole_attachments_folder_removed_between_two_stores_is_made_again_private(
    tmp_path: Path, loose_umask: None
) -> None:
    root = tmp_path / "data" / "attachments"
    digest = store_blob(root, b"foto.jpg")
    shutil.rmtree(tmp_path / "data")
    assert store_blob(root, b"foto.jpg") == digest
    assert read_blob(root, digest) == b"foto.jpg"
    path = blob_path(root, digest)
    assert _mode(path) == 0o600
    for level in (path.parent, root, root.parent):
        assert _mode(level) == 0o700, level


def test_many_blobs_share_their_folders_and_each_folder_is_private(
    tmp_path: Path, loose_umask: None
) -> None:
    root = tmp_path / "attachments"
    digests = [store_blob(root, f"adjunto {n}".encode()) for n in range(300)]
    for n, digest in enumerate(digests):
        assert read_blob(root, digest) == f"adjunto {n}".encode()
    folders = [p for p in root.rglob("*") if p.is_dir()]
    assert len({blob_path(root, d).parent for d in digests}) < len(digests)
    assert {folder.parent for folder in folders} == {root}  # one level of hash folders
    assert all(_mode(folder) == 0o700 for folder in [root, *folders])
    assert all(_mode(blob_path(root, d)) == 0o600 for d in digests)


def test_a_file_stored_under_the_earlier_two_level_layout_is_still_found(
    tmp_path: Path,
) -> None:
    root = tmp_path / "attachments"
    digest = hashlib.sha256(b"albaran.pdf").hexdigest()
    legacy = root / digest[:2] / digest[2:4] / digest
    legacy.parent.mkdir(parents=True)
    legacy.write_bytes(b"albaran.pdf")
    assert stored_blob_path(root, digest) == legacy
    assert read_blob(root, digest) == b"albaran.pdf"
    assert store_blob(root, b"albaran.pdf") == digest
    assert not blob_path(root, digest).exists()  # not stored twice
    fresh = store_blob(root, b"otro.pdf")
    assert stored_blob_path(root, fresh) == blob_path(root, fresh) == root / fresh[:2] / fresh


# -- parsed durations ----------------------------------------------------------------------------


def test_a_duration_parsed_twice_is_the_same_value() -> None:
    assert parse_duration("1h30m") == parse_duration("1h30m") == Duration(minutes=90)
    assert parse_duration("2d") == Duration(days=2)
    assert parse_duration_minutes("2d") == 2 * 24 * 60


def test_numbers_and_texts_are_not_mistaken_for_each_other() -> None:
    assert parse_duration(1) == Duration(minutes=60)
    assert parse_duration("1") == Duration(minutes=60)
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(True)
    assert parse_duration(1.5) == Duration(minutes=90)


@pytest.mark.parametrize("text", ["soon", "0h", "-1h"])
def test_a_wrong_duration_is_refused_every_time(text: str) -> None:
    for _ in range(2):
        with pytest.raises(ValueError):
            parse_duration(text)


def test_a_wrong_duration_is_refused_in_the_language_of_the_moment() -> None:
    with pytest.raises(ValueError) as english:
        parse_duration("pronto")
    set_language("es")
    try:
        with pytest.raises(ValueError) as spanish:
            parse_duration("pronto")
    finally:
        set_language(DEFAULT_LANGUAGE)
    assert "'pronto'" in str(english.value) and "'pronto'" in str(spanish.value)
    assert str(english.value) != str(spanish.value)


# -- tickets in the session ----------------------------------------------------------------------


def test_changes_to_a_ticket_held_by_the_session_are_saved(engine: Engine, now: datetime) -> None:
    with Session(engine) as session:
        customer = get_or_create_customer(session, "ana@example.com", now=now)
        ticket = create_ticket(session, customer=customer, subject="Pedido 1", now=now)
        add_message(session, ticket, direction="in", now=now, body_text="hola")
        record_event(session, ticket, "note", now=now, detail="llamar")
        session.commit()
        number, version = ticket.id, ticket.version
    with Session(engine) as session:
        saved = session.get(Ticket, number)
        assert saved is not None
        assert saved.version == version and saved.unread and saved.last_customer_at is not None


def test_a_ticket_from_another_session_is_added_to_the_one_recording(
    engine: Engine, now: datetime
) -> None:
    with Session(engine) as session:
        customer = get_or_create_customer(session, "ana@example.com", now=now)
        ticket = create_ticket(session, customer=customer, subject="Pedido 2", now=now)
        session.commit()
        session.refresh(ticket)
        number, version = ticket.id, ticket.version
    with Session(engine) as session:
        record_event(session, ticket, "note", now=now, detail="detached")
        assert ticket in session
        session.commit()
    with Session(engine) as session:
        saved = session.get(Ticket, number)
        assert saved is not None and saved.version == version + 1
