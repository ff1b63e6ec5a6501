"""``cs-console init``: a wizard that writes the config and tests the connections."""

from __future__ import annotations

import sys
from typing import Any

import typer
from rich.text import Text

from cs_console.cli.app import app, console, state
from cs_console.config import settings_from_mapping
from cs_console.config_writer import InitAnswers, render_config, write_config_file
from cs_console.desk.health import Outcome, run_checks
from cs_console.errors import ConfigError
from cs_console.i18n import _
from cs_console.mail.providers import PROVIDERS, guess_provider, provider_by_key
from cs_console.secrets import store_in_keyring
from cs_console.store.types import utcnow

_SECRET_CHOICES = ("env", "cmd", "keyring")


class _Asker:
    """Asks only for what the flags did not give; without a terminal it never asks."""

    def __init__(self, *, interactive: bool) -> None:
        self.interactive = interactive

    def value(self, given: Any, question: str, *, default: Any = None, flag: str) -> Any:
        if given is not None:
            return given
        if not self.interactive:
            if default is not None:
                return default
            raise typer.BadParameter(f"needed without a terminal: give {flag}", param_hint=flag)
        return typer.prompt(
            question, default=default, type=type(default) if default is not None else str
        )

    def confirm(self, question: str, *, default: bool) -> bool:
        return typer.confirm(question, default=default) if self.interactive else default


@app.command(rich_help_panel="Set-up")
def init(
    ctx: typer.Context,
    shop_name: str | None = typer.Option(None, help="The shop's name, shown to customers."),
    language: str | None = typer.Option(None, help="es or en."),
    timezone: str | None = typer.Option(None, help="e.g. Europe/Madrid."),
    country: str | None = typer.Option(None, help="Country code for public holidays, e.g. ES."),
    hours: str | None = typer.Option(
        None, help="Weekday opening hours, e.g. '09:00-14:00,16:00-19:00'."
    ),
    address: str | None = typer.Option(None, help="The shop's support address."),
    provider: str | None = typer.Option(
        None,
        help=f"One of: {', '.join(p.key for p in PROVIDERS)}, custom (default: from the address).",
    ),
    imap_host: str | None = typer.Option(None),
    imap_port: int | None = typer.Option(None),
    imap_security: str | None = typer.Option(None, help="tls, starttls or none."),
    smtp_host: str | None = typer.Option(None),
    smtp_port: int | None = typer.Option(None),
    smtp_security: str | None = typer.Option(None, help="tls, starttls or none."),
    username: str | None = typer.Option(None, help="Login name (default: the address)."),
    password_env: str | None = typer.Option(None, help="Read the password from this variable."),
    password_cmd: str | None = typer.Option(None, help="Run this command to get the password."),
    keyring: bool = typer.Option(
        False, "--keyring", help="Store the password in the system keyring."
    ),
    agent: str | None = typer.Option(None, help="Your agent name (default: your login name)."),
    data_dir: str | None = typer.Option(None, help="Where data lives (default: the XDG data dir)."),
    database_url: str | None = typer.Option(
        None, help="PostgreSQL URL for a team (default: SQLite)."
    ),
    no_input: bool = typer.Option(
        False, "--no-input", help="Never prompt; fail on a missing value."
    ),
    skip_test: bool = typer.Option(False, "--skip-test", help="Do not test the connections."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing config file."),
) -> None:
    """Set up cs-console for your shop: writes the config file and tests both connections.

    Asks for the shop's name, language, time zone, opening hours and the mail account,
    finds the IMAP/SMTP servers of common providers (Gmail, Outlook, Yahoo, iCloud,
    Fastmail, Zoho, OVH, IONOS), and stores where the password comes from: an
    environment variable, a command (like `pass show shop`), or the system keyring.
    The password itself is never written to the file.

    Every question has a flag, so scripts can run it without prompts, e.g.:

      cs-console init --no-input --shop-name "Mi Tienda" --address hola@mitienda.es \\
        --imap-host imap.mitienda.es --smtp-host smtp.mitienda.es --password-env SHOP_PW
    """
    cli = state(ctx)
    target = cli.config_file
    ask = _Asker(interactive=not no_input and sys.stdin.isatty())
    if (
        target.exists()
        and not force
        and not ask.confirm(f"{target} exists. Overwrite it?", default=False)
    ):
        raise ConfigError(f"{target} already exists; use --force to overwrite it")

    shop = ask.value(shop_name, "Shop name", default="My shop", flag="--shop-name")
    lang = ask.value(language, "Language (es/en)", default="es", flag="--language")
    zone = ask.value(timezone, "Time zone", default="Europe/Madrid", flag="--timezone")
    land = ask.value(
        country, "Country code for holidays (empty for none)", default="ES", flag="--country"
    )
    span = ask.value(hours, "Weekday opening hours", default="09:00-18:00", flag="--hours")
    addr = ask.value(address, "Support email address", flag="--address")

    preset = provider_by_key(provider) if provider and provider != "custom" else None
    if provider is None:
        preset = guess_provider(addr)
    if preset is not None:
        console.print(Text(f"Using the settings of {preset.name}.", style="cyan"))
        if preset.note:
            console.print(Text(preset.note, style="yellow"))
    imap_h = ask.value(
        imap_host, "IMAP server", default=preset.imap_host if preset else None, flag="--imap-host"
    )
    imap_s = ask.value(
        imap_security,
        "IMAP security",
        default=preset.imap_security if preset else "tls",
        flag="--imap-security",
    )
    imap_p = ask.value(
        imap_port,
        "IMAP port",
        default=preset.imap_port if preset else (993 if imap_s == "tls" else 143),
        flag="--imap-port",
    )
    smtp_h = ask.value(
        smtp_host, "SMTP server", default=preset.smtp_host if preset else imap_h, flag="--smtp-host"
    )
    smtp_s = ask.value(
        smtp_security,
        "SMTP security",
        default=preset.smtp_security if preset else "starttls",
        flag="--smtp-security",
    )
    smtp_p = ask.value(
        smtp_port,
        "SMTP port",
        default=preset.smtp_port if preset else {"tls": 465, "starttls": 587}.get(smtp_s, 25),
        flag="--smtp-port",
    )
    user = ask.value(username, "Login name", default=addr, flag="--username")

    secret_key, secret_value = _secret_source(
        ask, password_env=password_env, password_cmd=password_cmd, keyring=keyring
    )
    answers = InitAnswers(
        shop_name=shop,
        language=lang,
        timezone=zone,
        country=land or None,
        weekday_hours=[s.strip() for s in span.split(",") if s.strip()],
        agent_name=agent or settings_from_mapping({}).agent.name,
        address=addr,
        imap_host=imap_h,
        imap_port=int(imap_p),
        imap_security=imap_s,
        smtp_host=smtp_h,
        smtp_port=int(smtp_p),
        smtp_security=smtp_s,
        username=user,
        secret_key=secret_key,
        secret_value=secret_value,
        data_dir=data_dir,
        database_url=database_url,
    )
    text = render_config(answers)
    if secret_key == "password_keyring":
        password = (
            typer.prompt("Password (stored in the keyring)", hide_input=True)
            if ask.interactive
            else sys.stdin.readline().rstrip("\n")
        )
        store_in_keyring("shop", password)

    if not skip_test:
        import tomlkit

        settings = settings_from_mapping(tomlkit.parse(text).unwrap(), source=target)
        failures = 0
        for check in run_checks(settings, now=utcnow()):
            if not check.name.startswith("account"):
                continue
            style = {Outcome.OK: "green", Outcome.WARN: "yellow", Outcome.FAIL: "bold red"}[
                check.outcome
            ]
            line = Text(f"{check.outcome.value:4} ", style=style)
            line.append(f"{check.name}: {check.detail}")
            console.print(line)
            failures += check.outcome is Outcome.FAIL
        if failures and not ask.confirm(
            _("The connection test failed. Save the config anyway?"), default=False
        ):
            raise ConfigError(
                _(
                    "not saved: the connection test failed. Fix the values above, or add "
                    "--skip-test to save without testing. Nothing was written to {path}."
                ).format(path=target)
            )
    write_config_file(target, text)
    console.print(Text(_("Wrote {path}.").format(path=target), style="bold green"))
    if preset is not None and preset.key == "outlook":
        console.print(
            Text(
                "For OAuth2 sign-in (Microsoft 365 business accounts): in [[accounts]] set "
                "auth = 'oauth2', oauth2_provider = 'microsoft' and oauth2_client_id, remove "
                "the password_* key, then run `cs-console auth login shop` (see docs/oauth2.md).",
                style="yellow",
            )
        )
    console.print(_("Next: `cs-console doctor`, then `cs-console sync` or just `cs-console`."))


def _secret_source(
    ask: _Asker, *, password_env: str | None, password_cmd: str | None, keyring: bool
) -> tuple[str, str | bool]:
    given = [bool(password_env), bool(password_cmd), keyring]
    if sum(given) > 1:
        raise typer.BadParameter("give only one of --password-env, --password-cmd, --keyring")
    if password_env:
        return "password_env", password_env
    if password_cmd:
        return "password_cmd", password_cmd
    if keyring:
        return "password_keyring", True
    if not ask.interactive:
        raise typer.BadParameter(
            "say where the password comes from: --password-env, --password-cmd or --keyring",
            param_hint="--password-env",
        )
    console.print(
        "Where should the password come from? It is never written in the config file.\n"
        "  env      an environment variable (good for servers and cron)\n"
        "  cmd      a command that prints it, e.g. `pass show shop` or `secret-tool lookup ...`\n"
        "  keyring  the system keyring (good on a desktop)"
    )
    choice = typer.prompt("Source", default="keyring", type=typer.Choice(list(_SECRET_CHOICES)))
    if choice == "env":
        return "password_env", typer.prompt("Variable name", default="CS_SHOP_PASSWORD")
    if choice == "cmd":
        return "password_cmd", typer.prompt("Command")
    return "password_keyring", True
