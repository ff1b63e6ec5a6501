"""Health checks behind ``cs-console doctor``: config, storage, each account's servers.

Each check yields a :class:`Check`; a surface prints them one per line. A
check never shows a password: secret sources are described, not read out.
"""

from __future__ import annotations

import asyncio
import os
import stat
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from sqlmodel import Session, select

from cs_console.config import AccountSettings, Settings
from cs_console.errors import CsConsoleError
from cs_console.i18n import _, ngettext
from cs_console.mail.connect import Credential, imap_connect, smtp_connect
from cs_console.mail.endpoints import imap_endpoint, smtp_endpoint
from cs_console.secrets import get_credential, load_tokens, secret_source
from cs_console.store.engine import check_connection, describe_url, make_engine, sqlite_path
from cs_console.store.migrate import current_revision, head_revision
from cs_console.store.models import FolderState

SYNC_STALE_AFTER_FAILURES = 3


class Outcome(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class Check:
    """The result of one check."""

    name: str
    outcome: Outcome
    detail: str


def run_checks(settings: Settings, *, now: datetime, connect: bool = True) -> Iterator[Check]:
    """Run every check in order; ``connect=False`` skips the network logins."""
    yield Check(
        _("config"),
        Outcome.OK,
        _("{source} is valid").format(source=settings.source or _("defaults")),
    )
    yield from _check_data_dir(settings.data_dir)
    yield from _check_database(settings)
    if not settings.accounts:
        yield Check(
            _("accounts"),
            Outcome.WARN,
            _("no [[accounts]] configured: no mail will come in"),
        )
    for account in settings.accounts:
        yield from _check_account(account, now=now, connect=connect)
    yield from _check_sync_health(settings, now=now)


def _check_data_dir(folder: Path) -> Iterator[Check]:
    if not folder.exists():
        yield Check(
            _("data folder"),
            Outcome.OK,
            _("{folder} will be created on first use").format(folder=folder),
        )
        return
    if not os.access(folder, os.W_OK):
        yield Check(
            _("data folder"), Outcome.FAIL, _("{folder} is not writable").format(folder=folder)
        )
        return
    mode = stat.S_IMODE(folder.stat().st_mode)
    if mode & 0o077:
        yield Check(
            _("data folder"),
            Outcome.WARN,
            _("{path} can be read by other users (mode {mode}); run: chmod 700 {path}").format(
                path=folder, mode=f"{mode:o}"
            ),
        )
    else:
        yield Check(_("data folder"), Outcome.OK, _("{folder} (private)").format(folder=folder))


def _check_database(settings: Settings) -> Iterator[Check]:
    url = settings.database_url
    try:
        engine = make_engine(url)
        check_connection(engine)
        current = current_revision(engine)
    except CsConsoleError as exc:
        yield Check(_("database"), Outcome.FAIL, exc.message)
        return
    head = head_revision()
    where = describe_url(url)
    if current == head:
        yield Check(
            _("database"),
            Outcome.OK,
            _("{where} (schema {current})").format(where=where, current=current),
        )
    else:
        yield Check(
            _("database"),
            Outcome.WARN,
            _(
                "{where} is at schema {current}, this program needs {head}: "
                "it upgrades on start, or run `cs-console db upgrade`"
            ).format(where=where, current=current or _("empty"), head=head),
        )
    path = sqlite_path(url)
    if path is not None and path.exists():
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            yield Check(
                _("database file"),
                Outcome.WARN,
                _("{path} can be read by other users (mode {mode}); run: chmod 600 {path}").format(
                    path=path, mode=f"{mode:o}"
                ),
            )
    engine.dispose()


def _check_account(account: AccountSettings, *, now: datetime, connect: bool) -> Iterator[Check]:
    if not account.tls_verify:
        yield Check(
            _("account {name} TLS").format(name=account.name),
            Outcome.WARN,
            _(
                "tls_verify = false: certificates are NOT checked; anyone on the network "
                "could read the mail and the password"
            ),
        )
    if account.imap_security == "none" and account.imap_host not in (
        "127.0.0.1",
        "localhost",
        "::1",
    ):
        yield Check(
            _("account {name} IMAP").format(name=account.name),
            Outcome.WARN,
            _("imap_security = 'none' sends the password in clear"),
        )
    if account.auth == "oauth2":
        password = yield from _check_sign_in(account, now=now)
        if password is None:
            return
    else:
        try:
            password = get_credential(account, now=now)
        except CsConsoleError as exc:
            yield Check(
                _("account {name} secret").format(name=account.name), Outcome.FAIL, exc.message
            )
            return
        yield Check(
            _("account {name} secret").format(name=account.name),
            Outcome.OK,
            _("from {source} (hidden)").format(source=secret_source(account)),
        )
    if not connect:
        return
    yield _check_imap(account, password)
    yield _check_smtp(account, password)


def _check_sign_in(
    account: AccountSettings, *, now: datetime
) -> Generator[Check, None, Credential | None]:
    """The OAuth2 sign-in: renewed now if due, so a revoked one shows up here as a FAIL."""
    name = _("account {name} sign-in").format(name=account.name)
    try:
        credential = get_credential(account, now=now)
        tokens = load_tokens(account.name)
    except CsConsoleError as exc:
        yield Check(name, Outcome.FAIL, exc.message)
        return None
    if tokens:
        until = f"{tokens.expires_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
        detail = _("OAuth2 token valid until {until}, renewed automatically (hidden)").format(
            until=until
        )
    else:
        detail = _("OAuth2 token valid, renewed automatically (hidden)")
    yield Check(name, Outcome.OK, detail)
    return credential


def _check_imap(account: AccountSettings, password: str | Credential) -> Check:
    name = _("account {name} IMAP").format(name=account.name)
    endpoint = imap_endpoint(account)
    try:
        client = imap_connect(endpoint, password, timeout=15)
    except CsConsoleError as exc:
        return Check(name, Outcome.FAIL, exc.message)
    try:
        existing = {folder for _flags, _sep, folder in client.list_folders()}
        missing = [f for f in account.folders if f not in existing]
    except Exception as exc:
        return Check(
            name,
            Outcome.FAIL,
            _("logged in, but listing folders failed: {error}").format(error=exc),
        )
    finally:
        try:
            client.logout()
        except Exception:
            pass
    where = f"{endpoint.host}:{endpoint.port} ({endpoint.security})"
    if missing:
        return Check(
            name,
            Outcome.FAIL,
            _("{where}: no folder named {folders}").format(
                where=where, folders=", ".join(map(repr, missing))
            ),
        )
    return Check(
        name,
        Outcome.OK,
        _("{where}: logged in as {user}").format(where=where, user=endpoint.username),
    )


def _check_smtp(account: AccountSettings, password: str | Credential) -> Check:
    name = _("account {name} SMTP").format(name=account.name)
    endpoint = smtp_endpoint(account)

    async def probe() -> None:
        client = await smtp_connect(endpoint, password, timeout=15)
        await client.quit()

    try:
        asyncio.run(probe())
    except CsConsoleError as exc:
        return Check(name, Outcome.FAIL, exc.message)
    return Check(
        name,
        Outcome.OK,
        _("{where} accepts us").format(
            where=f"{endpoint.host}:{endpoint.port} ({endpoint.security})"
        ),
    )


def _check_sync_health(settings: Settings, *, now: datetime) -> Iterator[Check]:
    try:
        engine = make_engine(settings.database_url)
        with Session(engine) as session:
            states = list(session.exec(select(FolderState)))
    except Exception:
        return  # the database check already said what is wrong
    for state in states:
        if state.consecutive_failures >= SYNC_STALE_AFTER_FAILURES:
            since = (
                _("last success {ago}").format(ago=_ago(state.last_success_at, now))
                if state.last_success_at
                else _("never succeeded")
            )
            failures = state.consecutive_failures
            yield Check(
                _("sync {folder}").format(folder=f"{state.account}/{state.folder}"),
                Outcome.FAIL,
                ngettext(
                    "failed {count} time in a row ({since}): {error}",
                    "failed {count} times in a row ({since}): {error}",
                    failures,
                ).format(count=failures, since=since, error=state.last_error),
            )
    engine.dispose()


def _ago(when: datetime, now: datetime) -> str:
    minutes = int((now - when).total_seconds() // 60)
    if minutes < 60:
        return _("{count} min ago").format(count=minutes)
    if minutes < 48 * 60:
        return _("{count} h ago").format(count=minutes // 60)
    days = minutes // (24 * 60)
    return ngettext("{count} day ago", "{count} days ago", days).format(count=days)
