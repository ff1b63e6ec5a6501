"""``cs-console export``: tickets, messages, metrics and surveys to CSV, JSON Lines or XLSX.

Made for cron: no prompts, no colours when not on a terminal, progress on
stderr only on a terminal, the data on stdout or in a file that appears
complete or not at all, and a non-zero exit status on failure.
"""

from __future__ import annotations

import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import typer
from rich.text import Text

from cs_console.cli.app import app, err_console, state
from cs_console.clock import utcnow as _utcnow
from cs_console.desk.export_formats import FORMATS
from cs_console.desk.exports import DATASETS, export_dataset, parse_when
from cs_console.desk.metrics import GROUPINGS
from cs_console.i18n import _


@app.command(rich_help_panel="Reports")
def export(
    ctx: typer.Context,
    dataset: str = typer.Argument(..., help=f"What to export: {', '.join(DATASETS)}."),
    fmt: str = typer.Option("csv", "--format", help=f"One of: {', '.join(FORMATS)}."),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Write this file (atomically); default stdout (csv, jsonl)."
    ),
    since: str | None = typer.Option(
        None, "--since", help="Only what changed from this date or date-time on."
    ),
    until: str | None = typer.Option(None, "--until", help="Up to this date-time (default now)."),
    incremental: bool = typer.Option(
        False,
        "--incremental",
        help="Only what changed since the last successful export to the same --out file.",
    ),
    by: str | None = typer.Option(
        None, "--by", help=f"metrics only: one row per {', '.join(GROUPINGS)}."
    ),
) -> None:
    """Export data for other departments, spreadsheets and scripts.

    tickets: changed in the window; messages: received or sent in it;
    surveys: sent or answered in it; metrics: the report's figures for the
    window (default the last 30 days). Text cells that a spreadsheet would
    read as a formula are neutralised. Times are UTC. Silent on success when
    not on a terminal; errors go to stderr with exit status 1.
    """
    if dataset not in DATASETS:
        raise typer.BadParameter(
            _("choose one of: {choices}").format(choices=", ".join(DATASETS)), param_hint="DATASET"
        )
    if fmt not in FORMATS:
        raise typer.BadParameter(
            _("choose one of: {choices}").format(choices=", ".join(FORMATS)), param_hint="--format"
        )
    if by is not None and (dataset != "metrics" or by not in GROUPINGS):
        raise typer.BadParameter(
            _("{option} is for {dataset}, one of: {choices}").format(
                option="--by", dataset="metrics", choices=", ".join(GROUPINGS)
            ),
            param_hint="--by",
        )
    cli = state(ctx)
    settings = cli.settings()
    zone = ZoneInfo(settings.shop.timezone)
    start = parse_when(since, zone=zone) if since else None
    end = parse_when(until, zone=zone) if until else None
    live = err_console.is_terminal

    def progress(count: int) -> None:
        if live:
            err_console.print(
                Text(
                    _("{dataset}: {count} rows").format(dataset=dataset, count=count), style="dim"
                ),
                end="\r",
            )

    result = export_dataset(
        cli.engine(),
        dataset,
        fmt=fmt,
        now=_utcnow(),
        out=out,
        stdout=sys.stdout,
        since=start,
        until=end,
        incremental=incremental,
        settings=settings,
        by=by,
        progress=progress,
    )
    if live:  # silent on success under cron: cron mails whatever a job prints
        where = str(out) if out is not None else "stdout"
        if result.since:
            done = _("Exported {rows} {dataset} changed since {since} to {where}.")
        else:
            done = _("Exported {rows} {dataset} to {where}.")
        since = result.since.isoformat() if result.since else ""
        err_console.print(
            Text(done.format(rows=result.rows, dataset=dataset, since=since, where=where))
        )
