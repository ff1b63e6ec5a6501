"""Babel extractor for cs-console: gettext calls plus the CLI's help texts.

Besides ``_()``, ``ngettext()`` and ``N_()`` (Babel's Python extractor), this
collects the English strings :mod:`cs_console.cli.help_text` translates at run
time: docstrings of functions decorated as Typer commands or callbacks, string
``help=`` and ``rich_help_panel=`` arguments, and module-level ``PANEL``
constants. ``babel.cfg`` names it as ``i18n_extract:extract``; ``scripts/i18n``
puts this folder on ``PYTHONPATH``.
"""

from __future__ import annotations

import ast
import io
from collections.abc import Iterator
from typing import IO, Any

from babel.messages.extract import extract_python

_HELP_KEYWORDS = {"help", "rich_help_panel"}
_DECORATORS = {"command", "callback"}


def _decorated(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if isinstance(target, ast.Attribute) and target.attr in _DECORATORS:
            return True
    return False


def _help_texts(source: str) -> Iterator[tuple[int, str]]:
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and _decorated(node):
            doc = ast.get_docstring(node, clean=True)
            if doc:
                yield node.lineno, doc
        elif isinstance(node, ast.Call):
            for keyword in node.keywords:
                value = keyword.value
                if (
                    keyword.arg in _HELP_KEYWORDS
                    and isinstance(value, ast.Constant)
                    and isinstance(value.value, str)
                    and value.value
                ):
                    yield value.lineno, value.value
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "PANEL" for t in node.targets)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            yield node.lineno, node.value.value


def extract(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: dict[str, Any]
) -> Iterator[tuple[int, str | None, Any, list[str]]]:
    """Babel extraction method: gettext calls, then help texts."""
    data = fileobj.read()
    yield from extract_python(io.BytesIO(data), keywords, comment_tags, options)
    encoding = options.get("encoding", "utf-8")
    for lineno, text in _help_texts(data.decode(encoding)):
        yield lineno, None, text, []
