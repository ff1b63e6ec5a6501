"""``cs-console auth``: OAuth2 sign-in for accounts whose provider takes no password."""

from __future__ import annotations

import typer
from rich.text import Text

from cs_console.cli.app import app, console, state
from cs_console.clock import utcnow
from cs_console.config import AccountSettings
from cs_console.errors import ConfigError
from cs_console.i18n import _
from cs_console.mail.oauth import oauth_client, poll_for_tokens, request_device_code
from cs_console.secrets import delete_tokens, load_tokens, save_tokens, secret_source

auth_app = typer.Typer(help="Sign accounts in with OAuth2 (Microsoft 365, Google).")
app.add_typer(auth_app, name="auth", rich_help_panel="Set-up", no_args_is_help=True)


@auth_app.command("login")
def auth_login(
    ctx: typer.Context, account: str = typer.Argument(..., help="Account name.")
) -> None:
    """Sign in in a browser (device code) and keep the tokens in the system keyring.

    Shows a web address and a short code: open the address on any device, enter
    the code and approve. The access token is then renewed automatically; run
    this again only when told that the sign-in was revoked or has expired.
    """
    settings = state(ctx).settings()
    chosen = _oauth_account(settings.account(account))
    client = oauth_client(chosen)
    code = request_device_code(client)
    line = Text(_("To sign in, open "))
    line.append(code.verification_uri, style="bold cyan")
    line.append(_(" and enter the code "))
    line.append(code.user_code, style="bold")
    console.print(line)
    if code.verification_uri_complete:
        console.print(
            Text(_("(or open {url})").format(url=code.verification_uri_complete), style="dim")
        )
    console.print(
        Text(
            _(
                "Waiting for approval (the code is valid for {minutes} minutes; Ctrl-C to stop)..."
            ).format(minutes=code.expires_in // 60),
            style="dim",
        )
    )
    tokens = poll_for_tokens(client, code, clock=utcnow)
    save_tokens(chosen.name, tokens)
    console.print(
        Text(
            _(
                "Signed in: account {name} ({user}) can now fetch and send mail. "
                "The token is kept in the system keyring and renewed automatically."
            ).format(name=chosen.name, user=chosen.username),
            style="bold green",
        )
    )


@auth_app.command("status")
def auth_status(ctx: typer.Context) -> None:
    """Show how each account logs in: its password source, or when its token expires.

    Never shows a password or a token.
    """
    settings = state(ctx).settings()
    if not settings.accounts:
        console.print(Text(_("No [[accounts]] configured.")))
        return
    now = utcnow()
    for account in settings.accounts:
        line = Text()
        line.append(f"{account.name}: ", style="bold")
        if account.auth != "oauth2":
            line.append(_("password from {source}").format(source=secret_source(account)))
            console.print(line)
            continue
        tokens = load_tokens(account.name)
        line.append(f"OAuth2 ({account.oauth2_provider}) ")
        if tokens is None:
            line.append(_("not signed in"), style="bold red")
            line.append(": " + _("run `cs-console auth login {name}`").format(name=account.name))
        elif tokens.expired(now=now):
            line.append(_("token expired"), style="yellow")
            line.append(
                " "
                + _("at {when} UTC; ").format(when=f"{tokens.expires_at:%Y-%m-%d %H:%M}")
                + (
                    _("it is renewed on next use (`cs-console doctor` checks that it still can)")
                    if tokens.refresh_token
                    else _("run `cs-console auth login {name}`").format(name=account.name)
                )
            )
        else:
            minutes = int((tokens.expires_at - now).total_seconds() // 60)
            line.append(_("signed in"), style="green")
            line.append(
                ", "
                + _("token valid until {when} UTC ({minutes} min), renewed automatically").format(
                    when=f"{tokens.expires_at:%Y-%m-%d %H:%M}", minutes=minutes
                )
            )
        console.print(line)


@auth_app.command("logout")
def auth_logout(
    ctx: typer.Context, account: str = typer.Argument(..., help="Account name.")
) -> None:
    """Forget an account's OAuth2 tokens (this computer only; the app stays authorized).

    To withdraw access everywhere, also remove the app in the account's security
    settings (Microsoft: myapps.microsoft.com; Google: myaccount.google.com/permissions).
    """
    settings = state(ctx).settings()
    chosen = _oauth_account(settings.account(account))
    if delete_tokens(chosen.name):
        console.print(
            _("Signed out: the tokens of account {name} were removed.").format(name=chosen.name)
        )
    else:
        console.print(
            _("Account {name} was not signed in; nothing to remove.").format(name=chosen.name)
        )


def _oauth_account(account: AccountSettings) -> AccountSettings:
    if account.auth != "oauth2":
        raise ConfigError(
            _(
                "account {account} logs in with a password ({current}). For OAuth2 sign-in "
                "set {settings} in its {section} entry (see {doc})"
            ).format(
                account=repr(account.name),
                current="auth = 'password'",
                settings=_("{auth}, {provider} and {client}").format(
                    auth="auth = 'oauth2'", provider="oauth2_provider", client="oauth2_client_id"
                ),
                section="[[accounts]]",
                doc="docs/oauth2.md",
            )
        )
    return account
