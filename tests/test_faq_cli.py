"""``cs-console faq`` against a workspace, and usage counted through ``reply --answer``."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select
from typer.testing import CliRunner, Result

from cs_console.cli import app
from cs_console.config import load_settings
from cs_console.desk.canned import CannedAnswer, dump_answer, load_answer, starter_answers
from cs_console.store.database import open_database
from cs_console.store.engine import session_scope
from cs_console.store.models import CannedAnswerRow, CannedAnswerUse, Message
from tests.rig.workspace import PASSWORD_ENV, account_table, write_config
from tests.test_outbox_support import seed_ticket

runner = CliRunner()


class Workspace:
    def __init__(self, folder: Path) -> None:
        account = account_table(None, None)
        del account["password_env"]
        self.folder = folder
        self.config = write_config(
            folder,
            {
                "accounts": [account],
                "outbox": {"undo_seconds": 0, "deliver_to_folder": "outgoing"},
                "agent": {"name": "lucia", "display_name": "Lucía"},
                "canned": {"folder": "respuestas"},
            },
        )
        self.answers = folder / "respuestas"
        self.engine: Engine = open_database(load_settings(self.config).database_url)
        self.now = datetime.now(UTC) - timedelta(minutes=1)

    def ticket(self, **fields: object) -> int:
        with session_scope(self.engine) as session:
            ticket = seed_ticket(session, now=self.now, **fields)  # type: ignore[arg-type]
            assert ticket.id is not None
            return ticket.id

    def run(self, *args: str, input: str | None = None) -> Result:
        return runner.invoke(app, ["--config", str(self.config), *args], input=input)


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    return Workspace(tmp_path)


def _answer(slug: str, **fields: object) -> CannedAnswer:
    base: dict[str, object] = {
        "slug": slug,
        "title": f"Título {slug}",
        "language": "es",
        "category": "returns",
        "public": True,
        "body": "Hola, {{ customer_first_name }}:\n\nTu pedido {{ order_number }} está bien.",
    }
    base.update(fields)
    return CannedAnswer(**base)  # type: ignore[arg-type]


def test_list_seeds_the_folder_and_reports_uses_as_json(ws: Workspace) -> None:
    result = ws.run("faq", "list", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {row["slug"] for row in data} == {a.slug for a in starter_answers("es")}
    assert {row["uses"] for row in data} == {0}
    assert (ws.answers / "pedido-donde-esta.md").is_file()
    table = ws.run("faq", "list")
    assert table.exit_code == 0 and "pedido-donde-esta" in table.stdout


def test_reply_with_answer_counts_the_use(ws: Workspace) -> None:
    ws.answers.mkdir()
    (ws.answers / "mi-respuesta.md").write_text(
        dump_answer(_answer("mi-respuesta", set_status="solved")), encoding="utf-8"
    )
    number = ws.ticket()
    result = ws.run("reply", str(number), "--answer", "mi-respuesta", input="")
    assert result.exit_code == 0, result.output
    with session_scope(ws.engine) as session:
        [out] = session.exec(select(Message).where(Message.direction == "out")).all()
        assert out.body_text == "Hola, María:\n\nTu pedido 1234 está bien."
        [use] = session.exec(select(CannedAnswerUse)).all()
        assert use.ticket_id == number
    usage = json.loads(ws.run("faq", "usage", "--format", "json").stdout)
    assert usage == [{"agent": "lucia", "slug": "mi-respuesta", "uses": 1}]
    assert "lucia" in ws.run("faq", "usage").stdout
    listed = json.loads(ws.run("faq", "list", "--format", "json").stdout)
    assert listed == [
        {
            "slug": "mi-respuesta",
            "title": "Título mi-respuesta",
            "language": "es",
            "category": "returns",
            "tags": [],
            "public": True,
            "uses": 1,
        }
    ]


def test_import_reports_bad_files_and_imports_the_rest(ws: Workspace, tmp_path: Path) -> None:
    other = tmp_path / "otra"
    other.mkdir()
    (other / "buena.md").write_text(dump_answer(_answer("buena")), encoding="utf-8")
    (other / "mala.md").write_text(
        "+++\ntitle = 'x'\nlanguage = 'fr'\ncategory = 'other'\n+++\nHola", "utf-8"
    )
    result = ws.run("faq", "import", str(other))
    assert result.exit_code == 1
    assert "mala.md" in result.stderr and "language 'fr'" in result.stderr
    assert "1 added" in result.stdout
    with session_scope(ws.engine) as session:
        slugs = set(session.exec(select(CannedAnswerRow.slug)).all())
    assert slugs == {"buena"}, "a library folder with answers is not seeded"
    assert load_answer(ws.answers / "buena.md") == _answer("buena"), "copied into the library"
    assert not (ws.answers / "mala.md").exists()


def test_export_then_import_round_trip(ws: Workspace, tmp_path: Path) -> None:
    assert ws.run("faq", "list").exit_code == 0
    out = tmp_path / "copia"
    result = ws.run("faq", "export", str(out))
    assert result.exit_code == 0, result.output
    exported = {p.stem: load_answer(p) for p in out.glob("*.md")}
    assert sorted(exported.values(), key=lambda a: a.slug) == sorted(
        starter_answers("es"), key=lambda a: a.slug
    )
    again = ws.run("faq", "import")
    assert again.exit_code == 0 and "0 added, 0 updated, 15 unchanged" in again.stdout


def _editor(tmp_path: Path, text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """$EDITOR: a script that writes ``text`` into the file it is given."""
    content = tmp_path / "editor-content.txt"
    content.write_text(text, encoding="utf-8")
    script = tmp_path / "editor.py"
    script.write_text(
        "import sys, pathlib\n"
        f"pathlib.Path(sys.argv[1]).write_text(pathlib.Path({str(content)!r}).read_text("
        "encoding='utf-8'), encoding='utf-8')\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("EDITOR", f"{sys.executable} {script}")
    monkeypatch.delenv("VISUAL", raising=False)


def test_new_then_edit_and_a_broken_edit_keeps_the_old_version(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    created = ws.run(
        "faq", "new", "cambio-talla", "--title", "¿Puedo cambiar la talla?", "--category", "returns"
    )
    assert created.exit_code == 0, created.output
    path = ws.answers / "cambio-talla.md"
    answer = load_answer(path)
    assert (answer.title, answer.language, answer.category) == (
        "¿Puedo cambiar la talla?",
        "es",
        "returns",
    )
    assert ws.run("faq", "new", "cambio-talla", "--title", "Otra").exit_code == 1

    edited = dump_answer(_answer("cambio-talla", body="Claro que sí, {{ customer_first_name }}."))
    _editor(tmp_path, edited, monkeypatch)
    result = ws.run("faq", "edit", "cambio-talla")
    assert result.exit_code == 0, result.output
    assert path.read_text(encoding="utf-8") == edited
    with session_scope(ws.engine) as session:
        row = session.exec(
            select(CannedAnswerRow).where(CannedAnswerRow.slug == "cambio-talla")
        ).one()
        assert row.body == "Claro que sí, {{ customer_first_name }}."

    _editor(tmp_path, "+++\ntitle = 'sin cerrar'\n", monkeypatch)
    broken = ws.run("faq", "edit", "cambio-talla")
    assert broken.exit_code == 1
    assert "closing '+++'" in broken.stderr
    assert path.read_text(encoding="utf-8") == edited, "the old version is kept"
    assert (ws.answers / "cambio-talla.md.rejected").read_text("utf-8").startswith("+++")
    with session_scope(ws.engine) as session:
        row = session.exec(
            select(CannedAnswerRow).where(CannedAnswerRow.slug == "cambio-talla")
        ).one()
        assert row.body == "Claro que sí, {{ customer_first_name }}."
    assert ws.run("faq", "edit", "no-existe").exit_code == 1


def test_publish_html_and_md_through_the_cli(ws: Workspace, tmp_path: Path) -> None:
    ws.answers.mkdir()
    (ws.answers / "xss.md").write_text(
        dump_answer(_answer("xss", title="<script>alert(1)</script> ¿envío?")), encoding="utf-8"
    )
    (ws.answers / "privada.md").write_text(
        dump_answer(_answer("privada", title="Interna", public=False)), encoding="utf-8"
    )
    out = tmp_path / "faq.html"
    result = ws.run("faq", "publish", "--format", "html", "--out", str(out))
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; ¿envío?" in page
    assert "Interna" not in page and "{{" not in page
    assert "Tu pedido está bien." in page
    md = ws.run("faq", "publish", "--format", "md")
    assert md.exit_code == 0
    assert md.stdout.startswith("# Tienda de Prueba: Preguntas frecuentes")
    assert "Tu pedido está bien." in md.stdout
    assert ws.run("faq", "publish", "--format", "pdf").exit_code == 2
