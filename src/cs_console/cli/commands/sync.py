"""``cs-console sync``: pull new mail into tickets, once (cron) or continuously (``--watch``)."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from datetime import timedelta

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.text import Text

from cs_console.cli.app import app, console, err_console, state
from cs_console.config import AccountSettings, Settings
from cs_console.desk.sync import (
    DEFAULT_BATCH,
    SyncProgress,
    SyncReport,
    sync_account,
)
from cs_console.desk.sync_watch import watch_accounts
from cs_console.errors import ConfigError
from cs_console.i18n import _, ngettext


def _accounts(settings: Settings, names: list[str] | None) -> list[AccountSettings]:
    if not settings.accounts:
        raise ConfigError(
            _("no mail accounts are configured; add an {table} table").format(table="[[accounts]]")
        )
    if not names:
        return list(settings.accounts)
    return [settings.account(name) for name in names]


class _Plain:
    """Progress as plain lines (cron, pipes): one line per batch."""

    def __call__(self, event: SyncProgress) -> None:
        if event.total == 0:
            return
        where = f"{event.account}/{event.folder}"
        if event.bodies_total:
            message = _("{where}: message bodies {done}/{total}").format(
                where=where, done=event.bodies_done, total=event.bodies_total
            )
            print(message, flush=True)
            return
        print(f"{where}: {event.done}/{event.total}", flush=True)


class _Bars:
    """A Rich progress bar per folder on a terminal."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[tuple[str, str], object] = {}  # by (folder, phase)

    def __call__(self, event: SyncProgress) -> None:
        where = f"{event.account}/{event.folder}"
        if event.bodies_total:  # the bodies of messages recorded from their headers
            self._show((where, "bodies"), _("{where}: bodies").format(where=where), event.total)
            self._advance((where, "bodies"), event.bodies_done)
            return
        if event.total == 0 and (where, "") not in self.tasks:
            return
        self._show((where, ""), where, event.total)
        self._advance((where, ""), event.done)

    def _show(self, key: tuple[str, str], label: str, total: int) -> None:
        if key not in self.tasks:
            # Folder names come from the server: shown as text, never as markup.
            self.tasks[key] = self.progress.add_task(escape(label), total=total)

    def _advance(self, key: tuple[str, str], done: int) -> None:
        self.progress.update(self.tasks[key], completed=done)  # type: ignore[arg-type]


def summary_line(reports: list[SyncReport]) -> Text:
    """One line for the whole run; plain text (folder names come from the server)."""
    parts = []
    for report in reports:
        if report.locked:
            parts.append(
                _("{account}: skipped, another sync is running").format(account=report.account)
            )
            continue
        if report.lease_holder is not None:
            parts.append(
                _("{account}: skipped, another process syncs it ({holder})").format(
                    account=report.account, holder=report.lease_holder
                )
            )
            continue
        stored, created = report.total("stored"), report.total("new_tickets")
        text = _("{account}: {stored} new messages, {created} new tickets").format(
            account=report.account, stored=stored, created=created
        )
        extra = [
            f"{report.total(name)} {label}"
            for name, label in (
                ("duplicates", _("duplicates")),
                ("own", _("own")),
                ("quarantined", _("with errors")),
                ("acknowledged", _("acknowledged")),
            )
            if report.total(name)
        ]
        if extra:
            text += f" ({', '.join(extra)})"
        if not report.ok:
            text += " — " + _("FAILED")
        parts.append(text)
    return Text("; ".join(parts) or _("nothing to sync"))


def _print_problems(reports: list[SyncReport]) -> None:
    for report in reports:
        for error in report.errors:
            line = Text()
            line.append(_("Sync failed: "), style="bold red")
            line.append(f"{report.account}: {error}")
            err_console.print(line)
        for folder in report.folders:
            for warning in folder.warnings:
                err_console.print(
                    Text(
                        _("warning: {warning}").format(
                            warning=f"{report.account}/{folder.folder}: {warning}"
                        )
                    )
                )


@app.command(rich_help_panel="Mail")
def sync(
    ctx: typer.Context,
    watch: bool = typer.Option(
        False, "--watch", "-w", help="Keep going: IMAP IDLE where offered, polling otherwise."
    ),
    account: list[str] | None = typer.Option(
        None, "--account", "-a", help="Only this account (repeatable)."
    ),
    interval: float = typer.Option(
        60.0, "--interval", min=1.0, help="With --watch: seconds between polls of every folder."
    ),
    batch_size: int = typer.Option(
        DEFAULT_BATCH, "--batch-size", min=1, max=5000, help="Messages per transaction."
    ),
    lease_seconds: float = typer.Option(
        30.0,
        "--lease-seconds",
        min=1.0,
        help="With a shared database: seconds before another process takes over "
        "the accounts of a syncer that stopped.",
    ),
) -> None:
    """Pull new mail from every configured account and folder into tickets.

    Without --watch it runs once and exits (for cron): one summary line, and
    a non-zero exit code with the reason when a folder fails. An account that
    another process is syncing (a shared database) is skipped and said so.
    """
    cli = state(ctx)
    settings = cli.settings()
    accounts = _accounts(settings, account)
    engine = cli.engine()
    if watch:
        _watch(
            settings,
            engine,
            accounts,
            interval=interval,
            batch_size=batch_size,
            lease_ttl=timedelta(seconds=lease_seconds),
        )
        return
    reports: list[SyncReport] = []
    if console.is_terminal:
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        ) as bars:
            progress: Callable[[SyncProgress], None] = _Bars(bars)
            for item in accounts:
                reports.append(
                    sync_account(
                        settings,
                        engine,
                        item,
                        progress=progress,
                        batch_size=batch_size,
                        lease_ttl=timedelta(seconds=lease_seconds),
                    )
                )
    else:
        plain = _Plain()
        for item in accounts:
            reports.append(
                sync_account(
                    settings,
                    engine,
                    item,
                    progress=plain,
                    batch_size=batch_size,
                    lease_ttl=timedelta(seconds=lease_seconds),
                )
            )
    console.print(summary_line(reports))
    _print_problems(reports)
    if not all(r.ok for r in reports):
        raise typer.Exit(code=1)


def _watch(
    settings: Settings,
    engine: object,
    accounts: list[AccountSettings],
    *,
    interval: float,
    batch_size: int,
    lease_ttl: timedelta,
) -> None:
    stop = threading.Event()
    standing_by: dict[str, bool] = {}

    def on_report(report: SyncReport) -> None:
        waiting = report.lease_holder is not None
        if standing_by.get(report.account, False) != waiting:
            standing_by[report.account] = waiting
            stamp = time.strftime("%H:%M:%S")
            if waiting:
                console.print(Text(f"{stamp} ").append(summary_line([report])))
            else:
                console.print(
                    Text(
                        f"{stamp} "
                        + _("{account}: this process syncs it now").format(account=report.account)
                    )
                )
        if report.total("stored") or not report.ok:
            stamp = time.strftime("%H:%M:%S")
            console.print(Text(f"{stamp} ").append(summary_line([report])))
            _print_problems([report])

    def on_error(account: str, message: str, retry_in: float) -> None:
        err_console.print(
            Text(
                _("{account}: {message}; retrying in {seconds} s").format(
                    account=account, message=message, seconds=f"{retry_in:.0f}"
                )
            )
        )

    watching = ngettext(
        "Watching {count} account; press Ctrl-C to stop.",
        "Watching {count} accounts; press Ctrl-C to stop.",
        len(accounts),
    )
    console.print(Text(watching.format(count=len(accounts))), highlight=False)
    try:
        watch_accounts(
            settings,
            engine,
            accounts,  # type: ignore[arg-type]
            stop=stop,
            interval=interval,
            batch_size=batch_size,
            lease_ttl=lease_ttl,
            on_report=on_report,
            on_error=on_error,
            progress=_Plain() if not sys.stdout.isatty() else None,
        )
    except KeyboardInterrupt:
        stop.set()
        console.print(_("Stopped."))
