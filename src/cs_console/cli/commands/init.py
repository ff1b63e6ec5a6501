"""``cs-console init``: a wizard that writes the config and tests the connections."""

from __future__ import annotations

import sys
from typing import Any

import typer
from rich.text import Text

from cs_console.cli.app import app, console, state
from cs_console.clock import utcnow
from cs_console.config import settings_from_mapping
from cs_console.config_writer import InitAnswers, render_config, write_config_file
from cs_console.desk.health import Outcome, run_checks
from cs_console.errors import ConfigError
from cs_console.i18n import N_, _
from cs_console.mail.providers import PROVIDERS, guess_provider, provider_by_key
from cs_console.secrets import store_in_keyring

_SECRET_CHOICES = ("env", "cmd", "keyring")
_MARKS = {
    Outcome.OK: (N_("ok"), "green"),
    Outcome.WARN: (N_("warn"), "yellow"),
    Outcome.FAIL: (N_("fail"), "bold red"),
}


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
            raise typer.BadParameter(
                _("needed without a terminal: give {flag}").format(flag=flag), param_hint=flag
            )
        return typer.prompt(
            _(question), default=default, type=type(default) if default is not None else str
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
        and not ask.confirm(_("{path} exists. Overwrite it?").format(path=target), default=False)
    ):
        raise ConfigError(
            _("{path} already exists; use {option} to overwrite it").format(
                path=target, option="--force"
            )
        )

    shop = ask.value(shop_name, N_("Shop name"), default=_("My shop"), flag="--shop-name")
    lang = ask.value(language, N_("Language (es/en)"), default="es", flag="--language")
    zone = ask.value(timezone, N_("Time zone"), default="Europe/Madrid", flag="--timezone")
    land = ask.value(
        country, N_("Country code for holidays (empty for none)"), default="ES", flag="--country"
    )
    span = ask.value(hours, N_("Weekday opening hours"), default="09:00-18:00", flag="--hours")
    addr = ask.value(address, N_("Support email address"), flag="--address")

    preset = provider_by_key(provider) if provider and provider != "custom" else None
    if provider is None:
        preset = guess_provider(addr)
    if preset is not None:
        console.print(
            Text(_("Using the settings of {provider}.").format(provider=preset.name), style="cyan")
        )
        if preset.note:
            console.print(Text(preset.note, style="yellow"))
    imap_h = ask.value(
        imap_host,
        N_("IMAP server"),
        default=preset.imap_host if preset else None,
        flag="--imap-host",
    )
    imap_s = ask.value(
        imap_security,
        N_("IMAP security"),
        default=preset.imap_security if preset else "tls",
        flag="--imap-security",
    )
    imap_p = ask.value(
        imap_port,
        N_("IMAP port"),
        default=preset.imap_port if preset else (993 if imap_s == "tls" else 143),
        flag="--imap-port",
    )
    smtp_h = ask.value(
        smtp_host,
        N_("SMTP server"),
        default=preset.smtp_host if preset else imap_h,
        flag="--smtp-host",
    )
    smtp_s = ask.value(
        smtp_security,
        N_("SMTP security"),
        default=preset.smtp_security if preset else "starttls",
        flag="--smtp-security",
    )
    smtp_p = ask.value(
        smtp_port,
        N_("SMTP port"),
        default=preset.smtp_port if preset else {"tls": 465, "starttls": 587}.get(smtp_s, 25),
        flag="--smtp-port",
    )
    user = ask.value(username, N_("Login name"), default=addr, flag="--username")

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
            typer.prompt(_("Password (stored in the keyring)"), hide_input=True)
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
            mark, style = _MARKS[check.outcome]
            line = Text(f"{_(mark):4} ", style=style)
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
                _(
                    "For OAuth2 sign-in (Microsoft 365 business accounts): in {section} set "
                    "{settings}, remove the {key} key, then run {command} (see {doc})."
                ).format(
                    section="[[accounts]]",
                    settings=_("{auth}, {provider} and {client}").format(
                        auth="auth = 'oauth2'",
                        provider="oauth2_provider = 'microsoft'",
                        client="oauth2_client_id",
                    ),
                    key="password_*",
                    command="`cs-console auth login shop`",
                    doc="docs/oauth2.md",
                ),
                style="yellow",
            )
        )
    console.print(_("Next: `cs-console doctor`, then `cs-console sync` or just `cs-console`."))


def _secret_source(
    ask: _Asker, *, password_env: str | None, password_cmd: str | None, keyring: bool
) -> tuple[str, str | bool]:
    given = [bool(password_env), bool(password_cmd), keyring]
    if sum(given) > 1:
        raise typer.BadParameter(
            _("give only one of {keys}").format(keys="--password-env, --password-cmd, --keyring")
        )
    if password_env:
        return "password_env", password_env
    if password_cmd:
        return "password_cmd", password_cmd
    if keyring:
        return "password_keyring", True
    if not ask.interactive:
        raise typer.BadParameter(
            _("say where the password comes from: {env}, {cmd} or {keyring}").format(
                env="--password-env", cmd="--password-cmd", keyring="--keyring"
            ),
            param_hint="--password-env",
        )
    console.print(
        Text(_("Where should the password come from? It is never written in the config file."))
    )
    for choice, meaning in (
        ("env", _("an environment variable (good for servers and cron)")),
        (
            "cmd",
            _("a command that prints it, e.g. {first} or {second}").format(
                first="`pass show shop`", second="`secret-tool lookup ...`"
            ),
        ),
        ("keyring", _("the system keyring (good on a desktop)")),
    ):
        console.print(Text(f"  {choice:<8} {meaning}"))
    choice = typer.prompt(_("Source"), default="keyring", type=typer.Choice(list(_SECRET_CHOICES)))
    if choice == "env":
        return "password_env", typer.prompt(_("Variable name"), default="CS_SHOP_PASSWORD")
    if choice == "cmd":
        return "password_cmd", typer.prompt(_("Command"))
    return "password_keyring", True
