"""The command line: ``cs-console COMMAND``.

Each module in :mod:`cs_console.cli.commands` adds its commands to the one
Typer app when imported; a new command is a new module there.
"""

from __future__ import annotations

import importlib
import pkgutil

from cs_console.i18n import choose_language, set_language

# Help texts are read when the commands are defined: pick the language (from
# CS_CONSOLE_LANG or the locale; the config is not read yet) before importing them.
set_language(choose_language())

from cs_console.cli import commands  # noqa: E402
from cs_console.cli.app import app  # noqa: E402
from cs_console.cli.help_text import translate_help  # noqa: E402

for _module in pkgutil.iter_modules(commands.__path__):
    importlib.import_module(f"{commands.__name__}.{_module.name}")

translate_help(app)


def main() -> None:
    """Entry point of the ``cs-console`` script."""
    app()


__all__ = ["app", "main"]
