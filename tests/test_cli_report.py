"""The report, export, surveys and outreach commands, as a user and cron run them."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from cs_console.cli import app
from cs_console.cli.commands import export as export_command
from cs_console.cli.commands import report as report_command
from cs_console.cli.commands import surveys as surveys_command
from cs_console.config import load_settings
from cs_console.desk.surveys import SurveySettings
from cs_console.desk.tickets import (
    add_message,
    create_ticket,
    get_or_create_customer,
    set_status,
)
from cs_console.store.database import open_database
from cs_console.store.engine import session_scope
from cs_console.store.models import Direction, OutboxItem, Survey
from tests.rig.workspace import account_table, write_config

runner = CliRunner()
NOW = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)
H = timedelta(hours=1)


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A workspace with three tickets this week; the commands' clock is fixed."""
    for module in (export_command, report_command, surveys_command):
        monkeypatch.setattr(module, "_utcnow", lambda: NOW)
    config = write_config(tmp_path, {"accounts": [account_table()]})
    engine = open_database(load_settings(config).database_url)
    with session_scope(engine) as session:
        customer = get_or_create_customer(session, "ana@example.com", name="Ana", now=NOW)
        for i, (subject, category) in enumerate(
            [('=HYPERLINK("x")', "delivery"), ("Pago", "payment"), ("Envío", "delivery")]
        ):
            created = NOW - (30 - i) * H
            ticket = create_ticket(
                session, customer=customer, subject=subject, now=created, category=category
            )
            add_message(
                session, ticket, direction=Direction.IN.value, now=created,
                from_address="ana@example.com", message_id=f"<m{i}@example.com>",
            )  # fmt: skip
            if i == 0:
                add_message(session, ticket, direction=Direction.OUT.value, now=created + H)
                set_status(session, ticket, "solved", now=created + 2 * H)
    engine.dispose()
    return config


def invoke(config: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--config", str(config), *args])
    return result.exit_code, result.stdout, " ".join(result.stderr.split())  # unwrapped


def test_report_as_tables_and_json(workspace: Path) -> None:
    code, out, err = invoke(workspace, "report", "--by", "category")
    assert code == 0, err
    assert "Received" in out and "SLA compliance" in out and "By category" in out
    assert "delivery" in out and "\x1b[" not in out  # no colours when not on a terminal
    code, out, err = invoke(workspace, "report", "--format", "json", "--since", "2026-11-20")
    assert code == 0, err
    data = json.loads(out)
    assert data["total"]["received"] == 3 and data["total"]["solved"] == 1
    assert data["total"]["first_reply"]["median_seconds"] == 3600
    assert data["period"]["start"].startswith("2026-11-19T23:00:00")  # midnight in Madrid
    assert [c["name"] for c in data["categories"]] == ["delivery", "payment"]


def test_report_refuses_bad_options(workspace: Path) -> None:
    code, _out, err = invoke(workspace, "report", "--by", "colour")
    assert code == 2 and "agent, category" in err
    code, _out, err = invoke(workspace, "report", "--since", "yesterday")
    assert code == 1 and "is not a date" in err


def test_export_files_for_cron(workspace: Path, tmp_path: Path) -> None:
    out = tmp_path / "tickets.csv"
    code, stdout, err = invoke(workspace, "export", "tickets", "--incremental", "--out", str(out))
    assert (code, stdout, err) == (0, "", "")  # silent on success
    with open(out, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["subject"] for r in rows] == ['\'=HYPERLINK("x")', "Pago", "Envío"]
    code, _stdout, err = invoke(workspace, "export", "tickets", "--incremental", "--out", str(out))
    assert code == 0, err
    assert out.read_text(encoding="utf-8").count("\n") == 1  # nothing changed: the header only
    book = tmp_path / "messages.xlsx"
    code, _stdout, err = invoke(
        workspace, "export", "messages", "--format", "xlsx", "-o", str(book)
    )
    assert code == 0, err
    assert openpyxl.load_workbook(book)["messages"].max_row == 5  # header + 4 messages
    code, stdout, err = invoke(
        workspace, "export", "metrics", "--format", "jsonl", "--by", "category"
    )
    assert code == 0, err
    assert [json.loads(line)["group"] for line in stdout.splitlines()] == [
        "all",
        "delivery",
        "payment",
    ]


def test_export_failures_exit_non_zero(workspace: Path, tmp_path: Path) -> None:
    code, _out, err = invoke(workspace, "export", "tickets", "--format", "xlsx")
    assert code == 1 and "needs --out" in err
    code, _out, err = invoke(workspace, "export", "tickets", "-o", str(tmp_path / "no" / "x.csv"))
    assert code == 1 and "does not exist" in err
    code, _out, err = invoke(workspace, "export", "people")
    assert code == 2
    code, _out, err = invoke(workspace, "export", "tickets", "--by", "agent")
    assert code == 2 and "--by is for metrics" in err


def test_surveys_send_from_cron(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, _err = invoke(workspace, "surveys", "send")
    assert code == 0 and "Surveys are off" in out
    monkeypatch.setattr(
        surveys_command, "survey_settings", lambda _s: SurveySettings(enabled=True, kind="nps")
    )
    code, out, err = invoke(workspace, "surveys", "send", "--dry-run")
    assert code == 0 and "Due: #1." in out, err
    code, out, err = invoke(workspace, "surveys", "send")
    assert code == 0 and "Queued 1 NPS survey(s)." in out, err
    code, out, err = invoke(workspace, "surveys", "send", "--quiet")
    assert (code, out) == (0, "")
    engine = open_database(load_settings(workspace).database_url)
    with session_scope(engine) as session:
        from sqlmodel import select

        assert [i.kind for i in session.exec(select(OutboxItem)).all()] == ["survey"]
        token = session.exec(select(Survey)).one().token
    code, out, err = invoke(workspace, "surveys", "answer", token, "11")
    assert code == 1 and "from 0 to 10" in err
    code, out, err = invoke(workspace, "surveys", "answer", token, "9", "--comment", "genial")
    assert code == 0 and "Recorded 9 for ticket #1." in out
    engine.dispose()


def test_outreach_dry_run_and_send(workspace: Path, tmp_path: Path) -> None:
    answer = tmp_path / "aviso.md"
    answer.write_text(
        '+++\ntitle = "Aviso {{ order_number }}"\nlanguage = "es"\ncategory = "delivery"\n+++\n'
        "Hola {{ customer_first_name }}, su pedido {{ order_number }} se retrasa.\n",
        encoding="utf-8",
    )
    listing = tmp_path / "afectados.csv"
    listing.write_text(
        "email,name,order_number\nana@example.com,Ana,A-1\nbad,Bob,A-2\ncarla@example.com,Carla,\n",
        encoding="utf-8",
    )
    args = ("outreach", "--csv", str(listing), "--answer", str(answer))
    code, out, err = invoke(workspace, *args, "--dry-run")
    assert code == 0, err
    assert "Hola Ana, su pedido A-1 se retrasa." in out and "Nothing was sent" in out
    assert "line 3 (bad)" in err and "line 4 (carla@example.com): no value for order_number" in err
    code, out, err = invoke(workspace, *args, "--per-minute", "10")
    assert code == 0 and "Queued 1 message(s)" in out, err
    code, out, err = invoke(workspace, *args)
    assert code == 1 and "already contacted" in err  # nothing new to send, and rows had problems
