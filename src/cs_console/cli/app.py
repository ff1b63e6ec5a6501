"""The Typer application and what every command shares: options, errors, settings."""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.text import Text
from sqlalchemy.engine import Engine
from typer.core import TyperGroup

from cs_console import __version__
from cs_console.config import Settings, load_settings
from cs_console.errors import CsConsoleError
from cs_console.i18n import LANG_ENV, N_, _, choose_language, set_language
from cs_console.paths import CONFIG_ENV, config_path

console = Console()
err_console = Console(stderr=True)


@dataclass
class CliState:
    """Global options, kept on the Click context."""

    config: Path | None = None
    debug: bool = False
    lang: str | None = None
    _settings: Settings | None = None

    @property
    def config_file(self) -> Path:
        return config_path(self.config)

    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.config)
            set_language(
                choose_language(explicit=self.lang, configured=self._settings.agent.language)
            )
        return self._settings

    def engine(self) -> Engine:
        from cs_console.store.database import open_database

        return open_database(self.settings().database_url)


#: The titles of the errors in :mod:`cs_console.errors`, marked for the catalogs.
ERROR_TITLES = (
    N_("Error"),
    N_("Configuration error"),
    N_("Secret not available"),
    N_("Sign-in needed"),
    N_("Database error"),
    N_("Mail error"),
    N_("IMAP error"),
    N_("SMTP error"),
    N_("Not possible"),
    N_("No configuration"),
    N_("Canned answer not valid"),
    N_("Canned answers not found"),
    N_("Order-number pattern not valid"),
)


def report_error(exc: CsConsoleError, *, debug: bool) -> None:
    """Print ``title: message`` to stderr (as plain text: messages may quote outside data)."""
    if debug:
        err_console.print(Text("".join(traceback.format_exception(exc)), style="dim"))
    line = Text()
    line.append(f"{_(exc.title)}: ", style="bold red")
    line.append(exc.message)
    err_console.print(line)


def unexpected_error(exc: BaseException) -> CsConsoleError:
    """A bug or an unforeseen failure, in the words the CLI uses (exit code 2)."""
    return CsConsoleError(
        _("{error}: {detail}. Run again with --debug to see the details.").format(
            error=type(exc).__name__, detail=exc
        ),
        title=_("Unexpected error"),
    )


class _Group(TyperGroup):
    """Turns :class:`CsConsoleError` into a clear message and exit code 1."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except CsConsoleError as exc:
            state = ctx.find_object(CliState)
            report_error(exc, debug=bool(state and state.debug))
            raise typer.Exit(code=1) from None
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except KeyboardInterrupt:
            err_console.print(_("Interrupted."))
            raise typer.Exit(code=130) from None
        except Exception as exc:
            state = ctx.find_object(CliState)
            if state and state.debug:
                raise
            report_error(unexpected_error(exc), debug=False)
            raise typer.Exit(code=2) from None


app = typer.Typer(
    name="cs-console",
    cls=_Group,
    help=_(
        "A keyboard-first customer-service console for small online shops.\n\n"
        "Run it with no command to open the console. Start with `cs-console demo` to try it "
        "without a mail account, or `cs-console init` to set up your shop."
    ),
    no_args_is_help=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        console.print(f"cs-console {__version__}")
        raise typer.Exit()


@app.callback(invoke_without_command=True)
def root(
    ctx: typer.Context,
    config: Path | None = typer.Option(
        None,
        "--config",
        "-c",
        envvar=CONFIG_ENV,
        help=_(
            "Config file to use (default: the XDG path, e.g. ~/.config/cs-console/config.toml)."
        ),
        show_envvar=True,
    ),
    debug: bool = typer.Option(False, "--debug", help=_("Show tracebacks on errors.")),
    lang: str | None = typer.Option(
        None,
        "--lang",
        envvar=LANG_ENV,
        help=_("Language of the interface (en, es); default: the config's, else the locale's."),
        show_envvar=True,
    ),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help=_("Print the version and exit.")
    ),
) -> None:
    set_language(choose_language(explicit=lang))
    ctx.obj = CliState(config=config, debug=debug, lang=lang)
    if ctx.invoked_subcommand is None:
        from cs_console.cli.console import open_console

        open_console(ctx.obj)


def state(ctx: typer.Context) -> CliState:
    """The global options of this invocation."""
    found = ctx.find_object(CliState)
    if found is None:  # invoked without the root callback (tests calling a command directly)
        found = CliState()
        ctx.obj = found
    return found
