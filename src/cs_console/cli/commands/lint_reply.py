"""``cs-console lint-reply``: the writing assistant's hints for a reply, for scripts and editors.

Exit codes: 0 when the reply has no hint, 1 when it has hints (like a linter,
so ``cs-console lint-reply reply.md && send`` works), 2 on a usage or read error.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.text import Text

from cs_console.cli.app import app, console, report_error, state
from cs_console.config import Settings, load_settings
from cs_console.desk.canned import detect_language
from cs_console.desk.writing import Hint, lint_reply
from cs_console.errors import ConfigError
from cs_console.i18n import N_, _
from cs_console.textsafe import FORBIDDEN_CHARS, one_line

_ESCAPE = {ord(c): f"\\u{ord(c):04x}" for c in FORBIDDEN_CHARS}


#: What :func:`_read` reads, as its error message names it.
_REPLY = N_("cannot read the reply {path}: {reason}")
_CUSTOMER_MESSAGE = N_("cannot read the customer message {path}: {reason}")


def _read(path: Path, failure: str) -> str:
    try:
        if str(path) == "-":
            return sys.stdin.read()
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        typer.echo(_(failure).format(path=path, reason=exc), err=True)
        raise typer.Exit(code=2) from None


def _position(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of ``offset`` (columns count characters)."""
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def _settings(ctx: typer.Context) -> Settings:
    """The config when there is one (for ``[writing]``), defaults without a config file."""
    try:
        return load_settings(state(ctx).config, missing_ok=True)
    except ConfigError as exc:
        report_error(exc, debug=state(ctx).debug)
        raise typer.Exit(code=2) from None


def hint_dict(text: str, hint: Hint) -> dict[str, object]:
    """A hint as JSON data, with its place as offsets and as line/column."""
    data: dict[str, object] = {
        "code": hint.code,
        "message": hint.message,
        "start": hint.start,
        "end": hint.end,
        "line": None,
        "column": None,
        "text": None,
        "suggestions": list(hint.suggestions),
    }
    if hint.start is not None:
        data["line"], data["column"] = _position(text, hint.start)
        data["text"] = text[hint.start : hint.end]
    return data


@app.command("lint-reply", rich_help_panel="Answers")
def lint_reply_command(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="The reply (a text or Markdown file; - for stdin)."),
    language: str | None = typer.Option(
        None, "--language", help="es or en (default: guessed from the text, else the shop's)."
    ),
    customer_message: Path | None = typer.Option(
        None,
        "--customer-message",
        help="A file with the customer's message (to find the questions left unanswered).",
    ),
    customer_name: str | None = typer.Option(
        None, "--customer-name", help="The customer's name (never misspelt, expected in the reply)."
    ),
    output: str = typer.Option("text", "--format", help="text or json."),
) -> None:
    """Print the writing hints for a reply: spelling, jargon, length, ideas, greeting...

    Text output is one hint a line, FILE:LINE:COLUMN: code: message (hints
    without a place have no line). Exit code 0: no hints; 1: hints; 2: error.
    """
    if output not in ("text", "json"):
        raise typer.BadParameter(
            _("{option}: choose one of {choices}").format(option="--format", choices="text, json")
        )
    if language is not None and language not in ("es", "en"):
        raise typer.BadParameter(
            _("{option}: choose one of {choices}").format(option="--language", choices="es, en")
        )
    text = _read(file, _REPLY)
    message = _read(customer_message, _CUSTOMER_MESSAGE) if customer_message else None
    settings = _settings(ctx)
    lang = language or detect_language(text) or settings.shop.language
    hints = lint_reply(
        text,
        language=lang,
        customer_message=message,
        customer_name=customer_name,
        settings=settings.writing.to_settings(),
    )
    if output == "json":
        data = {"language": lang, "hints": [hint_dict(text, h) for h in hints]}
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2).translate(_ESCAPE) + "\n")
    else:
        name = "-" if str(file) == "-" else str(file)
        for hint in hints:
            where = name
            if hint.start is not None:
                line, column = _position(text, hint.start)
                where = f"{name}:{line}:{column}"
            row = Text(f"{where}: {hint.code}: ")
            row.append(one_line(hint.message))
            if hint.suggestions:
                row.append(" (" + ", ".join(one_line(s) for s in hint.suggestions[:5]) + ")")
            console.print(row, soft_wrap=True)
    if hints:
        raise typer.Exit(code=1)
