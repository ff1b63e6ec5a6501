"""Exports: round trips through csv, openpyxl and json; formula injection; increments; atomicity."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from cs_console.config import Settings, ShopSettings
from cs_console.desk import exports
from cs_console.desk.export_formats import ExportFileError
from cs_console.desk.exports import cursor_key, export_dataset, parse_when, read_cursor
from cs_console.desk.tickets import (
    add_message,
    add_tag,
    create_ticket,
    get_or_create_customer,
    get_ticket,
    set_status,
)
from cs_console.store.engine import session_scope
from cs_console.store.models import Direction, Survey

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
H = timedelta(hours=1)
NASTY = ['=HYPERLINK("http://evil")', "+34 600", "-1+1", "@SUM(A1)", "\tTab", "\rCR"]


def seed(engine: Engine, subjects: list[str], *, at: datetime = T0) -> list[int]:
    ids: list[int] = []
    with session_scope(engine) as session:
        customer = get_or_create_customer(
            session, "ana@example.com", name="=cmd|'/c calc'!A1", now=at
        )
        for i, subject in enumerate(subjects):
            t = create_ticket(
                session, customer=customer, subject=subject, now=at + i * H, category="delivery"
            )
            add_tag(session, t, "late", now=at + i * H)
            add_message(
                session, t, direction=Direction.IN.value, now=at + i * H,
                from_address="ana@example.com", new_text=f"@mensaje {i}",
            )  # fmt: skip
            assert t.id is not None
            ids.append(t.id)
    return ids


def run(
    engine: Engine, dataset: str, fmt: str, out: Path | None, **options: object
) -> tuple[int, str]:
    buffer = io.StringIO()
    result = export_dataset(
        engine, dataset, fmt=fmt, out=out, stdout=buffer, now=options.pop("now", T0 + 24 * H),  # type: ignore[arg-type]
        **options,  # type: ignore[arg-type]
    )  # fmt: skip
    return result.rows, buffer.getvalue()


def test_csv_round_trip_neutralises_formulas(sqlite_engine: Engine, tmp_path: Path) -> None:
    ids = seed(sqlite_engine, NASTY)
    out = tmp_path / "tickets.csv"
    rows, _ = run(sqlite_engine, "tickets", "csv", out)
    assert rows == len(NASTY)
    with open(out, newline="", encoding="utf-8") as handle:
        table = list(csv.DictReader(handle))
    assert [int(r["id"]) for r in table] == ids
    assert [r["subject"] for r in table] == ["'" + s for s in NASTY]
    assert all(r["customer_name"] == "'=cmd|'/c calc'!A1" for r in table)
    assert table[0]["tags"] == "late" and table[0]["created_at"] == T0.isoformat()
    assert table[0]["first_reply_at"] == "" and table[0]["sla_breached"] == "false"
    for record in table:
        for value in record.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_xlsx_round_trip_writes_text_as_text(sqlite_engine: Engine, tmp_path: Path) -> None:
    ids = seed(sqlite_engine, [*NASTY, "café \x07 bell"])
    out = tmp_path / "tickets.xlsx"
    run(sqlite_engine, "tickets", "xlsx", out)
    book = openpyxl.load_workbook(out)
    sheet = book["tickets"]
    header = [c.value for c in sheet[1]]
    subject = header.index("subject") + 1
    created = header.index("created_at") + 1
    body = list(sheet.iter_rows(min_row=2))
    assert [r[0].value for r in body] == ids
    for row, text in zip(body, NASTY, strict=False):
        cell = row[subject - 1]
        assert cell.value == text.replace("\r\n", "\n").replace("\r", "\n")
        assert cell.data_type == "s"  # a string, never a formula
    assert body[-1][subject - 1].value == "café  bell"  # control characters dropped
    assert body[0][created - 1].value == T0.replace(tzinfo=None)


def test_jsonl_round_trip_and_stdout(sqlite_engine: Engine) -> None:
    ids = seed(sqlite_engine, ["Pedido 1", "=2+2"])
    rows, text = run(sqlite_engine, "messages", "jsonl", None)
    records = [json.loads(line) for line in text.splitlines()]
    assert rows == 2 and [r["ticket_id"] for r in records] == ids
    assert records[0]["text"] == "@mensaje 0"  # JSON is data: written as it is
    assert records[1]["direction"] == "in" and records[1]["automated"] is False
    assert records[1]["created_at"] == (T0 + H).isoformat()


def test_incremental_export_across_two_runs(engine: Engine, tmp_path: Path) -> None:
    ids = seed(engine, ["uno", "dos", "tres"])
    out = tmp_path / "inc.csv"
    first_run = T0 + 10 * H
    rows, _ = run(engine, "tickets", "csv", out, incremental=True, now=first_run)
    assert rows == 3
    with session_scope(engine) as session:
        assert read_cursor(session, cursor_key("tickets", "csv", out)) == first_run
        set_status(session, get_ticket(session, ids[1]), "solved", now=first_run + H)
    new = seed(engine, ["cuatro"], at=first_run + 2 * H)
    rows, _ = run(engine, "tickets", "csv", out, incremental=True, now=first_run + 5 * H)
    with open(out, newline="", encoding="utf-8") as handle:
        table = list(csv.DictReader(handle))
    assert rows == 2
    assert [int(r["id"]) for r in table] == [ids[1], *new]
    assert table[0]["status"] == "solved"
    # Nothing changed since: an empty file with its header, and the cursor moves on.
    rows, _ = run(engine, "tickets", "csv", out, incremental=True, now=first_run + 6 * H)
    assert rows == 0 and out.read_text(encoding="utf-8").startswith("id,subject,")
    # Another output has its own cursor: it starts from the beginning.
    rows, _ = run(engine, "tickets", "jsonl", tmp_path / "other.jsonl", incremental=True)
    assert rows == 4


def test_a_failed_export_leaves_the_old_file_and_the_cursor(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    seed(sqlite_engine, ["uno"])
    out = tmp_path / "exports" / "t.csv"
    out.parent.mkdir()
    run(sqlite_engine, "tickets", "csv", out, incremental=True, now=T0 + 5 * H)
    before = out.read_bytes()
    seed(sqlite_engine, ["dos"], at=T0 + 6 * H)

    def boom(count: int) -> None:
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        run(sqlite_engine, "tickets", "csv", out, incremental=True, now=T0 + 9 * H, progress=boom)
    assert out.read_bytes() == before
    assert [p.name for p in out.parent.iterdir()] == ["t.csv"]  # no temporary file left
    with session_scope(sqlite_engine) as session:
        assert read_cursor(session, cursor_key("tickets", "csv", out)) == T0 + 5 * H
    assert out.stat().st_mode & 0o077 == 0  # private: it holds customers' data


def test_large_exports_stream_in_batches(
    sqlite_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(exports, "BATCH", 3)
    ids = seed(sqlite_engine, [f"t{i}" for i in range(10)])
    counts: list[int] = []
    rows, _ = run(sqlite_engine, "tickets", "csv", tmp_path / "t.csv", progress=counts.append)
    assert rows == 10 and counts == [3, 6, 9, 10]
    with open(tmp_path / "t.csv", newline="", encoding="utf-8") as handle:
        assert [int(r["id"]) for r in csv.DictReader(handle)] == ids


def test_since_and_until_bound_the_window(sqlite_engine: Engine) -> None:
    ids = seed(sqlite_engine, ["a", "b", "c"])
    rows, text = run(sqlite_engine, "tickets", "csv", None, since=T0 + H, until=T0 + 2 * H)
    assert rows == 1 and next(iter(csv.DictReader(io.StringIO(text))))["id"] == str(ids[1])
    with pytest.raises(ExportFileError, match="empty"):
        run(sqlite_engine, "tickets", "csv", None, since=T0 + 3 * H, until=T0 + 2 * H)
    with pytest.raises(ExportFileError, match="needs --out"):
        run(sqlite_engine, "tickets", "csv", None, incremental=True)
    with pytest.raises(ExportFileError, match="XLSX"):
        run(sqlite_engine, "tickets", "xlsx", None)
    with pytest.raises(ExportFileError, match="does not exist"):
        run(sqlite_engine, "tickets", "csv", Path("/nonexistent/dir/x.csv"))


def test_surveys_and_metrics_exports(sqlite_engine: Engine, tmp_path: Path) -> None:
    ids = seed(sqlite_engine, ["a", "b"])
    with session_scope(sqlite_engine) as session:
        session.add(
            Survey(ticket_id=ids[0], kind="csat", token="x", sent_at=T0 + 2 * H, score=5,
                   comment="=rápido", answered_at=T0 + 3 * H)
        )  # fmt: skip
        session.add(Survey(ticket_id=ids[1], kind="csat", token="y", sent_at=T0 + 30 * H))
    rows, text = run(sqlite_engine, "surveys", "csv", None)
    table = list(csv.DictReader(io.StringIO(text)))
    assert rows == 1 and table[0]["comment"] == "'=rápido" and table[0]["score"] == "5"
    settings = Settings(shop=ShopSettings(timezone="Europe/Madrid"))
    rows, text = run(
        sqlite_engine, "metrics", "csv", None, settings=settings, since=T0, by="category"
    )
    table = list(csv.DictReader(io.StringIO(text)))
    assert [r["group"] for r in table] == ["all", "delivery"]
    assert table[0]["received"] == "2" and table[0]["csat"] == "100.0"


def test_parse_when() -> None:
    madrid = ZoneInfo("Europe/Madrid")
    assert parse_when("2026-11-01", zone=madrid) == datetime(2026, 11, 1, tzinfo=madrid)
    assert parse_when("2026-11-01T09:30", zone=madrid).utcoffset() == timedelta(hours=1)
    assert parse_when("2026-11-01T09:30+00:00", zone=madrid) == datetime(
        2026, 11, 1, 9, 30, tzinfo=UTC
    )
    with pytest.raises(ExportFileError):
        parse_when("yesterday", zone=madrid)


_CELLS = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30
)


@given(st.lists(_CELLS, min_size=1, max_size=5))
def test_any_text_survives_csv_and_never_starts_a_formula(cells: list[str]) -> None:
    from cs_console.desk.export_formats import CsvWriter

    buffer = io.StringIO(newline="")
    writer = CsvWriter(buffer)
    writer.header([f"c{i}" for i in range(len(cells))])
    writer.row(cells)
    buffer.seek(0)
    back = list(csv.reader(buffer))[1]
    for original, read in zip(cells, back, strict=True):
        if original.startswith(("=", "+", "-", "@", "\t", "\r")):
            assert read == "'" + original
        else:
            assert read == original


@settings(max_examples=25, deadline=None)
@given(st.lists(_CELLS, min_size=1, max_size=4))
def test_any_text_survives_xlsx_as_text(
    tmp_path_factory: pytest.TempPathFactory, cells: list[str]
) -> None:
    import re

    from cs_console.desk.export_formats import XlsxWriter

    path = tmp_path_factory.mktemp("x") / "t.xlsx"
    writer = XlsxWriter(path, sheet="t")
    writer.row(cells)
    writer.finish()
    row = next(openpyxl.load_workbook(path)["t"].iter_rows())
    for original, cell in zip(cells, row, strict=False):
        expected = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "", original)
        # XML reads every line break back as \n, so the writer stores them that way.
        expected = expected.replace("\r\n", "\n").replace("\r", "\n")
        if expected == "":
            assert cell.value in (None, "")
            continue
        assert cell.data_type == "s"
        assert cell.value == expected
