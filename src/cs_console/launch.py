"""``cs-console`` without a command: the console, painted before the CLI is loaded.

Importing :mod:`cs_console.cli` loads Typer, every command module, the config
schemas and SQLAlchemy, which costs more than painting the queue. :func:`main`
looks at the arguments first: with no command (only ``--config``, ``--lang``
and ``--debug``) on a SQLite workspace whose first page can be read (see
:mod:`cs_console.tui.first_page`) it opens the console directly, and reports
a config or database error found while loading as the CLI does; in every
other case it runs the CLI.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["ConsoleOptions", "console_options", "global_lang", "main"]


@dataclass(frozen=True, slots=True)
class ConsoleOptions:
    """The global options of a ``cs-console`` invocation without a command."""

    config: str | None = None
    lang: str | None = None
    debug: bool = False


def _global_options(args: Sequence[str]) -> tuple[ConsoleOptions, bool]:
    """The global options before the command, and whether ``args`` hold nothing else."""
    config: str | None = None
    lang: str | None = None
    debug = False
    only = True
    rest = list(args)
    while rest:
        arg = rest.pop(0)
        if arg == "--debug":
            debug = True
            continue
        name, equals, value = arg.partition("=")
        if not name.startswith("-"):
            only = False
            break  # the command: what follows is its own
        if name not in ("--config", "-c", "--lang") or (name == "-c" and equals):
            only = False  # --help, --version, or anything the CLI should judge
            continue
        if not equals:
            if not rest:
                only = False
                break
            value = rest.pop(0)
        if name == "--lang":
            lang = value
        else:
            config = value
    return ConsoleOptions(config=config or None, lang=lang or None, debug=debug), only


def console_options(args: Sequence[str]) -> ConsoleOptions | None:
    """The options when ``args`` open the console, None when the CLI must read them."""
    options, only = _global_options(args)
    return options if only else None


def global_lang(args: Sequence[str]) -> str | None:
    """The value of ``--lang`` among the global options (those before the command)."""
    return _global_options(args)[0].lang


def _open_console(options: ConsoleOptions) -> bool:
    """Open the console from its first page; False when the CLI should take over."""
    from cs_console.i18n import choose_language, set_language
    from cs_console.tui.first_page import prepare
    from cs_console.tui.screens.queue import PAGE

    set_language(choose_language(explicit=options.lang))
    page = prepare(options.config, limit=PAGE)
    if page is None:
        return False
    set_language(choose_language(explicit=options.lang, configured=page.language))
    from cs_console.tui.app import ConsoleApp

    app = ConsoleApp(first_page=page)
    try:
        app.run()
    finally:
        if app.ready:
            app.engine.dispose()
    error = app.load_error
    if error is None:
        return True
    from cs_console.cli.app import report_error, unexpected_error
    from cs_console.errors import CsConsoleError

    if isinstance(error, CsConsoleError):
        report_error(error, debug=options.debug)
        raise SystemExit(1)
    if options.debug:
        raise error
    report_error(unexpected_error(error), debug=False)  # as the CLI reports a bug
    raise SystemExit(2)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``cs-console`` script."""
    args = sys.argv[1:] if argv is None else list(argv)
    options = console_options(args)
    if options is not None and _open_console(options):
        return
    lang = global_lang(args)
    if lang is not None:
        # The CLI translates its --help when imported (before Typer reads the
        # command line), from CS_CONSOLE_LANG: pass --lang on that way.
        from cs_console.i18n import LANG_ENV

        os.environ[LANG_ENV] = lang
    from cs_console.cli import app

    app(args=args, prog_name="cs-console")
