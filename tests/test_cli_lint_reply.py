"""``cs-console lint-reply``: hints as text or JSON, exit code 1 when there are hints."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner, Result

from cs_console.cli import app
from tests.rig.workspace import write_config

runner = CliRunner()

ROUGH = "hola. el RMA de tu pedido esta escalado\n"
GOOD = (
    "Hola, María:\n\n"
    "Gracias por escribirnos. Tu pedido llegará mañana por la mañana.\n\n"
    "Un saludo,\nLucía\n"
)


def _run(tmp_path: Path, *args: str, config: dict[str, object] | None = None) -> Result:
    path = write_config(tmp_path, config or {})
    return runner.invoke(app, ["--config", str(path), "lint-reply", *args])


def test_text_output_has_places_and_exit_code_1(tmp_path: Path) -> None:
    reply = tmp_path / "reply.md"
    reply.write_text(ROUGH, encoding="utf-8")
    result = _run(tmp_path, str(reply), "--language", "es")
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert f"{reply}:1:10: jargon: «RMA» es jerga interna" in lines[0]
    assert any(line.startswith(f"{reply}: no_closing: ") for line in lines)


def test_json_output_and_customer_context(tmp_path: Path) -> None:
    reply = tmp_path / "reply.md"
    reply.write_text(ROUGH, encoding="utf-8")
    message = tmp_path / "message.txt"
    message.write_text("¿Cuándo llega mi pedido? ¿Puedo cambiar la dirección?", encoding="utf-8")
    result = _run(
        tmp_path,
        str(reply),
        "--customer-message",
        str(message),
        "--customer-name",
        "Ana",
        "--format",
        "json",
    )
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["language"] == "es", "guessed from the text"
    codes = [h["code"] for h in data["hints"]]
    assert "no_customer_name" in codes and "unanswered_question" in codes
    [rma] = [h for h in data["hints"] if h["text"] == "RMA"]
    assert (rma["line"], rma["column"], rma["start"], rma["end"]) == (1, 10, 9, 12)


def test_a_good_reply_exits_0_and_config_turns_hints_off(tmp_path: Path) -> None:
    good = tmp_path / "good.md"
    good.write_text(GOOD, encoding="utf-8")
    result = _run(tmp_path, str(good), "--customer-name", "María", "--language", "es")
    assert result.exit_code == 0, result.stdout
    assert result.stdout == ""
    rough = tmp_path / "rough.md"
    rough.write_text(ROUGH, encoding="utf-8")
    config = {"writing": {"disabled": ["jargon"], "shop_words": ["RMA"]}}
    quiet = _run(tmp_path, str(rough), "--format", "json", config=config)
    codes = [h["code"] for h in json.loads(quiet.stdout)["hints"]]
    assert "jargon" not in codes and codes


def test_unreadable_file_and_bad_options_exit_2(tmp_path: Path) -> None:
    assert _run(tmp_path, str(tmp_path / "missing.md")).exit_code == 2
    reply = tmp_path / "reply.md"
    reply.write_text(ROUGH, encoding="utf-8")
    assert _run(tmp_path, str(reply), "--language", "fr").exit_code == 2
    bad = _run(tmp_path, str(reply), config={"writing": {"enabled": ["nope"]}})
    assert bad.exit_code == 2
